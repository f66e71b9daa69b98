package managed

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// woken collects what a batcher wakes.
type woken struct {
	mu   sync.Mutex
	keys []types.NamespacedName
	more chan struct{}
}

func newWoken() *woken { return &woken{more: make(chan struct{}, 1000)} }

func (w *woken) wake(keys []types.NamespacedName) {
	w.mu.Lock()
	w.keys = append(w.keys, keys...)
	w.mu.Unlock()
	w.more <- struct{}{}
}

// wait blocks until n objects were woken in all.
func (w *woken) wait(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		got := len(w.keys)
		w.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-w.more:
		case <-deadline:
			t.Fatalf("%d objects woken, want %d", got, n)
		}
	}
}

// reads records the batched reads a fake server answers.
type reads struct {
	mu    sync.Mutex
	sizes []int
	err   error
	// absent IDs are not in any answer.
	absent map[string]bool
}

func (r *reads) read(_ context.Context, _ *connection.Connection, ids []string) (map[string]remote, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sizes = append(r.sizes, len(ids))
	if r.err != nil {
		return nil, r.err
	}
	out := map[string]remote{}
	for _, id := range ids {
		if !r.absent[id] {
			out[id] = rm(id, 7)
		}
	}
	return out, nil
}

func objectKey(i int) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: fmt.Sprintf("t-%d", i)}
}

func TestBatcherReadsAHundredAtATime(t *testing.T) {
	var rd reads
	w := newWoken()
	b := newBatcher(rd.read, w.wake)
	conn := &connection.Connection{Key: connection.Key{Kind: connection.KindClusterAccountServer, Name: "a"}}
	for i := range 250 {
		b.want(conn, fmt.Sprintf("id-%d", i), objectKey(i))
	}
	// Wanting again while waiting changes nothing: one read per ID, one
	// wake per object.
	b.want(conn, "id-249", objectKey(249))
	w.wait(t, 250)

	rd.mu.Lock()
	sizes := append([]int(nil), rd.sizes...)
	rd.mu.Unlock()
	sort.Ints(sizes)
	if diff := cmp.Diff([]int{50, 100, 100}, sizes); diff != "" {
		t.Errorf("batch sizes -want +got:\n%s", diff)
	}
	for i := range 250 {
		res, ok := b.take(conn, fmt.Sprintf("id-%d", i))
		if !ok || !res.found || res.err != nil || res.remote != rm(fmt.Sprintf("id-%d", i), 7) {
			t.Fatalf("take(id-%d) = %+v %v", i, res, ok)
		}
	}
	if _, ok := b.take(conn, "id-0"); ok {
		t.Error("an answer serves one reconcile; it was taken twice")
	}
}

// TestBatcherSizedByTheKind: a kind whose read costs the same for any
// number of IDs takes more at once, and waits longer for them to gather.
func TestBatcherSizedByTheKind(t *testing.T) {
	g := gomega.NewWithT(t)
	var rd reads
	w := newWoken()
	b := newBatcher(rd.read, w.wake)
	b.size, b.window = 400, time.Hour
	conn := &connection.Connection{Key: connection.Key{Kind: connection.KindClusterAccountServer, Name: "a"}}
	sizes := func() []int {
		rd.mu.Lock()
		defer rd.mu.Unlock()
		return append([]int(nil), rd.sizes...)
	}
	for i := range 450 {
		b.want(conn, fmt.Sprintf("id-%d", i), objectKey(i))
	}
	w.wait(t, 400)
	g.Expect(sizes()).To(gomega.Equal([]int{400}), "a full batch of the kind's size is read at once")
	// Six times the usual window: the last 50 still gather.
	g.Consistently(sizes).WithTimeout(6 * batchWindow).WithPolling(10 * time.Millisecond).Should(gomega.Equal([]int{400}))
	for i := 450; i < 800; i++ {
		b.want(conn, fmt.Sprintf("id-%d", i), objectKey(i))
	}
	w.wait(t, 800)
	g.Expect(sizes()).To(gomega.Equal([]int{400, 400}), "they go with the next full batch")
}

