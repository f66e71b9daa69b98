package accountserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBreaker drives the state machine through sequences of outcomes on
// made-up times: s is seconds after the start.
func TestBreaker(t *testing.T) {
	// One step of a case: at second at, op happens (answer, fail, none,
	// admit <lease>, release <lease>); then the breaker must be in state,
	// blocked or not, with its next probe at next seconds (-1: none).
	type step struct {
		at    float64
		op    string
		state CircuitState
		next  float64
		// admitted is what an admit must return.
		admitted bool
	}
	const (
		closed   = CircuitClosed
		open     = CircuitOpen
		halfOpen = CircuitHalfOpen
	)
	fails := func(at float64, n int, last step) []step {
		var out []step
		for range n - 1 {
			out = append(out, step{at: at, op: "fail", state: closed, next: -1})
		}
		last.at, last.op = at, "fail"
		return append(out, last)
	}
	// opened is the five failures at second at that open the circuit with
	// its first probe due next.
	opened := func(at, next float64) []step { return fails(at, 5, step{state: open, next: next}) }
	join := func(parts ...[]step) []step {
		var out []step
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := map[string]struct {
		reason    string
		threshold int
		steps     []step
		changes   []string
	}{
		"OpensAtTheThreshold": {
			reason:  "four failures in a row leave it closed, the fifth opens it with the first probe 5s later",
			steps:   join(fails(0, 4, step{state: closed, next: -1}), []step{{at: 1, op: "fail", state: open, next: 6}}),
			changes: []string{"closed→open"},
		},
		"AnAnswerResetsTheCount": {
			reason: "failures must come in a row: any answer in between starts the count again",
			steps: join(fails(0, 4, step{state: closed, next: -1}),
				[]step{{at: 1, op: "answer", state: closed, next: -1}},
				fails(2, 4, step{state: closed, next: -1})),
		},
		"NothingLearntCountsForNothing": {
			reason: "a call its caller gave up on neither counts nor resets",
			steps: join(fails(0, 4, step{state: closed, next: -1}),
				[]step{{at: 1, op: "none", state: closed, next: -1}, {at: 2, op: "fail", state: open, next: 7}}),
			changes: []string{"closed→open"},
		},
		"OneProbeWhenDue": {
			reason: "while open nothing is admitted before the probe is due; then exactly one caller is, and the others fail at once",
			steps: join(opened(0, 5), []step{
				{at: 4.9, op: "admit a", state: open, next: 5},
				{at: 5, op: "admit a", state: halfOpen, next: 5, admitted: true},
				{at: 5, op: "admit b", state: halfOpen, next: 5},
				{at: 30, op: "admit b", state: halfOpen, next: 5},
			}),
			changes: []string{"closed→open", "open→half-open"},
		},
		"FailedProbesDoubleTheWaitUpToTheCap": {
			reason: "5s, then 10s, 20s, 40s and 60s, and 60s from then on",
			steps: join(opened(0, 5), []step{
				{at: 5, op: "admit a", state: halfOpen, next: 5, admitted: true},
				{at: 5, op: "fail", state: open, next: 15},
				{at: 15, op: "admit a", state: halfOpen, next: 15, admitted: true},
				{at: 15, op: "fail", state: open, next: 35},
				{at: 35, op: "admit a", state: halfOpen, next: 35, admitted: true},
				{at: 35, op: "fail", state: open, next: 75},
				{at: 75, op: "admit a", state: halfOpen, next: 75, admitted: true},
				{at: 75, op: "fail", state: open, next: 135},
				{at: 135, op: "admit a", state: halfOpen, next: 135, admitted: true},
				{at: 135, op: "fail", state: open, next: 195},
			}),
			changes: []string{"closed→open", "open→half-open", "half-open→open", "open→half-open", "half-open→open",
				"open→half-open", "half-open→open", "open→half-open", "half-open→open", "open→half-open", "half-open→open"},
		},
		"AnsweredProbeCloses": {
			reason: "the probe's answer closes the circuit, and everyone may send again",
			steps: join(opened(0, 5), []step{
				{at: 5, op: "admit a", state: halfOpen, next: 5, admitted: true},
				{at: 5.2, op: "answer", state: closed, next: -1},
				{at: 5.2, op: "admit b", state: closed, next: -1, admitted: true},
			}),
			changes: []string{"closed→open", "open→half-open", "half-open→closed"},
		},
		"AProbeThatLearntNothingIsDueAgain": {
			reason: "a probe whose caller gave up (or that needed no request) hands the probe to the next caller at once",
			steps: join(opened(0, 5), []step{
				{at: 5, op: "admit a", state: halfOpen, next: 5, admitted: true},
				{at: 6, op: "release a", state: open, next: 6},
				{at: 6, op: "admit b", state: halfOpen, next: 6, admitted: true},
			}),
			changes: []string{"closed→open", "open→half-open", "half-open→open", "open→half-open"},
		},
		"AnOldLeaseReleasesNothing": {
			reason: "a probe released after another probe took over must not hand out a second probe",
			steps: join(opened(0, 5), []step{
				{at: 5, op: "admit a", state: halfOpen, next: 5, admitted: true},
				{at: 5, op: "fail", state: open, next: 15},
				{at: 15, op: "admit b", state: halfOpen, next: 15, admitted: true},
				{at: 15, op: "release a", state: halfOpen, next: 15},
				{at: 15, op: "admit c", state: halfOpen, next: 15},
			}),
			changes: []string{"closed→open", "open→half-open", "half-open→open", "open→half-open"},
		},
		"AFailureWhileOpenChangesNothing": {
			reason: "a request sent before the circuit opened and failing later does not push the probe back",
			steps: join(opened(0, 5), []step{
				{at: 2, op: "fail", state: open, next: 5},
			}),
			changes: []string{"closed→open"},
		},
		"AnAnswerWhileOpenCloses": {
			reason: "a request sent before the circuit opened that gets an answer shows the server is back",
			steps: join(opened(0, 5), []step{
				{at: 2, op: "answer", state: closed, next: -1},
			}),
			changes: []string{"closed→open", "open→closed"},
		},
		"ReopeningSoonKeepsTheWait": {
			reason: "a server that answers one probe and fails again within a minute is probed at the wait it had, doubled",
			steps: join(opened(0, 5), []step{
				{at: 5, op: "admit a", state: halfOpen, next: 5, admitted: true},
				{at: 5, op: "fail", state: open, next: 15},
				{at: 15, op: "admit a", state: halfOpen, next: 15, admitted: true},
				{at: 15, op: "answer", state: closed, next: -1},
			}, opened(20, 40)),
			changes: []string{"closed→open", "open→half-open", "half-open→open", "open→half-open", "half-open→closed", "closed→open"},
		},
		"ReopeningLaterStartsOver": {
			reason: "a circuit closed for longer than the cap starts again from the first wait",
			steps: join(opened(0, 5), []step{
				{at: 5, op: "admit a", state: halfOpen, next: 5, admitted: true},
				{at: 5, op: "fail", state: open, next: 15},
				{at: 15, op: "admit a", state: halfOpen, next: 15, admitted: true},
				{at: 15, op: "answer", state: closed, next: -1},
			}, opened(90, 95)),
			changes: []string{"closed→open", "open→half-open", "half-open→open", "open→half-open", "half-open→closed", "closed→open"},
		},
		"Threshold": {
			reason:    "the threshold is configurable",
			threshold: 2,
			steps: []step{
				{at: 0, op: "fail", state: closed, next: -1},
				{at: 0, op: "fail", state: open, next: 5},
			},
			changes: []string{"closed→open"},
		},
		"Off": {
			reason:    "a negative threshold turns the breaker off: it never opens and admits everyone",
			threshold: -1,
			steps: join(fails(0, 50, step{state: closed, next: -1}), []step{
				{at: 1, op: "admit a", state: closed, next: -1, admitted: true},
			}),
		},
	}
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s float64) time.Time { return start.Add(time.Duration(s * float64(time.Second))) }
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var changes []string
			b := newBreaker(BreakerConfig{Threshold: tc.threshold}, func(from, to CircuitState, _ string, _ time.Time) {
				changes = append(changes, from.String()+"→"+to.String())
			})
			if b != nil {
				b.jitter = func(d time.Duration) time.Duration { return d }
			}
			leases := map[string]uint64{}
			for i, s := range tc.steps {
				now := at(s.at)
				op, lease, _ := strings.Cut(s.op, " ")
				switch op {
				case "answer":
					b.record(now, outcomeAnswered, "")
				case "fail":
					b.record(now, outcomeUnavailable, "503")
				case "none":
					b.record(now, outcomeNone, "")
				case "admit":
					l, ok := b.admit(now)
					if ok != s.admitted {
						t.Errorf("%s\nstep %d (%gs %s): admitted %t, want %t", tc.reason, i, s.at, s.op, ok, s.admitted)
					}
					if ok {
						leases[lease] = l
					}
				case "release":
					b.release(now, leases[lease])
				default:
					t.Fatalf("unknown op %q", s.op)
				}
				st := b.status()
				next := -1.0
				if !st.NextProbe.IsZero() {
					next = st.NextProbe.Sub(start).Seconds()
				}
				if diff := cmp.Diff([]any{s.state.String(), s.next}, []any{st.State.String(), next}); diff != "" {
					t.Errorf("%s\nstep %d (%gs %s): state and next probe -want +got:\n%s", tc.reason, i, s.at, s.op, diff)
				}
				wantBlocked := s.state == CircuitHalfOpen || (s.state == CircuitOpen && now.Before(at(s.next)))
				if got := b.blocked(now); got != wantBlocked {
					t.Errorf("%s\nstep %d (%gs %s): blocked %t, want %t", tc.reason, i, s.at, s.op, got, wantBlocked)
				}
			}
			if diff := cmp.Diff(tc.changes, changes); diff != "" {
				t.Errorf("%s\nchanges told to OnCircuitChange -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestBreakerJitter(t *testing.T) {
	b := newBreaker(BreakerConfig{}, nil)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for range 200 {
		b.state, b.failures = CircuitClosed, 0
		for range DefaultBreakerThreshold {
			b.record(now, outcomeUnavailable, "503")
		}
		if d := b.status().NextProbe.Sub(now); d < DefaultProbeBackoff || d > DefaultProbeBackoff+DefaultProbeBackoff/10 {
			t.Fatalf("first probe %s after opening, want between 5s and 5.5s: jitter lengthens, never shortens", d)
		}
	}
}

func TestOutcomeOf(t *testing.T) {
	answer := func(status int) error {
		return ErrorFromAnswer("get tenant", status, []byte(`{"error":{"code":1,"message":"m","details":{},"domain":null}}`), 0)
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	cases := map[string]struct {
		err  error
		want outcome
	}{
		"Success":           {nil, outcomeAnswered},
		"503":               {answer(http.StatusServiceUnavailable), outcomeUnavailable},
		"500":               {answer(http.StatusInternalServerError), outcomeUnavailable},
		"502":               {answer(http.StatusBadGateway), outcomeUnavailable},
		"504":               {answer(http.StatusGatewayTimeout), outcomeUnavailable},
		"429IsAnAnswer":     {ErrorFromAnswer("get tenant", http.StatusTooManyRequests, nil, time.Second), outcomeAnswered},
		"404IsAnAnswer":     {answer(http.StatusNotFound), outcomeAnswered},
		"401IsAnAnswer":     {answer(http.StatusUnauthorized), outcomeAnswered},
		"400IsAnAnswer":     {answer(http.StatusBadRequest), outcomeAnswered},
		"409IsAnAnswer":     {answer(http.StatusConflict), outcomeAnswered},
		"ConnectionRefused": {ErrorFromTransport("get tenant", dial), outcomeUnavailable},
		"NoSuchHost": {ErrorFromTransport("get tenant", &url.Error{Op: "Get", URL: "https://eu2.example.com",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "eu2.example.com", IsNotFound: true}}}), outcomeUnavailable},
		"NetTimeout": {ErrorFromTransport("get tenant", &url.Error{Op: "Get", URL: "https://eu2.example.com",
			Err: &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}}), outcomeUnavailable},
		"ConnectionReset": {ErrorFromTransport("create tenant", &url.Error{Op: "Post", URL: "https://eu2.example.com",
			Err: &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}}), outcomeNone},
		"EOF":          {ErrorFromTransport("create tenant", &url.Error{Op: "Post", URL: "https://eu2.example.com", Err: io.EOF}), outcomeNone},
		"TimedOut":     {ErrorFromTransport("get tenant", fmt.Errorf("attempt: %w", context.DeadlineExceeded)), outcomeUnavailable},
		"CallerGaveUp": {ErrorFromTransport("get tenant", fmt.Errorf("attempt: %w", context.Canceled)), outcomeNone},
		"CircuitOpen":  {&Error{kind: kindUnavailable, circuitOpen: true}, outcomeNone},
		"LocalError":   {newLocalError("fetch token", kindUnavailable, "the token endpoint sent no access token", nil), outcomeNone},
		"NotAnError":   {errors.New("something else"), outcomeNone},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := outcomeOf(tc.err); got != tc.want {
				t.Errorf("outcomeOf(%v) = %d, want %d", tc.err, got, tc.want)
			}
			if got, want := IsServerDown(tc.err), tc.want == outcomeUnavailable; got != want {
				t.Errorf("IsServerDown(%v) = %t, want %t", tc.err, got, want)
			}
		})
	}
}

// timeoutError is a net.Error that timed out.
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
