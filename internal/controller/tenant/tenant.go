// Package tenant says how a Tenant object talks to the account server; the
// generic loop in internal/managed does everything else.
package tenant

import (
	"context"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Condition reasons of the Tenant kind.
const (
	ReasonParentNotFound = "ParentNotFound"
	ReasonPricingOneWay  = "PricingOneWay"
)

// ParentRefIndex indexes Tenants by the name of their parentRef.
const ParentRefIndex = ".spec.parentRef.name"

// maxDepth bounds walks up the tenant tree (parentRef chains, ancestors).
const maxDepth = 32

// remote is a tenant as read from the server, with its pricing when the
// spec sets a currency (only the pricing endpoint tells it), its bindings
// when the spec manages applications, and its brand when the spec wants
// branding on and it is on.
type remote struct {
	tenant       *accountserver.Tenant
	pricing      *accountserver.Pricing
	bindings     []string
	bindingsRead bool
	brand        *accountserver.Brand
}

func (r *remote) RemoteID() string     { return r.tenant.ID }
func (r *remote) RemoteVersion() int64 { return r.tenant.Version }

// resolved is what Resolve found for one reconcile.
type resolved struct {
	parentID   string
	parentPath []string
	svc        services
}

// External talks to the account server about tenants.
type External struct {
	Reader client.Reader
	// DataReader reads a logo's ConfigMap or Secret around the cache, which
	// holds their metadata only.
	DataReader client.Reader
}

type request = managed.Request[*v1.Tenant, resolved]

// ConnectionRef is the tenant's own accountServerRef, or its parent's.
func (e *External) ConnectionRef(ctx context.Context, t *v1.Tenant) (v1.AccountServerReference, error) {
	return ConnectionOf(ctx, e.Reader, t)
}

// ConnectionOf is the connection a Tenant lives on: its own
// accountServerRef, or the one it inherits up its parentRef chain. Kinds
// that name a tenant inherit it through here.
func ConnectionOf(ctx context.Context, reader client.Reader, t *v1.Tenant) (v1.AccountServerReference, error) {
	e := &External{Reader: reader}
	cur := t
	for range maxDepth {
		if ref := cur.Spec.AccountServerRef; ref != nil {
			return *ref, nil
		}
		if cur.Spec.ParentRef == nil {
			return v1.AccountServerReference{}, managed.Stalled(managed.ReasonInvalidSpec,
				"spec.accountServerRef is required unless spec.parentRef names a Tenant to inherit the connection from")
		}
		parent, err := e.parent(ctx, cur)
		if err != nil {
			return v1.AccountServerReference{}, err
		}
		cur = parent
	}
	return v1.AccountServerReference{}, managed.Stalled(managed.ReasonInvalidSpec, "spec.parentRef: the chain of parents is longer than %d or has a cycle", maxDepth)
}

func (e *External) parent(ctx context.Context, t *v1.Tenant) (*v1.Tenant, error) {
	p := &v1.Tenant{}
	if err := e.Reader.Get(ctx, client.ObjectKey{Namespace: t.Namespace, Name: t.Spec.ParentRef.Name}, p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, managed.Waiting(managed.ReasonWaitingForReference, "waiting for parent Tenant %s to exist", t.Spec.ParentRef.Name)
		}
		return nil, err
	}
	return p, nil
}

// Resolve finds the parent's UUID and the path down to it.
func (e *External) Resolve(ctx context.Context, req *request) (resolved, error) {
	t := req.Object
	var res resolved
	switch {
	case t.Spec.ParentRef != nil:
		p, err := e.parent(ctx, t)
		if err != nil {
			return res, err
		}
		if p.Status.ID == "" || len(p.Status.Path) == 0 {
			return res, managed.Waiting(managed.ReasonWaitingForReference, "waiting for parent Tenant %s to be created", p.Name)
		}
		res.parentID, res.parentPath = p.Status.ID, p.Status.Path
	case t.Spec.ParentID != "":
		res.parentID = t.Spec.ParentID
		if t.Status.ParentID == res.parentID && len(t.Status.Path) > 0 {
			res.parentPath = t.Status.Path[:len(t.Status.Path)-1]
		} else {
			path, err := e.ancestors(ctx, req, res.parentID)
			if err != nil {
				return res, err
			}
			res.parentPath = path
		}
	default:
		res.parentID = req.Conn.TenantID
	}
	if res.parentID == req.Conn.TenantID {
		res.parentPath = []string{req.Conn.TenantName}
	}
	// Neither the parent nor an imported tenant (nor any tenant above it)
	// may be managed from another namespace. A tenant still to be adopted
	// is checked by CanAdopt, once the read that adopts it says its parent.
	reach := res.parentID
	if imp := t.Spec.ImportID; imp != "" {
		reach = ""
		if t.Status.ID == imp {
			reach = imp
		}
	}
	if err := CheckReach(ctx, e.Reader, req.Conn, t.Namespace, reach); err != nil {
		return res, err
	}
	err := e.resolveServices(ctx, req, &res.svc)
	return res, err
}

