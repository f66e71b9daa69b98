package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestCreateUser(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	env.api.createUser(tr.partner.ID, "taken")
	body := func(tenant, login string) map[string]any {
		return map[string]any{"tenant_id": tenant, "login": login, "contact": map[string]any{"email": login + "@example.com"}}
	}
	cases := map[string]struct {
		reason   string
		body     any
		want     errCode
		personal bool
	}{
		"InPartner":          {"a partner admin has no personal tenant", body(tr.partner.ID, "p-admin"), errCode{Status: 200}, false},
		"InCustomer":         {"a customer's user gets a personal tenant", body(tr.customer.ID, "c-user"), errCode{Status: 200}, true},
		"InUnit":             {"a unit's user gets a personal tenant", body(tr.unit.ID, "u-user"), errCode{Status: 200}, true},
		"LoginTaken":         {"logins are unique server-wide", body(tr.customer.ID, "taken"), errCode{409, codeNameConflict}, false},
		"LoginTakenCase":     {"logins compare without case", body(tr.customer.ID, "TAKEN"), errCode{409, codeNameConflict}, false},
		"MissingLogin":       {"login is required", map[string]any{"tenant_id": tr.customer.ID}, errCode{400, 400}, false},
		"MissingTenant":      {"tenant_id is required", map[string]any{"login": "x"}, errCode{400, 400}, false},
		"UnknownField":       {"unknown fields are refused", map[string]any{"tenant_id": tr.customer.ID, "login": "x", "roles": []string{"admin"}}, errCode{400, 400}, false},
		"BadNotification":    {"notifications take the reference's values", map[string]any{"tenant_id": tr.customer.ID, "login": "x", "notifications": []string{"spam"}}, errCode{400, 400}, false},
		"BadBusinessType":    {"business_types take the reference's values", map[string]any{"tenant_id": tr.customer.ID, "login": "x", "business_types": []string{"seller"}}, errCode{400, 400}, false},
		"BadDisableAfter":    {"disable_after is RFC 3339", map[string]any{"tenant_id": tr.customer.ID, "login": "x", "disable_after": "tomorrow"}, errCode{400, 400}, false},
		"TenantMissing":      {"the tenant must exist", body("00000000-0000-4000-8000-000000000000", "x"), errCode{404, codeTenantNotFound}, false},
		"TenantOutsideScope": {"the tenant must be in the caller's subtree", body(env.boot.RootTenantID, "x"), errCode{403, codeAccessDenied}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(env.srv.Users())
			r := env.api.do(http.MethodPost, "/users", tc.body)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			if r.status != http.StatusOK {
				if after := len(env.srv.Users()); after != before {
					t.Errorf("a refused create changed the store (%d → %d users)", before, after)
				}
				return
			}
			var got User
			mustUnmarshal(t, r.body, &got)
			stored, _ := env.srv.User(got.ID)
			if diff := cmp.Diff(stored, got); diff != "" {
				t.Errorf("answer differs from the store:\n%s", diff)
			}
			if (got.PersonalTenantID != nil) != tc.personal {
				t.Fatalf("%s: personal_tenant_id = %v", tc.reason, got.PersonalTenantID)
			}
			if tc.personal {
				pt, ok := env.srv.Tenant(*got.PersonalTenantID)
				if !ok || pt.ParentID != got.TenantID {
					t.Errorf("personal tenant %+v is not under the user's tenant", pt)
				}
			}
		})
	}
}

