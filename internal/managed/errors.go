package managed

import (
	"errors"
	"fmt"
	"time"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// Condition reasons the loop sets. Per-kind code adds its own through
// Waiting and Stalled errors.
const (
	ReasonSynced              = "Synced"
	ReasonObserved            = "Observed"
	ReasonWaitingForReference = "WaitingForReference"
	ReasonWaitingForServer    = "WaitingForAccountServer"
	ReasonDeletionBlocked     = "DeletionBlocked"
	ReasonDeleting            = "Deleting"
	ReasonAlreadyExists       = "AlreadyExists"
	ReasonRejected            = "Rejected"
	ReasonForbidden           = "Forbidden"
	ReasonOutsideScope        = "OutsideScope"
	ReasonRemoteDeleted       = "RemoteDeleted"
	ReasonImportNotFound      = "ImportNotFound"
	ReasonTransientError      = "TransientError"
	ReasonInvalidSpec         = "InvalidSpec"
	// ReasonServerUnavailable: the connection's circuit breaker is open.
	ReasonServerUnavailable = "ServerUnavailable"
)

// WaitingError means progress needs another object first (a reference, a
// connection). The loop reports it as Reconciling and does not poll: a watch
// on that object wakes it.
type WaitingError struct {
	Reason  string
	Message string
	// RetryAfter, when set, is when to look again: for waits no watch ends
	// (the server's nightly window, say). Unset waits for a watch event.
	RetryAfter time.Duration
}

func (e *WaitingError) Error() string { return e.Message }

// StalledError means the spec cannot be carried out as it is; retrying does
// not help. The loop reports it as Stalled and waits for a change of spec.
type StalledError struct {
	Reason  string
	Message string
}

func (e *StalledError) Error() string { return e.Message }

// Waiting returns a WaitingError.
func Waiting(reason, format string, a ...any) error {
	return &WaitingError{Reason: reason, Message: fmt.Sprintf(format, a...)}
}

// WaitingFor returns a WaitingError that looks again after d.
func WaitingFor(reason string, d time.Duration, format string, a ...any) error {
	return &WaitingError{Reason: reason, Message: fmt.Sprintf(format, a...), RetryAfter: d}
}

// Stalled returns a StalledError.
func Stalled(reason, format string, a ...any) error {
	return &StalledError{Reason: reason, Message: fmt.Sprintf(format, a...)}
}

func asWaiting(err error) (*WaitingError, bool) {
	var w *WaitingError
	ok := errors.As(err, &w)
	return w, ok
}

func asStalled(err error) (*StalledError, bool) {
	var s *StalledError
	ok := errors.As(err, &s)
	return s, ok
}

// serverUnavailableError is a reconcile that failed because the server of
// its connection does not answer: the connection's circuit is open (the
// call failed at once), or its own failures opened it. The loop reports it
// as ServerUnavailable and holds the object until the circuit closes.
type serverUnavailableError struct {
	conn connection.Key
	// client is the connection's client, nil in tests without one.
	client *accountserver.Client
	err    error
}

func (e *serverUnavailableError) Error() string { return e.err.Error() }
func (e *serverUnavailableError) Unwrap() error { return e.err }

// message is the condition's message: the same for every call that
// failed, and every reconcile, while the outage lasts, so a held object's
// status is written once.
func (e *serverUnavailableError) message(kind string) string {
	return fmt.Sprintf("the account server of %s does not answer (its circuit breaker is open): nothing is sent for this %s "+
		"until the connection's probe gets an answer, then it is reconciled again; see the connection's %s condition",
		e.conn, kind, v1.ConditionServerAvailable)
}

func asServerUnavailable(err error) (*serverUnavailableError, bool) {
	var u *serverUnavailableError
	ok := errors.As(err, &u)
	return u, ok
}

// serverUnavailable wraps err, a reconcile's error through conn, when it
// says the server does not answer: a call the open circuit refused, or a
// failure (5xx, no answer) after which the circuit is open.
func serverUnavailable(conn *connection.Connection, err error) error {
	if err == nil || conn == nil {
		return err
	}
	if _, ok := asServerUnavailable(err); ok {
		return err
	}
	down := accountserver.IsCircuitOpen(err) ||
		(accountserver.IsServerDown(err) && conn.Client != nil && !conn.Client.Available())
	if !down {
		return err
	}
	return &serverUnavailableError{conn: conn.Key, client: conn.Client, err: err}
}

// Failures back off from a second to five minutes: a flaky server is asked
// again soon, a broken one a few times an hour.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// heldRecheck is how soon an object held by an open circuit looks again on
// its own, should the wake-up when the circuit closes be lost: it costs no
// request while the circuit is open, and writes nothing.
const heldRecheck = maxBackoff

// closedRecheck is how soon an object looks again that found the circuit
// closed right after its call met it open: the closing may have released
// the held objects before this one was among them.
const closedRecheck = time.Second
