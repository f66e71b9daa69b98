// Package offeringitemquota says how an OfferingItemQuota talks to the
// account server: the listed offering items of one tenant, on or off, with
// their quotas, and an optional edition switch. Every item it does not list
// is left as the server has it. The generic loop in internal/managed does
// everything else.
package offeringitemquota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/applications"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Condition reasons of the OfferingItemQuota kind.
const (
	ReasonNotAvailable       = "NotAvailable"
	ReasonUnknownItem        = "UnknownItem"
	ReasonUnknownApplication = applications.ReasonUnknownApplication
	ReasonItemClaimed        = "ItemClaimed"
	ReasonEditionBlocked     = "EditionBlocked"
)

// codeItemNotAvailable is the server's code for an item the parent does not
// offer (or an edition switch it blocks).
const codeItemNotAvailable = 1021

// remote is the tenant's offering items, and their usage when read.
type remote struct {
	tenantID string
	items    []accountserver.OfferingItem
	usages   []accountserver.Usage
	// usageRead is when usages were read; zero when they were not.
	usageRead time.Time
	// version is the newest quota version among the items the spec
	// manages (see versionOf).
	version int64
}

func (r *remote) RemoteID() string { return r.tenantID }

func (r *remote) RemoteVersion() int64 { return r.version }

// versionOf is the newest quota version among the items the spec manages.
// Items the object leaves alone do not count: their changes are not its
// business, and a read of only the managed items (batch.go) finds the same
// version as a read of them all.
func versionOf(items []accountserver.OfferingItem, want []desired) int64 {
	var v int64
	for _, d := range want {
		if it, ok := find(items, d); ok && it.Quota != nil && it.Quota.Version > v {
			v = it.Quota.Version
		}
	}
	return v
}

type request = managed.Request[*v1.OfferingItemQuota, resolved]

// resolved is what Resolve found for one reconcile.
type resolved struct {
	tenantID string
	items    []desired
	// edition is the spec's edition switch with its application's ID.
	editionApp, edition string
}

// External talks to the account server about offering items. It has no
// Deleter: the items belong to the tenant, and deleting the object only
// stops managing them. Turning a service off is said with enabled: false,
// never implied by a deletion that could cut a customer's backups off (and
// the server refuses, for instance, to turn off default storage while the
// application's other items stay on). Nor a Finder: Create writes nothing,
// so there is nothing to create twice.
type External struct {
	tenant.Scope[*v1.OfferingItemQuota]
}

// Resolve finds the tenant, resolves application names and refuses items
// another OfferingItemQuota of the tenant already manages.
func (e *External) Resolve(ctx context.Context, req *request) (res resolved, err error) {
	if res.tenantID, err = e.TenantID(ctx, req.Conn, req.Object); err != nil {
		return res, err
	}
	q := req.Object
	seen := map[key]bool{}
	var unknown []string
	for _, it := range q.Spec.Items {
		appID, err := appID(ctx, req, it.Application)
		if err != nil {
			return resolved{}, err
		}
		if appID == "" {
			if !slices.Contains(unknown, it.Application) {
				unknown = append(unknown, it.Application)
			}
			continue
		}
		d := toDesired(appID, it)
		if d.infra, err = infraOf(ctx, e.Reader, q.Namespace, it); err != nil {
			return resolved{}, err
		}
		if seen[d.key] {
			return resolved{}, managed.Stalled(managed.ReasonInvalidSpec, "spec.items: item %s of %s is listed twice", it.Name, it.Application)
		}
		seen[d.key] = true
		res.items = append(res.items, d)
	}
	if len(unknown) > 0 {
		return resolved{}, applications.Unknown(ctx, req.Conn.Client, "spec.items[].application", unknown)
	}
	if ed := q.Spec.Edition; ed != nil {
		appID, err := appID(ctx, req, ed.Application)
		if err != nil {
			return resolved{}, err
		}
		if appID == "" {
			return resolved{}, applications.Unknown(ctx, req.Conn.Client, "spec.edition.application", []string{ed.Application})
		}
		res.editionApp, res.edition = appID, ed.Name
	}
	// Recorded at once: a refused object is found by its tenant's peers in
	// other namespaces (TenantIndex, PeerIndex) even before its first sync.
	q.Status.TenantID = res.tenantID
	return res, e.checkClaims(ctx, req, res.tenantID)
}

// appID is the ID of the application ref names; "" when none has that name
// or ID.
func appID(ctx context.Context, req *request, ref string) (string, error) {
	app, err := applications.Resolve(ctx, req.Conn.Client, ref)
	var nf *applications.NotFoundError
	if errors.As(err, &nf) {
		return "", nil
	}
	return app.ID, err
}

