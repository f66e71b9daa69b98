package offeringitemquota

import (
	"context"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Batched observation. The server has no read of many tenants' items by
// tenant ID; its one read across tenants is GET /tenants/offering_items of
// a subtree. When many OfferingItemQuotas only need verifying at once (a
// restart), ObserveMany lists the connection's subtree once for a batch of
// tenants, asking only for the item names their objects manage, and stops
// when every wanted tenant has its items or when it has read half as many
// pages as the tenants would cost read one by one. Complete then checks
// that an answer holds every item the spec names; one that does not (the
// list stopped early, or the spec switches editions and needs every item
// of the application) is read alone. Usage, when due, is read for the whole
// batch too, a hundred tenants per request (GET /tenants/usages).

// subtreePage is the page size of those lists: the server's default.
const subtreePage = 5000

// BatchSize: a list of the subtree costs the same for one tenant or a
// thousand, so a batch takes up to 500 tenants, and the first waits a
// second for others (at start-up, every object comes within it).
func (e *External) BatchSize() (int, time.Duration) { return 500, time.Second }

// ObserveMany reads the managed offering items of the tenants ids. A batch
// of one tenant is read alone: a list would cost at least as much.
func (e *External) ObserveMany(ctx context.Context, c *connection.Connection, ids []string) (map[string]*remote, error) {
	maxPages := len(ids) / 2
	if maxPages == 0 {
		return nil, nil
	}
	now := time.Now()
	names, pending, due := e.managedItems(ctx, ids, c.ResyncInterval, now)
	if len(names) == 0 {
		return nil, nil
	}
	out := map[string]*remote{}
	rows := 0
	q := accountserver.SubtreeItemQuery{SubtreeRootTenantID: c.TenantID, Names: names, Limit: subtreePage}
	for it, err := range c.Client.ListOfferingItems(ctx, q) {
		if err != nil {
			return nil, err
		}
		rows++
		if r := out[it.TenantID]; r != nil {
			r.items = append(r.items, it)
		} else if _, wanted := pending[it.TenantID]; wanted {
			out[it.TenantID] = &remote{tenantID: it.TenantID, items: []accountserver.OfferingItem{it}}
		}
		if keys := pending[it.TenantID]; keys != nil {
			delete(keys, keyOf(it))
			if len(keys) == 0 {
				pending[it.TenantID] = nil
			}
		}
		if rows%subtreePage == 0 && (rows/subtreePage >= maxPages || allFound(pending)) {
			break
		}
	}
	// The usage of the tenants whose objects read it now, a hundred per
	// request.
	var usageOf []string
	for id := range due {
		if out[id] != nil {
			usageOf = append(usageOf, id)
		}
	}
	for chunk := range slices.Chunk(usageOf, accountserver.MaxBatch) {
		usages, err := c.Client.GetManyUsages(ctx, chunk)
		if err != nil {
			return nil, err
		}
		for _, id := range chunk {
			if u, ok := usages[id]; ok {
				out[id].usages, out[id].usageRead = u, now
			}
		}
	}
	return out, nil
}

// managedItems looks up, in the cache, the OfferingItemQuotas of the
// tenants ids: the names of every item they list in spec or status, per
// tenant the items their status records (what a complete answer holds),
// and the tenants of objects that read usage now (readsUsage).
func (e *External) managedItems(ctx context.Context, ids []string, resync time.Duration, now time.Time) ([]string, map[string]map[key]bool, map[string]bool) {
	var names []string
	pending := make(map[string]map[key]bool, len(ids))
	due := map[string]bool{}
	for _, id := range ids {
		var list v1.OfferingItemQuotaList
		// Read only: no copies of the cached objects.
		if err := e.Reader.List(ctx, &list, client.MatchingFields{managed.IDIndex: id}, client.UnsafeDisableDeepCopy); err != nil {
			continue
		}
		keys := map[key]bool{}
		for i := range list.Items {
			q := &list.Items[i]
			if readsUsage(q, resync, now) {
				due[id] = true
			}
			for _, it := range q.Spec.Items {
				names = append(names, it.Name)
			}
			for _, s := range q.Status.Items {
				names = append(names, s.Name)
				keys[key{app: s.Application, name: s.Name, infra: s.InfraID}] = true
			}
		}
		pending[id] = keys
	}
	slices.Sort(names)
	return slices.Compact(names), pending, due
}

// allFound says every wanted tenant's recorded items were listed.
func allFound(pending map[string]map[key]bool) bool {
	for _, keys := range pending {
		if len(keys) > 0 {
			return false
		}
	}
	return true
}

// Complete finishes a batched answer for one object: it is read alone when
// the answer lacks an item the spec names, or when the spec switches
// editions (that needs every item of the application); and its usage is
// read when it is due.
func (e *External) Complete(ctx context.Context, req *request, r *remote) (*remote, error) {
	res := &req.Resolved
	if res.edition != "" {
		return e.Observe(ctx, req, r.tenantID)
	}
	for _, d := range res.items {
		if _, ok := find(r.items, d); !ok {
			return e.Observe(ctx, req, r.tenantID)
		}
	}
	// A fresh remote: the batched one may serve peers of the same tenant.
	out := &remote{tenantID: r.tenantID, items: r.items, version: versionOf(r.items, res.items)}
	if !readsUsage(req.Object, req.Conn.ResyncInterval, time.Now()) {
		return out, nil
	}
	if !r.usageRead.IsZero() {
		out.usages, out.usageRead = r.usages, r.usageRead
		return out, nil
	}
	return e.withUsage(ctx, req, out)
}
