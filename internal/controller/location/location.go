// Package location says how a Location object talks to the account server:
// a datacenter location owned by a tenant, where its storages sit. The
// generic loop in internal/managed does everything else.
package location

import (
	"context"
	"strings"
	"time"

	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Condition reasons of the Location kind.
const ReasonTenantMismatch = tenant.ReasonTenantMismatch

// refusedRetry is how soon a delete the server refused (storages still in
// the location) is tried again; no watch tells when they are gone if they
// were made outside the operator.
const refusedRetry = time.Minute

// remote is a location as read from the server.
type remote struct {
	location *accountserver.Location
}

func (r *remote) RemoteID() string     { return r.location.ID }
func (r *remote) RemoteVersion() int64 { return r.location.Version }

// resolved is what Resolve found for one reconcile.
type resolved struct {
	tenantID string
}

type request = managed.Request[*v1.Location, resolved]

// External talks to the account server about locations.
type External struct {
	tenant.Scope[*v1.Location]
}

// Name is the location's name on the server: spec.displayName, or
// metadata.name.
func Name(l *v1.Location) string {
	if l.Spec.DisplayName != "" {
		return l.Spec.DisplayName
	}
	return l.Name
}

// Resolve finds the owner tenant's UUID.
func (e *External) Resolve(ctx context.Context, req *request) (resolved, error) {
	tenantID, err := e.TenantID(ctx, req.Conn, req.Object)
	return resolved{tenantID: tenantID}, err
}

// Observe reads the location.
func (e *External) Observe(ctx context.Context, req *request, id string) (*remote, error) {
	l, err := req.Conn.Client.GetLocation(ctx, id)
	if err != nil {
		return nil, err
	}
	return &remote{location: l}, nil
}

// Find looks for the location of the owner tenant with this object's
// name (the emulator keeps a tenant's location names distinct): the one an
// interrupted create made.
func (e *External) Find(ctx context.Context, req *request) (*remote, bool, error) {
	c, tenantID := req.Conn.Client, req.Resolved.tenantID
	ids, err := c.TenantLocationIDs(ctx, tenantID)
	if err != nil || len(ids) == 0 {
		return nil, false, tenant.MissingTenant(err, tenantID)
	}
	all, err := c.GetLocations(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	name := Name(req.Object)
	var found *accountserver.Location
	for i := range all {
		l := &all[i]
		if l.OwnerTenantID != tenantID || !strings.EqualFold(l.Name, name) {
			continue
		}
		// The exact name first: that names differ only in case is the
		// emulator's rule, not one known of the real server.
		if found == nil || l.Name == name && found.Name != name {
			found = l
		}
	}
	if found == nil {
		return nil, false, nil
	}
	return &remote{location: found}, true, nil
}

// CanAdopt refuses a location of another tenant: locations do not move.
func (e *External) CanAdopt(_ context.Context, req *request, r *remote) error {
	if want := req.Resolved.tenantID; r.location.OwnerTenantID != want {
		return tenant.Mismatch("Location", r.location.ID, r.location.OwnerTenantID, want)
	}
	return nil
}

// Create creates the location in its tenant, after checking that the
// tenant lies in the connection's subtree.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	tenantID := req.Resolved.tenantID
	if err := e.CheckTenant(ctx, req.Conn, req.Object, tenantID); err != nil {
		return nil, err
	}
	l, err := req.Conn.Client.CreateLocation(ctx, tenantID, Name(req.Object))
	if err != nil {
		return nil, tenant.MissingTenant(err, tenantID)
	}
	return &remote{location: l}, nil
}

// Diff names what differs: only the name can.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	if r.location.Name != Name(req.Object) {
		return []string{"displayName"}, nil
	}
	return nil, nil
}

// Update renames the location, guarded by its version.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	l, err := req.Conn.Client.UpdateLocation(ctx, r.location.ID, Name(req.Object), r.location.Version)
	if err != nil {
		return nil, err
	}
	return &remote{location: l}, nil
}

// Delete deletes the location with the version just read. The server
// refuses while storages still sit in it; that refusal is a wait, in the
// server's words, not an error to back off from.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	err := req.Conn.Client.DeleteLocation(ctx, r.location.ID, r.location.Version)
	if accountserver.IsConflict(err) {
		return managed.WaitingFor(managed.ReasonDeletionBlocked, refusedRetry,
			"the server refuses to delete location %s: %s; delete or move the storages in it (Storage objects, or storages made outside the operator)",
			r.location.ID, ptr.Deref(serverMessage(err), err.Error()))
	}
	return err
}

// SetStatus mirrors the location into status.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	st.TenantID, st.DisplayName = r.location.OwnerTenantID, r.location.Name
}

// serverMessage is the server's own words for a refusal, with its code;
// nil when err carries none.
func serverMessage(err error) *string {
	e, ok := accountserver.AsError(err)
	if !ok || e.Message() == "" {
		return nil
	}
	msg := e.Message()
	if e.Code() != "" {
		msg += " (code " + e.Code() + ")"
	}
	return &msg
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=locations,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=locations/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=locations/finalizers,verbs=update
