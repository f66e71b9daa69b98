package user

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
)

// sameInstantAndZone compares server times by instant and zone: cmp's
// default (time.Time.Equal) ignores the zone, and the operator sends UTC.
var sameInstantAndZone = cmp.Comparer(func(a, b accountserver.Time) bool {
	return a.Equal(b.Time) && a.Location().String() == b.Location().String()
})

// fullSpecContact sets every contact field the spec has, each to a distinct
// value, so that a field compared with the wrong counterpart shows.
func fullSpecContact() v1.Contact {
	return v1.Contact{
		Email: "ada@example.com", Firstname: "Ada", Lastname: "Lovelace", Phone: "+44 20 1234",
		Address1: "12 St James's Square", Address2: "Flat 3", City: "London", State: "Greater London",
		Zipcode: "SW1Y 4JH", Country: "GB",
	}
}

// fullServerContact is fullSpecContact as the server shows it, with fields
// the spec does not model.
func fullServerContact() accountserver.Contact {
	return accountserver.Contact{
		Email: "ada@example.com", Firstname: "Ada", Lastname: "Lovelace", Phone: "+44 20 1234",
		Address1: "12 St James's Square", Address2: "Flat 3", City: "London", State: "Greater London",
		Zipcode: "SW1Y 4JH", Country: "GB",
		Title: "Countess", Website: "https://example.com", Industry: "Computing", Fax: "+44 20 5678",
	}
}

// contactFields changes one contact field of the server's contact each.
var contactFields = map[string]func(*accountserver.Contact){
	"Email":     func(c *accountserver.Contact) { c.Email = "other@example.com" },
	"Firstname": func(c *accountserver.Contact) { c.Firstname = "Other" },
	"Lastname":  func(c *accountserver.Contact) { c.Lastname = "Other" },
	"Phone":     func(c *accountserver.Contact) { c.Phone = "+1 555 0100" },
	"Address1":  func(c *accountserver.Contact) { c.Address1 = "Other street" },
	"Address2":  func(c *accountserver.Contact) { c.Address2 = "Other flat" },
	"City":      func(c *accountserver.Contact) { c.City = "Other city" },
	"State":     func(c *accountserver.Contact) { c.State = "Other state" },
	"Zipcode":   func(c *accountserver.Contact) { c.Zipcode = "00000" },
	"Country":   func(c *accountserver.Contact) { c.Country = "FR" },
}

