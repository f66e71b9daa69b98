package accountserver

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/utils/clock"
)

// Defaults; the AccountServer resource's defaults (10/s, burst 20) match these.
const (
	DefaultRequestsPerSecond = 10
	DefaultBurst             = 20
	DefaultTimeout           = 30 * time.Second
	DefaultMaxAttempts       = 5
	// DefaultTokenExpiryDelta is how long before expiry a token is replaced.
	DefaultTokenExpiryDelta = 2 * time.Minute
)

// Config describes one connection to an account server.
type Config struct {
	// URL of the datacenter, e.g. https://eu2-cloud.example.com; "/api/2" is appended.
	URL string
	// Connection names the connection in metrics (label connection), e.g.
	// "AccountServer/team-a/eu2"; empty for a client of no connection object.
	Connection string
	// ClientID and ClientSecret are the API client's credentials (client_credentials grant).
	ClientID     string
	ClientSecret string `json:"-"`
	// RequestsPerSecond and Burst are the budget every user of this connection shares.
	RequestsPerSecond float64
	Burst             int
	// Timeout bounds each HTTP request (one attempt).
	Timeout time.Duration
	// TLS configures the default transport; ignored when HTTPClient is set.
	TLS *tls.Config `json:"-"`
	// HTTPClient replaces the default HTTP client (tests count requests with it).
	HTTPClient *http.Client `json:"-"`
	// Clock drives limiter waits, backoff sleeps, Retry-After pauses and token expiry.
	Clock clock.WithTicker `json:"-"`
	// Logger receives fixed messages with key-value pairs; never a secret.
	Logger logr.Logger `json:"-"`
	// MaxAttempts bounds the attempts of one call, the first included.
	MaxAttempts int
	// TokenExpiryDelta is how long before expiry a token is replaced (capped at a quarter of its lifetime).
	TokenExpiryDelta time.Duration
	// Breaker tunes the connection's circuit breaker (see circuit.go); the zero value is the defaults.
	Breaker BreakerConfig
	// OnCircuitChange, when set, is told every change of the circuit's state. It runs under the
	// breaker's lock, on the goroutine of the call that changed it: it must be quick, must not
	// block and must not call the client.
	OnCircuitChange func(from, to CircuitState) `json:"-"`
}

// String prints the config with the secret redacted.
func (c Config) String() string {
	secret := ""
	if c.ClientSecret != "" {
		secret = redacted
	}
	return fmt.Sprintf("accountserver.Config{URL: %q, ClientID: %q, ClientSecret: %q, RequestsPerSecond: %g, Burst: %d, Timeout: %s}",
		c.URL, c.ClientID, secret, c.RequestsPerSecond, c.Burst, c.Timeout)
}

// GoString implements fmt.GoStringer (%#v).
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter so %v, %+v, %#v and %s all redact.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// MarshalLog implements logr.Marshaler.
func (c Config) MarshalLog() any {
	return map[string]any{"url": c.URL, "clientID": c.ClientID, "requestsPerSecond": c.RequestsPerSecond, "burst": c.Burst}
}

// apiBase validates the configured URL and returns the API root (<url>/api/2).
func apiBase(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("accountserver: URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse echoes the input, which may hold userinfo: say less.
		return nil, errors.New("accountserver: URL cannot be parsed")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("accountserver: URL needs an http or https scheme, got %q", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("accountserver: URL has no host")
	}
	if u.User != nil {
		return nil, errors.New("accountserver: URL must not carry credentials; use ClientID and ClientSecret")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("accountserver: URL must not have a query or fragment")
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, "/api/2") {
		p += "/api/2"
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: p}, nil
}
