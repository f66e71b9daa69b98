package accountserver_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

var outage = emulator.Faults{ErrorRate: 1, ErrorStatus: http.StatusServiceUnavailable}

// changes records what OnCircuitChange is told.
type changes struct {
	mu  sync.Mutex
	got []string
}

func (c *changes) record(from, to accountserver.CircuitState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, from.String()+"→"+to.String())
}

func (c *changes) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.got...)
}

// openCircuit lets one GET fail against an outage until the circuit opens,
// and returns the time it opened.
func openCircuit(t *testing.T, e *env) time.Time {
	t.Helper()
	ctx := ctxFor(t)
	if _, err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.SetFaults(outage)
	e.srv.ResetRequests()
	// Each attempt's backoff passes at once.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case end := <-e.clk.timers:
				e.clk.advanceTo(end)
			case <-stop:
				return
			}
		}
	}()
	_, err := e.client.GetTenant(ctx, e.boot.TenantID)
	close(stop)
	<-done
	if !accountserver.IsUnavailable(err) {
		t.Fatalf("GetTenant during the outage: %v, want unavailable", err)
	}
	st := e.client.Circuit()
	if st.State != accountserver.CircuitOpen {
		t.Fatalf("after %d failed attempts the circuit is %s, want open", accountserver.DefaultMaxAttempts, st.State)
	}
	if got := len(e.srv.Requests()); got != accountserver.DefaultBreakerThreshold {
		t.Fatalf("requests that opened the circuit = %d, want the threshold %d", got, accountserver.DefaultBreakerThreshold)
	}
	return st.OpenedAt
}

// TestOpenCircuitSendsNothing: once five requests in a row found the server
// unavailable, every call fails at once with an error IsCircuitOpen
// recognises, without a request and without waiting, from any number of
// callers; the error names the server and never the secret.
func TestOpenCircuitSendsNothing(t *testing.T) {
	var seen changes
	e := newEnv(t, withConfig(func(c *accountserver.Config) { c.OnCircuitChange = seen.record }))
	opened := openCircuit(t, e)
	if st := e.client.Circuit(); st.NextProbe.Sub(opened) < accountserver.DefaultProbeBackoff ||
		st.NextProbe.Sub(opened) > accountserver.DefaultProbeBackoff*11/10 {
		t.Errorf("first probe due %s after opening, want 5s to 5.5s", st.NextProbe.Sub(opened))
	}
	if st := e.client.Circuit(); !strings.Contains(st.Cause, "503") {
		t.Errorf("cause %q does not say what opened the circuit", st.Cause)
	}
	ctx := ctxFor(t)
	calls := map[string]func() error{
		"GetTenant": func() error { _, err := e.client.GetTenant(ctx, e.boot.TenantID); return err },
		"UpdateTenant": func() error {
			name := "x"
			_, err := e.client.UpdateTenant(ctx, e.boot.TenantID, accountserver.TenantUpdate{Version: 1, Name: &name})
			return err
		},
		"CreateTenant": func() error {
			_, err := e.client.CreateTenant(ctx, accountserver.TenantCreate{Name: "n", ParentID: e.boot.TenantID, Kind: accountserver.KindCustomer})
			return err
		},
		"Token":  func() error { _, err := e.client.Token(ctx); return err },
		"WhoAmI": func() error { _, err := e.client.WhoAmI(ctx); return err },
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100*len(calls))
	for range 100 {
		for _, call := range calls {
			wg.Go(func() { errs <- call() })
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !accountserver.IsCircuitOpen(err) || !accountserver.IsUnavailable(err) {
			t.Fatalf("a call while open returned %v, want a circuit-open error", err)
		}
		var ns interface{ NotSent() bool }
		if !errors.As(err, &ns) || !ns.NotSent() {
			t.Fatalf("a call while open (%v) does not say it was not sent", err)
		}
		if strings.Contains(err.Error(), e.cfg.ClientSecret) {
			t.Fatalf("the error holds the secret: %v", err)
		}
		if !strings.Contains(err.Error(), e.hs.URL) {
			t.Errorf("the error %q does not name the server", err)
		}
	}
	if got := len(e.srv.Requests()); got != accountserver.DefaultBreakerThreshold {
		t.Errorf("requests = %d after %d calls while open, want none more than the %d that opened it", got, 100*len(calls), accountserver.DefaultBreakerThreshold)
	}
	if !e.clk.Now().Equal(opened) {
		t.Errorf("calls while open waited %s of (fake) time, want none", e.clk.Now().Sub(opened))
	}
	if diff := cmp.Diff([]string{"closed→open"}, seen.list()); diff != "" {
		t.Errorf("OnCircuitChange -want +got:\n%s", diff)
	}
}

// TestOneProbePerBackoff: callers that keep calling every 100ms through a
// five-minute outage send one request per probe interval (5s, 10s, 20s, 40s,
// then every minute), well under 0.2 requests a second; the first answer
// after the outage closes the circuit, and calls go out again.
func TestOneProbePerBackoff(t *testing.T) {
	var seen changes
	e := newEnv(t, withConfig(func(c *accountserver.Config) { c.OnCircuitChange = seen.record }))
	opened := openCircuit(t, e)
	ctx := ctxFor(t)
	const step = 100 * time.Millisecond
	const window = 5 * time.Minute
	var probes []time.Time
	for now := opened; now.Before(opened.Add(window)); now = now.Add(step) {
		e.clk.advanceTo(now)
		before := len(e.srv.Requests())
		// Two callers at each step: only one may be the probe.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if _, err := e.client.GetTenant(ctx, e.boot.TenantID); !accountserver.IsCircuitOpen(err) {
					t.Errorf("a call at %s: %v, want a circuit-open error", now.Sub(opened), err)
				}
			})
		}
		wg.Wait()
		switch n := len(e.srv.Requests()) - before; n {
		case 0:
		case 1:
			probes = append(probes, now)
		default:
			t.Fatalf("%d requests at %s after opening, want at most one probe", n, now.Sub(opened))
		}
	}
	// Each wait is its nominal backoff, lengthened by up to a tenth, and
	// measured from the previous probe.
	nominal := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute, time.Minute}
	if len(probes) != len(nominal) {
		t.Fatalf("%d probes in %s: %v, want %d", len(probes), window, probes, len(nominal))
	}
	prev := opened
	for i, p := range probes {
		gap := p.Sub(prev)
		if gap < nominal[i] || gap > nominal[i]+nominal[i]/10+step {
			t.Errorf("probe %d came %s after the one before, want %s (+10%%)", i+1, gap, nominal[i])
		}
		prev = p
	}
	rate := float64(len(e.srv.Requests())) / window.Seconds()
	if rate > 0.2 {
		t.Errorf("%.3f requests/s during the outage, want at most 0.2", rate)
	}

	// The server is back: the next probe gets an answer and closes the circuit.
	e.srv.SetFaults(emulator.Faults{})
	next := e.client.Circuit().NextProbe
	e.clk.advanceTo(next)
	if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
		t.Fatalf("the probe after the outage: %v", err)
	}
	if st := e.client.Circuit(); st.State != accountserver.CircuitClosed || !e.client.Available() {
		t.Fatalf("after an answered probe the circuit is %s, want closed", st.State)
	}
	before := len(e.srv.Requests())
	for range 10 {
		if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.srv.Requests()) - before; got != 10 {
		t.Errorf("%d requests for 10 calls after the circuit closed, want 10", got)
	}
	got := seen.list()
	if got[0] != "closed→open" || got[len(got)-1] != "half-open→closed" {
		t.Errorf("OnCircuitChange saw %v: want it to open first and close last", got)
	}
}

