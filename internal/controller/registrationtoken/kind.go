package registrationtoken

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// remote is a registration token as listed on the server, with what its
// Secret says. The server has no read of one token: the tenant's tokens
// are listed.
type remote struct {
	id string
	// token is nil when the token was not listed: gone, or not looked for
	// (a token being revoked).
	token *accountserver.RegistrationToken
	// gone: this object's token is no longer on the server (revoked by
	// someone, or dropped after it expired).
	gone   bool
	secret secretState
	// keysDiffer: the Secret holds the token, but its expires_at or url is
	// not what it should be.
	keysDiffer bool
	// secretVersion is the resourceVersion of a Secret found to hold the
	// token, or written; "" when unknown.
	secretVersion string
	// written is when this reconcile wrote the Secret.
	written *metav1.Time
}

func (r *remote) RemoteID() string { return r.id }

// RemoteVersion: registration tokens carry no version.
func (r *remote) RemoteVersion() int64 { return 0 }

func remoteOf(tok *accountserver.RegistrationToken) *remote {
	return &remote{id: strconv.FormatInt(tok.ID, 10), token: tok}
}

// Kind registers RegistrationTokens with the loop. A change of the Secret
// wakes its object, which checks it and writes it anew (with a new token)
// when it no longer holds the current one.
var Kind = tenant.Kind[*v1.RegistrationToken, *remote, resolved]{
	Name: "RegistrationToken",
	External: func(s tenant.Scope[*v1.RegistrationToken]) managed.External[*v1.RegistrationToken, *remote, resolved] {
		return &External{Scope: s}
	},
	References: []managed.Reference[*v1.RegistrationToken]{{Field: SecretIndex, Target: &corev1.Secret{}, MetadataOnly: true, WakeAll: true,
		Names: func(t *v1.RegistrationToken) []string { return []string{t.Spec.SecretName} }}},
}
