package managed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

const (
	onceKey = "accounts.tenant-operator.io/test-once"
	askKey  = "accounts.tenant-operator.io/test-again"
)

// heldBack is an error that knows whether its request was sent.
type heldBack struct {
	notSent bool
	err     error
}

func (h heldBack) Error() string { return "held back" }
func (h heldBack) Unwrap() error { return h.err }
func (h heldBack) NotSent() bool { return h.notSent }

func transport(cause error) error {
	return accountserver.ErrorFromTransport("call", &url.Error{Op: "Post", URL: "https://as.example/api/2/x", Err: cause})
}

func TestUnsent(t *testing.T) {
	cases := map[string]struct {
		reason string
		err    error
		want   bool
	}{
		"BadRequest":   {"The server refused the request.", errInvalid, true},
		"NotFound":     {"The server refused the request.", errNotFound, true},
		"Forbidden":    {"The server refused the request.", errForbidden, true},
		"Conflict":     {"The server refused the request.", errNameTaken, true},
		"RateLimited":  {"A 429 is refused unseen.", retryAfter(0), true},
		"Internal":     {"A 500 may come after the server acted.", serverError(http.StatusInternalServerError, 500, "oops"), false},
		"Unavailable":  {"A 503 may come from a proxy after it forwarded the request.", errUnavailable, false},
		"Gateway":      {"A 504 comes after the proxy forwarded the request.", serverError(http.StatusGatewayTimeout, 504, "timeout"), false},
		"DialFailed":   {"No connection was made: nothing was sent.", transport(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), true},
		"ReadFailed":   {"The connection broke while the answer was awaited.", transport(&net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}), false},
		"AnswerCut":    {"The answer stopped short.", transport(io.ErrUnexpectedEOF), false},
		"Timeout":      {"A timeout says nothing of the server.", transport(context.DeadlineExceeded), false},
		"NotTheClient": {"An error that is not the client's proves nothing.", errors.New("something"), false},
		"HeldBack":     {"An error may say itself that nothing was sent.", heldBack{notSent: true, err: errUnavailable}, true},
		"SaysSent":     {"An error that says it may have been sent is read as the client's.", heldBack{err: errInvalid}, true},
		"SaysSent5xx":  {"An error that says it may have been sent is read as the client's.", heldBack{err: errUnavailable}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Unsent(tc.err); got != tc.want {
				t.Errorf("%s: Unsent(%v) = %t, want %t", tc.reason, tc.err, got, tc.want)
			}
		})
	}
}