// TestWhatOpensTheCircuit: a server that answers, even with 429 or 404, is
// available, and a lost answer says nothing; a 503 counts at every attempt;
// a 500 is the server failing one request, so a call's retries count it
// once.
func TestWhatOpensTheCircuit(t *testing.T) {
	get := func(ctx context.Context, e *env) error {
		_, err := e.client.GetTenant(ctx, e.boot.TenantID)
		return err
	}
	cases := map[string]struct {
		reason string
		faults emulator.Faults
		call   func(ctx context.Context, e *env) error
		calls  int
		want   accountserver.CircuitState
	}{
		"TooManyRequests": {
			reason: "a 429 pauses the connection on its own; it is no sign of an outage",
			faults: emulator.Faults{ThrottleRate: 1, RetryAfterSeconds: 1},
			call:   get, calls: 5,
			want: accountserver.CircuitClosed,
		},
		"NotFound": {
			reason: "4xx answers are about the request, not the server",
			call: func(ctx context.Context, e *env) error {
				_, err := e.client.GetTenant(ctx, "00000000-0000-0000-0000-000000000000")
				return err
			},
			calls: 10,
			want:  accountserver.CircuitClosed,
		},
		"LostAnswers": {
			reason: "a connection that breaks after the request left (a lost answer) says nothing sure of the server",
			faults: emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{http.MethodPost}},
			call: func(ctx context.Context, e *env) error {
				_, err := e.client.CreateTenant(ctx, accountserver.TenantCreate{Name: fmt.Sprintf("lost-%d", len(e.srv.Requests())), ParentID: e.boot.TenantID, Kind: accountserver.KindCustomer})
				return err
			},
			calls: 10,
			want:  accountserver.CircuitClosed,
		},
		"ServiceUnavailable": {
			reason: "every 503 counts: one call's five attempts open it",
			faults: emulator.Faults{ErrorRate: 1, ErrorStatus: http.StatusServiceUnavailable},
			call:   get, calls: 1,
			want: accountserver.CircuitOpen,
		},
		"InternalServerErrorOfOneCall": {
			reason: "four calls whose 500s are each repeated five times count four",
			faults: emulator.Faults{ErrorRate: 1},
			call:   get, calls: 4,
			want: accountserver.CircuitClosed,
		},
		"InternalServerErrorOfFiveCalls": {
			reason: "five calls in a row failing with 500 open it",
			faults: emulator.Faults{ErrorRate: 1},
			call:   get, calls: 5,
			want: accountserver.CircuitOpen,
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
			e.srv.SetFaults(tc.faults)
			for range tc.calls {
				if err := tc.call(ctx, e); err == nil {
					t.Fatal("the call succeeded; the case needs a failure")
				}
			}
			if got := e.client.Circuit().State; got != tc.want {
				t.Errorf("%s\ncircuit %s after %d failed calls (%d requests), want %s", tc.reason, got, tc.calls, len(e.srv.Requests()), tc.want)
			}
		})
	}
}

