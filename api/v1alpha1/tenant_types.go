/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TenantKind is the kind of a tenant on the account server.
// +kubebuilder:validation:Enum=partner;folder;customer;unit
type TenantKind string

// Tenant kinds.
const (
	TenantPartner  TenantKind = "partner"
	TenantFolder   TenantKind = "folder"
	TenantCustomer TenantKind = "customer"
	TenantUnit     TenantKind = "unit"
)

// TenantSpec is the desired state of a tenant.
// +kubebuilder:validation:XValidation:rule="!(has(self.parentRef) && has(self.parentID))",message="set at most one of parentRef and parentID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.importID) || (has(self.importID) && self.importID == oldSelf.importID)",message="importID cannot be changed or removed once set"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy != 'ObserveOnly' || has(self.importID)",message="managementPolicy ObserveOnly needs importID: the tenant to observe"
type TenantSpec struct {
	ManagedSpec `json:",inline"`

	// DisplayName is the tenant's name on the server; defaults to
	// metadata.name. Sibling names are unique on the server.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=255
	DisplayName string `json:"displayName,omitempty"`

	// Kind of the tenant. Under a partner or folder: partner, folder or
	// customer; under a customer or unit: unit.
	Kind TenantKind `json:"kind"`

	// ParentRef names the parent Tenant object in this namespace; the tenant
	// inherits its connection when accountServerRef is left out.
	// +optional
	ParentRef *LocalReference `json:"parentRef,omitempty"`

	// ParentID is the UUID of an existing parent tenant. With neither
	// parentRef nor parentID the parent is the connection's own tenant.
	// Changing the parent moves the tenant.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
	ParentID string `json:"parentID,omitempty"`

	// Enabled turns the tenant on or off (default true). A tenant is always
	// disabled before it is deleted.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// Contact is the tenant's primary contact. Only the fields set here are
	// managed.
	// +optional
	Contact *Contact `json:"contact,omitempty"`

	// CustomerID is the provider's own identifier for the tenant (e.g. from a
	// billing system).
	// +optional
	// +kubebuilder:validation:MaxLength=255
	CustomerID string `json:"customerID,omitempty"`

	// Language is the tenant's preferred locale, e.g. en or de.
	// +optional
	// +kubebuilder:validation:Pattern=`^[a-z]{2,3}([-_][A-Za-z]{2,4})?$`
	Language string `json:"language,omitempty"`

	// CustomerType is the type of customer.
	// +optional
	// +kubebuilder:validation:Enum=default;enterprise;consumer;small_office;ti_unified
	CustomerType string `json:"customerType,omitempty"`

	// AncestralAccess lets the tenant's indirect ancestors access it.
	// +optional
	AncestralAccess *bool `json:"ancestralAccess,omitempty"`

	// MFA turns two-factor authentication on or off for every user of the
	// tenant. Not available on folders and units.
	// +optional
	MFA *MFASpec `json:"mfa,omitempty"`

	// Pricing is the tenant's pricing mode. Switching to production is
	// one-way on the server: a later switch back to trial is refused
	// (Stalled).
	// +optional
	Pricing *PricingSpec `json:"pricing,omitempty"`
}

// Contact is a person to reach. Only the fields set are managed.
type Contact struct {
	// Email address.
	// +optional
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$')",message="email must be an email address, e.g. admin@example.com"
	Email string `json:"email,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Firstname string `json:"firstname,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Lastname string `json:"lastname,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Phone string `json:"phone,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Address1 string `json:"address1,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Address2 string `json:"address2,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	City string `json:"city,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	State string `json:"state,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Zipcode string `json:"zipcode,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Country string `json:"country,omitempty"`
}

// MFASpec turns two-factor authentication on or off.
type MFASpec struct {
	// Enabled requires two-factor authentication.
	Enabled bool `json:"enabled"`
}

// PricingMode of a tenant.
// +kubebuilder:validation:Enum=trial;production
type PricingMode string

// Pricing modes.
const (
	PricingTrial      PricingMode = "trial"
	PricingProduction PricingMode = "production"
)

// PricingSpec is a tenant's pricing.
type PricingSpec struct {
	// Mode: trial or production. production is one-way.
	Mode PricingMode `json:"mode"`
	// Currency, e.g. EUR.
	// +optional
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency,omitempty"`
}

// TenantStatus is the observed state of a tenant.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.id) || (has(self.id) && self.id == oldSelf.id)",message="status.id never changes once set"
type TenantStatus struct {
	ManagedStatus `json:",inline"`

	// ParentID is the UUID of the parent tenant.
	// +optional
	ParentID string `json:"parentID,omitempty"`
	// Kind as the server reports it.
	// +optional
	Kind string `json:"kind,omitempty"`
	// Enabled as the server reports it.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// MFAStatus as the server reports it.
	// +optional
	MFAStatus string `json:"mfaStatus,omitempty"`
	// PricingMode as the server reports it.
	// +optional
	PricingMode string `json:"pricingMode,omitempty"`
	// ProductionStartDate is when the tenant went to production pricing.
	// +optional
	ProductionStartDate *metav1.Time `json:"productionStartDate,omitempty"`
	// Path is the names of the tenants from the connection's tenant down to
	// this one.
	// +optional
	Path []string `json:"path,omitempty"`
}

// Tenant is a tenant of an account server: a partner, folder, customer or
// unit.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tnt,categories=accounts
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Parent",type=string,JSONPath=`.status.parentID`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Tenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TenantSpec   `json:"spec"`
	Status TenantStatus `json:"status,omitempty"`
}

// TenantList contains a list of Tenant.
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tenant `json:"items"`
}

// Managed returns the shared part of the spec.
func (t *Tenant) Managed() *ManagedSpec { return &t.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (t *Tenant) ManagedStatus() *ManagedStatus { return &t.Status.ManagedStatus }

func init() {
	register(&Tenant{}, &TenantList{})
}