func TestOnceSend(t *testing.T) {
	type want struct {
		outcome string
		err     error
		sends   int
		// annotations are the object's record and ask afterwards.
		annotations map[string]string
	}
	cases := map[string]struct {
		reason string
		obj    *v1.Tenant
		stored bool
		funcs  interceptor.Funcs
		send   error
		want   want
	}{
		"Sent": {
			reason: "An answered request is recorded as Sent.",
			obj:    tenant(), stored: true,
			want: want{outcome: OnceSent, sends: 1, annotations: map[string]string{onceKey: OnceSent}},
		},
		"Resend": {
			reason: "A request to send again is consumed by the record.",
			obj:    tenant(withAnnotation(onceKey, OnceUnconfirmed), withAnnotation(askKey, "true")), stored: true,
			want: want{outcome: OnceSent, sends: 1, annotations: map[string]string{onceKey: OnceSent}},
		},
		"StaleCache": {
			reason: "A record refused for a lagging cache sends nothing.",
			obj:    tenant(), stored: true, funcs: staleCache(),
			want: want{err: errStale, annotations: map[string]string{}},
		},
		"Gone": {
			reason: "An object deleted meanwhile gets no request.",
			obj:    tenant(),
			want:   want{err: errGone},
		},
		"Refused": {
			reason: "A refusal puts the record back as it was: a later reconcile sends.",
			obj:    tenant(), stored: true, send: errInvalid,
			want: want{err: errInvalid, sends: 1, annotations: map[string]string{}},
		},
		"ResendRefused": {
			reason: "A refused resend leaves the earlier outcome and the request to send again.",
			obj:    tenant(withAnnotation(onceKey, OnceSent), withAnnotation(askKey, "true")), stored: true, send: retryAfter(0),
			want: want{err: retryAfter(0), sends: 1, annotations: map[string]string{onceKey: OnceSent, askKey: "true"}},
		},
		"AnswerLost": {
			reason: "A lost answer is Unconfirmed, and no error: it is not sent again on its own.",
			obj:    tenant(), stored: true, send: transport(io.ErrUnexpectedEOF),
			want: want{outcome: OnceUnconfirmed, sends: 1, annotations: map[string]string{onceKey: OnceUnconfirmed}},
		},
		"ServerError": {
			reason: "A 5xx is Unconfirmed.",
			obj:    tenant(), stored: true, send: errUnavailable,
			want: want{outcome: OnceUnconfirmed, sends: 1, annotations: map[string]string{onceKey: OnceUnconfirmed}},
		},
		"OutcomeWriteFails": {
			reason: "The outcome's write failing leaves Sending, which Settle turns into Unconfirmed.",
			obj:    tenant(), stored: true, funcs: patchContaining(`"`+OnceSent+`"`, internal()),
			want: want{outcome: OnceSent, err: internal(), sends: 1, annotations: map[string]string{onceKey: OnceSending}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var objs []client.Object
			if tc.stored {
				objs = append(objs, tc.obj.DeepCopy())
			}
			store := newFake(objs...)
			c := interceptor.NewClient(store, tc.funcs)
			if tc.stored {
				// Read as the loop reads it, through the cache.
				if err := c.Get(context.Background(), key, tc.obj); err != nil {
					t.Fatal(err)
				}
			} else {
				tc.obj.ResourceVersion = "7"
			}
			sends := 0
			o := Once{Client: c, Object: tc.obj, Key: onceKey, Consumes: askKey}
			outcome, err := o.Send(context.Background(), func(context.Context) error { sends++; return tc.send })
			if outcome != tc.want.outcome || fmt.Sprint(err) != fmt.Sprint(tc.want.err) || sends != tc.want.sends {
				t.Errorf("%s: got %q, %v, %d sends; want %q, %v, %d sends", tc.reason, outcome, err, sends, tc.want.outcome, tc.want.err, tc.want.sends)
			}
			if !tc.stored {
				return
			}
			got := &v1.Tenant{}
			if err := store.Get(context.Background(), key, got); err != nil {
				t.Fatal(err)
			}
			ann := map[string]string{}
			for k, v := range got.Annotations {
				ann[k] = v
			}
			if diff := cmp.Diff(tc.want.annotations, ann); diff != "" {
				t.Errorf("%s: annotations (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestOnceSettle(t *testing.T) {
	cases := map[string]struct {
		reason  string
		obj     *v1.Tenant
		funcs   interceptor.Funcs
		settled bool
		err     error
		record  string
	}{
		"Sending": {
			reason:  "A record whose outcome was never written becomes Unconfirmed.",
			obj:     tenant(withAnnotation(onceKey, OnceSending)),
			settled: true, record: OnceUnconfirmed,
		},
		"StaleCache": {
			reason: "Under the optimistic lock: the newest object may hold the outcome.",
			obj:    tenant(withAnnotation(onceKey, OnceSending)), funcs: staleCache(),
			err: errStale, record: OnceSending,
		},
		"Sent": {
			reason: "A known outcome is left alone, and nothing is written.",
			obj:    tenant(withAnnotation(onceKey, OnceSent)), funcs: patchContaining("", internal()),
			record: OnceSent,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			store := newFake(tc.obj.DeepCopy())
			obj := tc.obj.DeepCopy()
			if err := interceptor.NewClient(store, tc.funcs).Get(context.Background(), key, obj); err != nil {
				t.Fatal(err)
			}
			settled, err := Once{Client: interceptor.NewClient(store, tc.funcs), Object: obj, Key: onceKey}.Settle(context.Background())
			if settled != tc.settled || !errors.Is(err, tc.err) {
				t.Errorf("%s: got %t, %v; want %t, %v", tc.reason, settled, err, tc.settled, tc.err)
			}
			got := &v1.Tenant{}
			if err := store.Get(context.Background(), key, got); err != nil {
				t.Fatal(err)
			}
			if got.Annotations[onceKey] != tc.record {
				t.Errorf("%s: record %q, want %q", tc.reason, got.Annotations[onceKey], tc.record)
			}
		})
	}
}

// requester takes the request annotation askKey.
type requester struct{}

func (requester) RequestAnnotations() []string { return []string{askKey} }

func TestRequested(t *testing.T) {
	cases := map[string]struct {
		reason   string
		ext      any
		old, new *v1.Tenant
		want     bool
	}{
		"Asked":    {"Setting the annotation wakes the object.", requester{}, tenant(), tenant(withAnnotation(askKey, "true")), true},
		"Same":     {"An update that leaves it as it was does not.", requester{}, tenant(withAnnotation(askKey, "true")), tenant(withAnnotation(askKey, "true")), false},
		"Consumed": {"Its removal (the operator's own write) does not.", requester{}, tenant(withAnnotation(askKey, "true")), tenant(), false},
		"Other":    {"Another annotation does not.", requester{}, tenant(), tenant(withAnnotation(onceKey, OnceSent)), false},
		"NoTaker":  {"A kind that takes no requests is never woken by one.", &external{}, tenant(), tenant(withAnnotation(askKey, "true")), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := requested(tc.ext)
			if got := p.Update(event.UpdateEvent{ObjectOld: tc.old, ObjectNew: tc.new}); got != tc.want {
				t.Errorf("%s: got %t, want %t", tc.reason, got, tc.want)
			}
			if p.Create(event.CreateEvent{Object: tc.new}) {
				t.Errorf("%s: a create is the generation's to pass", tc.reason)
			}
		})
	}
}
