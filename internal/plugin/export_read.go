package plugin

import (
	"context"
	"fmt"
	"regexp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// readSubtree reads the subtree below root (the connection's tenant when
// empty) with paged lists: its tenants, their users with their access
// policies, their offering items, and the application catalog. The root
// exported as a Tenant also needs its parent's items, to tell what it
// inherits. Only reads are sent.
func readSubtree(ctx context.Context, conn *connection.Connection, rootID string, p *progress) (*snapshot, error) {
	c := conn.Client
	s := &snapshot{ConnTenantID: conn.TenantID, RootID: rootID, Items: map[string][]accountserver.OfferingItem{}}
	if s.RootID == "" {
		s.RootID = conn.TenantID
	}
	for t, err := range c.ListTenants(ctx, accountserver.TenantQuery{SubtreeRootID: s.RootID}) {
		switch {
		case accountserver.IsForbidden(err):
			return nil, fmt.Errorf("tenant %s lies outside the subtree of tenant %s that the connection acts in", s.RootID, conn.TenantID)
		case accountserver.IsNotFound(err):
			return nil, fmt.Errorf("tenant %s does not exist on the server", s.RootID)
		case err != nil:
			return nil, fmt.Errorf("listing the tenants of %s: %w", s.RootID, err)
		}
		if t.DeletedAt == nil {
			s.Tenants = append(s.Tenants, t)
			p.add("tenants", 1)
		}
	}
	known := map[string]bool{}
	var root *accountserver.Tenant
	for i := range s.Tenants {
		known[s.Tenants[i].ID] = true
		if s.Tenants[i].ID == s.RootID {
			root = &s.Tenants[i]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("tenant %s does not exist on the server", s.RootID)
	}
	for u, err := range c.ListUsers(ctx, accountserver.UserQuery{SubtreeRootTenantID: s.RootID, WithAccessPolicies: true}) {
		if err != nil {
			return nil, fmt.Errorf("listing the users of %s: %w", s.RootID, err)
		}
		if u.DeletedAt == nil && known[u.TenantID] {
			s.Users = append(s.Users, u)
			p.add("users", 1)
		}
	}
	for it, err := range c.ListOfferingItems(ctx, accountserver.SubtreeItemQuery{SubtreeRootTenantID: s.RootID}) {
		if err != nil {
			return nil, fmt.Errorf("listing the offering items of %s: %w", s.RootID, err)
		}
		// Personal tenants (one per user of a customer or unit) have items
		// too; they are not exported.
		if it.DeletedAt == nil && known[it.TenantID] {
			s.Items[it.TenantID] = append(s.Items[it.TenantID], it)
			p.add("items", 1)
		}
	}
	if s.RootID != conn.TenantID {
		items, err := c.GetOfferingItems(ctx, root.ParentID, accountserver.OfferingItemQuery{Edition: accountserver.AllEditions})
		if err != nil {
			return nil, fmt.Errorf("reading the offering items of %s, the parent of %s: %w", root.ParentID, s.RootID, err)
		}
		s.ParentItems = items
	}
	apps, err := c.ListApplications(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the applications: %w", err)
	}
	s.Apps = apps
	return s, nil
}
