/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package managed is the one reconcile loop every remote kind shares: pause,
// connection and references, finalizer, deletion and management policies,
// import, crash-safe create, drift correction with version-guarded updates,
// conditions and events. Per-kind code (External) only says how to talk to
// the account server about its object.
package managed

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// Object is a Kubernetes object that mirrors one remote object.
type Object interface {
	client.Object
	Managed() *v1.ManagedSpec
	ManagedStatus() *v1.ManagedStatus
}

// Remote is a remote object as the per-kind code read it.
type Remote interface {
	RemoteID() string
	RemoteVersion() int64
}

// Request is what one reconcile knows of an object.
type Request[O Object] struct {
	Object O
	Conn   *connection.Connection
	// Extra is the per-kind code's own: what Resolve found (remote IDs of
	// references, say), for the calls that follow in the same reconcile.
	Extra any
}

// External is how one kind talks to the account server. Errors may be
// WaitingError, StalledError, or errors of the accountserver package.
type External[O Object, R Remote] interface {
	// ConnectionRef says which connection the object lives on (its own
	// accountServerRef, or the one of the object it names).
	ConnectionRef(ctx context.Context, o O) (v1.AccountServerReference, error)
	// Resolve turns references into remote IDs and checks what must hold
	// before any request is sent.
	Resolve(ctx context.Context, req *Request[O]) error
	// Observe reads the remote object with the given ID.
	Observe(ctx context.Context, req *Request[O], id string) (R, error)
	// Find looks the remote object up by its natural key, to recover a
	// create whose answer was lost. found is false when there is none.
	Find(ctx context.Context, req *Request[O]) (remote R, found bool, err error)
	// CanAdopt checks that an existing remote object may be managed by this
	// object (importID or recovery).
	CanAdopt(ctx context.Context, req *Request[O], remote R) error
	// Create creates the remote object.
	Create(ctx context.Context, req *Request[O]) (R, error)
	// Diff names the fields the spec sets that differ on the server.
	Diff(req *Request[O], remote R) ([]string, error)
	// Update makes the remote object match the spec, guarded by its version.
	// A kind whose object cannot be repaired in place may return another
	// remote object that replaces it; the loop records the new ID.
	Update(ctx context.Context, req *Request[O], remote R) (R, error)
	// Delete deletes the remote object.
	Delete(ctx context.Context, req *Request[O], remote R) error
	// Dependants names the objects in the namespace that still need this
	// one; deletion waits for them.
	Dependants(ctx context.Context, o O) ([]string, error)
	// SetStatus writes the kind's own status fields from the remote object.
	SetStatus(req *Request[O], remote R)
}

// errStale asks for another reconcile because the cache was behind.
var errStale = errors.New("the object changed since it was read; reconciling again")

// staleRequeue is how soon a reconcile that met a lagging cache runs again.
const staleRequeue = 200 * time.Millisecond

// maxStaleRetries bounds how often an update is re-read and retried when
// someone else wrote in between.
const maxStaleRetries = 3

// Reconciler is the generic loop for one kind.
type Reconciler[O Object, R Remote] struct {
	// Kind names the kind in events and logs, e.g. "Tenant".
	Kind   string
	Client client.Client
	// APIReader reads around the cache. Before creating, the object is read
	// fresh: a cache that lags behind the create marker or status.id would
	// otherwise make the loop adopt a stranger's tenant or create a twin.
	APIReader client.Reader
	Registry  *connection.Registry
	Recorder  events.EventRecorder
	External  External[O, R]
	// New returns an empty object of the kind.
	New func() O
	// AfterCreate, when set, runs between a successful create and the write
	// of status.id. Tests use it to stop the manager at the worst moment.
	AfterCreate func(o O)
}

// Reconcile implements reconcile.Reconciler.
func (r *Reconciler[O, R]) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
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
	res, err = r.record(ctx, obj, res, err)

	if obj.GetDeletionTimestamp() != nil && !controllerutil.ContainsFinalizer(obj, v1.Finalizer) {
		// Gone, or about to be: nothing to report.
		return res, err
	}
	if patchErr := r.patchStatus(ctx, orig, obj); patchErr != nil {
		return reconcile.Result{}, errors.Join(err, patchErr)
	}
	return res, err
}

