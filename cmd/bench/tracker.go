package main

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
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

var trackedKinds = []string{kindTenant, kindUser, kindQuota}

// managedObject is what every tracked kind is.
type managedObject interface {
	client.Object
	ManagedStatus() *v1.ManagedStatus
}

// tracker follows the Ready state of every Tenant, User and
// OfferingItemQuota of the benchmark's namespaces through a watch, so that
// waiting for thousands of objects costs the API server nothing.
type tracker struct {
	mu   sync.Mutex
	objs map[string]map[string]*objState // namespace/kind → name → state
	// changes are the times every object of a namespace/kind was changed
	// (a new resourceVersion) after it was created, and every Event was
	// recorded: what the managers' writes to the API server were.
	changes map[string][]time.Time
}

type objState struct {
	ready   bool
	readyAt time.Time // when the tracker first saw it Ready for its generation
	id      string
	why     string // the Ready condition, for error messages
	reason  string // the Ready condition's reason
}

func newTracker() *tracker {
	return &tracker{objs: map[string]map[string]*objState{}, changes: map[string][]time.Time{}}
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
			AddFunc: func(o any) { t.observe(kind, o) },
			UpdateFunc: func(old, o any) {
				t.observe(kind, o)
				t.changed(kind, old, o)
			},
			DeleteFunc: func(o any) { t.forget(kind, o) },
		}); err != nil {
			return nil, err
		}
	}
	for kind, obj := range map[string]client.Object{"AccountServer": &v1.AccountServer{}, "Event": &corev1.Event{}} {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(o any) {
				if kind == "Event" {
					t.changed(kind, nil, o)
				}
			},
			UpdateFunc: func(old, o any) { t.changed(kind, old, o) },
		}); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the tracker's cache did not sync")
	}
	return t, nil
}

func (t *tracker) observe(kind string, o any) {
	obj, ok := o.(managedObject)
	if !ok {
		return
	}
	ready := isReady(obj)
	t.mu.Lock()
	defer t.mu.Unlock()
	key := obj.GetNamespace() + "/" + kind
	m := t.objs[key]
	if m == nil {
		m = map[string]*objState{}
		t.objs[key] = m
	}
	st := m[obj.GetName()]
	if st == nil {
		st = &objState{}
		m[obj.GetName()] = st
	}
	if ready && !st.ready {
		st.readyAt = time.Now()
	}
	st.ready = ready
	st.id = obj.ManagedStatus().ID
	st.why, st.reason = "no Ready condition yet", ""
	if c := meta.FindStatusCondition(obj.ManagedStatus().Conditions, v1.ConditionReady); c != nil {
		st.why, st.reason = fmt.Sprintf("Ready=%s %s: %.160s", c.Status, c.Reason, c.Message), c.Reason
	}
}

// changed notes a write: o is new (old nil) or has a new resourceVersion.
func (t *tracker) changed(kind string, old, o any) {
	obj, ok := o.(client.Object)
	if !ok {
		return
	}
	if prev, ok := old.(client.Object); ok && prev.GetResourceVersion() == obj.GetResourceVersion() {
		return // a resync of the informer, not a write
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	key := obj.GetNamespace() + "/" + kind
	t.changes[key] = append(t.changes[key], time.Now())
}

// changesIn counts, per kind, the writes seen in ns in [from, to):
// "Tenant 3, Event 1".
func (t *tracker) changesIn(ns string, from, to time.Time) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var parts []string
	for _, kind := range append(slices.Clone(trackedKinds), "AccountServer", "Event") {
		n := 0
		for _, at := range t.changes[ns+"/"+kind] {
			if !at.Before(from) && at.Before(to) {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", kind, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
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
	delete(t.objs[obj.GetNamespace()+"/"+kind], obj.GetName())
}

// isReady: Ready is True for the object's current generation.
func isReady(o managedObject) bool {
	st := o.ManagedStatus()
	c := meta.FindStatusCondition(st.Conditions, v1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && st.ObservedGeneration == o.GetGeneration() && c.ObservedGeneration == o.GetGeneration()
}

// count is how many objects of kind in ns whose names start with prefix
// exist, how many are Ready, and when the last of those became Ready.
type count struct {
	total, ready int
	lastReady    time.Time
}

func (t *tracker) count(ns, kind, prefix string) count {
	t.mu.Lock()
	defer t.mu.Unlock()
	var c count
	for name, st := range t.objs[ns+"/"+kind] {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		c.total++
		if st.ready {
			c.ready++
			if st.readyAt.After(c.lastReady) {
				c.lastReady = st.readyAt
			}
		}
	}
	return c
}

// tenantIDs returns name → remote id of the Tenants in ns whose names
// start with prefix and that are Ready.
func (t *tracker) tenantIDs(ns, prefix string) map[string]string {
	return t.ids(ns, kindTenant, prefix)
}

// ids returns name → remote id of the objects of kind in ns whose names
// start with prefix and that are Ready.
func (t *tracker) ids(ns, kind, prefix string) map[string]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]string{}
	for name, st := range t.objs[ns+"/"+kind] {
		if st.ready && st.id != "" && strings.HasPrefix(name, prefix) {
			out[name] = st.id
		}
	}
	return out
}

// totals counts the objects of every kind in ns.
func (t *tracker) totals(ns string) map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string]int{}
	for _, kind := range trackedKinds {
		out[kind] = len(t.objs[ns+"/"+kind])
	}
	return out
}

// notReadyFor lists the objects of ns that are not Ready for reason, as
// kind → names.
func (t *tracker) notReadyFor(ns, reason string) map[string][]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := map[string][]string{}
	for _, kind := range trackedKinds {
		for name, st := range t.objs[ns+"/"+kind] {
			if !st.ready && st.reason == reason {
				out[kind] = append(out[kind], name)
			}
		}
	}
	return out
}

// notReady names up to n objects of ns that are not Ready, for error
// messages.
func (t *tracker) notReady(ns string, n int) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, kind := range trackedKinds {
		for name, st := range t.objs[ns+"/"+kind] {
			if !st.ready {
				out = append(out, kind+" "+name+" ("+st.why+")")
			}
		}
	}
	sort.Strings(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}
