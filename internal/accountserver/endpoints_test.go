package accountserver_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

func TestTenantLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	enabled := true
	tn, err := e.client.CreateTenant(ctx, accountserver.TenantCreate{
		Name: "Acme", ParentID: e.boot.TenantID, Kind: accountserver.KindCustomer, Enabled: &enabled,
		Contact: &accountserver.Contact{Email: "ops@acme.example", Firstname: "Ada"}, Language: "en",
	})
	if err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	got, err := e.client.GetTenant(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tn, got); diff != "" {
		t.Errorf("GetTenant differs from the create answer (-want +got):\n%s", diff)
	}
	want := accountserver.Tenant{ID: tn.ID, Name: "Acme", ParentID: e.boot.TenantID, Kind: accountserver.KindCustomer, Enabled: true,
		Contact: accountserver.Contact{Email: "ops@acme.example", Firstname: "Ada"}, Language: "en"}
	opts := cmpopts.IgnoreFields(accountserver.Tenant{}, "Version", "CreatedAt", "UpdatedAt", "CustomerType", "Contacts", "HasChildren",
		"DefaultIDPID", "UpdateLock", "MFAStatus", "PricingMode", "ExternalOperationStatus", "AncestralAccess", "BrandEnabled", "OwnerID",
		"CustomerID", "InternalTag", "BrandID", "BrandUUID", "ProductionStartDate")
	if diff := cmp.Diff(want, *got, opts); diff != "" {
		t.Errorf("tenant (-want +got):\n%s", diff)
	}
	if got.CreatedAt.IsZero() {
		t.Errorf("created_at was not parsed")
	}

	disabled := false
	upd, err := e.client.UpdateTenant(ctx, tn.ID, accountserver.TenantUpdate{Version: tn.Version, Enabled: &disabled})
	if err != nil {
		t.Fatalf("UpdateTenant: %v", err)
	}
	if upd.Enabled || upd.Version == tn.Version {
		t.Errorf("update answer: enabled=%v version %d→%d", upd.Enabled, tn.Version, upd.Version)
	}
	if err := e.client.DeleteTenant(ctx, tn.ID, upd.Version); err != nil {
		t.Fatalf("DeleteTenant: %v", err)
	}
	if _, err := e.client.GetTenant(ctx, tn.ID); !accountserver.IsNotFound(err) {
		t.Errorf("a deleted tenant: IsNotFound(%v) = false", err)
	}
	deleted, err := e.client.GetTenant(ctx, tn.ID, accountserver.WithDeleted())
	if err != nil || deleted.DeletedAt == nil {
		t.Errorf("GetTenant(WithDeleted) = %+v, %v; want the tenant with deleted_at", deleted, err)
	}
	if err := e.client.RestoreTenant(ctx, tn.ID, false); err != nil {
		t.Fatalf("RestoreTenant: %v", err)
	}
	if _, err := e.client.GetTenant(ctx, tn.ID); err != nil {
		t.Errorf("restored tenant: %v", err)
	}
}

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	cust := e.mustCreateTenant(t, e.boot.TenantID, "Acme", accountserver.KindCustomer)

	free, err := e.client.CheckLogin(ctx, "ada")
	if err != nil || !free {
		t.Fatalf("CheckLogin(ada) = %v, %v; want free", free, err)
	}
	u, err := e.client.CreateUser(ctx, accountserver.UserCreate{TenantID: cust.ID, Login: "ada",
		Contact: accountserver.Contact{Email: "ada@acme.example", Firstname: "Ada"}, Notifications: &[]string{"quota"}})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if free, err := e.client.CheckLogin(ctx, "ada"); err != nil || free {
		t.Errorf("CheckLogin(ada) after create = %v, %v; want taken", free, err)
	}
	if u.PersonalTenantID == nil {
		t.Errorf("a user in a customer tenant gets a personal tenant")
	}

	policies := []accountserver.AccessPolicy{{TrusteeType: "user", TrusteeID: u.ID, TenantID: cust.ID, RoleID: accountserver.RoleCompanyAdmin}}
	if _, err := e.client.PutAccessPolicies(ctx, u.ID, policies); err != nil {
		t.Fatalf("PutAccessPolicies: %v", err)
	}
	got, err := e.client.GetAccessPolicies(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var roles []string
	for _, p := range got {
		roles = append(roles, p.RoleID)
	}
	if diff := cmp.Diff([]string{accountserver.RoleCompanyAdmin}, roles); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}

	if err := e.client.SendActivationEmail(ctx, u.ID); err != nil {
		t.Fatalf("SendActivationEmail: %v", err)
	}
	if diff := cmp.Diff(1, e.srv.ActivationEmails(u.ID)); diff != "" {
		t.Errorf("activation emails (-want +got):\n%s", diff)
	}
	if err := e.client.SetPassword(ctx, u.ID, "Str0ng-Enough-Passw0rd!"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	u, err = e.client.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Activated {
		t.Errorf("setting a password activates the user")
	}

	disabled := false
	u2, err := e.client.UpdateUser(ctx, u.ID, accountserver.UserUpdate{Version: u.Version, Enabled: &disabled, Notifications: &[]string{}})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if u2.Enabled || len(u2.Notifications) != 0 {
		t.Errorf("update answer: enabled=%v notifications=%v", u2.Enabled, u2.Notifications)
	}
	if _, err := e.client.UpdateUser(ctx, u.ID, accountserver.UserUpdate{Version: u.Version, Enabled: &disabled}); !accountserver.IsStaleVersion(err) {
		t.Errorf("stale user update: IsStaleVersion(%v) = false", err)
	}
	if err := e.client.DeleteUser(ctx, u.ID, u2.Version); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := e.client.GetUser(ctx, u.ID); !accountserver.IsNotFound(err) {
		t.Errorf("deleted user: IsNotFound(%v) = false", err)
	}
}

func TestAPIClientLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	cust := e.mustCreateTenant(t, e.boot.TenantID, "Acme", accountserver.KindCustomer)
	created, err := e.client.CreateClient(ctx, accountserver.ClientCreate{TenantID: cust.ID, Data: accountserver.ClientData{ClientName: "backup-sync"}})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	if created.ClientID == "" || created.ClientSecret == "" {
		t.Fatalf("CreateClient answer lacks credentials: id=%q", created.ClientID)
	}
	// The new credentials work and act in the tenant they were made in.
	other, err := accountserver.New(accountserver.Config{URL: e.hs.URL, ClientID: created.ClientID, ClientSecret: string(created.ClientSecret),
		HTTPClient: e.hs.Client(), Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	who, err := other.WhoAmI(ctx)
	if err != nil {
		t.Fatalf("WhoAmI with the new client: %v", err)
	}
	if diff := cmp.Diff(cust.ID, who); diff != "" {
		t.Errorf("tenant of the new client (-want +got):\n%s", diff)
	}
	got, err := e.client.GetClient(ctx, created.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(created.APIClient, *got); diff != "" {
		t.Errorf("GetClient (-want +got):\n%s", diff)
	}
	upd, err := e.client.UpdateClient(ctx, created.ClientID, accountserver.ClientUpdate{Status: accountserver.ClientStatusDisabled})
	if err != nil || upd.Status != accountserver.ClientStatusDisabled {
		t.Errorf("UpdateClient = %+v, %v", upd, err)
	}
	all, err := e.client.ListClients(ctx)
	if err != nil || !slices.ContainsFunc(all, func(c accountserver.APIClient) bool { return c.ClientID == created.ClientID }) {
		t.Errorf("ListClients = %+v, %v; want the new client", all, err)
	}
	if err := e.client.DeleteClient(ctx, created.ClientID); err != nil {
		t.Fatalf("DeleteClient: %v", err)
	}
	if _, err := e.client.GetClient(ctx, created.ClientID); !accountserver.IsNotFound(err) {
		t.Errorf("deleted client: IsNotFound(%v) = false", err)
	}
}

func TestTenantSettings(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	cust := e.mustCreateTenant(t, e.boot.TenantID, "Acme", accountserver.KindCustomer)

	p, err := e.client.GetPricing(ctx, cust.ID)
	if err != nil {
		t.Fatalf("GetPricing: %v", err)
	}
	p2, err := e.client.UpdatePricing(ctx, cust.ID, accountserver.Pricing{Mode: accountserver.PricingProduction, Version: p.Version})
	if err != nil {
		t.Fatalf("UpdatePricing: %v", err)
	}
	if p2.Mode != accountserver.PricingProduction || p2.ProductionStartDate == nil {
		t.Errorf("pricing after the switch = %+v", p2)
	}

	if err := e.client.SetTenantMFA(ctx, cust.ID, true); err != nil {
		t.Fatalf("SetTenantMFA: %v", err)
	}
	m, err := e.client.GetTenantMFA(ctx, cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.MFAStatus != "enabled" {
		t.Errorf("mfa status = %q, want enabled", m.MFAStatus)
	}

	hits, err := e.client.Search(ctx, e.boot.TenantID, "acm", 0)
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if len(hits) != 1 || hits[0].ID != cust.ID || hits[0].ObjType != "tenant" {
		t.Errorf("Search = %+v, want Acme", hits)
	}
	if got := e.tr.count(http.MethodGet, "/api/2/search"); got != 1 {
		t.Errorf("search requests = %d", got)
	}
}

// agentScope is the scope of backup agent registration in a tenant.
func agentScope(tenantID string) string {
	return "urn:acronis.com:tenant-id:" + tenantID + ":backup_agent_admin"
}

func TestRegistrationTokenLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	cust := e.mustCreateTenant(t, e.boot.TenantID, "Acme", accountserver.KindCustomer)
	scopes := []string{agentScope(cust.ID)}
	tok, err := e.client.CreateRegistrationToken(ctx, cust.ID, 30*24*time.Hour, scopes)
	if err != nil {
		t.Fatalf("CreateRegistrationToken: %v", err)
	}
	if !regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$`).MatchString(string(tok.Token)) {
		t.Errorf("token value is not XXXX-XXXX-XXXX")
	}
	if d := tok.ExpiresAt.Sub(tok.CreatedAt.Time); d != 30*24*time.Hour {
		t.Errorf("lifetime = %v, want 720h", d)
	}
	if tok.TenantUUID != cust.ID || tok.ID == 0 || tok.TenantID == "" {
		t.Errorf("token = id %d tenant %q/%q", tok.ID, tok.TenantID, tok.TenantUUID)
	}
	if diff := cmp.Diff(scopes, tok.Scopes); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	// The value never prints.
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%+v %#v %s %v", tok, tok, tok.Token, *tok)} {
		if strings.Contains(s, string(tok.Token)) {
			t.Errorf("the token's value printed: %s", s)
		}
	}
	list, err := e.client.ListRegistrationTokens(ctx, cust.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != tok.ID || list[0].Token != tok.Token {
		t.Errorf("ListRegistrationTokens = %d tokens; want the new one with its value", len(list))
	}
	if reg := e.srv.RegisterAgent(string(tok.Token)); !reg.Accepted {
		t.Errorf("the new token does not register an agent: %+v", reg)
	}
	if err := e.client.DeleteRegistrationToken(ctx, tok.ID); err != nil {
		t.Fatalf("DeleteRegistrationToken: %v", err)
	}
	if err := e.client.DeleteRegistrationToken(ctx, tok.ID); !accountserver.IsNotFound(err) {
		t.Errorf("deleting a revoked token: IsNotFound(%v) = false", err)
	}
	if reg := e.srv.RegisterAgent(string(tok.Token)); reg.Accepted {
		t.Errorf("a revoked token still registers an agent")
	}
	if _, err := e.client.CreateRegistrationToken(ctx, cust.ID, accountserver.MaxRegistrationTokenLifetime+time.Second, scopes); !accountserver.IsInvalid(err) {
		t.Errorf("a lifetime over a year: IsInvalid(%v) = false", err)
	}
	if got := e.tr.count(http.MethodPost, "/api/2/tenants/"+cust.ID+"/registration_tokens"); got != 1 {
		t.Errorf("creates sent = %d, want 1 (the refused lifetime is not sent)", got)
	}
}
