package managed

import (
	"errors"
	"fmt"
	"time"
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

// Failures back off from a second to five minutes: a flaky server is asked
// again soon, a broken one a few times an hour.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)
