package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Keys of the Secret a RegistrationToken writes.
const (
	RegistrationTokenKeyToken     = "token"
	RegistrationTokenKeyExpiresAt = "expires_at"
	RegistrationTokenKeyURL       = "url"
)

// RegistrationTokenSpec is the desired state of a registration token: a
// token of a tenant with which the customer's machines register their
// backup agents, kept in a Secret and renewed before it expires.
// +kubebuilder:validation:XValidation:rule="has(self.tenantRef) != has(self.tenantID)",message="set exactly one of tenantRef and tenantID"
// +kubebuilder:validation:XValidation:rule="!has(self.importID)",message="a registration token cannot be imported: the operator makes its own tokens and renews them",fieldPath=".importID"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy == 'Managed'",message="managementPolicy must be Managed: a registration token cannot be observed only",fieldPath=".managementPolicy"
// +kubebuilder:validation:XValidation:rule="(has(self.tenantRef) ? has(oldSelf.tenantRef) && self.tenantRef == oldSelf.tenantRef : !has(oldSelf.tenantRef)) && (has(self.tenantID) ? has(oldSelf.tenantID) && self.tenantID == oldSelf.tenantID : !has(oldSelf.tenantID))",message="a registration token cannot move to another tenant; create a new RegistrationToken instead"
// +kubebuilder:validation:XValidation:rule="has(self.secretName)",message="secretName is required: the Secret the token is written to",fieldPath=".secretName",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.renewBefore) || duration(self.renewBefore) < duration(has(self.expiresIn) ? self.expiresIn : '720h')",message="renewBefore must be shorter than expiresIn (default 720h)",fieldPath=".renewBefore"
type RegistrationTokenSpec struct {
	ManagedSpec `json:",inline"`

	// TenantRef names the Tenant object (same namespace) the token
	// registers machines in; the token inherits its connection when
	// accountServerRef is left out. Cannot be changed.
	// +optional
	TenantRef *LocalReference `json:"tenantRef,omitempty"`

	// TenantID is the UUID of an existing tenant the token registers
	// machines in. It must lie inside the connection's subtree. Cannot be
	// changed.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="tenantID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	TenantID string `json:"tenantID,omitempty"`

	// SecretName is the Secret (same namespace) the operator writes with
	// the keys token, expires_at (RFC 3339) and url (the server the agents
	// register with). The Secret is owned by the RegistrationToken and
	// deleted with it. A Secret deleted or changed by hand is written anew
	// with a new token. Required; cannot be changed.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="secretName must be a Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="secretName cannot be changed"
	SecretName string `json:"secretName"`

	// Scopes are the access scopes the token gives the machines it
	// registers. Left out: urn:acronis.com:tenant-id:<tenant UUID>:backup_agent_admin,
	// the registration of backup agents in the tenant. Changing them
	// replaces the token.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +kubebuilder:validation:items:MaxLength=512
	// +kubebuilder:validation:items:XValidation:rule="size(self) > 0",message="a scope must not be empty"
	// +listType=set
	Scopes []string `json:"scopes,omitempty"`

	// ExpiresIn is the token's lifetime, at least 1m and at most 8760h
	// (a year, the server's limit); default 720h (30 days). Changing it
	// replaces the token.
	// +optional
	// +kubebuilder:default="720h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('8760h')",message="expiresIn must be between 1m and 8760h (a year), e.g. 720h"
	ExpiresIn *metav1.Duration `json:"expiresIn,omitempty"`

	// RenewBefore is how long before expiry the token is replaced by a new
	// one (the new token is written to the Secret first, the old one
	// revoked after); default a third of expiresIn. Shorter than expiresIn.
	// +optional
	// +kubebuilder:validation:XValidation:rule="duration(self) > duration('0s')",message="renewBefore must be positive, e.g. 240h"
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// RegistrationTokenStatus is the observed state of a registration token.
// The token itself is only ever in the Secret.
type RegistrationTokenStatus struct {
	ManagedStatus `json:",inline"`

	// TenantID is the tenant the token registers machines in.
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// ExpiresAt is when the current token expires.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// RenewAt is when the current token will be replaced by a new one.
	// +optional
	RenewAt *metav1.Time `json:"renewAt,omitempty"`
	// SecretResourceVersion is the resourceVersion of the Secret last
	// written or found to hold the current token; a Secret changed since
	// is checked again. Never the token itself.
	// +optional
	SecretResourceVersion string `json:"secretResourceVersion,omitempty"`
	// SecretWrittenAt is when the operator last wrote the Secret.
	// +optional
	SecretWrittenAt *metav1.Time `json:"secretWrittenAt,omitempty"`
}

// RegistrationToken is a registration token of a tenant, kept in a Secret
// and renewed before it expires: what a customer's machines need to
// register their backup agents.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=regtoken,categories=accounts
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`,description="The Tenant object the token registers machines in (empty when spec.tenantID names the tenant)"
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.spec.secretName`
// +kubebuilder:printcolumn:name="Expires",type=string,JSONPath=`.status.expiresAt`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`,priority=1
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:printcolumn:name="Renew At",type=string,JSONPath=`.status.renewAt`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type RegistrationToken struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   RegistrationTokenSpec   `json:"spec"`
	Status RegistrationTokenStatus `json:"status,omitempty"`
}

// RegistrationTokenList contains a list of RegistrationToken.
// +kubebuilder:object:root=true
type RegistrationTokenList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RegistrationToken `json:"items"`
}

// Managed returns the shared part of the spec.
func (t *RegistrationToken) Managed() *ManagedSpec { return &t.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (t *RegistrationToken) ManagedStatus() *ManagedStatus { return &t.Status.ManagedStatus }

// TenantReference says which tenant a RegistrationToken names.
func (t *RegistrationToken) TenantReference() (*LocalReference, string) {
	return t.Spec.TenantRef, t.Spec.TenantID
}

func init() {
	register(&RegistrationToken{}, &RegistrationTokenList{})
}
