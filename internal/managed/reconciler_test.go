package managed

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// cond is a condition as the tests compare it.
type cond struct{ Type, Status, Reason string }

// state is what a reconcile leaves on the object in the API server.
type state struct {
	Gone               bool
	ID                 string
	Version            int64
	ObservedGeneration int64
	Conditions         []cond
	// Annotations, with the create marker's timestamp replaced by "set".
	Annotations map[string]string
	Finalizers  []string
}

// result is the RequeueAfter range a reconcile must return.
type result struct{ min, max time.Duration }

func exactly(d time.Duration) result  { return result{d, d} }
func jittered(d time.Duration) result { return result{d, d + d/10} }

var fin = []string{v1.Finalizer}

func synced(id string, version int64) state {
	return state{ID: id, Version: version, ObservedGeneration: generation,
		Conditions: []cond{{v1.ConditionReady, "True", ReasonSynced}}, Finalizers: fin}
}

func progressing(reason string) []cond {
	return []cond{{v1.ConditionReady, "False", reason}, {v1.ConditionReconciling, "True", reason}}
}

func stalled(reason string) []cond {
	return []cond{{v1.ConditionReady, "False", reason}, {v1.ConditionStalled, "True", reason}}
}

// connected are the calls every reconcile that reaches the server starts
// with, then more.
func connected(more ...string) []string {
	return append([]string{"ConnectionRef", "Connect(AccountServer/server in " + ns + ")"}, more...)
}

// connectedTwice are the calls of a reconcile that found its connection
// unusable, recorded itself as waiting and looked again, then more.
func connectedTwice(more ...string) []string {
	return connected(append([]string{"Connect(AccountServer/server in " + ns + ")"}, more...)...)
}

// resolvedCalls are connected and Resolve, then more.
func resolvedCalls(more ...string) []string {
	return connected(append([]string{"Resolve"}, more...)...)
}

func markerSet() map[string]string { return map[string]string{v1.AnnotationCreatePending: "set"} }

func stateOf(t *testing.T, c client.Client) state {
	t.Helper()
	o := &v1.Tenant{}
	if err := c.Get(context.Background(), key, o); apierrors.IsNotFound(err) {
		return state{Gone: true}
	} else if err != nil {
		t.Fatalf("reading the object back: %v", err)
	}
	s := state{ID: o.Status.ID, Version: o.Status.Version, ObservedGeneration: o.Status.ObservedGeneration, Finalizers: o.Finalizers}
	for _, c := range o.Status.Conditions {
		s.Conditions = append(s.Conditions, cond{c.Type, string(c.Status), c.Reason})
		if c.ObservedGeneration != o.Generation {
			t.Errorf("condition %s: observedGeneration %d, want %d", c.Type, c.ObservedGeneration, o.Generation)
		}
	}
	sort.Slice(s.Conditions, func(i, j int) bool { return s.Conditions[i].Type < s.Conditions[j].Type })
	for k, v := range o.Annotations {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		if k == v1.AnnotationCreatePending {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				t.Errorf("create marker %q is no timestamp: %v", v, err)
			}
			v = "set"
		}
		s.Annotations[k] = v
	}
	return s
}

func readyMessage(t *testing.T, c client.Client) string {
	t.Helper()
	o := &v1.Tenant{}
	if err := c.Get(context.Background(), key, o); err != nil {
		return ""
	}
	for _, c := range o.Status.Conditions {
		if c.Type == v1.ConditionReady {
			return c.Message
		}
	}
	return ""
}

// newReconciler is the loop for Tenants over the fake External, offering
// the optional interfaces whose funcs e sets.
func newReconciler(c client.Client, e *external, conn *connector, rec events.EventRecorder) *Reconciler[*v1.Tenant, remote, resolved] {
	r := NewReconciler[*v1.Tenant, remote, resolved]("Tenant", c, rec, conn, e, func() *v1.Tenant { return &v1.Tenant{} })
	r.capsOnce.Do(func() { r.caps = e.caps() })
	return r
}

// failStatusPatch fails the first n status patches (all when n < 0).
func failStatusPatch(n int32, err error) interceptor.Funcs {
	var count atomic.Int32
	return interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
		if n < 0 || count.Add(1) <= n {
			return err
		}
		return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
	}}
}

// staleCache serves every read with a resourceVersion behind the server's,
// as a lagging informer cache does.
func staleCache() interceptor.Funcs {
	return interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
		if err := c.Get(ctx, k, obj, opts...); err != nil {
			return err
		}
		obj.SetResourceVersion("1")
		return nil
	}}
}

// counter returns the versions 1, 2, 3, ... of remote id, one per Observe.
func counter() func(*request, string) (remote, error) {
	n := int64(0)
	return func(_ *request, id string) (remote, error) {
		n++
		return rm(id, n), nil
	}
}

