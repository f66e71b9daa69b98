package managed

import (
	"context"
	"net"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// The loop during an outage: what it does with the errors of a connection
// whose circuit breaker is open, and how it releases the objects it held.

// serverKey is the connection the tests' objects name.
var serverKey = connection.Key{Kind: connection.KindAccountServer, Namespace: ns, Name: "server"}

// errCircuitOpenCall is what a call returns while the circuit is open.
var errCircuitOpenCall = accountserver.ErrorCircuitOpen("get tenant id-1", "http://server.example/api/2")

// onServer is the connection serverKey with client c (nil: none, as the
// other tests' fake connection).
func onServer(c *accountserver.Client) *connection.Connection {
	return &connection.Connection{Key: serverKey, Client: c, TenantID: "root-tenant", ResyncInterval: resync}
}

// refusedClient is a client of an address nobody listens on: every request
// fails at once with "connection refused", and its circuit is closed.
func refusedClient() *accountserver.Client {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	c, err := accountserver.New(accountserver.Config{URL: "http://" + addr, ClientID: "client", ClientSecret: "not-a-real-secret", MaxAttempts: 1})
	if err != nil {
		panic(err)
	}
	return c
}

// trip opens c's circuit: as many refused token requests as it takes.
func trip(c *accountserver.Client) {
	for range accountserver.DefaultBreakerThreshold {
		_, _ = c.Token(context.Background())
	}
	if c.Available() {
		panic("the circuit did not open")
	}
}

// openedClient is a refused client whose circuit is open.
func openedClient() *accountserver.Client {
	c := refusedClient()
	trip(c)
	return c
}

// TestServerUnavailableWritesStatusOnce: an outage costs an object one
// status write, whether its reconciles meet the open circuit before any
// call or in a call, and however often they run; a new generation is
// written once; the server back, the object is Synced. No Warning events:
// the connection has its own.
func TestServerUnavailableWritesStatusOnce(t *testing.T) {
	ctx := context.Background()
	var patches, statusPatches atomic.Int32
	base := newFake(tenant(withFinalizer(), withID("id-1")))
	c := interceptor.NewClient(base, interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			patches.Add(1)
			return c.Patch(ctx, obj, patch, opts...)
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			statusPatches.Add(1)
			return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
		},
	})
	var log calls
	// server is what Observe meets: "down" (the call's failures open the
	// circuit), "open" (the fake's typed error) or "up".
	server := "down"
	e := &external{log: &log, observe: func(req *request, id string) (remote, error) {
		switch server {
		case "down":
			trip(req.Conn.Client)
			return remote{}, errUnavailable
		case "open":
			return remote{}, errCircuitOpenCall
		}
		return rm(id, 1), nil
	}}
	conn := &connector{log: &log, conn: onServer(refusedClient())}
	rec := events.NewFakeRecorder(100)
	r := newReconciler(c, e, conn, rec)

	type writes struct{ Patches, StatusPatches int32 }
	steps := []struct {
		reason  string
		before  func()
		want    writes
		reason2 string
		// observed says whether the reconcile reached Observe.
		observed bool
	}{
		{reason: "the server stops answering: the call's own failures open the circuit; one status write",
			want: writes{0, 1}, reason2: ReasonServerUnavailable, observed: true},
		{reason: "reconciled again while the circuit is open: no call, no write",
			want: writes{0, 1}, reason2: ReasonServerUnavailable},
		{reason: "and again: still nothing",
			want: writes{0, 1}, reason2: ReasonServerUnavailable},
		{reason: "a call that meets the open circuit (the fake's typed error) writes nothing either",
			before: func() {
				conn.conn = onServer(nil)
				server = "open"
			},
			want: writes{0, 1}, reason2: ReasonServerUnavailable, observed: true},
		{reason: "a new generation is written once",
			before: func() {
				o := &v1.Tenant{}
				if err := base.Get(ctx, key, o); err != nil {
					t.Fatal(err)
				}
				o.Generation++
				if err := base.Update(ctx, o); err != nil {
					t.Fatal(err)
				}
			},
			want: writes{0, 2}, reason2: ReasonServerUnavailable, observed: true},
		{reason: "then nothing again",
			want: writes{0, 2}, reason2: ReasonServerUnavailable, observed: true},
		{reason: "the server answers: Synced, one write",
			before: func() { server = "up" },
			want:   writes{0, 3}, reason2: ReasonSynced, observed: true},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		log = nil
		res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key})
		if err != nil {
			t.Fatalf("%s: %v", s.reason, err)
		}
		if got := (writes{patches.Load(), statusPatches.Load()}); got != s.want {
			t.Errorf("%s: writes %+v, want %+v", s.reason, got, s.want)
		}
		o := &v1.Tenant{}
		if err := base.Get(ctx, key, o); err != nil {
			t.Fatal(err)
		}
		ready := o.Status.Conditions[0]
		if ready.Reason != s.reason2 {
			t.Errorf("%s: Ready reason %s (%s), want %s", s.reason, ready.Reason, ready.Message, s.reason2)
		}
		if o.Status.ObservedGeneration != o.Generation {
			t.Errorf("%s: observedGeneration %d, want %d", s.reason, o.Status.ObservedGeneration, o.Generation)
		}
		if got := strings.Contains(strings.Join(log, " "), "Observe("); got != s.observed {
			t.Errorf("%s: reached Observe %t, want %t (calls %v)", s.reason, got, s.observed, log)
		}
		if s.reason2 == ReasonServerUnavailable && (res.RequeueAfter < heldRecheck || res.RequeueAfter > heldRecheck+heldRecheck/10) {
			t.Errorf("%s: RequeueAfter %s, want the held object's safety net %s", s.reason, res.RequeueAfter, heldRecheck)
		}
	}
	for _, ev := range drain(rec) {
		if strings.HasPrefix(ev, "Warning") {
			t.Errorf("event %q: an outage is the connection's to announce, not each object's", ev)
		}
	}
	if got := r.heldBy(serverKey); len(got) != 1 || got[0].NamespacedName != key {
		t.Errorf("held by %s: %v, want the object", serverKey, got)
	}
}

