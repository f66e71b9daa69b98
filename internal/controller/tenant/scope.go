package tenant

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// This file is how an object that names a tenant finds it, and how the
// tenant is checked to lie in the connection's subtree before anything is
// written in it.

// ResolveID is the UUID of the tenant an object names: the one of the Tenant
// its tenantRef names (waiting until it has one), or its tenantID.
func ResolveID(ctx context.Context, reader client.Reader, namespace string, tenantRef *v1.LocalReference, tenantID string) (string, error) {
	if tenantRef == nil {
		return tenantID, nil
	}
	t, err := GetTenant(ctx, reader, namespace, tenantRef.Name)
	if err != nil {
		return "", err
	}
	return t.Status.ID, nil
}

// GetTenant reads the Tenant object name in namespace, waiting (not
// failing) while it does not exist, has no remote ID yet, or is still in the
// reconcile that created it. What it returns is the cache's own object, not
// a copy (every reconcile of every dependant reads its Tenant): read it,
// never change it.
func GetTenant(ctx context.Context, reader client.Reader, namespace, name string) (*v1.Tenant, error) {
	t := &v1.Tenant{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, t, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, managed.Waiting(managed.ReasonWaitingForReference, "waiting for Tenant %s to exist", name)
		}
		return nil, err
	}
	if t.Status.ID == "" || creating(t) {
		return t, managed.Waiting(managed.ReasonWaitingForReference, "waiting for Tenant %s to be created", name)
	}
	return t, nil
}

// creating says that t's ID is written but the reconcile that created it
// has not finished: status.id goes to the API server in the middle of that
// reconcile, before the create marker is dropped and before any outcome is
// recorded. An object that went on now would not find the Tenant Ready (and
// check its tenant with a request of its own), and the Tenant's last status
// write would wake it again while it creates. It waits instead, and that
// write wakes it (see wakesDependants).
func creating(t *v1.Tenant) bool {
	_, pending := t.Annotations[v1.AnnotationCreatePending]
	return t.Status.ID != "" && (pending || t.Status.ObservedGeneration == 0)
}

// wakesDependants says whether a change of Tenant t should wake the objects
// that name it and are not Ready: only once a reconcile of t at its
// generation has ended, not in the middle of one. Such a reconcile writes t
// several times (finalizer, create marker, status.id), and an object woken
// by one of those writes would find t not Ready yet (and check its tenant
// with a request of its own), or be woken again by the next write while it
// creates, and read back what it has just written. Without an ID, any
// outcome will do (the objects only wait, and say what for); with one, t
// must have ended Ready, Stalled or on a transient error: a waiting outcome
// at this generation is what a Tenant that waited before its create still
// shows in the middle of that create.
func wakesDependants(t *v1.Tenant) bool {
	if t.DeletionTimestamp != nil {
		return true
	}
	if _, pending := t.Annotations[v1.AnnotationCreatePending]; pending || t.Status.ObservedGeneration != t.Generation {
		return false
	}
	if t.Status.ID == "" {
		return true
	}
	ready := meta.FindStatusCondition(t.Status.Conditions, v1.ConditionReady)
	if ready == nil || ready.ObservedGeneration != t.Generation {
		return false
	}
	return ready.Status == metav1.ConditionTrue || ready.Reason == managed.ReasonTransientError ||
		meta.IsStatusConditionTrue(t.Status.Conditions, v1.ConditionStalled)
}

// awaitTenant makes an object still to be created wait until the Tenant
// name exists, has its ID, has finished the reconcile that created it, and
// the kind's watch of Tenants has decided on the version the cache holds
// now. The watch wakes the objects waiting for a Tenant when it has
// settled (wakesDependants); an object that went on before that decision
// would be woken by it in the middle of its create, and reconciled again
// right after, reading back what it has just written. Waiting here, before
// anything is written for the object, costs nothing: the decision, a moment
// later, wakes it (or the retry does).
func (s Scope[O]) awaitTenant(ctx context.Context, namespace, name string) error {
	t, err := GetTenant(ctx, s.Reader, namespace, name)
	if err != nil {
		return err
	}
	if s.decided != nil && !s.decided.on(client.ObjectKeyFromObject(t), t.ResourceVersion) {
		return managed.WaitingFor(managed.ReasonWaitingForReference, time.Second, "waiting for Tenant %s to be created", name)
	}
	return nil
}