// record turns the outcome of a reconcile into conditions and a result.
func (r *Reconciler[O, R]) record(ctx context.Context, obj O, res reconcile.Result, err error) (reconcile.Result, error) {
	st := obj.ManagedStatus()
	gen := obj.GetGeneration()
	if err == nil {
		if obj.GetDeletionTimestamp() == nil {
			reason := ReasonSynced
			msg := r.Kind + " matches the spec"
			if obj.Managed().ManagementPolicy == v1.ManagementObserveOnly {
				reason, msg = ReasonObserved, r.Kind+" mirrored from the server (ObserveOnly)"
			}
			setReady(st, gen, reason, msg)
		}
		return res, nil
	}
	if errors.Is(err, errStale) {
		return reconcile.Result{RequeueAfter: staleRequeue}, nil
	}
	if w, ok := asWaiting(err); ok {
		setProgressing(st, gen, w.Reason, w.Message)
		if w.RetryAfter > 0 {
			return reconcile.Result{RequeueAfter: jitter(w.RetryAfter)}, nil
		}
		return reconcile.Result{}, nil
	}
	if s, ok := asStalled(err); ok {
		setStalled(st, gen, s.Reason, s.Message)
		return reconcile.Result{}, nil
	}
	if accountserver.IsInvalid(err) {
		setStalled(st, gen, ReasonRejected, serverMessage(err))
		return reconcile.Result{}, nil
	}
	if accountserver.IsForbidden(err) {
		setStalled(st, gen, ReasonForbidden, serverMessage(err))
		return reconcile.Result{}, nil
	}
	setProgressing(st, gen, ReasonTransientError, err.Error())
	if d, ok := accountserver.RetryAfter(err); ok && d > 0 {
		logf.FromContext(ctx).Info("server asked to wait", "retryAfter", d.String())
		return reconcile.Result{RequeueAfter: d}, nil
	}
	return reconcile.Result{}, err
}

