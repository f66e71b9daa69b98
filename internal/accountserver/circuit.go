package accountserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// The circuit breaker of a connection. Each object backs off on its own
// when a call fails, so without it the cost of an outage grows with the
// number of objects: three hundred objects sent three requests a second to
// a server that answered every one with 503. With it, a handful of failures
// in a row opens the connection's circuit; from then on every call fails at
// once, without a request, with an error IsCircuitOpen recognises, and one
// probe at a time asks whether the server is back: the first after
// ProbeBackoff, each further one after twice the wait before, up to
// MaxProbeBackoff. Whatever gets an answer from the server closes the
// circuit again.
//
// What counts as a sign that the server is unavailable: a 5xx answer, or no
// answer because nothing could connect (refused, no such host) or the
// attempt timed out. A connection that broke after the request left (a lost
// answer) counts for nothing either way. Any
// other answer — 2xx, 4xx, and a 429, which pauses the connection on its
// own (Retry-After) — shows the server is there and resets the count. A
// call its caller gave up on counts for nothing. A 500 is the server
// failing one request, so the retries of a call count its 500 once: one
// object the server always fails does not open the circuit by itself,
// five calls failing in a row do.
//
// There is no goroutine: the probe is the first call admitted once it is
// due (the connection controller asks at that moment, so a probe goes out
// even when nothing else calls), which leaves nothing running when a client
// is replaced or dropped.

// CircuitState is the state of a connection's circuit breaker.
type CircuitState int

const (
	// CircuitClosed: requests go out.
	CircuitClosed CircuitState = iota
	// CircuitOpen: the server stopped answering; calls fail at once without
	// a request until the next probe is due.
	CircuitOpen
	// CircuitHalfOpen: one probe is out; every other call fails at once.
	CircuitHalfOpen
)

// CircuitStates lists every state, in the order of their values.
var CircuitStates = []CircuitState{CircuitClosed, CircuitOpen, CircuitHalfOpen}

func (s CircuitState) String() string {
	switch s {
	case CircuitClosed:
		return "closed"
	case CircuitOpen:
		return "open"
	case CircuitHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("CircuitState(%d)", int(s))
}

// Breaker defaults. A probe every 5s at first keeps an outage's cost under
// 0.2 requests per second per connection, whatever the number of objects.
const (
	DefaultBreakerThreshold = 5
	DefaultProbeBackoff     = 5 * time.Second
	DefaultMaxProbeBackoff  = time.Minute
)

// BreakerConfig tunes a connection's circuit breaker.
type BreakerConfig struct {
	// Threshold is how many requests in a row must fail with a sign that the
	// server is unavailable to open the circuit; 0 means
	// DefaultBreakerThreshold, a negative value turns the breaker off.
	Threshold int
	// ProbeBackoff is how long an opened circuit waits before its first
	// probe; each failed probe doubles the wait, up to MaxProbeBackoff.
	// Zero means the defaults.
	ProbeBackoff    time.Duration
	MaxProbeBackoff time.Duration
}

// CircuitStatus is what a connection's circuit breaker says of itself.
type CircuitStatus struct {
	State CircuitState
	// OpenedAt is when the circuit opened; zero while it is closed.
	OpenedAt time.Time
	// NextProbe is when the next probe may go out; zero while closed.
	NextProbe time.Time
	// Cause is the failure that opened the circuit (an error's text, as
	// safe to print as the error).
	Cause string
}

// outcome is what one attempt says of the server.
type outcome int

const (
	// outcomeNone: nothing learnt (no request left, or its caller gave up).
	outcomeNone outcome = iota
	// outcomeAnswered: the server answered with anything but a 5xx.
	outcomeAnswered
	// outcomeUnavailable: a 5xx, or no answer.
	outcomeUnavailable
)

// breaker is the state machine. Its methods take the time, so a table test
// drives it without a clock; a nil breaker (turned off) admits everything.
type breaker struct {
	threshold int
	base, max time.Duration
	// jitter lengthens a probe wait by up to a tenth, so the connections
	// of many operators do not probe in step; tests replace it.
	jitter func(time.Duration) time.Duration
	// onChange is told every change of state, with the cause of the
	// opening and the next probe, under the breaker's lock: it must be
	// quick and must not call the breaker.
	onChange func(from, to CircuitState, cause string, next time.Time)

	mu       sync.Mutex
	state    CircuitState
	failures int
	backoff  time.Duration
	openedAt time.Time
	next     time.Time
	closedAt time.Time
	cause    string
	// lease is the probe out now (0: none); leases numbers them.
	lease, leases uint64
}

func newBreaker(cfg BreakerConfig, onChange func(from, to CircuitState, cause string, next time.Time)) *breaker {
	if cfg.Threshold < 0 {
		return nil
	}
	b := &breaker{threshold: cfg.Threshold, base: cfg.ProbeBackoff, max: cfg.MaxProbeBackoff, onChange: onChange,
		jitter: func(d time.Duration) time.Duration { return d + time.Duration(rand.Int64N(int64(d)/10+1)) }}
	if b.threshold == 0 {
		b.threshold = DefaultBreakerThreshold
	}
	if b.base <= 0 {
		b.base = DefaultProbeBackoff
	}
	if b.max <= 0 {
		b.max = DefaultMaxProbeBackoff
	}
	b.max = max(b.max, b.base)
	return b
}

// blocked says whether a call must fail now without waiting for the budget:
// the circuit is open and no probe is due, or a probe is out.
func (b *breaker) blocked(now time.Time) bool {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case CircuitOpen:
		return now.Before(b.next)
	case CircuitHalfOpen:
		return true
	}
	return false
}

