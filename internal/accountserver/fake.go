package accountserver

import "time"

// ErrorFromAnswer is the error a call returns when the server answers with
// a non-2xx status, its error body and Retry-After. Fakes of the server use
// it, so code under test meets the errors a real call gives (IsInvalid,
// IsStaleVersion, RetryAfter, ...).
func ErrorFromAnswer(op string, status int, body []byte, retryAfter time.Duration) error {
	return newHTTPError(op, status, body, retryAfter, nil)
}

// ErrorFromTransport is the error a call returns when no answer arrived.
func ErrorFromTransport(op string, cause error) error {
	return newTransportError(op, cause, nil)
}

// ErrorCircuitOpen is the error a call returns at once, without a request,
// while the circuit breaker of the connection to url is open.
func ErrorCircuitOpen(op, url string) error {
	return circuitOpenError(op, url)
}
