// Package managed is the one reconcile loop every remote kind shares: pause,
// connection and references, finalizer, deletion and management policies,
// import, crash-safe create and replacement, drift correction with
// version-guarded updates, conditions and events. Per-kind code (External
// and the optional interfaces in contract.go) only says how to talk to the
// account server about its object.
package managed

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/conditions"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// errStale asks for another reconcile because the cache was behind.
var errStale = errors.New("the object changed since it was read; reconciling again")

// errGone stops a reconcile whose object was deleted while it ran: nothing
// may be sent for it any more.
var errGone = errors.New("the object is gone")

// errCircuitOpen ends a reconcile that found its connection's circuit open
// before it called anything.
var errCircuitOpen = errors.New("the connection's circuit breaker is open")

// staleRequeue is how soon a reconcile that met a lagging cache runs again.
const staleRequeue = 200 * time.Millisecond

// maxStaleRetries bounds how often an update is re-read and retried when
// someone else wrote in between.
const maxStaleRetries = 3

// Reconciler is the generic loop for one kind.
type Reconciler[O Object, R Remote, X any] struct {
	// Kind names the kind in events and logs, e.g. "Tenant".
	Kind     string
	Client   client.Client
	Registry Connector
	Recorder events.EventRecorder
	External External[O, R, X]
	// New returns an empty object of the kind.
	New func() O
	// AfterCreate, when set, runs between a successful create and the write
	// of status.id. Tests use it to stop the manager at the worst moment.
	AfterCreate func(o O)

	capsOnce sync.Once
	caps     capabilities[O, R, X]

	// batches reads objects that only need verifying in batches; nil when
	// the kind cannot, or the manager polls (--drift-detection=poll).
	batches *batcher[R]
	// wakeups feeds the controller the objects the batcher and the remote
	// watch wake; stopped closes when the manager stops.
	wakeups chan event.GenericEvent
	stopped chan struct{}
	// list returns an empty list of the kind (Options.List); the one-owner
	// rule needs it.
	list func() client.ObjectList

	// waiters are the objects whose last reconcile found their connection
	// unusable, by connection. The connection's next event wakes them
	// whatever the cache says of their status: their Waiting status may not
	// be in the cache yet when the connection becomes Ready.
	waitersMu sync.Mutex
	waiters   map[connection.Key]map[types.NamespacedName]struct{}
	// held are the objects whose last reconcile found their connection's
	// circuit open, by connection: the connection's event that says its
	// server answers again releases them, at the connection's pace.
	held map[connection.Key]map[types.NamespacedName]struct{}

	// warned holds, by object UID, the failing reason last announced with
	// a Warning event (warnOnFailure).
	warned sync.Map
}

// NewReconciler is the loop for one kind with the manager's client, event
// recorder and connection registry.
func NewReconciler[O Object, R Remote, X any](kind string, c client.Client, recorder events.EventRecorder, registry Connector,
	ext External[O, R, X], newObject func() O) *Reconciler[O, R, X] {
	return &Reconciler[O, R, X]{Kind: kind, Client: c, Registry: registry, Recorder: recorder, External: ext, New: newObject}
}

// capabilities checks once which optional interfaces the kind implements.
func (r *Reconciler[O, R, X]) capabilities() *capabilities[O, R, X] {
	r.capsOnce.Do(func() { r.caps = capabilitiesOf(r.External) })
	return &r.caps
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler[O, R, X]) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	obj := r.New()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if obj.GetAnnotations()[v1.AnnotationPaused] == "true" {
		logf.FromContext(ctx).V(1).Info("paused")
		return reconcile.Result{}, nil
	}
	orig := obj.DeepCopyObject().(O)

	res, err := r.reconcile(ctx, obj)
	if errors.Is(err, errGone) {
		return reconcile.Result{}, nil
	}
	// Released: the finalizer is off (a failed patch leaves it on the
	// server, though no longer on obj: that is reported).
	released := err == nil && obj.GetDeletionTimestamp() != nil && !controllerutil.ContainsFinalizer(obj, v1.Finalizer)
	res, err = r.record(ctx, obj, res, err)

	if released {
		// Gone, or about to be: nothing to report.
		r.forgetWarned(obj)
		return res, err
	}
	r.warnOnFailure(orig, obj)
	if _, patchErr := conditions.PatchStatus(ctx, r.Client, orig, obj); patchErr != nil {
		return reconcile.Result{}, errors.Join(err, patchErr)
	}
	return res, err
}