// decided remembers, per Tenant, the newest version the watch of Tenants
// of one kind has decided whether to wake on.
type decided struct {
	mu       sync.Mutex
	versions map[client.ObjectKey]string
}

func (d *decided) record(key client.ObjectKey, version string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.versions[key] = version
}

func (d *decided) forget(key client.ObjectKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.versions, key)
}

func (d *decided) on(key client.ObjectKey, version string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.versions[key] == version
}

// CheckScope fails with OutsideScope, before any write, when tenantID is
// not in the connection's subtree (the server answers 403 for those), and
// with ParentNotFound when it does not exist.
func CheckScope(ctx context.Context, conn *connection.Connection, tenantID string) error {
	if tenantID == conn.TenantID {
		return nil
	}
	_, err := conn.Client.GetTenant(ctx, tenantID)
	switch {
	case accountserver.IsForbidden(err):
		return OutsideScope(tenantID, conn.TenantID)
	case accountserver.IsNotFound(err):
		return NotFound(tenantID)
	}
	return err
}

// The refusals below read the same in every kind: a Tenant's parent and
// the tenant a User, ApiClient, OfferingItemQuota or UsageReport names are
// both "tenant <id>". Kubernetes objects are named "<Kind> <name>", or
// "<Kind> <namespace>/<name>" when the namespace may differ; names and IDs
// are never quoted.

// NotFound is the refusal of a tenant that does not exist on the server:
// Stalled with reason ParentNotFound.
func NotFound(tenantID string) error {
	return managed.Stalled(ReasonParentNotFound, "tenant %s does not exist on the server", tenantID)
}

// OutsideScope is the refusal of a tenant the connection cannot reach:
// Stalled with reason OutsideScope.
func OutsideScope(tenantID, connTenantID string) error {
	return managed.Stalled(managed.ReasonOutsideScope, "tenant %s lies outside the subtree of tenant %s that the connection acts in", tenantID, connTenantID)
}

// ReasonTenantMismatch stalls an object whose remote object, found or
// imported, belongs to another tenant than the one its spec names.
const ReasonTenantMismatch = "TenantMismatch"

// Mismatch is the refusal of a remote object of kind (User, ApiClient)
// that belongs to tenant has, not to want, the tenant the spec names:
// Stalled with reason TenantMismatch.
func Mismatch(kind, id, has, want string) error {
	return managed.Stalled(ReasonTenantMismatch, "%s %s belongs to tenant %s, not to tenant %s that the spec names; it cannot move between tenants", kind, id, has, want)
}

// CheckTenant is CheckScope for tenantID, the tenant o names, without the
// request when the Tenant object o names by tenantRef vouches for it: that
// Tenant is Ready at its generation with this ID, on this very connection,
// so its own reconcile has read the tenant through the connection's
// credentials, which see nothing outside their subtree. A tenantID, or a
// Tenant on another connection, proves nothing about this one: the tenant
// is read.
func (s Scope[O]) CheckTenant(ctx context.Context, conn *connection.Connection, o O, tenantID string) error {
	if ref, _ := o.TenantReference(); ref != nil && vouches(ctx, s.Reader, conn, o.GetNamespace(), ref.Name, tenantID) {
		return nil
	}
	return CheckScope(ctx, conn, tenantID)
}

// vouches says whether the Tenant object name proves that tenantID exists
// in conn's subtree.
func vouches(ctx context.Context, reader client.Reader, conn *connection.Connection, namespace, name, tenantID string) bool {
	t := &v1.Tenant{}
	if tenantID == "" || reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, t) != nil {
		return false
	}
	ready := meta.FindStatusCondition(t.Status.Conditions, v1.ConditionReady)
	if t.Status.ID != tenantID || t.DeletionTimestamp != nil || creating(t) || t.Status.ObservedGeneration != t.Generation ||
		ready == nil || ready.Status != metav1.ConditionTrue || ready.ObservedGeneration != t.Generation {
		return false
	}
	ref, err := ConnectionOf(ctx, reader, t)
	return err == nil && connection.KeyFor(ref, t.Namespace) == conn.Key
}

// MissingTenant turns the server's 404 for a request sent into tenantID
// into ParentNotFound, the reason CheckScope gives. When a Tenant object
// vouched for the tenant, it was not read before the request; one deleted
// on the server since that Tenant's last reconcile shows up here, and is a
// refusal (nothing was made), not an error to retry.
func MissingTenant(err error, tenantID string) error {
	if accountserver.IsNotFound(err) {
		return NotFound(tenantID)
	}
	return err
}
