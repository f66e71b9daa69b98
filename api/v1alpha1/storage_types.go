package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StorageCapability is what a storage serves.
type StorageCapability string

// Storage capabilities, as the account server names them.
const (
	StorageBackup           StorageCapability = "backup"
	StorageDisasterRecovery StorageCapability = "disaster_recovery"
	StorageFilesCloud       StorageCapability = "files_cloud"
	StorageVCD              StorageCapability = "vcd"
)

// StorageSpec is the desired state of a storage: an infrastructure
// component of a tenant, in one of its locations.
// +kubebuilder:validation:XValidation:rule="has(self.tenantRef) != has(self.tenantID)",message="set exactly one of tenantRef and tenantID"
// +kubebuilder:validation:XValidation:rule="has(self.locationRef) != has(self.locationID)",message="set exactly one of locationRef and locationID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.importID) || (has(self.importID) && self.importID == oldSelf.importID)",message="importID cannot be changed or removed once set"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy != 'ObserveOnly' || has(self.importID)",message="managementPolicy ObserveOnly needs importID: the storage to observe"
// +kubebuilder:validation:XValidation:rule="(has(self.tenantRef) ? has(oldSelf.tenantRef) && self.tenantRef == oldSelf.tenantRef : !has(oldSelf.tenantRef)) && (has(self.tenantID) ? has(oldSelf.tenantID) && self.tenantID == oldSelf.tenantID : !has(oldSelf.tenantID))",message="a storage cannot move to another tenant; create a new Storage instead"
// +kubebuilder:validation:XValidation:rule="has(self.url)",message="url is required: the storage's address, e.g. https://storage.example.com",fieldPath=".url",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.capabilities) && size(self.capabilities) > 0",message="capabilities must list at least one of backup, disaster_recovery, files_cloud and vcd",fieldPath=".capabilities",reason=FieldValueRequired
type StorageSpec struct {
	ManagedSpec `json:",inline"`

	// TenantRef names the Tenant object (same namespace) that owns the
	// storage; the storage inherits its connection when accountServerRef
	// is left out. Cannot be changed.
	// +optional
	TenantRef *LocalReference `json:"tenantRef,omitempty"`

	// TenantID is the UUID of an existing tenant that owns the storage.
	// It must lie inside the connection's subtree. Cannot be changed.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="tenantID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	TenantID string `json:"tenantID,omitempty"`

	// LocationRef names the Location object (same namespace) the storage
	// sits in. The location must belong to the storage's tenant or to one
	// of its ancestors. Changing it moves the storage.
	// +optional
	LocationRef *LocalReference `json:"locationRef,omitempty"`

	// LocationID is the UUID of an existing location the storage sits in.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="locationID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	LocationID string `json:"locationID,omitempty"`

	// DisplayName is the storage's name on the server; defaults to
	// metadata.name.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="displayName must not be empty; leave it out to use metadata.name"
	DisplayName string `json:"displayName,omitempty"`

	// URL is where the storage is reached (required), a scheme and a host,
	// e.g. https://storage.example.com.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9+]+://[^\\\\s/$.?#].[^\\\\s]*$')",message="url must be a URL such as https://storage.example.com: a lowercase scheme, '://', a host, no spaces"
	URL string `json:"url"`

	// Capabilities are what the storage serves (required, at least one):
	// backup, disaster_recovery, files_cloud, vcd. Each one gives the
	// tenant's subtree the storage's offering items of that kind.
	// +optional
	// +kubebuilder:validation:MaxItems=4
	// +listType=set
	// +kubebuilder:validation:items:XValidation:rule="self in ['backup', 'disaster_recovery', 'files_cloud', 'vcd']",message="capabilities may hold backup, disaster_recovery, files_cloud and vcd"
	Capabilities []StorageCapability `json:"capabilities"`

	// BackendType is the kind of storage behind it as the server names it,
	// e.g. azure or ceph. Left out, the server's is kept.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	BackendType string `json:"backendType,omitempty"`

	// ContentURL is the address the storage's content is served at, for
	// the web console. Left out, the server's is kept.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9+]+://[^\\\\s/$.?#].[^\\\\s]*$')",message="contentURL must be a URL such as https://content.example.com: a lowercase scheme, '://', a host, no spaces"
	ContentURL string `json:"contentURL,omitempty"`

	// ContentMobileURL is the address the storage's content is served at,
	// for mobile apps. Left out, the server's is kept.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9+]+://[^\\\\s/$.?#].[^\\\\s]*$')",message="contentMobileURL must be a URL such as https://m.example.com: a lowercase scheme, '://', a host, no spaces"
	ContentMobileURL string `json:"contentMobileURL,omitempty"`
}

// StorageStatus is the observed state of a storage.
type StorageStatus struct {
	ManagedStatus `json:",inline"`

	// TenantID is the tenant that owns the storage.
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// LocationID is the location the storage sits in.
	// +optional
	LocationID string `json:"locationID,omitempty"`
	// Capabilities as the server has them.
	// +optional
	// +listType=atomic
	Capabilities []StorageCapability `json:"capabilities,omitempty"`
}

// Storage is a storage (an infrastructure component) of a tenant on the
// account server, in one of its locations. Quotas can name it by
// OfferingItemQuota items[].infraRef.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=accounts
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`,description="The Tenant object that owns the storage (empty when spec.tenantID names the tenant)"
// +kubebuilder:printcolumn:name="Location",type=string,JSONPath=`.spec.locationRef.name`,description="The Location object the storage sits in (empty when spec.locationID names it)"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`,priority=1
// +kubebuilder:printcolumn:name="Location ID",type=string,JSONPath=`.status.locationID`,priority=1
// +kubebuilder:printcolumn:name="Version",type=integer,JSONPath=`.status.version`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type Storage struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   StorageSpec   `json:"spec"`
	Status StorageStatus `json:"status,omitempty"`
}

// StorageList contains a list of Storage.
// +kubebuilder:object:root=true
type StorageList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Storage `json:"items"`
}

// Managed returns the shared part of the spec.
func (s *Storage) Managed() *ManagedSpec { return &s.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (s *Storage) ManagedStatus() *ManagedStatus { return &s.Status.ManagedStatus }

// TenantReference says which tenant owns a Storage.
func (s *Storage) TenantReference() (*LocalReference, string) {
	return s.Spec.TenantRef, s.Spec.TenantID
}

func init() {
	register(&Storage{}, &StorageList{})
}