// ancestors returns the names from the connection's tenant down to id,
// failing with OutsideScope when id is not in the connection's subtree.
func (e *External) ancestors(ctx context.Context, req *request, id string) ([]string, error) {
	parent := id
	var names []string
	for range maxDepth {
		if id == req.Conn.TenantID {
			return append([]string{req.Conn.TenantName}, names...), nil
		}
		t, err := req.Conn.Client.GetTenant(ctx, id)
		switch {
		case accountserver.IsForbidden(err):
			return nil, OutsideScope(id, req.Conn.TenantID)
		case accountserver.IsNotFound(err):
			return nil, NotFound(id)
		case err != nil:
			return nil, err
		}
		names = append([]string{t.Name}, names...)
		if t.ParentID == t.ID {
			break // the root
		}
		id = t.ParentID
	}
	return nil, OutsideScope(parent, req.Conn.TenantID)
}

// Observe reads the tenant, its pricing when the spec sets a currency, and
// its bindings and brand when the spec manages them.
func (e *External) Observe(ctx context.Context, req *request, id string) (*remote, error) {
	t, err := req.Conn.Client.GetTenant(ctx, id)
	if err != nil {
		return nil, err
	}
	return e.Complete(ctx, req, &remote{tenant: t})
}

// Find looks for a tenant of the same name under the same parent.
func (e *External) Find(ctx context.Context, req *request) (*remote, bool, error) {
	t, err := req.Conn.Client.FindTenantByName(ctx, req.Resolved.parentID, remoteName(req.Object))
	if accountserver.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	r := &remote{tenant: t}
	return r, true, observeServices(ctx, req, r)
}

// CanAdopt refuses the connection's own tenant (deleting this object would
// delete the tenant the operator's credentials live in), and a tenant below
// one another namespace manages: its parent is known now, from the read
// that adopts it, at no cost.
func (e *External) CanAdopt(ctx context.Context, req *request, r *remote) error {
	if r.tenant.ID == req.Conn.TenantID {
		return managed.Stalled(managed.ReasonOutsideScope, "tenant %s is the one the connection acts in; it cannot be managed through that connection", r.tenant.ID)
	}
	return CheckReach(ctx, e.Reader, req.Conn, req.Object.Namespace, r.tenant.ParentID)
}

// Create creates the tenant under its parent, after checking that the
// parent lies in the connection's subtree.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	res := &req.Resolved
	if err := CheckScope(ctx, req.Conn, res.parentID); err != nil {
		return nil, err
	}
	t, err := req.Conn.Client.CreateTenant(ctx, toCreate(req.Object, res.parentID))
	if err != nil {
		return nil, err
	}
	r := &remote{tenant: t}
	// Best effort: the new tenant's ID must reach status whatever happens;
	// bindings left unread are read again by Update.
	_ = observeServices(ctx, req, r)
	return r, nil
}

// Diff names what differs: the tenant's own fields, MFA, pricing,
// applications and branding.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	t := req.Object
	_, fields := tenantUpdate(t, req.Resolved.parentID, r.tenant)
	if mfaDiffers(t, r.tenant) {
		fields = append(fields, "mfa")
	}
	pricing, err := pricingDiff(t, r)
	if err != nil {
		return nil, err
	}
	fields = append(fields, pricing...)
	return append(fields, servicesDiff(t, &req.Resolved.svc, r)...), nil
}

func pricingDiff(t *v1.Tenant, r *remote) ([]string, error) {
	p := t.Spec.Pricing
	if p == nil {
		return nil, nil
	}
	var fields []string
	if string(p.Mode) != r.tenant.PricingMode {
		if r.tenant.PricingMode == string(v1.PricingProduction) {
			return nil, managed.Stalled(ReasonPricingOneWay, "tenant %s is in production pricing, which cannot be switched back to %s", r.tenant.ID, p.Mode)
		}
		fields = append(fields, "pricing.mode")
	}
	if p.Currency != "" && r.pricing != nil && p.Currency != ptr.Deref(r.pricing.Currency, "") {
		fields = append(fields, "pricing.currency")
	}
	return fields, nil
}