func TestReconcile(t *testing.T) {
	type want struct {
		result result
		// err is a substring of the error returned; empty: none.
		err   string
		state state
		// message is a substring of the Ready condition's message.
		message string
		calls   []string
		events  []string
	}
	cases := map[string]struct {
		reason      string
		obj         *v1.Tenant
		ext         external
		connErr     error
		conn        *connection.Connection
		funcs       interceptor.Funcs
		afterCreate bool
		want        want
	}{
		// Nothing to do.
		"NotFound": {
			reason: "An object that is gone is not an error and needs nothing.",
			want:   want{state: state{Gone: true}},
		},
		"GetFails": {
			reason: "A failed read is returned, so the request is retried.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			funcs: interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
				return internal()
			}},
			want: want{err: "etcd is sad", state: state{ID: "id-1", Version: 1, Finalizers: fin}},
		},
		"Paused": {
			reason: "A paused object is left alone: no request, no status.",
			obj:    tenant(withFinalizer(), withID("id-1"), withAnnotation(v1.AnnotationPaused, "true")),
			want: want{state: state{ID: "id-1", Version: 1, Finalizers: fin,
				Annotations: map[string]string{v1.AnnotationPaused: "true"}}},
		},
		"PausedDeleting": {
			reason: "Pause holds a deletion too.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting(), withAnnotation(v1.AnnotationPaused, "true")),
			ext:    external{delete: func(*request, remote) error { return nil }},
			want: want{state: state{ID: "id-1", Version: 1, Finalizers: fin,
				Annotations: map[string]string{v1.AnnotationPaused: "true"}}},
		},
		"PauseNotTrue": {
			reason: "Only \"true\" pauses.",
			obj:    tenant(withFinalizer(), withID("id-1"), withAnnotation(v1.AnnotationPaused, "false")),
			want: want{
				result: jittered(resync),
				state: func() state {
					s := synced("id-1", 1)
					s.Annotations = map[string]string{v1.AnnotationPaused: "false"}
					return s
				}(),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)"),
			},
		},

		// Deletion.
		"DeletingWithoutOurFinalizer": {
			reason: "A deleted object without our finalizer is someone else's business.",
			obj:    tenant(withFinalizer("example.com/keep"), withID("id-1"), deleting()),
			ext:    external{delete: func(*request, remote) error { return nil }},
			want:   want{state: state{ID: "id-1", Version: 1, Finalizers: []string{"example.com/keep"}}},
		},
		"DeleteOrphan": {
			reason: "deletionPolicy Orphan leaves the remote object, needs no connection, and says so.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting(), orphan()),
			ext:    external{delete: func(*request, remote) error { return nil }},
			want: want{state: state{Gone: true},
				events: []string{"Normal Orphaned Left Tenant id-1 on the server (deletionPolicy Orphan)"}},
		},
		"DeleteOrphanWithoutID": {
			reason: "Orphaning an object that never had a remote object says nothing.",
			obj:    tenant(withFinalizer(), deleting(), orphan()),
			want:   want{state: state{Gone: true}},
		},
		"DeleteOrphanKeepsOtherFinalizers": {
			reason: "Only our finalizer goes; the object stays while others hold it, and no status is written.",
			obj:    tenant(withFinalizer(v1.Finalizer, "example.com/keep"), withID("id-1"), deleting(), orphan()),
			want: want{state: state{ID: "id-1", Version: 1, Finalizers: []string{"example.com/keep"}},
				events: []string{"Normal Orphaned Left Tenant id-1 on the server (deletionPolicy Orphan)"}},
		},
		"DeleteOrphanPatchFails": {
			reason: "A finalizer that cannot be removed is a transient error.",
			obj:    tenant(withFinalizer(), deleting(), orphan()),
			funcs:  patchContaining(`"finalizers"`, internal()),
			want: want{err: "etcd is sad",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin}},
		},
		"DeleteObserveOnly": {
			reason: "ObserveOnly never deletes, and does not announce an orphan either.",
			obj:    tenant(withFinalizer(), withID("imp-1"), deleting(), observeOnly(), importID()),
			ext:    external{delete: func(*request, remote) error { return nil }},
			want:   want{state: state{Gone: true}},
		},
		"DeleteWithDeleter": {
			reason: "deletionPolicy Delete reads the remote object and deletes it, then lets the object go.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext:    external{delete: func(*request, remote) error { return nil }},
			want: want{state: state{Gone: true},
				calls:  connected("Observe(id-1)", "Delete(id-1)"),
				events: []string{"Normal Deleted Deleted Tenant id-1"}},
		},
		"DeleteWithoutDeleter": {
			reason: "A kind without a Deleter releases its remote object: no connection (it may be gone with its namespace), no Observe, no Delete.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			want: want{state: state{Gone: true},
				calls:  nil,
				events: []string{"Normal Released Stopped managing Tenant id-1 and left it as it is on the server"}},
		},
		"DeleteWithoutID": {
			reason:  "An object that never got a remote object just goes, without a connection: it may be gone with its namespace.",
			obj:     tenant(withFinalizer(), deleting()),
			ext:     external{delete: func(*request, remote) error { return nil }},
			connErr: &connection.Error{Reason: connection.ReasonNotFound, Message: "AccountServer server not found"},
			want:    want{state: state{Gone: true}},
		},
		"DeleteWithoutIDBlocked": {
			reason: "An object that never got a remote object still waits for its dependants.",
			obj:    tenant(withFinalizer(), deleting()),
			ext: external{
				delete:     func(*request, remote) error { return nil },
				dependants: func(*v1.Tenant) ([]string, error) { return []string{"Tenant child"}, nil },
			},
			want: want{
				state: state{ObservedGeneration: generation, Finalizers: fin, Conditions: progressing(ReasonDeletionBlocked)},
				calls: []string{"Dependants"},
			},
		},
		"DeleteBlocked": {
			reason: "Deletion waits while a Blocker names dependants, and names them.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext: external{
				delete:     func(*request, remote) error { return nil },
				dependants: func(*v1.Tenant) ([]string, error) { return []string{"User alice", "Tenant child"}, nil },
			},
			want: want{
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation,
					Conditions: progressing(ReasonDeletionBlocked), Finalizers: fin},
				message: "User alice, Tenant child",
				calls:   connected("Dependants"),
			},
		},
		"DeleteNotBlocked": {
			reason: "A Blocker without dependants lets the deletion go on.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext: external{
				delete:     func(*request, remote) error { return nil },
				dependants: func(*v1.Tenant) ([]string, error) { return nil, nil },
			},
			want: want{state: state{Gone: true},
				calls:  connected("Dependants", "Observe(id-1)", "Delete(id-1)"),
				events: []string{"Normal Deleted Deleted Tenant id-1"}},
		},
		"DeleteBlockerFails": {
			reason: "A Blocker that cannot tell is a transient error.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext:    external{dependants: func(*v1.Tenant) ([]string, error) { return nil, errors.New("cache not synced") }},
			want: want{err: "cache not synced",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: []string{"Dependants"}},
		},
		"DeleteRemoteAlreadyGone": {
			reason: "A remote object already deleted (404 on Observe) is fine: no Delete, no event.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext: external{
				observe: func(*request, string) (remote, error) { return remote{}, errNotFound },
				delete:  func(*request, remote) error { return nil },
			},
			want: want{state: state{Gone: true}, calls: connected("Observe(id-1)")},
		},
		"DeleteRemoteGoneMeanwhile": {
			reason: "A 404 on Delete is a deletion done.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext:    external{delete: func(*request, remote) error { return errNotFound }},
			want: want{state: state{Gone: true},
				calls:  connected("Observe(id-1)", "Delete(id-1)"),
				events: []string{"Normal Deleted Deleted Tenant id-1"}},
		},
		"DeleteRemoteFails": {
			reason: "A failed Delete keeps the finalizer and is retried.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext:    external{delete: func(*request, remote) error { return errUnavailable }},
			want: want{err: "503",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: connected("Observe(id-1)", "Delete(id-1)")},
		},
		"DeleteRemoteObserveFails": {
			reason: "A failed read before Delete keeps the finalizer and is retried.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext: external{
				observe: func(*request, string) (remote, error) { return remote{}, errTransport },
				delete:  func(*request, remote) error { return nil },
			},
			want: want{err: "connection refused",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: connected("Observe(id-1)")},
		},
		"DeleteRemoteForbidden": {
			reason: "A Delete the server forbids stalls.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext:    external{delete: func(*request, remote) error { return errForbidden }},
			want: want{
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: stalled(ReasonForbidden), Finalizers: fin},
				message: "access denied (code 1002)",
				calls:   connected("Observe(id-1)", "Delete(id-1)")},
		},
		"DeleteRemoteRetryAfter": {
			reason: "A Delete the server asks to repeat later is repeated then, without an error.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			ext:    external{delete: func(*request, remote) error { return retryAfter(30 * time.Second) }},
			want: want{result: exactly(30 * time.Second),
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: connected("Observe(id-1)", "Delete(id-1)")},
		},
		"DeleteConnectionNotReady": {
			reason:  "Deleting a remote object waits for its connection.",
			obj:     tenant(withFinalizer(), withID("id-1"), deleting()),
			ext:     external{delete: func(*request, remote) error { return nil }},
			connErr: &connection.Error{Reason: connection.ReasonNotReady, Message: "AccountServer server is not Ready"},
			want: want{
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonWaitingForServer), Finalizers: fin},
				message: "AccountServer server is not Ready",
				calls:   connectedTwice()},
		},
		"DeletePendingFinderFound": {
			reason: "An interrupted create may have made the object: the Finder finds it, and it is deleted too.",
			obj:    tenant(withFinalizer(), pending(), deleting()),
			ext: external{
				find:   func(*request) (remote, bool, error) { return rm("id-9", 2), true, nil },
				delete: func(*request, remote) error { return nil },
			},
			want: want{state: state{Gone: true},
				calls:  connected("Resolve", "Find(parent-id)", "Observe(id-9)", "Delete(id-9)"),
				events: []string{"Normal Deleted Deleted Tenant id-9"}},
		},
		"DeletePendingFinderNotFound": {
			reason: "An interrupted create that made nothing leaves nothing to delete: the finalizer just goes.",
			obj:    tenant(withFinalizer(), pending(), deleting()),
			ext: external{
				find:   func(*request) (remote, bool, error) { return remote{}, false, nil },
				delete: func(*request, remote) error { return nil },
			},
			want: want{state: state{Gone: true}, calls: connected("Resolve", "Find(parent-id)")},
		},
		"DeletePendingNoFinder": {
			reason: "Without a Finder there is nothing to look for (Create is idempotent): no Resolve.",
			obj:    tenant(withFinalizer(), pending(), deleting()),
			ext:    external{delete: func(*request, remote) error { return nil }},
			want:   want{state: state{Gone: true}, calls: connected()},
		},
		"DeletePendingResolveWaits": {
			reason: "Looking for an interrupted create's object needs what Resolve finds; it waits with it.",
			obj:    tenant(withFinalizer(), pending(), deleting()),
			ext: external{
				resolve: func(*request) (resolved, error) {
					return "", Waiting(ReasonWaitingForReference, "parent Tenant top is not Ready")
				},
				find:   func(*request) (remote, bool, error) { return rm("id-9", 2), true, nil },
				delete: func(*request, remote) error { return nil },
			},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonWaitingForReference),
					Annotations: markerSet(), Finalizers: fin},
				message: "parent Tenant top is not Ready",
				calls:   connected("Resolve")},
		},
		"DeletePendingFindFails": {
			reason: "A failed Find keeps the finalizer.",
			obj:    tenant(withFinalizer(), pending(), deleting()),
			ext: external{
				find:   func(*request) (remote, bool, error) { return remote{}, false, errUnavailable },
				delete: func(*request, remote) error { return nil },
			},
			want: want{err: "503",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: connected("Resolve", "Find(parent-id)")},
		},
		"DeleteRetiresReplaced": {
			reason: "Deleting an object in the middle of a replacement deletes the old remote object too.",
			obj:    tenant(withFinalizer(), withID("id-2"), replacing(), deleting()),
			ext:    external{delete: func(*request, remote) error { return nil }},
			want: want{state: state{Gone: true},
				calls:  connected("Observe(id-1)", "Delete(id-1)", "Observe(id-2)", "Delete(id-2)"),
				events: []string{"Normal Deleted Deleted Tenant id-1", "Normal Deleted Deleted Tenant id-2"}},
		},
		"DeleteRetireFails": {
			reason: "The old object of a replacement that cannot be deleted keeps the finalizer and the annotation.",
			obj:    tenant(withFinalizer(), withID("id-2"), replacing(), deleting()),
			ext: external{
				observe: func(_ *request, id string) (remote, error) {
					if id == "id-1" {
						return remote{}, errUnavailable
					}
					return rm(id, 1), nil
				},
				delete: func(*request, remote) error { return nil },
			},
			want: want{err: "503",
				state: state{ID: "id-2", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: map[string]string{v1.AnnotationReplacing: "id-1"}, Finalizers: fin},
				calls: connected("Observe(id-1)")},
		},
		"DeleteInterruptedReplacement": {
			reason: "A replacement interrupted after its create but before the new ID was recorded " +
				"(replacing == status.id, marker set) left a new remote object: the Finder finds it and both are deleted.",
			obj: tenant(withFinalizer(), withID("id-1"), replacing(), pending(), deleting()),
			ext: external{
				find:   func(*request) (remote, bool, error) { return rm("id-2", 1), true, nil },
				delete: func(*request, remote) error { return nil },
			},
			want: want{state: state{Gone: true},
				calls:  connected("Resolve", "Find(parent-id)", "Observe(id-1)", "Delete(id-1)", "Observe(id-2)", "Delete(id-2)"),
				events: []string{"Normal Deleted Deleted Tenant id-1", "Normal Deleted Deleted Tenant id-2"}},
		},
		"DeleteInterruptedReplacementFinderFindsOld": {
			reason: "When the Finder finds only the old object of an interrupted replacement, it is deleted once.",
			obj:    tenant(withFinalizer(), withID("id-1"), replacing(), pending(), deleting()),
			ext: external{
				find:   func(*request) (remote, bool, error) { return rm("id-1", 1), true, nil },
				delete: func(*request, remote) error { return nil },
			},
			want: want{state: state{Gone: true},
				calls:  connected("Resolve", "Find(parent-id)", "Observe(id-1)", "Delete(id-1)"),
				events: []string{"Normal Deleted Deleted Tenant id-1"}},
		},
		"DeleteStaleMarkerWithID": {
			reason: "A marker left beside a recorded ID (no replacement under way) does not send a Find.",
			obj:    tenant(withFinalizer(), withID("id-1"), pending(), deleting()),
			ext: external{
				find:   func(*request) (remote, bool, error) { return rm("id-2", 1), true, nil },
				delete: func(*request, remote) error { return nil },
			},
			want: want{state: state{Gone: true},
				calls:  connected("Observe(id-1)", "Delete(id-1)"),
				events: []string{"Normal Deleted Deleted Tenant id-1"}},
		},

		// Finalizer.
		"AddsFinalizerAndCreates": {
			reason: "A new object gets the finalizer, then its remote object.",
			obj:    tenant(),
			want: want{result: jittered(resync), state: synced("new-1", 1),
				message: "Tenant matches the spec",
				calls:   resolvedCalls("Create(parent-id)", "Diff(new-1@1)", "SetStatus(new-1@1)"),
				events:  []string{"Normal Created Created Tenant new-1"}},
		},
		"FinalizerPatchFails": {
			reason: "Nothing is sent to the server before the finalizer is on.",
			obj:    tenant(),
			funcs:  patchContaining(`"finalizers"`, internal()),
			want: want{err: "etcd is sad",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError)},
				calls: connected()},
		},
		"GoneBeforeCreate": {
			reason: "An object deleted while it is reconciled (every patch 404) gets no Create, and that is no error.",
			obj:    tenant(),
			funcs:  patchContaining("", notFound()),
			want:   want{state: state{}, calls: resolvedCalls()},
		},

		// Connection and references.
		"ConnectionRefFails": {
			reason: "An object that cannot name its connection yet waits.",
			obj:    tenant(withFinalizer()),
			ext: external{connectionRef: func(*v1.Tenant) (v1.AccountServerReference, error) {
				return v1.AccountServerReference{}, Waiting(ReasonWaitingForReference, "parent Tenant top has no connection yet")
			}},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: progressing(ReasonWaitingForReference), Finalizers: fin},
				message: "parent Tenant top has no connection yet",
				calls:   []string{"ConnectionRef"}},
		},
		"ConnectionClusterScoped": {
			reason: "The reference ConnectionRef names is the one the Connector gets.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{connectionRef: func(*v1.Tenant) (v1.AccountServerReference, error) {
				return v1.AccountServerReference{Kind: connection.KindClusterAccountServer, Name: "shared"}, nil
			}},
			want: want{result: jittered(resync), state: synced("id-1", 1),
				calls: []string{"ConnectionRef", "Connect(ClusterAccountServer/shared in team-a)", "Resolve",
					"Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)"}},
		},
		"ConnectionNamespaceNotAllowed": {
			reason:  "A ClusterAccountServer that does not serve the namespace stalls, before the finalizer goes on.",
			obj:     tenant(),
			connErr: &connection.Error{Reason: connection.ReasonNamespaceNotAllowed, Message: "ClusterAccountServer shared does not allow namespace team-a"},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: stalled(string(connection.ReasonNamespaceNotAllowed))},
				message: "does not allow namespace team-a",
				calls:   connected()},
		},
		"ConnectionInvalidSpec": {
			reason:  "A connection whose spec is wrong stalls.",
			obj:     tenant(withFinalizer()),
			connErr: &connection.Error{Reason: connection.ReasonInvalidSpec, Message: "bad URL"},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: stalled(ReasonInvalidSpec), Finalizers: fin},
				calls: connected()},
		},
		"ConnectionNotFound": {
			reason:  "A connection that does not exist yet is waited for (its watch wakes the object).",
			obj:     tenant(withFinalizer()),
			connErr: &connection.Error{Reason: connection.ReasonNotFound, Message: "AccountServer server not found"},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonWaitingForServer), Finalizers: fin},
				calls: connectedTwice()},
		},
		"ConnectionSecretInvalid": {
			reason:  "A connection whose Secret is wrong is waited for.",
			obj:     tenant(withFinalizer()),
			connErr: &connection.Error{Reason: connection.ReasonSecretInvalid, Message: "Secret creds has no client_id"},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonWaitingForServer), Finalizers: fin},
				calls: connectedTwice()},
		},
		"ConnectionOtherError": {
			reason:  "Any other connector error is transient and returned.",
			obj:     tenant(withFinalizer()),
			connErr: errors.New("registry closed"),
			want: want{err: "registry closed",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: connected()},
		},
		"ResolveWaiting": {
			reason: "A reference not ready yet is waited for, without polling.",
			obj:    tenant(),
			ext: external{resolve: func(*request) (resolved, error) {
				return "", Waiting(ReasonWaitingForReference, "parent Tenant top has no ID yet")
			}},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: progressing(ReasonWaitingForReference), Finalizers: fin},
				message: "parent Tenant top has no ID yet",
				calls:   resolvedCalls()},
		},
		"ResolveWaitingFor": {
			reason: "A wait no watch ends looks again after its RetryAfter, jittered.",
			obj:    tenant(withFinalizer()),
			ext: external{resolve: func(*request) (resolved, error) {
				return "", WaitingFor("NightlyWindow", 30*time.Second, "the server rebuilds usage until %s", "02:00")
			}},
			want: want{result: jittered(30 * time.Second),
				state:   state{ObservedGeneration: generation, Conditions: progressing("NightlyWindow"), Finalizers: fin},
				message: "the server rebuilds usage until 02:00",
				calls:   resolvedCalls()},
		},
		"ResolveStalled": {
			reason: "A spec Resolve cannot carry out stalls.",
			obj:    tenant(withFinalizer()),
			ext: external{resolve: func(*request) (resolved, error) {
				return "", Stalled("ParentIsUnit", "a unit cannot have a %s child", "customer")
			}},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: stalled("ParentIsUnit"), Finalizers: fin},
				message: "a unit cannot have a customer child",
				calls:   resolvedCalls()},
		},

		// Observe.
		"ObserveByID": {
			reason: "A recorded ID is read; no drift, no write.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			want: want{result: jittered(resync), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)")},
		},
		"ObserveByIDNewVersion": {
			reason: "status.version follows the server.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{observe: func(_ *request, id string) (remote, error) { return rm(id, 4), nil }},
			want: want{result: jittered(resync), state: synced("id-1", 4),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@4)", "SetStatus(id-1@4)")},
		},
		"RemoteDeleted": {
			reason: "A remote object deleted outside the operator stalls; it is not made again.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errNotFound }},
			want: want{
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation,
					Conditions: stalled(ReasonRemoteDeleted), Finalizers: fin},
				message: "Tenant id-1 was deleted on the server outside this operator",
				calls:   resolvedCalls("Observe(id-1)")},
		},
		"ObserveRetryAfter": {
			reason: "A read the server asks to repeat later is repeated then, without an error.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, retryAfter(7 * time.Second) }},
			want: want{result: exactly(7 * time.Second),
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation,
					Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)")},
		},
		"ObserveTransportError": {
			reason: "A read that got no answer is returned for backoff.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errTransport }},
			want: want{err: "connection refused",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation,
					Conditions: progressing(ReasonTransientError), Finalizers: fin},
				message: "connection refused",
				calls:   resolvedCalls("Observe(id-1)")},
		},

		// Import.
		"Import": {
			reason: "importID adopts the remote object and says so.",
			obj:    tenant(withFinalizer(), importID()),
			want: want{result: jittered(resync), state: synced("imp-1", 1),
				calls:  resolvedCalls("Observe(imp-1)", "Diff(imp-1@1)", "SetStatus(imp-1@1)"),
				events: []string{"Normal Adopted Adopted Tenant imp-1 (importID)"}},
		},
		"ImportAdopterAllows": {
			reason: "An Adopter is asked before an import.",
			obj:    tenant(withFinalizer(), importID()),
			ext:    external{canAdopt: func(*request, remote) error { return nil }},
			want: want{result: jittered(resync), state: synced("imp-1", 1),
				calls:  resolvedCalls("Observe(imp-1)", "CanAdopt(imp-1)", "Diff(imp-1@1)", "SetStatus(imp-1@1)"),
				events: []string{"Normal Adopted Adopted Tenant imp-1 (importID)"}},
		},
		"ImportAdopterRefuses": {
			reason: "An Adopter's refusal stalls and records no ID.",
			obj:    tenant(withFinalizer(), importID()),
			ext: external{canAdopt: func(*request, remote) error {
				return Stalled("OtherOwner", "tenant imp-1 is managed by another operator")
			}},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: stalled("OtherOwner"), Finalizers: fin},
				message: "managed by another operator",
				calls:   resolvedCalls("Observe(imp-1)", "CanAdopt(imp-1)")},
		},
		"ImportNotFound": {
			reason: "An importID the server does not know stalls.",
			obj:    tenant(withFinalizer(), importID()),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errNotFound }},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: stalled(ReasonImportNotFound), Finalizers: fin},
				message: "spec.importID: Tenant imp-1 does not exist on the server",
				calls:   resolvedCalls("Observe(imp-1)")},
		},
		"ImportOutsideScope": {
			reason: "An importID outside the connection's subtree (403) stalls and names the subtree.",
			obj:    tenant(withFinalizer(), importID()),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errForbidden }},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: stalled(ReasonOutsideScope), Finalizers: fin},
				message: "spec.importID: Tenant imp-1 lies outside the subtree of tenant root-tenant",
				calls:   resolvedCalls("Observe(imp-1)")},
		},
		"ImportTransient": {
			reason: "An import read that fails otherwise is retried.",
			obj:    tenant(withFinalizer(), importID()),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errUnavailable }},
			want: want{err: "503",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(imp-1)")},
		},
		// An outage: the connection's circuit breaker is open.
		"ServerUnavailable": {
			reason: "A call the open circuit refused makes the object ServerUnavailable: no error (no backoff of its own), held until the circuit closes, a late look on its own as a safety net, no Warning.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			conn:   onServer(nil),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errCircuitOpenCall }},
			want: want{result: jittered(heldRecheck),
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonServerUnavailable), Finalizers: fin},
				message: "the account server of AccountServer/team-a/server does not answer (its circuit breaker is open)",
				calls:   resolvedCalls("Observe(id-1)")},
		},
		"ServerUnavailableOnUpdate": {
			reason: "Whichever call meets the open circuit, the object shows the same reason and message.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			conn:   onServer(nil),
			ext: external{
				diff:   func(*request, remote) ([]string, error) { return []string{"name"}, nil },
				update: func(*request, remote) (remote, error) { return remote{}, errCircuitOpenCall },
			},
			want: want{result: jittered(heldRecheck),
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonServerUnavailable), Finalizers: fin},
				message: "the account server of AccountServer/team-a/server does not answer (its circuit breaker is open)",
				calls:   resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)")},
		},
		"ServerUnavailableOnDelete": {
			reason: "A deletion during an outage waits the same way, finalizer kept.",
			obj:    tenant(withFinalizer(), withID("id-1"), deleting()),
			conn:   onServer(nil),
			ext:    external{delete: func(*request, remote) error { return errCircuitOpenCall }},
			want: want{result: jittered(heldRecheck),
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonServerUnavailable), Finalizers: fin},
				calls: connected("Observe(id-1)", "Delete(id-1)")},
		},
		"CircuitOpenBeforeAnyCall": {
			reason: "A connection whose circuit is open ends the reconcile before any call and any write but the status: a new object gets no finalizer and no create marker yet.",
			obj:    tenant(),
			conn:   onServer(openedClient()),
			want: want{result: jittered(heldRecheck),
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonServerUnavailable)},
				calls: connected()},
		},
		"OwnFailuresOpenedTheCircuit": {
			reason: "A 503 after which the circuit is open (this call's failures opened it) is ServerUnavailable too, not TransientError: one status write per object for the outage.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			conn:   onServer(refusedClient()),
			ext: external{observe: func(req *request, _ string) (remote, error) {
				trip(req.Conn.Client)
				return remote{}, errUnavailable
			}},
			want: want{result: jittered(heldRecheck),
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonServerUnavailable), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)")},
		},
		"CircuitClosedMeanwhile": {
			reason: "A call that met the open circuit, whose circuit is closed by the time the object is held, looks again in a second: the closing may have released the held objects before it was one.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			conn:   onServer(refusedClient()),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errCircuitOpenCall }},
			want: want{result: jittered(closedRecheck),
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonServerUnavailable), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)")},
		},
		"ServerErrorWhileClosed": {
			reason: "A 503 while the circuit stays closed is a TransientError, retried with backoff.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			conn:   onServer(refusedClient()),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, errUnavailable }},
			want: want{err: "503",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)")},
		},
		"TooManyRequestsIsNoOutage": {
			reason: "A 429 is the server asking the connection to slow down, not an outage.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			conn:   onServer(refusedClient()),
			ext:    external{observe: func(*request, string) (remote, error) { return remote{}, retryAfter(7 * time.Second) }},
			want: want{result: exactly(7 * time.Second),
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)")},
		},
		"ImportStatusWriteFails": {
			reason: "An adopted ID goes with the closing status patch; when that fails, the error is returned and the next reconcile adopts the same object by importID again.",
			obj:    tenant(withFinalizer(), importID()),
			funcs:  failStatusPatch(1, internal()),
			want: want{err: "etcd is sad",
				state:  state{Finalizers: fin},
				calls:  resolvedCalls("Observe(imp-1)", "Diff(imp-1@1)", "SetStatus(imp-1@1)"),
				events: []string{"Normal Adopted Adopted Tenant imp-1 (importID)"}},
		},

		// ObserveOnly.
		"ObserveOnly": {
			reason: "ObserveOnly mirrors the imported object, adds no finalizer and never diffs or writes.",
			obj:    tenant(observeOnly(), importID()),
			ext: external{
				diff: func(*request, remote) ([]string, error) { return []string{"displayName"}, nil },
			},
			want: want{result: jittered(resync),
				state: state{ID: "imp-1", Version: 1, ObservedGeneration: generation,
					Conditions: []cond{{v1.ConditionReady, "True", ReasonObserved}}},
				message: "Tenant mirrored from the server (ObserveOnly)",
				calls:   resolvedCalls("Observe(imp-1)", "SetStatus(imp-1@1)"),
				events:  []string{"Normal Adopted Adopted Tenant imp-1 (importID)"}},
		},
		"ObserveOnlyByID": {
			reason: "ObserveOnly reads by the recorded ID, never replaces or updates, and publishes.",
			obj:    tenant(observeOnly(), importID(), withID("imp-1")),
			ext: external{
				observe:     func(_ *request, id string) (remote, error) { return rm(id, 5), nil },
				diff:        func(*request, remote) ([]string, error) { return []string{"displayName"}, nil },
				mustReplace: func(*request, remote) []string { return []string{"kind"} },
				publish:     func(*request, remote) error { return nil },
			},
			want: want{result: jittered(resync),
				state: state{ID: "imp-1", Version: 5, ObservedGeneration: generation,
					Conditions: []cond{{v1.ConditionReady, "True", ReasonObserved}}},
				calls: resolvedCalls("Observe(imp-1)", "SetStatus(imp-1@5)", "Publish(imp-1@5)")},
		},
		"ObserveOnlyWithoutImportID": {
			reason: "ObserveOnly without importID has nothing to observe: InvalidSpec, and no Create even with a marker.",
			obj:    tenant(observeOnly(), pending()),
			ext:    external{find: func(*request) (remote, bool, error) { return rm("id-7", 1), true, nil }},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: stalled(ReasonInvalidSpec),
					Annotations: markerSet()},
				message: "ObserveOnly needs importID",
				calls:   resolvedCalls()},
		},

		// Create.
		"CreateNoFinder": {
			reason: "A marker left by an interrupted create, without a Finder, creates again (Create is idempotent).",
			obj:    tenant(withFinalizer(), pending()),
			want: want{result: jittered(resync), state: synced("new-1", 1),
				calls:  resolvedCalls("Create(parent-id)", "Diff(new-1@1)", "SetStatus(new-1@1)"),
				events: []string{"Normal Created Created Tenant new-1"}},
		},
		"CreateWithFinderNoMarker": {
			reason: "Without a marker nothing was sent before: no Find.",
			obj:    tenant(withFinalizer()),
			ext:    external{find: func(*request) (remote, bool, error) { return rm("id-7", 2), true, nil }},
			want: want{result: jittered(resync), state: synced("new-1", 1),
				calls:  resolvedCalls("Create(parent-id)", "Diff(new-1@1)", "SetStatus(new-1@1)"),
				events: []string{"Normal Created Created Tenant new-1"}},
		},
		"PendingFinderFound": {
			reason: "A marker and a Finder that finds the object: adopted, not created twice.",
			obj:    tenant(withFinalizer(), pending()),
			ext:    external{find: func(*request) (remote, bool, error) { return rm("id-7", 2), true, nil }},
			want: want{result: jittered(resync), state: synced("id-7", 2),
				calls:  resolvedCalls("Find(parent-id)", "Diff(id-7@2)", "SetStatus(id-7@2)"),
				events: []string{"Normal Adopted Found Tenant id-7 that an interrupted create had made, and adopted it"}},
		},
		"PendingWithID": {
			reason: "A marker beside a recorded ID (the process stopped between writing the ID and dropping the marker): the create is done, the marker goes, nothing is created or searched.",
			obj:    tenant(withFinalizer(), withID("id-1"), pending()),
			ext:    external{find: func(*request) (remote, bool, error) { return rm("id-7", 2), true, nil }},
			want: want{result: jittered(resync), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)")},
		},
		"PendingWithIDMarkerFails": {
			reason: "Dropping that marker fails: nothing is read or written on the server, and the marker stays for the retry.",
			obj:    tenant(withFinalizer(), withID("id-1"), pending()),
			funcs:  patchContaining(`"annotations":null`, internal()),
			want: want{err: "etcd is sad",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls()},
		},
		"PendingFinderFoundAdopterRefuses": {
			reason: "An object found after an interrupted create still needs the Adopter's consent; the marker stays.",
			obj:    tenant(withFinalizer(), pending()),
			ext: external{
				find:     func(*request) (remote, bool, error) { return rm("id-7", 2), true, nil },
				canAdopt: func(*request, remote) error { return Stalled("OtherOwner", "not ours") },
			},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: stalled("OtherOwner"),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls("Find(parent-id)", "CanAdopt(id-7)")},
		},
		"PendingFinderNotFound": {
			reason: "A marker and a Finder that finds nothing: the create did not go through, create now.",
			obj:    tenant(withFinalizer(), pending()),
			ext:    external{find: func(*request) (remote, bool, error) { return remote{}, false, nil }},
			want: want{result: jittered(resync), state: synced("new-1", 1),
				calls:  resolvedCalls("Find(parent-id)", "Create(parent-id)", "Diff(new-1@1)", "SetStatus(new-1@1)"),
				events: []string{"Normal Created Created Tenant new-1"}},
		},
		"PendingFinderFails": {
			reason: "A failed Find creates nothing and keeps the marker.",
			obj:    tenant(withFinalizer(), pending()),
			ext:    external{find: func(*request) (remote, bool, error) { return remote{}, false, errUnavailable }},
			want: want{err: "503",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls("Find(parent-id)")},
		},
		"MarkerConflict": {
			reason: "The marker is written under an optimistic lock: a conflict (the cache lags) sends no Create and looks again soon.",
			obj:    tenant(withFinalizer()),
			funcs:  patchAnnotation(v1.AnnotationCreatePending, conflict()),
			want:   want{result: exactly(staleRequeue), state: state{Finalizers: fin}, calls: resolvedCalls()},
		},
		"MarkerStaleCache": {
			reason: "A cache behind the API server makes the locked marker patch conflict by itself: no Create.",
			obj:    tenant(withFinalizer()),
			funcs:  staleCache(),
			want:   want{result: exactly(staleRequeue), state: state{Finalizers: fin}, calls: resolvedCalls()},
		},
		"MarkerObjectGone": {
			reason: "An object deleted before the marker is written gets no Create, and that is no error.",
			obj:    tenant(withFinalizer()),
			funcs:  patchAnnotation(v1.AnnotationCreatePending, notFound()),
			want:   want{state: state{Finalizers: fin}, calls: resolvedCalls()},
		},
		"MarkerFails": {
			reason: "A marker that cannot be written sends no Create.",
			obj:    tenant(withFinalizer()),
			funcs:  patchAnnotation(v1.AnnotationCreatePending, internal()),
			want: want{err: "etcd is sad",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls()},
		},
		"CreateConflict": {
			reason: "A name taken on the server stalls with AlreadyExists, and the marker goes (nothing was made).",
			obj:    tenant(withFinalizer()),
			ext:    external{create: func(*request) (remote, error) { return remote{}, errNameTaken }},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: stalled(ReasonAlreadyExists), Finalizers: fin},
				message: "name acme is taken (code 1004); set importID to adopt the existing object",
				calls:   resolvedCalls("Create(parent-id)")},
		},
		"CreateInvalid": {
			reason: "A create the server refuses as invalid stalls (Rejected), and the marker goes.",
			obj:    tenant(withFinalizer()),
			ext:    external{create: func(*request) (remote, error) { return remote{}, errInvalid }},
			want: want{
				state:   state{ObservedGeneration: generation, Conditions: stalled(ReasonRejected), Finalizers: fin},
				message: "kind is invalid (code 1010)",
				calls:   resolvedCalls("Create(parent-id)")},
		},
		"CreateForbidden": {
			reason: "A forbidden create stalls, and the marker goes.",
			obj:    tenant(withFinalizer()),
			ext:    external{create: func(*request) (remote, error) { return remote{}, errForbidden }},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: stalled(ReasonForbidden), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},
		"CreateStalled": {
			reason: "A create the kind refuses (Stalled) clears the marker.",
			obj:    tenant(withFinalizer()),
			ext: external{create: func(*request) (remote, error) {
				return remote{}, Stalled("ParentDisabled", "the parent is disabled")
			}},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: stalled("ParentDisabled"), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},
		"CreateWaiting": {
			reason: "A create the kind puts off (Waiting) clears the marker.",
			obj:    tenant(withFinalizer()),
			ext: external{create: func(*request) (remote, error) {
				return remote{}, Waiting("ParentNotReady", "the parent is being enabled")
			}},
			want: want{
				state: state{ObservedGeneration: generation, Conditions: progressing("ParentNotReady"), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},
		"CreateTransient": {
			reason: "A create that may have reached the server keeps the marker, so the next attempt looks first.",
			obj:    tenant(withFinalizer()),
			ext:    external{create: func(*request) (remote, error) { return remote{}, errUnavailable }},
			want: want{err: "503",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},
		"CreateTransportError": {
			reason: "A create without an answer keeps the marker.",
			obj:    tenant(withFinalizer()),
			ext:    external{create: func(*request) (remote, error) { return remote{}, errTransport }},
			want: want{err: "connection refused",
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},
		"CreateRetryAfter": {
			reason: "A create the server asks to repeat later keeps the marker and is repeated then.",
			obj:    tenant(withFinalizer()),
			ext:    external{create: func(*request) (remote, error) { return remote{}, retryAfter(20 * time.Second) }},
			want: want{result: exactly(20 * time.Second),
				state: state{ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},
		"AfterCreate": {
			reason:      "AfterCreate runs after Create with the marker on and before status.id is written.",
			obj:         tenant(withFinalizer()),
			afterCreate: true,
			want: want{result: jittered(resync), state: synced("new-1", 1),
				calls: resolvedCalls("Create(parent-id)", `AfterCreate(id="" pending=true replacing="")`,
					"Diff(new-1@1)", "SetStatus(new-1@1)"),
				events: []string{"Normal Created Created Tenant new-1"}},
		},
		"PersistIDFails": {
			reason: "A created object whose ID cannot be written keeps the marker; the closing status patch records the ID.",
			obj:    tenant(withFinalizer()),
			funcs:  failStatusPatch(1, internal()),
			want: want{err: "etcd is sad",
				state: state{ID: "new-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},
		"ClearMarkerFails": {
			reason: "A marker that cannot be removed after the ID is written is retried; the ID stays.",
			obj:    tenant(withFinalizer()),
			funcs:  patchContaining(`"annotations":null`, internal()),
			want: want{err: "etcd is sad",
				state: state{ID: "new-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: markerSet(), Finalizers: fin},
				calls: resolvedCalls("Create(parent-id)")},
		},

		// Update.
		"Drift": {
			reason: "Drift is corrected with Update and announced; the status takes the new version.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{diff: func(_ *request, r remote) ([]string, error) {
				if r.Version == 1 {
					return []string{"displayName", "contact"}, nil
				}
				return nil, nil
			}},
			want: want{result: jittered(resync), state: synced("id-1", 2),
				calls:  resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)", "SetStatus(id-1@2)"),
				events: []string{"Normal Updated Updated Tenant: displayName, contact"}},
		},
		"DiffFails": {
			reason: "A Diff error is returned.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{diff: func(*request, remote) ([]string, error) { return nil, errors.New("cannot compare") }},
			want: want{err: "cannot compare",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)")},
		},
		"StaleVersionRetried": {
			reason: "A stale version re-reads the object and retries at once.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				observe: counter(),
				diff:    func(*request, remote) ([]string, error) { return []string{"displayName"}, nil },
				update: func(_ *request, r remote) (remote, error) {
					if r.Version == 1 {
						return remote{}, errStaleVer
					}
					return rm(r.ID, r.Version+1), nil
				},
			},
			want: want{result: jittered(resync), state: synced("id-1", 3),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)",
					"Observe(id-1)", "Diff(id-1@2)", "Update(id-1@2)", "SetStatus(id-1@3)"),
				events: []string{"Normal Updated Updated Tenant: displayName"}},
		},
		"StaleVersionTooOften": {
			reason: "A version that stays stale is given up after maxStaleRetries re-reads and returned.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				observe: counter(),
				diff:    func(*request, remote) ([]string, error) { return []string{"displayName"}, nil },
				update:  func(*request, remote) (remote, error) { return remote{}, errStaleVer },
			},
			want: want{err: "stale",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls(
					"Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)",
					"Observe(id-1)", "Diff(id-1@2)", "Update(id-1@2)",
					"Observe(id-1)", "Diff(id-1@3)", "Update(id-1@3)",
					"Observe(id-1)", "Diff(id-1@4)", "Update(id-1@4)")},
		},
		"StaleVersionReadFails": {
			reason: "A re-read that fails ends the retries.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				observe: func() func(*request, string) (remote, error) {
					n := 0
					return func(_ *request, id string) (remote, error) {
						if n++; n > 1 {
							return remote{}, errTransport
						}
						return rm(id, 1), nil
					}
				}(),
				diff:   func(*request, remote) ([]string, error) { return []string{"displayName"}, nil },
				update: func(*request, remote) (remote, error) { return remote{}, errStaleVer },
			},
			want: want{err: "connection refused",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)", "Observe(id-1)")},
		},

		// Replacement.
		"ReplaceFresh": {
			reason: "A change the server cannot make in place: record the old ID, create under the marker, record the new ID, delete the old.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				mustReplace: func(_ *request, r remote) []string {
					if r.ID == "id-1" {
						return []string{"formats"}
					}
					return nil
				},
				find:   func(*request) (remote, bool, error) { return rm("id-7", 1), true, nil },
				delete: func(*request, remote) error { return nil },
			},
			afterCreate: true,
			want: want{result: jittered(resync), state: synced("new-1", 1),
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Create(parent-id)",
					`AfterCreate(id="id-1" pending=true replacing="id-1")`,
					"Observe(id-1)", "Delete(id-1)", "Diff(new-1@1)", "SetStatus(new-1@1)"),
				events: []string{
					"Normal Created Created Tenant new-1",
					"Normal Replaced Replaced Tenant id-1 with new-1: formats",
					"Normal Deleted Deleted Tenant id-1",
				}},
		},
		"ReplaceNotNeeded": {
			reason: "A Replacer that names nothing changes nothing.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{mustReplace: func(*request, remote) []string { return nil }},
			want: want{result: jittered(resync), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Diff(id-1@1)", "SetStatus(id-1@1)")},
		},
		"ReplaceWithoutDeleter": {
			reason: "A kind without a Deleter releases the replaced object.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{mustReplace: func(_ *request, r remote) []string {
				if r.ID == "id-1" {
					return []string{"secret lost"}
				}
				return nil
			}},
			want: want{result: jittered(resync), state: synced("new-1", 1),
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Create(parent-id)", "Diff(new-1@1)", "SetStatus(new-1@1)"),
				events: []string{
					"Normal Created Created Tenant new-1",
					"Normal Replaced Replaced Tenant id-1 with new-1: secret lost",
					"Normal Released Stopped managing Tenant id-1 and left it as it is on the server",
				}},
		},
		"ReplaceInterruptedBeforeNewID": {
			reason: "A replacement interrupted before the new ID was recorded (replacing == status.id, marker set): " +
				"the Finder finds the new object, it is adopted, the old one deleted.",
			obj: tenant(withFinalizer(), withID("id-1"), replacing(), pending()),
			ext: external{
				mustReplace: func(*request, remote) []string { return nil },
				find:        func(*request) (remote, bool, error) { return rm("id-2", 1), true, nil },
				delete:      func(*request, remote) error { return nil },
			},
			want: want{result: jittered(resync), state: synced("id-2", 1),
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Find(parent-id)",
					"Observe(id-1)", "Delete(id-1)", "Diff(id-2@1)", "SetStatus(id-2@1)"),
				events: []string{
					"Normal Adopted Found Tenant id-2 that an interrupted create had made, and adopted it",
					"Normal Replaced Replaced Tenant id-1 with id-2: the spec",
					"Normal Deleted Deleted Tenant id-1",
				}},
		},
		"ReplaceInterruptedFinderFindsOld": {
			reason: "The Finder finding the old object during a replacement does not adopt it: a new one is created.",
			obj:    tenant(withFinalizer(), withID("id-1"), replacing(), pending()),
			ext: external{
				mustReplace: func(*request, remote) []string { return nil },
				find:        func(*request) (remote, bool, error) { return rm("id-1", 1), true, nil },
				delete:      func(*request, remote) error { return nil },
			},
			want: want{result: jittered(resync), state: synced("new-1", 1),
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Find(parent-id)", "Create(parent-id)",
					"Observe(id-1)", "Delete(id-1)", "Diff(new-1@1)", "SetStatus(new-1@1)"),
				events: []string{
					"Normal Created Created Tenant new-1",
					"Normal Replaced Replaced Tenant id-1 with new-1: the spec",
					"Normal Deleted Deleted Tenant id-1",
				}},
		},
		"ReplaceInterruptedAfterNewID": {
			reason: "A replacement interrupted after the new ID was recorded (replacing != status.id) only deletes the old object.",
			obj:    tenant(withFinalizer(), withID("id-2"), replacing()),
			ext: external{
				mustReplace: func(*request, remote) []string { return []string{"formats"} },
				delete:      func(*request, remote) error { return nil },
			},
			want: want{result: jittered(resync), state: synced("id-2", 1),
				calls:  resolvedCalls("Observe(id-2)", "Observe(id-1)", "Delete(id-1)", "Diff(id-2@1)", "SetStatus(id-2@1)"),
				events: []string{"Normal Deleted Deleted Tenant id-1"}},
		},
		"ReplaceInterruptedAfterNewIDOldGone": {
			reason: "An old object already gone is a replacement finished.",
			obj:    tenant(withFinalizer(), withID("id-2"), replacing()),
			ext: external{
				observe: func(_ *request, id string) (remote, error) {
					if id == "id-1" {
						return remote{}, errNotFound
					}
					return rm(id, 1), nil
				},
				delete: func(*request, remote) error { return nil },
			},
			want: want{result: jittered(resync), state: synced("id-2", 1),
				calls: resolvedCalls("Observe(id-2)", "Observe(id-1)", "Diff(id-2@1)", "SetStatus(id-2@1)")},
		},
		"ReplaceRetireFails": {
			reason: "An old object that cannot be deleted keeps the annotation; the new ID is recorded.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				mustReplace: func(_ *request, r remote) []string { return []string{"formats"} },
				delete:      func(*request, remote) error { return errUnavailable },
			},
			want: want{err: "503",
				state: state{ID: "new-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: map[string]string{v1.AnnotationReplacing: "id-1"}, Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Create(parent-id)", "Observe(id-1)", "Delete(id-1)"),
				events: []string{
					"Normal Created Created Tenant new-1",
					"Normal Replaced Replaced Tenant id-1 with new-1: formats",
				}},
		},
		"ReplaceAnnotationConflict": {
			reason: "The old ID is recorded under an optimistic lock: a conflict creates nothing and looks again soon.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{mustReplace: func(*request, remote) []string { return []string{"formats"} }},
			funcs:  patchAnnotation(v1.AnnotationReplacing, conflict()),
			want: want{result: exactly(staleRequeue), state: state{ID: "id-1", Version: 1, Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)")},
		},
		"ReplaceCreateRefused": {
			reason: "A refused replacement keeps the old object and the annotation (the replacement is retried), and drops the marker.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				mustReplace: func(*request, remote) []string { return []string{"formats"} },
				create:      func(*request) (remote, error) { return remote{}, errNameTaken },
				delete:      func(*request, remote) error { return nil },
			},
			want: want{
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: stalled(ReasonAlreadyExists),
					Annotations: map[string]string{v1.AnnotationReplacing: "id-1"}, Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Create(parent-id)")},
		},
		"ReplaceFindFails": {
			reason: "A failed Find during an interrupted replacement creates nothing.",
			obj:    tenant(withFinalizer(), withID("id-1"), replacing(), pending()),
			ext: external{
				mustReplace: func(*request, remote) []string { return nil },
				find:        func(*request) (remote, bool, error) { return remote{}, false, errUnavailable },
			},
			want: want{err: "503",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError),
					Annotations: map[string]string{v1.AnnotationReplacing: "id-1", v1.AnnotationCreatePending: "set"}, Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "MustReplace(id-1@1)", "Find(parent-id)")},
		},

		// Publisher and Poller.
		"Publish": {
			reason: "A Publisher runs after SetStatus.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{publish: func(*request, remote) error { return nil }},
			want: want{result: jittered(resync), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)", "Publish(id-1@1)")},
		},
		"PublishFails": {
			reason: "A Publisher's error surfaces.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{publish: func(*request, remote) error {
				return Stalled(ReasonNotOwned, "ConfigMap acme-report exists and is not owned by this object")
			}},
			want: want{
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: stalled(ReasonNotOwned), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)", "Publish(id-1@1)")},
		},
		"PollerShortens": {
			reason: "A Poller's shorter wait replaces the resync.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{pollAfter: func(*request, remote) time.Duration { return 5 * time.Second }},
			want: want{result: exactly(5 * time.Second), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)", "PollAfter(id-1@1)")},
		},
		"PollerLonger": {
			reason: "A Poller's wait longer than the resync is ignored.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{pollAfter: func(*request, remote) time.Duration { return time.Hour }},
			want: want{result: jittered(resync), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)", "PollAfter(id-1@1)")},
		},
		"PollerDone": {
			reason: "A Poller with nothing to wait for leaves the resync.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext:    external{pollAfter: func(*request, remote) time.Duration { return 0 }},
			want: want{result: jittered(resync), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)", "PollAfter(id-1@1)")},
		},
		"ResyncInterval": {
			reason: "The connection's resync interval, jittered by up to a tenth, is the next look.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			conn:   &connection.Connection{TenantID: "root-tenant", ResyncInterval: time.Minute},
			want: want{result: jittered(time.Minute), state: synced("id-1", 1),
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)")},
		},

		// Error classes.
		"ErrorInvalid": {
			reason: "An invalid request stalls as Rejected with the server's message and code.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				diff: func(*request, remote) ([]string, error) { return []string{"pricing"}, nil },
				update: func(*request, remote) (remote, error) {
					return remote{}, serverError(http.StatusUnprocessableEntity, accountserver.CodeBusinessRules, "production cannot go back to trial")
				},
			},
			want: want{
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: stalled(ReasonRejected), Finalizers: fin},
				message: "production cannot go back to trial (code 1027)",
				calls:   resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)")},
		},
		"ErrorInvalidWithoutBody": {
			reason: "A refusal without the server's words reports the error itself.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				diff: func(*request, remote) ([]string, error) { return []string{"pricing"}, nil },
				update: func(*request, remote) (remote, error) {
					return remote{}, accountserver.ErrorFromAnswer("update tenant", http.StatusBadRequest, nil, 0)
				},
			},
			want: want{
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: stalled(ReasonRejected), Finalizers: fin},
				message: "accountserver: update tenant: 400 Bad Request",
				calls:   resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)")},
		},
		"ErrorForbidden": {
			reason: "A forbidden request stalls as Forbidden.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				diff:   func(*request, remote) ([]string, error) { return []string{"pricing"}, nil },
				update: func(*request, remote) (remote, error) { return remote{}, errForbidden },
			},
			want: want{
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: stalled(ReasonForbidden), Finalizers: fin},
				message: "access denied (code 1002)",
				calls:   resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)")},
		},
		"ErrorRetryAfter": {
			reason: "A 429 with Retry-After waits exactly that, without an error (no backoff on top).",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				diff:   func(*request, remote) ([]string, error) { return []string{"pricing"}, nil },
				update: func(*request, remote) (remote, error) { return remote{}, retryAfter(12 * time.Second) },
			},
			want: want{result: exactly(12 * time.Second),
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)")},
		},
		"ErrorTransient": {
			reason: "A transient error without Retry-After is returned, for the rate limiter's backoff.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{
				diff:   func(*request, remote) ([]string, error) { return []string{"pricing"}, nil },
				update: func(*request, remote) (remote, error) { return remote{}, errUnavailable },
			},
			want: want{err: "503 Service Unavailable",
				state:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				message: "503 Service Unavailable",
				calls:   resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "Update(id-1@1)")},
		},
		"ErrorUnauthorized": {
			reason: "Refused credentials are transient here (the connection controller reports them) and returned.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			ext: external{observe: func(*request, string) (remote, error) {
				return remote{}, accountserver.ErrorFromAnswer("get tenant", http.StatusUnauthorized, nil, 0)
			}},
			want: want{err: "401",
				state: state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonTransientError), Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)")},
		},

		// Status write.
		"StatusPatchFails": {
			reason: "A status that cannot be written is an error, joined to the reconcile's own.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			funcs:  failStatusPatch(-1, internal()),
			want: want{err: "etcd is sad", state: state{ID: "id-1", Version: 1, Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)")},
		},
		"StatusPatchObjectGone": {
			reason: "A status patch that finds the object gone is no error.",
			obj:    tenant(withFinalizer(), withID("id-1")),
			funcs:  failStatusPatch(-1, notFound()),
			want: want{result: jittered(resync), state: state{ID: "id-1", Version: 1, Finalizers: fin},
				calls: resolvedCalls("Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)")},
		},
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var log calls
			var objs []client.Object
			if tc.obj != nil {
				objs = append(objs, tc.obj)
			}
			base := newFake(objs...)
			c := interceptor.NewClient(base, tc.funcs)
			e := tc.ext
			e.log = &log
			conn := &connector{log: &log, conn: tc.conn, err: tc.connErr}
			rec := events.NewFakeRecorder(100)
			r := newReconciler(c, &e, conn, rec)
			if tc.afterCreate {
				r.AfterCreate = func(*v1.Tenant) {
					o := &v1.Tenant{}
					if err := base.Get(ctx, key, o); err != nil {
						t.Fatal(err)
					}
					_, p := o.Annotations[v1.AnnotationCreatePending]
					log.add("AfterCreate(id=%q pending=%t replacing=%q)", o.Status.ID, p, o.Annotations[v1.AnnotationReplacing])
				}
			}

			res, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key})

			w := tc.want
			if res.RequeueAfter < w.result.min || res.RequeueAfter > w.result.max {
				t.Errorf("%s\nRequeueAfter = %s, want within [%s, %s]", tc.reason, res.RequeueAfter, w.result.min, w.result.max)
			}
			if diff := cmp.Diff(w.err != "", err != nil); diff != "" || (err != nil && !strings.Contains(err.Error(), w.err)) {
				t.Errorf("%s\nerror = %v, want one containing %q", tc.reason, err, w.err)
			}
			if diff := cmp.Diff(w.state, stateOf(t, base)); diff != "" {
				t.Errorf("%s\nobject: -want +got:\n%s", tc.reason, diff)
			}
			if w.message != "" {
				if got := readyMessage(t, base); !strings.Contains(got, w.message) {
					t.Errorf("%s\nReady message = %q, want one containing %q", tc.reason, got, w.message)
				}
			}
			if diff := cmp.Diff(w.calls, []string(log)); diff != "" {
				t.Errorf("%s\ncalls: -want +got:\n%s", tc.reason, diff)
			}
			// Warnings follow the conditions, and TestWarnOnFailure tests them.
			if diff := cmp.Diff(w.events, normal(drain(rec))); diff != "" {
				t.Errorf("%s\nevents: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestReconcileWaitsForConnection: an object that finds its connection
// unusable is recorded as its waiter, so the connection's next event wakes
// it whatever the cache says of its status (its Waiting status may land in
// the cache after that event); one that finds it usable on the second look
// goes on at once.
func TestReconcileWaitsForConnection(t *testing.T) {
	ctx := context.Background()
	connKey := connection.Key{Kind: connection.KindAccountServer, Namespace: ns, Name: "server"}
	notReady := &connection.Error{Reason: connection.ReasonNotReady, Message: "AccountServer server is not Ready"}
	// other waits for the same connection: its record stays whatever
	// happens to this object.
	other := types.NamespacedName{Namespace: ns, Name: "other"}
	cases := map[string]struct {
		errTimes    int
		wantState   state
		wantWaiters []reconcile.Request
	}{
		"StillNotReady": {
			wantState:   state{ID: "id-1", Version: 1, ObservedGeneration: generation, Conditions: progressing(ReasonWaitingForServer), Finalizers: fin},
			wantWaiters: []reconcile.Request{{NamespacedName: key}, {NamespacedName: other}},
		},
		"ReadyOnSecondLook": {
			errTimes:    1,
			wantState:   synced("id-1", 1),
			wantWaiters: []reconcile.Request{{NamespacedName: other}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var log calls
			base := newFake(tenant(withFinalizer(), withID("id-1")))
			conn := &connector{log: &log, err: notReady, errTimes: tc.errTimes}
			r := newReconciler(base, &external{log: &log}, conn, nil)
			r.awaitConnection(connKey, other)
			if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantState, stateOf(t, base)); diff != "" {
				t.Errorf("object: -want +got:\n%s", diff)
			}
			byName := cmpopts.SortSlices(func(a, b reconcile.Request) bool { return a.String() < b.String() })
			if diff := cmp.Diff(tc.wantWaiters, r.connectionWaiters(connKey), byName); diff != "" {
				t.Errorf("waiters of %s: -want +got:\n%s", connKey, diff)
			}
			if got := r.connectionWaiters(connKey); got != nil {
				t.Errorf("waiters are taken once, the second take got %v", got)
			}
		})
	}
}

// TestReconcileWritesStatusOnlyWhenChanged: a steady state sends nothing to
// the API server; a change sends one status patch.
func TestReconcileWritesStatusOnlyWhenChanged(t *testing.T) {
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
	version := int64(1)
	e := &external{log: &log, observe: func(_ *request, id string) (remote, error) { return rm(id, version), nil }}
	r := newReconciler(c, e, &connector{log: &log}, nil)

	type writes struct{ Patches, StatusPatches int32 }
	steps := []struct {
		reason string
		before func()
		want   writes
	}{
		{"the first reconcile writes the conditions", nil, writes{0, 1}},
		{"an identical reconcile writes nothing", nil, writes{0, 1}},
		{"and another one still nothing", nil, writes{0, 1}},
		{"a new remote version is written", func() { version = 2 }, writes{0, 2}},
		{"then nothing again", nil, writes{0, 2}},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key}); err != nil {
			t.Fatalf("%s: %v", s.reason, err)
		}
		got := writes{patches.Load(), statusPatches.Load()}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%s: writes -want +got:\n%s", s.reason, diff)
		}
	}
	if diff := cmp.Diff(synced("id-1", 2), stateOf(t, base)); diff != "" {
		t.Errorf("object: -want +got:\n%s", diff)
	}
}

