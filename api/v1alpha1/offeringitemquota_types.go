package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OfferingItemQuotaSpec is the desired state of some of a tenant's services
// and quotas. Only the items listed are managed; every other item on the
// tenant is left as the server has it.
// +kubebuilder:validation:XValidation:rule="has(self.tenantRef) != has(self.tenantID)",message="set exactly one of tenantRef and tenantID"
// +kubebuilder:validation:XValidation:rule="has(self.items) && size(self.items) > 0",message="items must list at least one offering item",fieldPath=".items",reason=FieldValueRequired
type OfferingItemQuotaSpec struct {
	ManagedSpec `json:",inline"`

	// TenantRef names the Tenant object (same namespace) whose items these
	// are; the object inherits its connection when accountServerRef is left
	// out.
	// +optional
	TenantRef *LocalReference `json:"tenantRef,omitempty"`

	// TenantID is the UUID of an existing tenant whose items these are.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="tenantID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	TenantID string `json:"tenantID,omitempty"`

	// Edition switches an application to an edition first. The switch is
	// checked with the server; a blocked switch is Stalled with the
	// server's reasons.
	// +optional
	Edition *EditionSpec `json:"edition,omitempty"`

	// Items are the offering items managed (required, at least one), each
	// on or off with its quota. Each (application, name, storage) may be
	// listed once.
	// +optional
	// +kubebuilder:validation:MaxItems=200
	// +listType=atomic
	Items []OfferingItemSpec `json:"items"`

	// CheckUsage refuses to turn off an item that is in use (default true).
	// +optional
	// +kubebuilder:default=true
	CheckUsage *bool `json:"checkUsage,omitempty"`
}

// EditionSpec names an edition of an application.
// +kubebuilder:validation:XValidation:rule="has(self.application)",message="edition.application is required: an application's name or UUID",fieldPath=".application",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.name)",message="edition.name is required: the edition, e.g. standard or advanced",fieldPath=".name",reason=FieldValueRequired
type EditionSpec struct {
	// Application name (e.g. "Cyber Protection") or UUID (required).
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="edition.application must not be empty"
	Application string `json:"application"`
	// Name of the edition (required), e.g. standard or advanced.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="edition.name must not be empty"
	Name string `json:"name"`
}

// OfferingItemSpec is one offering item: on or off, with a quota.
// +kubebuilder:validation:XValidation:rule="has(self.application)",message="application is required: an application's name or UUID",fieldPath=".application",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.name)",message="name is required: the offering item, e.g. workstations",fieldPath=".name",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!(has(self.infraID) && has(self.infraRef))",message="set at most one of infraID and infraRef"
type OfferingItemSpec struct {
	// Application name (e.g. "Cyber Protection") or UUID (required).
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="application must not be empty: an application's name or UUID"
	Application string `json:"application"`

	// Name of the offering item (required), e.g. workstations, servers,
	// storage.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="name must not be empty: the offering item, e.g. workstations"
	Name string `json:"name"`

	// Enabled turns the item on or off (default true).
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// InfraID is the storage (infrastructure component) an infra item such
	// as storage is bound to.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="infraID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	InfraID string `json:"infraID,omitempty"`

	// InfraRef names a Storage object (same namespace) whose storage an
	// infra item is bound to: the same as infraID, without the UUID. The
	// item waits until the Storage has been created.
	// +optional
	InfraRef *LocalReference `json:"infraRef,omitempty"`

	// Quota of the item. Absent, or a null value or overage, is unlimited.
	// +optional
	Quota *QuotaSpec `json:"quota,omitempty"`
}

// QuotaSpec is a soft quota (value) and a hard one (overage). Absent means
// unlimited.
type QuotaSpec struct {
	// Value is the soft quota: usage above it is reported. Not negative.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="quota.value must not be negative; leave it out for no limit"
	Value *int64 `json:"value,omitempty"`
	// Overage is the hard quota: usage above it is refused. Not negative.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self >= 0",message="quota.overage must not be negative; leave it out for no limit"
	Overage *int64 `json:"overage,omitempty"`
}

// OfferingItemStatus is one managed item as the server has it.
type OfferingItemStatus struct {
	// Application is the application's UUID.
	Application string `json:"application"`
	// Name of the item.
	Name string `json:"name"`
	// Enabled says whether the item is on.
	Enabled bool `json:"enabled"`
	// InfraID is the storage an infra item is bound to.
	// +optional
	InfraID string `json:"infraID,omitempty"`
	// Value is the soft quota; absent is unlimited.
	// +optional
	Value *int64 `json:"value,omitempty"`
	// Overage is the hard quota; absent is unlimited.
	// +optional
	Overage *int64 `json:"overage,omitempty"`
	// QuotaVersion is the quota's version on the server.
	// +optional
	QuotaVersion int64 `json:"quotaVersion,omitempty"`
	// Usage is the item's current usage, refreshed every resync.
	// +optional
	Usage *int64 `json:"usage,omitempty"`
}

// OfferingItemQuotaStatus is the observed state of the managed items.
type OfferingItemQuotaStatus struct {
	ManagedStatus `json:",inline"`

	// TenantID is the tenant whose items these are.
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// Items are the managed items as the server has them.
	// +optional
	// +listType=atomic
	Items []OfferingItemStatus `json:"items,omitempty"`
	// ItemCount is how many items are managed.
	// +optional
	ItemCount int32 `json:"itemCount,omitempty"`
	// UsageObservedAt is when usage was last read.
	// +optional
	UsageObservedAt *metav1.Time `json:"usageObservedAt,omitempty"`
}

// OfferingItemQuota manages services and quotas of one tenant.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=oiq,categories=accounts
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`,description="The Tenant object whose items these are (empty when spec.tenantID names the tenant)"
// +kubebuilder:printcolumn:name="Items",type=integer,JSONPath=`.status.itemCount`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:printcolumn:name="Version",type=integer,JSONPath=`.status.version`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type OfferingItemQuota struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   OfferingItemQuotaSpec   `json:"spec"`
	Status OfferingItemQuotaStatus `json:"status,omitempty"`
}

// OfferingItemQuotaList contains a list of OfferingItemQuota.
// +kubebuilder:object:root=true
type OfferingItemQuotaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OfferingItemQuota `json:"items"`
}

// Managed returns the shared part of the spec.
func (q *OfferingItemQuota) Managed() *ManagedSpec { return &q.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (q *OfferingItemQuota) ManagedStatus() *ManagedStatus { return &q.Status.ManagedStatus }

func init() {
	register(&OfferingItemQuota{}, &OfferingItemQuotaList{})
}
