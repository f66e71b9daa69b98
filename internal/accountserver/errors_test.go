package accountserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// verdict is everything the typed-error helpers say about an error.
type verdict struct {
	NotFound, Conflict, StaleVersion, Forbidden, Invalid, Unauthorized, Unavailable bool
	Status                                                                          int
	Code                                                                            string
}

func judge(err error) verdict {
	v := verdict{
		NotFound:     accountserver.IsNotFound(err),
		Conflict:     accountserver.IsConflict(err),
		StaleVersion: accountserver.IsStaleVersion(err),
		Forbidden:    accountserver.IsForbidden(err),
		Invalid:      accountserver.IsInvalid(err),
		Unauthorized: accountserver.IsUnauthorized(err),
		Unavailable:  accountserver.IsUnavailable(err),
	}
	if e, ok := accountserver.AsError(err); ok {
		v.Status, v.Code = e.StatusCode(), e.Code()
	}
	return v
}

func TestTypedErrorsFromTheServer(t *testing.T) {
	type args struct {
		call func(t *testing.T, ctx context.Context, e *env) error
	}
	cases := map[string]struct {
		reason      string
		args        args
		want        verdict
		wantMessage string
	}{
		"BadRequest": {
			reason: "a kind rule violation is a 400 carrying the server's message",
			args: args{call: func(t *testing.T, ctx context.Context, e *env) error {
				cust := e.mustCreateTenant(t, e.boot.TenantID, "a-customer", accountserver.KindCustomer)
				_, err := e.client.CreateTenant(ctx, accountserver.TenantCreate{Name: "nested", ParentID: cust.ID, Kind: accountserver.KindCustomer})
				return err
			}},
			want:        verdict{Invalid: true, Status: 400, Code: "400"},
			wantMessage: "cannot be placed under",
		},
		"BadRequestWithPlatformCode": {
			reason: "deleting an enabled tenant is a 400 with platform code 1006",
			args: args{call: func(t *testing.T, ctx context.Context, e *env) error {
				tn := e.mustCreateTenant(t, e.boot.TenantID, "still-enabled", accountserver.KindCustomer)
				return e.client.DeleteTenant(ctx, tn.ID, tn.Version)
			}},
			want:        verdict{Invalid: true, Status: 400, Code: "1006"},
			wantMessage: "must be disabled",
		},
		"Forbidden": {
			reason: "the root tenant is outside the credentials' subtree",
			args: args{call: func(t *testing.T, ctx context.Context, e *env) error {
				_, err := e.client.GetTenant(ctx, e.boot.RootTenantID)
				return err
			}},
			want: verdict{Forbidden: true, Status: 403, Code: "1002"},
		},
		"NotFound": {
			reason: "an unknown tenant (platform code 1005, tenant not found)",
			args: args{call: func(t *testing.T, ctx context.Context, e *env) error {
				_, err := e.client.GetTenant(ctx, "0b7e3b1c-2f0c-4a59-8d9e-5f1f2b3c4d5e")
				return err
			}},
			want: verdict{NotFound: true, Status: 404, Code: "1005"},
		},
		"NameConflict": {
			reason: "a sibling already has the name: a conflict, not a stale version",
			args: args{call: func(t *testing.T, ctx context.Context, e *env) error {
				e.mustCreateTenant(t, e.boot.TenantID, "twin", accountserver.KindCustomer)
				_, err := e.client.CreateTenant(ctx, accountserver.TenantCreate{Name: "twin", ParentID: e.boot.TenantID, Kind: accountserver.KindCustomer})
				return err
			}},
			want:        verdict{Conflict: true, Status: 409, Code: "1004"},
			wantMessage: "already exists",
		},
		"StaleVersion": {
			reason: "an update with a version that is no longer current",
			args: args{call: func(t *testing.T, ctx context.Context, e *env) error {
				tn := e.mustCreateTenant(t, e.boot.TenantID, "versioned", accountserver.KindCustomer)
				first, second := "first", "second"
				if _, err := e.client.UpdateTenant(ctx, tn.ID, accountserver.TenantUpdate{Version: tn.Version, Name: &first}); err != nil {
					return err
				}
				_, err := e.client.UpdateTenant(ctx, tn.ID, accountserver.TenantUpdate{Version: tn.Version, Name: &second})
				return err
			}},
			want: verdict{StaleVersion: true, Status: 409, Code: "1001"},
		},
		"LoginTaken": {
			reason: "a login is taken server-wide: a conflict (code 1004), not a stale version",
			args: args{call: func(t *testing.T, ctx context.Context, e *env) error {
				in := accountserver.UserCreate{TenantID: e.boot.TenantID, Login: "taken-login", Contact: accountserver.Contact{Email: "a@example.com"}}
				if _, err := e.client.CreateUser(ctx, in); err != nil {
					return err
				}
				_, err := e.client.CreateUser(ctx, in)
				return err
			}},
			want: verdict{Conflict: true, Status: 409, Code: "1004"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			err := tc.args.call(t, ctxFor(t), e)
			got := judge(err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nerr=%v (-want +got):\n%s", tc.reason, err, diff)
			}
			ae, _ := accountserver.AsError(err)
			if ae != nil && !strings.Contains(ae.Message(), tc.wantMessage) {
				t.Errorf("Message() = %q, want it to contain %q", ae.Message(), tc.wantMessage)
			}
			if ae != nil && !strings.HasPrefix(err.Error(), "accountserver: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	type want struct {
		Verdict    verdict
		Message    string
		Text       string
		HasContext bool
	}
	cases := map[string]struct {
		reason string
		status int
		header http.Header
		body   string
		want   want
	}{
		"NumericCode": {
			reason: "the documented body with a numeric platform code",
			status: 400,
			body:   `{"error":{"code":1021,"message":"offering item not available","details":{"info":"enable it on the parent first"},"context":{"items":["vms"]},"domain":"PlatformAccountServer"}}`,
			want: want{
				Verdict:    verdict{Invalid: true, Status: 400, Code: "1021"},
				Message:    "offering item not available",
				Text:       "accountserver: get tenant 3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21: 400 Bad Request: offering item not available (code 1021)",
				HasContext: true,
			},
		},
		"StringCode": {
			reason: "code may be a string",
			status: 409,
			body:   `{"error":{"code":"LoginAlreadyExists","message":"login taken","details":{"info":""},"domain":"PlatformAccountServer"}}`,
			want: want{
				Verdict: verdict{Conflict: true, Status: 409, Code: "LoginAlreadyExists"},
				Message: "login taken",
				Text:    "accountserver: get tenant 3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21: 409 Conflict: login taken (code LoginAlreadyExists)",
			},
		},
		"UpgradeRequired": {
			reason: "426 is a stale quota version",
			status: 426,
			body:   `{"error":{"code":426,"message":"quota version mismatch","details":{"info":""},"domain":"PlatformAccountServer"}}`,
			want: want{
				Verdict: verdict{StaleVersion: true, Status: 426, Code: "426"},
				Message: "quota version mismatch",
				Text:    "accountserver: get tenant 3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21: 426 Upgrade Required: quota version mismatch",
			},
		},
		"OAuthShape": {
			reason: "the token endpoint's body shape, met on an API path",
			status: 403,
			body:   `{"error":"access_denied","error_description":"scope not granted"}`,
			want: want{
				Verdict: verdict{Forbidden: true, Status: 403, Code: "access_denied"},
				Message: "scope not granted",
				Text:    "accountserver: get tenant 3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21: 403 Forbidden: scope not granted (code access_denied)",
			},
		},
		"NotJSON": {
			reason: "a proxy's HTML page is not copied into the error",
			status: 404,
			body:   `<html><body>Not Found: /api/2/tenants/...</body></html>`,
			want: want{
				Verdict: verdict{NotFound: true, Status: 404, Code: "404"},
				Text:    "accountserver: get tenant 3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21: 404 Not Found",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.tr.setIntercept(func(r *http.Request, _ int) (*http.Response, error) {
				if r.URL.Path == tokenPath {
					return nil, nil
				}
				return answer(tc.status, tc.header, tc.body), nil
			})
			_, err := e.client.GetTenant(ctxFor(t), "3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21")
			ae, ok := accountserver.AsError(err)
			if !ok {
				t.Fatalf("not an *accountserver.Error: %v", err)
			}
			got := want{Verdict: judge(err), Message: ae.Message(), Text: err.Error(), HasContext: len(ae.Context()) > 0}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(1, len(e.tr.apiRequests())); diff != "" {
				t.Errorf("a 4xx is not retried (-want +got):\n%s", diff)
			}
		})
	}
}
