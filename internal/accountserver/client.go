package accountserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"golang.org/x/time/rate"
	"k8s.io/utils/clock"

	"github.com/tenant-operator/tenant-operator/internal/version"
)

const (
	backoffBase = 500 * time.Millisecond
	backoffMax  = 8 * time.Second
	// maxErrorBody bounds what is read of a failed answer; maxBody of a successful one (report files).
	maxErrorBody = 1 << 20
	maxBody      = 64 << 20
)

// Client is a connection to one account server. It is safe for concurrent use, and every
// controller using the same connection must share one Client: the request budget, the pause
// a 429 imposes and the cached token belong to the connection.
type Client struct {
	// connection is the label of this client's series in the request metrics.
	connection  string
	base        *url.URL
	clientID    string
	secret      string
	hc          *http.Client
	clock       clock.WithTicker
	log         logr.Logger
	limiter     *rate.Limiter
	timeout     time.Duration
	maxAttempts int
	userAgent   string
	auth        *tokenCache
	circuit     *breaker
	// wakes schedules the objects an outage held, at the budget's pace (WakeDelay).
	wakes *rate.Limiter

	mu          sync.Mutex
	pausedUntil time.Time
}

// New validates cfg and returns a Client. No request is sent.
func New(cfg Config) (*Client, error) {
	base, err := apiBase(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("accountserver: ClientID and ClientSecret are required")
	}
	if cfg.RequestsPerSecond < 0 || cfg.Burst < 0 || cfg.Timeout < 0 || cfg.MaxAttempts < 0 || cfg.TokenExpiryDelta < 0 ||
		cfg.Breaker.ProbeBackoff < 0 || cfg.Breaker.MaxProbeBackoff < 0 {
		return nil, errors.New("accountserver: RequestsPerSecond, Burst, Timeout, MaxAttempts, TokenExpiryDelta and the probe backoffs must not be negative")
	}
	rps := cfg.RequestsPerSecond
	if rps == 0 {
		rps = DefaultRequestsPerSecond
	}
	burst := cfg.Burst
	if burst == 0 {
		burst = DefaultBurst
	}
	c := &Client{
		base:        base,
		clientID:    cfg.ClientID,
		secret:      cfg.ClientSecret,
		hc:          cfg.HTTPClient,
		clock:       cfg.Clock,
		log:         cfg.Logger,
		connection:  cfg.Connection,
		limiter:     rate.NewLimiter(rate.Limit(rps), burst),
		wakes:       rate.NewLimiter(rate.Limit(rps), burst),
		timeout:     cfg.Timeout,
		maxAttempts: cfg.MaxAttempts,
		userAgent:   version.UserAgent(),
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		if cfg.TLS != nil {
			t.TLSClientConfig = cfg.TLS.Clone()
		}
		c.hc = &http.Client{Transport: t}
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.log.GetSink() == nil {
		c.log = logr.Discard()
	}
	c.circuit = newBreaker(cfg.Breaker, c.circuitChanged(cfg.OnCircuitChange))
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	delta := cfg.TokenExpiryDelta
	if delta == 0 {
		delta = DefaultTokenExpiryDelta
	}
	tokenURL := *base
	tokenURL.Path += "/idp/token"
	c.auth = &tokenCache{
		c:     c,
		delta: delta,
		conf: clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     tokenURL.String(),
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		hc: &http.Client{
			Transport:     userAgentTransport{base: c.hc.Transport, ua: c.userAgent},
			CheckRedirect: c.hc.CheckRedirect,
			Jar:           c.hc.Jar,
		},
	}
	return c, nil
}

// String names the connection without its secret.
func (c *Client) String() string {
	return fmt.Sprintf("accountserver.Client{URL: %q, ClientID: %q}", c.base.String(), c.clientID)
}

// GoString implements fmt.GoStringer.
func (c *Client) GoString() string { return c.String() }

// Format implements fmt.Formatter so no verb dumps the fields.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// MarshalLog implements logr.Marshaler.
func (c *Client) MarshalLog() any {
	return map[string]any{"url": c.base.String(), "clientID": c.clientID}
}

// URL is the API root this client talks to (<url>/api/2).
func (c *Client) URL() string { return c.base.String() }

// ClientID is the API client the connection authenticates as.
func (c *Client) ClientID() string { return c.clientID }

// Token returns the expiry of the access token the connection holds, fetching one if it holds none.
// While the circuit is open it fails at once (IsCircuitOpen), like every call.
func (c *Client) Token(ctx context.Context) (time.Time, error) {
	const op = "fetch token"
	if c.circuit.blocked(c.clock.Now()) {
		return time.Time{}, c.circuitError(op)
	}
	lease, ok := c.circuit.admit(c.clock.Now())
	if !ok {
		return time.Time{}, c.circuitError(op)
	}
	// The fetch records what it learnt; a cached token learnt nothing, and
	// the probe is still due for the next call.
	defer func() { c.circuit.release(c.clock.Now(), lease) }()
	_, expiry, err := c.auth.get(ctx)
	if err != nil && ctx.Err() != nil {
		return time.Time{}, c.stopped(op, ctx.Err(), nil)
	}
	return expiry, err
}

// WhoAmI returns the tenant the credentials act in (GET /clients/{client_id}).
func (c *Client) WhoAmI(ctx context.Context) (string, error) {
	cl, err := c.GetClient(ctx, c.clientID)
	if err != nil {
		return "", err
	}
	return cl.TenantID, nil
}

// request is one logical call; do turns it into one or more attempts.
type request struct {
	method string
	// route is the templated path ("/tenants/{id}") used as the metric label.
	route string
	// args fill the route's placeholders, in order.
	args  []string
	query url.Values
	body  any
	// contentType, when set, sends body ([]byte) as it is, with this content type, instead of
	// as JSON (a brand logo is image/png).
	contentType string
	// out receives the decoded JSON answer; nil discards it.
	out any
	// raw receives the answer's bytes instead of out.
	raw *[]byte
	// op names the call in errors and logs: "update tenant <id>".
	op string
	// secrets are values in the body that must never be echoed (a password).
	secrets []string
}

func (r *request) operation() string { return r.method + " " + r.route }

// path fills the route's placeholders with the escaped arguments.
func (r *request) path() (string, error) {
	var b strings.Builder
	rest, i := r.route, 0
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 || i >= len(r.args) {
			return "", fmt.Errorf("route %s needs more arguments", r.route)
		}
		a := r.args[i]
		if a == "" || a == "." || a == ".." {
			return "", fmt.Errorf("an empty or relative ID %q for %s", a, r.route)
		}
		b.WriteString(rest[:open])
		b.WriteString(url.PathEscape(a))
		rest = rest[open+end+1:]
		i++
	}
	if i != len(r.args) {
		return "", fmt.Errorf("route %s takes %d arguments, got %d", r.route, i, len(r.args))
	}
	return b.String(), nil
}

