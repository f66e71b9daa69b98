package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// Kinds the tracker follows.
const (
	kindTenant = "Tenant"
	kindUser   = "User"
	kindQuota  = "OfferingItemQuota"
)

// managedObject is what every tracked kind is.
type managedObject interface {
	client.Object
	ManagedStatus() *v1.ManagedStatus
}

// tracker follows every Tenant, User and OfferingItemQuota of the
// scenarios' namespaces through a watch (as cmd/bench's does), so that
// waiting for thousands of objects costs the API server nothing: whether
// each is Ready for its generation, since when, its remote id, and when
// something other than its spec changed (the manager's writes: status,
// finalizers, annotations).
type tracker struct {
	mu     sync.Mutex
	objs   map[string]*objState // namespace/kind/name
	events map[string][]time.Time
}

type objState struct {
	ns, kind, name string
	ready          bool
	readyAt        time.Time // when the tracker first saw it Ready for its generation
	id             string
	why            string      // the Ready condition, for messages
	writes         []time.Time // updates that kept the generation
}

func newTracker() *tracker {
	return &tracker{objs: map[string]*objState{}, events: map[string][]time.Time{}}
}

// startTracker runs a cache over namespaces and feeds the tracker from it.
func startTracker(ctx context.Context, cfg *rest.Config, namespaces []string) (*tracker, error) {
	nss := map[string]cache.Config{}
	for _, ns := range namespaces {
		nss[ns] = cache.Config{}
	}
	c, err := cache.New(cfg, cache.Options{Scheme: operator.NewScheme(), DefaultNamespaces: nss})
	if err != nil {
		return nil, err
	}
	t := newTracker()
	for kind, obj := range map[string]client.Object{kindTenant: &v1.Tenant{}, kindUser: &v1.User{}, kindQuota: &v1.OfferingItemQuota{}} {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { t.observe(kind, nil, o) },
			UpdateFunc: func(old, o any) { t.observe(kind, old, o) },
			DeleteFunc: func(o any) { t.forget(kind, o) },
		}); err != nil {
			return nil, err
		}
	}
	inf, err := c.GetInformer(ctx, &corev1.Event{})
	if err != nil {
		return nil, err
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(o any) {
			if e, ok := o.(*corev1.Event); ok {
				t.mu.Lock()
				t.events[e.Namespace] = append(t.events[e.Namespace], time.Now())
				t.mu.Unlock()
			}
		},
	}); err != nil {
		return nil, err
	}
	go func() { _ = c.Start(ctx) }()
	syncCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if !c.WaitForCacheSync(syncCtx) {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("the tracker's cache did not sync within 2 minutes")
	}
	return t, nil
}

func key(ns, kind, name string) string { return ns + "/" + kind + "/" + name }

func (t *tracker) observe(kind string, old, o any) {
	obj, ok := o.(managedObject)
	if !ok {
		return
	}
	ready := isReady(obj)
	t.mu.Lock()
	defer t.mu.Unlock()
	k := key(obj.GetNamespace(), kind, obj.GetName())
	st := t.objs[k]
	if st == nil {
		st = &objState{ns: obj.GetNamespace(), kind: kind, name: obj.GetName()}
		t.objs[k] = st
	}
	now := time.Now()
	if ready && !st.ready {
		st.readyAt = now
	}
	st.ready = ready
	st.id = obj.ManagedStatus().ID
	st.why = "no Ready condition yet"
	if c := meta.FindStatusCondition(obj.ManagedStatus().Conditions, v1.ConditionReady); c != nil {
		st.why = fmt.Sprintf("Ready=%s %s: %.160s", c.Status, c.Reason, c.Message)
	}
	if prev, ok := old.(client.Object); ok && prev.GetResourceVersion() != obj.GetResourceVersion() && prev.GetGeneration() == obj.GetGeneration() {
		st.writes = append(st.writes, now)
	}
}

func (t *tracker) forget(kind string, o any) {
	if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	obj, ok := o.(client.Object)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.objs, key(obj.GetNamespace(), kind, obj.GetName()))
}

// isReady: Ready is True for the object's current generation.
func isReady(o managedObject) bool {
	st := o.ManagedStatus()
	c := meta.FindStatusCondition(st.Conditions, v1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && st.ObservedGeneration == o.GetGeneration() && c.ObservedGeneration == o.GetGeneration()
}

// readiness is how many objects of a namespace exist, how many are Ready,
// when the last of those became Ready, and a few that are not.
type readiness struct {
	total, ready int
	lastReady    time.Time
	notReady     []string
}

func (t *tracker) readiness(ns string) readiness {
	t.mu.Lock()
	defer t.mu.Unlock()
	var r readiness
	for _, st := range t.objs {
		if st.ns != ns {
			continue
		}
		r.total++
		if st.ready {
			r.ready++
			if st.readyAt.After(r.lastReady) {
				r.lastReady = st.readyAt
			}
			continue
		}
		r.notReady = append(r.notReady, st.kind+" "+st.name+" ("+st.why+")")
	}
	sort.Strings(r.notReady)
	return r
}

// firstReadyAfter is the earliest time an object of ns became Ready after
// t0 (zero if none did).
func (t *tracker) firstReadyAfter(ns string, t0 time.Time) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	var first time.Time
	for _, st := range t.objs {
		if st.ns == ns && st.ready && st.readyAt.After(t0) && (first.IsZero() || st.readyAt.Before(first)) {
			first = st.readyAt
		}
	}
	return first
}

// writesIn counts, per object of ns, the manager's writes in [from, to).
func (t *tracker) writesIn(ns string, from, to time.Time) map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int{}
	for k, st := range t.objs {
		if st.ns != ns {
			continue
		}
		for _, at := range st.writes {
			if !at.Before(from) && at.Before(to) {
				out[k]++
			}
		}
	}
	return out
}

// eventsIn counts the Events recorded in ns in [from, to).
func (t *tracker) eventsIn(ns string, from, to time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, at := range t.events[ns] {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}
