package accountserver_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

const tokenPath = "/api/2/idp/token"

func TestTokenIsReused(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)

	// Twenty callers at once with no token yet: one fetch serves them all.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := e.client.GetTenant(ctx, e.boot.TenantID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
	}
	// And twenty more one after the other.
	for range 20 {
		if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
			t.Fatalf("GetTenant: %v", err)
		}
	}
	if diff := cmp.Diff(1, len(e.emulatorRequests(http.MethodPost, tokenPath))); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(40, len(e.emulatorRequests(http.MethodGet, "/api/2/tenants/"+e.boot.TenantID))); diff != "" {
		t.Errorf("GET requests (-want +got):\n%s", diff)
	}
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	e := newEnv(t, withEmulator(func(o *emulator.Options) { o.TokenTTL = 10 * time.Minute }))
	ctx := ctxFor(t)

	first, err := e.client.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if diff := cmp.Diff(epoch.Add(10*time.Minute), first); diff != "" {
		t.Errorf("expiry (-want +got):\n%s", diff)
	}
	// Still fresh: reused.
	e.clk.Step(7 * time.Minute)
	if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if got := len(e.emulatorRequests(http.MethodPost, tokenPath)); got != 1 {
		t.Fatalf("token requests after 7m = %d, want 1", got)
	}
	// Within the expiry delta (2m of a 10m token): replaced before the server would refuse it.
	e.clk.Step(90 * time.Second)
	if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	// Past expiry: replaced again.
	e.clk.Step(11 * time.Minute)
	if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	if diff := cmp.Diff(3, len(e.emulatorRequests(http.MethodPost, tokenPath))); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
	for _, r := range e.emulatorRequests(http.MethodGet, "") {
		if r.Status == http.StatusUnauthorized {
			t.Errorf("a request was sent with an expired token: %+v", r)
		}
	}
	last, err := e.client.Token(ctx)
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if diff := cmp.Diff(e.clk.Now().Add(10*time.Minute), last); diff != "" {
		t.Errorf("expiry of the newest token (-want +got):\n%s", diff)
	}
}

func TestTokenRefreshedAfter401(t *testing.T) {
	// The server's clock jumps ahead once skew is set while the client's stays put, so the server
	// expires a token the client still holds as valid: the client must learn it from the 401.
	var skew atomic.Int64
	e := newEnv(t, withEmulator(func(o *emulator.Options) {
		o.TokenTTL = time.Hour
		o.Now = func() time.Time { return epoch.Add(time.Duration(skew.Load())) }
	}))
	ctx := ctxFor(t)
	if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	skew.Store(int64(2 * time.Hour))
	if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
		t.Fatalf("GetTenant after the server expired the token: %v", err)
	}
	var statuses []int
	for _, r := range e.emulatorRequests(http.MethodGet, "/api/2/tenants/"+e.boot.TenantID) {
		statuses = append(statuses, r.Status)
	}
	if diff := cmp.Diff([]int{200, 401, 200}, statuses); diff != "" {
		t.Errorf("GET statuses (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(2, len(e.emulatorRequests(http.MethodPost, tokenPath))); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
}

func TestPersistent401IsUnauthorizedAfterOneRefresh(t *testing.T) {
	var tokens, calls atomic.Int32
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == tokenPath {
			tokens.Add(1)
			_, _ = w.Write([]byte(`{"access_token":"tok-abcdef","token_type":"bearer","expires_in":7200}`))
			return
		}
		calls.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"code":401,"message":"token revoked","details":{"info":""},"domain":"PlatformAccountServer"}}`))
	}))
	defer hs.Close()
	clk := newTestClock()
	clk.autoAdvance(t)
	c, err := accountserver.New(accountserver.Config{URL: hs.URL, ClientID: "id", ClientSecret: "secret-xyz", Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetTenant(ctxFor(t), "3e9c2d55-6f2a-4a8b-9d07-1e0b5d4c3a21")
	if !accountserver.IsUnauthorized(err) {
		t.Fatalf("IsUnauthorized(%v) = false", err)
	}
	if diff := cmp.Diff([]int32{2, 2}, []int32{tokens.Load(), calls.Load()}); diff != "" {
		t.Errorf("[token requests, calls] (-want +got):\n%s", diff)
	}
}

func TestBadCredentials(t *testing.T) {
	e := newEnv(t, withConfig(func(c *accountserver.Config) { c.ClientSecret = "not-the-secret-at-all" }))
	_, err := e.client.GetTenant(ctxFor(t), e.boot.TenantID)
	if !accountserver.IsUnauthorized(err) {
		t.Fatalf("IsUnauthorized(%v) = false", err)
	}
	ae, _ := accountserver.AsError(err)
	if diff := cmp.Diff([]any{401, "access_denied"}, []any{ae.StatusCode(), ae.Code()}); diff != "" {
		t.Errorf("[status, code] (-want +got):\n%s", diff)
	}
	// Wrong credentials are not retried: they will not become right.
	if diff := cmp.Diff(1, e.tr.count(http.MethodPost, tokenPath)); diff != "" {
		t.Errorf("token requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(0, len(e.tr.apiRequests())); diff != "" {
		t.Errorf("API requests (-want +got):\n%s", diff)
	}
}

func TestWhoAmI(t *testing.T) {
	e := newEnv(t)
	got, err := e.client.WhoAmI(ctxFor(t))
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	if diff := cmp.Diff(e.boot.TenantID, got); diff != "" {
		t.Errorf("WhoAmI (-want +got):\n%s", diff)
	}
}

func TestUserAgent(t *testing.T) {
	e := newEnv(t)
	if _, err := e.client.GetTenant(ctxFor(t), e.boot.TenantID); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.tr.sent() {
		if diff := cmp.Diff("tenant-operator/dev", s.Header.Get("User-Agent")); diff != "" {
			t.Errorf("%s %s User-Agent (-want +got):\n%s", s.Method, s.Path, diff)
		}
	}
}
