package tenant

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Scoped is a kind whose objects live in one tenant that they name by
// spec.tenantRef (a Tenant object) or spec.tenantID (a UUID): User,
// OfferingItemQuota, UsageReport, ApiClient.
type Scoped interface {
	managed.Object
	TenantReference() (ref *v1.LocalReference, id string)
}

// Scope is the half of a tenant-scoped kind's External that every such
// kind shares: what it needs from the manager, its connection (inherited
// from the Tenant unless the object names its own) and the tenant's UUID.
// Embed it.
type Scope[O Scoped] struct {
	// Reader is the manager's cache. Secrets and ConfigMaps are in it by
	// metadata only.
	Reader client.Reader
	// Direct reads around the cache: a Secret's or ConfigMap's data.
	Direct client.Reader
	// Writer writes the Secrets and ConfigMaps the kind owns.
	Writer   client.Client
	Recorder events.EventRecorder
	// decided is what the kind's watch of Tenants has decided on; nil
	// outside a manager.
	decided *decided
}

// ConnectionRef is the object's own accountServerRef, or its Tenant's. An
// object still to be created waits here for the Tenant its tenantRef names
// (see awaitTenant), before anything is written for it.
func (s Scope[O]) ConnectionRef(ctx context.Context, o O) (v1.AccountServerReference, error) {
	ref, _ := o.TenantReference()
	if ref != nil && o.ManagedStatus().ID == "" && o.GetDeletionTimestamp() == nil {
		if err := s.awaitTenant(ctx, o.GetNamespace(), ref.Name); err != nil {
			return v1.AccountServerReference{}, err
		}
	}
	return InheritedConnection(ctx, s.Reader, o.GetNamespace(), o.Managed().AccountServerRef, ref)
}

// TenantID is the UUID of the object's tenant: its tenantID, or the
// status.id of the Tenant its tenantRef names (waiting until it has one).
// A tenant in a subtree another namespace manages is refused
// (CheckReach).
func (s Scope[O]) TenantID(ctx context.Context, conn *connection.Connection, o O) (string, error) {
	ref, id := o.TenantReference()
	id, err := ResolveID(ctx, s.Reader, o.GetNamespace(), ref, id)
	if err != nil {
		return "", err
	}
	return id, CheckReach(ctx, s.Reader, conn, o.GetNamespace(), id)
}

// Kind is how a tenant-scoped kind registers with the loop: its name, its
// External made from the manager's Scope, and the objects beyond its Tenant
// whose changes wake it.
type Kind[O Scoped, R managed.Remote, X any] struct {
	Name       string
	External   func(Scope[O]) managed.External[O, R, X]
	References []managed.Reference[O]
}

// Register registers the loop of a tenant-scoped kind. The Tenant its
// tenantRef names is indexed and watched, so an object wakes when that
// Tenant has been created (or is done with a later reconcile).
func Register[O Scoped, R managed.Remote, X any](mgr ctrl.Manager, registry managed.Connector, drift managed.Drift, k Kind[O, R, X]) error {
	recorder := mgr.GetEventRecorder(strings.ToLower(k.Name) + "-controller")
	decided := &decided{versions: map[client.ObjectKey]string{}}
	scope := Scope[O]{Reader: mgr.GetClient(), Direct: mgr.GetAPIReader(), Writer: mgr.GetClient(), Recorder: recorder, decided: decided}
	newObject := func() O {
		var zero O
		return reflect.New(reflect.TypeOf(zero).Elem()).Interface().(O)
	}
	gvk, err := apiutil.GVKForObject(newObject(), mgr.GetScheme())
	if err != nil {
		return err
	}
	gvk.Kind += "List"
	if _, err := mgr.GetScheme().New(gvk); err != nil {
		return fmt.Errorf("%s: %w", k.Name, err)
	}
	list := func() client.ObjectList {
		l, _ := mgr.GetScheme().New(gvk)
		return l.(client.ObjectList)
	}
	r := managed.NewReconciler(k.Name, mgr.GetClient(), recorder, registry, k.External(scope), newObject)
	cache := mgr.GetClient()
	tenantRef := managed.Reference[O]{Field: managed.TenantRefIndex, Target: &v1.Tenant{}, Names: func(o O) []string {
		if ref, _ := o.TenantReference(); ref != nil {
			return []string{ref.Name}
		}
		return nil
	}, Values: func(o client.Object) []string {
		// Decided on the newest Tenant the cache holds, not on the event's
		// object: an update maps both its old and its new object, and the
		// old one of a Tenant whose spec has just changed is still Ready.
		t, key := &v1.Tenant{}, client.ObjectKeyFromObject(o)
		// Read only: no copy of the cached Tenant, for every kind on
		// every change of every Tenant.
		if err := cache.Get(context.Background(), key, t, client.UnsafeDisableDeepCopy); err != nil {
			decided.forget(key)
			return []string{o.GetName()}
		}
		if decided.on(key, t.ResourceVersion) {
			// Decided already: on the other object of this update, or on an
			// earlier event handled after the cache had moved on. A second
			// wake would reach objects the first one has already started.
			return nil
		}
		defer decided.record(key, t.ResourceVersion)
		if !wakesDependants(t) {
			return nil
		}
		return []string{o.GetName()}
	}}
	return r.SetupWithManager(mgr, managed.Options[O]{List: list, References: append([]managed.Reference[O]{tenantRef}, k.References...), Drift: drift})
}