// TestNoAnswerOpensTheCircuit: refused connections count like 5xx, and a
// token that cannot be fetched too; the probe's answer closes the circuit.
func TestNoAnswerOpensTheCircuit(t *testing.T) {
	e := newEnv(t)
	e.clk.autoAdvance(t)
	ctx := ctxFor(t)
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	e.tr.setIntercept(func(*http.Request, int) (*http.Response, error) { return nil, refused })
	// Its five attempts each fail to fetch a token.
	_, err := e.client.WhoAmI(ctx)
	if !accountserver.IsUnavailable(err) {
		t.Fatalf("WhoAmI with every connection refused: %v, want unavailable", err)
	}
	if got := len(e.tr.sent()); got != accountserver.DefaultBreakerThreshold {
		t.Errorf("%d token requests opened the circuit, want %d", got, accountserver.DefaultBreakerThreshold)
	}
	if st := e.client.Circuit(); st.State != accountserver.CircuitOpen || !strings.Contains(st.Cause, "connection refused") {
		t.Fatalf("circuit %s (cause %q) after refused token requests, want open by connection refused", st.State, st.Cause)
	}
	sent := len(e.tr.sent())
	if _, err := e.client.WhoAmI(ctx); !accountserver.IsCircuitOpen(err) {
		t.Fatalf("WhoAmI while open: %v, want a circuit-open error", err)
	}
	if got := len(e.tr.sent()); got != sent {
		t.Errorf("%d requests while open, want none", got-sent)
	}
	e.tr.setIntercept(nil)
	e.clk.advanceTo(e.client.Circuit().NextProbe)
	if _, err := e.client.WhoAmI(ctx); err != nil {
		t.Fatalf("WhoAmI once the probe is due and the server answers: %v", err)
	}
	if got := e.tr.sent()[sent:]; len(got) != 2 || got[0].Path != "/api/2/idp/token" {
		t.Errorf("the probe sent %d requests, want the token request (which closes the circuit) and the call", len(got))
	}
	if !e.client.Available() {
		t.Errorf("circuit %s after the probe was answered, want closed", e.client.Circuit().State)
	}
}

// TestBreakerOff: a negative threshold keeps the old behaviour, every call
// sends its attempts.
func TestBreakerOff(t *testing.T) {
	e := newEnv(t, withConfig(func(c *accountserver.Config) { c.Breaker.Threshold = -1 }))
	e.clk.autoAdvance(t)
	ctx := ctxFor(t)
	if _, err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.SetFaults(outage)
	e.srv.ResetRequests()
	for range 3 {
		if _, err := e.client.GetTenant(ctx, e.boot.TenantID); accountserver.IsCircuitOpen(err) || err == nil {
			t.Fatalf("GetTenant: %v, want the server's 503", err)
		}
	}
	if got := len(e.srv.Requests()); got != 3*accountserver.DefaultMaxAttempts {
		t.Errorf("requests = %d, want every attempt of every call (%d)", got, 3*accountserver.DefaultMaxAttempts)
	}
}

// TestWakeDelay: the objects an outage held are released at the
// connection's budget: the burst at once, then one per 1/rps.
func TestWakeDelay(t *testing.T) {
	e := newEnv(t, withConfig(func(c *accountserver.Config) { c.RequestsPerSecond, c.Burst = 5, 3 }))
	var got []time.Duration
	for range 6 {
		got = append(got, e.client.WakeDelay())
	}
	want := []time.Duration{0, 0, 0, 200 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wake delays -want +got:\n%s", diff)
	}
}