// Update sends the tenant's own fields in one versioned PUT, then
// applications, branding, MFA and pricing through their endpoints, and
// reads the tenant again if those changed it.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	t, c := req.Object, req.Conn.Client
	res := &req.Resolved
	cp := *r
	out := &cp
	if u, fields := tenantUpdate(t, res.parentID, r.tenant); len(fields) > 0 {
		if u.ParentID != nil {
			if err := CheckScope(ctx, req.Conn, res.parentID); err != nil {
				return nil, err
			}
		}
		updated, err := c.UpdateTenant(ctx, r.tenant.ID, u)
		if err != nil {
			return nil, err
		}
		out.tenant = updated
	}
	// Brand writes carry the tenant's version, so they go right after the
	// PUT, each with the version the one before left.
	reread, err := e.updateServices(ctx, req, out)
	if err != nil {
		return nil, err
	}
	if mfaDiffers(t, out.tenant) {
		if err := c.SetTenantMFA(ctx, r.tenant.ID, t.Spec.MFA.Enabled); err != nil {
			return nil, err
		}
		reread = true
	}
	if fields, err := pricingDiff(t, out); err != nil {
		return nil, err
	} else if len(fields) > 0 {
		current := out.pricing
		if current == nil {
			if current, err = c.GetPricing(ctx, r.tenant.ID); err != nil {
				return nil, err
			}
		}
		want := accountserver.Pricing{Mode: string(t.Spec.Pricing.Mode), Version: current.Version, Currency: current.Currency}
		if t.Spec.Pricing.Currency != "" {
			want.Currency = ptr.To(t.Spec.Pricing.Currency)
		}
		if _, err := c.UpdatePricing(ctx, r.tenant.ID, want); err != nil {
			return nil, err
		}
		reread = true
	}
	if reread {
		return e.Observe(ctx, req, r.tenant.ID)
	}
	return out, nil
}

// Delete disables the tenant (the server refuses to delete an enabled one),
// then deletes it with the version that answer carried.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	c, id := req.Conn.Client, r.tenant.ID
	return DisableThenDelete(r.tenant.Enabled, r.tenant.Version,
		func(version int64) (int64, error) {
			off, err := c.UpdateTenant(ctx, id, accountserver.TenantUpdate{Version: version, Enabled: ptr.To(false)})
			if err != nil {
				return 0, err
			}
			return off.Version, nil
		},
		func(version int64) error { return c.DeleteTenant(ctx, id, version) })
}

// DisableThenDelete deletes a remote object the way the vendor's guide
// does: an enabled one is disabled first, and the delete carries the
// version the disable left. A tenant must be disabled before the server
// deletes it; a user that cannot be deleted is at least unable to log in.
func DisableThenDelete(enabled bool, version int64, disable func(version int64) (int64, error), del func(version int64) error) error {
	if enabled {
		v, err := disable(version)
		if err != nil {
			return err
		}
		version = v
	}
	return del(version)
}

// tenantRefKinds are the kinds whose spec.tenantRef names a Tenant: a
// Tenant's deletion waits for them, and theirs wakes it.
var tenantRefKinds = []struct {
	kind   string
	object client.Object
	list   func() client.ObjectList
	ref    func(client.Object) *v1.LocalReference
}{
	{"User", &v1.User{}, func() client.ObjectList { return &v1.UserList{} },
		func(o client.Object) *v1.LocalReference { return o.(*v1.User).Spec.TenantRef }},
	{"OfferingItemQuota", &v1.OfferingItemQuota{}, func() client.ObjectList { return &v1.OfferingItemQuotaList{} },
		func(o client.Object) *v1.LocalReference { return o.(*v1.OfferingItemQuota).Spec.TenantRef }},
	{"UsageReport", &v1.UsageReport{}, func() client.ObjectList { return &v1.UsageReportList{} },
		func(o client.Object) *v1.LocalReference { return o.(*v1.UsageReport).Spec.TenantRef }},
	{"ApiClient", &v1.ApiClient{}, func() client.ObjectList { return &v1.ApiClientList{} },
		func(o client.Object) *v1.LocalReference { return o.(*v1.ApiClient).Spec.TenantRef }},
	{"RegistrationToken", &v1.RegistrationToken{}, func() client.ObjectList { return &v1.RegistrationTokenList{} },
		func(o client.Object) *v1.LocalReference { return o.(*v1.RegistrationToken).Spec.TenantRef }},
	{"Location", &v1.Location{}, func() client.ObjectList { return &v1.LocationList{} },
		func(o client.Object) *v1.LocalReference { return o.(*v1.Location).Spec.TenantRef }},
	{"Storage", &v1.Storage{}, func() client.ObjectList { return &v1.StorageList{} },
		func(o client.Object) *v1.LocalReference { return o.(*v1.Storage).Spec.TenantRef }},
}

