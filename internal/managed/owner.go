package managed

import (
	"context"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// One owner per remote object. In the whole cluster, at most one object of
// a kind manages a given remote ID, whether it records it in status.id or
// names it in importID. The owner is the object that records it in
// status.id; between two that both do (a race of two imports) or that
// both only name it, the older one (creation time, then namespace and
// name). Every other object is Stalled (AlreadyManaged, naming the owner)
// before it sends any request, and takes over by itself when the owner
// goes: deleted (with deletionPolicy Orphan, or ObserveOnly) or no longer
// naming the ID.

// ReasonAlreadyManaged stalls an object whose remote object another object
// manages.
const ReasonAlreadyManaged = "AlreadyManaged"

// Sharer is a kind whose remote object several objects manage at once, each
// its own part of it (OfferingItemQuota: the items of one tenant). The
// one-owner rule does not apply to it; it keeps its own claims.
type Sharer interface {
	SharesRemote()
}

// claims are the remote IDs o claims.
func claims(o Object) []string {
	id, imp := o.ManagedStatus().ID, o.Managed().ImportID
	switch {
	case id == "" && imp == "":
		return nil
	case id == "" || id == imp:
		return []string{imp}
	case imp == "":
		return []string{id}
	}
	return []string{id, imp}
}

// claimed is the remote ID o claims first: the one it records, else the
// one it imports.
func claimed(o Object) string {
	if id := o.ManagedStatus().ID; id != "" {
		return id
	}
	return o.Managed().ImportID
}

// precedes says whether a owns id before b: recording it beats naming it,
// then the older object wins, then the namespace and name.
func precedes(a, b Object, id string) bool {
	ha, hb := a.ManagedStatus().ID == id, b.ManagedStatus().ID == id
	if ha != hb {
		return ha
	}
	return Older(a, b)
}

// Older says whether a was created before b: by creation time, then (in
// the same second) by namespace and name. It decides which of two objects
// that want the same thing keeps it.
func Older(a, b client.Object) bool {
	ta, tb := a.GetCreationTimestamp(), b.GetCreationTimestamp()
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	if a.GetNamespace() != b.GetNamespace() {
		return a.GetNamespace() < b.GetNamespace()
	}
	return a.GetName() < b.GetName()
}

// owner returns the key of the object that owns the remote object obj
// claims, when that is another object; nil when obj owns it, claims
// nothing, or the kind shares its remote objects (r.list is then unset).
func (r *Reconciler[O, R, X]) owner(ctx context.Context, obj O) (*types.NamespacedName, string, error) {
	id := claimed(obj)
	if id == "" || r.list == nil {
		return nil, id, nil
	}
	list := r.list()
	// Read only: the cache's own objects, no copies.
	if err := r.Client.List(ctx, list, client.MatchingFields{IDIndex: id}, client.UnsafeDisableDeepCopy); err != nil {
		return nil, id, err
	}
	self := client.ObjectKeyFromObject(obj)
	var best Object = obj
	_ = meta.EachListItem(list, func(item runtimeObject) error {
		o := item.(O)
		if client.ObjectKeyFromObject(o) != self && claimed(o) == id && precedes(o, best, id) {
			best = o
		}
		return nil
	})
	if key := client.ObjectKeyFromObject(best); key != self {
		return &key, id, nil
	}
	return nil, id, nil
}

// claimants wakes, when an object leaves or changes its claims, the objects
// of other namespaces and names that claim the same IDs and are not Ready:
// one of them may own them now.
func (r *Reconciler[O, R, X]) claimants(opts Options[O]) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
		var reqs []reconcile.Request
		for _, id := range claims(o.(O)) {
			for _, req := range r.waiting(ctx, opts, client.MatchingFields{IDIndex: id}) {
				if req.NamespacedName != client.ObjectKeyFromObject(o) {
					reqs = append(reqs, req)
				}
			}
		}
		return reqs
	})
}

// claimsChanged passes the events after which another object may own what
// this one claimed: its deletion, and a change of its claims.
func claimsChanged[O Object]() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return true },
		UpdateFunc: func(e event.UpdateEvent) bool {
			o, okO := e.ObjectOld.(O)
			n, okN := e.ObjectNew.(O)
			return okO && okN && !slices.Equal(claims(o), claims(n))
		},
	}
}