// checkClaims refuses items that an older OfferingItemQuota of the same
// tenant already lists, in any namespace: two objects must not fight over
// one item. The older one (by creation, then namespace and name) keeps it.
// An item's storage is compared resolved: an infraRef and an infraID of the
// same storage name the same item.
func (e *External) checkClaims(ctx context.Context, req *request, tenantID string) error {
	q := req.Object
	keys := []string{idKey(tenantID)}
	if ref := q.Spec.TenantRef; ref != nil {
		keys = append(keys, refKey(q.Namespace, ref.Name))
	}
	seen := map[types.UID]bool{q.UID: true}
	for _, k := range keys {
		list := &v1.OfferingItemQuotaList{}
		// Read only: the cache's own objects, no copies.
		if err := e.Reader.List(ctx, list, client.MatchingFields{TenantIndex: k}, client.UnsafeDisableDeepCopy); err != nil {
			return err
		}
		for i := range list.Items {
			other := &list.Items[i]
			if seen[other.UID] || !managed.Older(other, q) || other.DeletionTimestamp != nil {
				continue
			}
			seen[other.UID] = true
			for _, it := range other.Spec.Items {
				for _, mine := range q.Spec.Items {
					if strings.EqualFold(it.Application, mine.Application) && it.Name == mine.Name &&
						claimKey(ctx, e.Reader, other.Namespace, it) == claimKey(ctx, e.Reader, q.Namespace, mine) {
						return managed.Stalled(ReasonItemClaimed, "OfferingItemQuota %s/%s already manages item %s of %s; this one takes over when that one no longer does", other.Namespace, other.Name, mine.Name, mine.Application)
					}
				}
			}
		}
	}
	return nil
}

// TenantIndex indexes OfferingItemQuotas, across namespaces, by the tenant
// they manage: idKey of its UUID (spec.tenantID, and status.tenantID once
// resolved) and refKey of the Tenant object a tenantRef names.
const TenantIndex = ".tenant"

func idKey(tenantID string) string { return "id:" + tenantID }

func refKey(namespace, name string) string { return "ref:" + namespace + "/" + name }

// tenantKeys are q's values in TenantIndex.
func tenantKeys(q *v1.OfferingItemQuota) []string {
	var keys []string
	for _, id := range []string{q.Spec.TenantID, q.Status.TenantID} {
		if id != "" && !slices.Contains(keys, idKey(id)) {
			keys = append(keys, idKey(id))
		}
	}
	if ref := q.Spec.TenantRef; ref != nil {
		keys = append(keys, refKey(q.Namespace, ref.Name))
	}
	return keys
}

// SharesRemote says that the items of one tenant are managed by several
// OfferingItemQuotas, each its own (checkClaims), not by one owner.
func (e *External) SharesRemote() {}

// Observe reads the tenant's items of every edition, and their usage when
// readsUsage says so: a create or a spec change costs one read, a resync
// two.
func (e *External) Observe(ctx context.Context, req *request, tenantID string) (*remote, error) {
	c := req.Conn.Client
	items, err := c.GetOfferingItems(ctx, tenantID, accountserver.OfferingItemQuery{Edition: accountserver.AllEditions})
	if err != nil {
		return nil, err
	}
	return e.withUsage(ctx, req, &remote{tenantID: tenantID, items: items, version: versionOf(items, req.Resolved.items)})
}

// withUsage reads the tenant's usage into r when readsUsage says so.
func (e *External) withUsage(ctx context.Context, req *request, r *remote) (*remote, error) {
	if now := time.Now(); readsUsage(req.Object, req.Conn.ResyncInterval, now) {
		var err error
		if r.usages, err = req.Conn.Client.GetUsages(ctx, r.tenantID); err != nil {
			return nil, err
		}
		r.usageRead = now
	}
	return r, nil
}

// readsUsage says whether a reconcile of q reads usage: only one that
// verifies what an earlier reconcile did at q's current generation (it
// ended Ready), and only when the last reading is older than the resync
// interval. Usage is for people to look at, it never decides a write: a
// create or a spec change sends what the spec says without it, and the
// resync that follows reads it.
func readsUsage(q *v1.OfferingItemQuota, resync time.Duration, now time.Time) bool {
	ready := meta.FindStatusCondition(q.Status.Conditions, v1.ConditionReady)
	verifying := q.Status.ObservedGeneration == q.Generation && ready != nil &&
		ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == q.Generation
	last := q.Status.UsageObservedAt
	return verifying && (last == nil || now.Sub(last.Time) >= resync)
}

