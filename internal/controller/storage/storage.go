// Package storage says how a Storage object talks to the account server:
// a storage (the server's infrastructure component) of a tenant, in one of
// its locations. The generic loop in internal/managed does everything
// else.
package storage

import (
	"context"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Condition reasons of the Storage kind.
const ReasonTenantMismatch = tenant.ReasonTenantMismatch

// refusedRetry is how soon a delete the server refused (customers still
// use the storage) is tried again: no watch tells when they stop.
const refusedRetry = time.Minute

// remote is a storage as read from the server.
type remote struct {
	infra *accountserver.Infra
}

func (r *remote) RemoteID() string     { return r.infra.ID }
func (r *remote) RemoteVersion() int64 { return r.infra.Version }

// resolved is what Resolve found for one reconcile.
type resolved struct {
	tenantID, locationID string
}

type request = managed.Request[*v1.Storage, resolved]

// External talks to the account server about storages.
type External struct {
	tenant.Scope[*v1.Storage]
}

// Resolve finds the owner tenant's UUID and the location's: the status.id
// of the Location locationRef names (waiting until it has one), or
// locationID.
func (e *External) Resolve(ctx context.Context, req *request) (resolved, error) {
	tenantID, err := e.TenantID(ctx, req.Conn, req.Object)
	if err != nil {
		return resolved{}, err
	}
	locationID, err := LocationID(ctx, e.Reader, req.Object)
	return resolved{tenantID: tenantID, locationID: locationID}, err
}

// LocationID is the UUID of the location a Storage names: its locationID,
// or the status.id of the Location its locationRef names, waiting
// (WaitingForReference) while that Location does not exist or has no ID.
func LocationID(ctx context.Context, reader client.Reader, s *v1.Storage) (string, error) {
	ref := s.Spec.LocationRef
	if ref == nil {
		return s.Spec.LocationID, nil
	}
	l := &v1.Location{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: s.Namespace, Name: ref.Name}, l); err != nil {
		if apierrors.IsNotFound(err) {
			return "", managed.Waiting(managed.ReasonWaitingForReference, "waiting for Location %s to exist", ref.Name)
		}
		return "", err
	}
	if l.Status.ID == "" {
		return "", managed.Waiting(managed.ReasonWaitingForReference, "waiting for Location %s to be created", ref.Name)
	}
	return l.Status.ID, nil
}

// Observe reads the storage.
func (e *External) Observe(ctx context.Context, req *request, id string) (*remote, error) {
	in, err := req.Conn.Client.GetInfra(ctx, id)
	if err != nil {
		return nil, err
	}
	return &remote{infra: in}, nil
}

// Find looks, among the storages of the location, for one of the owner
// tenant with this object's name (of several, the one with its url): what
// an interrupted create made.
func (e *External) Find(ctx context.Context, req *request) (*remote, bool, error) {
	c, res := req.Conn.Client, req.Resolved
	if res.locationID == "" {
		return nil, false, nil
	}
	ids, err := c.LocationInfraIDs(ctx, res.locationID)
	if err != nil || len(ids) == 0 {
		return nil, false, err
	}
	all, err := c.GetInfras(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	s := req.Object
	var found *accountserver.Infra
	for i := range all {
		in := &all[i]
		if in.OwnerTenantID != res.tenantID || in.Name != Name(s) {
			continue
		}
		if found == nil || in.URL == s.Spec.URL && found.URL != s.Spec.URL {
			found = in
		}
	}
	if found == nil {
		return nil, false, nil
	}
	return &remote{infra: found}, true, nil
}

// CanAdopt refuses a storage of another tenant: storages do not move
// between tenants.
func (e *External) CanAdopt(_ context.Context, req *request, r *remote) error {
	if want := req.Resolved.tenantID; r.infra.OwnerTenantID != want {
		return tenant.Mismatch("Storage", r.infra.ID, r.infra.OwnerTenantID, want)
	}
	return nil
}

// Create registers the storage in its tenant and location, after checking
// that the tenant lies in the connection's subtree. The server's refusal of
// the location (another tenant's, not above the owner; none of that ID) is
// a spec to fix, in the server's words.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	res := req.Resolved
	if err := e.CheckTenant(ctx, req.Conn, req.Object, res.tenantID); err != nil {
		return nil, err
	}
	in, err := req.Conn.Client.CreateInfra(ctx, toCreate(req.Object, res.tenantID, res.locationID))
	switch {
	case accountserver.IsConflict(err) || accountserver.IsNotFound(err):
		return nil, managed.Stalled(managed.ReasonRejected, "the server refuses the storage: %s", serverMessage(err))
	case err != nil:
		return nil, err
	}
	return &remote{infra: in}, nil
}

// Diff names the fields the spec sets that differ on the server.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	_, fields := infraUpdate(req.Object, req.Resolved.locationID, r.infra)
	return fields, nil
}

// Update sends what differs in one PUT, guarded by the storage's version.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	up, _ := infraUpdate(req.Object, req.Resolved.locationID, r.infra)
	up.Version = r.infra.Version
	in, err := req.Conn.Client.UpdateInfra(ctx, r.infra.ID, up)
	if err != nil {
		return nil, err
	}
	return &remote{infra: in}, nil
}

// Delete deletes the storage with the version just read, never forcing.
// The server refuses while customers use the storage's offering items;
// that refusal is a wait, in the server's words, tried again every
// refusedRetry.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	err := req.Conn.Client.DeleteInfra(ctx, r.infra.ID, r.infra.Version, false)
	if accountserver.IsConflict(err) {
		return managed.WaitingFor(managed.ReasonDeletionBlocked, refusedRetry,
			"the server refuses to delete storage %s: %s; turn its offering items off for the tenants that use them first",
			r.infra.ID, serverMessage(err))
	}
	return err
}

// SetStatus mirrors the storage into status.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	st.TenantID, st.LocationID = r.infra.OwnerTenantID, r.infra.LocationID
	st.Capabilities = nil
	for _, c := range r.infra.Capabilities {
		st.Capabilities = append(st.Capabilities, v1.StorageCapability(c))
	}
}

// serverMessage is the server's own words for a refusal, with its code.
func serverMessage(err error) string {
	if e, ok := accountserver.AsError(err); ok && e.Message() != "" {
		if e.Code() != "" {
			return fmt.Sprintf("%s (code %s)", e.Message(), e.Code())
		}
		return e.Message()
	}
	return err.Error()
}

// sameSet says whether two lists hold the same values, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=storages,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=storages/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=storages/finalizers,verbs=update
