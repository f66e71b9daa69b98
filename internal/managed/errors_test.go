package managed

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestErrors(t *testing.T) {
	type got struct {
		Text       string
		Waiting    *WaitingError
		Stalled    *StalledError
		IsWaiting  bool
		IsStalled  bool
		RetryAfter time.Duration
	}
	cases := map[string]struct {
		reason string
		err    error
		want   got
	}{
		"Waiting": {
			reason: "Waiting formats its message and waits for a watch",
			err:    Waiting(ReasonWaitingForReference, "parent %s is not Ready", "top"),
			want: got{Text: "parent top is not Ready", IsWaiting: true,
				Waiting: &WaitingError{Reason: ReasonWaitingForReference, Message: "parent top is not Ready"}},
		},
		"WaitingFor": {
			reason: "WaitingFor also says when to look again",
			err:    WaitingFor("NightlyWindow", time.Minute, "usage is rebuilt until %02d:00", 2),
			want: got{Text: "usage is rebuilt until 02:00", IsWaiting: true, RetryAfter: time.Minute,
				Waiting: &WaitingError{Reason: "NightlyWindow", Message: "usage is rebuilt until 02:00", RetryAfter: time.Minute}},
		},
		"Stalled": {
			reason: "Stalled formats its message",
			err:    Stalled(ReasonInvalidSpec, "ObserveOnly needs %s", "importID"),
			want: got{Text: "ObserveOnly needs importID", IsStalled: true,
				Stalled: &StalledError{Reason: ReasonInvalidSpec, Message: "ObserveOnly needs importID"}},
		},
		"WrappedWaiting": {
			reason: "a wrapped WaitingError is still one",
			err:    fmt.Errorf("resolving: %w", Waiting(ReasonWaitingForServer, "not ready")),
			want: got{Text: "resolving: not ready", IsWaiting: true,
				Waiting: &WaitingError{Reason: ReasonWaitingForServer, Message: "not ready"}},
		},
		"WrappedStalled": {
			reason: "a wrapped StalledError is still one",
			err:    fmt.Errorf("publishing: %w", Stalled(ReasonNotOwned, "not ours")),
			want: got{Text: "publishing: not ours", IsStalled: true,
				Stalled: &StalledError{Reason: ReasonNotOwned, Message: "not ours"}},
		},
		"Other": {
			reason: "any other error is neither",
			err:    fmt.Errorf("boom"),
			want:   got{Text: "boom"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, isW := asWaiting(tc.err)
			s, isS := asStalled(tc.err)
			g := got{Text: tc.err.Error(), Waiting: w, Stalled: s, IsWaiting: isW, IsStalled: isS}
			if w != nil {
				g.RetryAfter = w.RetryAfter
			}
			if diff := cmp.Diff(tc.want, g); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
