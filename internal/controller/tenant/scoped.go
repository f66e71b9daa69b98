package tenant

import (
	"context"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
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
// kind shares: the connection, inherited from the Tenant unless the object
// names its own, and the tenant's UUID. Embed it.
type Scope[O Scoped] struct {
	// Reader is the manager's cache.
	Reader client.Reader
}

// ConnectionRef is the object's own accountServerRef, or its Tenant's.
func (s Scope[O]) ConnectionRef(ctx context.Context, o O) (v1.AccountServerReference, error) {
	ref, _ := o.TenantReference()
	return InheritedConnection(ctx, s.Reader, o.GetNamespace(), o.Managed().AccountServerRef, ref)
}

// TenantID is the UUID of the object's tenant: its tenantID, or the
// status.id of the Tenant its tenantRef names (waiting until it has one).
func (s Scope[O]) TenantID(ctx context.Context, o O) (string, error) {
	ref, id := o.TenantReference()
	return ResolveID(ctx, s.Reader, o.GetNamespace(), ref, id)
}

// SetupScoped registers the loop of a tenant-scoped kind: the Tenant its
// tenantRef names is indexed and watched, so the object wakes when that
// Tenant gets its ID, and refs adds the kind's own references.
func SetupScoped[O Scoped, R managed.Remote, X any](mgr ctrl.Manager, registry managed.Connector, kind string,
	ext managed.External[O, R, X], newObject func() O, list func() client.ObjectList, refs ...managed.Reference[O]) error {
	r := managed.NewReconciler(kind, mgr.GetClient(), mgr.GetEventRecorder(strings.ToLower(kind)+"-controller"), registry, ext, newObject)
	tenantRef := managed.Reference[O]{Field: managed.TenantRefIndex, Target: &v1.Tenant{}, Names: func(o O) []string {
		if ref, _ := o.TenantReference(); ref != nil {
			return []string{ref.Name}
		}
		return nil
	}}
	return r.SetupWithManager(mgr, managed.Options[O]{List: list, References: append([]managed.Reference[O]{tenantRef}, refs...)})
}
