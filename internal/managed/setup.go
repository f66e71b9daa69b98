package managed

import (
	"context"
	"strings"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// connectionIndex indexes managed objects by the connection they name
// ("Kind/name"), so a connection that becomes Ready wakes its objects.
const connectionIndex = ".spec.accountServerRef"

// pausedChanged passes updates that set or clear the pause annotation.
var pausedChanged = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	return e.ObjectOld.GetAnnotations()[v1.AnnotationPaused] != e.ObjectNew.GetAnnotations()[v1.AnnotationPaused]
}}

// Reference is a by-name reference from the managed kind to another object
// of the group in the same namespace (a parent, a tenant).
type Reference[O Object] struct {
	// Field names the index, e.g. ".spec.parentRef.name".
	Field string
	// Target is an empty object of the referenced kind; nil builds the
	// index (Names) without a watch.
	Target client.Object
	// Names returns the names o refers to through this field; it builds
	// the index. Leave it nil to watch through an index another Reference
	// already builds.
	Names func(o O) []string
	// Values returns, for a changed target, the index values of the
	// objects to wake; default: the target's name. (Peers that name the
	// same tenant wake each other this way.)
	Values func(target client.Object) []string
	// MetadataOnly watches the target's metadata only (Secrets: their data
	// is read when needed, never cached).
	MetadataOnly bool
	// WakeAll wakes every referencing object when the target changes, not
	// only those still waiting (a rotated password Secret, say).
	WakeAll bool
	// AllNamespaces looks up the objects to wake in every namespace, not
	// only the target's (the index values then say which namespace they
	// mean, if any).
	AllNamespaces bool
}

// TenantRefIndex indexes objects by the name in their spec.tenantRef.
const TenantRefIndex = ".spec.tenantRef.name"

// Dependent is a kind whose objects refer to the managed kind; deleting a
// managed object waits for them, and their deletion wakes it.
type Dependent struct {
	// Object is an empty object of the dependent kind.
	Object client.Object
	// Names returns the names of managed objects o refers to.
	Names func(o client.Object) []string
}

// IDIndex indexes managed objects, across namespaces, by the remote IDs
// they claim: status.id, and spec.importID before it is adopted. The remote
// watch finds the objects a remote change concerns through it, and the
// one-owner rule the objects that claim one remote object.
const IDIndex = ".status.id"

// Options tune one kind's controller.
type Options[O Object] struct {
	References              []Reference[O]
	Dependents              []Dependent
	MaxConcurrentReconciles int
	// List returns an empty list of the managed kind.
	List func() client.ObjectList
	Drift
}

// Drift says how the loops of one manager find drift.
type Drift struct {
	// Watch is the hub of the connections' remote watches; a kind that
	// lists its changes (Watched) registers with it. Nil: every object
	// finds drift by reading itself once per resync interval
	// (--drift-detection=poll).
	Watch *remotewatch.Hub
	// Batch reads objects that only need verifying in batches, for kinds
	// that can (Batcher).
	Batch bool
}