func TestCreateUserSeedExample(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	// The reference's POST /users example, with its tenant replaced by one of ours.
	body := `{"disable_after": "2017-06-22T18:25:16", "tenant_id": "` + tr.customer.ID + `", "enabled": true,
		"contact": {"city": "Rivertown", "zipcode": "12345", "email": "me@mysite.com", "state": "CA", "firstname": "John",
			"country": "USA", "address2": "", "lastname": "Doe", "address1": "1440 River Drive #100", "phone": "123456789"},
		"origin_id": "pillr.mdr", "language": "ru", "origin_external_id": "c66b1af2-2ac5-4764-8db6-97b054e7d27e",
		"business_types": ["buyer"], "login": "mylogin",
		"notifications": ["maintenance", "quota", "reports", "backup_error", "backup_warning", "backup_info", "backup_daily_report",
			"backup_critical", "device_control_warning", "certificate_management_error", "certificate_management_warning", "certificate_management_info"]}`
	r := env.api.do(http.MethodPost, "/users", body)
	if r.status != http.StatusOK {
		t.Fatalf("seed example: %d %s", r.status, r.body)
	}
	var got User
	mustUnmarshal(t, r.body, &got)
	now := formatTime(env.clock.Now())
	want := User{
		ID: got.ID, Version: got.Version, TenantID: tr.customer.ID, Login: "mylogin",
		Contact: Contact{ID: got.Contact.ID, CreatedAt: now, UpdatedAt: now, Types: []string{},
			City: "Rivertown", Zipcode: "12345", Email: "me@mysite.com", State: "CA", Firstname: "John", Country: "USA",
			Lastname: "Doe", Address1: "1440 River Drive #100", Phone: "123456789"},
		Enabled: true, CreatedAt: now, UpdatedAt: now, Language: "ru", IDPID: defaultIDPID, PersonalTenantID: got.PersonalTenantID,
		BusinessTypes: []string{"buyer"}, Notifications: slices.Clone(notificationKinds), MFAStatus: "disabled",
		AccessPolicies: []AccessPolicy{}, OriginID: ptr("pillr.mdr"), OriginExternalID: ptr("c66b1af2-2ac5-4764-8db6-97b054e7d27e"),
		DisableAfter: ptr("2017-06-22T18:25:16"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created user -want +got:\n%s", diff)
	}
	if !validUUID(got.Contact.ID) {
		t.Errorf("contact id %q is not a lowercase UUID", got.Contact.ID)
	}
}

// seed003User is the answer printed in seed 003, rewritten from Python to JSON.
const seed003User = `{"activated": true, "business_types": [],
 "contact": {"address1": "", "address2": "", "city": "", "country": "", "email": "johndoe@mysite.com", "firstname": "John",
             "lastname": "Doe", "phone": "", "state": "", "zipcode": ""},
 "created_at": "2019-07-25T07:11:02.807354+00:00", "enabled": false, "id": "1c234e69-5469-424a-a6d1-ff5658b387a6",
 "idp_id": "11111111-1111-1111-1111-111111111111", "language": "en", "login": "JohnDoe", "mfa_status": "disabled",
 "notifications": ["quota", "reports", "backup_daily_report"], "personal_tenant_id": null,
 "tenant_id": "ede9f834-70b3-476c-83d9-736f9f8c7dae", "terms_accepted": false, "version": 2}`

func TestSeed003UserRoundTrip(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(seed003User))
	dec.DisallowUnknownFields() // every documented field has a home in User
	var u User
	if err := dec.Decode(&u); err != nil {
		t.Fatalf("seed 003 does not decode into User: %v", err)
	}
	out, _ := json.Marshal(u)
	var orig, again map[string]any
	mustUnmarshal(t, []byte(seed003User), &orig)
	mustUnmarshal(t, out, &again)
	for k := range again {
		if _, ok := orig[k]; !ok {
			delete(again, k) // fields the chapter does not show
		}
	}
	for k := range again["contact"].(map[string]any) {
		if _, ok := orig["contact"].(map[string]any)[k]; !ok {
			delete(again["contact"].(map[string]any), k) // contact fields the chapter does not show (types, id, ...)
		}
	}
	if diff := cmp.Diff(orig, again); diff != "" {
		t.Errorf("round trip -seed +ours:\n%s", diff)
	}
	// A user made the way the chapter's was has the same set of keys, and more.
	env := startEmulator(t, Options{})
	r := env.api.do(http.MethodGet, "/users/"+env.api.createUser(env.boot.TenantID, "JohnDoe").ID, nil)
	var live map[string]any
	mustUnmarshal(t, r.body, &live)
	for k := range orig {
		if _, ok := live[k]; !ok {
			t.Errorf("the emulator's user lacks %q", k)
		}
	}
	for _, k := range []string{"access_policies", "deleted_at", "updated_at"} {
		if _, ok := live[k]; !ok {
			t.Errorf("the emulator's user lacks the reference's %q", k)
		}
	}
	// The official document gives these no null: a user without them leaves them out.
	for _, k := range []string{"external_id", "origin_id", "origin_external_id", "disable_after"} {
		if v, ok := live[k]; ok {
			t.Errorf("the emulator's user has %q = %v, want it left out when unset", k, v)
		}
	}
}