// record turns the outcome of a reconcile into conditions and a result.
func (r *Reconciler[O, R, X]) record(ctx context.Context, obj O, res reconcile.Result, err error) (reconcile.Result, error) {
	st := obj.ManagedStatus()
	gen := obj.GetGeneration()
	if err == nil {
		if obj.GetDeletionTimestamp() == nil {
			reason := ReasonSynced
			msg := r.Kind + " matches the spec"
			if obj.Managed().ManagementPolicy == v1.ManagementObserveOnly {
				reason, msg = ReasonObserved, r.Kind+" mirrored from the server (ObserveOnly)"
			}
			st.ObservedGeneration = gen
			conditions.Ready(&st.Conditions, gen, reason, msg)
		}
		return res, nil
	}
	if errors.Is(err, errStale) {
		return reconcile.Result{RequeueAfter: staleRequeue}, nil
	}
	if errors.Is(err, errBatched) {
		// Nothing learnt yet: the batcher wakes the object with its answer.
		return reconcile.Result{}, nil
	}
	st.ObservedGeneration = gen
	if u, ok := asServerUnavailable(err); ok {
		// No error, so no backoff of its own: the object is held until
		// the circuit closes, and released then at the connection's pace.
		// The message is the same for every call and every reconcile of
		// the outage, so PatchStatus writes it once.
		conditions.Progressing(&st.Conditions, gen, ReasonServerUnavailable, u.message(r.Kind))
		r.hold(u.conn, client.ObjectKeyFromObject(obj))
		if u.client != nil && u.client.Available() {
			// Held first, then looked at: a closing after this look
			// releases the object, one before it does not.
			return reconcile.Result{RequeueAfter: conditions.Jitter(closedRecheck)}, nil
		}
		return reconcile.Result{RequeueAfter: conditions.Jitter(heldRecheck)}, nil
	}
	if w, ok := asWaiting(err); ok {
		conditions.Progressing(&st.Conditions, gen, w.Reason, w.Message)
		if w.RetryAfter > 0 {
			return reconcile.Result{RequeueAfter: conditions.Jitter(w.RetryAfter)}, nil
		}
		return reconcile.Result{}, nil
	}
	if s, ok := asStalled(err); ok {
		conditions.Stalled(&st.Conditions, gen, s.Reason, s.Message)
		return reconcile.Result{}, nil
	}
	if accountserver.IsInvalid(err) {
		conditions.Stalled(&st.Conditions, gen, ReasonRejected, serverMessage(err))
		return reconcile.Result{}, nil
	}
	if accountserver.IsForbidden(err) {
		conditions.Stalled(&st.Conditions, gen, ReasonForbidden, serverMessage(err))
		return reconcile.Result{}, nil
	}
	conditions.Progressing(&st.Conditions, gen, ReasonTransientError, err.Error())
	if d, ok := accountserver.RetryAfter(err); ok && d > 0 {
		logf.FromContext(ctx).Info("server asked to wait", "retryAfter", d.String())
		return reconcile.Result{RequeueAfter: d}, nil
	}
	return reconcile.Result{}, err
}