// TestAdoptWritesStatusOnce: adopting by importID costs one status write,
// the closing one, with the ID in it; adopting what an interrupted create
// made writes the ID first, before the marker goes.
func TestAdoptWritesStatusOnce(t *testing.T) {
	ctx := context.Background()
	cases := map[string]struct {
		obj          *v1.Tenant
		ext          external
		wantPatches  int32
		wantStatusID string
	}{
		"ImportID": {obj: tenant(withFinalizer(), importID()), wantPatches: 1, wantStatusID: "imp-1"},
		"InterruptedCreate": {
			obj:         tenant(withFinalizer(), pending()),
			ext:         external{find: func(*request) (remote, bool, error) { return rm("id-9", 2), true, nil }},
			wantPatches: 2, wantStatusID: "id-9",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var statusPatches atomic.Int32
			base := newFake(tc.obj)
			c := interceptor.NewClient(base, interceptor.Funcs{
				SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
					statusPatches.Add(1)
					return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
				},
			})
			var log calls
			e := tc.ext
			e.log = &log
			r := newReconciler(c, &e, &connector{log: &log}, nil)
			if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key}); err != nil {
				t.Fatal(err)
			}
			if got := statusPatches.Load(); got != tc.wantPatches {
				t.Errorf("status patches = %d, want %d", got, tc.wantPatches)
			}
			if got := stateOf(t, base).ID; got != tc.wantStatusID {
				t.Errorf("status.id = %q, want %q", got, tc.wantStatusID)
			}
		})
	}
}

