/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package apiclient says how an ApiClient object talks to the account
// server: the API client, and the Secret holding its credentials, which the
// server shows only once. The generic loop in internal/managed does
// everything else.
package apiclient

import (
	"context"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Condition reasons of the ApiClient kind.
const (
	ReasonTenantMismatch = "TenantMismatch"
)

// SecretIndex indexes ApiClients by the Secret they write.
const SecretIndex = ".spec.secretName"

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

// resolved is what Resolve found for one reconcile.
type resolved struct {
	tenantID string
}

type request = managed.Request[*v1.ApiClient]

// External talks to the account server about API clients.
type External struct {
	// Client writes the Secret.
	Client client.Client
	// Reader is the manager's cache; Secrets are in it by metadata only.
	Reader client.Reader
	// SecretReader reads the Secret's data, around the cache.
	SecretReader client.Reader
	Recorder     events.EventRecorder
}

var _ managed.External[*v1.ApiClient, *remote] = &External{}

// ConnectionRef is the client's own accountServerRef, or its tenant's.
func (e *External) ConnectionRef(ctx context.Context, c *v1.ApiClient) (v1.AccountServerReference, error) {
	return tenant.InheritedConnection(ctx, e.Reader, c.Namespace, c.Spec.AccountServerRef, c.Spec.TenantRef)
}

// Resolve finds the tenant's UUID.
func (e *External) Resolve(ctx context.Context, req *request) error {
	c := req.Object
	tenantID, err := tenant.ResolveID(ctx, e.Reader, c.Namespace, c.Spec.TenantRef, c.Spec.TenantID)
	if err != nil {
		return err
	}
	res := &resolved{tenantID: tenantID}
	req.Extra = res
	return nil
}

func resolvedOf(req *request) *resolved { return req.Extra.(*resolved) }

// managesSecret says whether the Secret is looked at: not in ObserveOnly,
// and not while deleting.
func managesSecret(c *v1.ApiClient) bool {
	return c.Spec.ManagementPolicy != v1.ManagementObserveOnly && c.DeletionTimestamp == nil
}

// Observe reads the client and checks its Secret. The client this object
// manages, deleted on the server, is returned as gone, to be replaced.
func (e *External) Observe(ctx context.Context, req *request, id string) (*remote, error) {
	obj := req.Object
	cl, err := req.Conn.Client.GetClient(ctx, id)
	if accountserver.IsNotFound(err) && id == obj.Status.ID && managesSecret(obj) {
		return &remote{id: id, gone: true}, nil
	}
	if err != nil {
		return nil, err
	}
	return e.withSecret(ctx, req, cl)
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
	key := client.ObjectKey{Namespace: obj.Namespace, Name: obj.Spec.SecretName}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := e.Reader.Get(ctx, key, meta); err != nil {
		if apierrors.IsNotFound(err) {
			return secretMissing, false, "", nil
		}
		return secretUnchecked, false, "", err
	}
	st := obj.Status
	if st.SecretResourceVersion != "" && st.SecretResourceVersion == meta.ResourceVersion && st.ID == cl.ClientID {
		return secretOK, false, meta.ResourceVersion, nil
	}
	s := &corev1.Secret{}
	if err := e.SecretReader.Get(ctx, key, s); err != nil {
		if apierrors.IsNotFound(err) {
			return secretMissing, false, "", nil
		}
		return secretUnchecked, false, "", err
	}
	id, secret := string(s.Data[v1.APIClientSecretKeyID]), accountserver.Secret(s.Data[v1.APIClientSecretKeySecret])
	if id != cl.ClientID || secret == "" {
		return secretStale, false, "", nil
	}
	urlDiffers = string(s.Data[v1.APIClientSecretKeyURL]) != serverURL(req.Conn.Client.URL())
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
	return secretOK, urlDiffers, s.ResourceVersion, nil
}

// Find looks for a client of the tenant that carries this object's marker
// in its name; of several, the newest.
func (e *External) Find(ctx context.Context, req *request) (*remote, bool, error) {
	found, err := e.own(ctx, req)
	if err != nil || len(found) == 0 {
		return nil, false, err
	}
	newest := found[len(found)-1]
	r, err := e.withSecret(ctx, req, &newest)
	return r, err == nil, err
}

// own lists the clients on the server this object made, oldest first.
func (e *External) own(ctx context.Context, req *request) ([]accountserver.APIClient, error) {
	all, err := req.Conn.Client.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	tenantID := resolvedOf(req).tenantID
	var out []accountserver.APIClient
	for _, cl := range all {
		if ours(req.Object, tenantID, cl) {
			out = append(out, cl)
		}
	}
	slices.SortStableFunc(out, func(a, b accountserver.APIClient) int {
		return ptr.Deref(a.CreatedAt, accountserver.Time{}).Compare(ptr.Deref(b.CreatedAt, accountserver.Time{}).Time)
	})
	return out, nil
}

// CanAdopt refuses a client of another tenant: clients do not move.
func (e *External) CanAdopt(_ context.Context, req *request, r *remote) error {
	if want := resolvedOf(req).tenantID; r.client != nil && r.client.TenantID != want {
		return managed.Stalled(ReasonTenantMismatch, "API client %s acts in tenant %s, not %s; clients cannot move between tenants", r.id, r.client.TenantID, want)
	}
	return nil
}

// Create creates the client in its tenant and writes its credentials to
// the Secret at once: the server never shows the secret again.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	res := resolvedOf(req)
	if err := tenant.CheckScope(ctx, req.Conn, res.tenantID); err != nil {
		return nil, err
	}
	return e.createWithSecret(ctx, req)
}

