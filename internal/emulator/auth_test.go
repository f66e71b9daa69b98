package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTokenEndpoint(t *testing.T) {
	env := startEmulator(t, Options{TokenTTL: time.Hour})
	postID, postSecret := func() (string, string) {
		r := env.api.do(http.MethodPost, "/clients", map[string]any{"type": "api_client", "tenant_id": env.boot.TenantID, "token_endpoint_auth_method": "client_secret_post"})
		var c CreatedClient
		mustUnmarshal(t, r.body, &c)
		return c.ClientID, c.ClientSecret
	}()
	basicID, basicSecret := env.api.createClient(env.boot.TenantID)
	disabledID, disabledSecret := env.api.createClient(env.boot.TenantID)
	if r := env.api.do(http.MethodPut, "/clients/"+disabledID, map[string]any{"status": "disabled"}); r.status != http.StatusOK {
		t.Fatalf("disable client: %d %s", r.status, r.body)
	}
	deletedID, deletedSecret := env.api.createClient(env.boot.TenantID)
	if r := env.api.do(http.MethodDelete, "/clients/"+deletedID, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete client: %d %s", r.status, r.body)
	}
	cc := url.Values{"grant_type": {"client_credentials"}}
	withCreds := func(id, secret string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	}

	type want struct {
		Status int
		Error  string
	}
	cases := map[string]struct {
		reason      string
		form        url.Values
		basicID     string
		basicSecret string
		contentType string
		want        want
	}{
		"BasicAuth": {
			reason:  "the bootstrap client gets a token with Basic credentials",
			form:    cc,
			basicID: env.boot.ClientID, basicSecret: env.boot.ClientSecret,
			want: want{Status: http.StatusOK},
		},
		"FormCredentialsForPostClient": {
			reason: "a client_secret_post client sends its credentials in the form",
			form:   withCreds(postID, postSecret),
			want:   want{Status: http.StatusOK},
		},
		"BasicForPostClient": {
			reason:  "Basic is always accepted (RFC 6749 section 2.3.1)",
			form:    cc,
			basicID: postID, basicSecret: postSecret,
			want: want{Status: http.StatusOK},
		},
		"FormCredentialsForBasicClient": {
			reason: "a client_secret_basic client may not put its secret in the form",
			form:   withCreds(basicID, basicSecret),
			want:   want{Status: http.StatusUnauthorized, Error: "access_denied"},
		},
		"FormCredentialsForBootstrapClient": {
			reason: "the seeded client takes its printed credentials in either style",
			form:   withCreds(env.boot.ClientID, env.boot.ClientSecret),
			want:   want{Status: http.StatusOK},
		},
		"WrongSecret": {
			reason:  "a wrong secret is access_denied (the official token errors have no invalid_client)",
			form:    cc,
			basicID: env.boot.ClientID, basicSecret: "nope",
			want: want{Status: http.StatusUnauthorized, Error: "access_denied"},
		},
		"UnknownClient": {
			reason:  "an unknown client is access_denied",
			form:    cc,
			basicID: "00000000-0000-0000-0000-000000000000", basicSecret: "x",
			want: want{Status: http.StatusUnauthorized, Error: "access_denied"},
		},
		"NoCredentials": {
			reason: "a token request must authenticate the client",
			form:   cc,
			want:   want{Status: http.StatusUnauthorized, Error: "access_denied"},
		},
		"DisabledClient": {
			reason:  "a disabled client cannot get tokens",
			form:    cc,
			basicID: disabledID, basicSecret: disabledSecret,
			want: want{Status: http.StatusUnauthorized, Error: "access_denied"},
		},
		"DeletedClient": {
			reason:  "a deleted client cannot get tokens",
			form:    cc,
			basicID: deletedID, basicSecret: deletedSecret,
			want: want{Status: http.StatusUnauthorized, Error: "access_denied"},
		},
		"MissingGrantType": {
			reason:  "grant_type is required",
			form:    url.Values{},
			basicID: env.boot.ClientID, basicSecret: env.boot.ClientSecret,
			want: want{Status: http.StatusBadRequest, Error: "invalid_request"},
		},
		"UnsupportedGrantType": {
			reason:  "API clients only use client_credentials; the official token errors have no unsupported_grant_type",
			form:    url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}},
			basicID: env.boot.ClientID, basicSecret: env.boot.ClientSecret,
			want: want{Status: http.StatusBadRequest, Error: "invalid_request"},
		},
		"CredentialsTwice": {
			reason:  "credentials in both header and body are refused",
			form:    withCreds(env.boot.ClientID, env.boot.ClientSecret),
			basicID: env.boot.ClientID, basicSecret: env.boot.ClientSecret,
			want: want{Status: http.StatusBadRequest, Error: "invalid_request"},
		},
		"JSONBody": {
			reason:  "the token endpoint takes a form, not JSON; the official document declares no 415 there, so it is an OAuth 400",
			form:    cc,
			basicID: env.boot.ClientID, basicSecret: env.boot.ClientSecret,
			contentType: "application/json",
			want:        want{Status: http.StatusBadRequest, Error: "invalid_request"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, env.http.URL+"/api/2/idp/token", strings.NewReader(tc.form.Encode()))
			ct := tc.contentType
			if ct == "" {
				ct = "application/x-www-form-urlencoded"
			}
			req.Header.Set("Content-Type", ct)
			if tc.basicID != "" {
				req.SetBasicAuth(tc.basicID, tc.basicSecret)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("decoding answer: %v", err)
			}
			got := want{Status: resp.StatusCode}
			if e, ok := body["error"].(string); ok {
				got.Error = e
				if _, ok := body["error_description"].(string); !ok {
					t.Errorf("OAuth error without error_description: %v", body)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			if resp.StatusCode == http.StatusOK {
				gotShape := map[string]any{"token_type": body["token_type"], "expires_in": body["expires_in"], "expires_on": body["expires_on"]}
				wantShape := map[string]any{"token_type": "bearer", "expires_in": float64(3600), "expires_on": float64(env.clock.Now().Add(time.Hour).Unix())}
				if diff := cmp.Diff(wantShape, gotShape); diff != "" {
					t.Errorf("token answer -want +got:\n%s", diff)
				}
				for _, k := range []string{"access_token", "id_token"} {
					if s, _ := body[k].(string); len(strings.Split(s, ".")) != 3 {
						t.Errorf("%s is not JWT-shaped: %q", k, s)
					}
				}
			}
		})
	}
}

