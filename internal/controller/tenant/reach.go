package tenant

import (
	"context"
	"fmt"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// A namespace owns the subtrees of the tenants it manages. An object may
// not reach, by a raw UUID or through a Tenant of its own, into a tenant
// that a Tenant object of another namespace manages, nor into any tenant
// below one: it is Stalled (OutsideNamespace) before any request. The
// connection's own tenant and tenants nobody manages stay reachable: that
// is how customers are created and how existing ones are adopted. A
// ClusterAccountServer with crossNamespaceReferences: Allow lifts the rule.

// ReasonOutsideNamespace stalls an object that reaches into a subtree
// another namespace manages.
const ReasonOutsideNamespace = "OutsideNamespace"

// CheckReach fails with OutsideNamespace when tenantID, or one of its
// ancestors below the connection's tenant, is managed by a Tenant object of
// a namespace other than namespace. The walk up the tree reads the cache:
// a managed tenant's parent is in its Tenant's status; only an unmanaged
// tenant's parent is read from the server (GET /tenants/{id}), and
// remembered for parentTTL.
func CheckReach(ctx context.Context, reader client.Reader, conn *connection.Connection, namespace, tenantID string) error {
	if conn == nil || conn.CrossNamespace || tenantID == "" {
		// No connection (a unit test's request), or one that allows it.
		return nil
	}
	id := tenantID
	for range maxDepth {
		if id == conn.TenantID {
			return nil
		}
		owner, err := managingTenant(ctx, reader, id)
		if err != nil {
			return err
		}
		var parent string
		switch {
		case owner != nil && owner.Namespace != namespace:
			return outsideNamespace(conn, tenantID, id, owner)
		case owner != nil && owner.Status.ParentID != "":
			parent = owner.Status.ParentID
		default:
			if parent, err = parents.of(ctx, conn, id); err != nil {
				// Not found, or out of the connection's reach: the
				// object's own requests say so in the server's words.
				if accountserver.IsNotFound(err) || accountserver.IsForbidden(err) {
					return nil
				}
				return err
			}
		}
		if parent == "" || parent == id {
			return nil // the root
		}
		id = parent
	}
	return nil
}

func outsideNamespace(conn *connection.Connection, tenantID, id string, owner *v1.Tenant) error {
	where := fmt.Sprintf("tenant %s is managed by Tenant %s/%s", tenantID, owner.Namespace, owner.Name)
	if id != tenantID {
		where = fmt.Sprintf("tenant %s lies in the subtree of tenant %s, which Tenant %s/%s manages", tenantID, id, owner.Namespace, owner.Name)
	}
	hint := "each namespace reaches only the subtrees of the tenants it manages"
	if conn.Key.Kind == connection.KindClusterAccountServer {
		hint += fmt.Sprintf(" (ClusterAccountServer %s can allow more with crossNamespaceReferences: Allow)", conn.Key.Name)
	}
	return managed.Stalled(ReasonOutsideNamespace, "%s, in another namespace; %s", where, hint)
}

// managingTenant is the Tenant object that manages the tenant id, if any:
// of the objects that record it (a race of two imports can leave two), the
// oldest, as the one-owner rule decides.
func managingTenant(ctx context.Context, reader client.Reader, id string) (*v1.Tenant, error) {
	var list v1.TenantList
	// Read only: the cache's own objects, no copies.
	if err := reader.List(ctx, &list, client.MatchingFields{managed.IDIndex: id}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var owner *v1.Tenant
	for i := range list.Items {
		t := &list.Items[i]
		if t.Status.ID == id && (owner == nil || managed.Older(t, owner)) {
			owner = t
		}
	}
	return owner, nil
}

// parentTTL is how long the parent of a tenant nobody manages is trusted:
// tenants rarely move, and a moved one is seen after this.
const parentTTL = time.Hour

// parents remembers the parents of tenants read from the server, per
// connection.
var parents = &parentCache{entries: map[string]parentEntry{}}

type parentCache struct {
	mu      sync.Mutex
	entries map[string]parentEntry
}

type parentEntry struct {
	parent string
	at     time.Time
}

// of returns the parent of tenant id, read from the server unless known.
func (p *parentCache) of(ctx context.Context, conn *connection.Connection, id string) (string, error) {
	key := conn.Key.String() + "/" + id
	now := time.Now()
	p.mu.Lock()
	e, ok := p.entries[key]
	p.mu.Unlock()
	if ok && now.Sub(e.at) < parentTTL {
		return e.parent, nil
	}
	t, err := conn.Client.GetTenant(ctx, id)
	if err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, old := range p.entries {
		if now.Sub(old.at) >= parentTTL {
			delete(p.entries, k)
		}
	}
	p.entries[key] = parentEntry{parent: t.ParentID, at: now}
	return t.ParentID, nil
}
