package accountserver_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// fixture is a tenant to read, update and delete, and a name to create.
type fixture struct {
	tenant *accountserver.Tenant
}

func newFixture(t *testing.T, e *env) fixture {
	t.Helper()
	tn := e.mustCreateTenant(t, e.boot.TenantID, "retry-target", accountserver.KindCustomer)
	disabled := false
	tn, err := e.client.UpdateTenant(ctxFor(t), tn.ID, accountserver.TenantUpdate{Version: tn.Version, Enabled: &disabled})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{tenant: tn}
}

func TestServerErrorsAreRetriedExceptForPOST(t *testing.T) {
	type want struct {
		Requests    int
		Unavailable bool
	}
	cases := map[string]struct {
		reason string
		method string
		call   func(ctx context.Context, c *accountserver.Client, f fixture) error
		want   want
	}{
		"GET": {
			reason: "a read is retried until the attempts run out",
			method: http.MethodGet,
			call: func(ctx context.Context, c *accountserver.Client, f fixture) error {
				_, err := c.GetTenant(ctx, f.tenant.ID)
				return err
			},
			want: want{Requests: accountserver.DefaultMaxAttempts, Unavailable: true},
		},
		"PUT": {
			reason: "a version-guarded write is retried: a committed repeat would only answer stale version",
			method: http.MethodPut,
			call: func(ctx context.Context, c *accountserver.Client, f fixture) error {
				name := "renamed"
				_, err := c.UpdateTenant(ctx, f.tenant.ID, accountserver.TenantUpdate{Version: f.tenant.Version, Name: &name})
				return err
			},
			want: want{Requests: accountserver.DefaultMaxAttempts, Unavailable: true},
		},
		"DELETE": {
			reason: "a delete is retried: a committed repeat would only answer not found",
			method: http.MethodDelete,
			call: func(ctx context.Context, c *accountserver.Client, f fixture) error {
				return c.DeleteTenant(ctx, f.tenant.ID, f.tenant.Version)
			},
			want: want{Requests: accountserver.DefaultMaxAttempts, Unavailable: true},
		},
		"POST": {
			reason: "a create that may have reached the server is never re-sent",
			method: http.MethodPost,
			call: func(ctx context.Context, c *accountserver.Client, f fixture) error {
				_, err := c.CreateTenant(ctx, accountserver.TenantCreate{Name: "new", ParentID: f.tenant.ParentID, Kind: accountserver.KindCustomer})
				return err
			},
			want: want{Requests: 1, Unavailable: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.clk.autoAdvance(t)
			f := newFixture(t, e)
			e.srv.ResetRequests()
			e.srv.SetFaults(emulator.Faults{ErrorRate: 1})
			err := tc.call(ctxFor(t), e.client, f)
			got := want{Requests: len(e.emulatorRequests(tc.method, "")), Unavailable: accountserver.IsUnavailable(err)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n%s: (-want +got):\n%s", tc.reason, err, diff)
			}
		})
	}
}

