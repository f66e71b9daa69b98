package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// endpoint is the address a stage's manager reaches the emulator at. The
// outage turns it off in two ways: unavailable answers 503 to everything
// (before the emulator sees the request, so the emulator's log does not
// have them; the endpoint counts them), and stop closes the listener and
// every connection, so that connecting is refused until start listens on
// the same address again.
type endpoint struct {
	h    http.Handler
	addr string // fixed by the first start

	unavailable atomic.Bool
	mu          sync.Mutex
	srv         *http.Server
	refusedAt   []time.Time // the 503s answered
}

func newEndpoint(h http.Handler) *endpoint { return &endpoint{h: h} }

func (e *endpoint) url() string { return "http://" + e.addr }

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e.unavailable.Load() && !strings.HasPrefix(r.URL.Path, "/_emulator/") {
		e.mu.Lock()
		e.refusedAt = append(e.refusedAt, time.Now())
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":503,"message":"service unavailable (chaos outage)","details":{"info":""},"context":{},"domain":"PlatformAccountServer"}}` + "\n"))
		return
	}
	e.h.ServeHTTP(w, r)
}

// start listens on the endpoint's address (a free one the first time).
func (e *endpoint) start() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		return fmt.Errorf("endpoint %s is already listening", e.addr)
	}
	addr := e.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s again: %w", addr, err)
	}
	e.addr = l.Addr().String()
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.srv = srv
	go func() { _ = srv.Serve(l) }()
	return nil
}

// stop closes the listener and every open connection.
func (e *endpoint) stop() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.srv != nil {
		_ = e.srv.Close()
		e.srv = nil
	}
}

// refusedIn counts the 503s answered in [from, to).
func (e *endpoint) refusedIn(from, to time.Time) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, at := range e.refusedAt {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}