// TestBatcherHoldsAtMostMaxHeld: answers nobody has taken yet hold back
// the next read, so a fast server does not fill the manager's memory with
// every remote object at once; each answer taken makes room again.
func TestBatcherHoldsAtMostMaxHeld(t *testing.T) {
	var rd reads
	w := newWoken()
	b := newBatcher(rd.read, w.wake)
	b.maxHeld = 200
	conn := &connection.Connection{Key: connection.Key{Kind: connection.KindClusterAccountServer, Name: "a"}}
	for i := range 500 {
		b.want(conn, fmt.Sprintf("id-%d", i), objectKey(i))
	}
	readsSoFar := func() int {
		rd.mu.Lock()
		defer rd.mu.Unlock()
		return len(rd.sizes)
	}
	w.wait(t, 200)
	if got := readsSoFar(); got != 2 {
		t.Fatalf("%d reads with 200 answers untaken and room for 200, want 2", got)
	}
	for i := range 100 {
		if _, ok := b.take(conn, fmt.Sprintf("id-%d", i)); !ok {
			t.Fatalf("take(id-%d): no answer", i)
		}
	}
	w.wait(t, 300)
	if got := readsSoFar(); got != 3 {
		t.Fatalf("%d reads after 100 answers were taken, want 3", got)
	}
	for i := 100; i < 500; i++ {
		w.wait(t, min(500, i+101))
		if _, ok := b.take(conn, fmt.Sprintf("id-%d", i)); !ok {
			t.Fatalf("take(id-%d): no answer", i)
		}
	}
	if got := readsSoFar(); got != 5 {
		t.Errorf("%d reads for 500 IDs, want 5", got)
	}
}

func TestBatcherDropsAnswersNobodyTookToMakeRoom(t *testing.T) {
	var rd reads
	w := newWoken()
	b := newBatcher(rd.read, w.wake)
	b.maxHeld = 200
	conn := &connection.Connection{Key: connection.Key{Kind: connection.KindClusterAccountServer, Name: "a"}}
	for i := range 300 {
		b.want(conn, fmt.Sprintf("id-%d", i), objectKey(i))
	}
	w.wait(t, 200)
	// Nobody comes for the 200 answers; once they are older than
	// maxBatchAge they go, and the last 100 IDs are read.
	later := time.Now().Add(maxBatchAge + time.Second)
	b.mu.Lock()
	b.now = func() time.Time { return later }
	b.mu.Unlock()
	w.wait(t, 300)
	if _, ok := b.take(conn, "id-0"); ok {
		t.Error("an answer older than maxBatchAge was kept")
	}
	if _, ok := b.take(conn, "id-250"); !ok {
		t.Error("the last batch was not read")
	}
}

func TestBatcherAnswersAreFreshAndForgettable(t *testing.T) {
	var rd reads
	rd.absent = map[string]bool{"gone": true}
	w := newWoken()
	b := newBatcher(rd.read, w.wake)
	now := time.Now()
	b.now = func() time.Time { return now }
	conn := &connection.Connection{}
	for i, id := range []string{"old", "forgotten", "gone"} {
		b.want(conn, id, objectKey(i))
	}
	w.wait(t, 3)

	if res, ok := b.take(conn, "gone"); !ok || res.found {
		t.Errorf("an ID the answer lacks: take = %+v %v, want an answer that says not found", res, ok)
	}
	b.forget("forgotten")
	if _, ok := b.take(conn, "forgotten"); ok {
		t.Error("a forgotten answer was taken")
	}
	now = now.Add(maxBatchAge + time.Second)
	if _, ok := b.take(conn, "old"); ok {
		t.Error("an answer older than maxBatchAge was trusted")
	}
}

func TestBatcherHandsAFailureToEveryWaiter(t *testing.T) {
	rd := reads{err: errUnavailable}
	w := newWoken()
	b := newBatcher(rd.read, w.wake)
	conn := &connection.Connection{}
	b.want(conn, "id-1", objectKey(1))
	b.want(conn, "id-2", objectKey(2))
	w.wait(t, 2)
	for _, id := range []string{"id-1", "id-2"} {
		if res, ok := b.take(conn, id); !ok || !errors.Is(res.err, errUnavailable) {
			t.Errorf("take(%s) = %+v %v, want the read's error", id, res, ok)
		}
	}
}

// handled is an object the loop handled at its generation: verifying it is
// all a reconcile has to do.
func handled(opts ...tenantOption) *v1.Tenant {
	base := []tenantOption{withFinalizer(), withID("id-1"), func(t *v1.Tenant) {
		t.Status.ObservedGeneration = generation
		t.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonSynced,
			Message: "Tenant matches the spec", ObservedGeneration: generation, LastTransitionTime: metav1.Now()}}
	}}
	return tenant(append(base, opts...)...)
}