// SetupWithManager registers the loop for one kind, with the indexes and
// watches that wake an object when what it waits for changes, instead of
// polling.
func (r *Reconciler[O, R, X]) SetupWithManager(mgr ctrl.Manager, opts Options[O]) error {
	ctx := context.Background()
	caps := r.capabilities()
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, r.New(), connectionIndex, func(o client.Object) []string {
		if ref := o.(O).Managed().AccountServerRef; ref != nil {
			return []string{connectionKey(ref.Kind, ref.Name)}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, r.New(), IDIndex, func(o client.Object) []string { return claims(o.(O)) }); err != nil {
		return err
	}
	if caps.sharer == nil {
		r.list = opts.List
	}
	// A connection object being deleted waits for the objects that still
	// need it to delete their remote objects.
	if reg, ok := r.Registry.(usersRegistry); ok && caps.deleter != nil && opts.List != nil {
		reg.AddUsers(func(ctx context.Context, key connection.Key) ([]string, error) { return r.usersOf(ctx, key, opts.List) })
	}
	r.wakeups, r.stopped = make(chan event.GenericEvent, wakeBuffer), make(chan struct{})
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		close(r.stopped)
		return nil
	})); err != nil {
		return err
	}
	if opts.Batch && caps.batcher != nil {
		r.batches = newBatcher(caps.batcher.ObserveMany, r.wake)
		if sz, ok := caps.batcher.(BatchSizer); ok {
			r.batches.size, r.batches.window = sz.BatchSize()
			r.batches.size = min(r.batches.size, r.batches.maxHeld)
		}
	}
	if opts.Watch != nil && caps.watched != nil {
		opts.Watch.Register(remotewatch.Feed{Kind: r.Kind, List: caps.watched.ListChanged, Notify: func(ctx context.Context, ch remotewatch.Change) int {
			return r.notify(ctx, opts, ch)
		}})
	}
	for _, ref := range opts.References {
		names := ref.Names
		if names == nil {
			continue
		}
		if err := idx.IndexField(ctx, r.New(), ref.Field, func(o client.Object) []string { return names(o.(O)) }); err != nil {
			return err
		}
	}

	workers := opts.MaxConcurrentReconciles
	if workers == 0 {
		workers = 4
	}
	b := ctrl.NewControllerManagedBy(mgr).
		Named(lower(r.Kind)).
		// Our own writes (status, finalizer, create marker) must not wake
		// us again, or a refused create would be retried forever: only the
		// spec (generation, which deletion bumps too), the pause
		// annotation and a person's request annotation (Requester) do.
		Watches(r.New(), r.byPriority(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, pausedChanged, requested(r.External)))).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: workers,
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](minBackoff, maxBackoff),
		}).
		WatchesRawSource(source.Channel(r.wakeups, &handler.EnqueueRequestForObject{})).
		Watches(&v1.AccountServer{}, r.connectionChanged(opts)).
		Watches(&v1.ClusterAccountServer{}, r.connectionChanged(opts))
	if cs, ok := r.Registry.(circuitSource); ok {
		b = b.WatchesRawSource(source.Channel(cs.CircuitClosings(), r.circuitClosed()))
	}
	if caps.sharer == nil {
		b = b.Watches(r.New(), r.claimants(opts), builder.WithPredicates(claimsChanged[O]()))
	}
	for _, ref := range opts.References {
		if ref.Target == nil {
			continue // an index only
		}
		field, all, values, anywhere := ref.Field, ref.WakeAll, ref.Values, ref.AllNamespaces
		if values == nil {
			values = func(o client.Object) []string { return []string{o.GetName()} }
		}
		var wopts []builder.WatchesOption
		if ref.MetadataOnly {
			wopts = append(wopts, builder.OnlyMetadata)
		}
		b = b.Watches(ref.Target, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			var reqs []reconcile.Request
			for _, v := range values(o) {
				sel := []client.ListOption{client.MatchingFields{field: v}}
				if !anywhere {
					sel = append(sel, client.InNamespace(o.GetNamespace()))
				}
				if all {
					reqs = append(reqs, r.all(ctx, opts, sel...)...)
				} else {
					reqs = append(reqs, r.waiting(ctx, opts, sel...)...)
				}
			}
			return reqs
		}), wopts...)
	}
	for _, dep := range opts.Dependents {
		names := dep.Names
		b = b.Watches(dep.Object, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.blockedBy(ctx, o, names(o))
		}))
	}
	return b.Complete(r)
}

// Work queue priorities. A change someone just made to an object that
// exists comes first (an edit, a deletion: someone is waiting for it), then
// a new object; a burst of changes (an apply of hundreds of objects, a
// restored backup) is worked through after them; what the operator looks
// at on its own (every object at start-up, the resync) comes last. So one
// edit during a large rollout is written within a second or two, not after
// the rollout. Wake-ups (drift the remote watch found, a batched read that
// is in, a reference that became ready) come with new objects.
const (
	editPriority = 10
	// bulkPriority is the priority of changes beyond the burst allowance.
	bulkPriority = handler.LowPriority / 2
	// changesPerSecond and changeBurst are the allowance of new, changed
	// and deleted objects each: changes arriving faster than this, beyond
	// the burst, are bulk. A burst of new objects does not make the edit
	// of an existing one wait.
	changesPerSecond = 5
	changeBurst      = 50
)

// byPriority enqueues the managed kind's own events with the priorities
// above. Without a priority queue it enqueues them plainly.
func (r *Reconciler[O, R, X]) byPriority() handler.EventHandler {
	created, changed, deleted := rate.NewLimiter(changesPerSecond, changeBurst),
		rate.NewLimiter(changesPerSecond, changeBurst), rate.NewLimiter(changesPerSecond, changeBurst)
	add := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], o client.Object, allowance *rate.Limiter, p int) {
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)}
		pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request])
		if !ok {
			q.Add(req)
			return
		}
		if p > handler.LowPriority && !allowance.Allow() {
			p = bulkPriority
		}
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: &p}, req)
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			p := 0
			if e.IsInInitialList {
				p = handler.LowPriority
			}
			add(q, e.Object, created, p)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.ObjectNew, changed, editPriority)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(q, e.Object, deleted, editPriority)
		},
	}
}

