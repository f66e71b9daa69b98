package accountserver

import (
	"net/http"
	"time"
)

// failure is how an attempt failed before the server could answer it.
type failure int

const (
	// failureTransport: the request was handed to the transport, which got no answer.
	// (The zero value: the server answered, and the outcome's Status says how.)
	failureTransport failure = iota + 1
	// failureTokenUnavailable: no token could be had for a passing reason; the request was not sent.
	failureTokenUnavailable
	// failureToken: no token could be had and asking again will not help (refused credentials).
	failureToken
)

// attemptOutcome is what retryDecision needs to know of one attempt. It holds values, not the
// request or the connection, so the decision can be tested as a table.
type attemptOutcome struct {
	// Method is the request's HTTP method; every method but POST is safe to repeat.
	Method string
	// Status is the server's answer, 0 when Failure says there was none.
	Status  int
	Failure failure
	// NeverSent is set for a transport failure that certainly left the request unsent.
	NeverSent bool
	// Attempt counts from 1; MaxAttempts is the connection's limit.
	Attempt, MaxAttempts int
	// Reauthenticated is set once a 401 has already been answered with a fresh token.
	Reauthenticated bool
	// RetryAfter is the answer's parsed Retry-After, 0 when absent.
	RetryAfter time.Duration
	// Backoff is this attempt's jittered backoff; the caller draws it, so the decision stays pure.
	Backoff time.Duration
}

// decision is what the client does after an attempt.
type decision struct {
	// Retry sends the request again; otherwise the attempt's error is the call's result.
	Retry bool
	// Wait is how long this caller sleeps before its next attempt.
	Wait time.Duration
	// Pause holds every caller of the connection for this long (a 429), whether or not this one retries.
	Pause time.Duration
	// RefreshToken drops the token the attempt carried, so the next attempt fetches a new one.
	RefreshToken bool
	// Uncounted leaves the attempt out of MaxAttempts.
	Uncounted bool
}

// retryDecision decides whether and when a failed attempt is repeated; see Client.do for why.
func retryDecision(in attemptOutcome) decision {
	// again retries after d unless the attempts have run out: the last attempt never sleeps.
	again := func(d time.Duration) decision {
		if in.Attempt >= in.MaxAttempts {
			return decision{}
		}
		return decision{Retry: true, Wait: d}
	}
	idempotent := in.Method != http.MethodPost
	switch in.Failure {
	case failureTokenUnavailable:
		// The call itself was not sent: retrying is safe whatever its method.
		return again(in.Backoff)
	case failureToken:
		return decision{}
	case failureTransport:
		if !idempotent && !in.NeverSent {
			// The server may have acted on it.
			return decision{}
		}
		return again(in.Backoff)
	}
	switch {
	case in.Status == http.StatusUnauthorized && !in.Reauthenticated:
		// The token expired early or was revoked: one fresh token, one more try, no backoff.
		return decision{Retry: true, RefreshToken: true, Uncounted: true}
	case in.Status == http.StatusTooManyRequests:
		// The server refused the request without acting on it, so any method is retried. The
		// pause is served in wait, where every caller of the connection honours it.
		pause := in.RetryAfter
		if pause <= 0 {
			pause = in.Backoff
		}
		d := again(in.Backoff)
		d.Pause = pause
		return d
	case in.Status >= 500 && idempotent:
		return again(max(in.Backoff, in.RetryAfter))
	}
	// A success, or an answer that a repeat would not change.
	return decision{}
}
