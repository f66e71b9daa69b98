package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Keys of the Secret an ApiClient writes.
const (
	APIClientSecretKeyID     = "client_id"
	APIClientSecretKeySecret = "client_secret"
	APIClientSecretKeyURL    = "url"
)

// ApiClientSpec is the desired state of an API client.
// +kubebuilder:validation:XValidation:rule="has(self.tenantRef) != has(self.tenantID)",message="set exactly one of tenantRef and tenantID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.importID) || (has(self.importID) && self.importID == oldSelf.importID)",message="importID cannot be changed or removed once set"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy != 'ObserveOnly' || has(self.importID)",message="managementPolicy ObserveOnly needs importID: the client to observe"
// +kubebuilder:validation:XValidation:rule="(has(self.tenantRef) ? has(oldSelf.tenantRef) && self.tenantRef == oldSelf.tenantRef : !has(oldSelf.tenantRef)) && (has(self.tenantID) ? has(oldSelf.tenantID) && self.tenantID == oldSelf.tenantID : !has(oldSelf.tenantID))",message="an API client cannot move to another tenant; create a new ApiClient instead"
// +kubebuilder:validation:XValidation:rule="has(self.secretName)",message="secretName is required: the Secret the credentials are written to",fieldPath=".secretName",reason=FieldValueRequired
type ApiClientSpec struct {
	ManagedSpec `json:",inline"`

	// TenantRef names the Tenant object (same namespace) the client acts
	// in; the client inherits its connection when accountServerRef is left
	// out. Cannot be changed.
	// +optional
	TenantRef *LocalReference `json:"tenantRef,omitempty"`

	// TenantID is the UUID of an existing tenant the client acts in. It
	// must lie inside the connection's subtree. Cannot be changed.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="tenantID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	TenantID string `json:"tenantID,omitempty"`

	// DisplayName is the client's name on the server (default
	// <namespace>/<name>). The operator appends the object's UID in
	// brackets, which is how it recognises its own clients.
	// +optional
	// +kubebuilder:validation:MaxLength=200
	DisplayName string `json:"displayName,omitempty"`

	// Enabled turns the client on or off (default true). A disabled
	// client cannot get tokens.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// SecretName is the Secret (same namespace) the operator writes with
	// the keys client_id, client_secret and url. The Secret is owned by the
	// ApiClient and deleted with it. The server shows the secret only once:
	// when the Secret is lost or its secret stops working, the client is
	// replaced by a new one and the Secret written anew. Required; cannot
	// be changed.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="secretName must be a Secret name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="secretName cannot be changed"
	SecretName string `json:"secretName"`
}

// ApiClientStatus is the observed state of an API client.
type ApiClientStatus struct {
	ManagedStatus `json:",inline"`

	// ClientID is the client's ID on the server (the Secret's client_id).
	// +optional
	ClientID string `json:"clientID,omitempty"`
	// TenantID is the tenant the client acts in.
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// Enabled as the server reports it.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// SecretResourceVersion is the resourceVersion of the Secret last
	// written or found to work; a Secret changed since is checked again
	// (by asking the server for a token with it). Never the secret itself.
	// +optional
	SecretResourceVersion string `json:"secretResourceVersion,omitempty"`
	// SecretWrittenAt is when the operator last wrote the Secret.
	// +optional
	SecretWrittenAt *metav1.Time `json:"secretWrittenAt,omitempty"`
}

// ApiClient is an API client of the account server inside a tenant, with
// its credentials in a Secret.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=accounts
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`,description="The Tenant object the client acts in (empty when spec.tenantID names the tenant)"
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.spec.secretName`
// +kubebuilder:printcolumn:name="Enabled",type=boolean,JSONPath=`.status.enabled`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:printcolumn:name="Client ID",type=string,JSONPath=`.status.clientID`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type ApiClient struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   ApiClientSpec   `json:"spec"`
	Status ApiClientStatus `json:"status,omitempty"`
}

// ApiClientList contains a list of ApiClient.
// +kubebuilder:object:root=true
type ApiClientList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ApiClient `json:"items"`
}

// Managed returns the shared part of the spec.
func (c *ApiClient) Managed() *ManagedSpec { return &c.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (c *ApiClient) ManagedStatus() *ManagedStatus { return &c.Status.ManagedStatus }

func init() {
	register(&ApiClient{}, &ApiClientList{})
}
