package plugin

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

func TestBaseName(t *testing.T) {
	cases := map[string]struct {
		reason string
		in     string
		want   string
	}{
		"Plain":     {"Lower case, spaces to dashes.", "Acme GmbH", "acme-gmbh"},
		"Accents":   {"Western accents are spelled without them.", "Région Nord / Süd", "region-nord-sued"},
		"Symbols":   {"Runs of other characters are one dash, none at the ends.", "  ++Acme__(EU)++ ", "acme-eu"},
		"Empty":     {"A name of symbols only takes the fallback.", "!!!", "tenant"},
		"Long":      {"At most 63 characters, no dash at the end.", strings.Repeat("ab-", 30), strings.TrimRight(strings.Repeat("ab-", 21), "-")},
		"Login":     {"A login with @ and dots.", "Jane.Doe@Example.COM", "jane-doe-example-com"},
		"NonLatin":  {"Scripts without a spelling in a-z fall back.", "東京", "tenant"},
		"DigitsToo": {"Digits stay.", "Customer 007", "customer-007"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := baseName(tc.in, "tenant")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nbaseName(%q): -want +got:\n%s", tc.reason, tc.in, diff)
			}
			if len(got) > maxNameLength {
				t.Errorf("baseName(%q) is %d characters long", tc.in, len(got))
			}
		})
	}
}

func TestAssignNames(t *testing.T) {
	const (
		id1 = "11111111-0000-4000-8000-000000000001"
		id2 = "22222222-0000-4000-8000-000000000002"
		id3 = "33333333-0000-4000-8000-000000000003"
	)
	cases := map[string]struct {
		reason string
		in     []named
		want   map[string]string
	}{
		"Distinct": {"Distinct names are the names.", []named{{"Acme", id1}, {"Beta", id2}},
			map[string]string{id1: "acme", id2: "beta"}},
		"Collision": {"Names that collide all get an ID suffix: none keeps the plain name, so it does not depend on the order listed.",
			[]named{{"Acme GmbH", id1}, {"ACME gmbh", id2}}, map[string]string{id1: "acme-gmbh-11111111", id2: "acme-gmbh-22222222"}},
		"SuffixTaken": {"A suffixed name that another tenant has naturally takes the whole ID.",
			[]named{{"Acme", id1}, {"acme", id2}, {"Acme 22222222", id3}},
			map[string]string{id1: "acme-11111111", id2: "acme-22222222000040008000000000000002", id3: "acme-22222222"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := assignNames(tc.in, "tenant")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			rev := slices.Clone(tc.in)
			slices.Reverse(rev)
			if diff := cmp.Diff(got, assignNames(rev, "tenant")); diff != "" {
				t.Errorf("the names depend on the order listed: -forward +reversed:\n%s", diff)
			}
		})
	}
}

const cp = "app-cp"

func item(name string, on bool, quota ...int64) accountserver.OfferingItem {
	it := accountserver.OfferingItem{ApplicationID: cp, Name: name, Status: accountserver.ItemStatusOff, Quota: &accountserver.Quota{Version: 7}}
	if on {
		it.Status = accountserver.ItemStatusOn
	}
	if len(quota) > 0 {
		it.Quota.Value = ptr.To(quota[0])
	}
	if len(quota) > 1 {
		it.Quota.Overage = ptr.To(quota[1])
	}
	return it
}

func edition(it accountserver.OfferingItem, ed string) accountserver.OfferingItem {
	it.Edition = ed
	return it
}

