package accountserver_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/wire"
)

// conformingTransport checks every request the client sends against the official wire schema,
// on its own (not through the emulator's validation), and more strictly than the server: a
// query parameter the operation does not declare is a violation too, because the server would
// silently ignore it.
type conformingTransport struct {
	base http.RoundTripper
	spec *wire.Spec

	mu         sync.Mutex
	violations []string
	operations []string
}

func (c *conformingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		_ = r.Body.Close()
		body = b
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	path := strings.TrimPrefix(r.URL.Path, "/api/2")
	op, params := c.spec.Match(r.Method, path)
	c.mu.Lock()
	defer func() { c.mu.Unlock() }()
	if op == nil {
		c.violations = append(c.violations, fmt.Sprintf("%s %s: no such operation in the official document", r.Method, r.URL.Path))
	} else {
		c.operations = append(c.operations, op.String())
		declared := op.QueryParams()
		for name := range r.URL.Query() {
			if !slices.Contains(declared, name) {
				c.violations = append(c.violations, fmt.Sprintf("%s: query parameter %q is not declared", op, name))
			}
		}
		headers := map[string]string{}
		if len(body) > 0 {
			headers["Content-Length"] = fmt.Sprint(len(body))
		}
		if v := op.ValidateRequest(wire.Request{PathParams: params, Query: r.URL.Query(), Header: headers,
			ContentType: r.Header.Get("Content-Type"), Body: body}); v != nil {
			c.violations = append(c.violations, fmt.Sprintf("%s: %v (body %s)", op, v, body))
		}
	}
	c.mu.Unlock()
	resp, err := c.base.RoundTrip(r)
	c.mu.Lock()
	return resp, err
}

func (c *conformingTransport) take() (violations, operations []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	violations, operations = c.violations, c.operations
	c.violations, c.operations = nil, nil
	return violations, operations
}

// wireFixture is what the rows work on: one object of each kind on the emulator.
type wireFixture struct {
	boot                   emulator.Bootstrap
	partner, customer      *accountserver.Tenant
	user                   *accountserver.User
	client                 *accountserver.CreatedClient
	location               *accountserver.Location
	infra                  *accountserver.Infra
	report                 *accountserver.Report
	png                    []byte
	cyberProtection        string
	monthlyReportRecipient string
}

// conformanceRow calls one client method the way the controllers do.
type conformanceRow func(ctx context.Context, c *accountserver.Client, f *wireFixture) error

// notSending lists the exported methods of *Client that send no request.
var notSending = []string{"Available", "Circuit", "ClientID", "ExternalLoginURL", "Format", "GoString", "MarshalLog", "String", "URL", "WakeDelay"}