func TestTransientFailuresRecover(t *testing.T) {
	e := newEnv(t)
	e.clk.autoAdvance(t)
	ctx := ctxFor(t)
	if _, err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	// Two 503s, the second asking for 3s, then the server answers.
	e.tr.setIntercept(func(r *http.Request, n int) (*http.Response, error) {
		switch n {
		case 2:
			return answer(http.StatusServiceUnavailable, nil, `{"error":{"code":503,"message":"busy","details":{"info":""},"domain":"PlatformAccountServer"}}`), nil
		case 3:
			return answer(http.StatusServiceUnavailable, http.Header{"Retry-After": {"3"}}, `{"error":{"code":503,"message":"busy","details":{"info":""},"domain":"PlatformAccountServer"}}`), nil
		}
		return nil, nil
	})
	if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	reqs := e.tr.apiRequests()
	if diff := cmp.Diff(3, len(reqs)); diff != "" {
		t.Fatalf("attempts (-want +got):\n%s", diff)
	}
	if gap := reqs[2].Time.Sub(reqs[1].Time); gap < 3*time.Second {
		t.Errorf("retry came %s after a 503 with Retry-After: 3", gap)
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap <= 0 {
		t.Errorf("retry came %s after a 503, want a backoff", gap)
	}
}

func TestPOSTIsRetriedOnlyWhenItCertainlyWasNotProcessed(t *testing.T) {
	type want struct {
		Sent, Created int
		Err           bool
	}
	cases := map[string]struct {
		reason string
		fail   func() (*http.Response, error)
		want   want
	}{
		"429": {
			reason: "the server refused the request: it is sent again once Retry-After has passed",
			fail: func() (*http.Response, error) {
				return answer(http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}, `{"error":{"code":429,"message":"slow down","details":{"info":""},"domain":"PlatformAccountServer"}}`), nil
			},
			want: want{Sent: 2, Created: 1},
		},
		"ConnectionRefused": {
			reason: "no connection was made, so nothing reached the server",
			fail: func() (*http.Response, error) {
				return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
			},
			want: want{Sent: 2, Created: 1},
		},
		"ConnectionLost": {
			reason: "the request may have been processed: not re-sent",
			fail:   func() (*http.Response, error) { return nil, io.ErrUnexpectedEOF },
			want:   want{Sent: 1, Created: 0, Err: true},
		},
		"503": {
			reason: "a 5xx may come after processing: not re-sent",
			fail: func() (*http.Response, error) {
				return answer(http.StatusServiceUnavailable, nil, `{"error":{"code":503,"message":"busy","details":{"info":""},"domain":"PlatformAccountServer"}}`), nil
			},
			want: want{Sent: 1, Created: 0, Err: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.clk.autoAdvance(t)
			ctx := ctxFor(t)
			if _, err := e.client.Token(ctx); err != nil {
				t.Fatal(err)
			}
			e.tr.setIntercept(func(r *http.Request, n int) (*http.Response, error) {
				if n == 2 {
					return tc.fail()
				}
				return nil, nil
			})
			_, err := e.client.CreateTenant(ctx, accountserver.TenantCreate{Name: "once", ParentID: e.boot.TenantID, Kind: accountserver.KindCustomer})
			created := 0
			for _, tn := range e.srv.Tenants() {
				if tn.Name == "once" {
					created++
				}
			}
			got := want{Sent: e.tr.count(http.MethodPost, "/api/2/tenants"), Created: created, Err: err != nil}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nerr=%v (-want +got):\n%s", tc.reason, err, diff)
			}
			if err != nil && !accountserver.IsUnavailable(err) {
				t.Errorf("IsUnavailable(%v) = false", err)
			}
		})
	}
}

func TestLostAnswers(t *testing.T) {
	e := newEnv(t)
	e.clk.autoAdvance(t)
	ctx := ctxFor(t)
	parent := e.boot.TenantID

	// A create whose answer is lost after the server committed it: not re-sent, and the tenant
	// can be found by its natural key instead of being created twice.
	e.srv.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{http.MethodPost}})
	_, err := e.client.CreateTenant(ctx, accountserver.TenantCreate{Name: "lost-answer", ParentID: parent, Kind: accountserver.KindCustomer})
	if !accountserver.IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false", err)
	}
	posts := e.emulatorRequests(http.MethodPost, "/api/2/tenants")
	if diff := cmp.Diff(1, len(posts)); diff != "" {
		t.Fatalf("POST /tenants (-want +got):\n%s", diff)
	}
	e.srv.SetFaults(emulator.Faults{})
	found, err := e.client.FindTenantByName(ctx, parent, "lost-answer")
	if err != nil {
		t.Fatalf("FindTenantByName: %v", err)
	}
	if _, err := e.client.FindTenantByName(ctx, parent, "never-made"); !accountserver.IsNotFound(err) {
		t.Errorf("FindTenantByName of a missing name: IsNotFound(%v) = false", err)
	}

	// An update whose answer is lost: the retry carries the old version, so the server refuses
	// it as stale instead of applying it twice; the caller reads again and sees its change.
	e.srv.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{http.MethodPut}})
	name := "renamed-once"
	_, err = e.client.UpdateTenant(ctx, found.ID, accountserver.TenantUpdate{Version: found.Version, Name: &name})
	if !accountserver.IsStaleVersion(err) {
		t.Fatalf("IsStaleVersion(%v) = false", err)
	}
	e.srv.SetFaults(emulator.Faults{})
	now, err := e.client.GetTenant(ctx, found.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(name, now.Name); diff != "" {
		t.Errorf("name after the lost update (-want +got):\n%s", diff)
	}
}

func TestRequestTimeout(t *testing.T) {
	e := newEnv(t, withConfig(func(c *accountserver.Config) {
		c.Timeout = 50 * time.Millisecond
		c.MaxAttempts = 2
	}))
	e.clk.autoAdvance(t)
	ctx := ctxFor(t)
	if _, err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.SetFaults(emulator.Faults{Latency: emulator.Duration(5 * time.Second)})
	_, err := e.client.GetTenant(ctx, e.boot.TenantID)
	if !accountserver.IsUnavailable(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want an unavailable error caused by the request deadline, got %v", err)
	}
	if diff := cmp.Diff(2, len(e.tr.apiRequests())); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "get tenant "+e.boot.TenantID) {
		t.Errorf("error %q does not name the operation", err)
	}
}
