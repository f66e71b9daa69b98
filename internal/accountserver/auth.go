package accountserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// defaultTokenLifetime is assumed when the server says nothing about expiry; a 401 replaces it sooner.
const defaultTokenLifetime = time.Hour

// tokenCache holds the connection's access token. Expiry is kept on the injected clock, so
// fake time in tests moves it. One fetch runs at a time; every caller that needs a token while
// it runs waits for the same answer.
type tokenCache struct {
	c     *Client
	conf  clientcredentials.Config
	hc    *http.Client
	delta time.Duration

	mu        sync.Mutex
	token     string
	expiry    time.Time
	refreshAt time.Time
	inflight  *tokenFetch
	// recent tokens are scrubbed from errors and logs even after they are replaced.
	recent []string
}

type tokenFetch struct {
	done   chan struct{}
	token  string
	expiry time.Time
	err    error
}

// get returns a valid token, fetching one when none is cached or the cached one is due for renewal.
func (a *tokenCache) get(ctx context.Context) (string, time.Time, error) {
	a.mu.Lock()
	if a.token != "" && a.c.clock.Now().Before(a.refreshAt) {
		t, e := a.token, a.expiry
		a.mu.Unlock()
		return t, e, nil
	}
	f := a.inflight
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		a.inflight = f
		// The fetch outlives the caller that started it: others may be waiting for it.
		go a.fetch(context.WithoutCancel(ctx), f)
	}
	a.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.expiry, f.err
	case <-ctx.Done():
		return "", time.Time{}, ctx.Err()
	}
}

// invalidate drops the cached token if it is still the one the server refused.
func (a *tokenCache) invalidate(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == token {
		a.token = ""
	}
}

func (a *tokenCache) recentTokens() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.recent...)
}

func (a *tokenCache) fetch(ctx context.Context, f *tokenFetch) {
	defer close(f.done)
	// The token request spends the connection's budget like any other.
	var token string
	var expiry time.Time
	err := a.c.wait(ctx)
	if err == nil {
		token, expiry, err = a.retrieve(ctx)
		// The token endpoint is the server too: its answers, and its
		// silence, count for the circuit breaker.
		cause := ""
		if err != nil {
			cause = err.Error()
		}
		a.c.circuit.record(a.c.clock.Now(), outcomeOf(err), cause)
	}
	a.mu.Lock()
	a.inflight = nil
	if err == nil {
		a.token, a.expiry = token, expiry
		lifetime := expiry.Sub(a.c.clock.Now())
		a.refreshAt = expiry.Add(-min(a.delta, lifetime/4))
		a.recent = append(a.recent, token)
		if len(a.recent) > 4 {
			a.recent = a.recent[len(a.recent)-4:]
		}
	}
	a.mu.Unlock()
	f.token, f.expiry, f.err = token, expiry, err
	if err != nil {
		tokenRefreshes.WithLabelValues("error").Inc()
		a.c.log.Info("account server token request failed", "error", err.Error())
		return
	}
	tokenRefreshes.WithLabelValues("success").Inc()
	a.c.log.V(1).Info("account server token refreshed", "expiresAt", expiry)
}

// retrieve sends one token request. Its errors are rebuilt from the library's: an
// oauth2.RetrieveError prints the raw answer, which is never passed on.
func (a *tokenCache) retrieve(ctx context.Context) (string, time.Time, error) {
	const op, operation = "fetch token", "POST /idp/token"
	ctx, cancel := context.WithTimeout(ctx, a.c.timeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.hc)
	start := a.c.clock.Now()
	tok, err := a.conf.Token(ctx)
	elapsed := a.c.clock.Since(start)
	requestDuration.WithLabelValues(operation).Observe(elapsed.Seconds())
	red := redactor{a.conf.ClientSecret}
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			e := tokenError(op, re, a.c.clock.Now(), red)
			requestsTotal.WithLabelValues(a.c.connection, operation, strconv.Itoa(e.status)).Inc()
			if e.status == http.StatusTooManyRequests {
				a.c.pause(max(e.retryAfter, a.c.backoff(1)), operation)
			}
			return "", time.Time{}, e
		}
		requestsTotal.WithLabelValues(a.c.connection, operation, "error").Inc()
		var ue *url.Error
		var ne net.Error
		if errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) {
			return "", time.Time{}, newTransportError(op, err, red)
		}
		// Anything else is the library failing to read an answer; its text may quote it.
		return "", time.Time{}, newLocalError(op, kindUnavailable, "the token endpoint's answer cannot be read", red)
	}
	requestsTotal.WithLabelValues(a.c.connection, operation, "200").Inc()
	if tok.AccessToken == "" {
		return "", time.Time{}, newLocalError(op, kindUnavailable, "the token endpoint sent no access token", red)
	}
	now := a.c.clock.Now()
	return tok.AccessToken, now.Add(tokenLifetime(tok, now)), nil
}

// tokenLifetime reads expires_in (the library turns it into a wall-clock time, which fake
// clocks do not share), then expires_on, then the library's Expiry.
func tokenLifetime(tok *oauth2.Token, now time.Time) time.Duration {
	seconds := func(v any) (float64, bool) {
		switch n := v.(type) {
		case float64:
			return n, true
		case string:
			f, err := strconv.ParseFloat(n, 64)
			return f, err == nil
		}
		return 0, false
	}
	if s, ok := seconds(tok.Extra("expires_in")); ok && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if s, ok := seconds(tok.Extra("expires_on")); ok && s > 0 {
		if d := time.Unix(int64(s), 0).Sub(now); d > 0 {
			return d
		}
	}
	if !tok.Expiry.IsZero() {
		if d := time.Until(tok.Expiry); d > 0 {
			return d
		}
	}
	return defaultTokenLifetime
}

// tokenError turns the token endpoint's refusal into an *Error holding only its status,
// OAuth error code and description.
func tokenError(op string, re *oauth2.RetrieveError, now time.Time, red redactor) *Error {
	e := &Error{op: op, code: red.apply(re.ErrorCode), message: red.apply(re.ErrorDescription)}
	if re.Response != nil {
		e.status = re.Response.StatusCode
		e.retryAfter = parseRetryAfter(re.Response.Header.Get("Retry-After"), now)
	}
	switch {
	case e.status == http.StatusTooManyRequests || e.status >= 500:
		e.kind = kindUnavailable
	case e.status == http.StatusForbidden:
		e.kind = kindForbidden
	case e.status == http.StatusUnauthorized,
		e.code == "invalid_client", e.code == "unauthorized_client", e.code == "invalid_grant", e.code == "access_denied":
		e.kind = kindUnauthorized
	case e.status == http.StatusBadRequest:
		e.kind = kindInvalid
	default:
		e.kind = kindOther
	}
	var b strings.Builder
	fmt.Fprintf(&b, "accountserver: %s: %d %s", op, e.status, http.StatusText(e.status))
	if e.code != "" {
		fmt.Fprintf(&b, ": %s", e.code)
	}
	if e.message != "" {
		fmt.Fprintf(&b, ": %s", e.message)
	}
	if e.retryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.retryAfter)
	}
	e.text = b.String()
	if e.code == "" {
		e.code = strconv.Itoa(e.status)
	}
	return e
}
