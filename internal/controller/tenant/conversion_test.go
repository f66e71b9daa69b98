package tenant

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// fullSpecContact sets every contact field the spec has, each to a distinct
// value, so that a field compared with the wrong counterpart shows.
func fullSpecContact() *v1.Contact {
	return &v1.Contact{
		Email: "ops@acme.example", Firstname: "Grace", Lastname: "Hopper", Phone: "+1 555 0100",
		Address1: "1 Main St", Address2: "Suite 2", City: "Arlington", State: "VA",
		Zipcode: "22201", Country: "US",
	}
}

// fullServerContact is fullSpecContact as the server shows it, with fields
// the spec does not model.
func fullServerContact() accountserver.Contact {
	return accountserver.Contact{
		Email: "ops@acme.example", Firstname: "Grace", Lastname: "Hopper", Phone: "+1 555 0100",
		Address1: "1 Main St", Address2: "Suite 2", City: "Arlington", State: "VA",
		Zipcode: "22201", Country: "US",
		Title: "Rear Admiral", Website: "https://acme.example", Industry: "Navy", Fax: "+1 555 0199",
	}
}

// contactFields changes one contact field of the server's contact each.
var contactFields = map[string]func(*accountserver.Contact){
	"Email":     func(c *accountserver.Contact) { c.Email = "other@acme.example" },
	"Firstname": func(c *accountserver.Contact) { c.Firstname = "Other" },
	"Lastname":  func(c *accountserver.Contact) { c.Lastname = "Other" },
	"Phone":     func(c *accountserver.Contact) { c.Phone = "+1 555 0000" },
	"Address1":  func(c *accountserver.Contact) { c.Address1 = "Other street" },
	"Address2":  func(c *accountserver.Contact) { c.Address2 = "Other suite" },
	"City":      func(c *accountserver.Contact) { c.City = "Other city" },
	"State":     func(c *accountserver.Contact) { c.State = "MD" },
	"Zipcode":   func(c *accountserver.Contact) { c.Zipcode = "00000" },
	"Country":   func(c *accountserver.Contact) { c.Country = "CA" },
}