func TestReconcileVerifiesThroughTheBatcher(t *testing.T) {
	cases := map[string]struct {
		reason string
		obj    *v1.Tenant
		rd     *reads
		// batched says the first reconcile leaves its ID with the batcher.
		batched bool
		want    []string
		state   func(s state) bool
	}{
		"Verifying": {
			reason:  "An object handled at its generation is read in a batch, then finished from the answer: no read of its own.",
			obj:     handled(),
			batched: true,
			want:    resolvedCalls("ObserveMany(id-1)", "Complete(id-1@7)", "Diff(id-1@7)", "SetStatus(id-1@7)"),
			state:   func(s state) bool { return s.Version == 7 },
		},
		"SpecChanged": {
			reason: "A spec change reads the server directly: an edit does not wait for a batch.",
			obj:    handled(func(t *v1.Tenant) { t.Generation = generation + 1 }),
			want:   resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)"),
			state:  func(s state) bool { return s.Version == 1 },
		},
		"Importing": {
			reason:  "Adopting through importID is a first look: batched too.",
			obj:     tenant(withFinalizer(), func(t *v1.Tenant) { t.Spec.ImportID = "id-1" }),
			batched: true,
			want:    resolvedCalls("ObserveMany(id-1)", "Complete(id-1@7)", "Diff(id-1@7)", "SetStatus(id-1@7)"),
			state:   func(s state) bool { return s.ID == "id-1" && s.Version == 7 },
		},
		"NotInTheAnswer": {
			reason:  "An ID the batch lacks is read alone, and the server's answer decides (here: deleted).",
			obj:     handled(),
			rd:      &reads{absent: map[string]bool{"id-1": true}},
			batched: true,
			want:    resolvedCalls("ObserveMany(id-1)", "Observe(id-1)"),
			state: func(s state) bool {
				return len(s.Conditions) > 0 && s.Conditions[0].Reason == ReasonRemoteDeleted
			},
		},
		"RefusedBatch": {
			reason:  "A batch the server refuses (one ID out of reach fails them all) is read one by one.",
			obj:     handled(),
			rd:      &reads{err: errForbidden},
			batched: true,
			want:    resolvedCalls("ObserveMany(id-1)", "Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)"),
			state:   func(s state) bool { return s.Version == 1 },
		},
		"FailedBatch": {
			reason:  "A batch that failed for the server's own reasons fails the reconcile, which backs off as after any failed read.",
			obj:     handled(),
			rd:      &reads{err: errUnavailable},
			batched: true,
			want:    resolvedCalls("ObserveMany(id-1)"),
			state: func(s state) bool {
				return len(s.Conditions) > 0 && s.Conditions[0].Reason == ReasonTransientError
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var log calls
			c := newFake(tc.obj)
			rd := tc.rd
			if rd == nil {
				rd = &reads{}
			}
			e := &external{log: &log, observe: func(_ *request, id string) (remote, error) {
				if rd.absent[id] {
					return remote{}, errNotFound
				}
				return rm(id, 1), nil
			}}
			e.observeMany = func(ids []string) (map[string]remote, error) { return rd.read(ctx, nil, ids) }
			r := newReconciler(c, e, &connector{log: &log}, nil)
			w := newWoken()
			r.batches = newBatcher(func(ctx context.Context, conn *connection.Connection, ids []string) (map[string]remote, error) {
				return e.ObserveMany(ctx, conn, ids)
			}, w.wake)

			res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key})
			if tc.batched {
				if err != nil || res != (reconcile.Result{}) {
					t.Fatalf("first reconcile = %+v, %v; want it to end quietly and wait to be woken", res, err)
				}
				before := stateOf(t, c)
				w.wait(t, 1)
				if after := stateOf(t, c); !cmp.Equal(before, after) {
					t.Errorf("waiting for a batch changed the object:\n%s", cmp.Diff(before, after))
				}
				_, _ = r.Reconcile(ctx, reconcile.Request{NamespacedName: key})
			}
			got := stripConnects(log)
			if diff := cmp.Diff(stripConnects(tc.want), got); diff != "" {
				t.Errorf("%s\ncalls -want +got:\n%s", tc.reason, diff)
			}
			if s := stateOf(t, c); !tc.state(s) {
				t.Errorf("%s\nstate: %+v", tc.reason, s)
			}
		})
	}
}

// stripConnects drops what every reconcile does before the read (the first
// of a batched pair repeats it): the calls that remain are the reads.
func stripConnects(log []string) []string {
	var out []string
	for _, c := range log {
		switch c {
		case "ConnectionRef", "Resolve", "Connect(AccountServer/server in " + ns + ")":
			continue
		}
		out = append(out, c)
	}
	return out
}

