package apiclient

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// remote is an API client as read from the server, with what its Secret
// says. A client deleted on the server outside the operator is kept as
// gone: its secret no longer works, so it is replaced like a lost one.
type remote struct {
	id     string
	client *accountserver.APIClient
	gone   bool
	secret secretState
	// urlDiffers: the Secret's url is not the connection's.
	urlDiffers bool
	// secretVersion is the resourceVersion of a Secret found to work, or
	// written; "" when unknown.
	secretVersion string
	// written is when this reconcile wrote the credentials.
	written *metav1.Time
}

func (r *remote) RemoteID() string { return r.id }

// RemoteVersion: API clients carry no version.
func (r *remote) RemoteVersion() int64 { return 0 }

// needsReplacement says whether the client must be replaced: its secret is
// lost, or the client is gone.
func (r *remote) needsReplacement() bool {
	return r.gone || r.secret == secretMissing || r.secret == secretStale || r.secret == secretRejected
}

// Kind registers ApiClients with the loop. A deleted or changed Secret is
// checked, and written anew if its credentials no longer work.
var Kind = tenant.Kind[*v1.ApiClient, *remote, resolved]{
	Name: "ApiClient",
	External: func(s tenant.Scope[*v1.ApiClient]) managed.External[*v1.ApiClient, *remote, resolved] {
		return &External{Scope: s}
	},
	References: []managed.Reference[*v1.ApiClient]{{Field: SecretIndex, Target: &corev1.Secret{}, MetadataOnly: true, WakeAll: true,
		Names: func(c *v1.ApiClient) []string { return []string{c.Spec.SecretName} }}},
}