func TestWantEnabled(t *testing.T) {
	cases := map[string]struct {
		reason  string
		enabled *bool
		want    bool
	}{
		"Default":  {"a user is enabled unless the spec says otherwise", nil, true},
		"Enabled":  {"enabled: true is enabled", ptr.To(true), true},
		"Disabled": {"enabled: false is disabled", ptr.To(false), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := wantEnabled(&v1.User{Spec: v1.UserSpec{Enabled: tc.enabled}})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestToContact(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   v1.Contact
		want   accountserver.Contact
	}{
		"Empty": {"an empty contact stays empty", v1.Contact{}, accountserver.Contact{}},
		"Full": {"every field goes to its counterpart, and the fields the spec does not model are left empty",
			fullSpecContact(), accountserver.Contact{
				Email: "ada@example.com", Firstname: "Ada", Lastname: "Lovelace", Phone: "+44 20 1234",
				Address1: "12 St James's Square", Address2: "Flat 3", City: "London", State: "Greater London",
				Zipcode: "SW1Y 4JH", Country: "GB",
			}},
		"Partial": {"fields the spec leaves out are left out", v1.Contact{Email: "a@example.com", City: "Paris"},
			accountserver.Contact{Email: "a@example.com", City: "Paris"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tenant.ToContact(tc.spec)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestContactDiffers(t *testing.T) {
	type testCase struct {
		reason string
		want   v1.Contact
		got    accountserver.Contact
		differ bool
	}
	cases := map[string]testCase{
		"Same":       {"every field equal, each compared with its own counterpart", fullSpecContact(), fullServerContact(), false},
		"NothingSet": {"a spec that sets no field manages none", v1.Contact{}, fullServerContact(), false},
		"ServerEmpty": {"a field the spec sets and the server lacks differs", v1.Contact{Email: "a@example.com"},
			accountserver.Contact{}, true},
		"SubsetSame": {"fields the spec leaves out are the server's, whatever their value",
			v1.Contact{Email: "ada@example.com", Country: "GB"}, fullServerContact(), false},
		"BothEmpty": {"nothing set, nothing on the server", v1.Contact{}, accountserver.Contact{}, false},
	}
	for field, change := range contactFields {
		got := fullServerContact()
		change(&got)
		cases[field+"Differs"] = testCase{field + " differs on the server", fullSpecContact(), got, true}
		unset := v1.Contact{}
		if field != "Email" {
			unset.Email = "ada@example.com"
		} else {
			unset.Firstname = "Ada"
		}
		cases[field+"Unmanaged"] = testCase{field + " is not set in the spec: its value on the server is not compared", unset, got, false}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.differ, tenant.ContactDiffers(tc.want, tc.got)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestToCreate(t *testing.T) {
	berlin := time.FixedZone("CEST", 2*60*60)
	cases := map[string]struct {
		reason   string
		spec     v1.UserSpec
		tenantID string
		want     accountserver.UserCreate
	}{
		"Minimal": {"enabled defaults to true and is always sent; what the spec leaves out is left out",
			v1.UserSpec{Login: "ada", Contact: v1.Contact{Email: "ada@example.com"}}, "t-1",
			accountserver.UserCreate{
				TenantID: "t-1", Login: "ada", Contact: accountserver.Contact{Email: "ada@example.com"}, Enabled: ptr.To(true),
			}},
		"Disabled": {"a disabled user is created disabled",
			v1.UserSpec{Login: "ada", Contact: v1.Contact{Email: "ada@example.com"}, Enabled: ptr.To(false)}, "t-1",
			accountserver.UserCreate{
				TenantID: "t-1", Login: "ada", Contact: accountserver.Contact{Email: "ada@example.com"}, Enabled: ptr.To(false),
			}},
		"Everything": {"every field the spec sets is sent, disableAfter in UTC",
			v1.UserSpec{
				Login: "ada", Contact: fullSpecContact(), Enabled: ptr.To(true), Language: "en",
				BusinessTypes: []string{"buyer"}, Notifications: []string{"quota", "reports"},
				DisableAfter: ptr.To(metav1.NewTime(time.Date(2026, 7, 1, 12, 0, 0, 0, berlin))),
				Roles:        []string{"company_admin"}, MFA: &v1.MFASpec{Enabled: true},
			}, "t-2",
			accountserver.UserCreate{
				TenantID: "t-2", Login: "ada", Contact: tenant.ToContact(fullSpecContact()), Enabled: ptr.To(true), Language: "en",
				BusinessTypes: []string{"buyer"}, Notifications: &[]string{"quota", "reports"},
				DisableAfter: ptr.To(accountserver.NewTime(time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC))),
			}},
		"NoNotifications": {"an empty notification list is sent as an empty list (all off), not dropped to the server's default",
			v1.UserSpec{Login: "ada", Contact: v1.Contact{Email: "ada@example.com"}, Notifications: []string{}}, "t-1",
			accountserver.UserCreate{
				TenantID: "t-1", Login: "ada", Contact: accountserver.Contact{Email: "ada@example.com"}, Enabled: ptr.To(true),
				Notifications: &[]string{},
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := toCreate(&v1.User{Spec: tc.spec}, tc.tenantID)
			if diff := cmp.Diff(tc.want, got, sameInstantAndZone); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestUserUpdate(t *testing.T) {
	const version = 7
	at := func(h int, loc *time.Location) time.Time { return time.Date(2026, 7, 1, h, 0, 0, 0, loc) }
	tokyo := time.FixedZone("JST", 9*60*60)
	spec := func(mutate func(*v1.UserSpec)) *v1.User {
		u := &v1.User{Spec: v1.UserSpec{Login: "ada", Contact: v1.Contact{Email: "ada@example.com", Firstname: "Ada"}}}
		if mutate != nil {
			mutate(&u.Spec)
		}
		return u
	}
	server := func(mutate func(*accountserver.User)) *accountserver.User {
		u := &accountserver.User{
			ID: "u-1", Version: version, TenantID: "t-1", Login: "ada", Enabled: true, Language: "en",
			Contact:       accountserver.Contact{Email: "ada@example.com", Firstname: "Ada", Lastname: "Lovelace", Title: "Countess"},
			Notifications: []string{"quota", "reports"},
			DisableAfter:  ptr.To(accountserver.NewTime(at(10, time.UTC))),
		}
		if mutate != nil {
			mutate(u)
		}
		return u
	}
	cases := map[string]struct {
		reason     string
		spec       *v1.User
		got        *accountserver.User
		want       accountserver.UserUpdate
		wantFields []string
	}{
		"UpToDate": {"nothing the spec manages differs: only the version, and no field names",
			spec(nil), server(nil), accountserver.UserUpdate{Version: version}, nil},
		"Contact": {"a differing contact sends the spec's whole contact",
			spec(func(s *v1.UserSpec) { s.Contact.Lastname = "Byron" }), server(nil),
			accountserver.UserUpdate{Version: version, Contact: &accountserver.Contact{Email: "ada@example.com", Firstname: "Ada", Lastname: "Byron"}},
			[]string{"contact"}},
		"ContactServerOnly": {"contact fields the spec leaves out are not compared",
			spec(nil), server(func(u *accountserver.User) { u.Contact.Phone = "+44 20 1234" }),
			accountserver.UserUpdate{Version: version}, nil},
		"EnabledByDefault": {"a spec without enabled enables a disabled user",
			spec(nil), server(func(u *accountserver.User) { u.Enabled = false }),
			accountserver.UserUpdate{Version: version, Enabled: ptr.To(true)}, []string{"enabled"}},
		"Disable": {"enabled: false disables an enabled user",
			spec(func(s *v1.UserSpec) { s.Enabled = ptr.To(false) }), server(nil),
			accountserver.UserUpdate{Version: version, Enabled: ptr.To(false)}, []string{"enabled"}},
		"StaysDisabled": {"a disabled user the spec wants disabled is left alone",
			spec(func(s *v1.UserSpec) { s.Enabled = ptr.To(false) }), server(func(u *accountserver.User) { u.Enabled = false }),
			accountserver.UserUpdate{Version: version}, nil},
		"Language": {"a differing language is sent",
			spec(func(s *v1.UserSpec) { s.Language = "de" }), server(nil),
			accountserver.UserUpdate{Version: version, Language: ptr.To("de")}, []string{"language"}},
		"LanguageSame": {"an equal language is not sent",
			spec(func(s *v1.UserSpec) { s.Language = "en" }), server(nil),
			accountserver.UserUpdate{Version: version}, nil},
		"LanguageUnmanaged": {"a spec without language leaves the server's alone",
			spec(nil), server(func(u *accountserver.User) { u.Language = "fr" }),
			accountserver.UserUpdate{Version: version}, nil},
		"Notifications": {"a differing set of notifications is sent whole",
			spec(func(s *v1.UserSpec) { s.Notifications = []string{"quota"} }), server(nil),
			accountserver.UserUpdate{Version: version, Notifications: ptr.To([]string{"quota"})}, []string{"notifications"}},
		"NotificationsAdded": {"a notification the server lacks differs",
			spec(func(s *v1.UserSpec) { s.Notifications = []string{"quota", "reports", "backup_error"} }), server(nil),
			accountserver.UserUpdate{Version: version, Notifications: ptr.To([]string{"quota", "reports", "backup_error"})}, []string{"notifications"}},
		"NotificationsOrder": {"notifications are a set: order and repeats do not matter",
			spec(func(s *v1.UserSpec) { s.Notifications = []string{"reports", "quota", "reports"} }), server(nil),
			accountserver.UserUpdate{Version: version}, nil},
		"NotificationsCleared": {"an empty list turns every notification off: a pointer to an empty (not nil) list is sent",
			spec(func(s *v1.UserSpec) { s.Notifications = []string{} }), server(nil),
			accountserver.UserUpdate{Version: version, Notifications: ptr.To([]string{})}, []string{"notifications"}},
		"NotificationsNoneAlready": {"an empty list matches a user with none",
			spec(func(s *v1.UserSpec) { s.Notifications = []string{} }), server(func(u *accountserver.User) { u.Notifications = nil }),
			accountserver.UserUpdate{Version: version}, nil},
		"NotificationsUnmanaged": {"a spec without notifications leaves the server's alone",
			spec(nil), server(func(u *accountserver.User) { u.Notifications = []string{"backup_info"} }),
			accountserver.UserUpdate{Version: version}, nil},
		"DisableAfterNew": {"a disableAfter the server lacks is sent, in UTC",
			spec(func(s *v1.UserSpec) { s.DisableAfter = ptr.To(metav1.NewTime(at(19, tokyo))) }),
			server(func(u *accountserver.User) { u.DisableAfter = nil }),
			accountserver.UserUpdate{Version: version, DisableAfter: ptr.To(accountserver.NewTime(at(10, time.UTC)))}, []string{"disableAfter"}},
		"DisableAfterChanged": {"a differing disableAfter is sent, in UTC",
			spec(func(s *v1.UserSpec) { s.DisableAfter = ptr.To(metav1.NewTime(at(20, tokyo))) }), server(nil),
			accountserver.UserUpdate{Version: version, DisableAfter: ptr.To(accountserver.NewTime(at(11, time.UTC)))}, []string{"disableAfter"}},
		"DisableAfterSameInstant": {"the same instant in another zone is not a change",
			spec(func(s *v1.UserSpec) { s.DisableAfter = ptr.To(metav1.NewTime(at(19, tokyo))) }), server(nil),
			accountserver.UserUpdate{Version: version}, nil},
		"DisableAfterUnmanaged": {"a spec without disableAfter leaves the server's alone",
			spec(nil), server(nil), accountserver.UserUpdate{Version: version}, nil},
		"IgnoredFields": {"login, business types, roles and MFA are not part of the user update",
			spec(func(s *v1.UserSpec) {
				s.Login, s.BusinessTypes, s.Roles, s.MFA = "other", []string{"buyer"}, []string{"company_admin"}, &v1.MFASpec{Enabled: true}
			}), server(nil), accountserver.UserUpdate{Version: version}, nil},
		"Everything": {"every differing field is sent and named, in a stable order",
			spec(func(s *v1.UserSpec) {
				s.Contact.Email = "ada@example.org"
				s.Enabled = ptr.To(false)
				s.Language = "de"
				s.Notifications = []string{"backup_error"}
				s.DisableAfter = ptr.To(metav1.NewTime(at(12, time.UTC)))
			}), server(nil),
			accountserver.UserUpdate{
				Version: version, Contact: &accountserver.Contact{Email: "ada@example.org", Firstname: "Ada"},
				Enabled: ptr.To(false), Language: ptr.To("de"), Notifications: ptr.To([]string{"backup_error"}),
				DisableAfter: ptr.To(accountserver.NewTime(at(12, time.UTC))),
			},
			[]string{"contact", "enabled", "language", "notifications", "disableAfter"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, fields := userUpdate(tc.spec, tc.got)
			if diff := cmp.Diff(tc.want, got, sameInstantAndZone); diff != "" {
				t.Errorf("%s: update -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
				t.Errorf("%s: fields -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestUserUpdateCopiesNotifications: the update carries its own copy of the
// notifications, so changing it does not change the spec.
func TestUserUpdateCopiesNotifications(t *testing.T) {
	u := &v1.User{Spec: v1.UserSpec{Notifications: []string{"quota"}}}
	up, _ := userUpdate(u, &accountserver.User{Enabled: true})
	if up.Notifications == nil {
		t.Fatal("userUpdate did not send the notifications")
	}
	(*up.Notifications)[0] = "changed"
	if diff := cmp.Diff([]string{"quota"}, u.Spec.Notifications); diff != "" {
		t.Errorf("the update shares the spec's notifications: -want +got:\n%s", diff)
	}
}

func TestSameSet(t *testing.T) {
	cases := map[string]struct {
		reason string
		a, b   []string
		want   bool
	}{
		"BothNil":     {"nothing and nothing", nil, nil, true},
		"NilAndEmpty": {"nil and an empty list are the same set", nil, []string{}, true},
		"Equal":       {"the same elements in the same order", []string{"a", "b"}, []string{"a", "b"}, true},
		"Order":       {"order does not matter", []string{"b", "a"}, []string{"a", "b"}, true},
		"Repeats":     {"repeats do not matter", []string{"a", "a", "b"}, []string{"b", "a"}, true},
		"Different":   {"other elements", []string{"a", "b"}, []string{"a", "c"}, false},
		"Subset":      {"a strict subset is not the same set", []string{"a"}, []string{"a", "b"}, false},
		"Superset":    {"a strict superset is not the same set", []string{"a", "b"}, []string{"b"}, false},
		"OneEmpty":    {"an empty set is not a non-empty one", []string{}, []string{"a"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a, b := slices.Clone(tc.a), slices.Clone(tc.b)
			if diff := cmp.Diff(tc.want, sameSet(a, b)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.a, a); diff != "" {
				t.Errorf("%s: sameSet changed its first argument: -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.b, b); diff != "" {
				t.Errorf("%s: sameSet changed its second argument: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDesiredPolicies(t *testing.T) {
	const userID, tenantID, other = "u-1", "t-1", "t-other"
	// existing is a policy as the server lists it.
	existing := func(id, tenant, role string) accountserver.AccessPolicy {
		return accountserver.AccessPolicy{ID: id, Version: 2, TrusteeType: "user", TrusteeID: userID, TenantID: tenant, IssuerID: "i-1", RoleID: role}
	}
	added := func(role string) accountserver.AccessPolicy {
		return accountserver.NewAccessPolicy(userID, tenantID, role)
	}
	user := func(roles, managedBefore []string) *v1.User {
		return &v1.User{Spec: v1.UserSpec{Roles: roles}, Status: v1.UserStatus{ManagedRoles: managedBefore}}
	}
	cases := map[string]struct {
		reason      string
		user        *v1.User
		current     []accountserver.AccessPolicy
		want        []accountserver.AccessPolicy
		wantChanged bool
	}{
		"Nothing": {"no roles and no policies", user(nil, nil), nil, nil, false},
		"AddRole": {"a role of the spec the user lacks is added as a new policy on the user's tenant",
			user([]string{"company_admin"}, nil), nil,
			[]accountserver.AccessPolicy{added("company_admin")}, true},
		"HasRole": {"a role the user has on its tenant is kept as it is",
			user([]string{"company_admin"}, []string{"company_admin"}),
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "company_admin")},
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "company_admin")}, false},
		"HasRoleNotOurs": {"a role of the spec someone else gave is not given again",
			user([]string{"company_admin"}, nil),
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "company_admin")},
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "company_admin")}, false},
		"DropManaged": {"a role the operator gave and the spec dropped is removed",
			user(nil, []string{"backup_user"}),
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "backup_user")},
			nil, true},
		"DropManagedKeepOthers": {"removing one policy keeps the others, in order",
			user([]string{"company_admin"}, []string{"company_admin", "backup_user"}),
			[]accountserver.AccessPolicy{
				existing("p-1", tenantID, "company_admin"), existing("p-2", tenantID, "backup_user"), existing("p-3", other, "partner_admin"),
			},
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "company_admin"), existing("p-3", other, "partner_admin")}, true},
		"KeepForeign": {"a policy the operator did not make stays, even when the spec does not list its role",
			user(nil, nil),
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "readonly_admin")},
			[]accountserver.AccessPolicy{existing("p-1", tenantID, "readonly_admin")}, false},
		"KeepManagedRoleOnOtherTenant": {"a managed role dropped from the spec is removed on the user's tenant only",
			user(nil, []string{"company_admin"}),
			[]accountserver.AccessPolicy{existing("p-1", other, "company_admin")},
			[]accountserver.AccessPolicy{existing("p-1", other, "company_admin")}, false},
		"OtherTenantDoesNotCount": {"the role on another tenant does not give it on the user's tenant",
			user([]string{"company_admin"}, nil),
			[]accountserver.AccessPolicy{existing("p-1", other, "company_admin")},
			[]accountserver.AccessPolicy{existing("p-1", other, "company_admin"), added("company_admin")}, true},
		"ReAdd": {"a managed role whose policy was removed on the server is given again",
			user([]string{"company_admin"}, []string{"company_admin"}), nil,
			[]accountserver.AccessPolicy{added("company_admin")}, true},
		"Mixed": {"current policies first, in their order, minus the dropped ones; then new roles in the spec's order",
			user([]string{"sync_share_user", "company_admin", "backup_user"}, []string{"company_admin", "protection_admin"}),
			[]accountserver.AccessPolicy{
				existing("p-1", other, "partner_admin"), existing("p-2", tenantID, "protection_admin"),
				existing("p-3", tenantID, "company_admin"), existing("p-4", tenantID, "readonly_admin"),
			},
			[]accountserver.AccessPolicy{
				existing("p-1", other, "partner_admin"), existing("p-3", tenantID, "company_admin"), existing("p-4", tenantID, "readonly_admin"),
				added("sync_share_user"), added("backup_user"),
			}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, changed := desiredPolicies(tc.user, userID, tenantID, tc.current)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: policies -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantChanged, changed); diff != "" {
				t.Errorf("%s: changed -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMFADiffers(t *testing.T) {
	cases := map[string]struct {
		reason    string
		mfa       *v1.MFASpec
		mfaStatus string
		want      bool
	}{
		"Unmanaged":        {"a spec without mfa never differs", nil, "enabled", false},
		"UnmanagedOff":     {"a spec without mfa never differs", nil, "disabled", false},
		"On":               {"on and on", &v1.MFASpec{Enabled: true}, mfaEnabled, false},
		"TurnOn":           {"on wanted, off on the server", &v1.MFASpec{Enabled: true}, "disabled", true},
		"TurnOnFromEmpty":  {"on wanted, no status shown", &v1.MFASpec{Enabled: true}, "", true},
		"TurnOff":          {"off wanted, on on the server", &v1.MFASpec{Enabled: false}, mfaEnabled, true},
		"Off":              {"off and off", &v1.MFASpec{Enabled: false}, "disabled", false},
		"OffNoStatusShown": {"no status shown is not on", &v1.MFASpec{Enabled: false}, "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mfaDiffers(&v1.User{Spec: v1.UserSpec{MFA: tc.mfa}}, &accountserver.User{MFAStatus: tc.mfaStatus})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