// Dependants are the Tenants whose parentRef, and the objects whose
// tenantRef, names this one.
func (e *External) Dependants(ctx context.Context, t *v1.Tenant) ([]string, error) {
	deps, err := managed.Referencing(ctx, e.Reader, &v1.TenantList{}, "Tenant", t.Namespace, ParentRefIndex, t.Name)
	if err != nil {
		return nil, err
	}
	for _, k := range tenantRefKinds {
		more, err := managed.Referencing(ctx, e.Reader, k.list(), k.kind, t.Namespace, managed.TenantRefIndex, t.Name)
		if err != nil {
			return nil, err
		}
		deps = append(deps, more...)
	}
	return deps, nil
}

// InheritedConnection is the connection of an object that names a tenant:
// its own accountServerRef, or the one of the Tenant its tenantRef names.
func InheritedConnection(ctx context.Context, reader client.Reader, namespace string, own *v1.AccountServerReference, tenantRef *v1.LocalReference) (v1.AccountServerReference, error) {
	if own != nil {
		return *own, nil
	}
	if tenantRef == nil {
		return v1.AccountServerReference{}, managed.Stalled(managed.ReasonInvalidSpec,
			"spec.accountServerRef is required unless spec.tenantRef names a Tenant to inherit the connection from")
	}
	// Read only (every reconcile of every dependant asks): no copy.
	t := &v1.Tenant{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: tenantRef.Name}, t, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return v1.AccountServerReference{}, managed.Waiting(managed.ReasonWaitingForReference, "waiting for Tenant %s to exist", tenantRef.Name)
		}
		return v1.AccountServerReference{}, err
	}
	return ConnectionOf(ctx, reader, t)
}

// SetStatus mirrors the remote tenant into status.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	t := r.tenant
	st.ParentID, st.Kind, st.Enabled = t.ParentID, t.Kind, ptr.To(t.Enabled)
	st.MFAStatus, st.PricingMode = t.MFAStatus, t.PricingMode
	st.ProductionStartDate = nil
	if t.ProductionStartDate != nil && !t.ProductionStartDate.IsZero() {
		st.ProductionStartDate = ptr.To(metav1.NewTime(t.ProductionStartDate.Time.UTC().Truncate(1e9)))
	}
	if res := req.Resolved; len(res.parentPath) > 0 && res.parentID == t.ParentID {
		st.Path = append(slices.Clone(res.parentPath), t.Name)
	}
	setServicesStatus(req, r)
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=tenants,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=tenants/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps;secrets,verbs=get;list;watch

// Setup registers the Tenant controller.
func Setup(mgr ctrl.Manager, registry managed.Connector, drift managed.Drift, afterCreate func(*v1.Tenant)) error {
	parentNames := func(t *v1.Tenant) []string {
		if t.Spec.ParentRef == nil {
			return nil
		}
		return []string{t.Spec.ParentRef.Name}
	}
	dependents := []managed.Dependent{{Object: &v1.Tenant{}, Names: func(o client.Object) []string { return parentNames(o.(*v1.Tenant)) }}}
	for _, k := range tenantRefKinds {
		dependents = append(dependents, managed.Dependent{Object: k.object, Names: func(o client.Object) []string { return tenantRefNames(k.ref(o)) }})
	}
	r := managed.NewReconciler("Tenant", mgr.GetClient(), mgr.GetEventRecorder("tenant-controller"), registry,
		managed.External[*v1.Tenant, *remote, resolved](&External{Reader: mgr.GetClient(), DataReader: mgr.GetAPIReader()}),
		func() *v1.Tenant { return &v1.Tenant{} })
	r.AfterCreate = afterCreate
	return r.SetupWithManager(mgr, managed.Options[*v1.Tenant]{
		List:       func() client.ObjectList { return &v1.TenantList{} },
		References: append([]managed.Reference[*v1.Tenant]{{Field: ParentRefIndex, Target: &v1.Tenant{}, Names: parentNames}}, logoReferences()...),
		Dependents: dependents,
		Drift:      drift,
	})
}

func tenantRefNames(ref *v1.LocalReference) []string {
	if ref == nil {
		return nil
	}
	return []string{ref.Name}
}
