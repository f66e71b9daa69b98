package emulator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Seeding puts thousands of tenants and users into the store at once, for the benchmarks
// (cmd/bench) that need an account server already holding 10,000 customers: creating them
// through the API costs one request each, a rate-limited minute per thousand. What a seeded
// object looks like is exactly what POST /tenants or POST /users would have made of the same
// fields, personal tenant included; only the request, its log entry, its faults and its rate
// limit are left out. A batch is checked whole before anything is stored, so a refused batch
// leaves the store as it was.

// SeedTenant is one tenant for SeedTenants: the fields of a POST /tenants body that matter to
// the benchmarks. Empty fields take the server's defaults.
type SeedTenant struct {
	Name string
	// Kind defaults to customer.
	Kind       string
	Contact    Contact
	CustomerID string
	Language   string
	// At is when the tenant was created and last changed; zero means now. A time before a
	// client's watermark keeps the tenant and its offering items out of that client's lists of
	// changes (updated_since), as for tenants that existed long before the client looked.
	At time.Time
}

// SeedTenants stores tenants under parentID as if each had been created by POST /tenants, and
// returns their ids in the order given. It refuses the whole batch when the parent is missing,
// deleted or disabled, when a kind may not sit under the parent, or when a name is empty or
// taken among the parent's children (the batch's own included).
func (s *Server) SeedTenants(parentID string, tenants []SeedTenant) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, ok := s.st.Tenants[parentID]
	switch {
	case !ok || parent.DeletedAt != nil:
		return nil, fmt.Errorf("seeding tenants: parent tenant %s not found", parentID)
	case !parent.Enabled:
		return nil, fmt.Errorf("seeding tenants: parent tenant %s is disabled", parentID)
	}
	// One pass over the store for the names, not one per tenant: siblingNameTaken is linear.
	taken := map[string]bool{}
	for _, c := range s.childTenants(parentID, false) {
		taken[strings.ToLower(c.Name)] = true
	}
	for i, st := range tenants {
		kind := cmp.Or(st.Kind, KindCustomer)
		name := strings.TrimSpace(st.Name)
		switch {
		case name == "":
			return nil, fmt.Errorf("seeding tenants: tenant %d has no name", i)
		case kind == KindRoot || kind == kindPersonal || allowedChildKinds[kind] == nil:
			return nil, fmt.Errorf("seeding tenants: tenant %q: kind %q cannot be created", name, kind)
		case taken[strings.ToLower(name)]:
			return nil, fmt.Errorf("seeding tenants: a tenant named %q already exists under %s", name, parentID)
		}
		if e := checkKindUnder(parent.Kind, kind); e != nil {
			return nil, fmt.Errorf("seeding tenants: tenant %q: %s", name, e.Message)
		}
		taken[strings.ToLower(name)] = true
	}
	ids := make([]string, 0, len(tenants))
	for _, st := range tenants {
		t := s.newTenantObject(newID(), strings.TrimSpace(st.Name), parentID, cmp.Or(st.Kind, KindCustomer))
		t.Contact = st.Contact
		t.Contact.ID, t.Contact.CreatedAt, t.Contact.UpdatedAt = "", "", ""
		if st.CustomerID != "" {
			t.CustomerID = ptr(st.CustomerID)
		}
		if st.Language != "" {
			t.Language = st.Language
		}
		s.insertTenant(t)
		s.backdate(t, st.At)
		ids = append(ids, t.ID)
	}
	return ids, nil
}

// backdate makes a just inserted tenant (and its offering items) look created and last changed
// at at. Call with s.mu held.
func (s *Server) backdate(t *Tenant, at time.Time) {
	if at.IsZero() {
		return
	}
	ts := formatTime(at)
	t.CreatedAt, t.UpdatedAt = ts, ts
	if p := s.st.Pricing[t.ID]; p != nil && p.ProductionStartDate != nil {
		p.ProductionStartDate = ptr(ts)
		t.ProductionStartDate = ptr(ts)
	}
	for _, it := range s.ext().Items[t.ID] {
		it.UpdatedAt = ts
	}
}

// SeedUser is one user for SeedUsers: the fields of a POST /users body that matter to the
// benchmarks, and whether the user has already activated the account (as if the activation
// email had been sent and followed).
type SeedUser struct {
	TenantID string
	Login    string
	Contact  Contact
	Language string
	// Notifications nil means the server's defaults.
	Notifications []string
	Activated     bool
	// At is when the user (and its personal tenant) was created and last changed; zero means
	// now (see SeedTenant.At).
	At time.Time
}

// SeedUsers stores users as if each had been created by POST /users (a user of a customer or a
// unit gets its personal tenant), and returns their ids in the order given. It refuses the whole
// batch when a tenant is missing, deleted or personal, when a login is invalid or taken (by a
// live user or earlier in the batch), or when a notification is not one the server knows.
func (s *Server) SeedUsers(users []SeedUser) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// One pass for the logins, not one per user: loginTaken is linear.
	taken := map[string]bool{}
	for _, u := range s.st.Users {
		if u.DeletedAt == nil {
			taken[strings.ToLower(u.Login)] = true
		}
	}
	for i, su := range users {
		t, ok := s.st.Tenants[su.TenantID]
		switch {
		case !ok || t.DeletedAt != nil:
			return nil, fmt.Errorf("seeding users: user %d: tenant %s not found", i, su.TenantID)
		case t.Kind == kindPersonal:
			return nil, fmt.Errorf("seeding users: user %d: users cannot be created in a personal tenant", i)
		case !loginPattern.MatchString(su.Login):
			return nil, fmt.Errorf("seeding users: login %q is not valid", su.Login)
		case taken[strings.ToLower(su.Login)]:
			return nil, fmt.Errorf("seeding users: login %q is already taken", su.Login)
		}
		if e := checkStrings("notifications", su.Notifications, notificationKinds); e != nil {
			return nil, fmt.Errorf("seeding users: login %q: %s", su.Login, e.Message)
		}
		taken[strings.ToLower(su.Login)] = true
	}
	ids := make([]string, 0, len(users))
	for _, su := range users {
		t := s.st.Tenants[su.TenantID]
		now := s.timestamp()
		if !su.At.IsZero() {
			now = formatTime(su.At)
		}
		u := &User{
			ID:             newID(),
			TenantID:       t.ID,
			Login:          su.Login,
			Contact:        su.Contact,
			Activated:      su.Activated,
			Enabled:        true,
			CreatedAt:      now,
			UpdatedAt:      now,
			Language:       cmp.Or(su.Language, "en"),
			IDPID:          defaultIDPID,
			BusinessTypes:  []string{},
			Notifications:  slices.Clone(defaultNotifications),
			MFAStatus:      "disabled",
			AccessPolicies: []AccessPolicy{},
		}
		u.Contact.ID, u.Contact.CreatedAt, u.Contact.UpdatedAt = "", "", ""
		if su.Notifications != nil {
			u.Notifications = slices.Clone(su.Notifications)
		}
		if t.MFAStatus == "enabled" {
			u.MFAStatus = "enabled"
		}
		u.Version = s.nextVersion()
		if t.Kind == KindCustomer || t.Kind == KindUnit {
			pt := s.newTenantObject(newID(), u.Login, t.ID, kindPersonal)
			s.insertTenant(pt)
			s.backdate(pt, su.At)
			u.PersonalTenantID = &pt.ID
		}
		s.st.Users[u.ID] = u
		s.assignSeq(u.ID)
		ids = append(ids, u.ID)
	}
	return ids, nil
}