func (r *Reconciler[O, R, X]) reconcile(ctx context.Context, obj O) (_ reconcile.Result, err error) {
	deleting := obj.GetDeletionTimestamp() != nil
	if deleting && !controllerutil.ContainsFinalizer(obj, v1.Finalizer) {
		return reconcile.Result{}, nil
	}
	m := obj.Managed()
	observeOnly := m.ManagementPolicy == v1.ManagementObserveOnly
	if deleting && (observeOnly || m.DeletionPolicy == v1.DeletionOrphan) {
		// Nothing to do remotely, so no connection is needed either.
		return reconcile.Result{}, r.orphan(ctx, obj)
	}
	if deleting && neverCreated(obj) {
		// Nothing was made remotely (no ID, no create that may have gone
		// through): the finalizer goes without a connection, which may be
		// gone with its namespace.
		return reconcile.Result{}, r.release(ctx, obj)
	}

	if deleting && r.capabilities().deleter == nil && obj.GetAnnotations()[v1.AnnotationReplacing] == "" {
		// A kind that only releases its remote object on deletion needs no
		// connection for it (its connection may be gone with its namespace).
		return reconcile.Result{}, r.delete(ctx, &Request[O, X]{Object: obj})
	}

	owner, id, err := r.owner(ctx, obj)
	switch {
	case err != nil:
		return reconcile.Result{}, err
	case owner != nil && deleting:
		// The remote object is the owner's: this one goes without it.
		return reconcile.Result{}, r.release(ctx, obj)
	case owner != nil:
		return reconcile.Result{}, Stalled(ReasonAlreadyManaged, "%s %s already manages %s; this one takes over when that one no longer does", r.Kind, owner, id)
	}

	req, err := r.connect(ctx, obj)
	if err != nil {
		return reconcile.Result{}, err
	}
	// From here on every failure that says the server does not answer is
	// ServerUnavailable, whichever call met it.
	defer func() { err = serverUnavailable(req.Conn, err) }()
	if c := req.Conn.Client; c != nil && !c.Available() {
		// Every call would fail at once: none of the writes that come
		// before them (finalizer, create marker) is worth making. The
		// connection's probe, not an object's call, finds the server back.
		return reconcile.Result{}, &serverUnavailableError{conn: req.Conn.Key, client: c, err: errCircuitOpen}
	}
	if deleting {
		return reconcile.Result{}, r.delete(ctx, req)
	}
	if !observeOnly && !controllerutil.ContainsFinalizer(obj, v1.Finalizer) {
		if err := r.patchMeta(ctx, obj, func() { controllerutil.AddFinalizer(obj, v1.Finalizer) }); err != nil {
			return reconcile.Result{}, err
		}
	}
	if req.Resolved, err = r.External.Resolve(ctx, req); err != nil {
		return reconcile.Result{}, err
	}

	remote, err := r.observeOrCreate(ctx, req)
	if err != nil {
		return reconcile.Result{}, err
	}
	if !observeOnly {
		if remote, err = r.replaceIfNeeded(ctx, req, remote); err != nil {
			return reconcile.Result{}, err
		}
		if remote, err = r.update(ctx, req, remote); err != nil {
			return reconcile.Result{}, err
		}
	}
	obj.ManagedStatus().Version = remote.RemoteVersion()
	r.External.SetStatus(req, remote)
	caps := r.capabilities()
	if caps.publisher != nil {
		if err := caps.publisher.Publish(ctx, req, remote); err != nil {
			return reconcile.Result{}, err
		}
	}
	if caps.poller != nil {
		if d := caps.poller.PollAfter(req, remote); d > 0 && d < req.Conn.ResyncInterval {
			return reconcile.Result{RequeueAfter: d}, nil
		}
	}
	// The resync is the safety net behind the remote watch: it waits behind
	// any change a user made.
	return reconcile.Result{RequeueAfter: conditions.Jitter(req.Conn.ResyncInterval), Priority: ptr.To(handler.LowPriority)}, nil
}

func (r *Reconciler[O, R, X]) connect(ctx context.Context, obj O) (*Request[O, X], error) {
	ref, err := r.External.ConnectionRef(ctx, obj)
	if err != nil {
		return nil, err
	}
	c, err := r.Registry.Resolve(ctx, ref, obj.GetNamespace())
	if _, waiting := asWaiting(connectionError(err)); waiting {
		// Waiting for the connection: recorded first, then looked at
		// again. Either the connection is usable now, or its change is not
		// in the cache yet and the event that brings it finds this object
		// recorded.
		key := connection.KeyFor(ref, obj.GetNamespace())
		r.awaitConnection(key, client.ObjectKeyFromObject(obj))
		if c, err = r.Registry.Resolve(ctx, ref, obj.GetNamespace()); err == nil {
			r.stopWaiting(key, client.ObjectKeyFromObject(obj))
		}
	}
	if err != nil {
		return nil, connectionError(err)
	}
	return &Request[O, X]{Object: obj, Conn: c}, nil
}

// connectionError is how the loop reports err from resolving a
// connection: a connection that refuses the object for good (its
// namespace is not admitted, its spec is invalid) stalls it; one that
// cannot be used yet (not Ready, its Secret missing, the server down) makes
// it wait; any other error is returned as it is.
func connectionError(err error) error {
	reason, ok := connection.ReasonOf(err)
	switch {
	case !ok:
		return err
	case reason == connection.ReasonNamespaceNotAllowed || reason == connection.ReasonInvalidSpec:
		return Stalled(string(reason), "%s", err.Error())
	}
	return Waiting(ReasonWaitingForServer, "%s", err.Error())
}

