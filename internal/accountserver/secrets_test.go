package accountserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

const (
	clientSecret = "Sup3r-S3cret-Client-Credential-4711"
	password     = "Pa55word-That-Must-Never-Leak-0815"
)

// leaks returns every secret found in s: the client secret, the password, or an access token
// the client sent.
func leaks(s string, tokens []string) []string {
	var found []string
	for _, secret := range append([]string{clientSecret, password}, tokens...) {
		if secret != "" && strings.Contains(s, secret) {
			found = append(found, secret)
		}
	}
	return found
}

// sentTokens are the bearer tokens the client used.
func sentTokens(e *env) []string {
	var out []string
	for _, s := range e.tr.sent() {
		if v, ok := strings.CutPrefix(s.Header.Get("Authorization"), "Bearer "); ok {
			out = append(out, v)
		}
	}
	return out
}

// echo answers with a body quoting the request's credentials and body, as a careless server or
// proxy might.
func echo(status int, r *http.Request, oauthShape bool) *http.Response {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	quoted := fmt.Sprintf("bad request: auth=%q body=%q", r.Header.Get("Authorization"), string(body))
	if oauthShape {
		b, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": quoted + " secret=" + clientSecret})
		return answer(status, nil, string(b))
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{
		"code": 1000, "message": quoted, "details": map[string]string{"info": quoted}, "context": map[string]string{"auth": r.Header.Get("Authorization")},
		"domain": "PlatformAccountServer",
	}})
	return answer(status, nil, string(b))
}

func TestNoSecretInLogsOrErrors(t *testing.T) {
	cases := map[string]struct {
		reason string
		cfg    func(*accountserver.Config)
		setup  func(e *env)
		call   func(ctx context.Context, e *env) error
	}{
		"BadCredentials": {
			reason: "the server refuses the client secret",
			cfg:    func(c *accountserver.Config) { c.ClientSecret = clientSecret + "-wrong" },
		},
		"TokenEndpointQuotesTheSecret": {
			reason: "the oauth2 library puts the raw answer in its error; it must not be passed on",
			setup: func(e *env) {
				e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
					if r.URL.Path == tokenPath {
						return answer(http.StatusInternalServerError, http.Header{"Content-Type": {"text/plain"}},
							"upstream failed for secret "+clientSecret+" and header "+r.Header.Get("Authorization")), nil
					}
					return nil, nil
				})
			},
		},
		"TokenErrorDescriptionQuotesTheSecret": {
			reason: "an OAuth error body quoting the credentials",
			setup: func(e *env) {
				e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
					if r.URL.Path == tokenPath {
						return echo(http.StatusUnauthorized, r, true), nil
					}
					return nil, nil
				})
			},
		},
		"TokenEndpointUnreachable": {
			reason: "a transport error while fetching a token",
			setup: func(e *env) {
				e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
					return nil, io.ErrUnexpectedEOF
				})
			},
		},
		"TokenEndpoint5xx": {
			reason: "the emulator fails every request, the token request included",
			setup:  func(e *env) { e.srv.SetFaults(emulator.Faults{ErrorRate: 1}) },
		},
		"APIRefusesAndQuotesTheToken": {
			reason: "401 twice, the answer quoting the bearer token",
			setup: func(e *env) {
				e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
					if r.URL.Path != tokenPath {
						return echo(http.StatusUnauthorized, r, false), nil
					}
					return nil, nil
				})
			},
		},
		"API5xxQuotesTheToken": {
			reason: "retried 5xx answers quoting the bearer token",
			setup: func(e *env) {
				e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
					if r.URL.Path != tokenPath {
						return echo(http.StatusBadGateway, r, false), nil
					}
					return nil, nil
				})
			},
		},
		"PasswordQuotedBack": {
			reason: "the server quotes the password it refuses",
			setup: func(e *env) {
				e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
					if strings.HasSuffix(r.URL.Path, "/password") {
						return echo(http.StatusBadRequest, r, false), nil
					}
					return nil, nil
				})
			},
			call: func(ctx context.Context, e *env) error {
				return e.client.SetPassword(ctx, "3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21", password)
			},
		},
		"PasswordLostAnswer": {
			reason: "a transport error on the password call",
			setup: func(e *env) {
				e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
					if strings.HasSuffix(r.URL.Path, "/password") {
						return nil, io.ErrUnexpectedEOF
					}
					return nil, nil
				})
			},
			call: func(ctx context.Context, e *env) error {
				return e.client.SetPassword(ctx, "3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21", password)
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			opts := []envOption{withEmulator(func(o *emulator.Options) { o.ClientSecret = clientSecret })}
			if tc.cfg != nil {
				opts = append(opts, withConfig(tc.cfg))
			}
			e := newEnv(t, opts...)
			e.clk.autoAdvance(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			call := tc.call
			if call == nil {
				call = func(ctx context.Context, e *env) error {
					_, err := e.client.GetTenant(ctx, e.boot.TenantID)
					return err
				}
			}
			err := call(ctxFor(t), e)
			if err == nil {
				t.Fatalf("%s: want an error", tc.reason)
			}
			tokens := sentTokens(e)
			for _, text := range []string{err.Error(), fmt.Sprintf("%v|%+v|%#v|%s", err, err, err, err), e.logs.String()} {
				if l := leaks(text, tokens); len(l) > 0 {
					t.Errorf("%s: secrets %q leaked into:\n%s", tc.reason, l, text)
				}
			}
			// Unwrapping must not reach the oauth2 library's error, which prints the raw answer.
			for u := err; u != nil; u = unwrap(u) {
				if l := leaks(u.Error(), tokens); len(l) > 0 {
					t.Errorf("%s: secrets %q reachable through Unwrap: %s", tc.reason, l, u.Error())
				}
			}
			if ae, ok := accountserver.AsError(err); ok {
				for _, s := range []string{ae.Message(), ae.Info(), ae.Code(), string(ae.Context())} {
					if l := leaks(s, tokens); len(l) > 0 {
						t.Errorf("%s: secrets %q leaked into an error field: %s", tc.reason, l, s)
					}
				}
			}
		})
	}
}

func unwrap(err error) error {
	u, ok := err.(interface{ Unwrap() error })
	if !ok {
		return nil
	}
	return u.Unwrap()
}

func TestConfigAndClientNeverPrintTheSecret(t *testing.T) {
	cfg := accountserver.Config{URL: "https://eu2-cloud.example.com", ClientID: "my-client", ClientSecret: clientSecret}
	c, err := accountserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type holder struct {
		Cfg    accountserver.Config
		Client *accountserver.Client
	}
	cc := accountserver.CreatedClient{ClientSecret: accountserver.Secret(clientSecret)}
	jsonCfg, _ := json.Marshal(cfg)
	jsonCC, _ := json.Marshal(cc)
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg, cfg),
		fmt.Sprintf("%v %+v %#v %s", &cfg, &cfg, &cfg, &cfg),
		fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v", holder{cfg, c}, holder{cfg, c}, holder{cfg, c}),
		fmt.Sprintf("%v %+v %#v %s", cc, cc, cc, cc.ClientSecret),
		string(jsonCfg), string(jsonCC),
	} {
		if strings.Contains(s, clientSecret) {
			t.Errorf("secret printed: %s", s)
		}
	}
	if !strings.Contains(fmt.Sprint(cfg), "my-client") {
		t.Errorf("the redacted form should still name the client: %s", cfg)
	}
	if string(cc.ClientSecret) != clientSecret {
		t.Errorf("string(Secret) must give the value back")
	}
}
