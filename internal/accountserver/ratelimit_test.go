package accountserver_test

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

func TestTooManyRequestsPausesTheWholeConnection(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	path := "/api/2/tenants/" + e.boot.TenantID
	// The token first: the emulator throttles its token endpoint too.
	if _, err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	start := e.clk.Now()
	pauseEnd := start.Add(2 * time.Second)
	e.srv.SetFaults(emulator.Faults{ThrottleRate: 1, RetryAfterSeconds: 2})

	results := make(chan error, 4)
	get := func() {
		_, err := e.client.GetTenant(ctx, e.boot.TenantID)
		results <- err
	}
	// A is answered 429 with Retry-After: 2 and backs off.
	go get()
	if end := e.clk.nextWait(t); !end.Before(pauseEnd) {
		t.Fatalf("the first backoff after a 429 ends at %s, want before the pause end %s", end.Sub(start), pauseEnd.Sub(start))
	}
	e.srv.SetFaults(emulator.Faults{})

	// B, C and D come later, from other goroutines: the server would answer them, but the
	// connection is paused, so each of them waits for the pause end instead of sending.
	for range 3 {
		go get()
	}
	for range 3 {
		if diff := cmp.Diff(pauseEnd, e.clk.nextWait(t)); diff != "" {
			t.Errorf("wait of a later caller (-want +got):\n%s", diff)
		}
	}
	if got := len(e.emulatorRequests(http.MethodGet, path)); got != 1 {
		t.Fatalf("requests during the pause = %d, want only the throttled one", got)
	}

	// A's backoff ends inside the pause: A goes back to waiting for the pause end, still sending nothing.
	e.clk.advanceTo(pauseEnd.Add(-time.Millisecond))
	if diff := cmp.Diff(pauseEnd, e.clk.nextWait(t)); diff != "" {
		t.Errorf("wait of the throttled caller after its backoff (-want +got):\n%s", diff)
	}
	if got := len(e.emulatorRequests(http.MethodGet, path)); got != 1 {
		t.Fatalf("requests 1ms before the pause end = %d, want only the throttled one", got)
	}

	// The pause ends: all four go.
	e.clk.advanceTo(pauseEnd)
	for range 4 {
		if err := <-results; err != nil {
			t.Errorf("GetTenant: %v", err)
		}
	}
	reqs := e.emulatorRequests(http.MethodGet, path)
	if diff := cmp.Diff(5, len(reqs)); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(http.StatusTooManyRequests, reqs[0].Status); diff != "" {
		t.Errorf("first status (-want +got):\n%s", diff)
	}
	for _, r := range reqs[1:] {
		if r.Time.Before(pauseEnd) {
			t.Errorf("a request was sent %s after the 429, before Retry-After had passed", r.Time.Sub(start))
		}
		if r.Status != http.StatusOK {
			t.Errorf("status after the pause = %d, want 200", r.Status)
		}
	}
	if !e.clk.Now().Equal(pauseEnd) {
		t.Errorf("fake time at the end = %s, want exactly the pause end", e.clk.Now().Sub(start))
	}
}

func TestTooManyRequestsExhaustsAttempts(t *testing.T) {
	e := newEnv(t)
	e.clk.autoAdvance(t)
	ctx := ctxFor(t)
	if _, err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.SetFaults(emulator.Faults{ThrottleRate: 1, RetryAfterSeconds: 3})
	start := e.clk.Now()
	_, err := e.client.GetTenant(ctx, e.boot.TenantID)
	if !accountserver.IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false", err)
	}
	d, ok := accountserver.RetryAfter(err)
	if diff := cmp.Diff([]any{3 * time.Second, true}, []any{d, ok}); diff != "" {
		t.Errorf("RetryAfter (-want +got):\n%s", diff)
	}
	reqs := e.emulatorRequests(http.MethodGet, "")
	if diff := cmp.Diff(accountserver.DefaultMaxAttempts, len(reqs)); diff != "" {
		t.Fatalf("attempts (-want +got):\n%s", diff)
	}
	for i := 1; i < len(reqs); i++ {
		if gap := reqs[i].Time.Sub(reqs[i-1].Time); gap < 3*time.Second {
			t.Errorf("attempt %d came %s after the previous 429, want at least Retry-After (3s)", i+1, gap)
		}
	}
	if e.clk.Since(start) < 12*time.Second {
		t.Errorf("five throttled attempts took %s of fake time, want at least 4×Retry-After", e.clk.Since(start))
	}
}

func TestRateLimitIsHonoured(t *testing.T) {
	e := newEnv(t, withConfig(func(c *accountserver.Config) {
		c.RequestsPerSecond = 10
		c.Burst = 1
	}))
	e.clk.autoAdvance(t)
	ctx := ctxFor(t)
	if _, err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.ResetRequests()
	start := e.clk.Now()

	// 100 calls at once from 10 goroutines sharing the connection.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 10 {
				if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
					t.Errorf("GetTenant: %v", err)
				}
			}
		})
	}
	wg.Wait()

	if elapsed := e.clk.Since(start); elapsed < 9*time.Second {
		t.Errorf("100 calls at 10/s with burst 1 took %s of fake time, want at least 9s", elapsed)
	}
	reqs := e.emulatorRequests(http.MethodGet, "")
	if diff := cmp.Diff(100, len(reqs)); diff != "" {
		t.Fatalf("requests (-want +got):\n%s", diff)
	}
	times := make([]time.Time, len(reqs))
	for i, r := range reqs {
		times[i] = r.Time
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	// The budget at any instant: burst 1 plus 10 per second since the start.
	for i, at := range times {
		if allowed := time.Duration(i) * 100 * time.Millisecond; at.Sub(start) < allowed {
			t.Fatalf("request %d sent at %s, before the budget allowed it (%s)", i+1, at.Sub(start), allowed)
		}
	}
}

func TestRateLimitWaitEndsWithContext(t *testing.T) {
	e := newEnv(t, withConfig(func(c *accountserver.Config) {
		c.RequestsPerSecond = 0.001
		c.Burst = 1
	}))
	ctx := ctxFor(t)
	if _, err := e.client.Token(ctx); err != nil { // spends the only slot
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := e.client.GetTenant(cctx, e.boot.TenantID)
		done <- err
	}()
	e.clk.nextWait(t) // queued for the budget
	cancel()
	err := <-done
	if !accountserver.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false", err)
	}
	if got := len(e.tr.apiRequests()); got != 0 {
		t.Errorf("API requests = %d, want 0", got)
	}
}