func (r *Reconciler[O, R]) reconcile(ctx context.Context, obj O) (reconcile.Result, error) {
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

	req, err := r.connect(ctx, obj)
	if err != nil {
		return reconcile.Result{}, err
	}
	if deleting {
		return reconcile.Result{}, r.delete(ctx, req)
	}
	if !observeOnly && !controllerutil.ContainsFinalizer(obj, v1.Finalizer) {
		if err := r.patchMeta(ctx, obj, func() { controllerutil.AddFinalizer(obj, v1.Finalizer) }); err != nil {
			return reconcile.Result{}, err
		}
	}
	if err := r.External.Resolve(ctx, req); err != nil {
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
	st := obj.ManagedStatus()
	if remote.RemoteID() != st.ID {
		// The kind replaced the remote object (one that cannot be repaired
		// in place, like an API client whose secret is lost): record the
		// new one at once, as after a create.
		if err := r.persistID(ctx, obj, remote); err != nil {
			return reconcile.Result{}, err
		}
	}
	st.Version = remote.RemoteVersion()
	r.External.SetStatus(req, remote)
	if p, ok := r.External.(Publisher[O, R]); ok {
		if err := p.Publish(ctx, req, remote); err != nil {
			return reconcile.Result{}, err
		}
	}
	after := jitter(req.Conn.ResyncInterval)
	if p, ok := r.External.(Poller[O, R]); ok {
		if d := p.PollAfter(req, remote); d > 0 && d < after {
			after = d
		}
	}
	return reconcile.Result{RequeueAfter: after}, nil
}

func (r *Reconciler[O, R]) connect(ctx context.Context, obj O) (*Request[O], error) {
	ref, err := r.External.ConnectionRef(ctx, obj)
	if err != nil {
		return nil, err
	}
	c, err := r.Registry.Resolve(ctx, ref, obj.GetNamespace())
	if err != nil {
		if reason, ok := connection.ReasonOf(err); ok {
			switch reason {
			case connection.ReasonNamespaceNotAllowed, connection.ReasonInvalidSpec:
				return nil, Stalled(string(reason), "%s", err.Error())
			default:
				return nil, Waiting(ReasonWaitingForServer, "%s", err.Error())
			}
		}
		return nil, err
	}
	return &Request[O]{Object: obj, Conn: c}, nil
}

// observeOrCreate finds the remote object: by status.id, by importID, by
// natural key after an interrupted create, or by creating it.
func (r *Reconciler[O, R]) observeOrCreate(ctx context.Context, req *Request[O]) (R, error) {
	var zero R
	obj := req.Object
	st, m := obj.ManagedStatus(), obj.Managed()
	log := logf.FromContext(ctx)

	if st.ID != "" {
		remote, err := r.External.Observe(ctx, req, st.ID)
		if accountserver.IsNotFound(err) {
			return zero, Stalled(ReasonRemoteDeleted, "%s %s was deleted on the server outside this operator; restore it there, or delete this object", r.Kind, st.ID)
		}
		return remote, err
	}

	if m.ImportID != "" {
		remote, err := r.External.Observe(ctx, req, m.ImportID)
		switch {
		case accountserver.IsNotFound(err):
			return zero, Stalled(ReasonImportNotFound, "importID %s: no such %s on the server", m.ImportID, r.Kind)
		case accountserver.IsForbidden(err):
			return zero, Stalled(ReasonOutsideScope, "importID %s lies outside the subtree of tenant %s that the connection acts in", m.ImportID, req.Conn.TenantID)
		case err != nil:
			return zero, err
		}
		if err := r.External.CanAdopt(ctx, req, remote); err != nil {
			return zero, err
		}
		if err := r.persistID(ctx, obj, remote); err != nil {
			return zero, err
		}
		log.Info("adopted", "id", remote.RemoteID())
		r.event(obj, corev1.EventTypeNormal, "Adopted", "Adopt", "Adopted %s %s (importID)", r.Kind, remote.RemoteID())
		return remote, nil
	}
	if m.ManagementPolicy == v1.ManagementObserveOnly {
		return zero, Stalled(ReasonInvalidSpec, "ObserveOnly needs importID")
	}

	fresh := r.New()
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), fresh); err != nil {
		return zero, err
	}
	if fresh.GetResourceVersion() != obj.GetResourceVersion() {
		// The cache lagged: start again from what the API server holds.
		return zero, errStale
	}

	if _, pending := obj.GetAnnotations()[v1.AnnotationCreatePending]; pending {
		remote, found, err := r.External.Find(ctx, req)
		if err != nil {
			return zero, err
		}
		if found {
			if err := r.External.CanAdopt(ctx, req, remote); err != nil {
				return zero, err
			}
			if err := r.persistID(ctx, obj, remote); err != nil {
				return zero, err
			}
			log.Info("adopted after an interrupted create", "id", remote.RemoteID())
			r.event(obj, corev1.EventTypeNormal, "Adopted", "Create", "Found %s %s that an interrupted create had made, and adopted it", r.Kind, remote.RemoteID())
			return remote, nil
		}
	}
	return r.create(ctx, req)
}