// awaitConnection records that the object waits for connection key.
func (r *Reconciler[O, R, X]) awaitConnection(key connection.Key, obj types.NamespacedName) {
	r.waitersMu.Lock()
	defer r.waitersMu.Unlock()
	if r.waiters == nil {
		r.waiters = map[connection.Key]map[types.NamespacedName]struct{}{}
	}
	if r.waiters[key] == nil {
		r.waiters[key] = map[types.NamespacedName]struct{}{}
	}
	r.waiters[key][obj] = struct{}{}
}

// stopWaiting drops the record of one object that found its connection
// usable after all.
func (r *Reconciler[O, R, X]) stopWaiting(key connection.Key, obj types.NamespacedName) {
	r.waitersMu.Lock()
	defer r.waitersMu.Unlock()
	delete(r.waiters[key], obj)
	if len(r.waiters[key]) == 0 {
		delete(r.waiters, key)
	}
}

// connectionWaiters takes the objects recorded as waiting for connection
// key: a woken object that still finds it unusable is recorded again.
func (r *Reconciler[O, R, X]) connectionWaiters(key connection.Key) []reconcile.Request {
	r.waitersMu.Lock()
	defer r.waitersMu.Unlock()
	var reqs []reconcile.Request
	for obj := range r.waiters[key] {
		reqs = append(reqs, reconcile.Request{NamespacedName: obj})
	}
	delete(r.waiters, key)
	return reqs
}

// hold records that the object waits for connection key's circuit to
// close.
func (r *Reconciler[O, R, X]) hold(key connection.Key, obj types.NamespacedName) {
	r.waitersMu.Lock()
	defer r.waitersMu.Unlock()
	if r.held == nil {
		r.held = map[connection.Key]map[types.NamespacedName]struct{}{}
	}
	if r.held[key] == nil {
		r.held[key] = map[types.NamespacedName]struct{}{}
	}
	r.held[key][obj] = struct{}{}
}

// heldBy takes the objects held by connection key's open circuit; one that
// finds it still open when woken is held again.
func (r *Reconciler[O, R, X]) heldBy(key connection.Key) []reconcile.Request {
	r.waitersMu.Lock()
	defer r.waitersMu.Unlock()
	var reqs []reconcile.Request
	for obj := range r.held[key] {
		reqs = append(reqs, reconcile.Request{NamespacedName: obj})
	}
	delete(r.held, key)
	return reqs
}

// observeOrCreate finds the remote object: by status.id, by importID, by
// natural key after an interrupted create, or by creating it.
func (r *Reconciler[O, R, X]) observeOrCreate(ctx context.Context, req *Request[O, X]) (R, error) {
	var zero R
	obj := req.Object
	st, m := obj.ManagedStatus(), obj.Managed()

	if st.ID != "" {
		verify := verifying(obj)
		if createFinished(obj) {
			// The ID was recorded and the process stopped before the marker
			// went: the create is done. Drop the marker now, or the object
			// looks forever like one being created (dependants wait for it).
			if err := r.clearPending(ctx, obj); err != nil {
				return zero, err
			}
		}
		remote, err := r.observe(ctx, req, st.ID, verify)
		if accountserver.IsNotFound(err) {
			return zero, Stalled(ReasonRemoteDeleted, "%s %s was deleted on the server outside this operator; restore it there, or delete this object", r.Kind, st.ID)
		}
		return remote, err
	}

	if m.ImportID != "" {
		// Adopting is a first look, and many objects are often imported at
		// once (an export applied): batched too.
		remote, err := r.observe(ctx, req, m.ImportID, true)
		switch {
		case accountserver.IsNotFound(err):
			return zero, Stalled(ReasonImportNotFound, "spec.importID: %s %s does not exist on the server", r.Kind, m.ImportID)
		case accountserver.IsForbidden(err):
			return zero, Stalled(ReasonOutsideScope, "spec.importID: %s %s lies outside the subtree of tenant %s that the connection acts in", r.Kind, m.ImportID, req.Conn.TenantID)
		case err != nil:
			return zero, err
		}
		if err := r.adopt(ctx, req, remote, "Adopt", "Adopted %s %s (importID)"); err != nil {
			return zero, err
		}
		return remote, nil
	}
	if m.ManagementPolicy == v1.ManagementObserveOnly {
		return zero, Stalled(ReasonInvalidSpec, "ObserveOnly needs importID")
	}
	if remote, found, err := r.recover(ctx, req, ""); err != nil || found {
		return remote, err
	}
	return r.create(ctx, req)
}

