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

// How the types of this package validate: an admission error is one plain
// sentence that names the field, e.g. "parentID must be a lowercase UUID".
// The API server reports a schema error (required, enum, pattern, minimum)
// in its own terms, and a schema error of the kinds it calls blocking
// (required, enum, maxLength, maxItems, a wrong type) also stops the CEL
// rules, adding "some validation rules were not checked because the object
// was invalid" with a <nil> field. So formats, allowed values, lower bounds
// and required fields are CEL rules here: a required field is marked
// optional in the schema and a rule of the enclosing object (has(), with
// reason FieldValueRequired and the field's path) requires it. maxLength
// and maxItems stay: they bound the cost of the rules, which the API server
// estimates from them (an exceeded bound is reported in its own words).

// SecretReference names a Secret. An empty namespace means the namespace the
// referring object's kind implies (see the referring field).
// +kubebuilder:validation:XValidation:rule="has(self.name)",message="name is required: the name of the Secret",fieldPath=".name",reason=FieldValueRequired
type SecretReference struct {
	// Name of the Secret (required).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="the Secret's name must not be empty"
	Name string `json:"name"`

	// Namespace of the Secret.
	// +optional
	// +kubebuilder:validation:MaxLength=63
	Namespace string `json:"namespace,omitempty"`
}

// SecretKeySelector names one key of a Secret.
// +kubebuilder:validation:XValidation:rule="has(self.key)",message="key is required: the key in the Secret's data",fieldPath=".key",reason=FieldValueRequired
type SecretKeySelector struct {
	SecretReference `json:",inline"`

	// Key in the Secret's data (required).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="the Secret's key must not be empty"
	Key string `json:"key"`
}

// AccountServerReference names the connection an object lives on.
// +kubebuilder:validation:XValidation:rule="has(self.name)",message="accountServerRef.name is required: the name of the AccountServer or ClusterAccountServer",fieldPath=".name",reason=FieldValueRequired
type AccountServerReference struct {
	// Kind of the connection object: AccountServer (default), a namespaced
	// connection in the object's own namespace, or ClusterAccountServer,
	// one that allows the object's namespace.
	// +optional
	// +kubebuilder:default=AccountServer
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self in ['AccountServer', 'ClusterAccountServer']",message="accountServerRef.kind must be AccountServer or ClusterAccountServer"
	Kind string `json:"kind,omitempty"`

	// Name of the connection object (required).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="accountServerRef.name must not be empty"
	Name string `json:"name"`
}
