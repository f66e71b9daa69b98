package managed

import (
	"context"
	"errors"
	"net"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// Side effects at most once.
//
// Some requests do something that a repeat does again: an activation email
// is mailed twice if it is asked for twice. Whether such a request is due
// cannot be read from the server, and the cache may show the object from
// before the reconcile that sent it. So, as the create marker, the request
// is recorded on the object (an annotation) before it leaves, with a patch
// that the API server refuses unless the object read is its newest version:
// a reconcile that reads a lagging cache sends nothing and runs again from
// fresh state. What came of the request is recorded next:
//
//   - the server answered with success: Sent;
//   - the server certainly did not act (it answered 4xx, or no connection
//     was made): the record is put back as it was, so a later reconcile
//     sends;
//   - anything else (the answer was lost after the request was written, a
//     timeout, a 5xx, which a proxy or the server may give after acting):
//     Unconfirmed. It is never sent again on its own; a person asks for it
//     (the kind's resend annotation, which the record consumes).
//
// A record found at Sending (the process stopped, or the write of the
// outcome failed, after the request may have left) becomes Unconfirmed.

// Values of a once-request's record annotation.
const (
	OnceSending     = "Sending"
	OnceSent        = "Sent"
	OnceUnconfirmed = "Unconfirmed"
)

// Once is one request that must reach the server at most once, recorded in
// annotation Key of Object.
type Once struct {
	// Client writes Object's metadata.
	Client client.Client
	Object client.Object
	// Key is the record's annotation.
	Key string
	// Consumes is the annotation that asked for the request again; the
	// record removes it in the same write. Empty: none.
	Consumes string
}

// Send records the request, sends it and records its outcome: OnceSent or
// OnceUnconfirmed with a nil error, or the server's refusal with the record
// (and the request it consumed) put back as they were. A record the API
// server refuses sends nothing: errStale when Object is not the newest
// version (the loop runs again soon), errGone when it was deleted. The
// outcome's own write failing is returned as it is: the record then says
// Sending, which the next reconcile settles (Settle).
func (o Once) Send(ctx context.Context, send func(context.Context) error) (string, error) {
	a := o.Object.GetAnnotations()
	before, had := a[o.Key]
	ask, asked := a[o.Consumes]
	if err := o.patch(ctx, true, func(a map[string]string) {
		a[o.Key] = OnceSending
		if o.Consumes != "" {
			delete(a, o.Consumes)
		}
	}); err != nil {
		return "", err
	}
	err := send(ctx)
	switch {
	case err == nil:
		return OnceSent, o.patch(ctx, false, func(a map[string]string) { a[o.Key] = OnceSent })
	case Unsent(err):
		// Put back as it was; if that fails too, the record says Sending
		// and becomes Unconfirmed: never a second request by mistake.
		_ = o.patch(ctx, false, func(a map[string]string) {
			delete(a, o.Key)
			if had {
				a[o.Key] = before
			}
			if asked {
				a[o.Consumes] = ask
			}
		})
		return "", err
	}
	return OnceUnconfirmed, o.patch(ctx, false, func(a map[string]string) { a[o.Key] = OnceUnconfirmed })
}

// Settle turns a record left at OnceSending into OnceUnconfirmed, under the
// optimistic lock (a lagging cache: errStale); true when it did.
func (o Once) Settle(ctx context.Context) (bool, error) {
	if o.Object.GetAnnotations()[o.Key] != OnceSending {
		return false, nil
	}
	if err := o.patch(ctx, true, func(a map[string]string) { a[o.Key] = OnceUnconfirmed }); err != nil {
		return false, err
	}
	return true, nil
}

// patch changes Object's annotations with a merge patch, guarded by its
// resourceVersion when locked.
func (o Once) patch(ctx context.Context, locked bool, mutate func(map[string]string)) error {
	base := o.Object.DeepCopyObject().(client.Object)
	a := o.Object.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	mutate(a)
	o.Object.SetAnnotations(a)
	p := client.MergeFrom(base)
	if locked {
		p = client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})
	}
	err := o.Client.Patch(ctx, o.Object, p)
	if err != nil {
		o.Object.SetAnnotations(base.GetAnnotations())
	}
	switch {
	case locked && apierrors.IsConflict(err):
		return errStale
	case apierrors.IsNotFound(err):
		return errGone
	}
	return err
}

// Unsent says that err proves the server did not act on the request: it
// answered 4xx (a refusal; 429 and 401 are refused unseen), or no
// connection was made. A lost answer, a timeout, a 5xx (which a proxy gives
// after forwarding the request, and a server after it acted; the client
// does not repeat a POST after one either) or an error that says nothing of
// the kind does not prove it. An error may know better and say so itself: a
// method NotSent() bool that returns true (a call a client held back
// without sending it).
func Unsent(err error) bool {
	var ns interface{ NotSent() bool }
	if errors.As(err, &ns) && ns.NotSent() {
		return true
	}
	e, ok := accountserver.AsError(err)
	if !ok {
		return false
	}
	if s := e.StatusCode(); s >= 400 && s < 500 {
		return true
	}
	var op *net.OpError
	return e.StatusCode() == 0 && errors.As(err, &op) && op.Op == "dial"
}

// Requester is implemented by kinds that take one-shot requests by
// annotation (User: resend the activation email): setting one wakes the
// object, as a change of spec does.
type Requester interface {
	RequestAnnotations() []string
}

// requested passes updates that set one of ext's request annotations;
// nothing when ext takes none.
func requested(ext any) predicate.Predicate {
	rq, ok := ext.(Requester)
	keys := []string(nil)
	if ok {
		keys = rq.RequestAnnotations()
	}
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			for _, k := range keys {
				if v := e.ObjectNew.GetAnnotations()[k]; v != "" && v != e.ObjectOld.GetAnnotations()[k] {
					return true
				}
			}
			return false
		},
	}
}