// createWithSecret makes a new client and writes the Secret. If the Secret
// cannot be written, the client, whose secret is then lost, is deleted.
func (e *External) createWithSecret(ctx context.Context, req *request) (*remote, error) {
	obj, c := req.Object, req.Conn.Client
	if err := e.checkSecretOwner(ctx, obj); err != nil {
		return nil, err
	}
	created, err := c.CreateClient(ctx, accountserver.ClientCreate{
		TenantID: resolvedOf(req).tenantID,
		Data:     accountserver.ClientData{ClientName: clientName(obj)},
	})
	if err != nil {
		return nil, err
	}
	log := logf.FromContext(ctx)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Spec.SecretName}}
	if _, err := managed.WriteOwned(ctx, e.Client, e.SecretReader, obj, secret, func() error {
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
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := e.Reader.Get(ctx, client.ObjectKey{Namespace: obj.Namespace, Name: obj.Spec.SecretName}, meta)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case !metav1.IsControlledBy(meta, obj):
		return managed.Stalled(managed.ReasonNotOwned, "Secret %s exists and is not owned by this ApiClient; delete it or choose another secretName", obj.Spec.SecretName)
	}
	return nil
}

// Diff names what differs: a lost secret or a deleted client (the client is
// then replaced), the Secret's url, the name and enabled.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	switch {
	case r.gone:
		return []string{"client deleted on the server"}, nil
	case r.needsReplacement():
		return []string{secretProblems[r.secret]}, nil
	}
	_, fields := clientUpdate(req.Object, r.client)
	if r.urlDiffers {
		fields = append(fields, "secret url")
	}
	return fields, nil
}

// Update replaces a client whose secret is lost (a new client, its
// credentials in the Secret, the old client deleted), or changes the name
// and enabled of one whose Secret works.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	if r.needsReplacement() {
		return e.replace(ctx, req, r)
	}
	obj, c := req.Object, req.Conn.Client
	out := *r
	if r.urlDiffers {
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: obj.Namespace, Name: obj.Spec.SecretName}}
		if _, err := managed.WriteOwned(ctx, e.Client, e.SecretReader, obj, secret, func() error {
			if secret.Data == nil {
				secret.Data = map[string][]byte{}
			}
			secret.Data[v1.APIClientSecretKeyURL] = []byte(serverURL(c.URL()))
			return nil
		}); err != nil {
			return nil, err
		}
		out.urlDiffers, out.secretVersion = false, secret.ResourceVersion
	}
	if up, fields := clientUpdate(obj, r.client); len(fields) > 0 {
		updated, err := c.UpdateClient(ctx, r.id, up)
		if err != nil {
			return nil, err
		}
		out.client = updated
	}
	return &out, nil
}