func TestBearerAuthentication(t *testing.T) {
	env := startEmulator(t, Options{TokenTTL: time.Hour})
	path := "/tenants/" + env.boot.TenantID
	cases := map[string]struct {
		reason string
		call   func() response
		want   errCode
	}{
		"HeaderToken": {
			reason: "a bearer token in the Authorization header works",
			call:   func() response { return env.api.do(http.MethodGet, path, nil) },
			want:   errCode{Status: http.StatusOK},
		},
		"QueryToken": {
			reason: "a bearer token may come as the access_token query parameter",
			call: func() response {
				return (&apiCaller{t: t, base: env.http.URL}).do(http.MethodGet, path+"?access_token="+url.QueryEscape(env.api.token), nil)
			},
			want: errCode{Status: http.StatusOK},
		},
		"NoToken": {
			reason: "no token is 401",
			call:   func() response { return (&apiCaller{t: t, base: env.http.URL}).do(http.MethodGet, path, nil) },
			want:   errCode{Status: http.StatusUnauthorized, Code: http.StatusUnauthorized},
		},
		"UnknownToken": {
			reason: "an unknown token is 401",
			call: func() response {
				return (&apiCaller{t: t, base: env.http.URL, token: "x.y.z"}).do(http.MethodGet, path, nil)
			},
			want: errCode{Status: http.StatusUnauthorized, Code: http.StatusUnauthorized},
		},
		"BasicInsteadOfBearer": {
			reason: "API calls need a bearer token, not client credentials",
			call: func() response {
				req, _ := http.NewRequest(http.MethodGet, env.http.URL+"/api/2"+path, nil)
				req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(env.boot.ClientID+":"+env.boot.ClientSecret)))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var b []byte
				b, _ = readAll(resp)
				return response{status: resp.StatusCode, body: b}
			},
			want: errCode{Status: http.StatusUnauthorized, Code: http.StatusUnauthorized},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.call().code(t)); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTokenExpiresOnInjectedClock(t *testing.T) {
	env := startEmulator(t, Options{TokenTTL: time.Hour})
	path := "/tenants/" + env.boot.TenantID
	env.clock.Advance(time.Hour - time.Second)
	if diff := cmp.Diff(errCode{Status: http.StatusOK}, env.api.do(http.MethodGet, path, nil).code(t)); diff != "" {
		t.Errorf("a token one second before expiry must work\n-want +got:\n%s", diff)
	}
	env.clock.Advance(time.Second)
	if diff := cmp.Diff(errCode{Status: 401, Code: 401}, env.api.do(http.MethodGet, path, nil).code(t)); diff != "" {
		t.Errorf("an expired token must answer 401\n-want +got:\n%s", diff)
	}
	fresh := env.as(env.boot.ClientID, env.boot.ClientSecret)
	if diff := cmp.Diff(errCode{Status: http.StatusOK}, fresh.do(http.MethodGet, path, nil).code(t)); diff != "" {
		t.Errorf("a new token after expiry must work\n-want +got:\n%s", diff)
	}
}

func TestDisablingOrDeletingClientStopsItsTokens(t *testing.T) {
	for _, action := range []string{"disable", "delete"} {
		t.Run(action, func(t *testing.T) {
			env := startEmulator(t, Options{})
			id, secret := env.api.createClient(env.boot.TenantID)
			other := env.as(id, secret)
			path := "/tenants/" + env.boot.TenantID
			if diff := cmp.Diff(errCode{Status: 200}, other.do(http.MethodGet, path, nil).code(t)); diff != "" {
				t.Fatalf("a created client must work like the bootstrap client\n-want +got:\n%s", diff)
			}
			var r response
			if action == "disable" {
				r = env.api.do(http.MethodPut, "/clients/"+id, map[string]any{"status": "disabled"})
			} else {
				r = env.api.do(http.MethodDelete, "/clients/"+id, nil)
			}
			if r.status >= 300 {
				t.Fatalf("%s: %d %s", action, r.status, r.body)
			}
			if diff := cmp.Diff(errCode{Status: 401, Code: 401}, other.do(http.MethodGet, path, nil).code(t)); diff != "" {
				t.Errorf("after %s the client's token must stop working\n-want +got:\n%s", action, diff)
			}
		})
	}
}

func TestRevokeToken(t *testing.T) {
	env := startEmulator(t, Options{})
	form := url.Values{"token": {env.api.token}}
	req, _ := http.NewRequest(http.MethodPost, env.http.URL+"/api/2/idp/revoke_token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(env.boot.ClientID, env.boot.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	if diff := cmp.Diff(errCode{Status: 401, Code: 401}, env.api.do(http.MethodGet, "/tenants/"+env.boot.TenantID, nil).code(t)); diff != "" {
		t.Errorf("a revoked token must answer 401\n-want +got:\n%s", diff)
	}
}