// create makes the remote object crash-safely: the pending marker is on the
// object before the request leaves, and status.id is written before the
// marker goes.
func (r *Reconciler[O, R]) create(ctx context.Context, req *Request[O]) (R, error) {
	var zero R
	obj := req.Object
	if _, pending := obj.GetAnnotations()[v1.AnnotationCreatePending]; !pending {
		if err := r.patchMeta(ctx, obj, func() {
			a := obj.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			a[v1.AnnotationCreatePending] = time.Now().UTC().Format(time.RFC3339)
			obj.SetAnnotations(a)
		}); err != nil {
			return zero, err
		}
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

// persistID writes status.id at once (the crash-safety hinge), then drops
// the pending marker.
func (r *Reconciler[O, R]) persistID(ctx context.Context, obj O, remote R) error {
	base := obj.DeepCopyObject().(O)
	st := obj.ManagedStatus()
	st.ID, st.Version = remote.RemoteID(), remote.RemoteVersion()
	if err := r.Client.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		return err
	}
	return r.clearPending(ctx, obj)
}

func (r *Reconciler[O, R]) clearPending(ctx context.Context, obj O) error {
	if _, ok := obj.GetAnnotations()[v1.AnnotationCreatePending]; !ok {
		return nil
	}
	return r.patchMeta(ctx, obj, func() {
		a := obj.GetAnnotations()
		delete(a, v1.AnnotationCreatePending)
		obj.SetAnnotations(a)
	})
}

// update makes the remote object match the spec; a stale version means
// someone wrote in between: read again and retry, do not back off.
func (r *Reconciler[O, R]) update(ctx context.Context, req *Request[O], remote R) (R, error) {
	obj := req.Object
	for attempt := 0; ; attempt++ {
		diff, err := r.External.Diff(req, remote)
		if err != nil || len(diff) == 0 {
			return remote, err
		}
		updated, err := r.External.Update(ctx, req, remote)
		if err == nil && updated.RemoteID() != remote.RemoteID() {
			logf.FromContext(ctx).Info("replaced", "id", updated.RemoteID(), "previous", remote.RemoteID(), "fields", strings.Join(diff, ","))
			r.event(obj, corev1.EventTypeNormal, "Replaced", "Update", "Replaced %s %s with %s: %s", r.Kind, remote.RemoteID(), updated.RemoteID(), strings.Join(diff, ", "))
			return updated, nil
		}
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

func (r *Reconciler[O, R]) delete(ctx context.Context, req *Request[O]) error {
	obj := req.Object
	deps, err := r.External.Dependants(ctx, obj)
	if err != nil {
		return err
	}
	if len(deps) > 0 {
		return Waiting(ReasonDeletionBlocked, "deletion waits for objects that still refer to this %s: %s", r.Kind, strings.Join(deps, ", "))
	}
	st := obj.ManagedStatus()
	id := st.ID
	if id == "" {
		if _, pending := obj.GetAnnotations()[v1.AnnotationCreatePending]; pending {
			if err := r.External.Resolve(ctx, req); err != nil {
				return err
			}
			remote, found, err := r.External.Find(ctx, req)
			if err != nil {
				return err
			}
			if found {
				id = remote.RemoteID()
			}
		}
	}
	if old := obj.GetAnnotations()[v1.AnnotationReplacing]; old != "" && old != id {
		if err := r.deleteRemote(ctx, req, old); err != nil {
			return err
		}
	}
	if id != "" {
		setProgressing(st, obj.GetGeneration(), ReasonDeleting, "deleting "+r.Kind+" "+id)
		if err := r.deleteRemote(ctx, req, id); err != nil {
			return err
		}
	}
	return r.patchMeta(ctx, obj, func() { controllerutil.RemoveFinalizer(obj, v1.Finalizer) })
}

// replaceIfNeeded finishes an interrupted replacement, or starts one when
// the kind says the remote object cannot take the spec's changes in place.
func (r *Reconciler[O, R]) replaceIfNeeded(ctx context.Context, req *Request[O], remote R) (R, error) {
	obj := req.Object
	id := remote.RemoteID()
	if old := obj.GetAnnotations()[v1.AnnotationReplacing]; old != "" && old != id {
		// The new object is recorded; only the old one is left to delete.
		return remote, r.retire(ctx, req, old)
	}
	rep, ok := r.External.(Replacer[O, R])
	if !ok {
		return remote, nil
	}
	fields := rep.MustReplace(req, remote)
	if len(fields) == 0 && obj.GetAnnotations()[v1.AnnotationReplacing] != id {
		return remote, nil
	}
	return r.replace(ctx, req, remote, fields)
}

// replace makes a new remote object for one the server cannot change in
// place, records it, and deletes the old one. Each step is recorded on the
// object first, so a crash at any point is finished by the next reconcile.
func (r *Reconciler[O, R]) replace(ctx context.Context, req *Request[O], old R, fields []string) (R, error) {
	var zero R
	obj := req.Object
	oldID := old.RemoteID()
	if obj.GetAnnotations()[v1.AnnotationReplacing] != oldID {
		// Optimistic lock: a cache that lags behind an earlier replacement
		// is refused by the API server instead of starting a second one.
		base := obj.DeepCopyObject().(O)
		a := obj.GetAnnotations()
		if a == nil {
			a = map[string]string{}
		}
		a[v1.AnnotationReplacing] = oldID
		obj.SetAnnotations(a)
		if err := r.Client.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			if apierrors.IsConflict(err) {
				return zero, errStale
			}
			return zero, err
		}
	}
	var fresh R
	found := false
	if _, pending := obj.GetAnnotations()[v1.AnnotationCreatePending]; pending {
		// An earlier attempt may have made the new object already.
		got, ok, err := r.External.Find(ctx, req)
		if err != nil {
			return zero, err
		}
		if ok && got.RemoteID() != oldID {
			if err := r.External.CanAdopt(ctx, req, got); err != nil {
				return zero, err
			}
			if err := r.persistID(ctx, obj, got); err != nil {
				return zero, err
			}
			logf.FromContext(ctx).Info("adopted after an interrupted replacement", "id", got.RemoteID(), "previous", oldID)
			fresh, found = got, true
		}
	}
	if !found {
		created, err := r.create(ctx, req)
		if err != nil {
			return zero, err
		}
		fresh = created
	}
	logf.FromContext(ctx).Info("replaced", "id", fresh.RemoteID(), "previous", oldID, "fields", strings.Join(fields, ","))
	r.event(obj, corev1.EventTypeNormal, "Replaced", "Replace", "Replaced %s %s with %s: %s cannot change in place", r.Kind, oldID, fresh.RemoteID(), describeFields(fields))
	return fresh, r.retire(ctx, req, oldID)
}

func describeFields(fields []string) string {
	if len(fields) == 0 {
		return "the spec"
	}
	return strings.Join(fields, ", ")
}

// retire deletes the replaced remote object and then forgets it.
func (r *Reconciler[O, R]) retire(ctx context.Context, req *Request[O], oldID string) error {
	if err := r.deleteRemote(ctx, req, oldID); err != nil {
		return err
	}
	obj := req.Object
	return r.patchMeta(ctx, obj, func() {
		a := obj.GetAnnotations()
		delete(a, v1.AnnotationReplacing)
		obj.SetAnnotations(a)
	})
}

// deleteRemote deletes the remote object with that ID; one already gone is
// fine.
func (r *Reconciler[O, R]) deleteRemote(ctx context.Context, req *Request[O], id string) error {
	remote, err := r.External.Observe(ctx, req, id)
	if accountserver.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.External.Delete(ctx, req, remote); err != nil && !accountserver.IsNotFound(err) {
		return err
	}
	logf.FromContext(ctx).Info("deleted", "id", id)
	r.event(req.Object, corev1.EventTypeNormal, "Deleted", "Delete", "Deleted %s %s", r.Kind, id)
	return nil
}

func (r *Reconciler[O, R]) orphan(ctx context.Context, obj O) error {
	if id := obj.ManagedStatus().ID; id != "" && obj.Managed().ManagementPolicy != v1.ManagementObserveOnly {
		r.event(obj, corev1.EventTypeNormal, "Orphaned", "Delete", "Left %s %s on the server (deletionPolicy Orphan)", r.Kind, id)
	}
	return r.patchMeta(ctx, obj, func() { controllerutil.RemoveFinalizer(obj, v1.Finalizer) })
}

// patchMeta applies mutate to obj's metadata and sends it as a merge patch.
func (r *Reconciler[O, R]) patchMeta(ctx context.Context, obj O, mutate func()) error {
	base := obj.DeepCopyObject().(O)
	mutate()
	if err := r.Client.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	return nil
}

// patchStatus writes status in one patch, and only when it changed: a
// steady-state reconcile writes nothing to the API server.
func (r *Reconciler[O, R]) patchStatus(ctx context.Context, orig, obj O) error {
	before, err := statusOf(orig)
	if err != nil {
		return err
	}
	after, err := statusOf(obj)
	if err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(before, after) {
		return nil
	}
	base := orig.DeepCopyObject().(O)
	if err := r.Client.Status().Patch(ctx, obj, client.MergeFrom(base)); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

func statusOf(o runtime.Object) (any, error) {
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	return u["status"], nil
}

func (r *Reconciler[O, R]) event(obj O, eventType, reason, action, format string, a ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, eventType, reason, action, format, a...)
	}
}

func setReady(st *v1.ManagedStatus, gen int64, reason, msg string) {
	st.ObservedGeneration = gen
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.RemoveStatusCondition(&st.Conditions, v1.ConditionReconciling)
	meta.RemoveStatusCondition(&st.Conditions, v1.ConditionStalled)
}

func setProgressing(st *v1.ManagedStatus, gen int64, reason, msg string) {
	st.ObservedGeneration = gen
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.RemoveStatusCondition(&st.Conditions, v1.ConditionStalled)
}

func setStalled(st *v1.ManagedStatus, gen int64, reason, msg string) {
	st.ObservedGeneration = gen
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.RemoveStatusCondition(&st.Conditions, v1.ConditionReconciling)
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

// jitter spreads resyncs of many objects over a tenth of the interval, so
// ten thousand tenants do not all ask the server at once.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d/10)+1))
}
