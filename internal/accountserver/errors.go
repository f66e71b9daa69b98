package accountserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Platform codes the operator branches on (the reference lists them all).
const (
	CodeVersionMismatch     = 1001
	CodeAccessDenied        = 1002
	CodeParentDisabled      = 1003
	CodeNameConflict        = 1004
	CodeTenantNotFound      = 1005
	CodeTenantEnabled       = 1006
	CodeItemNotAvailable    = 1021
	CodeHardQuotaExceeded   = 1022
	CodeBusinessRules       = 1027
	CodeCannotEnableService = 1026
)

// kind is the retry policy an error implies; callers ask through the Is* helpers.
type kind int

const (
	kindOther kind = iota
	kindNotFound
	kindConflict
	kindStaleVersion
	kindForbidden
	kindInvalid
	kindUnauthorized
	kindUnavailable
)

// Error is every failure the client returns for a server call. Its text names the operation and the
// HTTP status and carries the server's code and message; it is built once, with credentials, tokens
// and request bodies scrubbed, so printing it anywhere is safe.
type Error struct {
	op         string
	status     int
	code       string
	message    string
	info       string
	context    json.RawMessage
	retryAfter time.Duration
	kind       kind
	text       string
	// cause is kept only for errors whose text cannot hold a secret (transport errors, context errors),
	// so errors.Is(err, context.DeadlineExceeded) keeps working.
	cause error
	// circuitOpen marks a call that failed at once, without a request, because the connection's
	// circuit breaker is open.
	circuitOpen bool
	// unsent marks a call whose request never left: its token could not
	// be fetched, and no earlier attempt had sent it.
	unsent bool
}

// Error implements error.
func (e *Error) Error() string { return e.text }

// Unwrap exposes transport and context causes.
func (e *Error) Unwrap() error { return e.cause }

// Operation is what the client was doing, e.g. "update tenant 3f0…".
func (e *Error) Operation() string { return e.op }

// StatusCode is the HTTP status, 0 when no answer arrived.
func (e *Error) StatusCode() int { return e.status }

// Code is the server's platform code (e.g. "1021"), the OAuth error code for token errors
// ("invalid_client"), or the HTTP status when the server named none.
func (e *Error) Code() string { return e.code }

// Message is the server's message.
func (e *Error) Message() string { return e.message }

// Info is the server's details.info hint.
func (e *Error) Info() string { return e.info }

// Context is the server's error.context object (e.g. the offering items that block an edition switch).
func (e *Error) Context() json.RawMessage { return e.context }

// RetryAfter is the wait the server asked for, 0 if it asked for none.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

func isKind(err error, k kind) bool {
	e, ok := asError(err)
	return ok && e.kind == k
}

// AsError returns the *Error inside err.
func AsError(err error) (*Error, bool) { return asError(err) }

// IsNotFound: the object does not exist (or is soft-deleted).
func IsNotFound(err error) bool { return isKind(err, kindNotFound) }

// IsConflict: a name or login is taken, or another non-version conflict (409 other than code 1001).
func IsConflict(err error) bool { return isKind(err, kindConflict) }

// IsStaleVersion: the version sent is not the current one (409 with code 1001, or 426 on quotas).
// Read the object again and retry; do not back off.
func IsStaleVersion(err error) bool { return isKind(err, kindStaleVersion) }

// IsForbidden: outside the credentials' subtree or scope (403).
func IsForbidden(err error) bool { return isKind(err, kindForbidden) }

// IsInvalid: the server refused the request itself (400, 406, 415, 422); retrying cannot help.
// Code and Message of the *Error say why.
func IsInvalid(err error) bool { return isKind(err, kindInvalid) }

// IsUnauthorized: the credentials are wrong or the token was refused after one refresh (401, token 400/401).
func IsUnauthorized(err error) bool { return isKind(err, kindUnauthorized) }

// IsUnavailable: transient — network error, 5xx, or 429 still answered after the retries, or a
// call refused at once because the connection's circuit is open (IsCircuitOpen).
func IsUnavailable(err error) bool { return isKind(err, kindUnavailable) }

// IsCircuitOpen: the call failed at once, without a request, because the connection's circuit
// breaker is open: the server stopped answering, and only its probe is sent until it answers again.
func IsCircuitOpen(err error) bool {
	e, ok := asError(err)
	return ok && e.circuitOpen
}

// NotSent says the call failed without sending its request: the connection's circuit was open,
// or no token could be fetched for it. (managed.Unsent reads it: a one-shot request that failed
// this way was certainly not acted on.)
func (e *Error) NotSent() bool { return e.circuitOpen || e.unsent }

// IsServerDown: the server did not answer, or answered 5xx: what the circuit breaker counts. A 429
// is not (the server is there, and asks the connection to pause), nor an open circuit itself.
func IsServerDown(err error) bool { return err != nil && outcomeOf(err) == outcomeUnavailable }