// observe reads the remote object with that ID: through the batcher when
// batchable (the reconcile only verifies an object already handled at its
// generation, or adopts one), else directly.
func (r *Reconciler[O, R, X]) observe(ctx context.Context, req *Request[O, X], id string, batchable bool) (R, error) {
	var zero R
	b := r.capabilities().batcher
	if r.batches == nil || b == nil || !batchable {
		return r.External.Observe(ctx, req, id)
	}
	res, ok := r.batches.take(req.Conn, id)
	switch {
	case !ok:
		r.batches.want(req.Conn, id, client.ObjectKeyFromObject(req.Object))
		return zero, errBatched
	case res.err != nil && refusal(res.err):
		// One ID the server refuses (out of the connection's reach, say)
		// fails the batch it is in: each of its objects asks alone, and
		// gets its own answer.
		return r.External.Observe(ctx, req, id)
	case res.err != nil:
		return zero, res.err
	case !res.found:
		// Not in the answer: deleted, or out of reach. The object's own
		// read says which, in the server's words.
		return r.External.Observe(ctx, req, id)
	}
	return b.Complete(ctx, req, res.remote)
}

// refusal says the server refused a request for what it asked, not for
// its own state: asking again the same way gets the same answer.
func refusal(err error) bool {
	return accountserver.IsForbidden(err) || accountserver.IsNotFound(err) || accountserver.IsInvalid(err)
}

// verifying says that a reconcile of obj has nothing to apply that the last
// one did not: its spec was handled (successfully or not) at this
// generation, and no create or replacement is under way.
func verifying(obj Object) bool {
	a := obj.GetAnnotations()
	_, pending := a[v1.AnnotationCreatePending]
	return obj.GetDeletionTimestamp() == nil && !pending && a[v1.AnnotationReplacing] == "" &&
		obj.ManagedStatus().ObservedGeneration == obj.GetGeneration()
}

// forgetBatched drops any batched answer for id: the operator is writing to
// it, or the remote watch saw it change.
func (r *Reconciler[O, R, X]) forgetBatched(id string) {
	if r.batches != nil {
		r.batches.forget(id)
	}
}

// recover looks for the remote object an interrupted create may have made,
// when the create marker says one may have gone through, and adopts it.
// skip is an ID that does not count (the object being replaced).
func (r *Reconciler[O, R, X]) recover(ctx context.Context, req *Request[O, X], skip string) (R, bool, error) {
	var zero R
	finder := r.capabilities().finder
	if _, pending := req.Object.GetAnnotations()[v1.AnnotationCreatePending]; !pending || finder == nil {
		return zero, false, nil
	}
	remote, found, err := finder.Find(ctx, req)
	if err != nil || !found || remote.RemoteID() == skip {
		return zero, false, err
	}
	if err := r.adopt(ctx, req, remote, "Create", "Found %s %s that an interrupted create had made, and adopted it"); err != nil {
		return zero, false, err
	}
	return remote, true, nil
}

// adopt checks that the kind may manage remote and records its ID.
func (r *Reconciler[O, R, X]) adopt(ctx context.Context, req *Request[O, X], remote R, action, format string) error {
	if a := r.capabilities().adopter; a != nil {
		if err := a.CanAdopt(ctx, req, remote); err != nil {
			return err
		}
	}
	if _, pending := req.Object.GetAnnotations()[v1.AnnotationCreatePending]; pending || req.Object.Managed().ImportID != remote.RemoteID() {
		// Found after an interrupted create: the ID is written, and only
		// then the marker dropped, before anything else.
		if err := r.persistID(ctx, req.Object, remote); err != nil {
			return err
		}
	} else {
		// Named by importID: the ID goes with the status this reconcile
		// writes at its end. Should that write be lost, importID names the
		// same object again; one write less per adopted object.
		st := req.Object.ManagedStatus()
		st.ID, st.Version = remote.RemoteID(), remote.RemoteVersion()
	}
	logf.FromContext(ctx).Info("adopted", "id", remote.RemoteID(), "action", action)
	r.event(req.Object, corev1.EventTypeNormal, "Adopted", action, format, r.Kind, remote.RemoteID())
	return nil
}

