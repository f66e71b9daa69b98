package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations the operator reads or writes on managed objects.
const (
	// AnnotationPaused set to "true" stops all reconciling until removed.
	AnnotationPaused = "accounts.tenant-operator.io/paused"
	// AnnotationCreatePending is written before a create request is sent and
	// removed once status.id holds the result. Found on start, it means an
	// earlier create may have gone through: the object is looked up by its
	// natural key and adopted instead of created twice.
	AnnotationCreatePending = "accounts.tenant-operator.io/create-pending"
	// AnnotationReplacing holds the ID of a remote object being replaced by
	// a new one (a change the server cannot make in place). It is written
	// before the new object is created and removed once the old one is
	// deleted, so an interrupted replacement finishes instead of leaking
	// the old object or making a third.
	AnnotationReplacing = "accounts.tenant-operator.io/replacing"
	// Finalizer keeps an object until its remote object is deleted (or
	// orphaned).
	Finalizer = "accounts.tenant-operator.io/finalizer"
)

// DeletionPolicy says what happens to the remote object when the Kubernetes
// object is deleted: Delete or Orphan.
// +kubebuilder:validation:MaxLength=32
type DeletionPolicy string

// Deletion policies.
const (
	DeletionDelete DeletionPolicy = "Delete"
	DeletionOrphan DeletionPolicy = "Orphan"
)

// ManagementPolicy says whether the operator writes to the account server:
// Managed or ObserveOnly.
// +kubebuilder:validation:MaxLength=32
type ManagementPolicy string

// Management policies.
const (
	ManagementManaged     ManagementPolicy = "Managed"
	ManagementObserveOnly ManagementPolicy = "ObserveOnly"
)

// ManagedSpec is the part of the spec every remote kind shares.
type ManagedSpec struct {
	// AccountServerRef names the connection the object lives on. Kinds that
	// name a tenant (or a parent tenant by reference) inherit its connection
	// when this is left out.
	// +optional
	AccountServerRef *AccountServerReference `json:"accountServerRef,omitempty"`

	// DeletionPolicy: Delete (default) deletes the remote object with the
	// Kubernetes object; Orphan leaves it on the server.
	// +optional
	// +kubebuilder:default=Delete
	// +kubebuilder:validation:XValidation:rule="self in ['Delete', 'Orphan']",message="deletionPolicy must be Delete or Orphan"
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// ManagementPolicy: Managed (default) makes the server match the spec;
	// ObserveOnly never writes to the server and mirrors the remote object
	// named by importID into status.
	// +optional
	// +kubebuilder:default=Managed
	// +kubebuilder:validation:XValidation:rule="self in ['Managed', 'ObserveOnly']",message="managementPolicy must be Managed or ObserveOnly"
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`

	// ImportID adopts an existing remote object (its UUID) instead of
	// creating one. It must lie inside the connection's tenant subtree, and
	// cannot be changed once set.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="importID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	ImportID string `json:"importID,omitempty"`
}

// ManagedStatus is the part of the status every remote kind shares.
type ManagedStatus struct {
	// ID is the remote object's UUID.
	// +optional
	ID string `json:"id,omitempty"`

	// Version is the remote object's version last seen.
	// +optional
	Version int64 `json:"version,omitempty"`

	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready (the remote object matches the spec), Reconciling
	// (work in progress) and Stalled (a spec error retrying cannot fix).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// LocalReference names an object of this group in the same namespace. Its
// name stays required in the schema, unlike other required fields (see
// common_types.go): it is the key of spec.recipients, and the API server
// wants the keys of such a list required.
type LocalReference struct {
	// Name of the object.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="name must not be empty: it names an object in this namespace"
	Name string `json:"name"`
}
