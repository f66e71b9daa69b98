package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func init() { register(newTreeCommand) }

func newTreeCommand(o *Options) *cobra.Command {
	var all bool
	var output string
	cmd := &cobra.Command{
		Use:   "tree",
		Short: "Show the tenant hierarchy with each tenant's users, quotas, reports, API clients, tokens, locations and storages",
		Long: `tree shows the Tenant objects as a tree (by spec.parentRef, or spec.parentID matched to a listed
Tenant's status.id); a tenant whose parent is not listed is a root. Under each tenant: its Users,
OfferingItemQuotas (each item as used/limit, from status.items), UsageReports, ApiClients,
RegistrationTokens, Locations and Storages, then its child tenants, each group sorted by name.
Every line has the object's kind and name, its Ready condition and reason, and its remote ID.
Objects whose tenant is not a listed Tenant are shown under a placeholder line for that tenant.

It reads only the Kubernetes API, with your RBAC; it sends nothing to an account server.

-o json prints the same tree as JSON; its JSON Schema is internal/plugin/testdata/tree.schema.json
(see docs/plugin.md).`,
		Example: `  kubectl accounts tree
  kubectl accounts tree -n customers
  kubectl accounts tree -A -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			cl, err := o.Client()
			if err != nil {
				return err
			}
			ns := ""
			if !all {
				if ns, err = o.Namespace(); err != nil {
					return err
				}
			}
			tree, err := BuildTree(cmd.Context(), cl, ns)
			if err != nil {
				return err
			}
			if output == "json" {
				return tree.WriteJSON(o.Out)
			}
			return tree.WriteText(o.Out)
		},
	}
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "show the objects of every namespace")
	cmd.Flags().StringVarP(&output, "output", "o", "", "output format: text (default) or json")
	return cmd
}

// Tree is what `kubectl accounts tree -o json` prints (testdata/tree.schema.json).
type Tree struct {
	// Namespace is the namespace listed; empty when every namespace was.
	Namespace string `json:"namespace"`
	// Tenants are the roots: tenants whose parent is not listed, then placeholders for tenants
	// that objects name but that are not listed.
	Tenants []*TreeNode `json:"tenants"`
}

// TreeNode is one object of the tree.
type TreeNode struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace"`
	// Name is empty only on a placeholder for a tenant named by UUID.
	Name string `json:"name,omitempty"`
	// ID is the remote object's ID (status.id; an ApiClient's client ID).
	ID string `json:"id,omitempty"`
	// Missing marks a placeholder: a tenant that objects name (tenantRef or tenantID) but that is
	// not a listed Tenant object.
	Missing bool `json:"missing,omitempty"`
	// Ready is the Ready condition's status (True, False, Unknown); Unknown without a reason when
	// the object has no Ready condition yet. Empty on a placeholder.
	Ready   string `json:"ready,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// TenantKind is a Tenant's spec.kind.
	TenantKind string `json:"tenantKind,omitempty"`
	// Items are an OfferingItemQuota's items as the server has them (status.items).
	Items []QuotaItem `json:"items,omitempty"`
	// Children are the objects in a tenant (users, quotas, reports, API clients, registration
	// tokens, locations, storages) and then its child tenants.
	Children []*TreeNode `json:"children,omitempty"`
}

// QuotaItem is one offering item of an OfferingItemQuota's status. Nil Value or Overage is
// unlimited; nil Usage is not read yet.
type QuotaItem struct {
	Application string `json:"application"`
	Name        string `json:"name"`
	InfraID     string `json:"infraID,omitempty"`
	Enabled     bool   `json:"enabled"`
	Usage       *int64 `json:"usage,omitempty"`
	Value       *int64 `json:"value,omitempty"`
	Overage     *int64 `json:"overage,omitempty"`
}

// scopedObject is an object that lives in one tenant.
type scopedObject interface {
	client.Object
	TenantReference() (*v1.LocalReference, string)
	ManagedStatus() *v1.ManagedStatus
}

// scopedKinds are listed in the order their objects appear under a tenant.
var scopedKinds = []struct {
	kind string
	list func() client.ObjectList
	each func(client.ObjectList) []scopedObject
}{
	{"User", func() client.ObjectList { return &v1.UserList{} }, func(l client.ObjectList) []scopedObject {
		return objects(l.(*v1.UserList).Items)
	}},
	{"OfferingItemQuota", func() client.ObjectList { return &v1.OfferingItemQuotaList{} }, func(l client.ObjectList) []scopedObject {
		return objects(l.(*v1.OfferingItemQuotaList).Items)
	}},
	{"UsageReport", func() client.ObjectList { return &v1.UsageReportList{} }, func(l client.ObjectList) []scopedObject {
		return objects(l.(*v1.UsageReportList).Items)
	}},
	{"ApiClient", func() client.ObjectList { return &v1.ApiClientList{} }, func(l client.ObjectList) []scopedObject {
		return objects(l.(*v1.ApiClientList).Items)
	}},
	{"RegistrationToken", func() client.ObjectList { return &v1.RegistrationTokenList{} }, func(l client.ObjectList) []scopedObject {
		return objects(l.(*v1.RegistrationTokenList).Items)
	}},
	{"Location", func() client.ObjectList { return &v1.LocationList{} }, func(l client.ObjectList) []scopedObject {
		return objects(l.(*v1.LocationList).Items)
	}},
	{"Storage", func() client.ObjectList { return &v1.StorageList{} }, func(l client.ObjectList) []scopedObject {
		return objects(l.(*v1.StorageList).Items)
	}},
}

// objects takes the address of each item of a list.
func objects[T any, PT interface {
	*T
	scopedObject
}](items []T) []scopedObject {
	out := make([]scopedObject, 0, len(items))
	for i := range items {
		out = append(out, PT(&items[i]))
	}
	return out
}

// BuildTree lists the Tenants and the objects in them in namespace ("" for every namespace) and
// arranges them as a tree. It reads only r.
func BuildTree(ctx context.Context, r client.Reader, namespace string) (*Tree, error) {
	var opts []client.ListOption
	if namespace != "" {
		opts = append(opts, client.InNamespace(namespace))
	}
	var tenants v1.TenantList
	if err := r.List(ctx, &tenants, opts...); err != nil {
		return nil, fmt.Errorf("listing Tenants: %w", err)
	}
	b := newTreeBuilder(tenants.Items)
	for _, k := range scopedKinds {
		l := k.list()
		if err := r.List(ctx, l, opts...); err != nil {
			return nil, fmt.Errorf("listing %ss: %w", k.kind, err)
		}
		for _, o := range k.each(l) {
			b.add(k.kind, o)
		}
	}
	return &Tree{Namespace: namespace, Tenants: b.roots()}, nil
}

// treeBuilder places objects under their tenants.
type treeBuilder struct {
	tenants []*v1.Tenant
	// byName and byID find a listed Tenant's node: "namespace/name", status.id.
	byName map[string]*TreeNode
	byID   map[string][]*TreeNode
	// placeholders are the tenants objects name that are not listed, by "ref:ns/name" or "id:ns/uuid".
	placeholders map[string]*TreeNode
	// scoped holds each tenant node's objects, sorted at the end.
	scoped map[*TreeNode][]*TreeNode
}

func newTreeBuilder(tenants []v1.Tenant) *treeBuilder {
	b := &treeBuilder{byName: map[string]*TreeNode{}, byID: map[string][]*TreeNode{},
		placeholders: map[string]*TreeNode{}, scoped: map[*TreeNode][]*TreeNode{}}
	for i := range tenants {
		t := &tenants[i]
		b.tenants = append(b.tenants, t)
		n := nodeOf("Tenant", t, t.Status.ID, t.Status.Conditions)
		n.TenantKind = string(t.Spec.Kind)
		b.byName[t.Namespace+"/"+t.Name] = n
		if t.Status.ID != "" {
			b.byID[t.Status.ID] = append(b.byID[t.Status.ID], n)
		}
	}
	return b
}

func nodeOf(kind string, o client.Object, id string, conds []metav1.Condition) *TreeNode {
	n := &TreeNode{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(), ID: id, Ready: "Unknown"}
	if c := meta.FindStatusCondition(conds, v1.ConditionReady); c != nil {
		n.Ready, n.Reason, n.Message = string(c.Status), c.Reason, c.Message
	}
	return n
}

// tenantByID finds the listed tenant with this remote ID, preferring one in namespace.
func (b *treeBuilder) tenantByID(namespace, id string) *TreeNode {
	ns := b.byID[id]
	for _, n := range ns {
		if n.Namespace == namespace {
			return n
		}
	}
	if len(ns) > 0 {
		return ns[0]
	}
	return nil
}

// tenantOf is the node an object in namespace naming ref or id belongs under.
func (b *treeBuilder) tenantOf(namespace string, ref *v1.LocalReference, id string) *TreeNode {
	if ref != nil {
		if n := b.byName[namespace+"/"+ref.Name]; n != nil {
			return n
		}
		return b.placeholder("ref:"+namespace+"/"+ref.Name, &TreeNode{Kind: "Tenant", Namespace: namespace, Name: ref.Name, Missing: true})
	}
	if n := b.tenantByID(namespace, id); n != nil {
		return n
	}
	return b.placeholder("id:"+namespace+"/"+id, &TreeNode{Kind: "Tenant", Namespace: namespace, ID: id, Missing: true})
}

func (b *treeBuilder) placeholder(key string, n *TreeNode) *TreeNode {
	if p, ok := b.placeholders[key]; ok {
		return p
	}
	b.placeholders[key] = n
	return n
}

func (b *treeBuilder) add(kind string, o scopedObject) {
	st := o.ManagedStatus()
	id := st.ID
	if c, ok := o.(*v1.ApiClient); ok && id == "" {
		id = c.Status.ClientID
	}
	n := nodeOf(kind, o, id, st.Conditions)
	if q, ok := o.(*v1.OfferingItemQuota); ok {
		for _, it := range q.Status.Items {
			n.Items = append(n.Items, QuotaItem{Application: it.Application, Name: it.Name, InfraID: it.InfraID,
				Enabled: it.Enabled, Usage: it.Usage, Value: it.Value, Overage: it.Overage})
		}
	}
	ref, tid := o.TenantReference()
	t := b.tenantOf(o.GetNamespace(), ref, tid)
	b.scoped[t] = append(b.scoped[t], n)
}

// roots links the tenants to their parents and returns the roots, each subtree ordered.
func (b *treeBuilder) roots() []*TreeNode {
	children := map[*TreeNode][]*TreeNode{}
	var roots []*TreeNode
	for _, t := range b.tenants {
		n := b.byName[t.Namespace+"/"+t.Name]
		var parent *TreeNode
		switch {
		case t.Spec.ParentRef != nil:
			parent = b.byName[t.Namespace+"/"+t.Spec.ParentRef.Name]
		case t.Spec.ParentID != "":
			parent = b.tenantByID(t.Namespace, t.Spec.ParentID)
		}
		if parent == nil || parent == n {
			roots = append(roots, n)
			continue
		}
		children[parent] = append(children[parent], n)
	}
	sortNodes(roots)
	// Tenants in a parent cycle are reached from no root: the first of each cycle becomes one.
	visited := map[*TreeNode]bool{}
	var walk func(n *TreeNode)
	walk = func(n *TreeNode) {
		visited[n] = true
		kids := children[n]
		sortNodes(kids)
		scoped := b.scoped[n]
		sortScoped(scoped)
		n.Children = slices.Clone(scoped)
		for _, k := range kids {
			if !visited[k] {
				walk(k)
				n.Children = append(n.Children, k)
			}
		}
	}
	for _, r := range roots {
		walk(r)
	}
	var rest []*TreeNode
	for _, t := range b.tenants {
		if n := b.byName[t.Namespace+"/"+t.Name]; !visited[n] {
			rest = append(rest, n)
		}
	}
	sortNodes(rest)
	for _, n := range rest {
		if !visited[n] {
			walk(n)
			roots = append(roots, n)
		}
	}
	var missing []*TreeNode
	for _, p := range b.placeholders {
		walk(p)
		missing = append(missing, p)
	}
	slices.SortFunc(missing, func(a, b *TreeNode) int {
		return strings.Compare(a.Namespace+"/"+a.Name+"/"+a.ID, b.Namespace+"/"+b.Name+"/"+b.ID)
	})
	return append(roots, missing...)
}

func sortNodes(ns []*TreeNode) {
	slices.SortFunc(ns, func(a, b *TreeNode) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Namespace, b.Namespace)
	})
}

// sortScoped orders a tenant's objects by kind (scopedKinds' order), then name.
func sortScoped(ns []*TreeNode) {
	rank := func(kind string) int {
		for i, k := range scopedKinds {
			if k.kind == kind {
				return i
			}
		}
		return len(scopedKinds)
	}
	slices.SortStableFunc(ns, func(a, b *TreeNode) int {
		if c := rank(a.Kind) - rank(b.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Namespace, b.Namespace)
	})
}

// WriteJSON writes the tree as indented JSON.
func (t *Tree) WriteJSON(w io.Writer) error {
	if t.Tenants == nil {
		t.Tenants = []*TreeNode{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(t)
}

// WriteText writes the tree for a terminal: one line per object, drawn as `tree` does, with the
// Ready status, the reason and the remote ID in columns (and the namespace first when the tree
// spans every namespace).
func (t *Tree) WriteText(w io.Writer) error {
	if len(t.Tenants) == 0 {
		where := "in namespace " + t.Namespace
		if t.Namespace == "" {
			where = "in any namespace"
		}
		_, err := fmt.Fprintf(w, "No Tenants or objects of tenants found %s.\n", where)
		return err
	}
	all := t.Namespace == ""
	// Item lines are free: they do not widen the columns.
	type textRow struct {
		cells []string
		free  bool
	}
	var rows []textRow
	row := func(free bool, ns string, cells ...string) {
		if all {
			cells = append([]string{ns}, cells...)
		}
		rows = append(rows, textRow{cells: cells, free: free})
	}
	row(false, "NAMESPACE", "NAME", "READY", "REASON", "ID")
	var line func(n *TreeNode, prefix, branch string)
	line = func(n *TreeNode, prefix, branch string) {
		ready, reason := n.Ready, n.Reason
		if n.Missing {
			ready, reason = "-", "NotListed"
		}
		row(false, n.Namespace, prefix+branch+label(n), ready, reason, n.ID)
		childPrefix := prefix
		switch branch {
		case "├── ":
			childPrefix += "│   "
		case "└── ":
			childPrefix += "    "
		}
		last := len(n.Children) == 0
		for i, it := range n.Items {
			b := "├── "
			if i == len(n.Items)-1 && last {
				b = "└── "
			}
			row(true, n.Namespace, childPrefix+b+itemLabel(it))
		}
		for i, c := range n.Children {
			b := "├── "
			if i == len(n.Children)-1 {
				b = "└── "
			}
			line(c, childPrefix, b)
		}
	}
	for _, r := range t.Tenants {
		line(r, "", "")
	}
	var widths []int
	for _, r := range rows {
		if r.free {
			continue
		}
		for i, c := range r.cells {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		var l strings.Builder
		for i, c := range r.cells {
			l.WriteString(c)
			if i < len(r.cells)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// label is a node's NAME column: Kind/name, a tenant's kind in parentheses.
func label(n *TreeNode) string {
	switch {
	case n.Missing && n.Name == "":
		return "Tenant id " + n.ID + " (no Tenant object)"
	case n.Missing:
		return n.Kind + "/" + n.Name + " (no such Tenant listed)"
	case n.TenantKind != "":
		return n.Kind + "/" + n.Name + " (" + n.TenantKind + ")"
	}
	return n.Kind + "/" + n.Name
}

// itemLabel is an offering item as used/limit: "servers 2/5", "storage [infra 4a2cbe2d] 0/1099511627776
// (overage 1209462790553)", "workstations ?/unlimited" (usage not read yet), "(off)" when disabled.
func itemLabel(it QuotaItem) string {
	var b strings.Builder
	b.WriteString(it.Name)
	if it.InfraID != "" {
		short := it.InfraID
		if len(short) > 8 {
			short = short[:8]
		}
		b.WriteString(" [infra " + short + "]")
	}
	if !it.Enabled {
		b.WriteString(" (off)")
		return b.String()
	}
	b.WriteString(" " + num(it.Usage, "?") + "/" + num(it.Value, "unlimited"))
	if it.Overage != nil {
		b.WriteString(" (overage " + strconv.FormatInt(*it.Overage, 10) + ")")
	}
	return b.String()
}

func num(p *int64, none string) string {
	if p == nil {
		return none
	}
	return strconv.FormatInt(*p, 10)
}