// admit lets one attempt send its request. While the circuit is closed
// every attempt may (lease 0); once it is open, only the first attempt
// after the probe is due, whose request is the probe: it holds the lease
// until an outcome is recorded or it calls release.
func (b *breaker) admit(now time.Time) (lease uint64, ok bool) {
	if b == nil {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case CircuitClosed:
		return 0, true
	case CircuitOpen:
		if now.Before(b.next) {
			return 0, false
		}
		b.leases++
		b.lease = b.leases
		b.set(CircuitHalfOpen)
		return b.lease, true
	}
	return 0, false
}

// record takes what an attempt learnt of the server. An answer closes the
// circuit, whoever got it (a request sent before the circuit opened
// counts too); a failure counts toward the threshold while closed, and
// opens the circuit again, with a doubled wait, while a probe is out. A
// failure while open (a request from before) changes nothing.
func (b *breaker) record(now time.Time, o outcome, cause string) {
	if b == nil || o == outcomeNone {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if o == outcomeAnswered {
		b.failures = 0
		if b.state != CircuitClosed {
			b.closedAt, b.openedAt, b.next, b.cause, b.lease = now, time.Time{}, time.Time{}, "", 0
			b.set(CircuitClosed)
		}
		return
	}
	switch b.state {
	case CircuitClosed:
		b.failures++
		if b.failures < b.threshold {
			return
		}
		b.failures = 0
		// A circuit that opens again soon after it closed goes on from the
		// wait it had: a server that answers one probe and fails again is
		// not asked every ProbeBackoff.
		if !b.closedAt.IsZero() && now.Sub(b.closedAt) < b.max && b.backoff > 0 {
			b.backoff = min(2*b.backoff, b.max)
		} else {
			b.backoff = b.base
		}
		b.openedAt, b.next, b.cause = now, now.Add(b.jitter(b.backoff)), cause
		b.set(CircuitOpen)
	case CircuitHalfOpen:
		b.backoff = min(2*b.backoff, b.max)
		b.next, b.lease = now.Add(b.jitter(b.backoff)), 0
		b.set(CircuitOpen)
	}
}

// release ends a probe that learnt nothing (its caller gave up, or it
// needed no request): the circuit is open again with the probe still due,
// so the next call probes. Releasing a lease no longer held does nothing.
func (b *breaker) release(now time.Time, lease uint64) {
	if b == nil || lease == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != CircuitHalfOpen || b.lease != lease {
		return
	}
	b.next, b.lease = now, 0
	b.set(CircuitOpen)
}

func (b *breaker) status() CircuitStatus {
	if b == nil {
		return CircuitStatus{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return CircuitStatus{State: b.state, OpenedAt: b.openedAt, NextProbe: b.next, Cause: b.cause}
}

// set changes state and tells onChange; b.mu is held.
func (b *breaker) set(to CircuitState) {
	from := b.state
	b.state = to
	if b.onChange != nil && from != to {
		b.onChange(from, to, b.cause, b.next)
	}
}

// outcomeOf says what err, an attempt's result, tells of the server.
func outcomeOf(err error) outcome {
	if err == nil {
		return outcomeAnswered
	}
	e, ok := asError(err)
	switch {
	case !ok || e.circuitOpen:
		return outcomeNone
	case e.status >= 500:
		return outcomeUnavailable
	case e.status > 0:
		return outcomeAnswered
	case e.kind == kindUnavailable && e.cause != nil:
		return transportOutcome(e.cause)
	}
	return outcomeNone
}

// transportOutcome says what a request that got no answer tells of the
// server: nothing could connect (refused, no such host) or the attempt
// timed out, the server is unavailable. A connection that broke after the
// request left (reset, EOF: a lost answer) says nothing sure: a server that
// is down refuses the next ones, which count.
func transportOutcome(cause error) outcome {
	var ne net.Error
	var op *net.OpError
	switch {
	case errors.Is(cause, context.Canceled):
		return outcomeNone
	case errors.Is(cause, context.DeadlineExceeded), errors.As(cause, &ne) && ne.Timeout():
		return outcomeUnavailable
	case errors.As(cause, &op) && op.Op == "dial":
		return outcomeUnavailable
	}
	return outcomeNone
}

// Circuit says what the connection's circuit breaker is doing.
func (c *Client) Circuit() CircuitStatus { return c.circuit.status() }

// Available says whether the connection's circuit is closed.
func (c *Client) Available() bool { return c.circuit.status().State == CircuitClosed }

// WakeDelay is how long the next of the objects an outage held waits before
// it is woken, once the circuit has closed: they are released at the
// connection's budget (requestsPerSecond, the first burst at once), not
// all at once. Each call takes one place in that schedule.
func (c *Client) WakeDelay() time.Duration {
	now := c.clock.Now()
	r := c.wakes.ReserveN(now, 1)
	if !r.OK() {
		return 0
	}
	return r.DelayFrom(now)
}

// circuitChanged logs a change of the circuit's state and passes it on to
// Config.OnCircuitChange.
func (c *Client) circuitChanged(hook func(from, to CircuitState)) func(from, to CircuitState, cause string, next time.Time) {
	return func(from, to CircuitState, cause string, next time.Time) {
		switch {
		case from == CircuitClosed:
			c.log.Info("account server unavailable: circuit breaker open; calls fail at once, one probe at a time asks whether it is back",
				"cause", cause, "nextProbe", next)
		case to == CircuitClosed:
			c.log.Info("account server answers again: circuit breaker closed")
		case to == CircuitOpen:
			c.log.V(1).Info("circuit breaker probe failed", "nextProbe", next)
		}
		if hook != nil {
			hook(from, to)
		}
	}
}

// circuitError is what a call gets while the circuit is open. Its message
// names the server, never the call, so the condition it becomes is the
// same for every call of an object.
func (c *Client) circuitError(op string) *Error { return circuitOpenError(op, c.base.String()) }

func circuitOpenError(op, url string) *Error {
	msg := fmt.Sprintf("the account server at %s is unavailable: its circuit breaker is open, so nothing is sent until a probe gets an answer", url)
	return &Error{op: op, kind: kindUnavailable, circuitOpen: true, message: msg,
		text: fmt.Sprintf("accountserver: %s: not sent: %s", op, msg)}
}