func TestUpdateUser(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	env.api.createUser(tr.customer.ID, "other")
	cases := map[string]struct {
		reason string
		body   func(u User) any
		want   errCode
		check  func(t *testing.T, before, after User)
	}{
		"Seed003Disable": {
			reason: "seed 003's body disables the user",
			body:   func(u User) any { return map[string]any{"enabled": false, "version": u.Version} },
			want:   errCode{Status: 200},
			check: func(t *testing.T, before, after User) {
				if after.Enabled || after.Version <= before.Version {
					t.Errorf("enabled %v version %d→%d", after.Enabled, before.Version, after.Version)
				}
			},
		},
		"SeedExample": {
			reason: "the reference's PUT example merges the contact and clears notifications",
			body: func(u User) any {
				return fmt.Sprintf(`{"contact": {"firstname": "John"}, "notifications": [], "disable_after": "2017-06-22T18:25:16", "version": %d}`, u.Version)
			},
			want: errCode{Status: 200},
			check: func(t *testing.T, before, after User) {
				want := before
				want.Contact.Firstname = "John"
				want.Notifications = []string{}
				want.DisableAfter = ptr("2017-06-22T18:25:16")
				if diff := cmp.Diff(want, after, cmpopts.IgnoreFields(User{}, "Version", "UpdatedAt")); diff != "" {
					t.Errorf("-want +got:\n%s", diff)
				}
			},
		},
		"Login": {
			reason: "the login can change to a free one",
			body:   func(u User) any { return map[string]any{"login": "renamed", "version": u.Version} },
			want:   errCode{Status: 200},
			check: func(t *testing.T, _, after User) {
				if after.Login != "renamed" {
					t.Errorf("login %q", after.Login)
				}
			},
		},
		"LoginTaken":     {"a taken login is 409", func(u User) any { return map[string]any{"login": "OTHER", "version": u.Version} }, errCode{409, codeNameConflict}, nil},
		"MissingVersion": {"version is required", func(User) any { return map[string]any{"enabled": false} }, errCode{400, 400}, nil},
		"StaleVersion":   {"a stale version is 409 (1001)", func(u User) any { return map[string]any{"enabled": false, "version": u.Version - 1} }, errCode{409, codeVersionMismatch}, nil},
		"UnknownField":   {"business_types is not an update field", func(u User) any { return map[string]any{"business_types": []string{}, "version": u.Version} }, errCode{400, 400}, nil},
		"BadContact":     {"unknown contact fields are refused", func(u User) any { return map[string]any{"contact": map[string]any{"mail": "x"}, "version": u.Version} }, errCode{400, 400}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			u := env.api.createUser(tr.customer.ID, "user-"+strings.ToLower(name))
			r := env.api.do(http.MethodPut, "/users/"+u.ID, tc.body(u))
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			after, _ := env.srv.User(u.ID)
			if r.status != http.StatusOK {
				if diff := cmp.Diff(u, after); diff != "" {
					t.Errorf("a refused update changed the user:\n%s", diff)
				}
				return
			}
			var got User
			mustUnmarshal(t, r.body, &got)
			if diff := cmp.Diff(after, got); diff != "" {
				t.Errorf("answer differs from the store:\n%s", diff)
			}
			tc.check(t, u, after)
		})
	}
}

