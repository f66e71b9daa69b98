package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AccountServerSpec describes a connection to one account server datacenter.
// +kubebuilder:validation:XValidation:rule="has(self.url)",message="url is required: the datacenter's base URL, e.g. https://eu2-cloud.example.com",fieldPath=".url",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.credentialsSecretRef)",message="credentialsSecretRef is required: the Secret with client_id and client_secret",fieldPath=".credentialsSecretRef",reason=FieldValueRequired
type AccountServerSpec struct {
	// URL of the datacenter (required), e.g. https://eu2-cloud.example.com.
	// The client appends /api/2.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="url must be an absolute http or https URL with a host, e.g. https://eu2-cloud.example.com"
	// +kubebuilder:validation:XValidation:rule="!self.contains('/api/2')",message="url is the datacenter's base URL: leave out /api/2, the client appends it"
	URL string `json:"url"`

	// CredentialsSecretRef names a Secret with the keys client_id and
	// client_secret of an API client of the account server. The operator
	// only reads it; rotating its values takes effect without a restart.
	// Required.
	// +optional
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`

	// RateLimit is the request budget every controller shares for this
	// connection.
	// +optional
	// +kubebuilder:default={}
	RateLimit RateLimit `json:"rateLimit,omitzero"`

	// TLS settings for an https URL.
	// +optional
	TLS *TLSConfig `json:"tls,omitempty"`

	// DriftInterval is how often the connection's remote watch asks the
	// server which tenants, users and offering items of its subtree changed
	// (one paged list per kind, whatever the number of objects), and wakes
	// the objects whose remote object changed out of band. Left out, the
	// manager's --default-drift-interval applies (30s unless set). Ignored
	// when the manager runs with --drift-detection=poll.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-+]?([0-9]*(\\\\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$')",message="driftInterval must be a duration such as 30s, 5m or 1h30m"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[-+]?([0-9]*(\\\\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$') || duration(self) >= duration('5s')",message="driftInterval must be at least 5s"
	DriftInterval *metav1.Duration `json:"driftInterval,omitempty"`

	// ResyncInterval is how often every object on this connection reads
	// its remote object by itself, a slow safety net behind the remote
	// watch (or the only drift detection with --drift-detection=poll).
	// Left out, the manager's --default-resync-interval applies (10h
	// unless set).
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[-+]?([0-9]*(\\\\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$')",message="resyncInterval must be a duration such as 10h or 30m"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[-+]?([0-9]*(\\\\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+$') || duration(self) >= duration('10s')",message="resyncInterval must be at least 10s"
	ResyncInterval *metav1.Duration `json:"resyncInterval,omitempty"`
}

// RateLimit is a token bucket: a steady rate and a burst.
type RateLimit struct {
	// RequestsPerSecond is the steady request rate, 1 to 10000.
	// +optional
	// +kubebuilder:default=10
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 10000",message="rateLimit.requestsPerSecond must be between 1 and 10000"
	RequestsPerSecond int32 `json:"requestsPerSecond,omitempty"`

	// Burst is how many requests may go at once above the steady rate, 1
	// to 10000.
	// +optional
	// +kubebuilder:default=20
	// +kubebuilder:validation:XValidation:rule="self >= 1 && self <= 10000",message="rateLimit.burst must be between 1 and 10000"
	Burst int32 `json:"burst,omitempty"`
}

// TLSConfig configures how the server's certificate is verified.
// +kubebuilder:validation:XValidation:rule="!(has(self.caSecretRef) && has(self.insecureSkipVerify) && self.insecureSkipVerify)",message="caSecretRef and insecureSkipVerify are mutually exclusive"
type TLSConfig struct {
	// CASecretRef names a Secret key holding PEM CA certificates to trust
	// instead of the system roots.
	// +optional
	CASecretRef *SecretKeySelector `json:"caSecretRef,omitempty"`

	// InsecureSkipVerify turns certificate verification off. Only for tests.
	// +optional
	InsecureSkipVerify bool `json:"insecureSkipVerify,omitempty"`
}

// ConditionServerAvailable is a connection object's condition that says
// whether its account server answers: False while the connection's circuit
// breaker is open. It does not touch Ready: a connection whose credentials
// were verified stays Ready through an outage, so the objects that use it
// keep resolving it and show ServerUnavailable instead of waiting for it.
const ConditionServerAvailable = "ServerAvailable"

// AccountServerStatus is what the operator observed of the connection.
type AccountServerStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Reconciling, Stalled, and ServerAvailable (False
	// while the connection's circuit breaker is open: the server stopped
	// answering, and only a probe is sent until it answers again).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// TenantID is the tenant the credentials act in.
	// +optional
	TenantID string `json:"tenantID,omitempty"`

	// TenantName is the name of that tenant.
	// +optional
	TenantName string `json:"tenantName,omitempty"`

	// TokenExpiresAt is when an access token the connection was issued
	// expires. It is recorded again once that time has passed, not for
	// every new token, so a manager restart writes nothing.
	// +optional
	TokenExpiresAt *metav1.Time `json:"tokenExpiresAt,omitempty"`
}

// AccountServer is a connection to an account server for the objects of its
// own namespace. Its Secret lives in the same namespace.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=acs,categories=accounts
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.status.tenantName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.spec) || !has(self.spec.credentialsSecretRef) || !has(self.spec.credentialsSecretRef.__namespace__) || size(self.spec.credentialsSecretRef.__namespace__) == 0",message="an AccountServer reads its Secret from its own namespace: leave credentialsSecretRef.namespace out (use a ClusterAccountServer to share credentials across namespaces)",fieldPath=".spec.credentialsSecretRef.namespace",reason=FieldValueForbidden
type AccountServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   AccountServerSpec   `json:"spec"`
	Status AccountServerStatus `json:"status,omitempty"`
}

// AccountServerList contains a list of AccountServer.
// +kubebuilder:object:root=true
type AccountServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AccountServer `json:"items"`
}

// ClusterAccountServerSpec is an AccountServerSpec usable from the namespaces
// it allows.
type ClusterAccountServerSpec struct {
	AccountServerSpec `json:",inline"`

	// AllowedNamespaces selects, by label, the namespaces whose objects may
	// use this connection. Absent means none: access is granted explicitly.
	// An empty selector ({}) allows every namespace.
	// +optional
	AllowedNamespaces *metav1.LabelSelector `json:"allowedNamespaces,omitempty"`

	// CrossNamespaceReferences says whether an object may reach, by a raw
	// UUID (parentID, tenantID, importID), into a tenant that a Tenant in
	// another namespace manages, or into its subtree. Deny (the default)
	// refuses it before any request, Stalled with reason OutsideNamespace:
	// each namespace owns the subtrees of the tenants it manages. Allow is
	// for a platform team that manages across namespaces on purpose.
	// +optional
	// +kubebuilder:default=Deny
	// +kubebuilder:validation:XValidation:rule="self in ['Deny', 'Allow']",message="crossNamespaceReferences must be Deny or Allow"
	CrossNamespaceReferences CrossNamespaceReferences `json:"crossNamespaceReferences,omitempty"`
}

// CrossNamespaceReferences is Deny or Allow.
// +kubebuilder:validation:MaxLength=32
type CrossNamespaceReferences string

// The values of CrossNamespaceReferences.
const (
	CrossNamespaceDeny  CrossNamespaceReferences = "Deny"
	CrossNamespaceAllow CrossNamespaceReferences = "Allow"
)

// ClusterAccountServer is a connection to an account server shared by the
// namespaces it allows. Its Secret lives in the operator's namespace unless
// credentialsSecretRef.namespace says otherwise.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cacs,categories=accounts
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.spec.url`
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.status.tenantName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type ClusterAccountServer struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   ClusterAccountServerSpec `json:"spec"`
	Status AccountServerStatus      `json:"status,omitempty"`
}

// ClusterAccountServerList contains a list of ClusterAccountServer.
// +kubebuilder:object:root=true
type ClusterAccountServerList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterAccountServer `json:"items"`
}

// ConnectionSpec returns the connection settings.
func (a *AccountServer) ConnectionSpec() *AccountServerSpec { return &a.Spec }

// ConnectionStatus returns the observed state of the connection.
func (a *AccountServer) ConnectionStatus() *AccountServerStatus { return &a.Status }

// ConnectionSpec returns the connection settings.
func (c *ClusterAccountServer) ConnectionSpec() *AccountServerSpec { return &c.Spec.AccountServerSpec }

// ConnectionStatus returns the observed state of the connection.
func (c *ClusterAccountServer) ConnectionStatus() *AccountServerStatus { return &c.Status }

func init() {
	register(&AccountServer{}, &AccountServerList{}, &ClusterAccountServer{}, &ClusterAccountServerList{})
}