// create makes the remote object crash-safely: the pending marker is on the
// object before the request leaves, and status.id is written before the
// marker goes. The marker is written with an optimistic lock, so a cache
// that lags behind an earlier create (or its status.id) is refused by the
// API server itself; an object deleted meanwhile gets no request at all.
func (r *Reconciler[O, R, X]) create(ctx context.Context, req *Request[O, X]) (R, error) {
	var zero R
	obj := req.Object
	if err := r.markPending(ctx, obj); err != nil {
		return zero, err
	}
	remote, err := r.External.Create(ctx, req)
	if err != nil {
		if accountserver.IsConflict(err) {
			// The server refused: nothing was made, so the marker can go.
			_ = r.clearPending(ctx, obj)
			return zero, Stalled(ReasonAlreadyExists, "%s; set importID to adopt the existing object", serverMessage(err))
		}
		_, stalled := asStalled(err)
		_, waiting := asWaiting(err)
		if stalled || waiting || accountserver.IsInvalid(err) || accountserver.IsForbidden(err) {
			// A refusal: nothing was made.
			_ = r.clearPending(ctx, obj)
		}
		// Otherwise the request may have reached the server: keep the
		// marker, so the next attempt looks before it creates.
		return zero, err
	}
	if r.AfterCreate != nil {
		r.AfterCreate(obj)
	}
	if err := r.persistID(ctx, obj, remote); err != nil {
		return zero, err
	}
	logf.FromContext(ctx).Info("created", "id", remote.RemoteID())
	r.event(obj, corev1.EventTypeNormal, "Created", "Create", "Created %s %s", r.Kind, remote.RemoteID())
	return remote, nil
}

// markPending writes the create marker (a fresh timestamp on every
// attempt) under an optimistic lock.
func (r *Reconciler[O, R, X]) markPending(ctx context.Context, obj O) error {
	return r.lockedAnnotate(ctx, obj, v1.AnnotationCreatePending, time.Now().UTC().Format(time.RFC3339Nano))
}

// lockedAnnotate sets an annotation with a patch that the API server
// refuses when obj is not its newest version (errStale), or when obj is
// gone (errGone).
func (r *Reconciler[O, R, X]) lockedAnnotate(ctx context.Context, obj O, key, value string) error {
	base := obj.DeepCopyObject().(O)
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[key] = value
	obj.SetAnnotations(a)
	err := r.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	switch {
	case apierrors.IsConflict(err):
		return errStale
	case apierrors.IsNotFound(err):
		return errGone
	}
	return err
}

// persistID writes status.id at once (the crash-safety hinge), then drops
// the pending marker.
func (r *Reconciler[O, R, X]) persistID(ctx context.Context, obj O, remote R) error {
	base := obj.DeepCopyObject().(O)
	st := obj.ManagedStatus()
	st.ID, st.Version = remote.RemoteID(), remote.RemoteVersion()
	if err := r.Client.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return err
	}
	return r.clearPending(ctx, obj)
}

func (r *Reconciler[O, R, X]) clearPending(ctx context.Context, obj O) error {
	return r.dropAnnotation(ctx, obj, v1.AnnotationCreatePending)
}

func (r *Reconciler[O, R, X]) dropAnnotation(ctx context.Context, obj O, key string) error {
	if _, ok := obj.GetAnnotations()[key]; !ok {
		return nil
	}
	return r.patchMeta(ctx, obj, func() {
		a := obj.GetAnnotations()
		delete(a, key)
		obj.SetAnnotations(a)
	})
}