// do runs r with the connection's manners: budget, pause, token, retries, typed errors.
//
// Retries: GET, PUT and DELETE are retried on transport errors, 5xx and 429; a PUT carries a version
// or sets a state, so a repeat is harmless (a committed repeat answers "stale version", which the
// caller handles by reading again). A POST is retried only when the server certainly did not act on
// it: a 429, a 401 (the token is refreshed), a failed token fetch, or a connection that was never made.
// retryDecision makes that choice; do draws the backoff and carries the choice out.
func (c *Client) do(ctx context.Context, r *request) error {
	if _, err := r.path(); err != nil {
		return newLocalError(r.op, kindInvalid, err.Error(), c.redactor(r.secrets...))
	}
	var body []byte
	if raw, ok := r.body.([]byte); ok && r.contentType != "" {
		body = raw
	} else if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return newLocalError(r.op, kindInvalid, "cannot encode request: "+err.Error(), c.redactor(r.secrets...))
		}
		body = b
	}
	var last *Error
	reauthenticated := false
	// lease is the probe this call's attempt sends while the circuit is
	// open (0: none). Recording an outcome ends it; one that learnt nothing
	// is released, so the next call probes.
	var lease uint64
	defer func() { c.circuit.release(c.clock.Now(), lease) }()
	failed500 := false
	sent := false // whether any attempt sent the request
	for attempt := 1; attempt <= c.maxAttempts; attempt++ {
		// The previous attempt's probe, if it learnt nothing, is due again.
		c.circuit.release(c.clock.Now(), lease)
		lease = 0
		// An open circuit fails the call at once, before the budget: also a
		// call whose earlier attempt failed and that would retry.
		if c.circuit.blocked(c.clock.Now()) {
			return c.circuitError(r.op)
		}
		if err := c.wait(ctx); err != nil {
			return c.stopped(r.op, err, last)
		}
		var admitted bool
		if lease, admitted = c.circuit.admit(c.clock.Now()); !admitted {
			return c.circuitError(r.op)
		}
		in := attemptOutcome{
			Method:          r.method,
			Attempt:         attempt,
			MaxAttempts:     c.maxAttempts,
			Reauthenticated: reauthenticated,
			Backoff:         c.backoff(attempt),
		}
		token, _, err := c.auth.get(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return c.stopped(r.op, ctx.Err(), last)
			}
			e := prefixed(r.op, err, c.redactor(r.secrets...))
			// No token, no request: unless an earlier attempt sent it, the
			// server has certainly not acted on this call.
			e.unsent = !sent
			in.Failure = failureToken
			if IsUnavailable(e) {
				in.Failure = failureTokenUnavailable
			}
			d := retryDecision(in)
			if !d.Retry {
				return e
			}
			last = e
			if c.circuit.blocked(c.clock.Now()) {
				// The fetch's failure opened the circuit: no backoff to sleep.
				return c.circuitError(r.op)
			}
			if err := c.sleep(ctx, d.Wait); err != nil {
				return last
			}
			continue
		}
		sent = true
		status, header, answer, err := c.send(ctx, r, body, token, attempt)
		red := c.redactor(append(slices.Clone(r.secrets), token)...)
		if err != nil {
			if ctx.Err() != nil {
				return c.stopped(r.op, ctx.Err(), last)
			}
			e := newTransportError(r.op, err, red)
			c.circuit.record(c.clock.Now(), outcomeOf(e), e.Error())
			in.Failure, in.NeverSent = failureTransport, neverSent(err)
			d := retryDecision(in)
			if !d.Retry {
				return e
			}
			last = e
			if c.circuit.blocked(c.clock.Now()) {
				return c.circuitError(r.op)
			}
			c.log.V(1).Info("account server request failed; retrying", "operation", r.operation(), "attempt", attempt, "error", last.Error())
			if err := c.sleep(ctx, d.Wait); err != nil {
				return last
			}
			continue
		}
		if status >= 200 && status < 300 {
			c.circuit.record(c.clock.Now(), outcomeAnswered, "")
			return c.decode(r, status, answer, red)
		}
		retryAfter := parseRetryAfter(header.Get("Retry-After"), c.clock.Now())
		e := newHTTPError(r.op, status, answer, retryAfter, red)
		if o := outcomeOf(e); status != http.StatusInternalServerError || !failed500 {
			c.circuit.record(c.clock.Now(), o, e.Error())
		}
		// A 500 is the server failing this request: its repeats count once,
		// so one object the server always fails cannot open the circuit
		// alone. A 502, 503, 504 or no answer says the server is down, and
		// every attempt counts.
		failed500 = failed500 || status == http.StatusInternalServerError
		in.Status, in.RetryAfter = status, retryAfter
		d := retryDecision(in)
		if d.RefreshToken {
			reauthenticated = true
			c.auth.invalidate(token)
			c.log.V(1).Info("account server refused the token; refreshing", "operation", r.operation())
		}
		if d.Pause > 0 {
			c.pause(d.Pause, r.operation())
		}
		if !d.Retry {
			return e
		}
		last = e
		if d.Uncounted {
			attempt--
		}
		if d.Wait <= 0 {
			// A refreshed token is tried at once.
			continue
		}
		if c.circuit.blocked(c.clock.Now()) {
			// This failure opened the circuit: no backoff to sleep.
			return c.circuitError(r.op)
		}
		if status >= 500 {
			c.log.V(1).Info("account server answered with a server error; retrying", "operation", r.operation(), "status", status, "attempt", attempt, "backoff", d.Wait)
		}
		if err := c.sleep(ctx, d.Wait); err != nil {
			return last
		}
	}
	return last
}