func TestDeleteRestoreUserAndCheckLogin(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	u := env.api.createUser(tr.customer.ID, "leaver")
	check := func(login string) int {
		return env.api.do(http.MethodGet, "/users/check_login?username="+login, nil).status
	}

	if diff := cmp.Diff([]int{409, 409, 204, 406}, []int{check("leaver"), check("LEAVER"), check("free"), check("")}); diff != "" {
		t.Errorf("check_login taken, taken, free, empty -want +got:\n%s", diff)
	}
	for name, tc := range map[string]struct {
		path string
		want errCode
	}{
		"MissingVersion": {"/users/" + u.ID, errCode{400, 400}},
		"StaleVersion":   {fmt.Sprintf("/users/%s?version=%d", u.ID, u.Version-1), errCode{409, codeVersionMismatch}},
		"Missing":        {"/users/00000000-0000-4000-8000-000000000000?version=1", errCode{404, 404}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, env.api.do(http.MethodDelete, tc.path, nil).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	if r := env.api.do(http.MethodDelete, fmt.Sprintf("/users/%s?version=%d", u.ID, u.Version), nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(errCode{404, 404}, env.api.do(http.MethodGet, "/users/"+u.ID, nil).code(t)); diff != "" {
		t.Errorf("a deleted user is 404\n-want +got:\n%s", diff)
	}
	var got User
	mustUnmarshal(t, env.api.do(http.MethodGet, "/users/"+u.ID+"?allow_deleted=true", nil).body, &got)
	if got.DeletedAt == nil {
		t.Error("allow_deleted must show deleted_at")
	}
	if pt, _ := env.srv.Tenant(*u.PersonalTenantID); pt.DeletedAt == nil {
		t.Error("the personal tenant goes with the user")
	}
	if check("leaver") != http.StatusNoContent {
		t.Error("a deleted user's login is free again")
	}
	env.api.createUser(tr.partner.ID, "leaver")
	if diff := cmp.Diff(errCode{409, codeNameConflict}, env.api.do(http.MethodPost, "/users/"+u.ID+"/restore", nil).code(t)); diff != "" {
		t.Errorf("restore onto a taken login\n-want +got:\n%s", diff)
	}
	if r := env.api.do(http.MethodPost, "/users/"+u.ID+"/restore?force=true&enable=true", nil); r.status != http.StatusNoContent {
		t.Fatalf("forced restore: %d %s", r.status, r.body)
	}
	after, _ := env.srv.User(u.ID)
	if after.DeletedAt != nil || after.Login == "leaver" || !strings.HasPrefix(after.Login, "leaver") || !after.Enabled {
		t.Errorf("restored user login %q deleted_at %v enabled %v", after.Login, after.DeletedAt, after.Enabled)
	}
	if pt, _ := env.srv.Tenant(*u.PersonalTenantID); pt.DeletedAt != nil {
		t.Error("the personal tenant comes back with the user")
	}
}

func TestListUsers(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	a := env.api.createUser(tr.customer.ID, "a")
	b := env.api.createUser(tr.unit.ID, "b")
	c := env.api.createUser(tr.folder.ID, "c")
	ids := func(q string) ([]string, errCode) {
		r := env.api.do(http.MethodGet, "/users?"+q, nil)
		code := r.code(t)
		if r.status != 200 {
			return nil, code
		}
		var l TenantList
		mustUnmarshal(t, r.body, &l)
		out := []string{}
		for _, it := range l.Items {
			out = append(out, it["id"].(string))
		}
		return out, code
	}
	for name, tc := range map[string]struct {
		query string
		ids   []string
		want  errCode
	}{
		"Tenant":       {"tenant_id=" + tr.customer.ID, []string{a.ID}, errCode{Status: 200}},
		"Subtree":      {"subtree_root_tenant_id=" + tr.customer.ID, []string{a.ID, b.ID}, errCode{Status: 200}},
		"UUIDs":        {"uuids=" + c.ID + "," + a.ID, []string{a.ID, c.ID}, errCode{Status: 200}},
		"All":          {"", []string{a.ID, b.ID, c.ID}, errCode{Status: 200}},
		"Exclusive":    {"uuids=" + a.ID + "&tenant_id=" + tr.customer.ID, nil, errCode{400, 400}},
		"OutsideScope": {"tenant_id=" + env.boot.RootTenantID, nil, errCode{403, codeAccessDenied}},
		"BadLod":       {"lod=x", nil, errCode{400, 400}},
	} {
		t.Run(name, func(t *testing.T) {
			got, code := ids(tc.query)
			if diff := cmp.Diff(tc.want, code); diff != "" {
				t.Fatalf("-want +got:\n%s", diff)
			}
			if diff := cmp.Diff(tc.ids, got); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	t.Run("Paging", func(t *testing.T) {
		var all []string
		r := env.api.do(http.MethodGet, "/users?limit=1&lod=basic", nil)
		for range 10 {
			var l TenantList
			mustUnmarshal(t, r.body, &l)
			for _, it := range l.Items {
				all = append(all, it["id"].(string))
				if _, ok := it["contact"]; ok {
					t.Error("lod=basic must not carry contact")
				}
			}
			if l.Paging.Cursors.After == "" {
				break
			}
			r = env.api.do(http.MethodGet, "/users?after="+l.Paging.Cursors.After, nil)
		}
		if diff := cmp.Diff([]string{a.ID, b.ID, c.ID}, all); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
	})
}

func TestAccessPolicies(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	u := env.api.createUser(tr.customer.ID, "admin")
	item := func(tenant, role string) map[string]any {
		return map[string]any{"trustee_type": "user", "trustee_id": u.ID, "tenant_id": tenant, "role_id": role}
	}
	// put sends the items in the official body: a timestamp, and items with the fields the schema
	// requires; new policies carry the zero UUID as id and issuer_id, and version 0.
	put := func(items ...map[string]any) response {
		full := []map[string]any{}
		for _, it := range items {
			p := map[string]any{"id": zeroUUID, "version": 0, "created_at": wireStamp, "updated_at": wireStamp, "deleted_at": nil, "issuer_id": zeroUUID}
			for k, v := range it {
				p[k] = v
			}
			full = append(full, p)
		}
		return env.api.do(http.MethodPut, "/users/"+u.ID+"/access_policies", map[string]any{"timestamp": wireStamp, "items": full})
	}
	for name, tc := range map[string]struct {
		items []map[string]any
		want  errCode
	}{
		"UnknownRole":       {[]map[string]any{item(tr.customer.ID, "god")}, errCode{400, 400}},
		"WrongTrustee":      {[]map[string]any{{"trustee_type": "user", "trustee_id": tr.customer.ID, "tenant_id": tr.customer.ID, "role_id": "company_admin"}}, errCode{400, 400}},
		"WrongTrusteeType":  {[]map[string]any{{"trustee_type": "user_group", "trustee_id": u.ID, "tenant_id": tr.customer.ID, "role_id": "company_admin"}}, errCode{400, 400}},
		"TenantOutOfScope":  {[]map[string]any{item(env.boot.RootTenantID, "company_admin")}, errCode{403, codeAccessDenied}},
		"TenantNotUsers":    {[]map[string]any{item(tr.partner.ID, "partner_admin")}, errCode{400, 400}},
		"TenantMissing":     {[]map[string]any{item("00000000-0000-4000-8000-000000000000", "company_admin")}, errCode{404, codeTenantNotFound}},
		"UnknownItemField":  {[]map[string]any{{"trustee_type": "user", "trustee_id": u.ID, "tenant_id": tr.customer.ID, "role_id": "company_admin", "scope": "x"}}, errCode{Status: 200}}, // the official items are open
		"OkCompanyAdmin":    {[]map[string]any{item(tr.customer.ID, "company_admin")}, errCode{Status: 200}},
		"OkUnitAdminInUnit": {[]map[string]any{item(tr.customer.ID, "company_admin"), item(tr.unit.ID, "unit_admin")}, errCode{Status: 200}},
	} {
		t.Run(name, func(t *testing.T) {
			before, _ := env.srv.User(u.ID)
			r := put(tc.items...)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("-want +got:\n%s", diff)
			}
			after, _ := env.srv.User(u.ID)
			if r.status != 200 {
				if diff := cmp.Diff(before.AccessPolicies, after.AccessPolicies); diff != "" {
					t.Errorf("a refused PUT changed the policies:\n%s", diff)
				}
				return
			}
			type rt struct{ Role, Tenant string }
			var want, got []rt
			for _, it := range tc.items {
				want = append(want, rt{it["role_id"].(string), it["tenant_id"].(string)})
			}
			for _, p := range after.AccessPolicies {
				got = append(got, rt{p.RoleID, p.TenantID})
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stored policies -want +got:\n%s", diff)
			}
		})
	}

	// Reading and writing back what was read changes nothing.
	if r := put(item(tr.customer.ID, "company_admin"), item(tr.unit.ID, "unit_admin")); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r := env.api.do(http.MethodGet, "/users/"+u.ID+"/access_policies", nil)
	var read AccessPolicyList
	mustUnmarshal(t, r.body, &read)
	if len(read.Items) != 2 {
		t.Fatalf("GET access_policies = %s", r.body)
	}
	p := read.Items[0]
	if p.TrusteeType != "user" || p.TrusteeID != u.ID || p.IssuerID != env.boot.TenantID || !validUUID(p.ID) || p.Version == 0 || p.CreatedAt == "" || p.DeletedAt != nil {
		t.Errorf("policy item %+v lacks the reference's fields", p)
	}
	r = env.api.do(http.MethodPut, "/users/"+u.ID+"/access_policies", r.body)
	var again AccessPolicyList
	mustUnmarshal(t, r.body, &again)
	if diff := cmp.Diff(read.Items, again.Items); diff != "" {
		t.Errorf("writing back what was read must keep ids and versions -want +got:\n%s", diff)
	}
	if got, _ := env.srv.User(u.ID); len(got.AccessPolicies) != 2 {
		t.Errorf("user object carries %d policies, want 2", len(got.AccessPolicies))
	}
	// Empty items remove every role.
	if r := put(); r.status != 200 {
		t.Fatalf("clear: %d %s", r.status, r.body)
	}
	if got, _ := env.srv.User(u.ID); len(got.AccessPolicies) != 0 {
		t.Errorf("policies left after clearing: %+v", got.AccessPolicies)
	}
}

func TestAccessPoliciesSeedExample(t *testing.T) {
	env := startEmulator(t, Options{})
	u := env.api.createUser(env.boot.TenantID, "hci")
	// The reference's PUT example, with its user and tenant replaced by ours.
	body := `{"timestamp": "2016-06-22T18:25:16", "items": [
		{"trustee_type": "user", "trustee_id": "USER", "tenant_id": "TENANT", "resource_namespace": "hci", "resource_path": "res1",
		 "role_id": "hci_admin", "resource_server_id": "53a2a450-8e4e-11e7-96dd-f45c89947331", "version": 0,
		 "id": "00000000-0000-0000-0000-000000000005", "created_at": "1970-01-01T00:00:00Z", "updated_at": "2022-03-22T21:45:47Z",
		 "issuer_id": "TENANT", "deleted_at": null},
		{"trustee_type": "user", "trustee_id": "USER", "tenant_id": "TENANT", "resource_namespace": "physical_data_shipping",
		 "resource_path": "res4/res5", "role_id": "pds_operator", "resource_server_id": "53a2a450-8e4e-11e7-96dd-f45c89947331",
		 "version": 0, "id": "00000000-0000-0000-0000-000000000002", "created_at": "1970-01-01T00:00:00Z",
		 "updated_at": "2022-03-22T21:45:47Z", "issuer_id": "TENANT", "deleted_at": null}]}`
	body = strings.NewReplacer("USER", u.ID, "TENANT", env.boot.TenantID).Replace(body)
	r := env.api.do(http.MethodPut, "/users/"+u.ID+"/access_policies", body)
	if r.status != http.StatusOK {
		t.Fatalf("seed example: %d %s", r.status, r.body)
	}
	got, _ := env.srv.User(u.ID)
	var roles []string
	for _, p := range got.AccessPolicies {
		roles = append(roles, p.RoleID+"@"+p.ResourceNamespace)
	}
	if diff := cmp.Diff([]string{"hci_admin@hci", "pds_operator@physical_data_shipping"}, roles); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

func TestActivation(t *testing.T) {
	env := startEmulator(t, Options{})
	u := env.api.createUser(env.boot.TenantID, "newbie")
	noMail := env.api.do(http.MethodPost, "/users", map[string]any{"tenant_id": env.boot.TenantID, "login": "nomail"})
	var nm User
	mustUnmarshal(t, noMail.body, &nm)

	if r := env.api.do(http.MethodPost, "/users/"+u.ID+"/send-activation-email", nil); r.status != http.StatusNoContent {
		t.Fatalf("send-activation-email: %d %s", r.status, r.body)
	}
	if r := env.api.do(http.MethodPost, "/users/"+u.ID+"/send-activation-email", "{}"); r.status != http.StatusNoContent {
		t.Fatalf("send-activation-email with {}: %d %s", r.status, r.body)
	}
	if got := env.srv.ActivationEmails(u.ID); got != 2 {
		t.Errorf("activation mails = %d, want 2", got)
	}
	if diff := cmp.Diff(errCode{400, 400}, env.api.do(http.MethodPost, "/users/"+nm.ID+"/send-activation-email", nil).code(t)); diff != "" {
		t.Errorf("no email, no mail\n-want +got:\n%s", diff)
	}

	for name, tc := range map[string]struct {
		body any
		want errCode
	}{
		"Empty":        {map[string]any{"password": ""}, errCode{400, 400}},
		"UnknownField": {map[string]any{"password": "x", "old": "y"}, errCode{400, 400}},
		"Missing":      {map[string]any{}, errCode{400, 400}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, env.api.do(http.MethodPost, "/users/"+u.ID+"/password", tc.body).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	// The reference's example body.
	if r := env.api.do(http.MethodPost, "/users/"+u.ID+"/password", `{"password": "testSECRETpassword123"}`); r.status != http.StatusNoContent {
		t.Fatalf("password: %d %s", r.status, r.body)
	}
	got, _ := env.srv.User(u.ID)
	pw, _ := env.srv.Password(u.ID)
	if diff := cmp.Diff([]any{true, "testSECRETpassword123"}, []any{got.Activated, pw}); diff != "" {
		t.Errorf("activated and password -want +got:\n%s", diff)
	}
	if got.Version <= u.Version {
		t.Error("activation must change the user's version")
	}
	if diff := cmp.Diff(errCode{400, 400}, env.api.do(http.MethodPost, "/users/"+u.ID+"/send-activation-email", nil).code(t)); diff != "" {
		t.Errorf("an activated user gets no activation mail\n-want +got:\n%s", diff)
	}
}

func TestUserMFA(t *testing.T) {
	env := startEmulator(t, Options{})
	u := env.api.createUser(env.boot.TenantID, "mfa")
	r := env.api.do(http.MethodPut, "/users/"+u.ID+"/mfa/status", `{"enabled": true}`)
	if r.status != 200 || len(r.body) != 0 {
		t.Fatalf("want 200 without a body, got %d %q", r.status, r.body)
	}
	if got, _ := env.srv.User(u.ID); got.MFAStatus != "enabled" {
		t.Errorf("mfa_status %q", got.MFAStatus)
	}
	if diff := cmp.Diff(errCode{400, 400}, env.api.do(http.MethodPut, "/users/"+u.ID+"/mfa/status", `{}`).code(t)); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

func TestSearch(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	r := env.api.do(http.MethodPut, "/tenants/"+tr.folder.ID, map[string]any{"contact": map[string]any{"email": "boss@acme.test"}, "version": env.api.getTenant(tr.folder.ID).Version})
	if r.status != 200 {
		t.Fatal(string(r.body))
	}
	u := env.api.createUser(tr.customer.ID, "jdoe")
	type hit struct{ Type, ID string }
	search := func(q string) ([]hit, errCode) {
		r := env.api.do(http.MethodGet, "/search?"+q, nil)
		if r.status != 200 {
			return nil, r.code(t)
		}
		var res SearchResults
		mustUnmarshal(t, r.body, &res)
		out := []hit{}
		for _, it := range res.Items {
			out = append(out, hit{it.ObjType, it.ID})
		}
		return out, errCode{Status: 200}
	}
	for name, tc := range map[string]struct {
		query string
		hits  []hit
		want  errCode
	}{
		"TenantName":    {"tenant=" + tr.provider.ID + "&text=CUSTOMER", []hit{{"tenant", tr.customer2.ID}, {"tenant", tr.customer.ID}}, errCode{Status: 200}},
		"ContactEmail":  {"tenant=" + tr.provider.ID + "&text=acme.test", []hit{{"tenant", tr.folder.ID}}, errCode{Status: 200}},
		"UserLogin":     {"tenant=" + tr.provider.ID + "&text=JDo", []hit{{"user", u.ID}}, errCode{Status: 200}},
		"UserEmail":     {"tenant=" + tr.partner.ID + "&text=jdoe@example", []hit{{"user", u.ID}}, errCode{Status: 200}},
		"Limit":         {"tenant=" + tr.provider.ID + "&text=customer&limit=1", []hit{{"tenant", tr.customer2.ID}}, errCode{Status: 200}},
		"OtherSubtree":  {"tenant=" + tr.folder.ID + "&text=customer", []hit{}, errCode{Status: 200}},
		"MissingText":   {"tenant=" + tr.provider.ID, nil, errCode{400, 400}},
		"MissingTenant": {"text=x", nil, errCode{400, 400}},
		"UnknownTenant": {"tenant=00000000-0000-4000-8000-000000000000&text=x", nil, errCode{404, codeTenantNotFound}},
		"OutsideScope":  {"tenant=" + env.boot.RootTenantID + "&text=x", nil, errCode{403, codeAccessDenied}},
	} {
		t.Run(name, func(t *testing.T) {
			hits, code := search(tc.query)
			if diff := cmp.Diff(tc.want, code); diff != "" {
				t.Fatalf("-want +got:\n%s", diff)
			}
			if diff := cmp.Diff(tc.hits, hits); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	var res SearchResults
	mustUnmarshal(t, env.api.do(http.MethodGet, "/search?tenant="+tr.provider.ID+"&text=jdoe", nil).body, &res)
	if diff := cmp.Diff([]string{"Provider", "Partner", "Customer"}, res.Items[0].Path); diff != "" {
		t.Errorf("path -want +got:\n%s", diff)
	}
}