// TestClientRequestsConformToTheOfficialSchema builds every request the client can send and
// checks it against the official wire schema. A new method of *Client that sends a request
// needs a row here, or the test fails.
func TestClientRequestsConformToTheOfficialSchema(t *testing.T) {
	rows := map[string]conformanceRow{
		"Token": func(ctx context.Context, c *accountserver.Client, _ *wireFixture) error {
			_, err := c.Token(ctx)
			return err
		},
		"WhoAmI": func(ctx context.Context, c *accountserver.Client, _ *wireFixture) error {
			_, err := c.WhoAmI(ctx)
			return err
		},
		"CheckCredentials": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			return c.CheckCredentials(ctx, f.client.ClientID, f.client.ClientSecret)
		},
		// Tenants.
		"GetTenant": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetTenant(ctx, f.customer.ID, accountserver.WithDeleted())
			return err
		},
		"GetTenants": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetTenants(ctx, []string{f.customer.ID, f.partner.ID})
			return err
		},
		"ListTenants": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			for _, err := range c.ListTenants(ctx, accountserver.TenantQuery{SubtreeRootID: f.partner.ID, Lod: "basic", Limit: 1,
				UpdatedSince: time.Now().Add(-time.Hour), AllowDeleted: true}) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"ListAllTenants": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.ListAllTenants(ctx, accountserver.TenantQuery{ParentID: f.partner.ID})
			return err
		},
		"FindTenantByName": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.FindTenantByName(ctx, f.partner.ID, f.customer.Name)
			return err
		},
		"TenantChildren": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.TenantChildren(ctx, f.partner.ID)
			return err
		},
		"TenantUserIDs": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.TenantUserIDs(ctx, f.customer.ID)
			return err
		},
		"TenantApplicationIDs": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.TenantApplicationIDs(ctx, f.customer.ID)
			return err
		},
		"TenantReportIDs": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.TenantReportIDs(ctx, f.customer.ID)
			return err
		},
		"CreateTenant": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CreateTenant(ctx, accountserver.TenantCreate{Name: "conformance-created", ParentID: f.partner.ID, Kind: accountserver.KindCustomer,
				Contact: &accountserver.Contact{Email: "a@example.com", Firstname: "A"}, Enabled: ptr.To(true), CustomerID: "c-1",
				Language: "en", AncestralAccess: ptr.To(true)})
			return err
		},
		"UpdateTenant": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			cur, err := c.GetTenant(ctx, f.customer.ID)
			if err != nil {
				return err
			}
			_, err = c.UpdateTenant(ctx, f.customer.ID, accountserver.TenantUpdate{Version: cur.Version, Name: ptr.To(cur.Name),
				Contact: &accountserver.Contact{Email: "b@example.com", Phone: "1"}, CustomerID: ptr.To("c-2"), Language: ptr.To("de"),
				CustomerType: ptr.To("default"), AncestralAccess: ptr.To(true), Enabled: ptr.To(true)})
			return err
		},
		"DeleteTenant": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			tn, err := c.CreateTenant(ctx, accountserver.TenantCreate{Name: "conformance-deleted", ParentID: f.partner.ID, Kind: accountserver.KindCustomer})
			if err != nil {
				return err
			}
			off, err := c.UpdateTenant(ctx, tn.ID, accountserver.TenantUpdate{Version: tn.Version, Enabled: ptr.To(false)})
			if err != nil {
				return err
			}
			return c.DeleteTenant(ctx, tn.ID, off.Version)
		},
		"RestoreTenant": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			tn, err := c.CreateTenant(ctx, accountserver.TenantCreate{Name: "conformance-restored", ParentID: f.partner.ID, Kind: accountserver.KindCustomer, Enabled: ptr.To(false)})
			if err != nil {
				return err
			}
			if err := c.DeleteTenant(ctx, tn.ID, tn.Version); err != nil {
				return err
			}
			return c.RestoreTenant(ctx, tn.ID, true)
		},
		"GetPricing": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetPricing(ctx, f.customer.ID)
			return err
		},
		"UpdatePricing": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			p, err := c.GetPricing(ctx, f.customer.ID)
			if err != nil {
				return err
			}
			_, err = c.UpdatePricing(ctx, f.customer.ID, accountserver.Pricing{Mode: accountserver.PricingTrial, Currency: ptr.To("EUR"), Version: p.Version})
			return err
		},
		"GetTenantMFA": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetTenantMFA(ctx, f.customer.ID)
			return err
		},
		"SetTenantMFA": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			return c.SetTenantMFA(ctx, f.customer.ID, true)
		},
		"Search": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.Search(ctx, f.partner.ID, "conformance", 5)
			return err
		},
		// Branding.
		"EnableBrand": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			tn, err := c.CreateTenant(ctx, accountserver.TenantCreate{Name: "conformance-branded", ParentID: f.partner.ID, Kind: accountserver.KindFolder})
			if err != nil {
				return err
			}
			_, err = c.EnableBrand(ctx, tn.ID, tn.Version)
			return err
		},
		"GetBrand": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetBrand(ctx, f.partner.ID, true)
			return err
		},
		"UpdateBrand": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			tn, err := brandedFolder(ctx, c, f, "conformance-brand-updated")
			if err != nil {
				return err
			}
			_, err = c.UpdateBrand(ctx, tn.ID, tn.Version, accountserver.Brand{CompanyName: "Conformance", ServiceName: "Backup",
				SMTPPassword: "smtp-secret"})
			return err
		},
		"UploadBrandLogo": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			tn, err := brandedFolder(ctx, c, f, "conformance-logo")
			if err != nil {
				return err
			}
			_, err = c.UploadBrandLogo(ctx, tn.ID, tn.Version, f.png)
			return err
		},
		"DisableBrand": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			tn, err := c.GetTenant(ctx, f.partner.ID)
			if err != nil {
				return err
			}
			return c.DisableBrand(ctx, f.partner.ID, tn.Version)
		},
		// Users.
		"CreateUser": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CreateUser(ctx, accountserver.UserCreate{TenantID: f.customer.ID, Login: "conformance-created",
				Contact: accountserver.Contact{Email: "u@example.com", Firstname: "U"}, Enabled: ptr.To(true), Language: "en",
				BusinessTypes: []string{"buyer"}, Notifications: &[]string{}})
			return err
		},
		"CreateLoginToken": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			if _, err := c.CreateLoginToken(ctx, accountserver.LoginTokenFor{UserID: f.user.ID}); err != nil {
				return err
			}
			_, err := c.CreateLoginToken(ctx, accountserver.LoginTokenFor{Login: f.user.Login})
			return err
		},
		"GetUser": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetUser(ctx, f.user.ID, accountserver.WithDeleted())
			return err
		},
		"GetUsers": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetUsers(ctx, []string{f.user.ID}, accountserver.WithAccessPolicies())
			return err
		},
		"ListUsers": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			for _, err := range c.ListUsers(ctx, accountserver.UserQuery{SubtreeRootTenantID: f.partner.ID, Lod: "basic", Limit: 1,
				UpdatedSince: time.Now().Add(-time.Hour), WithAccessPolicies: true, AllowDeleted: true}) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"ListTenantUsers": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.ListTenantUsers(ctx, f.customer.ID)
			return err
		},
		"FindUserByLogin": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.FindUserByLogin(ctx, f.customer.ID, f.user.Login)
			return err
		},
		"UpdateUser": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			u, err := c.GetUser(ctx, f.user.ID)
			if err != nil {
				return err
			}
			_, err = c.UpdateUser(ctx, f.user.ID, accountserver.UserUpdate{Version: u.Version,
				Contact: &accountserver.Contact{Email: "v@example.com", Lastname: "V"}, Enabled: ptr.To(true), Language: ptr.To("fr"),
				Notifications: &[]string{}})
			return err
		},
		"DeleteUser": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			u, err := c.CreateUser(ctx, accountserver.UserCreate{TenantID: f.customer.ID, Login: "conformance-deleted", Contact: accountserver.Contact{Email: "d@example.com"}})
			if err != nil {
				return err
			}
			return c.DeleteUser(ctx, u.ID, u.Version)
		},
		"RestoreUser": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			u, err := c.CreateUser(ctx, accountserver.UserCreate{TenantID: f.customer.ID, Login: "conformance-restored", Contact: accountserver.Contact{Email: "r@example.com"}})
			if err != nil {
				return err
			}
			if err := c.DeleteUser(ctx, u.ID, u.Version); err != nil {
				return err
			}
			return c.RestoreUser(ctx, u.ID, true, true)
		},
		"CheckLogin": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CheckLogin(ctx, f.user.Login)
			return err
		},
		"GetAccessPolicies": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetAccessPolicies(ctx, f.user.ID)
			return err
		},
		"PutAccessPolicies": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			cur, err := c.GetAccessPolicies(ctx, f.user.ID)
			if err != nil {
				return err
			}
			want := append(cur, accountserver.NewAccessPolicy(f.user.ID, f.customer.ID, accountserver.RoleReadonlyAdmin))
			_, err = c.PutAccessPolicies(ctx, f.user.ID, want)
			return err
		},
		"SetPassword": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			return c.SetPassword(ctx, f.user.ID, "Conformance-Password-1")
		},
		"SendActivationEmail": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			u, err := c.CreateUser(ctx, accountserver.UserCreate{TenantID: f.customer.ID, Login: "conformance-mailed", Contact: accountserver.Contact{Email: "m@example.com"}})
			if err != nil {
				return err
			}
			return c.SendActivationEmail(ctx, u.ID)
		},
		"SetUserMFA": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			return c.SetUserMFA(ctx, f.user.ID, true)
		},
		// Offering items, applications and usage.
		"GetOfferingItems": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetOfferingItems(ctx, f.customer.ID, accountserver.OfferingItemQuery{Edition: accountserver.AllEditions,
				UsageNames: []string{"storage"}, Status: ptr.To(1), Type: accountserver.ItemTypeInfra, InfraID: emulator.DefaultInfraID})
			return err
		},
		"GetManyUsages": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetManyUsages(ctx, []string{f.customer.ID, f.partner.ID})
			return err
		},
		"ListOfferingItems": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			for _, err := range c.ListOfferingItems(ctx, accountserver.SubtreeItemQuery{SubtreeRootTenantID: f.partner.ID, Limit: 2,
				Names: []string{"workstations", "storage"}, UpdatedSince: time.Now().Add(-time.Hour), AllowDeleted: true}) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"PutOfferingItems": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			items, err := c.GetOfferingItems(ctx, f.customer.ID, accountserver.OfferingItemQuery{})
			if err != nil {
				return err
			}
			var changes []accountserver.OfferingItemChange
			for _, it := range items {
				if it.Type == accountserver.ItemTypeCount {
					// The first change of a new tenant's quota: version 0, unlimited overage.
					changes = append(changes, accountserver.OfferingItemChange{ApplicationID: it.ApplicationID, Name: it.Name,
						Status: accountserver.ItemStatusOn, Quota: &accountserver.Quota{Value: ptr.To[int64](10), Version: quotaVersion(it.Quota)}})
					break
				}
			}
			if _, err = c.PutOfferingItems(ctx, f.customer.ID, changes, true); err != nil {
				return err
			}
			// Version 0 and unlimited (null) values must be sent, not omitted: the
			// quota object is closed and all three fields are required. The
			// server may find the version stale; the request is what counts here.
			changes[0].Quota = &accountserver.Quota{}
			if _, err = c.PutOfferingItems(ctx, f.customer.ID, changes, false); err != nil && !accountserver.IsStaleVersion(err) {
				return err
			}
			return nil
		},
		"AvailableForChild": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.AvailableForChild(ctx, f.partner.ID, accountserver.KindCustomer, "standard")
			return err
		},
		"CheckEdition": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			err := c.CheckEdition(ctx, f.customer.ID, f.cyberProtection, emulator.EditionAdvanced)
			if accountserver.IsInvalid(err) {
				return nil // a refusal is an answer; what matters is the request
			}
			return err
		},
		"SwitchEdition": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			err := c.SwitchEdition(ctx, f.customer.ID, f.cyberProtection, emulator.EditionAdvanced)
			if accountserver.IsInvalid(err) {
				return nil
			}
			return err
		},
		"ListApplications": func(ctx context.Context, c *accountserver.Client, _ *wireFixture) error {
			_, err := c.ListApplications(ctx)
			return err
		},
		"EnableApplication": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			return c.EnableApplication(ctx, emulator.FileSyncShareAppID, f.customer.ID)
		},
		"DisableApplication": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			return c.DisableApplication(ctx, emulator.FileSyncShareAppID, f.customer.ID)
		},
		"GetUsages": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetUsages(ctx, f.customer.ID, "storage")
			return err
		},
		// Reports.
		"CreateReport": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CreateReport(ctx, accountserver.ReportSpec{ResultAction: "save",
				Parameters: accountserver.ReportParameters{TenantID: f.customer.ID, Level: "itself", Kind: "usage_summary", Formats: []string{"csv"}},
				Schedule:   accountserver.ReportSchedule{Type: "monthly", Enabled: ptr.To(true)}})
			return err
		},
		"GetReport": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetReport(ctx, f.report.ID)
			return err
		},
		"UpdateReport": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.UpdateReport(ctx, f.report.ID, accountserver.ReportUpdate{Recipients: []string{f.monthlyReportRecipient},
				Parameters: &accountserver.ReportUpdateParameters{Level: "itself", Kind: "usage_current", ShowSKUs: true},
				Schedule:   &accountserver.ReportUpdateSchedule{Enabled: false}})
			return err
		},
		"DeleteReport": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			r, err := c.CreateReport(ctx, accountserver.ReportSpec{ResultAction: "save",
				Parameters: accountserver.ReportParameters{TenantID: f.customer.ID, Level: "itself", Kind: "usage_daily", Formats: []string{"html"}},
				Schedule:   accountserver.ReportSchedule{Type: "monthly", Enabled: ptr.To(false)}})
			if err != nil {
				return err
			}
			return c.DeleteReport(ctx, r.ID, r.Version)
		},
		"ListStoredReports": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.ListStoredReports(ctx, f.report.ID)
			return err
		},
		"DownloadStoredReport": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			once, err := c.CreateReport(ctx, accountserver.ReportSpec{ResultAction: "save",
				Parameters: accountserver.ReportParameters{TenantID: f.customer.ID, Level: "itself", Kind: "usage_summary", Formats: []string{"csv"},
					Period: &accountserver.ReportPeriod{Start: "2024-01-01", End: "2024-01-31"}},
				Schedule: accountserver.ReportSchedule{Type: "once"}})
			if err != nil {
				return err
			}
			stored, err := c.ListStoredReports(ctx, once.ID)
			if err != nil {
				return err
			}
			if len(stored) == 0 {
				return fmt.Errorf("report %s has no stored file", once.ID)
			}
			_, err = c.DownloadStoredReport(ctx, once.ID, stored[0].ID)
			return err
		},
		// API clients.
		"CreateClient": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CreateClient(ctx, accountserver.ClientCreate{Type: "api_client", TenantID: f.customer.ID,
				TokenEndpointAuthMethod: accountserver.AuthMethodSecretBasic, Data: accountserver.ClientData{ClientName: "conformance"}})
			return err
		},
		"GetClient": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetClient(ctx, f.client.ClientID)
			return err
		},
		"ListClients": func(ctx context.Context, c *accountserver.Client, _ *wireFixture) error {
			_, err := c.ListClients(ctx)
			return err
		},
		"UpdateClient": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.UpdateClient(ctx, f.client.ClientID, accountserver.ClientUpdate{Data: &accountserver.ClientData{ClientName: "renamed"},
				Status: accountserver.ClientStatusDisabled})
			return err
		},
		"DeleteClient": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			cl, err := c.CreateClient(ctx, accountserver.ClientCreate{Type: "api_client", TenantID: f.customer.ID,
				TokenEndpointAuthMethod: accountserver.AuthMethodSecretBasic, Data: accountserver.ClientData{ClientName: "deleted"}})
			if err != nil {
				return err
			}
			return c.DeleteClient(ctx, cl.ClientID)
		},
		// Registration tokens.
		"CreateRegistrationToken": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CreateRegistrationToken(ctx, f.customer.ID, time.Hour, []string{agentScope(f.customer.ID)})
			return err
		},
		"ListRegistrationTokens": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.ListRegistrationTokens(ctx, f.customer.ID)
			return err
		},
		"DeleteRegistrationToken": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			tok, err := c.CreateRegistrationToken(ctx, f.customer.ID, time.Minute, nil)
			if err != nil {
				return err
			}
			return c.DeleteRegistrationToken(ctx, tok.ID)
		},
		// Locations and infrastructure.
		"CreateLocation": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CreateLocation(ctx, f.partner.ID, "conformance-location")
			return err
		},
		"GetLocation": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetLocation(ctx, f.location.ID)
			return err
		},
		"GetLocations": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetLocations(ctx, []string{f.location.ID})
			return err
		},
		"TenantLocationIDs": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.TenantLocationIDs(ctx, f.partner.ID)
			return err
		},
		"UpdateLocation": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			l, err := c.GetLocation(ctx, f.location.ID)
			if err != nil {
				return err
			}
			_, err = c.UpdateLocation(ctx, l.ID, "renamed-location", l.Version)
			return err
		},
		"DeleteLocation": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			l, err := c.CreateLocation(ctx, f.partner.ID, "deleted-location")
			if err != nil {
				return err
			}
			return c.DeleteLocation(ctx, l.ID, l.Version)
		},
		"CreateInfra": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.CreateInfra(ctx, accountserver.InfraSpec{OwnerTenantID: f.partner.ID, LocationID: f.location.ID, Name: "conformance-infra",
				URL: "https://storage.example.com", Capabilities: []string{"backup"}, BackendType: "azure"})
			return err
		},
		"GetInfra": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetInfra(ctx, f.infra.ID)
			return err
		},
		"GetInfras": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.GetInfras(ctx, []string{f.infra.ID})
			return err
		},
		"LocationInfraIDs": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			_, err := c.LocationInfraIDs(ctx, f.location.ID)
			return err
		},
		"UpdateInfra": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			in, err := c.GetInfra(ctx, f.infra.ID)
			if err != nil {
				return err
			}
			_, err = c.UpdateInfra(ctx, in.ID, accountserver.InfraSpec{Name: "renamed-infra", URL: "https://storage2.example.com",
				Capabilities: []string{"backup", "files_cloud"}, Version: in.Version})
			return err
		},
		"DeleteInfra": func(ctx context.Context, c *accountserver.Client, f *wireFixture) error {
			in, err := c.CreateInfra(ctx, accountserver.InfraSpec{OwnerTenantID: f.partner.ID, LocationID: f.location.ID, Name: "deleted-infra",
				URL: "https://storage3.example.com", Capabilities: []string{"backup"}})
			if err != nil {
				return err
			}
			return c.DeleteInfra(ctx, in.ID, in.Version, true)
		},
	}

	// Every exported method that sends a request has a row, and every row names a method.
	typ := reflect.TypeOf(&accountserver.Client{})
	var methods []string
	for i := range typ.NumMethod() {
		if name := typ.Method(i).Name; !slices.Contains(notSending, name) {
			methods = append(methods, name)
			if _, ok := rows[name]; !ok {
				t.Errorf("(*Client).%s has no row: add one that sends its request, or list it in notSending if it sends none", name)
			}
		}
	}
	for name := range rows {
		if !slices.Contains(methods, name) {
			t.Errorf("row %s names no exported method of *Client", name)
		}
	}

	e := newEnv(t)
	conform := &conformingTransport{base: e.tr, spec: wire.MustLoad()}
	hc := &http.Client{Transport: conform}
	cfg := e.cfg
	cfg.HTTPClient = hc
	c, err := accountserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxFor(t)
	f := newWireFixture(t, ctx, c, e)
	if v, _ := conform.take(); len(v) > 0 {
		t.Fatalf("the wireFixture's own requests do not conform:\n%s", strings.Join(v, "\n"))
	}
	names := make([]string, 0, len(rows))
	for name := range rows {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if err := rows[name](ctx, c, f); err != nil {
				t.Errorf("call failed: %v", err)
			}
			violations, ops := conform.take()
			if len(ops) == 0 && name != "Token" {
				t.Errorf("the row sent no request")
			}
			for _, v := range violations {
				t.Errorf("request does not conform: %s", v)
			}
		})
	}
}

