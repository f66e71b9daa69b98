package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is the injected clock of tests: it only moves when a test moves it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is an emulator behind a real HTTP server, with a token for the bootstrap client.
type testEnv struct {
	t     testing.TB
	srv   *Server
	http  *httptest.Server
	clock *fakeClock
	boot  Bootstrap
	api   *apiCaller
}

// startEmulator starts an emulator with a fake clock (unless opts.Now is set) and the bootstrap
// client's token ready in env.api.
func startEmulator(t testing.TB, opts Options) *testEnv {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.CheckResponse == nil {
		opts.CheckResponse = checkResponses(t)
	}
	s := New(opts)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	env := &testEnv{t: t, srv: s, http: hs, clock: clock, boot: s.Bootstrap()}
	env.api = env.as(env.boot.ClientID, env.boot.ClientSecret)
	return env
}

// as returns a caller holding a fresh token of the given client.
func (e *testEnv) as(clientID, secret string) *apiCaller {
	e.t.Helper()
	status, body := e.tokenRequest(url.Values{"grant_type": {"client_credentials"}}, clientID, secret)
	if status != http.StatusOK {
		e.t.Fatalf("token for %s: status %d: %s", clientID, status, body)
	}
	var tr TokenResponse
	mustUnmarshal(e.t, body, &tr)
	return &apiCaller{t: e.t, base: e.http.URL, token: tr.AccessToken}
}

// tokenRequest posts a form to the token endpoint, with Basic credentials when clientID is set.
func (e *testEnv) tokenRequest(form url.Values, clientID, secret string) (int, []byte) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/api/2/idp/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if clientID != "" {
		req.SetBasicAuth(clientID, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// apiCaller sends /api/2 requests with a bearer token.
type apiCaller struct {
	t     testing.TB
	base  string
	token string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends body as JSON (a string or []byte is sent verbatim) to /api/2+path.
func (a *apiCaller) do(method, path string, body any) response {
	a.t.Helper()
	return a.doCT(method, path, body, "application/json")
}

func (a *apiCaller) doCT(method, path string, body any, contentType string) response {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			a.t.Fatalf("encoding body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, a.base+"/api/2"+path, rd)
	if err != nil {
		a.t.Fatalf("request: %v", err)
	}
	if rd != nil && contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// errCode is what tests compare errors by: the HTTP status and the platform code of the body.
type errCode struct {
	Status int
	Code   int
}

// code decodes an error answer, failing the test if the body is not the reference's error body.
func (r response) code(t testing.TB) errCode {
	t.Helper()
	if r.status < 400 {
		return errCode{Status: r.status}
	}
	var b struct {
		Error *struct {
			Code    *int           `json:"code"`
			Message *string        `json:"message"`
			Details *ErrorDetails  `json:"details"`
			Context map[string]any `json:"context"`
			Domain  string         `json:"domain"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &b); err != nil || b.Error == nil || b.Error.Code == nil || b.Error.Message == nil || b.Error.Details == nil || b.Error.Domain != errorDomain {
		t.Fatalf("status %d: body is not the reference's error body: %s", r.status, r.body)
	}
	return errCode{Status: r.status, Code: *b.Error.Code}
}

func mustUnmarshal(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
}

// createTenant makes a tenant through the API and fails the test unless it is created.
func (a *apiCaller) createTenant(parentID, name, kind string) Tenant {
	a.t.Helper()
	r := a.do(http.MethodPost, "/tenants", map[string]any{"name": name, "parent_id": parentID, "kind": kind})
	if r.status != http.StatusCreated {
		a.t.Fatalf("create tenant %s: %d %s", name, r.status, r.body)
	}
	var t Tenant
	mustUnmarshal(a.t, r.body, &t)
	return t
}

func (a *apiCaller) getTenant(id string) Tenant {
	a.t.Helper()
	r := a.do(http.MethodGet, "/tenants/"+id+"?allow_deleted=true", nil)
	if r.status != http.StatusOK {
		a.t.Fatalf("get tenant %s: %d %s", id, r.status, r.body)
	}
	var t Tenant
	mustUnmarshal(a.t, r.body, &t)
	return t
}

// updateTenant PUTs body with the tenant's current version added.
func (a *apiCaller) updateTenant(id string, body map[string]any) response {
	a.t.Helper()
	if _, ok := body["version"]; !ok {
		body["version"] = a.getTenant(id).Version
	}
	return a.do(http.MethodPut, "/tenants/"+id, body)
}

// disableTenant turns a tenant off and fails the test unless it worked.
func (a *apiCaller) disableTenant(id string) Tenant {
	a.t.Helper()
	r := a.updateTenant(id, map[string]any{"enabled": false})
	if r.status != http.StatusOK {
		a.t.Fatalf("disable tenant %s: %d %s", id, r.status, r.body)
	}
	var t Tenant
	mustUnmarshal(a.t, r.body, &t)
	return t
}

func (a *apiCaller) createUser(tenantID, login string) User {
	a.t.Helper()
	r := a.do(http.MethodPost, "/users", map[string]any{"tenant_id": tenantID, "login": login, "contact": map[string]any{"email": login + "@example.com"}})
	if r.status != http.StatusOK {
		a.t.Fatalf("create user %s: %d %s", login, r.status, r.body)
	}
	var u User
	mustUnmarshal(a.t, r.body, &u)
	return u
}

// createClient makes an API client in tenantID and returns its id and secret.
func (a *apiCaller) createClient(tenantID string) (string, string) {
	a.t.Helper()
	r := a.do(http.MethodPost, "/clients", map[string]any{"type": "api_client", "tenant_id": tenantID, "token_endpoint_auth_method": "client_secret_basic", "data": map[string]any{"client_name": "test"}})
	if r.status != http.StatusCreated {
		a.t.Fatalf("create client: %d %s", r.status, r.body)
	}
	var c CreatedClient
	mustUnmarshal(a.t, r.body, &c)
	return c.ClientID, c.ClientSecret
}

func readAll(resp *http.Response) ([]byte, error) { return io.ReadAll(resp.Body) }