// send makes one HTTP attempt and reads the answer.
func (c *Client) send(ctx context.Context, r *request, body []byte, token string, attempt int) (int, http.Header, []byte, error) {
	path, err := r.path()
	if err != nil {
		return 0, nil, nil, err
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + path
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return 0, nil, nil, err
	}
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), rd)
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", c.userAgent)
	if r.raw != nil {
		// A stored report is a file in its own format; asking for JSON could be refused.
		req.Header.Set("Accept", "*/*")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if body != nil {
		ct := "application/json"
		if r.contentType != "" {
			ct = r.contentType
		}
		req.Header.Set("Content-Type", ct)
	}
	op := r.operation()
	start := c.clock.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		requestsTotal.WithLabelValues(c.connection, op, "error").Inc()
		requestDuration.WithLabelValues(op).Observe(c.clock.Since(start).Seconds())
		return 0, nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	limit := int64(maxErrorBody)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		limit = maxBody
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	elapsed := c.clock.Since(start)
	requestsTotal.WithLabelValues(c.connection, op, strconv.Itoa(resp.StatusCode)).Inc()
	requestDuration.WithLabelValues(op).Observe(elapsed.Seconds())
	c.log.V(2).Info("account server request", "operation", op, "status", resp.StatusCode, "attempt", attempt, "duration", elapsed)
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, answer, nil
}

