package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LocationSpec is the desired state of a location: a datacenter location
// owned by a tenant, where its storages sit.
// +kubebuilder:validation:XValidation:rule="has(self.tenantRef) != has(self.tenantID)",message="set exactly one of tenantRef and tenantID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.importID) || (has(self.importID) && self.importID == oldSelf.importID)",message="importID cannot be changed or removed once set"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy != 'ObserveOnly' || has(self.importID)",message="managementPolicy ObserveOnly needs importID: the location to observe"
// +kubebuilder:validation:XValidation:rule="(has(self.tenantRef) ? has(oldSelf.tenantRef) && self.tenantRef == oldSelf.tenantRef : !has(oldSelf.tenantRef)) && (has(self.tenantID) ? has(oldSelf.tenantID) && self.tenantID == oldSelf.tenantID : !has(oldSelf.tenantID))",message="a location cannot move to another tenant; create a new Location instead"
type LocationSpec struct {
	ManagedSpec `json:",inline"`

	// TenantRef names the Tenant object (same namespace) that owns the
	// location; the location inherits its connection when accountServerRef
	// is left out. Cannot be changed.
	// +optional
	TenantRef *LocalReference `json:"tenantRef,omitempty"`

	// TenantID is the UUID of an existing tenant that owns the location.
	// It must lie inside the connection's subtree. Cannot be changed.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="tenantID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	TenantID string `json:"tenantID,omitempty"`

	// DisplayName is the location's name on the server; defaults to
	// metadata.name. A tenant's locations have unique names. Changing it
	// renames the location.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="displayName must not be empty; leave it out to use metadata.name"
	DisplayName string `json:"displayName,omitempty"`
}

// LocationStatus is the observed state of a location.
type LocationStatus struct {
	ManagedStatus `json:",inline"`

	// TenantID is the tenant that owns the location.
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// DisplayName is the location's name as the server has it.
	// +optional
	DisplayName string `json:"displayName,omitempty"`
}

// Location is a datacenter location of a tenant on the account server:
// where its storages (Storage objects) sit.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=loc,categories=accounts
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`,description="The Tenant object that owns the location (empty when spec.tenantID names the tenant)"
// +kubebuilder:printcolumn:name="Display Name",type=string,JSONPath=`.status.displayName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`,priority=1
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:printcolumn:name="Version",type=integer,JSONPath=`.status.version`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type Location struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   LocationSpec   `json:"spec"`
	Status LocationStatus `json:"status,omitempty"`
}

// LocationList contains a list of Location.
// +kubebuilder:object:root=true
type LocationList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Location `json:"items"`
}

// Managed returns the shared part of the spec.
func (l *Location) Managed() *ManagedSpec { return &l.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (l *Location) ManagedStatus() *ManagedStatus { return &l.Status.ManagedStatus }

// TenantReference says which tenant owns a Location.
func (l *Location) TenantReference() (*LocalReference, string) {
	return l.Spec.TenantRef, l.Spec.TenantID
}

func init() {
	register(&Location{}, &LocationList{})
}