// replace makes a new client with its Secret, then deletes the old one and
// any other this object made (left by an interrupted replacement).
func (e *External) replace(ctx context.Context, req *request, r *remote) (*remote, error) {
	fresh, err := e.createWithSecret(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := e.deleteOthers(ctx, req, fresh.id, r); err != nil {
		// The new client works and is in the Secret: record it; the old one
		// goes with the next replacement or the deletion of this object.
		logf.FromContext(ctx).Info("cannot delete the replaced client yet", "client", r.id, "error", err.Error())
	}
	return fresh, nil
}

// deleteOthers deletes r (unless gone) and every other client this object
// made, except keep.
func (e *External) deleteOthers(ctx context.Context, req *request, keep string, r *remote) error {
	c := req.Conn.Client
	if !r.gone && r.id != keep {
		if err := c.DeleteClient(ctx, r.id); err != nil && !accountserver.IsNotFound(err) {
			return err
		}
	}
	own, err := e.own(ctx, req)
	if err != nil {
		return err
	}
	for _, cl := range own {
		if cl.ClientID == keep || cl.ClientID == r.id {
			continue
		}
		if err := c.DeleteClient(ctx, cl.ClientID); err != nil && !accountserver.IsNotFound(err) {
			return err
		}
		logf.FromContext(ctx).Info("deleted a client left by an interrupted replacement", "client", cl.ClientID)
	}
	return nil
}

// Delete deletes the client, and any other this object made when its
// tenant is known. The Secret is owned by the object and goes with it.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	if req.Extra == nil && e.Resolve(ctx, req) != nil {
		// The tenant is gone or unknown: only the client on record can go.
		if err := req.Conn.Client.DeleteClient(ctx, r.id); err != nil && !accountserver.IsNotFound(err) {
			return err
		}
		return nil
	}
	return e.deleteOthers(ctx, req, "", r)
}

// Dependants: nothing in the group refers to an API client.
func (e *External) Dependants(context.Context, *v1.ApiClient) ([]string, error) { return nil, nil }

// SetStatus mirrors the client into status, and records the Secret
// version found to work or written.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	st.ClientID = r.id
	if cl := r.client; cl != nil {
		st.TenantID, st.Enabled = cl.TenantID, ptr.To(cl.Status == accountserver.ClientStatusEnabled)
	}
	if r.secretVersion != "" {
		st.SecretResourceVersion = r.secretVersion
	}
	if r.written != nil {
		st.SecretWrittenAt = r.written
	}
}

func (e *External) event(obj *v1.ApiClient, reason, format string, a ...any) {
	if e.Recorder != nil {
		e.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, reason, "WriteSecret", format, a...)
	}
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=apiclients,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=apiclients/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=apiclients/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch

// Setup registers the ApiClient controller.
func Setup(mgr ctrl.Manager, registry *connection.Registry) error {
	recorder := mgr.GetEventRecorder("apiclient-controller")
	r := &managed.Reconciler[*v1.ApiClient, *remote]{
		Kind:      "ApiClient",
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Registry:  registry,
		Recorder:  recorder,
		External: &External{
			Client: mgr.GetClient(), Reader: mgr.GetClient(), SecretReader: mgr.GetAPIReader(), Recorder: recorder,
		},
		New: func() *v1.ApiClient { return &v1.ApiClient{} },
	}
	return r.SetupWithManager(mgr, managed.Options[*v1.ApiClient]{
		List: func() client.ObjectList { return &v1.ApiClientList{} },
		References: []managed.Reference[*v1.ApiClient]{
			{Field: managed.TenantRefIndex, Target: &v1.Tenant{}, Names: func(c *v1.ApiClient) []string {
				if c.Spec.TenantRef == nil {
					return nil
				}
				return []string{c.Spec.TenantRef.Name}
			}},
			// A deleted or changed Secret is checked, and written anew if
			// its credentials no longer work.
			{Field: SecretIndex, Target: &corev1.Secret{}, MetadataOnly: true, WakeAll: true, Names: func(c *v1.ApiClient) []string {
				return []string{c.Spec.SecretName}
			}},
		},
	})
}