// brandedFolder makes a folder with branding on, so a row does not depend on another row's order.
func brandedFolder(ctx context.Context, c *accountserver.Client, f *wireFixture, name string) (*accountserver.Tenant, error) {
	tn, err := c.CreateTenant(ctx, accountserver.TenantCreate{Name: name, ParentID: f.partner.ID, Kind: accountserver.KindFolder})
	if err != nil {
		return nil, err
	}
	return c.EnableBrand(ctx, tn.ID, tn.Version)
}

func quotaVersion(q *accountserver.Quota) int64 {
	if q == nil {
		return 0
	}
	return q.Version
}

func newWireFixture(t *testing.T, ctx context.Context, c *accountserver.Client, e *env) *wireFixture {
	t.Helper()
	f := &wireFixture{boot: e.boot, cyberProtection: emulator.CyberProtectionAppID,
		png: []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("wireFixture: %v", err)
		}
	}
	var err error
	f.partner, err = c.CreateTenant(ctx, accountserver.TenantCreate{Name: "conformance-partner", ParentID: e.boot.TenantID, Kind: accountserver.KindPartner})
	must(err)
	partner, err := c.EnableBrand(ctx, f.partner.ID, f.partner.Version)
	must(err)
	f.partner = partner
	f.customer, err = c.CreateTenant(ctx, accountserver.TenantCreate{Name: "conformance-customer", ParentID: f.partner.ID, Kind: accountserver.KindCustomer})
	must(err)
	f.user, err = c.CreateUser(ctx, accountserver.UserCreate{TenantID: f.customer.ID, Login: "conformance-user", Contact: accountserver.Contact{Email: "user@example.com"}})
	must(err)
	f.monthlyReportRecipient = f.user.ID
	f.client, err = c.CreateClient(ctx, accountserver.ClientCreate{Type: "api_client", TenantID: f.customer.ID,
		TokenEndpointAuthMethod: accountserver.AuthMethodSecretBasic, Data: accountserver.ClientData{ClientName: "wireFixture"}})
	must(err)
	f.location, err = c.CreateLocation(ctx, f.partner.ID, "wireFixture-location")
	must(err)
	f.infra, err = c.CreateInfra(ctx, accountserver.InfraSpec{OwnerTenantID: f.partner.ID, LocationID: f.location.ID, Name: "wireFixture-infra",
		URL: "https://wireFixture.example.com", Capabilities: []string{"backup"}})
	must(err)
	f.report, err = c.CreateReport(ctx, accountserver.ReportSpec{ResultAction: "save",
		Parameters: accountserver.ReportParameters{TenantID: f.customer.ID, Level: "itself", Kind: "usage_summary", Formats: []string{"csv"}},
		Schedule:   accountserver.ReportSchedule{Type: "monthly", Enabled: ptr.To(true)}})
	must(err)
	return f
}
