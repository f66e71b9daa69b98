package v1alpha1

// Condition types shared by every kind of this group. Together with
// observedGeneration they follow the kstatus conventions, so `kubectl wait
// --for=condition=Ready` and Flux or Argo CD health checks work unchanged.
const (
	// ConditionReady is True when the remote object matches the spec.
	ConditionReady = "Ready"
	// ConditionReconciling is True while work is in progress (abnormal-true).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when a spec error stops progress and retrying
	// cannot fix it (abnormal-true).
	ConditionStalled = "Stalled"
)

// SecretReference names a Secret. An empty namespace means the namespace the
// referring object's kind implies (see the referring field).
type SecretReference struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// Namespace of the Secret.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// SecretKeySelector names one key of a Secret.
type SecretKeySelector struct {
	SecretReference `json:",inline"`

	// Key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Key string `json:"key"`
}

// AccountServerReference names the connection an object lives on.
type AccountServerReference struct {
	// Kind of the connection object: a namespaced AccountServer in the
	// object's own namespace, or a ClusterAccountServer that allows it.
	// +optional
	// +kubebuilder:default=AccountServer
	// +kubebuilder:validation:Enum=AccountServer;ClusterAccountServer
	Kind string `json:"kind,omitempty"`

	// Name of the connection object.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}
