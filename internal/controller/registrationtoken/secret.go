package registrationtoken

// This file is about the Secret a RegistrationToken owns: the token,
// written when it is made, checked only when the Secret changed.

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// secretState is what the Secret says about the token.
type secretState int

const (
	// secretUnchecked: not looked at.
	secretUnchecked secretState = iota
	// secretOK: the Secret holds the token.
	secretOK
	// secretMissing: there is no Secret.
	secretMissing
	// secretStale: the Secret holds another token, or none.
	secretStale
)

// withSecret pairs a listed token with what its Secret says. adopting (a
// token found after an interrupted create) writes the Secret when it does
// not hold the token yet, instead of reporting it stale.
func (e *External) withSecret(ctx context.Context, req *request, tok *accountserver.RegistrationToken, adopting bool) (*remote, error) {
	r := remoteOf(tok)
	state, keysDiffer, rv, err := e.checkSecret(ctx, req, tok)
	if err != nil {
		return nil, err
	}
	if adopting && state != secretOK {
		if err := e.checkSecretOwner(ctx, req.Object); err != nil {
			return nil, err
		}
		if rv, err = e.writeSecret(ctx, req, tok); err != nil {
			return nil, err
		}
		logf.FromContext(ctx).Info("registration token written", "token", r.id, "secret", req.Object.Spec.SecretName)
		e.event(req.Object, "SecretWritten", "Wrote registration token %s, found after an interrupted create, to Secret %s", r.id, req.Object.Spec.SecretName)
		r.written = e.writtenAt()
		state, keysDiffer = secretOK, false
	}
	r.secret, r.keysDiffer, r.secretVersion = state, keysDiffer, rv
	return r, nil
}

// checkSecret says whether the Secret holds tok. A Secret unchanged since
// it was last written or found to hold the current token is trusted; one
// that changed is read.
func (e *External) checkSecret(ctx context.Context, req *request, tok *accountserver.RegistrationToken) (state secretState, keysDiffer bool, version string, err error) {
	obj := req.Object
	st := obj.Status
	id := idOf(tok.ID)
	data, rv, err := managed.ReadIfChanged(ctx, e.Reader, e.Direct, managed.DataSource{Kind: "Secret", Namespace: obj.Namespace, Name: obj.Spec.SecretName},
		func(rv string) bool {
			return st.SecretResourceVersion != "" && st.SecretResourceVersion == rv && st.ID == id
		})
	switch {
	case apierrors.IsNotFound(err):
		return secretMissing, false, "", nil
	case err != nil:
		return secretUnchecked, false, "", err
	case data == nil:
		return secretOK, false, rv, nil
	}
	if string(data[v1.RegistrationTokenKeyToken]) != string(tok.Token) {
		return secretStale, false, "", nil
	}
	keysDiffer = string(data[v1.RegistrationTokenKeyExpiresAt]) != expiresAtValue(tok.ExpiresAt.Time) ||
		string(data[v1.RegistrationTokenKeyURL]) != serverURL(req.Conn.Client.URL())
	return secretOK, keysDiffer, rv, nil
}

// createWithSecret makes a new token and writes the Secret. If the Secret
// cannot be written, the token, which nobody would hold, is revoked.
func (e *External) createWithSecret(ctx context.Context, req *request) (*remote, error) {
	obj, c := req.Object, req.Conn.Client
	if err := e.checkSecretOwner(ctx, obj); err != nil {
		return nil, err
	}
	tenantID := req.Resolved.tenantID
	tok, err := c.CreateRegistrationToken(ctx, tenantID, expiresIn(obj), wantScopes(obj, tenantID))
	if err != nil {
		return nil, tenant.MissingTenant(err, tenantID)
	}
	r := remoteOf(tok)
	log := logf.FromContext(ctx)
	rv, err := e.writeSecret(ctx, req, tok)
	if err != nil {
		if derr := c.DeleteRegistrationToken(ctx, tok.ID); derr != nil && !accountserver.IsNotFound(derr) {
			log.Info("cannot revoke a token whose Secret was not written; it is revoked with the object or on the next replacement", "token", r.id, "error", derr.Error())
		}
		return nil, err
	}
	log.Info("registration token written", "token", r.id, "secret", obj.Spec.SecretName, "expiresAt", tok.ExpiresAt.UTC().Format(time.RFC3339))
	e.event(obj, "SecretWritten", "Wrote registration token %s to Secret %s", r.id, obj.Spec.SecretName)
	r.secret, r.secretVersion, r.written = secretOK, rv, e.writtenAt()
	return r, nil
}

// writeSecret makes the Secret hold tok and returns its resourceVersion.
func (e *External) writeSecret(ctx context.Context, req *request, tok *accountserver.RegistrationToken) (string, error) {
	obj := req.Object
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Spec.SecretName}}
	_, err := managed.WriteOwned(ctx, e.Writer, e.Direct, obj, secret, func() error {
		if secret.Labels == nil {
			secret.Labels = map[string]string{}
		}
		secret.Labels["app.kubernetes.io/managed-by"] = "tenant-operator"
		secret.Type = corev1.SecretTypeOpaque
		secret.Data = map[string][]byte{
			v1.RegistrationTokenKeyToken:     []byte(string(tok.Token)),
			v1.RegistrationTokenKeyExpiresAt: []byte(expiresAtValue(tok.ExpiresAt.Time)),
			v1.RegistrationTokenKeyURL:       []byte(serverURL(req.Conn.Client.URL())),
		}
		secret.StringData = nil
		return nil
	})
	return secret.ResourceVersion, err
}

// checkSecretOwner refuses, before anything is created, a Secret of that
// name that this object does not own.
func (e *External) checkSecretOwner(ctx context.Context, obj *v1.RegistrationToken) error {
	return managed.CheckOwned(ctx, e.Reader, obj, corev1.SchemeGroupVersion.WithKind("Secret"), obj.Spec.SecretName)
}

func (e *External) writtenAt() *metav1.Time {
	t := metav1.NewTime(e.clock().UTC().Truncate(time.Second))
	return &t
}

func newTime(t time.Time) *metav1.Time {
	m := metav1.NewTime(t)
	return &m
}

func (e *External) event(obj *v1.RegistrationToken, reason, format string, a ...any) {
	if e.Recorder != nil {
		e.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, "WriteSecret", format, a...)
	}
}