// CanAdopt accepts the items of the spec's tenant only.
func (e *External) CanAdopt(_ context.Context, req *request, r *remote) error {
	if want := req.Resolved.tenantID; r.tenantID != want {
		return managed.Stalled(managed.ReasonInvalidSpec, "spec.importID: tenant %s is not tenant %s that the spec names", r.tenantID, want)
	}
	return nil
}

// Create writes nothing: the items exist with the tenant. The loop's update
// that follows makes them match the spec.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	res := &req.Resolved
	if err := e.CheckTenant(ctx, req.Conn, req.Object, res.tenantID); err != nil {
		return nil, err
	}
	r, err := e.Observe(ctx, req, res.tenantID)
	return r, tenant.MissingTenant(err, res.tenantID)
}

// Diff names the edition and the items that differ.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	res := &req.Resolved
	var fields []string
	if res.edition != "" && currentEdition(r.items, res.editionApp) != res.edition {
		fields = append(fields, "edition")
	}
	for _, d := range res.items {
		it, ok := find(r.items, d)
		if !ok {
			return nil, unknownItem(d)
		}
		if differs(d, it) {
			fields = append(fields, "items."+d.name)
		}
	}
	return fields, nil
}

func unknownItem(d desired) error {
	where := ""
	if d.infra != "" {
		where = " on storage " + d.infra
	}
	return managed.Stalled(ReasonUnknownItem, "the tenant has no offering item %s of application %s%s", d.name, d.app, where)
}

// currentEdition is the edition of the application's items that are on.
func currentEdition(items []accountserver.OfferingItem, appID string) string {
	for _, it := range items {
		if it.ApplicationID == appID && it.Edition != "" && it.Status == accountserver.ItemStatusOn {
			return it.Edition
		}
	}
	return ""
}

// Update switches the edition (checked first), then sends every changed
// item in one PUT, each carrying its quota version.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	res, c := &req.Resolved, req.Conn.Client
	out := &remote{tenantID: r.tenantID, items: r.items, usages: r.usages, usageRead: r.usageRead}
	if res.edition != "" && currentEdition(r.items, res.editionApp) != res.edition {
		if err := c.CheckEdition(ctx, r.tenantID, res.editionApp, res.edition); err != nil {
			if accountserver.IsInvalid(err) {
				return nil, managed.Stalled(ReasonEditionBlocked, "switching to edition %s is refused: %s", res.edition, explain(err))
			}
			return nil, err
		}
		if err := c.SwitchEdition(ctx, r.tenantID, res.editionApp, res.edition); err != nil {
			return nil, err
		}
		items, err := c.GetOfferingItems(ctx, r.tenantID, accountserver.OfferingItemQuery{Edition: accountserver.AllEditions})
		if err != nil {
			return nil, err
		}
		out.items = items
	}
	var changes []accountserver.OfferingItemChange
	for _, d := range res.items {
		it, ok := find(out.items, d)
		if !ok {
			return nil, unknownItem(d)
		}
		if differs(d, it) {
			changes = append(changes, change(d, it))
		}
	}
	if len(changes) == 0 {
		out.version = versionOf(out.items, res.items)
		return out, nil
	}
	checkUsage := req.Object.Spec.CheckUsage == nil || *req.Object.Spec.CheckUsage
	updated, err := c.PutOfferingItems(ctx, r.tenantID, changes, checkUsage)
	if accountserver.HasCode(err, codeItemNotAvailable) {
		return nil, managed.Stalled(ReasonNotAvailable, "%s", explain(err))
	}
	if err != nil {
		return nil, err
	}
	out.items = merge(out.items, updated)
	out.version = versionOf(out.items, res.items)
	return out, nil
}

// merge puts the PUT's answer over the items read before it.
func merge(items, updated []accountserver.OfferingItem) []accountserver.OfferingItem {
	out := slices.Clone(items)
	for _, u := range updated {
		if i := slices.IndexFunc(out, func(it accountserver.OfferingItem) bool { return keyOf(it) == keyOf(u) }); i >= 0 {
			out[i] = u
		} else {
			out = append(out, u)
		}
	}
	return out
}

// explain is the server's message with the items it names in its context.
func explain(err error) string {
	e, ok := accountserver.AsError(err)
	if !ok {
		return err.Error()
	}
	msg := e.Message()
	var ctx struct {
		Items []struct {
			Name    string `json:"name"`
			InfraID string `json:"infra_id"`
			Reason  string `json:"reason"`
		} `json:"offering_items"`
	}
	if len(e.Context()) > 0 && json.Unmarshal(e.Context(), &ctx) == nil && len(ctx.Items) > 0 {
		var names []string
		for _, it := range ctx.Items {
			n := it.Name
			if it.Reason != "" {
				n += " (" + it.Reason + ")"
			}
			names = append(names, n)
		}
		msg += ": " + strings.Join(names, ", ")
	}
	if e.Code() != "" {
		msg += fmt.Sprintf(" (code %s)", e.Code())
	}
	return msg
}

