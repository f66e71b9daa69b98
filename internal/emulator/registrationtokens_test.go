package emulator

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// agentScope is the scope of backup agent registration in a tenant.
func agentScope(tenantID string) string {
	return "urn:acronis.com:tenant-id:" + tenantID + ":backup_agent_admin"
}

// newRegToken makes a registration token of a tenant through the API.
func (w *world) newRegToken(t *testing.T, tenantID string, expiresIn int) RegistrationToken {
	t.Helper()
	r := w.env.api.do(http.MethodPost, "/tenants/"+tenantID+"/registration_tokens", map[string]any{"expires_in": expiresIn, "scopes": []string{agentScope(tenantID)}})
	if r.status != http.StatusOK {
		t.Fatalf("create registration token: %d %s", r.status, r.body)
	}
	var tok RegistrationToken
	mustUnmarshal(t, r.body, &tok)
	return tok
}

func listRegTokens(t *testing.T, a *apiCaller, path string) []RegistrationToken {
	t.Helper()
	r := a.do(http.MethodGet, path, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, r.status, r.body)
	}
	var l RegistrationTokenList
	mustUnmarshal(t, r.body, &l)
	return l.Items
}

func TestRegistrationTokenLifecycle(t *testing.T) {
	w := newWorld(t, Options{})
	tok := w.newRegToken(t, w.customer.ID, 3600)
	if !regexp.MustCompile(`^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$`).MatchString(tok.Token) {
		t.Errorf("token value %q is not XXXX-XXXX-XXXX", tok.Token)
	}
	created, _ := parseTime(tok.CreatedAt)
	expires, _ := parseTime(tok.ExpiresAt)
	if d := expires.Sub(created); d != time.Hour {
		t.Errorf("expires_at - created_at = %v, want expires_in (1h)", d)
	}
	if tok.TenantUUID != w.customer.ID {
		t.Errorf("tenant_uuid = %q, want %q", tok.TenantUUID, w.customer.ID)
	}
	if _, err := strconv.ParseInt(tok.TenantID, 10, 64); err != nil {
		t.Errorf("tenant_id %q is not numeric", tok.TenantID)
	}
	second := w.newRegToken(t, w.customer.ID, 60)
	other := w.newRegToken(t, w.partner.ID, 60)
	if second.TenantID != tok.TenantID || other.TenantID == tok.TenantID {
		t.Errorf("a tenant's numeric id is stable and its own: %s, %s (same tenant), %s (another)", tok.TenantID, second.TenantID, other.TenantID)
	}
	if second.ID <= tok.ID || second.Token == tok.Token {
		t.Errorf("a second token needs its own id and value: %d/%d", tok.ID, second.ID)
	}

	got := listRegTokens(t, w.env.api, "/tenants/"+w.customer.ID+"/registration_tokens")
	if diff := cmp.Diff([]RegistrationToken{tok, second}, got); diff != "" {
		t.Errorf("the tenant's tokens (-want +got):\n%s", diff)
	}
	if all := listRegTokens(t, w.env.api, "/registration_tokens"); len(all) != 3 {
		t.Errorf("the deprecated listing shows the caller's subtree: %d tokens, want 3", len(all))
	}

	if reg := w.env.srv.RegisterAgent(tok.Token); !reg.Accepted || reg.TokenID != tok.ID || reg.TenantID != w.customer.ID {
		t.Errorf("a live token registers an agent: %+v", reg)
	}
	id := strconv.FormatInt(tok.ID, 10)
	if r := w.env.api.do(http.MethodDelete, "/registration_tokens/"+id, nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", r.status, r.body)
	}
	if reg := w.env.srv.RegisterAgent(tok.Token); reg.Accepted || reg.Refusal != "revoked" {
		t.Errorf("a revoked token is refused as revoked: %+v", reg)
	}
	if got := listRegTokens(t, w.env.api, "/tenants/"+w.customer.ID+"/registration_tokens"); len(got) != 1 || got[0].ID != second.ID {
		t.Errorf("a revoked token is no longer listed: %+v", got)
	}
	if r := w.env.api.do(http.MethodDelete, "/registration_tokens/"+id, nil); r.code(t) != (errCode{Status: 404, Code: 404}) {
		t.Errorf("DELETE of a revoked token: %d %s, want 404", r.status, r.body)
	}
	if reg := w.env.srv.RegisterAgent("ZZZZ-ZZZZ-ZZZZ"); reg.Accepted || reg.Refusal != "unknown" || reg.TokenID != 0 {
		t.Errorf("an unknown token is refused: %+v", reg)
	}
}

func TestRegistrationTokenExpiry(t *testing.T) {
	w := newWorld(t, Options{})
	tok := w.newRegToken(t, w.customer.ID, 60)
	w.env.clock.Advance(59 * time.Second)
	if reg := w.env.srv.RegisterAgent(tok.Token); !reg.Accepted {
		t.Errorf("a token one second before expiry registers: %+v", reg)
	}
	w.env.clock.Advance(time.Second)
	if reg := w.env.srv.RegisterAgent(tok.Token); reg.Accepted || reg.Refusal != "expired" {
		t.Errorf("a token at its expiry is refused as expired: %+v", reg)
	}
	// Assumed: an expired token is still listed until it is revoked.
	if got := listRegTokens(t, w.env.api, "/tenants/"+w.customer.ID+"/registration_tokens"); len(got) != 1 {
		t.Errorf("an expired token is still listed: %+v", got)
	}
}