// recordingQueue records what a handler enqueues, and when.
type recordingQueue struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	now   []string
	later map[string]time.Duration
}

func (q *recordingQueue) Add(r reconcile.Request) {
	if !slices.Contains(q.now, r.Name) {
		q.now = append(q.now, r.Name)
	}
}

func (q *recordingQueue) AddAfter(r reconcile.Request, d time.Duration) {
	if q.later == nil {
		q.later = map[string]time.Duration{}
	}
	q.later[r.Name] = d
}

// pacedConnector is a connector that knows the connection's client.
type pacedConnector struct {
	connector
	client *accountserver.Client
}

func (p *pacedConnector) Built(connection.Key) *accountserver.Client { return p.client }

// TestReleaseHeld: a change of the connection object (its ServerAvailable
// turning False or True, say) wakes the objects waiting for the connection,
// not those its open circuit holds; the circuit's closing releases these:
// those that only need verifying at once (the batcher reads them a hundred
// per request), the others at the connection's pace (here 2/s, burst 1).
func TestReleaseHeld(t *testing.T) {
	serverUnavailable := func(opts ...tenantOption) tenantOption {
		return func(o *v1.Tenant) {
			for _, f := range opts {
				f(o)
			}
			o.Status.ObservedGeneration = generation
			o.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonServerUnavailable,
				ObservedGeneration: generation, LastTransitionTime: metav1.Now()}}
		}
	}
	edited := func(o *v1.Tenant) { o.Generation++ }
	objs := []client.Object{
		named(ns, "verifying", onConnection("", "server"), withID("id-v"), serverUnavailable()),
		named(ns, "edited", onConnection("", "server"), withID("id-e"), serverUnavailable(edited)),
		named(ns, "new", onConnection("", "server"), serverUnavailable()),
		named(ns, "waiting", onConnection("", "server"), withConditions(metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse,
			Reason: ReasonWaitingForServer, LastTransitionTime: metav1.Now()})),
		named(ns, "ready", onConnection("", "server"), ready(metav1.ConditionTrue)),
	}
	held := []string{"verifying", "edited", "new", "inherits"}
	server := &v1.AccountServer{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "server"}}
	type want struct {
		Now []string
		// Paced are the objects woken at the connection's pace, Delays
		// their delays in order.
		Paced  []string
		Delays []time.Duration
		// StillHeld are the objects still recorded as held.
		StillHeld []string
	}
	cases := map[string]struct {
		reason string
		event  func(r *Reconciler[*v1.Tenant, remote, resolved], q *recordingQueue)
		want   want
	}{
		"ConnectionChanged": {
			reason: "a change of the connection object wakes the objects waiting for it; the held ones stay held",
			event: func(r *Reconciler[*v1.Tenant, remote, resolved], q *recordingQueue) {
				r.connectionChanged(tenantOptions()).Update(context.Background(), event.UpdateEvent{ObjectOld: server, ObjectNew: server}, q)
			},
			want: want{Now: []string{"waiting"}, StillHeld: []string{"edited", "inherits", "new", "verifying"}},
		},
		"CircuitClosed": {
			reason: "the circuit closes: the verifying object at once, the others one per 1/rps after the burst",
			event: func(r *Reconciler[*v1.Tenant, remote, resolved], q *recordingQueue) {
				r.circuitClosed().Generic(context.Background(), event.GenericEvent{Object: server}, q)
			},
			want: want{Now: []string{"verifying"}, Paced: []string{"edited", "inherits", "new"},
				Delays: []time.Duration{0, 500 * time.Millisecond, time.Second}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			pace, err := accountserver.New(accountserver.Config{URL: "http://server.example", ClientID: "client", ClientSecret: "not-a-real-secret",
				RequestsPerSecond: 2, Burst: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := newReconciler(indexedClient(interceptor.Funcs{}, objs...), &external{log: &calls{}}, nil, nil)
			r.Registry = &pacedConnector{client: pace}
			r.batches = &batcher[remote]{}
			// Held by their reconciles; "inherits", a child tenant, is not
			// in the connection's index.
			for _, n := range held {
				r.hold(serverKey, types.NamespacedName{Namespace: ns, Name: n})
			}
			q := &recordingQueue{}
			tc.event(r, q)

			// The first paced object has no delay: it is added at once.
			var got want
			for _, n := range q.now {
				if slices.Contains(tc.want.Paced, n) {
					got.Paced, got.Delays = append(got.Paced, n), append(got.Delays, 0)
				} else {
					got.Now = append(got.Now, n)
				}
			}
			for n, d := range q.later {
				got.Paced, got.Delays = append(got.Paced, n), append(got.Delays, d.Round(100*time.Millisecond))
			}
			for _, req := range r.heldBy(serverKey) {
				got.StillHeld = append(got.StillHeld, req.Name)
			}
			sort.Strings(got.Now)
			sort.Strings(got.Paced)
			sort.Strings(got.StillHeld)
			slices.Sort(got.Delays)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