func TestNotifyWakesOnlyStaleManagedObjects(t *testing.T) {
	objects := []client.Object{
		named(ns, "a", withID("id-a"), func(t *v1.Tenant) { t.Status.Version = 5 }),
		named("team-b", "b", withID("id-b"), func(t *v1.Tenant) { t.Status.Version = 7 }),
		named(ns, "new", func(t *v1.Tenant) {}),
	}
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithObjects(objects...).
		WithIndex(&v1.Tenant{}, IDIndex, func(o client.Object) []string {
			if id := o.(*v1.Tenant).Status.ID; id != "" {
				return []string{id}
			}
			return nil
		}).Build()
	cases := map[string]struct {
		reason string
		change remotewatch.Change
		stale  func(o *v1.Tenant, ch remotewatch.Change) bool
		want   []string
	}{
		"Unmanaged": {reason: "A remote object nobody manages wakes nothing.",
			change: remotewatch.Change{ID: "id-x", Version: 3}},
		"OwnWrite": {reason: "A change the object's status records (the operator's own write) wakes nothing.",
			change: remotewatch.Change{ID: "id-a", Version: 5}},
		"Drift": {reason: "A newer version wakes exactly the object that manages it, in any namespace.",
			change: remotewatch.Change{ID: "id-b", Version: 8}, want: []string{"team-b/b"}},
		"Deleted": {reason: "A deletion wakes the object whatever the version.",
			change: remotewatch.Change{ID: "id-a", Version: 5, Deleted: true}, want: []string{ns + "/a"}},
		"NoVersion": {reason: "A change without a version cannot be compared: it wakes the object.",
			change: remotewatch.Change{ID: "id-a"}, want: []string{ns + "/a"}},
		"Judged": {reason: "A kind that judges changes itself decides.",
			change: remotewatch.Change{ID: "id-a", Version: 9},
			stale:  func(*v1.Tenant, remotewatch.Change) bool { return false }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var log calls
			r := newReconciler(c, &external{log: &log, stale: tc.stale}, &connector{log: &log}, nil)
			r.wakeups, r.stopped = make(chan event.GenericEvent, 10), make(chan struct{})
			n := r.notify(context.Background(), Options[*v1.Tenant]{List: func() client.ObjectList { return &v1.TenantList{} }}, tc.change)
			close(r.wakeups)
			var got []string
			for ev := range r.wakeups {
				got = append(got, client.ObjectKeyFromObject(ev.Object).String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" || n != len(tc.want) {
				t.Errorf("%s\nwoken (%d) -want +got:\n%s", tc.reason, n, diff)
			}
		})
	}
}

func TestQueuePriorities(t *testing.T) {
	var log calls
	r := newReconciler(newFake(), &external{log: &log}, &connector{log: &log}, nil)
	h := r.byPriority()
	q := priorityqueue.New[reconcile.Request]("test")
	defer q.ShutDown()
	ctx := context.Background()
	obj := func(i int) *v1.Tenant { return named(ns, fmt.Sprintf("t-%d", i)) }

	h.Create(ctx, event.CreateEvent{Object: obj(0), IsInInitialList: true}, q)
	for i := 1; i <= changeBurst+10; i++ {
		h.Create(ctx, event.CreateEvent{Object: obj(i)}, q)
	}
	// An edit of an existing object right after the burst of new ones.
	h.Update(ctx, event.UpdateEvent{ObjectOld: obj(1000), ObjectNew: withResourceVersion(obj(1000), "2")}, q)
	priorities := map[int]int{}
	var first reconcile.Request
	for q.Len() > 0 {
		item, p, _ := q.GetWithPriority()
		if len(priorities) == 0 {
			first = item
		}
		priorities[p]++
	}
	want := map[int]int{editPriority: 1, 0: changeBurst, bulkPriority: 10, handler.LowPriority: 1}
	if diff := cmp.Diff(want, priorities); diff != "" {
		t.Errorf("objects per priority -want +got (a burst beyond the allowance is bulk, start-up is last):\n%s", diff)
	}
	if first.Name != "t-1000" {
		t.Errorf("first out of the queue: %s, want the edit made after a burst of new objects", first.Name)
	}
}

func withResourceVersion(t *v1.Tenant, rv string) *v1.Tenant {
	t.ResourceVersion = rv
	return t
}
