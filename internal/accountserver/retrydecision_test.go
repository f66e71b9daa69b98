package accountserver

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRetryDecision(t *testing.T) {
	const backoff = 700 * time.Millisecond
	// first and last describe an attempt of method that the server answered with status.
	first := func(method string, status int) attemptOutcome {
		return attemptOutcome{Method: method, Status: status, Attempt: 1, MaxAttempts: 4, Backoff: backoff}
	}
	last := func(method string, status int) attemptOutcome {
		in := first(method, status)
		in.Attempt = in.MaxAttempts
		return in
	}
	with := func(in attemptOutcome, f func(*attemptOutcome)) attemptOutcome {
		f(&in)
		return in
	}
	retryAfter := func(d time.Duration) func(*attemptOutcome) {
		return func(in *attemptOutcome) { in.RetryAfter = d }
	}
	failed := func(f failure, neverSent bool) func(*attemptOutcome) {
		return func(in *attemptOutcome) { in.Status, in.Failure, in.NeverSent = 0, f, neverSent }
	}

	cases := map[string]struct {
		reason string
		in     attemptOutcome
		want   decision
	}{
		"200": {
			reason: "a success ends the call",
			in:     first(http.MethodGet, http.StatusOK),
			want:   decision{},
		},
		"204POST": {
			reason: "a success ends the call whatever its method",
			in:     first(http.MethodPost, http.StatusNoContent),
			want:   decision{},
		},
		"401First": {
			reason: "a refused token is replaced once and the call tried again at once, without spending an attempt",
			in:     first(http.MethodGet, http.StatusUnauthorized),
			want:   decision{Retry: true, RefreshToken: true, Uncounted: true},
		},
		"401FirstPOST": {
			reason: "a POST refused for its token was not acted on, so it is sent again with a fresh one",
			in:     first(http.MethodPost, http.StatusUnauthorized),
			want:   decision{Retry: true, RefreshToken: true, Uncounted: true},
		},
		"401FirstOnLastAttempt": {
			reason: "the token refresh does not count, so even the last attempt gets its second try",
			in:     last(http.MethodGet, http.StatusUnauthorized),
			want:   decision{Retry: true, RefreshToken: true, Uncounted: true},
		},
		"401Second": {
			reason: "a fresh token refused as well means the credentials are wrong: no more tries",
			in:     with(first(http.MethodGet, http.StatusUnauthorized), func(in *attemptOutcome) { in.Reauthenticated = true }),
			want:   decision{},
		},
		"429WithRetryAfter": {
			reason: "the connection pauses for Retry-After and the call backs off, to be served after the pause",
			in:     with(first(http.MethodGet, http.StatusTooManyRequests), retryAfter(3*time.Second)),
			want:   decision{Retry: true, Wait: backoff, Pause: 3 * time.Second},
		},
		"429WithoutRetryAfter": {
			reason: "without Retry-After the connection pauses for the backoff",
			in:     first(http.MethodGet, http.StatusTooManyRequests),
			want:   decision{Retry: true, Wait: backoff, Pause: backoff},
		},
		"429POST": {
			reason: "a throttled POST was not acted on, so it is sent again",
			in:     with(first(http.MethodPost, http.StatusTooManyRequests), retryAfter(time.Second)),
			want:   decision{Retry: true, Wait: backoff, Pause: time.Second},
		},
		"429OnLastAttempt": {
			reason: "the attempts have run out, but the connection still honours the pause for the other callers",
			in:     with(last(http.MethodGet, http.StatusTooManyRequests), retryAfter(2*time.Second)),
			want:   decision{Pause: 2 * time.Second},
		},
		"500GET": {
			reason: "a read is repeated after a server error",
			in:     first(http.MethodGet, http.StatusInternalServerError),
			want:   decision{Retry: true, Wait: backoff},
		},
		"502PUT": {
			reason: "a version-guarded write is repeated: a committed repeat would only answer stale version",
			in:     first(http.MethodPut, http.StatusBadGateway),
			want:   decision{Retry: true, Wait: backoff},
		},
		"503DELETE": {
			reason: "a delete is repeated: a committed repeat would only answer not found",
			in:     first(http.MethodDelete, http.StatusServiceUnavailable),
			want:   decision{Retry: true, Wait: backoff},
		},
		"503POST": {
			reason: "a create may have been processed before the server error: never re-sent",
			in:     with(first(http.MethodPost, http.StatusServiceUnavailable), retryAfter(time.Second)),
			want:   decision{},
		},
		"503RetryAfterLongerThanBackoff": {
			reason: "the retry waits for Retry-After when the server asks for longer than the backoff",
			in:     with(first(http.MethodGet, http.StatusServiceUnavailable), retryAfter(3*time.Second)),
			want:   decision{Retry: true, Wait: 3 * time.Second},
		},
		"503RetryAfterShorterThanBackoff": {
			reason: "the retry waits for the backoff when Retry-After is shorter",
			in:     with(first(http.MethodGet, http.StatusServiceUnavailable), retryAfter(100*time.Millisecond)),
			want:   decision{Retry: true, Wait: backoff},
		},
		"503OnLastAttempt": {
			reason: "the last attempt's error is the result, without a sleep",
			in:     with(last(http.MethodGet, http.StatusServiceUnavailable), retryAfter(3*time.Second)),
			want:   decision{},
		},
		"400": {
			reason: "a request the server rejects is rejected again",
			in:     first(http.MethodPut, http.StatusBadRequest),
			want:   decision{},
		},
		"403": {
			reason: "a permission is not granted by asking again",
			in:     first(http.MethodGet, http.StatusForbidden),
			want:   decision{},
		},
		"404": {
			reason: "a missing object is the caller's to handle",
			in:     first(http.MethodGet, http.StatusNotFound),
			want:   decision{},
		},
		"409": {
			reason: "a conflict (stale version) is the caller's to resolve by reading again",
			in:     with(first(http.MethodPut, http.StatusConflict), retryAfter(time.Second)),
			want:   decision{},
		},
		"TransportGET": {
			reason: "a read that got no answer is repeated",
			in:     with(first(http.MethodGet, 0), failed(failureTransport, false)),
			want:   decision{Retry: true, Wait: backoff},
		},
		"TransportPUT": {
			reason: "a version-guarded write that got no answer is repeated",
			in:     with(first(http.MethodPut, 0), failed(failureTransport, false)),
			want:   decision{Retry: true, Wait: backoff},
		},
		"TransportPOSTSent": {
			reason: "a create whose answer was lost may have been processed: never re-sent",
			in:     with(first(http.MethodPost, 0), failed(failureTransport, false)),
			want:   decision{},
		},
		"TransportPOSTNeverSent": {
			reason: "a create that never left (no connection was made) is sent again",
			in:     with(first(http.MethodPost, 0), failed(failureTransport, true)),
			want:   decision{Retry: true, Wait: backoff},
		},
		"TransportOnLastAttempt": {
			reason: "the last attempt never sleeps",
			in:     with(last(http.MethodGet, 0), failed(failureTransport, true)),
			want:   decision{},
		},
		"TokenUnavailableGET": {
			reason: "no token for a passing reason: nothing was sent, so the call is tried again",
			in:     with(first(http.MethodGet, 0), failed(failureTokenUnavailable, false)),
			want:   decision{Retry: true, Wait: backoff},
		},
		"TokenUnavailablePOST": {
			reason: "nothing was sent, so even a create is tried again",
			in:     with(first(http.MethodPost, 0), failed(failureTokenUnavailable, false)),
			want:   decision{Retry: true, Wait: backoff},
		},
		"TokenUnavailableOnLastAttempt": {
			reason: "the last attempt never sleeps",
			in:     with(last(http.MethodPost, 0), failed(failureTokenUnavailable, false)),
			want:   decision{},
		},
		"TokenRefused": {
			reason: "refused credentials are not accepted on a second ask",
			in:     with(first(http.MethodGet, 0), failed(failureToken, false)),
			want:   decision{},
		},
		"SingleAttempt": {
			reason: "with one attempt allowed, a retryable failure is the result at once",
			in:     with(first(http.MethodGet, http.StatusBadGateway), func(in *attemptOutcome) { in.MaxAttempts = 1 }),
			want:   decision{},
		},
		"BeforeLastAttempt": {
			reason: "the attempt before the last still retries",
			in:     with(first(http.MethodGet, http.StatusBadGateway), func(in *attemptOutcome) { in.Attempt = 3 }),
			want:   decision{Retry: true, Wait: backoff},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := retryDecision(tc.in)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nretryDecision(%+v) (-want +got):\n%s", tc.reason, tc.in, diff)
			}
		})
	}
}