// wakeBuffer is how many wake-ups may wait for the controller to take them.
const wakeBuffer = 1024

// wake enqueues objects by key (the batcher's answers are in).
func (r *Reconciler[O, R, X]) wake(keys []types.NamespacedName) {
	for _, k := range keys {
		o := r.New()
		o.SetNamespace(k.Namespace)
		o.SetName(k.Name)
		select {
		case r.wakeups <- event.GenericEvent{Object: o}:
		case <-r.stopped:
			return
		}
	}
}

// notify wakes the objects that manage the remote object a change of the
// remote watch names, unless their status already records it (the
// operator's own writes). It returns how many it woke.
func (r *Reconciler[O, R, X]) notify(ctx context.Context, opts Options[O], ch remotewatch.Change) int {
	list := opts.List()
	if err := r.Client.List(ctx, list, client.MatchingFields{IDIndex: ch.ID}); err != nil {
		logf.FromContext(ctx).Error(err, "listing the objects of a remote change", "kind", r.Kind, "id", ch.ID)
		return 0
	}
	judge := r.capabilities().judge
	woken := 0
	_ = meta.EachListItem(list, func(item runtimeObject) error {
		o := item.(O)
		stale := ch.Deleted
		switch {
		case stale:
		case judge != nil:
			stale = judge.Stale(o, ch)
		default:
			stale = ch.Version == 0 || ch.Version != o.ManagedStatus().Version
		}
		if !stale {
			return nil
		}
		r.forgetBatched(ch.ID)
		select {
		case r.wakeups <- event.GenericEvent{Object: o}:
			woken++
		case <-r.stopped:
		case <-ctx.Done():
		}
		return nil
	})
	return woken
}

// connectionChanged wakes, when a connection object changes, the objects
// recorded as waiting for it and those referring to it that are not Ready.
// An AccountServer is referred to from its own namespace only. The objects
// its open circuit holds (ServerUnavailable) are not among them: the
// circuit's closing releases them, at the connection's pace (circuitClosed).
func (r *Reconciler[O, R, X]) connectionChanged(opts Options[O]) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		key := connection.KeyOf(o.(connection.Object))
		sel := []client.ListOption{client.MatchingFields{connectionIndex: connectionKey(key.Kind, key.Name)}}
		if key.Namespace != "" {
			sel = append(sel, client.InNamespace(key.Namespace))
		}
		waiting, _ := r.waitingOrHeld(ctx, opts, sel...)
		return append(r.connectionWaiters(key), waiting...)
	})
}

// circuitSource is a connection registry that tells when a connection's
// circuit closes.
type circuitSource interface {
	CircuitClosings() <-chan event.GenericEvent
}

// circuitClosed releases, when a connection's circuit closes, the objects
// it held (see releaseHeld).
func (r *Reconciler[O, R, X]) circuitClosed() handler.EventHandler {
	return handler.Funcs{GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		c, ok := e.Object.(connection.Object)
		if !ok {
			return
		}
		key := connection.KeyOf(c)
		r.releaseHeld(ctx, key, r.heldBy(key), q)
	}}
}

// wakeSource is a connection registry that knows each connection's client,
// whose WakeDelay paces the release of the objects an outage held.
type wakeSource interface {
	Built(key connection.Key) *accountserver.Client
}

// releaseHeld wakes the objects connection key's open circuit held, now that
// it closed, without a storm: an object that only needs
// verifying is woken at once, since the batcher reads such objects a
// hundred per request; any other (a spec to apply, a deletion, a create:
// requests of its own) is woken after the connection's WakeDelay, so they
// come at its requestsPerSecond, the first burst at once, and however many
// an outage held, the requests they make at once stay within the budget.
func (r *Reconciler[O, R, X]) releaseHeld(ctx context.Context, key connection.Key, reqs []reconcile.Request, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if len(reqs) == 0 {
		return
	}
	var pace *accountserver.Client
	if ws, ok := r.Registry.(wakeSource); ok {
		pace = ws.Built(key)
	}
	seen := map[reconcile.Request]bool{}
	for _, req := range reqs {
		if seen[req] {
			continue
		}
		seen[req] = true
		if pace == nil || r.batchable(ctx, req) {
			q.Add(req)
			continue
		}
		if d := pace.WakeDelay(); d > 0 {
			q.AddAfter(req, d)
		} else {
			q.Add(req)
		}
	}
	logf.FromContext(ctx).Info("server answers again; releasing the objects its outage held", "kind", r.Kind, "connection", key.String(), "objects", len(seen))
}