func (c *Client) decode(r *request, status int, answer []byte, red redactor) error {
	if r.raw != nil {
		*r.raw = answer
		return nil
	}
	if r.out == nil || status == http.StatusNoContent || len(bytes.TrimSpace(answer)) == 0 {
		return nil
	}
	if err := json.Unmarshal(answer, r.out); err != nil {
		return newLocalError(r.op, kindOther, "cannot decode the answer: "+err.Error(), red)
	}
	return nil
}

// wait blocks until the connection may send one more request: no server-requested pause in force,
// and a slot in the budget. A pause that begins while a caller queues for the budget sends it
// back to the queue afterwards, so callers held by a pause do not all fire at once when it ends.
func (c *Client) wait(ctx context.Context) error {
	start := c.clock.Now()
	defer func() {
		if w := c.clock.Since(start); w > 0 {
			rateLimiterWait.WithLabelValues(c.connection).Add(w.Seconds())
		}
	}()
	reserved := false
	for {
		now := c.clock.Now()
		c.mu.Lock()
		until := c.pausedUntil
		c.mu.Unlock()
		if now.Before(until) {
			if err := c.sleep(ctx, until.Sub(now)); err != nil {
				return err
			}
			reserved = false
			continue
		}
		if reserved {
			return nil
		}
		res := c.limiter.ReserveN(now, 1)
		if !res.OK() {
			return errors.New("the rate limiter cannot grant a request")
		}
		if d := res.DelayFrom(now); d > 0 {
			if err := c.sleep(ctx, d); err != nil {
				res.CancelAt(c.clock.Now())
				return err
			}
		}
		reserved = true
	}
}

// pause holds every caller of the connection until d has passed.
func (c *Client) pause(d time.Duration, operation string) {
	until := c.clock.Now().Add(d)
	c.mu.Lock()
	extended := until.After(c.pausedUntil)
	if extended {
		c.pausedUntil = until
	}
	c.mu.Unlock()
	if extended {
		c.log.Info("account server asked to slow down; pausing the connection", "operation", operation, "retryAfter", d)
	}
}

// sleep waits d on the injected clock, or until ctx is done.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := c.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is exponential with jitter: attempt n waits between half and all of base·2ⁿ⁻¹.
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt-1, 10)
	d = min(d, backoffMax)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// stopped is the error for a call abandoned because ctx ended; the last server answer is more useful.
func (c *Client) stopped(op string, cause error, last *Error) error {
	if last != nil {
		return last
	}
	return &Error{op: op, kind: kindUnavailable, text: fmt.Sprintf("accountserver: %s: %v", op, cause), cause: cause}
}

// redactor lists what must never appear in an error or a log line.
func (c *Client) redactor(extra ...string) redactor {
	r := redactor{c.secret}
	r = append(r, c.auth.recentTokens()...)
	return append(r, extra...)
}

// prefixed names the call that needed the token in a token error.
func prefixed(op string, err error, red redactor) *Error {
	e, ok := asError(err)
	if !ok {
		return newLocalError(op, kindUnavailable, "no token: "+err.Error(), red)
	}
	cp := *e
	cp.op = op
	cp.text = "accountserver: " + op + ": " + trimPrefix(e.text)
	return &cp
}

func trimPrefix(s string) string {
	const p = "accountserver: "
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// neverSent reports a transport error that certainly left the request unsent (no connection was made).
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// userAgentTransport names the operator on token requests, which the oauth2 library builds.
type userAgentTransport struct {
	base http.RoundTripper
	ua   string
}

func (t userAgentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.ua)
	return base.RoundTrip(r)
}