// TestReconcileObservedGeneration: a new generation is recorded in the
// status and in every condition.
func TestReconcileObservedGeneration(t *testing.T) {
	ctx := context.Background()
	base := newFake(tenant(withFinalizer(), withID("id-1"), withConditions(metav1.Condition{
		Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonSynced, ObservedGeneration: 1,
		LastTransitionTime: metav1.Now(),
	}), func(t *v1.Tenant) { t.Status.ObservedGeneration = 1 }))
	var log calls
	r := newReconciler(base, &external{log: &log}, &connector{log: &log}, nil)
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(synced("id-1", 1), stateOf(t, base)); diff != "" {
		t.Errorf("object: -want +got:\n%s", diff)
	}
}

// TestCapabilities: the optional interfaces are found by type, once.
func TestCapabilities(t *testing.T) {
	full := &external{}
	type has struct{ Deleter, Finder, Adopter, Blocker, Replacer, Publisher, Poller bool }
	of := func(c capabilities[*v1.Tenant, remote, resolved]) has {
		return has{c.deleter != nil, c.finder != nil, c.adopter != nil, c.blocker != nil, c.replacer != nil, c.publisher != nil, c.poller != nil}
	}
	cases := map[string]struct {
		reason string
		ext    External[*v1.Tenant, remote, resolved]
		want   has
	}{
		"All":  {"a kind implementing every optional interface gets them all", full, has{true, true, true, true, true, true, true}},
		"None": {"a kind implementing External only gets none", bareExternal{full}, has{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := NewReconciler[*v1.Tenant, remote, resolved]("Tenant", nil, nil, nil, tc.ext, nil)
			if diff := cmp.Diff(tc.want, of(*r.capabilities())); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestBareExternal drives a kind without optional interfaces through the
// loop, so the calls go through the real capability check.
func TestBareExternal(t *testing.T) {
	ctx := context.Background()
	var log calls
	base := newFake(tenant(withFinalizer(), withID("id-1"), deleting()))
	rec := events.NewFakeRecorder(10)
	r := NewReconciler[*v1.Tenant, remote, resolved]("Tenant", base, rec, &connector{log: &log},
		bareExternal{&external{log: &log}}, func() *v1.Tenant { return &v1.Tenant{} })
	if _, err := r.Reconcile(ctx, reconcile.Request{NamespacedName: key}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string(nil), []string(log)); diff != "" {
		t.Errorf("calls: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Normal Released Stopped managing Tenant id-1 and left it as it is on the server"}, drain(rec)); diff != "" {
		t.Errorf("events: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(state{Gone: true}, stateOf(t, base)); diff != "" {
		t.Errorf("object: -want +got:\n%s", diff)
	}
}
