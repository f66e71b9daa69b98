// Package apiclient says how an ApiClient object talks to the account
// server: the API client, and the Secret holding its credentials, which the
// server shows only once. The generic loop in internal/managed does
// everything else.
package apiclient

import (
	"context"
	"slices"

	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Condition reasons of the ApiClient kind.
const ReasonTenantMismatch = tenant.ReasonTenantMismatch

// SecretIndex indexes ApiClients by the Secret they write.
const SecretIndex = ".spec.secretName"

// resolved is what Resolve found for one reconcile.
type resolved struct {
	tenantID string
}

type request = managed.Request[*v1.ApiClient, resolved]

// External talks to the account server about API clients.
type External struct {
	tenant.Scope[*v1.ApiClient]
}

// Resolve finds the tenant's UUID.
func (e *External) Resolve(ctx context.Context, req *request) (resolved, error) {
	tenantID, err := e.TenantID(ctx, req.Conn, req.Object)
	return resolved{tenantID: tenantID}, err
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
	tenantID := req.Resolved.tenantID
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
	if want := req.Resolved.tenantID; r.client != nil && r.client.TenantID != want {
		return tenant.Mismatch("ApiClient", r.id, r.client.TenantID, want)
	}
	return nil
}

// Create creates the client in its tenant and writes its credentials to
// the Secret at once: the server never shows the secret again.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	res := &req.Resolved
	if err := e.CheckTenant(ctx, req.Conn, req.Object, res.tenantID); err != nil {
		return nil, err
	}
	return e.createWithSecret(ctx, req)
}

// MustReplace says why the client must be replaced by a new one (its
// credentials in the Secret, the old client deleted): its secret is lost or
// refused, or the client was deleted on the server. The server shows a
// secret only once, so nothing else can repair it.
func (e *External) MustReplace(_ *request, r *remote) []string {
	switch {
	case r.gone:
		return []string{"the client was deleted on the server"}
	case r.needsReplacement():
		return []string{secretProblems[r.secret]}
	}
	return nil
}

// Diff names what differs in place: the Secret's url, the name and enabled.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	_, fields := clientUpdate(req.Object, r.client)
	if r.urlDiffers {
		fields = append(fields, "secret url")
	}
	return fields, nil
}

// Update changes the Secret's url, and the name and enabled of the client.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	obj, c := req.Object, req.Conn.Client
	out := *r
	if r.urlDiffers {
		rv, err := e.writeURL(ctx, obj, serverURL(c.URL()))
		if err != nil {
			return nil, err
		}
		out.urlDiffers, out.secretVersion = false, rv
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

// Delete deletes the client; the Secret is owned by the object and goes
// with it.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	if r.gone {
		return nil
	}
	return req.Conn.Client.DeleteClient(ctx, r.id)
}

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

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=apiclients,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=apiclients/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=apiclients/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