// SetStatus lists each managed item as the server has it, with its usage.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	res := req.Resolved
	st.TenantID = r.tenantID
	prev := map[key]*int64{}
	for _, s := range st.Items {
		prev[key{app: s.Application, name: s.Name, infra: s.InfraID}] = s.Usage
	}
	items := make([]v1.OfferingItemStatus, 0, len(res.items))
	for _, d := range res.items {
		it, ok := find(r.items, d)
		if !ok {
			continue
		}
		s := v1.OfferingItemStatus{Application: it.ApplicationID, Name: it.Name, Enabled: it.Status == accountserver.ItemStatusOn, InfraID: ptr.Deref(it.InfraID, "")}
		if it.Quota != nil {
			s.Value, s.Overage, s.QuotaVersion = it.Quota.Value, it.Quota.Overage, it.Quota.Version
		}
		s.Usage = prev[key{app: s.Application, name: s.Name, infra: s.InfraID}]
		if !r.usageRead.IsZero() {
			s.Usage = usageOf(r.usages, it)
		}
		items = append(items, s)
	}
	st.Items, st.ItemCount = items, int32(len(items))
	if !r.usageRead.IsZero() {
		st.UsageObservedAt = ptr.To(metav1.NewTime(r.usageRead.UTC().Truncate(time.Second)))
	}
}

func usageOf(usages []accountserver.Usage, it accountserver.OfferingItem) *int64 {
	for _, u := range usages {
		if u.ApplicationID == it.ApplicationID && u.Name == it.Name && ptr.Deref(u.InfraID, "") == ptr.Deref(it.InfraID, "") {
			return ptr.To(u.Value)
		}
	}
	for _, u := range usages {
		if u.UsageName != "" && u.UsageName == it.UsageName && ptr.Deref(u.InfraID, "") == ptr.Deref(it.InfraID, "") {
			return ptr.To(u.Value)
		}
	}
	return nil
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=offeringitemquotas,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=offeringitemquotas/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=offeringitemquotas/finalizers,verbs=update

// Kind registers OfferingItemQuotas with the loop. A peer of the same
// tenant, in any namespace, that changes or goes may free an item another
// one waits for (ItemClaimed), so peers wake each other.
var Kind = tenant.Kind[*v1.OfferingItemQuota, *remote, resolved]{
	Name: "OfferingItemQuota",
	External: func(s tenant.Scope[*v1.OfferingItemQuota]) managed.External[*v1.OfferingItemQuota, *remote, resolved] {
		return &External{Scope: s}
	},
	References: []managed.Reference[*v1.OfferingItemQuota]{
		{Field: TenantIndex, Names: tenantKeys},
		{Field: PeerIndex, Target: &v1.OfferingItemQuota{}, Names: mayWaitForPeer, Values: settledPeer, AllNamespaces: true},
		// An item naming a Storage by infraRef waits for its ID.
		{Field: InfraRefIndex, Target: &v1.Storage{}, Names: InfraRefNames},
	},
}

// PeerIndex indexes, by their TenantIndex keys, the OfferingItemQuotas that
// may wait for a peer: those refused with ItemClaimed, and those whose
// current generation has no outcome yet (they may be checking claims right
// now, and their refusal may not be in the cache when the peer changes).
const PeerIndex = ".tenant/peers"

func mayWaitForPeer(q *v1.OfferingItemQuota) []string {
	stalled := meta.FindStatusCondition(q.Status.Conditions, v1.ConditionStalled)
	claimed := stalled != nil && stalled.Status == metav1.ConditionTrue && stalled.Reason == ReasonItemClaimed
	if !claimed && q.Status.ObservedGeneration == q.Generation {
		return nil
	}
	return tenantKeys(q)
}

// settledPeer gives the TenantIndex keys of the peers a changed
// OfferingItemQuota wakes: only once it is going, or has an outcome at its
// generation. The writes in the middle of its own reconcile (finalizer,
// status) free nothing, and would wake the object itself, which is in
// PeerIndex until its first outcome, to read back what it has just written.
func settledPeer(o client.Object) []string {
	q := o.(*v1.OfferingItemQuota)
	if q.DeletionTimestamp == nil && q.Status.ObservedGeneration != q.Generation {
		return nil
	}
	return tenantKeys(q)
}