// batchable says an object's next reconcile reads through the batcher: it
// only needs verifying, and the kind reads in batches.
func (r *Reconciler[O, R, X]) batchable(ctx context.Context, req reconcile.Request) bool {
	if r.batches == nil {
		return false
	}
	o := r.New()
	if err := r.Client.Get(ctx, req.NamespacedName, o); err != nil {
		return false
	}
	return verifying(o) && o.ManagedStatus().ID != ""
}

// waiting lists the managed objects selected by opts that are not Ready:
// only those can be waiting for what changed. Ready objects are left alone,
// so a busy referenced object costs its dependants nothing.
func (r *Reconciler[O, R, X]) waiting(ctx context.Context, opts Options[O], sel ...client.ListOption) []reconcile.Request {
	waiting, held := r.waitingOrHeld(ctx, opts, sel...)
	return append(waiting, held...)
}

// waitingOrHeld is waiting, with the objects an open circuit holds
// (ServerUnavailable) apart: a change of their connection object does not
// wake them, its circuit's closing does, at the connection's pace.
func (r *Reconciler[O, R, X]) waitingOrHeld(ctx context.Context, opts Options[O], sel ...client.ListOption) (waiting, held []reconcile.Request) {
	list := opts.List()
	// Only read, never kept or changed: the cache's own objects do, without
	// a copy of each (this runs on every change of a referenced object).
	if err := r.Client.List(ctx, list, append(sel, client.UnsafeDisableDeepCopy)...); err != nil {
		logf.FromContext(ctx).Error(err, "listing objects to wake")
		return nil, nil
	}
	_ = meta.EachListItem(list, func(item runtimeObject) error {
		o := item.(O)
		ready := meta.FindStatusCondition(o.ManagedStatus().Conditions, v1.ConditionReady)
		req := reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)}
		switch {
		case ready != nil && ready.Status == metav1.ConditionFalse && ready.Reason == ReasonServerUnavailable:
			held = append(held, req)
		case ready == nil || ready.Status != metav1.ConditionTrue || o.GetDeletionTimestamp() != nil:
			waiting = append(waiting, req)
		}
		return nil
	})
	return waiting, held
}

// all lists every managed object selected.
func (r *Reconciler[O, R, X]) all(ctx context.Context, opts Options[O], sel ...client.ListOption) []reconcile.Request {
	list := opts.List()
	if err := r.Client.List(ctx, list, append(sel, client.UnsafeDisableDeepCopy)...); err != nil {
		logf.FromContext(ctx).Error(err, "listing objects to wake")
		return nil
	}
	var reqs []reconcile.Request
	_ = meta.EachListItem(list, func(item runtimeObject) error {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(item.(O))})
		return nil
	})
	return reqs
}

// blockedBy wakes the managed objects a deleted dependent referred to, if
// they are themselves being deleted (their deletion may have been waiting).
func (r *Reconciler[O, R, X]) blockedBy(ctx context.Context, dependent client.Object, names []string) []reconcile.Request {
	if dependent.GetDeletionTimestamp() == nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, n := range names {
		o := r.New()
		key := client.ObjectKey{Namespace: dependent.GetNamespace(), Name: n}
		if err := r.Client.Get(ctx, key, o); err == nil && o.GetDeletionTimestamp() != nil {
			reqs = append(reqs, reconcile.Request{NamespacedName: key})
		}
	}
	return reqs
}

// Referencing names the objects of list's kind in namespace whose field
// index holds name: what still refers to a managed object.
func Referencing(ctx context.Context, c client.Reader, list client.ObjectList, kind, namespace, field, name string) ([]string, error) {
	if err := c.List(ctx, list, client.InNamespace(namespace), client.MatchingFields{field: name}); err != nil {
		return nil, err
	}
	var out []string
	err := meta.EachListItem(list, func(item runtimeObject) error {
		out = append(out, kind+" "+item.(client.Object).GetName())
		return nil
	})
	return out, err
}

func connectionKey(kind, name string) string {
	if kind == "" {
		kind = connection.KindAccountServer
	}
	return kind + "/" + name
}

type runtimeObject = runtime.Object

func lower(s string) string { return strings.ToLower(s) }