func TestRegistrationTokenRefusals(t *testing.T) {
	w := newWorld(t, Options{})
	partnerToken := w.newRegToken(t, w.partner.ID, 60)
	id, secret := w.env.api.createClient(w.customer.ID)
	inCustomer := w.env.as(id, secret)
	cases := map[string]struct {
		caller *apiCaller
		method string
		path   string
		body   any
		want   errCode
		msg    string
	}{
		"OutsideSubtreeCreate": {inCustomer, "POST", "/tenants/" + w.partner.ID + "/registration_tokens",
			map[string]any{"expires_in": 60, "scopes": []string{}}, errCode{403, codeAccessDenied}, ""},
		"OutsideSubtreeList": {inCustomer, "GET", "/tenants/" + w.partner.ID + "/registration_tokens", nil, errCode{403, codeAccessDenied}, ""},
		"OutsideSubtreeDelete": {inCustomer, "DELETE", "/registration_tokens/" + strconv.FormatInt(partnerToken.ID, 10), nil,
			errCode{403, codeAccessDenied}, ""},
		"UnknownTenant": {w.env.api, "GET", "/tenants/" + zeroUUID + "/registration_tokens", nil, errCode{404, codeTenantNotFound}, ""},
		"ClosedBody": {w.env.api, "POST", "/tenants/" + w.customer.ID + "/registration_tokens",
			map[string]any{"expires_in": 60, "scopes": []string{}, "name": "x"}, errCode{400, 400}, "invalid request: body.name is not a known field"},
		"MissingScopes": {w.env.api, "POST", "/tenants/" + w.customer.ID + "/registration_tokens",
			map[string]any{"expires_in": 60}, errCode{400, 400}, "invalid request: body.scopes is required"},
		"ZeroLifetime": {w.env.api, "POST", "/tenants/" + w.customer.ID + "/registration_tokens",
			map[string]any{"expires_in": 0, "scopes": []string{}}, errCode{400, 400}, "expires_in must be between"},
		"LongerThanAYear": {w.env.api, "POST", "/tenants/" + w.customer.ID + "/registration_tokens",
			map[string]any{"expires_in": maxRegistrationTokenSeconds + 1, "scopes": []string{}}, errCode{400, 400}, "expires_in must be between"},
		"UUIDTokenID":    {w.env.api, "DELETE", "/registration_tokens/" + zeroUUID, nil, errCode{400, 400}, "invalid request: path.token_id"},
		"UnknownTokenID": {w.env.api, "DELETE", "/registration_tokens/999999", nil, errCode{404, 404}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := tc.caller.do(tc.method, tc.path, tc.body)
			if got := r.code(t); got != tc.want {
				t.Errorf("%s %s: %v %s, want %v", tc.method, tc.path, got, r.body, tc.want)
			}
			if tc.msg != "" && !strings.Contains(string(r.body), tc.msg) {
				t.Errorf("the message should say %q: %s", tc.msg, r.body)
			}
		})
	}
	if reg := w.env.srv.RegisterAgent(partnerToken.Token); !reg.Accepted {
		t.Errorf("refused deletions left the token alive: %+v", reg)
	}
}

func TestAdminRegistrations(t *testing.T) {
	w := newWorld(t, Options{})
	tok := w.newRegToken(t, w.customer.ID, 60)
	if status, body := adminDo(t, w.env, http.MethodPost, "/_emulator/registrations", `{"token":"`+tok.Token+`"}`); status != http.StatusOK {
		t.Fatalf("registering with a live token: %d %s", status, body)
	}
	w.env.api.do(http.MethodDelete, "/registration_tokens/"+strconv.FormatInt(tok.ID, 10), nil)
	status, body := adminDo(t, w.env, http.MethodPost, "/_emulator/registrations", `{"token":"`+tok.Token+`"}`)
	if status != http.StatusForbidden || !strings.Contains(string(body), "revoked") {
		t.Errorf("registering with a revoked token: %d %s, want 403 revoked", status, body)
	}
	if status, _ := adminDo(t, w.env, http.MethodPost, "/_emulator/registrations", `{}`); status != http.StatusBadRequest {
		t.Errorf("a registration without a token: %d, want 400", status)
	}
	if status, _ := adminDo(t, w.env, http.MethodPut, "/_emulator/registrations", `{}`); status != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d, want 405", status)
	}
	status, body = adminDo(t, w.env, http.MethodGet, "/_emulator/registrations", "")
	if status != http.StatusOK || strings.Contains(string(body), tok.Token) {
		t.Errorf("the registrations list: %d, and it must not show token values: %s", status, body)
	}
	var regs struct {
		Registrations []Registration `json:"registrations"`
	}
	mustUnmarshal(t, body, &regs)
	if len(regs.Registrations) != 2 || !regs.Registrations[0].Accepted || regs.Registrations[1].Refusal != "revoked" {
		t.Errorf("registrations = %+v, want one accepted then one refused as revoked", regs.Registrations)
	}
	if _, body := adminDo(t, w.env, http.MethodGet, "/_emulator/state", ""); strings.Contains(string(body), tok.Token) {
		t.Errorf("the admin state shows a registration token's value")
	}
}

func TestErrorMethods(t *testing.T) {
	w := newWorld(t, Options{})
	tok := w.newRegToken(t, w.customer.ID, 60)
	w.env.srv.SetFaults(Faults{ErrorRate: 1, ErrorMethods: []string{"DELETE"}})
	if r := w.env.api.do(http.MethodDelete, "/registration_tokens/"+strconv.FormatInt(tok.ID, 10), nil); r.status != http.StatusInternalServerError {
		t.Errorf("a DELETE under errorMethods [DELETE]: %d, want 500", r.status)
	}
	if got := listRegTokens(t, w.env.api, "/tenants/"+w.customer.ID+"/registration_tokens"); len(got) != 1 {
		t.Errorf("a GET is not failed, and the failed DELETE changed nothing: %+v", got)
	}
}
