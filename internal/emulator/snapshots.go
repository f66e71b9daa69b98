package emulator

import (
	"slices"
	"strings"
)

// The typed snapshots below let tests assert on remote state without going through HTTP. They
// return copies, so a test may keep them while the server moves on.

// Tenant returns a copy of a tenant, soft-deleted ones included.
func (s *Server) Tenant(id string) (Tenant, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.Tenants[id]
	if !ok {
		return Tenant{}, false
	}
	return s.renderTenant(t), true
}

// Tenants returns copies of every tenant, soft-deleted and personal ones included, oldest first.
func (s *Server) Tenants() []Tenant {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*Tenant
	for _, t := range s.st.Tenants {
		all = append(all, t)
	}
	s.sortTenants(all)
	out := make([]Tenant, 0, len(all))
	for _, t := range all {
		out = append(out, s.renderTenant(t))
	}
	return out
}

// TenantNumber returns a tenant's numeric id, the integer usages carry as tenant_id.
func (s *Server) TenantNumber(id string) (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.Tenants[id]; !ok {
		return 0, false
	}
	return s.tenantNumber(id), true
}

// User returns a copy of a user, soft-deleted ones included.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.st.Users[id]
	if !ok {
		return User{}, false
	}
	return renderUser(u), true
}

// Users returns copies of every user, soft-deleted ones included, oldest first.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.usersWhere(func(*User) bool { return true }, true)
	out := make([]User, 0, len(all))
	for _, u := range all {
		out = append(out, renderUser(u))
	}
	return out
}

// ActivationEmails tells how many activation mails the user was sent.
func (s *Server) ActivationEmails(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.ActivationEmails[userID]
}

// Password returns the password last set for the user.
func (s *Server) Password(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.st.Passwords[userID]
	return p, ok
}

// Client returns a copy of an API client, deleted ones included; the secret is never kept.
func (s *Server) Client(id string) (APIClient, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.st.Clients[id]
	if !ok {
		return APIClient{}, false
	}
	out := renderClient(c)
	out.Data = copyData(c.Data)
	if out.Data == nil {
		out.Data = map[string]any{}
	}
	return out, true
}

// Clients returns copies of every API client, deleted ones included, oldest first.
func (s *Server) Clients() []APIClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*clientRecord
	for _, c := range s.st.Clients {
		all = append(all, c)
	}
	slices.SortFunc(all, func(a, b *clientRecord) int {
		return strings.Compare(s.createdKey(a.CreatedAt, a.ClientID), s.createdKey(b.CreatedAt, b.ClientID))
	})
	out := make([]APIClient, 0, len(all))
	for _, c := range all {
		x := renderClient(c)
		x.Data = copyData(c.Data)
		out = append(out, x)
	}
	return out
}