// IsUsageNotReady: the server refused to make a report because its usage history is being
// rebuilt (its nightly window). The vendor's guide describes this answer; the official schema only
// says 400, so the client recognises it by its message: an ASSUMPTION, not in the official schema.
// Waiting and trying again later helps; the spec is not at fault.
func IsUsageNotReady(err error) bool {
	e, ok := asError(err)
	return ok && e.status == http.StatusBadRequest && strings.Contains(strings.ToLower(e.message), "usage history is not ready")
}

// HasCode reports whether err carries the server's platform code.
func HasCode(err error, code int) bool {
	e, ok := asError(err)
	return ok && e.code == strconv.Itoa(code)
}

// RetryAfter returns the wait the server asked for with a 429 or 503.
func RetryAfter(err error) (time.Duration, bool) {
	e, ok := asError(err)
	if !ok || e.retryAfter <= 0 {
		return 0, false
	}
	return e.retryAfter, true
}

// wireError is the account server's error body. Code may be a number or a string.
type wireError struct {
	Code    json.RawMessage `json:"code"`
	Message string          `json:"message"`
	Details struct {
		Info string `json:"info"`
	} `json:"details"`
	Context json.RawMessage `json:"context"`
	Domain  string          `json:"domain"`
}

// parsedBody is what a failed answer's body says, whichever of the two shapes it has.
type parsedBody struct {
	code, message, info string
	context             json.RawMessage
}

// parseErrorBody reads {"error":{…}} and the OAuth shape {"error":"…","error_description":"…"}.
// An unreadable body yields nothing: raw bodies are never copied into errors.
func parseErrorBody(body []byte) parsedBody {
	var outer struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &outer) != nil || len(outer.Error) == 0 {
		return parsedBody{}
	}
	var s string
	if json.Unmarshal(outer.Error, &s) == nil {
		return parsedBody{code: s, message: outer.ErrorDescription}
	}
	var w wireError
	if json.Unmarshal(outer.Error, &w) != nil {
		return parsedBody{}
	}
	p := parsedBody{message: w.Message, info: w.Details.Info}
	if len(w.Context) > 0 && string(w.Context) != "null" && string(w.Context) != "{}" {
		p.context = w.Context
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(w.Code))
	d.UseNumber()
	if d.Decode(&n) == nil {
		p.code = n.String()
	} else if json.Unmarshal(w.Code, &s) == nil {
		p.code = s
	}
	return p
}

// classify maps an HTTP status (and platform code) to the retry policy it implies.
func classify(status int, code string) kind {
	switch {
	case status == http.StatusNotFound:
		return kindNotFound
	case status == http.StatusConflict:
		if code == strconv.Itoa(CodeVersionMismatch) {
			return kindStaleVersion
		}
		return kindConflict
	case status == http.StatusUpgradeRequired:
		return kindStaleVersion
	case status == http.StatusForbidden:
		return kindForbidden
	case status == http.StatusUnauthorized:
		return kindUnauthorized
	case status == http.StatusBadRequest, status == http.StatusNotAcceptable,
		status == http.StatusUnsupportedMediaType, status == http.StatusUnprocessableEntity:
		return kindInvalid
	case status == http.StatusTooManyRequests, status >= 500:
		return kindUnavailable
	}
	return kindOther
}

// redactor scrubs known secrets out of text that came from elsewhere (server messages, transport errors).
type redactor []string

const redacted = "[REDACTED]"

func (r redactor) apply(s string) string {
	for _, secret := range r {
		if len(secret) >= 4 && strings.Contains(s, secret) {
			s = strings.ReplaceAll(s, secret, redacted)
		}
	}
	return s
}

// newHTTPError builds the error for a non-2xx answer.
func newHTTPError(op string, status int, body []byte, retryAfter time.Duration, r redactor) *Error {
	p := parseErrorBody(body)
	e := &Error{
		op:         op,
		status:     status,
		code:       r.apply(p.code),
		message:    r.apply(p.message),
		info:       r.apply(p.info),
		retryAfter: retryAfter,
	}
	if p.context != nil {
		e.context = json.RawMessage(r.apply(string(p.context)))
	}
	if e.code == "" {
		e.code = strconv.Itoa(status)
	}
	e.kind = classify(status, e.code)
	var b strings.Builder
	fmt.Fprintf(&b, "accountserver: %s: %d %s", op, status, http.StatusText(status))
	if e.message != "" {
		fmt.Fprintf(&b, ": %s", e.message)
	}
	if e.code != strconv.Itoa(status) {
		fmt.Fprintf(&b, " (code %s)", e.code)
	}
	if retryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", retryAfter)
	}
	e.text = b.String()
	return e
}

// newTransportError wraps a failure to get an answer at all.
func newTransportError(op string, cause error, r redactor) *Error {
	return &Error{
		op:    op,
		kind:  kindUnavailable,
		text:  r.apply(fmt.Sprintf("accountserver: %s: %v", op, cause)),
		cause: cause,
	}
}

// newLocalError is an error the client decides on itself (a bad argument, an unreadable answer).
func newLocalError(op string, k kind, msg string, r redactor) *Error {
	text := r.apply(fmt.Sprintf("accountserver: %s: %s", op, msg))
	return &Error{op: op, kind: k, message: r.apply(msg), text: text}
}
