package apiclient

// This file is about the Secret an ApiClient owns: its credentials,
// written once, checked only when the Secret changed.

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

// secretState is what the Secret says about the client's credentials.
type secretState int

const (
	// secretUnchecked: not looked at (ObserveOnly, deletion).
	secretUnchecked secretState = iota
	// secretOK: the Secret holds the client's working credentials.
	secretOK
	// secretMissing: there is no Secret.
	secretMissing
	// secretStale: the Secret names another client or lacks a key.
	secretStale
	// secretRejected: the server refuses the Secret's credentials.
	secretRejected
)

var secretProblems = map[secretState]string{
	secretMissing:  "the Secret is missing",
	secretStale:    "the Secret does not hold this client's credentials",
	secretRejected: "the server refuses the Secret's credentials",
}

// managesSecret says whether the Secret is looked at: not in ObserveOnly,
// and not while deleting.
func managesSecret(c *v1.ApiClient) bool {
	return c.Spec.ManagementPolicy != v1.ManagementObserveOnly && c.DeletionTimestamp == nil
}

func (e *External) withSecret(ctx context.Context, req *request, cl *accountserver.APIClient) (*remote, error) {
	r := &remote{id: cl.ClientID, client: cl}
	if !managesSecret(req.Object) {
		return r, nil
	}
	var err error
	r.secret, r.urlDiffers, r.secretVersion, err = e.checkSecret(ctx, req, cl)
	return r, err
}

// checkSecret says whether the Secret holds cl's working credentials. A
// Secret unchanged since it was last written or found to work is trusted;
// one that changed is tried against the token endpoint (while the client
// is enabled: a disabled client gets no token, whatever its secret).
func (e *External) checkSecret(ctx context.Context, req *request, cl *accountserver.APIClient) (state secretState, urlDiffers bool, version string, err error) {
	obj := req.Object
	st := obj.Status
	data, rv, err := managed.ReadIfChanged(ctx, e.Reader, e.Direct, managed.DataSource{Kind: "Secret", Namespace: obj.Namespace, Name: obj.Spec.SecretName},
		func(rv string) bool {
			return st.SecretResourceVersion != "" && st.SecretResourceVersion == rv && st.ID == cl.ClientID
		})
	switch {
	case apierrors.IsNotFound(err):
		return secretMissing, false, "", nil
	case err != nil:
		return secretUnchecked, false, "", err
	case data == nil:
		return secretOK, false, rv, nil
	}
	id, secret := string(data[v1.APIClientSecretKeyID]), accountserver.Secret(data[v1.APIClientSecretKeySecret])
	if id != cl.ClientID || secret == "" {
		return secretStale, false, "", nil
	}
	urlDiffers = string(data[v1.APIClientSecretKeyURL]) != serverURL(req.Conn.Client.URL())
	if cl.Status != accountserver.ClientStatusEnabled {
		return secretOK, urlDiffers, "", nil
	}
	err = req.Conn.Client.CheckCredentials(ctx, id, secret)
	switch {
	case accountserver.IsUnauthorized(err):
		return secretRejected, urlDiffers, "", nil
	case err != nil:
		return secretUnchecked, urlDiffers, "", err
	}
	return secretOK, urlDiffers, rv, nil
}

// createWithSecret makes a new client and writes the Secret. If the Secret
// cannot be written, the client, whose secret is then lost, is deleted.
func (e *External) createWithSecret(ctx context.Context, req *request) (*remote, error) {
	obj, c := req.Object, req.Conn.Client
	if err := e.checkSecretOwner(ctx, obj); err != nil {
		return nil, err
	}
	created, err := c.CreateClient(ctx, accountserver.ClientCreate{
		TenantID: req.Resolved.tenantID,
		Data:     accountserver.ClientData{ClientName: clientName(obj)},
	})
	if err != nil {
		return nil, tenant.MissingTenant(err, req.Resolved.tenantID)
	}
	log := logf.FromContext(ctx)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Spec.SecretName}}
	if _, err := managed.WriteOwned(ctx, e.Writer, e.Direct, obj, secret, func() error {
		setCredentials(secret, created.ClientID, created.ClientSecret, serverURL(c.URL()))
		return nil
	}); err != nil {
		if derr := c.DeleteClient(ctx, created.ClientID); derr != nil && !accountserver.IsNotFound(derr) {
			log.Info("cannot delete a client whose Secret was not written; it is deleted with the object or on the next replacement", "client", created.ClientID, "error", derr.Error())
		}
		return nil, err
	}
	log.Info("credentials written", "client", created.ClientID, "secret", secret.Name)
	e.event(obj, "SecretWritten", "Wrote the credentials of API client %s to Secret %s", created.ClientID, secret.Name)
	cl := created.APIClient
	if !wantEnabled(obj) {
		disabled, err := c.UpdateClient(ctx, cl.ClientID, accountserver.ClientUpdate{Status: accountserver.ClientStatusDisabled})
		if err != nil {
			return nil, err
		}
		cl = *disabled
	}
	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	return &remote{id: cl.ClientID, client: &cl, secret: secretOK, secretVersion: secret.ResourceVersion, written: &now}, nil
}

// checkSecretOwner refuses, before anything is created, a Secret of that
// name that this object does not own.
func (e *External) checkSecretOwner(ctx context.Context, obj *v1.ApiClient) error {
	return managed.CheckOwned(ctx, e.Reader, obj, corev1.SchemeGroupVersion.WithKind("Secret"), obj.Spec.SecretName)
}

// writeURL sets the Secret's url and returns its new resourceVersion.
func (e *External) writeURL(ctx context.Context, obj *v1.ApiClient, url string) (string, error) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Spec.SecretName}}
	_, err := managed.WriteOwned(ctx, e.Writer, e.Direct, obj, secret, func() error {
		if secret.Data == nil {
			secret.Data = map[string][]byte{}
		}
		secret.Data[v1.APIClientSecretKeyURL] = []byte(url)
		return nil
	})
	return secret.ResourceVersion, err
}

func (e *External) event(obj *v1.ApiClient, reason, format string, a ...any) {
	if e.Recorder != nil {
		e.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, "WriteSecret", format, a...)
	}
}
