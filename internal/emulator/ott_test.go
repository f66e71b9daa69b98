package emulator

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ottWireRows are the rows of TestWireOperations for the one-time token endpoints.
func ottWireRows() []wireRow {
	return []wireRow{
		{
			op: "POST /idp/ott",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/idp/ott", map[string]any{"purpose": "user_login", "user_id": f.user.ID, "tenant_id": f.customer.ID})
			},
			field: "body.tenant_id",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/idp/ott", map[string]any{"purpose": "user_login", "user_id": f.user.ID, "audit_data": "wire test"})
			},
			want: http.StatusOK,
			check: func(t *testing.T, _ *wireFixture, body []byte) {
				var out struct{ OTT string }
				mustUnmarshal(t, body, &out)
				if out.OTT == "" {
					t.Errorf("no ott in %s", body)
				}
			},
		},
		{
			op: "POST /idp/ott/login",
			refused: func(f *wireFixture) wireReq {
				return wireDo("POST", "/idp/ott/login", map[string]any{})
			},
			field: "body.ott",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireDo("POST", "/idp/ott/login", map[string]any{"ott": f.ott(t)})
			},
			want: http.StatusOK,
		},
		{
			op:        "GET /idp/external-login",
			noRefusal: "its two query parameters are optional strings and it takes no body",
			accepted: func(t *testing.T, f *wireFixture) wireReq {
				return wireGet("/idp/external-login?" + url.Values{"ott": {f.ott(t)}, "targetURI": {"https://example.com/mc/"}}.Encode())
			},
			want: http.StatusOK,
		},
	}
}

// ott asks for a one-time token of the fixture's user.
func (f *wireFixture) ott(t *testing.T) string {
	t.Helper()
	var out struct{ OTT string }
	mustUnmarshal(t, f.mustStatus(t, http.StatusOK, "POST", "/idp/ott", map[string]any{"purpose": "user_login", "user_id": f.user.ID}), &out)
	return out.OTT
}

// public calls an endpoint that takes no bearer token.
func public(env *testEnv) *apiCaller { return &apiCaller{t: env.t, base: env.http.URL} }

func issueOTT(t *testing.T, a *apiCaller, body map[string]any) string {
	t.Helper()
	body["purpose"] = "user_login"
	r := a.do(http.MethodPost, "/idp/ott", body)
	if r.status != http.StatusOK {
		t.Fatalf("POST /idp/ott %v: %d %s", body, r.status, r.body)
	}
	var out struct{ OTT string }
	mustUnmarshal(t, r.body, &out)
	return out.OTT
}

