package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// normalised is an answer with what differs between any two objects made alike left out: ids,
// versions, times and the numbers derived from ids.
func normalised(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	mustUnmarshal(t, body, &m)
	var strip func(v any)
	strip = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, k := range []string{"id", "version", "created_at", "updated_at", "tenant_id", "personal_tenant_id", "trustee_id", "login", "name"} {
				delete(x, k)
			}
			for _, v := range x {
				strip(v)
			}
		case []any:
			for _, v := range x {
				strip(v)
			}
		}
	}
	strip(m)
	return m
}

func TestSeedTenantsLookLikeCreated(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	contact := map[string]any{"email": "it@acme.example", "firstname": "Ada", "lastname": "Admin"}
	r := env.api.do(http.MethodPost, "/tenants", map[string]any{
		"name": "Made", "parent_id": tr.partner.ID, "kind": KindCustomer, "contact": contact, "customer_id": "CRM-1", "language": "de",
	})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var made Tenant
	mustUnmarshal(t, r.body, &made)
	before := len(env.srv.Requests())
	ids, err := env.srv.SeedTenants(tr.partner.ID, []SeedTenant{
		{Name: "Seeded", Contact: Contact{Email: "it@acme.example", Firstname: "Ada", Lastname: "Admin"}, CustomerID: "CRM-1", Language: "de"},
		{Name: "Seeded 2", Kind: KindFolder},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(env.srv.Requests()); n != before {
		t.Errorf("seeding logged %d requests, want none", n-before)
	}
	if len(ids) != 2 {
		t.Fatalf("got %d ids, want 2", len(ids))
	}

	for _, path := range []string{"/tenants/%s", "/tenants/%s/offering_items", "/tenants/%s/pricing", "/tenants/%s/applications"} {
		want := env.api.do(http.MethodGet, fmt.Sprintf(path, made.ID), nil)
		got := env.api.do(http.MethodGet, fmt.Sprintf(path, ids[0]), nil)
		if got.status != want.status {
			t.Fatalf("GET %s: status %d for the seeded tenant, %d for the created one: %s", path, got.status, want.status, got.body)
		}
		if diff := cmp.Diff(normalised(t, want.body), normalised(t, got.body)); diff != "" {
			t.Errorf("GET %s: a seeded tenant must read as a created one (-created +seeded):\n%s", path, diff)
		}
	}
	seeded := env.api.getTenant(ids[0])
	if seeded.Name != "Seeded" || seeded.ParentID != tr.partner.ID || seeded.Version <= made.Version {
		t.Errorf("seeded tenant: name %q, parent %s, version %d (created one: %d)", seeded.Name, seeded.ParentID, seeded.Version, made.Version)
	}
	// Listed like any other, newest last.
	r = env.api.do(http.MethodGet, "/tenants?parent_id="+tr.partner.ID+"&lod=basic", nil)
	var list TenantList
	mustUnmarshal(t, r.body, &list)
	var names []string
	for _, it := range list.Items {
		names = append(names, it["name"].(string))
	}
	if diff := cmp.Diff([]string{"Customer", "Made", "Seeded", "Seeded 2"}, names); diff != "" {
		t.Errorf("children of the partner (-want +got):\n%s", diff)
	}
	if r := env.api.do(http.MethodPost, "/tenants", map[string]any{"name": "seeded", "parent_id": tr.partner.ID, "kind": KindCustomer}); r.status != http.StatusConflict {
		t.Errorf("a seeded name must be taken for the API too: %d %s", r.status, r.body)
	}
}

func TestSeedUsersLookLikeCreated(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	r := env.api.do(http.MethodPost, "/users", map[string]any{
		"tenant_id": tr.customer.ID, "login": "made", "contact": map[string]any{"email": "a@example.com", "firstname": "A"}, "language": "fr",
	})
	if r.status != http.StatusOK {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var made User
	mustUnmarshal(t, r.body, &made)
	ids, err := env.srv.SeedUsers([]SeedUser{
		{TenantID: tr.customer.ID, Login: "seeded", Contact: Contact{Email: "a@example.com", Firstname: "A"}, Language: "fr"},
		{TenantID: tr.partner.ID, Login: "seeded-partner", Activated: true, Notifications: []string{"quota"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/users/%s", "/users/%s/access_policies"} {
		want := env.api.do(http.MethodGet, fmt.Sprintf(path, made.ID), nil)
		got := env.api.do(http.MethodGet, fmt.Sprintf(path, ids[0]), nil)
		if got.status != want.status {
			t.Fatalf("GET %s: status %d for the seeded user, %d for the created one: %s", path, got.status, want.status, got.body)
		}
		if diff := cmp.Diff(normalised(t, want.body), normalised(t, got.body)); diff != "" {
			t.Errorf("GET %s: a seeded user must read as a created one (-created +seeded):\n%s", path, diff)
		}
	}
	seeded, _ := env.srv.User(ids[0])
	if seeded.PersonalTenantID == nil {
		t.Fatal("a user of a customer gets a personal tenant")
	}
	if pt, ok := env.srv.Tenant(*seeded.PersonalTenantID); !ok || pt.ParentID != tr.customer.ID || pt.Name != "seeded" {
		t.Errorf("personal tenant: %+v", pt)
	}
	partnerUser, _ := env.srv.User(ids[1])
	if partnerUser.PersonalTenantID != nil || !partnerUser.Activated || !cmp.Equal(partnerUser.Notifications, []string{"quota"}) {
		t.Errorf("user of a partner: personal tenant %v, activated %v, notifications %v", partnerUser.PersonalTenantID, partnerUser.Activated, partnerUser.Notifications)
	}
	if r := env.api.do(http.MethodPost, "/users", map[string]any{"tenant_id": tr.partner.ID, "login": "SEEDED"}); r.status != http.StatusConflict {
		t.Errorf("a seeded login must be taken for the API too: %d %s", r.status, r.body)
	}
}

func TestSeedRefusesWholeBatch(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	pt := env.api.createUser(tr.customer.ID, "has-personal")
	cases := map[string]struct {
		reason  string
		parent  string
		tenants []SeedTenant
		users   []SeedUser
		want    string
	}{
		"UnknownParent": {
			reason: "a parent must exist", parent: "00000000-0000-4000-8000-000000000000",
			tenants: []SeedTenant{{Name: "A"}}, want: "not found",
		},
		"DisabledParent": {
			reason: "the server refuses children of a disabled tenant", parent: tr.disabled.ID,
			tenants: []SeedTenant{{Name: "A"}}, want: "disabled",
		},
		"KindNotAllowed": {
			reason: "only units sit under customers", parent: tr.customer.ID,
			tenants: []SeedTenant{{Name: "A", Kind: KindUnit}, {Name: "B", Kind: KindPartner}}, want: "cannot be placed",
		},
		"NameTakenBySibling": {
			reason: "sibling names are unique, case-insensitively", parent: tr.provider.ID,
			tenants: []SeedTenant{{Name: "A"}, {Name: "partner"}}, want: "already exists",
		},
		"NameTakenInBatch": {
			reason: "the batch's own names count", parent: tr.partner.ID,
			tenants: []SeedTenant{{Name: "A"}, {Name: " a "}}, want: "already exists",
		},
		"NoName": {
			reason: "a name is required", parent: tr.partner.ID,
			tenants: []SeedTenant{{Name: "A"}, {Name: "  "}}, want: "no name",
		},
		"LoginTaken": {
			reason: "logins are unique server-wide",
			users:  []SeedUser{{TenantID: tr.partner.ID, Login: "new"}, {TenantID: tr.partner.ID, Login: "HAS-PERSONAL"}}, want: "already taken",
		},
		"LoginTakenInBatch": {
			reason: "the batch's own logins count",
			users:  []SeedUser{{TenantID: tr.partner.ID, Login: "twice"}, {TenantID: tr.customer.ID, Login: "twice"}}, want: "already taken",
		},
		"PersonalTenant": {
			reason: "users cannot be made in a personal tenant",
			users:  []SeedUser{{TenantID: tr.partner.ID, Login: "new"}, {TenantID: *pt.PersonalTenantID, Login: "other"}}, want: "personal tenant",
		},
		"UnknownNotification": {
			reason: "notifications come from the server's list",
			users:  []SeedUser{{TenantID: tr.partner.ID, Login: "new", Notifications: []string{"gossip"}}}, want: "notifications",
		},
		"BadLogin": {
			reason: "a login has no spaces",
			users:  []SeedUser{{TenantID: tr.partner.ID, Login: "two words"}}, want: "not valid",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tenantsBefore, usersBefore := len(env.srv.Tenants()), len(env.srv.Users())
			var err error
			if tc.users != nil {
				_, err = env.srv.SeedUsers(tc.users)
			} else {
				_, err = env.srv.SeedTenants(tc.parent, tc.tenants)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want one containing %q", tc.reason, err, tc.want)
			}
			if n, m := len(env.srv.Tenants()), len(env.srv.Users()); n != tenantsBefore || m != usersBefore {
				t.Errorf("%s: a refused batch stored %d tenants and %d users", tc.reason, n-tenantsBefore, m-usersBefore)
			}
		})
	}
}

func TestSeedManyIsFast(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	tenants := make([]SeedTenant, 5000)
	for i := range tenants {
		tenants[i] = SeedTenant{Name: fmt.Sprintf("c-%05d", i)}
	}
	ids, err := env.srv.SeedTenants(tr.partner.ID, tenants)
	if err != nil {
		t.Fatal(err)
	}
	users := make([]SeedUser, len(ids))
	for i, id := range ids {
		users[i] = SeedUser{TenantID: id, Login: fmt.Sprintf("u-%05d", i)}
	}
	if _, err := env.srv.SeedUsers(users); err != nil {
		t.Fatal(err)
	}
	r := env.api.do(http.MethodGet, "/tenants?uuids="+strings.Join(ids[:100], ",")+"&lod=stamps", nil)
	var list TenantList
	mustUnmarshal(t, r.body, &list)
	if len(list.Items) != 100 {
		b, _ := json.Marshal(list)
		t.Errorf("GET /tenants?uuids= of 100 seeded tenants: %d items: %.300s", len(list.Items), b)
	}
}

func TestSeedBackdated(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	past := env.clock.Now().Add(-48 * time.Hour)
	env.clock.Advance(time.Minute)
	ids, err := env.srv.SeedTenants(tr.partner.ID, []SeedTenant{{Name: "old", At: past}, {Name: "new"}})
	if err != nil {
		t.Fatal(err)
	}
	uids, err := env.srv.SeedUsers([]SeedUser{{TenantID: ids[0], Login: "old-user", At: past}, {TenantID: ids[1], Login: "new-user"}})
	if err != nil {
		t.Fatal(err)
	}
	since := url.QueryEscape(formatTime(env.clock.Now().Add(-time.Hour)))
	listed := func(path, key string) []string {
		t.Helper()
		r := env.api.do(http.MethodGet, path, nil)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		var l struct {
			Items []map[string]any `json:"items"`
		}
		mustUnmarshal(t, r.body, &l)
		var out []string
		for _, it := range l.Items {
			out = append(out, fmt.Sprint(it[key]))
		}
		return out
	}
	cases := map[string]struct {
		reason     string
		path       string
		key        string
		old, young string
	}{
		"Tenants": {"a backdated tenant is not a change", "/tenants?subtree_root_id=" + tr.partner.ID + "&updated_since=" + since + "&lod=stamps", "id", ids[0], ids[1]},
		"Users":   {"a backdated user is not a change", "/users?subtree_root_tenant_id=" + tr.partner.ID + "&updated_since=" + since + "&lod=stamps", "id", uids[0], uids[1]},
		"OfferingItems": {"nor are the offering items of a backdated tenant",
			"/tenants/offering_items?subtree_root_tenant_id=" + tr.partner.ID + "&updated_since=" + since, "tenant_id", ids[0], ids[1]},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := strings.Join(listed(tc.path, tc.key), ",")
			if strings.Contains(got, tc.old) || !strings.Contains(got, tc.young) {
				t.Errorf("%s: listed %s; backdated %s, made now %s", tc.reason, got, tc.old, tc.young)
			}
		})
	}
	pt, _ := env.srv.Tenant(*mustUser(t, env, uids[0]).PersonalTenantID)
	if pt.UpdatedAt != formatTime(past) {
		t.Errorf("the personal tenant of a backdated user is backdated too: %s", pt.UpdatedAt)
	}
	if old := env.api.getTenant(ids[0]); old.CreatedAt != formatTime(past) || old.UpdatedAt != formatTime(past) {
		t.Errorf("a backdated tenant reads as made then: created %s, updated %s", old.CreatedAt, old.UpdatedAt)
	}
}

func mustUser(t *testing.T, env *testEnv, id string) User {
	t.Helper()
	u, ok := env.srv.User(id)
	if !ok {
		t.Fatalf("no user %s", id)
	}
	return u
}
