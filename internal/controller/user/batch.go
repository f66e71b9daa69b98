package user

import (
	"context"
	"iter"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// ObserveMany reads users with their roles by ID, a hundred per request
// (where Observe needs two requests per user).
func (e *External) ObserveMany(ctx context.Context, c *connection.Connection, ids []string) (map[string]*remote, error) {
	us, err := c.Client.GetUsers(ctx, ids, accountserver.WithAccessPolicies())
	if err != nil {
		return nil, err
	}
	out := make(map[string]*remote, len(us))
	for i := range us {
		out[us[i].ID] = &remote{user: &us[i], policies: us[i].AccessPolicies}
	}
	return out, nil
}

// Complete keeps the roles only when the spec manages them, as Observe
// reads them only then.
func (e *External) Complete(_ context.Context, req *request, r *remote) (*remote, error) {
	if !managesRoles(req.Object) {
		r.policies = nil
	}
	return r, nil
}

// ListChanged lists the users of the subtree changed since since, by their
// stamps (ID, version, deletion) only.
func (e *External) ListChanged(ctx context.Context, c *accountserver.Client, root string, since time.Time) iter.Seq2[remotewatch.Change, error] {
	q := accountserver.UserQuery{SubtreeRootTenantID: root, UpdatedSince: since, Lod: "stamps", AllowDeleted: true}
	return remotewatch.Changes(c.ListUsers(ctx, q), func(u accountserver.User) remotewatch.Change {
		return remotewatch.Change{ID: u.ID, Version: u.Version, Deleted: u.DeletedAt != nil}
	})
}
