package tenant

import (
	"context"
	"iter"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// ObserveMany reads tenants by ID, a hundred per request.
func (e *External) ObserveMany(ctx context.Context, c *connection.Connection, ids []string) (map[string]*remote, error) {
	ts, err := c.Client.GetTenants(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*remote, len(ts))
	for i := range ts {
		out[ts[i].ID] = &remote{tenant: &ts[i]}
	}
	return out, nil
}

// Complete reads what the spec manages beyond the tenant itself: pricing,
// applications, branding. A plain tenant needs nothing more.
func (e *External) Complete(ctx context.Context, req *request, r *remote) (*remote, error) {
	if p := req.Object.Spec.Pricing; p != nil && p.Currency != "" {
		var err error
		if r.pricing, err = req.Conn.Client.GetPricing(ctx, r.tenant.ID); err != nil {
			return nil, err
		}
	}
	return r, observeServices(ctx, req, r)
}

// ListChanged lists the tenants of the subtree changed since since, by
// their stamps (ID, version, deletion) only.
func (e *External) ListChanged(ctx context.Context, c *accountserver.Client, root string, since time.Time) iter.Seq2[remotewatch.Change, error] {
	q := accountserver.TenantQuery{SubtreeRootID: root, UpdatedSince: since, Lod: "stamps", AllowDeleted: true}
	return remotewatch.Changes(c.ListTenants(ctx, q), func(t accountserver.Tenant) remotewatch.Change {
		return remotewatch.Change{ID: t.ID, Version: t.Version, Deleted: t.DeletedAt != nil}
	})
}