// update makes the remote object match the spec; a stale version means
// someone wrote in between: read again and retry, do not back off.
func (r *Reconciler[O, R, X]) update(ctx context.Context, req *Request[O, X], remote R) (R, error) {
	obj := req.Object
	for attempt := 0; ; attempt++ {
		diff, err := r.External.Diff(req, remote)
		if err != nil || len(diff) == 0 {
			return remote, err
		}
		r.forgetBatched(remote.RemoteID())
		updated, err := r.External.Update(ctx, req, remote)
		if err == nil {
			logf.FromContext(ctx).Info("updated", "id", updated.RemoteID(), "fields", strings.Join(diff, ","))
			r.event(obj, corev1.EventTypeNormal, "Updated", "Update", "Updated %s: %s", r.Kind, strings.Join(diff, ", "))
			return updated, nil
		}
		if !accountserver.IsStaleVersion(err) || attempt >= maxStaleRetries {
			return remote, err
		}
		if remote, err = r.External.Observe(ctx, req, remote.RemoteID()); err != nil {
			return remote, err
		}
	}
}

// createFinished says that obj carries a create marker although its create
// is done: status.id is written and is not the object a replacement is
// making a successor for.
func createFinished(obj Object) bool {
	a := obj.GetAnnotations()
	_, pending := a[v1.AnnotationCreatePending]
	id := obj.ManagedStatus().ID
	return pending && id != "" && a[v1.AnnotationReplacing] != id
}

// neverCreated says that obj has no remote object: no ID, no create
// marker, no replacement under way.
func neverCreated(obj Object) bool {
	a := obj.GetAnnotations()
	_, pending := a[v1.AnnotationCreatePending]
	return obj.ManagedStatus().ID == "" && !pending && a[v1.AnnotationReplacing] == ""
}

// blocked fails with DeletionBlocked while objects of the group still
// depend on obj.
func (r *Reconciler[O, R, X]) blocked(ctx context.Context, obj O) error {
	b := r.capabilities().blocker
	if b == nil {
		return nil
	}
	deps, err := b.Dependants(ctx, obj)
	if err != nil {
		return err
	}
	if len(deps) > 0 {
		return Waiting(ReasonDeletionBlocked, "deletion waits for objects that still refer to this %s: %s", r.Kind, strings.Join(deps, ", "))
	}
	return nil
}

// release drops the finalizer of an object with nothing remote, once
// nothing depends on it.
func (r *Reconciler[O, R, X]) release(ctx context.Context, obj O) error {
	if err := r.blocked(ctx, obj); err != nil {
		return err
	}
	return r.patchMeta(ctx, obj, func() { controllerutil.RemoveFinalizer(obj, v1.Finalizer) })
}

func (r *Reconciler[O, R, X]) delete(ctx context.Context, req *Request[O, X]) error {
	obj := req.Object
	if err := r.blocked(ctx, obj); err != nil {
		return err
	}
	st := obj.ManagedStatus()
	id := st.ID
	old := obj.GetAnnotations()[v1.AnnotationReplacing]
	if _, pending := obj.GetAnnotations()[v1.AnnotationCreatePending]; pending && (id == "" || id == old) {
		if f := r.capabilities().finder; f != nil {
			// An interrupted create (or the create of an interrupted
			// replacement, whose new ID is not recorded yet) may have made
			// the object: find it, so it goes too.
			var err error
			if req.Resolved, err = r.External.Resolve(ctx, req); err != nil {
				return err
			}
			remote, found, err := f.Find(ctx, req)
			if err != nil {
				return err
			}
			if found {
				id = remote.RemoteID()
			}
		}
	}
	if old != "" && old != id {
		if err := r.deleteRemote(ctx, req, old); err != nil {
			return err
		}
	}
	if id != "" {
		conditions.Progressing(&st.Conditions, obj.GetGeneration(), ReasonDeleting, "deleting "+r.Kind+" "+id)
		if err := r.deleteRemote(ctx, req, id); err != nil {
			return err
		}
	}
	return r.patchMeta(ctx, obj, func() { controllerutil.RemoveFinalizer(obj, v1.Finalizer) })
}

// replaceIfNeeded finishes an interrupted replacement, or starts one when
// the kind says the remote object cannot take the spec's changes in place.
func (r *Reconciler[O, R, X]) replaceIfNeeded(ctx context.Context, req *Request[O, X], remote R) (R, error) {
	obj := req.Object
	id := remote.RemoteID()
	replacing := obj.GetAnnotations()[v1.AnnotationReplacing]
	if replacing != "" && replacing != id {
		// The new object is recorded; only the old one is left to delete.
		return remote, r.retire(ctx, req, replacing)
	}
	rep := r.capabilities().replacer
	if rep == nil {
		return remote, nil
	}
	why := rep.MustReplace(req, remote)
	if len(why) == 0 && replacing != id {
		return remote, nil
	}
	return r.replace(ctx, req, remote, why)
}

