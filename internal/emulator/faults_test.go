package emulator

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func adminDo(t *testing.T, env *testEnv, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, env.http.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func TestAdminFaults(t *testing.T) {
	env := startEmulator(t, Options{})
	const full = `{"latency":"50ms","jitter":"10ms","errorRate":0.05,"errorStatus":503,"errorMethods":["DELETE"],"throttleRate":0.02,"retryAfterSeconds":1,"rateLimit":20,"dropAfterCommitRate":0.1,"dropAfterCommitMethods":["POST"],"reportsNotReady":true}`
	status, body := adminDo(t, env, http.MethodPut, "/_emulator/faults", full)
	if status != http.StatusOK {
		t.Fatalf("PUT faults: %d %s", status, body)
	}
	want := Faults{Latency: Duration(50 * time.Millisecond), Jitter: Duration(10 * time.Millisecond), ErrorRate: 0.05, ErrorStatus: 503, ErrorMethods: []string{"DELETE"}, ThrottleRate: 0.02,
		RetryAfterSeconds: 1, RateLimit: 20, DropAfterCommitRate: 0.1, DropAfterCommitMethods: []string{"POST"}, ReportsNotReady: true}
	if diff := cmp.Diff(want, env.srv.Faults()); diff != "" {
		t.Errorf("stored faults -want +got:\n%s", diff)
	}
	_, body = adminDo(t, env, http.MethodGet, "/_emulator/faults", "")
	var got, sent map[string]any
	mustUnmarshal(t, body, &got)
	mustUnmarshal(t, []byte(full), &sent)
	if diff := cmp.Diff(sent, got); diff != "" {
		t.Errorf("GET faults shows what PUT set -want +got:\n%s", diff)
	}
	// PUT replaces: fields left out go back to zero.
	if status, body := adminDo(t, env, http.MethodPut, "/_emulator/faults", `{"errorRate":0.5}`); status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if diff := cmp.Diff(Faults{ErrorRate: 0.5}, env.srv.Faults(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("PUT replaces -want +got:\n%s", diff)
	}
	for name, body := range map[string]string{
		"RateAboveOne":  `{"errorRate":2}`,
		"NegativeLimit": `{"rateLimit":-1}`,
		"BadDuration":   `{"latency":"soon"}`,
		"UnknownField":  `{"errorRatio":0.1}`,
		"ReadMethod":    `{"dropAfterCommitMethods":["GET"]}`,
		"ErrorStatus":   `{"errorStatus":404}`,
		"ErrorMethod":   `{"errorMethods":["HEAD"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if status, body := adminDo(t, env, http.MethodPut, "/_emulator/faults", body); status != http.StatusBadRequest {
				t.Errorf("status %d %s, want 400", status, body)
			}
			if diff := cmp.Diff(Faults{ErrorRate: 0.5}, env.srv.Faults(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("a refused PUT changed the faults:\n%s", diff)
			}
		})
	}
}

func TestInjectedErrors(t *testing.T) {
	path := "/tenants/"
	cases := map[string]struct {
		reason     string
		faults     Faults
		want       errCode
		retryAfter string
	}{
		"ErrorRate":                 {"errorRate 1 answers every call with 500 and the error body", Faults{ErrorRate: 1}, errCode{500, codeInternal}, ""},
		"ErrorStatus":               {"errorStatus 503 makes them 503, as a server that is down answers", Faults{ErrorRate: 1, ErrorStatus: 503}, errCode{503, 503}, ""},
		"ThrottleRate":              {"throttleRate 1 answers every call with 429 and Retry-After", Faults{ThrottleRate: 1, RetryAfterSeconds: 7}, errCode{429, 429}, "7"},
		"ThrottleDefaultRetryAfter": {"an unset retryAfterSeconds still sends Retry-After", Faults{ThrottleRate: 1}, errCode{429, 429}, "1"},
		"None":                      {"no faults, no errors", Faults{}, errCode{Status: 200}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := startEmulator(t, Options{})
			env.srv.SetFaults(tc.faults)
			r := env.api.do(http.MethodGet, path+env.boot.TenantID, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			if got := r.header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}
			reqs := env.srv.Requests()
			if last := reqs[len(reqs)-1]; last.Status != tc.want.Status {
				t.Errorf("request log status %d, want %d", last.Status, tc.want.Status)
			}
		})
	}
}

func TestInjectedErrorLeavesStoreAlone(t *testing.T) {
	env := startEmulator(t, Options{})
	before := len(env.srv.Tenants())
	env.srv.SetFaults(Faults{ErrorRate: 1})
	r := env.api.do(http.MethodPost, "/tenants", map[string]any{"name": "x", "parent_id": env.boot.TenantID, "kind": KindCustomer})
	if diff := cmp.Diff(errCode{500, codeInternal}, r.code(t)); diff != "" {
		t.Fatalf("-want +got:\n%s", diff)
	}
	if after := len(env.srv.Tenants()); after != before {
		t.Errorf("an injected 500 must not write (tenants %d → %d)", before, after)
	}
}

func TestRateLimitPerClient(t *testing.T) {
	env := startEmulator(t, Options{})
	id, secret := env.api.createClient(env.boot.TenantID)
	other := env.as(id, secret)
	env.srv.SetFaults(Faults{RateLimit: 2})
	get := func(a *apiCaller) response { return a.do(http.MethodGet, "/tenants/"+env.boot.TenantID, nil) }
	var got []int
	for range 3 {
		got = append(got, get(env.api).status)
	}
	if diff := cmp.Diff([]int{200, 200, 429}, got); diff != "" {
		t.Errorf("a bucket of 2 per second -want +got:\n%s", diff)
	}
	r := get(env.api)
	if diff := cmp.Diff(errCode{429, 429}, r.code(t)); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
	if ra := r.header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After = %q, want 1", ra)
	}
	if s := get(other).status; s != 200 {
		t.Errorf("another client has its own bucket: status %d", s)
	}
	env.clock.Advance(time.Second)
	if s := get(env.api).status; s != 200 {
		t.Errorf("after a second the bucket refills: status %d", s)
	}
}

func TestLatency(t *testing.T) {
	env := startEmulator(t, Options{Faults: Faults{Latency: Duration(30 * time.Millisecond)}})
	start := time.Now()
	if r := env.api.do(http.MethodGet, "/tenants/"+env.boot.TenantID, nil); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if elapsed := time.Since(start); elapsed < 30*time.Millisecond {
		t.Errorf("answer came after %v, want at least 30ms", elapsed)
	}
}

func TestDropAfterCommit(t *testing.T) {
	cases := map[string]struct {
		reason  string
		methods []string
		method  string
		dropped bool
	}{
		"PostDropped":     {"a committed POST loses its answer", nil, http.MethodPost, true},
		"PutDropped":      {"a committed PUT loses its answer", nil, http.MethodPut, true},
		"GetAnswered":     {"reads are never dropped", nil, http.MethodGet, false},
		"PostNotSelected": {"only the listed methods are dropped", []string{"PUT"}, http.MethodPost, false},
		"DeleteSelected":  {"a listed DELETE is dropped", []string{"delete"}, http.MethodDelete, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := startEmulator(t, Options{})
			victim := env.api.createTenant(env.boot.TenantID, "Victim", KindCustomer)
			victim = env.api.disableTenant(victim.ID)
			env.srv.ResetRequests()
			env.srv.SetFaults(Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: tc.methods})
			var req *http.Request
			switch tc.method {
			case http.MethodPost:
				req, _ = http.NewRequest(tc.method, env.http.URL+"/api/2/tenants", strings.NewReader(`{"name":"New","parent_id":"`+env.boot.TenantID+`","kind":"customer"}`))
			case http.MethodPut:
				req, _ = http.NewRequest(tc.method, env.http.URL+"/api/2/tenants/"+victim.ID, strings.NewReader(`{"name":"Renamed","version":`+jsonInt(victim.Version)+`}`))
			case http.MethodDelete:
				req, _ = http.NewRequest(tc.method, env.http.URL+"/api/2/tenants/"+victim.ID+"?version="+jsonInt(victim.Version), nil)
			default:
				req, _ = http.NewRequest(tc.method, env.http.URL+"/api/2/tenants/"+victim.ID, nil)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+env.api.token)
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := client.Do(req)
			if resp != nil {
				resp.Body.Close()
			}
			if gotDropped := err != nil; gotDropped != tc.dropped {
				t.Fatalf("%s: error %v, dropped %v", tc.reason, err, gotDropped)
			}
			reqs := env.srv.Requests()
			if len(reqs) != 1 || reqs[0].Dropped != tc.dropped || reqs[0].Status >= 300 {
				t.Errorf("request log %+v, want one committed request with dropped=%v", reqs, tc.dropped)
			}
			// The write happened even though its answer was lost.
			switch tc.method {
			case http.MethodPost:
				found := false
				for _, tn := range env.srv.Tenants() {
					found = found || tn.Name == "New"
				}
				if !found {
					t.Error("the dropped POST did not commit")
				}
			case http.MethodPut:
				if tn, _ := env.srv.Tenant(victim.ID); tn.Name != "Renamed" {
					t.Error("the dropped PUT did not commit")
				}
			case http.MethodDelete:
				if tn, _ := env.srv.Tenant(victim.ID); tn.DeletedAt == nil {
					t.Error("the dropped DELETE did not commit")
				}
			}
		})
	}
}

func jsonInt(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestRequestLog(t *testing.T) {
	env := startEmulator(t, Options{RequestLogLimit: 3})
	env.srv.ResetRequests()
	env.api.do(http.MethodGet, "/tenants/"+env.boot.TenantID, nil)
	(&apiCaller{t: t, base: env.http.URL}).do(http.MethodGet, "/tenants/"+env.boot.TenantID, nil)
	adminDo(t, env, http.MethodGet, "/_emulator/faults", "")

	status, body := adminDo(t, env, http.MethodGet, "/_emulator/requests", "")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var got struct {
		Requests []map[string]any `json:"requests"`
	}
	mustUnmarshal(t, body, &got)
	for _, r := range got.Requests {
		delete(r, "time")
	}
	want := []map[string]any{
		{"client": env.boot.ClientID, "method": "GET", "path": "/api/2/tenants/" + env.boot.TenantID, "status": float64(200)},
		{"client": "", "method": "GET", "path": "/api/2/tenants/" + env.boot.TenantID, "status": float64(401)},
	}
	if diff := cmp.Diff(want, got.Requests); diff != "" {
		t.Errorf("the log has /api/2 calls only -want +got:\n%s", diff)
	}
	if rec := env.srv.Requests()[0]; !rec.Time.Equal(env.clock.Now()) {
		t.Errorf("record time %v, want the injected clock's %v", rec.Time, env.clock.Now())
	}

	// The log is a ring: the oldest go first.
	for range 3 {
		env.api.do(http.MethodGet, "/tenants/"+env.boot.TenantID+"/children", nil)
	}
	reqs := env.srv.Requests()
	if len(reqs) != 3 || reqs[0].Path != "/api/2/tenants/"+env.boot.TenantID+"/children" {
		t.Errorf("ring of 3 holds %+v", reqs)
	}

	if status, _ := adminDo(t, env, http.MethodDelete, "/_emulator/requests", ""); status != http.StatusNoContent {
		t.Errorf("DELETE requests: %d", status)
	}
	if n := len(env.srv.Requests()); n != 0 {
		t.Errorf("%d records after clearing", n)
	}
	if r := env.api.do(http.MethodGet, "/tenants/"+env.boot.TenantID, nil); r.status != 200 {
		t.Errorf("clearing the log must keep the bootstrap client working: %d", r.status)
	}

	// Token requests are logged under the client they name, so tests can count token fetches.
	env.srv.ResetRequests()
	env.as(env.boot.ClientID, env.boot.ClientSecret)
	env.tokenRequest(url.Values{"grant_type": {"client_credentials"}, "client_id": {"someone"}, "client_secret": {"x"}}, "", "")
	var tokenReqs []RequestRecord
	for _, r := range env.srv.Requests() {
		r.Time = time.Time{}
		tokenReqs = append(tokenReqs, r)
	}
	want2 := []RequestRecord{
		{Client: env.boot.ClientID, Method: "POST", Path: "/api/2/idp/token", Status: 200},
		{Client: "someone", Method: "POST", Path: "/api/2/idp/token", Status: 401},
	}
	if diff := cmp.Diff(want2, tokenReqs); diff != "" {
		t.Errorf("token requests in the log -want +got:\n%s", diff)
	}
	// Paths outside /api/2 are not the emulated server's and are not logged.
	env.srv.ResetRequests()
	if status, _ := adminDo(t, env, http.MethodGet, "/elsewhere", ""); status != 404 {
		t.Errorf("/elsewhere: %d", status)
	}
	if n := len(env.srv.Requests()); n != 0 {
		t.Errorf("%d records for a path outside /api/2", n)
	}
}

func TestAdminState(t *testing.T) {
	env := startEmulator(t, Options{})
	u := env.api.createUser(env.boot.TenantID, "pw")
	env.api.do(http.MethodPost, "/users/"+u.ID+"/password", map[string]any{"password": "hunter2hunter2"})
	status, body := adminDo(t, env, http.MethodGet, "/_emulator/state", "")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	if strings.Contains(string(body), "hunter2hunter2") || strings.Contains(string(body), env.boot.ClientSecret) {
		t.Error("the state dump shows a password or the bootstrap secret")
	}
	var doc struct {
		Store struct {
			Tenants map[string]Tenant `json:"tenants"`
			Users   map[string]User   `json:"users"`
		} `json:"store"`
	}
	mustUnmarshal(t, body, &doc)
	if _, ok := doc.Store.Users[u.ID]; !ok || len(doc.Store.Tenants) != 2 {
		t.Errorf("state dump has %d tenants and user %v", len(doc.Store.Tenants), ok)
	}
	if status, _ := adminDo(t, env, http.MethodGet, "/_emulator/nope", ""); status != 404 {
		t.Errorf("unknown admin path: %d", status)
	}
	if status, _ := adminDo(t, env, http.MethodPost, "/_emulator/state", "{}"); status != 405 {
		t.Errorf("POST state: %d", status)
	}
}

func TestUnroutedPaths(t *testing.T) {
	env := startEmulator(t, Options{})
	if diff := cmp.Diff(errCode{404, 404}, env.api.do(http.MethodGet, "/nothing/here", nil).code(t)); diff != "" {
		t.Errorf("unknown path -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(errCode{405, 405}, env.api.do(http.MethodPatch, "/tenants/"+env.boot.TenantID, nil).code(t)); diff != "" {
		t.Errorf("unknown method -want +got:\n%s", diff)
	}
}