func TestOTTIsAcceptedOnce(t *testing.T) {
	w := newWorld(t, Options{})
	u := w.env.api.createUser(w.customer.ID, "ott-user")
	anon := public(w.env)

	t.Run("ott/login", func(t *testing.T) {
		ott := issueOTT(t, w.env.api, map[string]any{"user_id": u.ID})
		r := anon.do(http.MethodPost, "/idp/ott/login", map[string]any{"ott": ott})
		if r.status != http.StatusOK {
			t.Fatalf("first use: %d %s", r.status, r.body)
		}
		var got User
		mustUnmarshal(t, r.body, &got)
		if got.ID != u.ID {
			t.Errorf("logged in as %s, want %s", got.ID, u.ID)
		}
		r = anon.do(http.MethodPost, "/idp/ott/login", map[string]any{"ott": ott})
		if c := r.code(t); c.Status != http.StatusUnauthorized {
			t.Fatalf("reuse: %v %s, want 401", c, r.body)
		}
		if strings.Contains(string(r.body), ott) {
			t.Error("the refusal echoes the token")
		}
	})
	t.Run("external-login", func(t *testing.T) {
		ott := issueOTT(t, w.env.api, map[string]any{"login": "OTT-USER"})
		path := "/idp/external-login?" + url.Values{"ott": {ott}, "targetURI": {"https://example.com/mc/"}}.Encode()
		r := anon.do(http.MethodGet, path, nil)
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Fatalf("first use: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		}
		if !strings.Contains(string(r.body), "ott-user") || !strings.Contains(string(r.body), `href="https://example.com/mc/"`) {
			t.Errorf("page = %s, want the login and a link to the target", r.body)
		}
		r = anon.do(http.MethodGet, path, nil)
		if c := r.code(t); c.Status != http.StatusUnauthorized {
			t.Fatalf("reuse: %v %s, want 401", c, r.body)
		}
		// Nor may the other endpoint take a token the page took.
		r = anon.do(http.MethodPost, "/idp/ott/login", map[string]any{"ott": ott})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("ott/login after the page: %d, want 401", r.status)
		}
		for _, rec := range w.env.srv.Requests() {
			if strings.Contains(rec.Query, url.QueryEscape(ott)) || strings.Contains(rec.Query, ott) {
				t.Fatalf("the request log holds the token: %q", rec.Query)
			}
		}
	})
	t.Run("by external_id", func(t *testing.T) {
		r := w.env.api.do(http.MethodPost, "/users", map[string]any{"tenant_id": w.customer.ID, "login": "ott-external",
			"external_id": "crm-42", "contact": map[string]any{"email": "x@example.com"}})
		if r.status != http.StatusOK {
			t.Fatalf("create: %d %s", r.status, r.body)
		}
		var made User
		mustUnmarshal(t, r.body, &made)
		ott := issueOTT(t, w.env.api, map[string]any{"external_id": "crm-42"})
		r = anon.do(http.MethodPost, "/idp/ott/login", map[string]any{"ott": ott})
		var got User
		mustUnmarshal(t, r.body, &got)
		if r.status != http.StatusOK || got.ID != made.ID {
			t.Fatalf("login: %d as %s, want 200 as %s", r.status, got.ID, made.ID)
		}
	})
	t.Run("just before expiry", func(t *testing.T) {
		ott := issueOTT(t, w.env.api, map[string]any{"user_id": u.ID})
		w.env.clock.Advance(OTTLifetime - time.Second)
		if r := anon.do(http.MethodPost, "/idp/ott/login", map[string]any{"ott": ott}); r.status != http.StatusOK {
			t.Fatalf("got %d %s, want 200", r.status, r.body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		ott := issueOTT(t, w.env.api, map[string]any{"user_id": u.ID})
		w.env.clock.Advance(OTTLifetime)
		r := anon.do(http.MethodPost, "/idp/ott/login", map[string]any{"ott": ott})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("expired: %d %s, want 401", r.status, r.body)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		r := anon.do(http.MethodGet, "/idp/external-login?ott=nonsense", nil)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("unknown: %d %s, want 401", r.status, r.body)
		}
	})
	t.Run("no token in the query", func(t *testing.T) {
		r := anon.do(http.MethodGet, "/idp/external-login", nil)
		if r.status != http.StatusOK {
			t.Fatalf("page without ott: %d %s, want 200", r.status, r.body)
		}
	})
}

func TestOTTRefusals(t *testing.T) {
	w := newWorld(t, Options{})
	u := w.env.api.createUser(w.customer.ID, "ott-refused")
	other := w.env.api.createUser(w.p2.ID, "ott-other-partner")
	// A client of the partner cannot reach a user of another partner.
	partnerID, partnerSecret := w.env.api.createClient(w.partner.ID)
	partnerAPI := w.env.as(partnerID, partnerSecret)

	disabled := w.env.api.createUser(w.customer.ID, "ott-disabled")
	if r := w.env.api.do(http.MethodPut, "/users/"+disabled.ID, map[string]any{"version": disabled.Version, "enabled": false}); r.status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}

	cases := map[string]struct {
		caller *apiCaller
		body   map[string]any
		want   int
	}{
		"outside the subtree by id":    {partnerAPI, map[string]any{"purpose": "user_login", "user_id": other.ID}, http.StatusForbidden},
		"outside the subtree by login": {partnerAPI, map[string]any{"purpose": "user_login", "login": other.Login}, http.StatusForbidden},
		"disabled user":                {w.env.api, map[string]any{"purpose": "user_login", "user_id": disabled.ID}, http.StatusForbidden},
		"unknown login":                {w.env.api, map[string]any{"purpose": "user_login", "login": "nobody"}, http.StatusNotFound},
		"no user named":                {w.env.api, map[string]any{"purpose": "user_login"}, http.StatusBadRequest},
		"two names":                    {w.env.api, map[string]any{"purpose": "user_login", "user_id": u.ID, "login": u.Login}, http.StatusBadRequest},
		"purpose verify":               {w.env.api, map[string]any{"purpose": "verify", "user_id": u.ID}, http.StatusBadRequest},
		"unknown field":                {w.env.api, map[string]any{"purpose": "user_login", "user_id": u.ID, "ttl": 60}, http.StatusBadRequest},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := tc.caller.do(http.MethodPost, "/idp/ott", tc.body)
			if c := r.code(t); c.Status != tc.want {
				t.Fatalf("got %v %s, want %d", c, r.body, tc.want)
			}
		})
	}
	t.Run("a token of a user disabled since is refused", func(t *testing.T) {
		v := w.env.api.createUser(w.customer.ID, "ott-disabled-later")
		ott := issueOTT(t, w.env.api, map[string]any{"user_id": v.ID})
		if r := w.env.api.do(http.MethodPut, "/users/"+v.ID, map[string]any{"version": v.Version, "enabled": false}); r.status != http.StatusOK {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		if r := public(w.env).do(http.MethodPost, "/idp/ott/login", map[string]any{"ott": ott}); r.status != http.StatusUnauthorized {
			t.Fatalf("got %d %s, want 401", r.status, r.body)
		}
	})
	t.Run("no bearer token", func(t *testing.T) {
		r := public(w.env).do(http.MethodPost, "/idp/ott", map[string]any{"purpose": "user_login", "user_id": u.ID})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("got %d, want 401", r.status)
		}
	})
}

func TestOTTNeverInState(t *testing.T) {
	w := newWorld(t, Options{})
	u := w.env.api.createUser(w.customer.ID, "ott-state")
	ott := issueOTT(t, w.env.api, map[string]any{"user_id": u.ID})
	data, err := w.env.srv.redactedState()
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	if err := w.env.srv.SaveState(&sb); err != nil {
		t.Fatal(err)
	}
	for what, s := range map[string]string{"GET /_emulator/state": string(data), "the saved state": sb.String()} {
		esc, _ := json.Marshal(ott)
		if strings.Contains(s, ott) || strings.Contains(s, string(esc)) {
			t.Errorf("%s holds the token", what)
		}
	}
}

func TestRedactedQuery(t *testing.T) {
	cases := map[string]struct{ raw, want string }{
		"none":       {"uuids=a,b", "uuids=a,b"},
		"ott":        {"ott=abc%2B%3D&targetURI=https%3A%2F%2Fx", "ott=REDACTED&targetURI=https%3A%2F%2Fx"},
		"other name": {"bottle=1", "bottle=1"},
		"empty":      {"", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := redactedQuery(&url.URL{RawQuery: tc.raw}); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