func TestRemoteName(t *testing.T) {
	cases := map[string]struct {
		reason      string
		name        string
		displayName string
		want        string
	}{
		"MetadataName": {"without a display name the tenant is named after the object", "acme", "", "acme"},
		"DisplayName":  {"the display name wins over metadata.name", "acme", "ACME Corp.", "ACME Corp."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := remoteName(&v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: tc.name}, Spec: v1.TenantSpec{DisplayName: tc.displayName}})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestWantEnabled(t *testing.T) {
	cases := map[string]struct {
		reason  string
		enabled *bool
		want    bool
	}{
		"Default":  {"a tenant is enabled unless the spec says otherwise", nil, true},
		"Enabled":  {"enabled: true is enabled", ptr.To(true), true},
		"Disabled": {"enabled: false is disabled", ptr.To(false), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := wantEnabled(&v1.Tenant{Spec: v1.TenantSpec{Enabled: tc.enabled}})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestToContact(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   *v1.Contact
		want   *accountserver.Contact
	}{
		"Nil":   {"no contact in the spec sends none", nil, nil},
		"Empty": {"an empty contact is sent as an empty one, not dropped", &v1.Contact{}, &accountserver.Contact{}},
		"Full": {"every field goes to its counterpart, and the fields the spec does not model are left empty",
			fullSpecContact(), &accountserver.Contact{
				Email: "ops@acme.example", Firstname: "Grace", Lastname: "Hopper", Phone: "+1 555 0100",
				Address1: "1 Main St", Address2: "Suite 2", City: "Arlington", State: "VA",
				Zipcode: "22201", Country: "US",
			}},
		"Partial": {"fields the spec leaves out are left out", &v1.Contact{Email: "a@acme.example", Zipcode: "10001"},
			&accountserver.Contact{Email: "a@acme.example", Zipcode: "10001"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, toContact(tc.spec)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestContactDiffers(t *testing.T) {
	type testCase struct {
		reason string
		want   *v1.Contact
		got    accountserver.Contact
		differ bool
	}
	cases := map[string]testCase{
		"Nil":        {"a spec without a contact manages none", nil, fullServerContact(), false},
		"NilEmpty":   {"a spec without a contact, a server without one", nil, accountserver.Contact{}, false},
		"Same":       {"every field equal, each compared with its own counterpart", fullSpecContact(), fullServerContact(), false},
		"NothingSet": {"an empty contact manages no field", &v1.Contact{}, fullServerContact(), false},
		"ServerEmpty": {"a field the spec sets and the server lacks differs", &v1.Contact{Email: "a@acme.example"},
			accountserver.Contact{}, true},
		"SubsetSame": {"fields the spec leaves out are the server's, whatever their value",
			&v1.Contact{Email: "ops@acme.example", Country: "US"}, fullServerContact(), false},
	}
	for field, change := range contactFields {
		got := fullServerContact()
		change(&got)
		cases[field+"Differs"] = testCase{field + " differs on the server", fullSpecContact(), got, true}
		unset := &v1.Contact{Email: "ops@acme.example"}
		if field == "Email" {
			unset = &v1.Contact{Firstname: "Grace"}
		}
		cases[field+"Unmanaged"] = testCase{field + " is not set in the spec: its value on the server is not compared", unset, got, false}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.differ, contactDiffers(tc.want, tc.got)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestToCreate(t *testing.T) {
	cases := map[string]struct {
		reason   string
		tenant   *v1.Tenant
		parentID string
		want     accountserver.TenantCreate
	}{
		"Minimal": {"named after the object, enabled by default (always sent), nothing else",
			&v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1.TenantSpec{Kind: v1.TenantCustomer}}, "p-1",
			accountserver.TenantCreate{Name: "acme", ParentID: "p-1", Kind: "customer", Enabled: ptr.To(true)}},
		"Disabled": {"a disabled tenant is created disabled",
			&v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1.TenantSpec{Kind: v1.TenantFolder, Enabled: ptr.To(false)}}, "p-1",
			accountserver.TenantCreate{Name: "acme", ParentID: "p-1", Kind: "folder", Enabled: ptr.To(false)}},
		"Everything": {"every field POST /tenants takes is sent; ancestralAccess false is sent, not dropped",
			&v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1.TenantSpec{
				DisplayName: "ACME Corp.", Kind: v1.TenantPartner, ParentID: "ignored: the parent is an argument",
				Enabled: ptr.To(true), Contact: fullSpecContact(), CustomerID: "crm-42", Language: "de",
				CustomerType: "enterprise", AncestralAccess: ptr.To(false), MFA: &v1.MFASpec{Enabled: true},
			}}, "p-2",
			accountserver.TenantCreate{
				Name: "ACME Corp.", ParentID: "p-2", Kind: "partner", Enabled: ptr.To(true),
				Contact: &accountserver.Contact{
					Email: "ops@acme.example", Firstname: "Grace", Lastname: "Hopper", Phone: "+1 555 0100",
					Address1: "1 Main St", Address2: "Suite 2", City: "Arlington", State: "VA",
					Zipcode: "22201", Country: "US",
				},
				CustomerID: "crm-42", Language: "de", AncestralAccess: ptr.To(false),
			}},
		"AncestralAccess": {"ancestralAccess true is sent",
			&v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1.TenantSpec{Kind: v1.TenantUnit, AncestralAccess: ptr.To(true)}}, "p-1",
			accountserver.TenantCreate{Name: "acme", ParentID: "p-1", Kind: "unit", Enabled: ptr.To(true), AncestralAccess: ptr.To(true)}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, toCreate(tc.tenant, tc.parentID)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTenantUpdate(t *testing.T) {
	const version, parent = 4, "p-1"
	spec := func(mutate func(*v1.TenantSpec)) *v1.Tenant {
		t := &v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: v1.TenantSpec{Kind: v1.TenantCustomer}}
		if mutate != nil {
			mutate(&t.Spec)
		}
		return t
	}
	server := func(mutate func(*accountserver.Tenant)) *accountserver.Tenant {
		t := &accountserver.Tenant{
			ID: "t-1", Version: version, Name: "acme", ParentID: parent, Kind: "customer", Enabled: true,
			Contact: fullServerContact(), CustomerID: ptr.To("crm-1"), Language: "en", CustomerType: "default",
			AncestralAccess: true, MFAStatus: "enabled",
		}
		if mutate != nil {
			mutate(t)
		}
		return t
	}
	cases := map[string]struct {
		reason     string
		spec       *v1.Tenant
		parentID   string
		got        *accountserver.Tenant
		want       accountserver.TenantUpdate
		wantFields []string
	}{
		"UpToDate": {"nothing the spec manages differs: only the version, and no field names",
			spec(nil), parent, server(nil), accountserver.TenantUpdate{Version: version}, nil},
		"Name": {"a tenant renamed on the server is named after the object again",
			spec(nil), parent, server(func(t *accountserver.Tenant) { t.Name = "acme-old" }),
			accountserver.TenantUpdate{Version: version, Name: ptr.To("acme")}, []string{"name"}},
		"DisplayName": {"the display name is the name on the server",
			spec(func(s *v1.TenantSpec) { s.DisplayName = "ACME Corp." }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, Name: ptr.To("ACME Corp.")}, []string{"name"}},
		"DisplayNameSame": {"a tenant already carrying the display name is not renamed",
			spec(func(s *v1.TenantSpec) { s.DisplayName = "ACME Corp." }), parent, server(func(t *accountserver.Tenant) { t.Name = "ACME Corp." }),
			accountserver.TenantUpdate{Version: version}, nil},
		"Kind": {"a differing kind is sent",
			spec(func(s *v1.TenantSpec) { s.Kind = v1.TenantPartner }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, Kind: ptr.To("partner")}, []string{"kind"}},
		"Parent": {"another parent moves the tenant",
			spec(nil), "p-2", server(nil),
			accountserver.TenantUpdate{Version: version, ParentID: ptr.To("p-2")}, []string{"parent"}},
		"EnabledByDefault": {"a spec without enabled enables a disabled tenant",
			spec(nil), parent, server(func(t *accountserver.Tenant) { t.Enabled = false }),
			accountserver.TenantUpdate{Version: version, Enabled: ptr.To(true)}, []string{"enabled"}},
		"Disable": {"enabled: false disables an enabled tenant; false is sent, not dropped",
			spec(func(s *v1.TenantSpec) { s.Enabled = ptr.To(false) }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, Enabled: ptr.To(false)}, []string{"enabled"}},
		"StaysDisabled": {"a disabled tenant the spec wants disabled is left alone",
			spec(func(s *v1.TenantSpec) { s.Enabled = ptr.To(false) }), parent, server(func(t *accountserver.Tenant) { t.Enabled = false }),
			accountserver.TenantUpdate{Version: version}, nil},
		"ContactUnmanaged": {"a spec without a contact leaves the server's alone",
			spec(nil), parent, server(func(t *accountserver.Tenant) { t.Contact = accountserver.Contact{Email: "x@y.example"} }),
			accountserver.TenantUpdate{Version: version}, nil},
		"ContactSame": {"a contact whose set fields match is not sent",
			spec(func(s *v1.TenantSpec) { s.Contact = &v1.Contact{Email: "ops@acme.example", City: "Arlington"} }), parent, server(nil),
			accountserver.TenantUpdate{Version: version}, nil},
		"Contact": {"a differing contact sends only the fields the spec sets",
			spec(func(s *v1.TenantSpec) { s.Contact = &v1.Contact{Email: "ops@acme.example", City: "Reston"} }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, Contact: &accountserver.Contact{Email: "ops@acme.example", City: "Reston"}},
			[]string{"contact"}},
		"CustomerIDUnmanaged": {"a spec without customerID leaves the server's alone",
			spec(nil), parent, server(nil), accountserver.TenantUpdate{Version: version}, nil},
		"CustomerIDSame": {"an equal customerID is not sent",
			spec(func(s *v1.TenantSpec) { s.CustomerID = "crm-1" }), parent, server(nil),
			accountserver.TenantUpdate{Version: version}, nil},
		"CustomerID": {"a differing customerID is sent",
			spec(func(s *v1.TenantSpec) { s.CustomerID = "crm-2" }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, CustomerID: ptr.To("crm-2")}, []string{"customerID"}},
		"CustomerIDNone": {"a customerID the server lacks (null) is sent",
			spec(func(s *v1.TenantSpec) { s.CustomerID = "crm-1" }), parent, server(func(t *accountserver.Tenant) { t.CustomerID = nil }),
			accountserver.TenantUpdate{Version: version, CustomerID: ptr.To("crm-1")}, []string{"customerID"}},
		"LanguageUnmanaged": {"a spec without language leaves the server's alone",
			spec(nil), parent, server(func(t *accountserver.Tenant) { t.Language = "fr" }),
			accountserver.TenantUpdate{Version: version}, nil},
		"LanguageSame": {"an equal language is not sent",
			spec(func(s *v1.TenantSpec) { s.Language = "en" }), parent, server(nil),
			accountserver.TenantUpdate{Version: version}, nil},
		"Language": {"a differing language is sent",
			spec(func(s *v1.TenantSpec) { s.Language = "de" }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, Language: ptr.To("de")}, []string{"language"}},
		"CustomerTypeUnmanaged": {"a spec without customerType leaves the server's alone",
			spec(nil), parent, server(func(t *accountserver.Tenant) { t.CustomerType = "consumer" }),
			accountserver.TenantUpdate{Version: version}, nil},
		"CustomerTypeSame": {"an equal customerType is not sent",
			spec(func(s *v1.TenantSpec) { s.CustomerType = "default" }), parent, server(nil),
			accountserver.TenantUpdate{Version: version}, nil},
		"CustomerType": {"a differing customerType is sent",
			spec(func(s *v1.TenantSpec) { s.CustomerType = "enterprise" }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, CustomerType: ptr.To("enterprise")}, []string{"customerType"}},
		"AncestralAccessUnmanaged": {"a spec without ancestralAccess leaves the server's alone",
			spec(nil), parent, server(func(t *accountserver.Tenant) { t.AncestralAccess = false }),
			accountserver.TenantUpdate{Version: version}, nil},
		"AncestralAccessSame": {"an equal ancestralAccess is not sent",
			spec(func(s *v1.TenantSpec) { s.AncestralAccess = ptr.To(true) }), parent, server(nil),
			accountserver.TenantUpdate{Version: version}, nil},
		"AncestralAccessOff": {"ancestralAccess false turns it off; false is sent, not dropped",
			spec(func(s *v1.TenantSpec) { s.AncestralAccess = ptr.To(false) }), parent, server(nil),
			accountserver.TenantUpdate{Version: version, AncestralAccess: ptr.To(false)}, []string{"ancestralAccess"}},
		"AncestralAccessOn": {"ancestralAccess true turns it on",
			spec(func(s *v1.TenantSpec) { s.AncestralAccess = ptr.To(true) }), parent, server(func(t *accountserver.Tenant) { t.AncestralAccess = false }),
			accountserver.TenantUpdate{Version: version, AncestralAccess: ptr.To(true)}, []string{"ancestralAccess"}},
		"NotInTheUpdate": {"MFA, pricing, applications and branding are not part of the tenant update",
			spec(func(s *v1.TenantSpec) {
				s.MFA = &v1.MFASpec{Enabled: false}
				s.Pricing = &v1.PricingSpec{Mode: v1.PricingProduction}
				s.Applications = []string{"Cyber Protection"}
				s.Branding = &v1.BrandingSpec{CompanyName: "ACME"}
			}), parent, server(nil), accountserver.TenantUpdate{Version: version}, nil},
		"Everything": {"every differing field is sent and named, in a stable order",
			spec(func(s *v1.TenantSpec) {
				s.DisplayName, s.Kind, s.Enabled = "ACME Corp.", v1.TenantFolder, ptr.To(false)
				s.Contact = &v1.Contact{Phone: "+1 555 0111"}
				s.CustomerID, s.Language, s.CustomerType, s.AncestralAccess = "crm-9", "de", "consumer", ptr.To(false)
			}), "p-9", server(nil),
			accountserver.TenantUpdate{
				Version: version, Name: ptr.To("ACME Corp."), Kind: ptr.To("folder"), ParentID: ptr.To("p-9"),
				Enabled: ptr.To(false), Contact: &accountserver.Contact{Phone: "+1 555 0111"}, CustomerID: ptr.To("crm-9"),
				Language: ptr.To("de"), CustomerType: ptr.To("consumer"), AncestralAccess: ptr.To(false),
			},
			[]string{"name", "kind", "parent", "enabled", "contact", "customerID", "language", "customerType", "ancestralAccess"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, fields := tenantUpdate(tc.spec, tc.parentID, tc.got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: update -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
				t.Errorf("%s: fields -want +got:\n%s", tc.reason, diff)
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
		"Unmanaged":        {"a spec without mfa never differs", nil, mfaEnabled, false},
		"UnmanagedOff":     {"a spec without mfa never differs", nil, mfaDisabled, false},
		"On":               {"on and on", &v1.MFASpec{Enabled: true}, mfaEnabled, false},
		"TurnOn":           {"on wanted, off on the server", &v1.MFASpec{Enabled: true}, mfaDisabled, true},
		"TurnOnFromEmpty":  {"on wanted, no status shown", &v1.MFASpec{Enabled: true}, "", true},
		"TurnOff":          {"off wanted, on on the server", &v1.MFASpec{Enabled: false}, mfaEnabled, true},
		"Off":              {"off and off", &v1.MFASpec{Enabled: false}, mfaDisabled, false},
		"OffNoStatusShown": {"no status shown is not on", &v1.MFASpec{Enabled: false}, "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mfaDiffers(&v1.Tenant{Spec: v1.TenantSpec{MFA: tc.mfa}}, &accountserver.Tenant{MFAStatus: tc.mfaStatus})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// fullBranding sets every branding option the spec has, each to a distinct
// value.
func fullBranding() *v1.BrandingSpec {
	return &v1.BrandingSpec{
		CompanyName: "ACME", ServiceName: "ACME Backup", Color: "0A5FAA", ColorScheme: "default",
		HomeURL: "https://acme.example", SupportURL: "https://acme.example/support", SupportPhone: "+1 555 0100",
		KnowledgeBaseURL: "https://acme.example/kb", HelpURL: "https://acme.example/help",
		UserGuideURL: "https://acme.example/guide", TermsURL: "https://acme.example/terms",
		PrivacyPolicyURL: "https://acme.example/privacy", BuyURL: "https://acme.example/buy",
	}
}

// fullBrandOptions is fullBranding as the server's options.
func fullBrandOptions() accountserver.Brand {
	return accountserver.Brand{
		CompanyName: "ACME", ServiceName: "ACME Backup", Color: "0A5FAA", ColorScheme: "default",
		HomeURL: "https://acme.example", SupportURL: "https://acme.example/support", SupportPhone: "+1 555 0100",
		KnowledgebaseURL: "https://acme.example/kb", HelpURL: "https://acme.example/help",
		UserGuideURL: "https://acme.example/guide", TermsURL: "https://acme.example/terms",
		PrivacyPolicyURL: "https://acme.example/privacy", UpsellURL: "https://acme.example/buy",
	}
}

// fullBrand is the server's brand with fullBranding's options and more.
func fullBrand() *accountserver.Brand {
	b := fullBrandOptions()
	b.ID, b.BrandID, b.TenantID, b.Version = "b-1", ptr.To[int64](17), "t-1", 3
	b.Logotype, b.PlatformTermsURL, b.SMTPServer = "logo-hash", "https://platform.example/terms", "smtp.acme.example"
	return &b
}

func TestBrandUpdate(t *testing.T) {
	type testCase struct {
		reason      string
		spec        *v1.BrandingSpec
		got         *accountserver.Brand
		want        accountserver.Brand
		wantDiffers bool
	}
	cases := map[string]testCase{
		"NoOptions": {"a branding that sets no option sends none and differs from nothing",
			&v1.BrandingSpec{Enabled: ptr.To(true)}, fullBrand(), accountserver.Brand{}, false},
		"NoOptionsNoBrand": {"no options, and a brand with no options yet",
			&v1.BrandingSpec{}, nil, accountserver.Brand{}, false},
		"NewBrand": {"a brand with no options yet (nil) lacks every option the spec sets",
			&v1.BrandingSpec{CompanyName: "ACME"}, nil, accountserver.Brand{CompanyName: "ACME"}, true},
		"Same": {"every option equal, each compared with its own counterpart; only the options are sent, never the brand's identity",
			fullBranding(), fullBrand(), fullBrandOptions(), false},
		"Partial": {"options the spec leaves out are the server's",
			&v1.BrandingSpec{CompanyName: "ACME", BuyURL: "https://acme.example/buy"}, fullBrand(),
			accountserver.Brand{CompanyName: "ACME", UpsellURL: "https://acme.example/buy"}, false},
		"PartialDiffers": {"only the options the spec sets are sent",
			&v1.BrandingSpec{CompanyName: "ACME Inc.", Logo: &v1.LogoSource{}}, fullBrand(),
			accountserver.Brand{CompanyName: "ACME Inc."}, true},
		"Disabled": {"enabled is not an option: the caller handles it",
			&v1.BrandingSpec{Enabled: ptr.To(false), CompanyName: "ACME"}, fullBrand(), accountserver.Brand{CompanyName: "ACME"}, false},
	}
	options := map[string]func(*accountserver.Brand){
		"CompanyName":      func(b *accountserver.Brand) { b.CompanyName = "Other" },
		"ServiceName":      func(b *accountserver.Brand) { b.ServiceName = "Other" },
		"Color":            func(b *accountserver.Brand) { b.Color = "FFFFFF" },
		"ColorScheme":      func(b *accountserver.Brand) { b.ColorScheme = "dark" },
		"HomeURL":          func(b *accountserver.Brand) { b.HomeURL = "https://other.example" },
		"SupportURL":       func(b *accountserver.Brand) { b.SupportURL = "https://other.example" },
		"SupportPhone":     func(b *accountserver.Brand) { b.SupportPhone = "+1 555 0000" },
		"KnowledgebaseURL": func(b *accountserver.Brand) { b.KnowledgebaseURL = "https://other.example" },
		"HelpURL":          func(b *accountserver.Brand) { b.HelpURL = "https://other.example" },
		"UserGuideURL":     func(b *accountserver.Brand) { b.UserGuideURL = "https://other.example" },
		"TermsURL":         func(b *accountserver.Brand) { b.TermsURL = "https://other.example" },
		"PrivacyPolicyURL": func(b *accountserver.Brand) { b.PrivacyPolicyURL = "https://other.example" },
		"UpsellURL":        func(b *accountserver.Brand) { b.UpsellURL = "https://other.example" },
	}
	for option, change := range options {
		got := fullBrand()
		change(got)
		cases[option+"Differs"] = testCase{option + " differs on the server: every option the spec sets is sent",
			fullBranding(), got, fullBrandOptions(), true}
		// The same server brand against a spec that leaves the option
		// out (CompanyName is the one option kept, or ServiceName when
		// CompanyName is the option changed).
		keep := &v1.BrandingSpec{CompanyName: "ACME"}
		want := accountserver.Brand{CompanyName: "ACME"}
		if option == "CompanyName" {
			keep, want = &v1.BrandingSpec{ServiceName: "ACME Backup"}, accountserver.Brand{ServiceName: "ACME Backup"}
		}
		cases[option+"Unmanaged"] = testCase{option + " is not set in the spec: its value on the server is not compared",
			keep, got, want, false}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, differs := brandUpdate(tc.spec, tc.got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: options -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantDiffers, differs); diff != "" {
				t.Errorf("%s: differs -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
