package accountserver_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// epoch is where fake time starts in every test.
var epoch = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testClock is a FakeClock that tells the test every time the client starts waiting, with the
// instant the wait ends. Tests use it to move time exactly when the client is blocked, without
// sleeping for real.
type testClock struct {
	*clocktesting.FakeClock
	mu     sync.Mutex
	timers chan time.Time
}

var _ clock.WithTicker = (*testClock)(nil)

func newTestClock() *testClock {
	return &testClock{FakeClock: clocktesting.NewFakeClock(epoch), timers: make(chan time.Time, 100000)}
}

func (c *testClock) NewTimer(d time.Duration) clock.Timer {
	c.mu.Lock()
	t := c.FakeClock.NewTimer(d)
	end := c.FakeClock.Now().Add(d)
	c.mu.Unlock()
	c.timers <- end
	return t
}

// advanceTo moves time forward to t (never back), firing the timers due by then.
func (c *testClock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.FakeClock.Now()) {
		c.FakeClock.SetTime(t)
	}
}

// autoAdvance makes time jump to the end of every wait the client starts, as if the rest of
// the world took no time. It stops with the test.
func (c *testClock) autoAdvance(t *testing.T) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case end := <-c.timers:
				c.advanceTo(end)
			case <-done:
				return
			}
		}
	}()
}

// nextWait returns the end of the next wait the client starts, failing the test if none starts.
func (c *testClock) nextWait(t *testing.T) time.Time {
	t.Helper()
	select {
	case end := <-c.timers:
		return end
	case <-time.After(20 * time.Second):
		t.Fatal("the client never started waiting")
	}
	return time.Time{}
}

// logBuffer collects every log line, at every verbosity.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sent is one request as it left the client.
type sent struct {
	Time   time.Time
	Method string
	Path   string
	Query  string
	Header http.Header
}

// transport records every request the client sends (with the fake time it left at) and can
// answer instead of the server.
type transport struct {
	clk  clock.PassiveClock
	base http.RoundTripper

	mu   sync.Mutex
	reqs []sent
	// intercept, when it returns a response or an error, answers in place of the server.
	// n counts the requests sent so far, this one included.
	intercept func(r *http.Request, n int) (*http.Response, error)
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.mu.Lock()
	t.reqs = append(t.reqs, sent{Time: t.clk.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()})
	n := len(t.reqs)
	icpt := t.intercept
	t.mu.Unlock()
	if icpt != nil {
		resp, err := icpt(r, n)
		if resp != nil || err != nil {
			if r.Body != nil {
				_ = r.Body.Close()
			}
			if resp != nil {
				resp.Request = r
			}
			return resp, err
		}
	}
	return t.base.RoundTrip(r)
}

func (t *transport) sent() []sent {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]sent(nil), t.reqs...)
}

func (t *transport) setIntercept(f func(r *http.Request, n int) (*http.Response, error)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.intercept = f
}

// count is how many requests matched method and path (path "" matches any).
func (t *transport) count(method, path string) int {
	n := 0
	for _, s := range t.sent() {
		if s.Method == method && (path == "" || s.Path == path) {
			n++
		}
	}
	return n
}

// apiRequests are the requests other than token requests.
func (t *transport) apiRequests() []sent {
	var out []sent
	for _, s := range t.sent() {
		if s.Path != "/api/2/idp/token" {
			out = append(out, s)
		}
	}
	return out
}

func answer(status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	if header.Get("Content-Type") == "" {
		header.Set("Content-Type", "application/json")
	}
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Header: header,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
}

// env is an emulator, a client of it on fake time, and everything the client sent and logged.
type env struct {
	srv    *emulator.Server
	hs     *httptest.Server
	clk    *testClock
	tr     *transport
	logs   *logBuffer
	boot   emulator.Bootstrap
	cfg    accountserver.Config
	client *accountserver.Client
}

type envOption func(*accountserver.Config, *emulator.Options)

func withConfig(f func(*accountserver.Config)) envOption {
	return func(c *accountserver.Config, _ *emulator.Options) { f(c) }
}

func withEmulator(f func(*emulator.Options)) envOption {
	return func(_ *accountserver.Config, o *emulator.Options) { f(o) }
}

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	clk := newTestClock()
	eo := emulator.Options{Now: clk.Now, InstantReports: true}
	cfg := accountserver.Config{RequestsPerSecond: 1000, Burst: 1000}
	for _, o := range opts {
		o(&cfg, &eo)
	}
	srv := emulator.New(eo)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	boot := srv.Bootstrap()
	logs := &logBuffer{}
	tr := &transport{clk: clk, base: hs.Client().Transport}
	cfg.URL = hs.URL
	if cfg.ClientID == "" {
		cfg.ClientID = boot.ClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = boot.ClientSecret
	}
	cfg.HTTPClient = &http.Client{Transport: tr}
	cfg.Clock = clk
	cfg.Logger = funcr.New(func(prefix, args string) {
		logs.mu.Lock()
		defer logs.mu.Unlock()
		logs.buf.WriteString(prefix + " " + args + "\n")
	}, funcr.Options{Verbosity: 10})
	c, err := accountserver.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{srv: srv, hs: hs, clk: clk, tr: tr, logs: logs, boot: boot, cfg: cfg, client: c}
}

// emulatorRequests counts the server's log entries for method and path ("" matches any path).
func (e *env) emulatorRequests(method, path string) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range e.srv.Requests() {
		if r.Method == method && (path == "" || r.Path == path) {
			out = append(out, r)
		}
	}
	return out
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// mustCreateTenant makes a tenant under parent.
func (e *env) mustCreateTenant(t *testing.T, parent, name, kind string) *accountserver.Tenant {
	t.Helper()
	tn, err := e.client.CreateTenant(ctxFor(t), accountserver.TenantCreate{Name: name, ParentID: parent, Kind: kind})
	if err != nil {
		t.Fatalf("CreateTenant(%s): %v", name, err)
	}
	return tn
}