func names(items []accountserver.OfferingItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func TestCustomItems(t *testing.T) {
	cases := map[string]struct {
		reason string
		kind   string
		items  []accountserver.OfferingItem
		parent []accountserver.OfferingItem
		want   []string
	}{
		"Inherited": {"On where the parent has it on, off where it has it off, unlimited: nothing to declare.", "partner",
			[]accountserver.OfferingItem{item("servers", true), item("vms", false)},
			[]accountserver.OfferingItem{item("servers", true), item("vms", false)}, nil},
		"TurnedOff": {"Off where the parent has it on.", "partner",
			[]accountserver.OfferingItem{item("servers", false)}, []accountserver.OfferingItem{item("servers", true)}, []string{"servers"}},
		"OwnItem": {"On where the parent has it off (a storage of the tenant's own, say).", "partner",
			[]accountserver.OfferingItem{item("servers", true)}, []accountserver.OfferingItem{item("servers", false)}, []string{"servers"}},
		"Quota": {"On with a soft or a hard quota.", "customer",
			[]accountserver.OfferingItem{item("servers", true, 10), item("vms", true), item("mobiles", true, 5, 6)},
			[]accountserver.OfferingItem{item("servers", true), item("vms", true), item("mobiles", true)}, []string{"mobiles", "servers"}},
		"QuotaWhileOff": {"A quota means nothing while the item is off (the operator does not compare it then).", "customer",
			[]accountserver.OfferingItem{item("servers", false, 10)}, []accountserver.OfferingItem{item("servers", false)}, nil},
		"CascadedOff": {"Off because the parent turned it off: inherited.", "customer",
			[]accountserver.OfferingItem{item("mobiles", false)}, []accountserver.OfferingItem{item("mobiles", false, 3)}, nil},
		"OneEdition": {"A customer holds one edition: the other edition's items being off is what it inherits.", "customer",
			[]accountserver.OfferingItem{edition(item("servers", true), "standard"), edition(item("adv_servers", false), "advanced")},
			[]accountserver.OfferingItem{edition(item("servers", true), "standard"), edition(item("adv_servers", true), "advanced")}, nil},
		"EditionAllOff": {"A customer with every item of an application off turned the inherited edition's items off.", "customer",
			[]accountserver.OfferingItem{edition(item("servers", false), "standard"), edition(item("adv_servers", false), "advanced")},
			[]accountserver.OfferingItem{edition(item("servers", true), "standard"), edition(item("adv_servers", true), "advanced")}, []string{"servers"}},
		"PartnerEditions": {"A partner holds every edition its parent offers.", "partner",
			[]accountserver.OfferingItem{edition(item("servers", true), "standard"), edition(item("adv_servers", false), "advanced")},
			[]accountserver.OfferingItem{edition(item("servers", true), "standard"), edition(item("adv_servers", true), "advanced")}, []string{"adv_servers"}},
		"Sorted": {"By application, name and storage.", "partner",
			[]accountserver.OfferingItem{item("vms", false), item("servers", false), {ApplicationID: "app-a", Name: "zz", Status: 1}},
			[]accountserver.OfferingItem{item("vms", true), item("servers", true)}, []string{"zz", "servers", "vms"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := names(customItems(tc.kind, tc.items, tc.parent))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// Fixture IDs: the connection's tenant, a partner, a folder below it, a
// customer below that; a second customer with a colliding name.
const (
	connID     = "00000000-0000-4000-8000-00000000c0de"
	partnerID  = "10000000-0000-4000-8000-000000000001"
	folderID   = "20000000-0000-4000-8000-000000000002"
	customerID = "30000000-0000-4000-8000-000000000003"
	twinID     = "40000000-0000-4000-8000-000000000004"
)

func fixture() *snapshot {
	cpItems := func(tenant string, servers bool, quota ...int64) []accountserver.OfferingItem {
		s := item("servers", servers, quota...)
		s.TenantID = tenant
		v := item("vms", true)
		v.TenantID = tenant
		return []accountserver.OfferingItem{s, v}
	}
	disabled := time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)
	return &snapshot{
		ConnTenantID: connID, RootID: connID,
		Tenants: []accountserver.Tenant{
			{ID: connID, Name: "Reseller", Kind: "partner", ParentID: "ffffffff-0000-4000-8000-000000000000", Enabled: true},
			{ID: partnerID, Name: "Acme Partner", Kind: "partner", ParentID: connID, Enabled: true, Language: "en", CustomerType: "default",
				AncestralAccess: true, MFAStatus: "disabled", PricingMode: "trial", Contact: accountserver.Contact{Email: "ops@acme.example", Firstname: "Ada", Title: "CTO"}},
			{ID: folderID, Name: "Région Nord", Kind: "folder", ParentID: partnerID, Enabled: true, Language: "fr", MFAStatus: "disabled", PricingMode: "trial"},
			{ID: customerID, Name: "Acme GmbH", Kind: "customer", ParentID: folderID, Enabled: false, Language: "de", CustomerType: "enterprise",
				MFAStatus: "enabled", PricingMode: "production", CustomerID: ptr.To("CRM-1"), Contact: accountserver.Contact{Email: "not an email", City: "Berlin"}},
			{ID: twinID, Name: "ACME gmbh", Kind: "customer", ParentID: partnerID, Enabled: true, Language: "xx-invalid-locale", MFAStatus: "disabled", PricingMode: "trial"},
		},
		Users: []accountserver.User{
			{ID: "a0000000-0000-4000-8000-000000000001", TenantID: connID, Login: "root-admin", Enabled: true, Language: "en",
				Contact: accountserver.Contact{Email: "root@reseller.example"}, MFAStatus: "disabled",
				AccessPolicies: []accountserver.AccessPolicy{{TenantID: connID, RoleID: "partner_admin"}}},
			{ID: "a0000000-0000-4000-8000-000000000002", TenantID: customerID, Login: "jane@acme.example", Enabled: false, Language: "de",
				Contact: accountserver.Contact{Email: "jane@acme.example", Firstname: "Jane"}, MFAStatus: "enabled",
				Notifications: []string{"reports", "quota", "quota"}, BusinessTypes: []string{"buyer"},
				DisableAfter: ptr.To(accountserver.NewTime(disabled)),
				AccessPolicies: []accountserver.AccessPolicy{
					{TenantID: customerID, RoleID: "company_admin"}, {TenantID: customerID, RoleID: "backup_user"},
					{TenantID: folderID, RoleID: "readonly_admin"}, {TenantID: customerID, RoleID: "made_up_role"},
				}},
			{ID: "a0000000-0000-4000-8000-000000000003", TenantID: twinID, Login: "no-email", Enabled: true, Contact: accountserver.Contact{Firstname: "Nobody"}},
			{ID: "a0000000-0000-4000-8000-000000000004", TenantID: twinID, Login: "fraction", Enabled: true, Contact: accountserver.Contact{Email: "f@acme.example"},
				Notifications: []string{"quota", "sms"}, DisableAfter: ptr.To(accountserver.NewTime(disabled.Add(time.Millisecond)))},
		},
		Items: map[string][]accountserver.OfferingItem{
			connID:     cpItems(connID, true),
			partnerID:  cpItems(partnerID, true, 100),
			folderID:   cpItems(folderID, true),
			customerID: cpItems(customerID, false),
			twinID:     cpItems(twinID, true),
		},
		Apps: []accountserver.Application{{ID: cp, Name: "Cyber Protection"}},
	}
}

func stream(t *testing.T, s *snapshot, o exportOptions) (string, *export) {
	t.Helper()
	ex, err := buildExport(s, o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeStream(&buf, ex); err != nil {
		t.Fatal(err)
	}
	return buf.String(), ex
}

var fixtureOptions = exportOptions{Connection: v1.AccountServerReference{Kind: "ClusterAccountServer", Name: "eu2"}, DeletionPolicy: v1.DeletionOrphan}

// TestExportGolden pins the whole output of a small subtree: what each
// kind declares, names, order. `go test ./internal/plugin -update`
// rewrites testdata/export.golden.
func TestExportGolden(t *testing.T) {
	got, ex := stream(t, fixture(), fixtureOptions)
	path := filepath.Join("testdata", "export.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("-want +got (go test ./internal/plugin -update rewrites it):\n%s", diff)
	}
	wantWarnings := []string{
		"tenant ACME gmbh (40000000-0000-4000-8000-000000000004): language \"xx-invalid-locale\" is not a locale the Tenant kind accepts; left unmanaged",
		"tenant Acme GmbH (30000000-0000-4000-8000-000000000003): contact.email \"not an email\" is not an address the CRD accepts; left unmanaged",
		"user jane@acme.example (a0000000-0000-4000-8000-000000000002): role \"made_up_role\" is not one the User kind knows; left as it is",
		"user no-email (a0000000-0000-4000-8000-000000000003): no contact email the User kind accepts (it is required); left out",
		"user fraction (a0000000-0000-4000-8000-000000000004): notifications [quota sms] include some the User kind does not know; left unmanaged",
		"user fraction (a0000000-0000-4000-8000-000000000004): disableAfter 2027-01-31 12:00:00.001 +0000 UTC has fractions of a second a manifest cannot carry; left unmanaged",
	}
	if diff := cmp.Diff(wantWarnings, ex.Warnings); diff != "" {
		t.Errorf("warnings: -want +got:\n%s", diff)
	}
}

// TestExportStable: the server's order of tenants, users and items does
// not change a byte of the output.
func TestExportStable(t *testing.T) {
	want, _ := stream(t, fixture(), fixtureOptions)
	s := fixture()
	slices.Reverse(s.Tenants[1:]) // the list puts parents first; siblings may come in any order
	slices.Reverse(s.Users)
	for _, items := range s.Items {
		slices.Reverse(items)
	}
	got, _ := stream(t, s, fixtureOptions)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-original order +reversed:\n%s", diff)
	}
}

func TestExportShape(t *testing.T) {
	_, ex := stream(t, fixture(), exportOptions{Connection: fixtureOptions.Connection, ObserveOnly: true, DeletionPolicy: v1.DeletionDelete})
	var dirs []string
	for _, n := range ex.Ordered {
		dirs = append(dirs, n.Dir)
	}
	if diff := cmp.Diff([]string{"reseller", "acme-partner", "acme-gmbh-40000000", "region-nord", "acme-gmbh-30000000"}, dirs); diff != "" {
		t.Errorf("order: parents first, siblings by name: -want +got:\n%s", diff)
	}
	root := ex.Ordered[0]
	if root.Tenant != nil || len(root.Quotas) != 0 {
		t.Errorf("the connection's own tenant cannot be adopted through it: got Tenant %v, %d quotas", root.Tenant, len(root.Quotas))
	}
	if len(root.Users) != 1 || root.Users[0].Spec.TenantID != connID || root.Users[0].Spec.TenantRef != nil {
		t.Errorf("a user of the connection's tenant names it by tenantID: %+v", root.Users)
	}
	for _, n := range ex.Ordered[1:] {
		m := n.Tenant.Spec.ManagedSpec
		if m.ManagementPolicy != v1.ManagementObserveOnly || m.ImportID != n.ID || m.DeletionPolicy != v1.DeletionDelete {
			t.Errorf("tenant %s: %+v", n.Dir, m)
		}
		for _, q := range n.Quotas {
			if q.Spec.ManagementPolicy != v1.ManagementObserveOnly || q.Spec.ImportID != n.ID {
				t.Errorf("quota %s: %+v", q.Name, q.Spec.ManagedSpec)
			}
		}
	}
	if p := ex.Ordered[1].Tenant.Spec; p.ParentRef != nil || p.ParentID != "" {
		t.Errorf("a child of the connection's tenant names no parent: %+v %q", p.ParentRef, p.ParentID)
	}
	if p := ex.Ordered[4].Tenant.Spec.ParentRef; p == nil || p.Name != "region-nord" {
		t.Errorf("below an exported tenant, parentRef: %+v", p)
	}
	tenants, users, quotas, items := ex.counts()
	if diff := cmp.Diff([]int{4, 3, 2, 2}, []int{tenants, users, quotas, items}); diff != "" {
		t.Errorf("counts (tenants, users, quotas, items): -want +got:\n%s", diff)
	}
}

// TestExportSubtreeRoot: the root of a --subtree export names its parent
// by UUID, and what it inherits is compared with the parent's items.
func TestExportSubtreeRoot(t *testing.T) {
	s := fixture()
	s.RootID = folderID
	s.Tenants = []accountserver.Tenant{s.Tenants[2], s.Tenants[3]}
	s.ParentItems = s.Items[partnerID]
	s.ParentItems[0].Status = accountserver.ItemStatusOff
	_, ex := stream(t, s, fixtureOptions)
	root := ex.Ordered[0]
	if root.Tenant == nil || root.Tenant.Spec.ParentID != partnerID || root.Tenant.Spec.ParentRef != nil {
		t.Fatalf("root: %+v", root.Tenant)
	}
	if len(root.Quotas) != 1 || root.Quotas[0].Spec.Items[0].Name != "servers" {
		t.Errorf("the root has servers on, its parent off: one custom item; got %+v", root.Quotas)
	}
}

func TestQuotaChunks(t *testing.T) {
	var items, parent []accountserver.OfferingItem
	for i := range 5 {
		name := string(rune('a' + i))
		items = append(items, item(name, false))
		parent = append(parent, item(name, true))
	}
	tn := &tenantExport{Dir: "acme", Tenant: &v1.Tenant{}}
	tn.Tenant.Name = "acme"
	got := quotaObjects(&accountserver.Tenant{ID: customerID, Kind: "partner"}, tn, items, parent, func(s string) string { return s },
		exportOptions{maxItemsPerQuota: 2})
	var shape []string
	for _, q := range got {
		shape = append(shape, q.Name+":"+strings.Join(func() []string {
			var n []string
			for _, it := range q.Spec.Items {
				n = append(n, it.Name)
			}
			return n
		}(), ","))
	}
	if diff := cmp.Diff([]string{"acme:a,b", "acme-2:c,d", "acme-3:e"}, shape); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}

func TestApplicationRefs(t *testing.T) {
	ref := applicationRefs([]accountserver.Application{
		{ID: "a1", Name: "Cyber Protection"}, {ID: "a2", Name: "Twin"}, {ID: "a3", Name: "twin"}, {ID: "a4", Name: "a1"}, {ID: "a5"},
	})
	got := []string{ref("a1"), ref("a2"), ref("a3"), ref("a4"), ref("a5"), ref("unknown")}
	if diff := cmp.Diff([]string{"Cyber Protection", "a2", "a3", "a4", "a5", "unknown"}, got); diff != "" {
		t.Errorf("by name only where the name resolves to the application alone: -want +got:\n%s", diff)
	}
}

func TestWriteDir(t *testing.T) {
	want, ex := stream(t, fixture(), fixtureOptions)
	dir := filepath.Join(t.TempDir(), "out")
	files, err := writeDir(dir, ex)
	if err != nil {
		t.Fatal(err)
	}
	top, err := os.ReadFile(filepath.Join(dir, kustomFile))
	if err != nil {
		t.Fatal(err)
	}
	wantTop := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- reseller\n- acme-partner\n- acme-gmbh-40000000\n- region-nord\n- acme-gmbh-30000000\n"
	if diff := cmp.Diff(wantTop, string(top)); diff != "" {
		t.Errorf("top kustomization: -want +got:\n%s", diff)
	}
	var joined strings.Builder
	n := 1
	for _, d := range []string{"reseller", "acme-partner", "acme-gmbh-40000000", "region-nord", "acme-gmbh-30000000"} {
		k, err := os.ReadFile(filepath.Join(dir, d, kustomFile))
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, l := range strings.Split(string(k), "\n") {
			if f, ok := strings.CutPrefix(l, "- "); ok {
				b, err := os.ReadFile(filepath.Join(dir, d, f))
				if err != nil {
					t.Fatal(err)
				}
				joined.Write(b)
				n++
			}
		}
	}
	if diff := cmp.Diff(want, joined.String()); diff != "" {
		t.Errorf("the directory's files, in kustomization order, are the stream: -stream +files:\n%s", diff)
	}
	if files != n {
		t.Errorf("wrote %d files, found %d", files, n)
	}
	if _, err := writeDir(dir, ex); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second export into the same directory: got %v, want a refusal", err)
	}
}

func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf)
	p.add("tenants", 3)
	p.request()
	p.done()
	if buf.Len() != 0 {
		t.Errorf("not a terminal: want nothing on stderr but the summary, got %q", buf.String())
	}
	p.on = true
	p.add("tenants", 2)
	p.done()
	if got := buf.String(); !strings.HasPrefix(got, "\rreading: 5 tenants, 0 users, 0 offering items (1 requests)") || !strings.HasSuffix(got, "\n") {
		t.Errorf("on a terminal: got %q", got)
	}
}