// replace makes a new remote object for one the server cannot change in
// place, records it, and deletes the old one. Each step is recorded on the
// object first, so a crash at any point is finished by the next reconcile:
// the old ID (annotation replacing) before anything is created, the create
// marker before the create.
func (r *Reconciler[O, R, X]) replace(ctx context.Context, req *Request[O, X], old R, why []string) (R, error) {
	var zero R
	obj := req.Object
	oldID := old.RemoteID()
	if obj.GetAnnotations()[v1.AnnotationReplacing] != oldID {
		if err := r.lockedAnnotate(ctx, obj, v1.AnnotationReplacing, oldID); err != nil {
			return zero, err
		}
	}
	fresh, found, err := r.recover(ctx, req, oldID)
	if err != nil {
		return zero, err
	}
	if !found {
		if fresh, err = r.create(ctx, req); err != nil {
			return zero, err
		}
	}
	reason := "the spec"
	if len(why) > 0 {
		reason = strings.Join(why, ", ")
	}
	logf.FromContext(ctx).Info("replaced", "id", fresh.RemoteID(), "previous", oldID, "why", reason)
	r.event(obj, corev1.EventTypeNormal, "Replaced", "Replace", "Replaced %s %s with %s: %s", r.Kind, oldID, fresh.RemoteID(), reason)
	return fresh, r.retire(ctx, req, oldID)
}

// retire deletes the replaced remote object and then forgets it.
func (r *Reconciler[O, R, X]) retire(ctx context.Context, req *Request[O, X], oldID string) error {
	if err := r.deleteRemote(ctx, req, oldID); err != nil {
		return err
	}
	return r.dropAnnotation(ctx, req.Object, v1.AnnotationReplacing)
}

// deleteRemote deletes the remote object with that ID; one already gone is
// fine. A kind without a Deleter releases it instead.
func (r *Reconciler[O, R, X]) deleteRemote(ctx context.Context, req *Request[O, X], id string) error {
	deleter := r.capabilities().deleter
	if deleter == nil {
		logf.FromContext(ctx).Info("released", "id", id)
		msg := "Stopped managing " + r.Kind + " " + id + " and left it as it is on the server"
		if rel := r.capabilities().releaser; rel != nil {
			msg = rel.ReleaseMessage(id)
		}
		r.event(req.Object, corev1.EventTypeNormal, "Released", "Delete", "%s", msg)
		return nil
	}
	remote, err := r.External.Observe(ctx, req, id)
	if accountserver.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	r.forgetBatched(id)
	if err := deleter.Delete(ctx, req, remote); err != nil && !accountserver.IsNotFound(err) {
		return err
	}
	logf.FromContext(ctx).Info("deleted", "id", id)
	r.event(req.Object, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted %s %s", r.Kind, id)
	return nil
}

func (r *Reconciler[O, R, X]) orphan(ctx context.Context, obj O) error {
	if id := obj.ManagedStatus().ID; id != "" && obj.Managed().ManagementPolicy != v1.ManagementObserveOnly {
		r.event(obj, corev1.EventTypeNormal, "Orphaned", "Delete", "Left %s %s on the server (deletionPolicy Orphan)", r.Kind, id)
	}
	return r.patchMeta(ctx, obj, func() { controllerutil.RemoveFinalizer(obj, v1.Finalizer) })
}

// patchMeta applies mutate to obj's metadata and sends it as a merge patch.
// An object deleted meanwhile is not an error.
func (r *Reconciler[O, R, X]) patchMeta(ctx context.Context, obj O, mutate func()) error {
	base := obj.DeepCopyObject().(O)
	mutate()
	if err := r.Client.Patch(ctx, obj, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

func (r *Reconciler[O, R, X]) event(obj O, eventType, reason, action, format string, a ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, action, format, a...)
	}
}

// serverMessage is the account server's own words for a refusal.
func serverMessage(err error) string {
	if e, ok := accountserver.AsError(err); ok && e.Message() != "" {
		msg := e.Message()
		if e.Code() != "" {
			msg += " (code " + e.Code() + ")"
		}
		return msg
	}
	return err.Error()
}
