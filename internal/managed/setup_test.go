package managed

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/event"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

func TestConnectionKey(t *testing.T) {
	cases := map[string]struct {
		reason     string
		kind, name string
		want       string
	}{
		"Default":   {"a reference without kind names an AccountServer", "", "server", "AccountServer/server"},
		"Namespace": {"an AccountServer keeps its kind", connection.KindAccountServer, "server", "AccountServer/server"},
		"Cluster":   {"a ClusterAccountServer keeps its kind", connection.KindClusterAccountServer, "shared", "ClusterAccountServer/shared"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, connectionKey(tc.kind, tc.name)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// connectionValues is the connection index as SetupWithManager builds it.
func connectionValues(o client.Object) []string {
	if ref := o.(*v1.Tenant).Spec.AccountServerRef; ref != nil {
		return []string{connectionKey(ref.Kind, ref.Name)}
	}
	return nil
}

// parentValues indexes tenants by their parentRef.
func parentValues(o client.Object) []string {
	if p := o.(*v1.Tenant).Spec.ParentRef; p != nil {
		return []string{p.Name}
	}
	return nil
}

func indexedClient(funcs interceptor.Funcs, objs ...client.Object) client.Client {
	c := fake.NewClientBuilder().
		WithScheme(testScheme()).
		WithStatusSubresource(&v1.Tenant{}).
		WithObjects(objs...).
		WithIndex(&v1.Tenant{}, connectionIndex, connectionValues).
		WithIndex(&v1.Tenant{}, ".spec.parentRef.name", parentValues).
		Build()
	return interceptor.NewClient(c, funcs)
}

func named(namespace, name string, opts ...tenantOption) *v1.Tenant {
	t := tenant(opts...)
	t.Namespace, t.Name = namespace, name
	return t
}

func onConnection(kind, name string) tenantOption {
	return func(t *v1.Tenant) {
		t.Spec.AccountServerRef = &v1.AccountServerReference{Kind: kind, Name: name}
	}
}

func withParent(name string) tenantOption {
	return func(t *v1.Tenant) { t.Spec.ParentRef = &v1.LocalReference{Name: name} }
}

func ready(status metav1.ConditionStatus) tenantOption {
	return withConditions(metav1.Condition{Type: v1.ConditionReady, Status: status, Reason: "Test", LastTransitionTime: metav1.Now()})
}

func tenantOptions() Options[*v1.Tenant] {
	return Options[*v1.Tenant]{List: func() client.ObjectList { return &v1.TenantList{} }}
}

func requests(keys ...string) []reconcile.Request {
	var out []reconcile.Request
	for _, k := range keys {
		ns, name, _ := strings.Cut(k, "/")
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ns, Name: name}})
	}
	return out
}

var sortRequests = cmpopts.SortSlices(func(a, b reconcile.Request) bool { return a.String() < b.String() })

// TestWake covers waiting and all, the lists behind every watch: which
// objects a change of a connection or a referenced object wakes.
func TestWake(t *testing.T) {
	objs := []client.Object{
		named("team-a", "ready", onConnection("", "server"), ready(metav1.ConditionTrue)),
		named("team-a", "not-ready", onConnection(connection.KindAccountServer, "server"), ready(metav1.ConditionFalse)),
		named("team-a", "new", onConnection("", "server")),
		named("team-a", "deleting", onConnection("", "server"), ready(metav1.ConditionTrue), withFinalizer(), deleting()),
		named("team-a", "other-server", onConnection("", "other")),
		named("team-b", "elsewhere", onConnection("", "server")),
		named("team-a", "shared-ready", onConnection(connection.KindClusterAccountServer, "shared"), ready(metav1.ConditionTrue)),
		named("team-a", "shared-a", onConnection(connection.KindClusterAccountServer, "shared")),
		named("team-b", "shared-b", onConnection(connection.KindClusterAccountServer, "shared")),
		named("team-a", "inherits", withParent("ready")),
		named("team-a", "child", withParent("top"), ready(metav1.ConditionTrue)),
		named("team-a", "child-waiting", withParent("top")),
	}
	cases := map[string]struct {
		reason  string
		sel     []client.ListOption
		funcs   interceptor.Funcs
		waiting []reconcile.Request
		all     []reconcile.Request
	}{
		"AccountServer": {
			reason:  "an AccountServer wakes the objects of its namespace that name it and are not Ready or are being deleted",
			sel:     []client.ListOption{client.InNamespace("team-a"), client.MatchingFields{connectionIndex: connectionKey(connection.KindAccountServer, "server")}},
			waiting: requests("team-a/not-ready", "team-a/new", "team-a/deleting"),
			all:     requests("team-a/ready", "team-a/not-ready", "team-a/new", "team-a/deleting"),
		},
		"ClusterAccountServer": {
			reason:  "a ClusterAccountServer wakes the objects of every namespace that name it",
			sel:     []client.ListOption{client.MatchingFields{connectionIndex: connectionKey(connection.KindClusterAccountServer, "shared")}},
			waiting: requests("team-a/shared-a", "team-b/shared-b"),
			all:     requests("team-a/shared-ready", "team-a/shared-a", "team-b/shared-b"),
		},
		"Reference": {
			reason:  "a referenced object wakes the objects whose index names it",
			sel:     []client.ListOption{client.InNamespace("team-a"), client.MatchingFields{".spec.parentRef.name": "top"}},
			waiting: requests("team-a/child-waiting"),
			all:     requests("team-a/child", "team-a/child-waiting"),
		},
		"Nobody": {
			reason: "a connection nobody names wakes nothing",
			sel:    []client.ListOption{client.InNamespace("team-a"), client.MatchingFields{connectionIndex: "AccountServer/unused"}},
		},
		"ListFails": {
			reason: "a failed list wakes nothing (and is logged)",
			sel:    []client.ListOption{client.InNamespace("team-a")},
			funcs: interceptor.Funcs{List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
				return errors.New("cache stopped")
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			r := newReconciler(indexedClient(tc.funcs, objs...), &external{log: &calls{}}, nil, nil)
			if diff := cmp.Diff(tc.waiting, r.waiting(ctx, tenantOptions(), tc.sel...), sortRequests, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("waiting: %s: -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.all, r.all(ctx, tenantOptions(), tc.sel...), sortRequests, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("all: %s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestBlockedBy(t *testing.T) {
	objs := []client.Object{
		named("team-a", "going", withFinalizer(), deleting()),
		named("team-a", "staying"),
		named("team-b", "going-elsewhere", withFinalizer(), deleting()),
	}
	user := func(opts ...tenantOption) client.Object {
		// A dependent is any object; a Tenant stands in for a User.
		return named("team-a", "alice", opts...)
	}
	cases := map[string]struct {
		reason    string
		dependent client.Object
		names     []string
		want      []reconcile.Request
	}{
		"DependentNotDeleted": {
			reason:    "a dependent that is not being deleted unblocks nothing",
			dependent: user(),
			names:     []string{"going"},
		},
		"DependentDeleted": {
			reason:    "a deleted dependent wakes the objects it names that are being deleted, in its namespace",
			dependent: user(withFinalizer("example.com/keep"), deleting()),
			names:     []string{"going", "staying", "missing", "going-elsewhere"},
			want:      requests("team-a/going"),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := newReconciler(indexedClient(interceptor.Funcs{}, objs...), &external{log: &calls{}}, nil, nil)
			got := r.blockedBy(context.Background(), tc.dependent, tc.names)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestReferencing(t *testing.T) {
	objs := []client.Object{
		named("team-a", "top"),
		named("team-a", "child-1", withParent("top")),
		named("team-a", "child-2", withParent("top")),
		named("team-b", "child-3", withParent("top")),
	}
	cases := map[string]struct {
		reason string
		field  string
		name   string
		funcs  interceptor.Funcs
		want   []string
		err    bool
	}{
		"Some": {
			reason: "names the objects of the namespace whose index holds the name",
			field:  ".spec.parentRef.name", name: "top",
			want: []string{"Tenant child-1", "Tenant child-2"},
		},
		"None": {
			reason: "names nothing when nothing refers",
			field:  ".spec.parentRef.name", name: "child-1",
		},
		"NoIndex": {
			reason: "a field without an index is an error",
			field:  ".spec.tenantRef.name", name: "top",
			err: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := Referencing(context.Background(), indexedClient(tc.funcs, objs...), &v1.TenantList{}, "Tenant", "team-a", tc.field, tc.name)
			if (err != nil) != tc.err {
				t.Errorf("%s: error = %v, want error %t", tc.reason, err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPausedChanged(t *testing.T) {
	paused := func(v string) client.Object {
		if v == "" {
			return tenant()
		}
		return tenant(withAnnotation(v1.AnnotationPaused, v))
	}
	cases := map[string]struct {
		reason   string
		old, new string
		want     bool
	}{
		"Set":       {"setting the pause passes", "", "true", true},
		"Cleared":   {"clearing the pause passes", "true", "", true},
		"Unchanged": {"other updates do not", "true", "true", false},
		"Neither":   {"nor do updates of objects never paused", "", "", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := pausedChanged.Update(event.UpdateEvent{ObjectOld: paused(tc.old), ObjectNew: paused(tc.new)})
			if got != tc.want {
				t.Errorf("%s: got %t, want %t", tc.reason, got, tc.want)
			}
		})
	}
}

// testMapper maps the kinds the controllers watch, so a manager can be built
// without an API server to discover them from.
func testMapper() meta.RESTMapper {
	m := meta.NewDefaultRESTMapper(nil)
	for _, k := range []string{"Tenant", "User", "AccountServer"} {
		m.Add(v1.GroupVersion.WithKind(k), meta.RESTScopeNamespace)
	}
	m.Add(v1.GroupVersion.WithKind("ClusterAccountServer"), meta.RESTScopeRoot)
	m.Add(corev1.SchemeGroupVersion.WithKind("Secret"), meta.RESTScopeNamespace)
	return m
}

// newManager is a manager that is never started: no API server, no
// listener. SetupWithManager only registers indexes and watches on it.
func newManager(t *testing.T) ctrl.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(&rest.Config{Host: "http://127.0.0.1:1"}, ctrl.Options{
		Scheme:         testScheme(),
		Metrics:        metricsserver.Options{BindAddress: "0"},
		MapperProvider: func(*rest.Config, *http.Client) (meta.RESTMapper, error) { return testMapper(), nil },
		Controller:     config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("building a manager: %v", err)
	}
	return mgr
}

func TestSetupWithManager(t *testing.T) {
	full := Options[*v1.Tenant]{
		List:                    func() client.ObjectList { return &v1.TenantList{} },
		MaxConcurrentReconciles: 2,
		References: []Reference[*v1.Tenant]{
			{Field: ".spec.parentRef.name", Target: &v1.Tenant{}, Names: func(o *v1.Tenant) []string { return parentValues(o) }},
			{Field: ".spec.parentRef.name", Target: &v1.User{}, Values: func(client.Object) []string { return []string{"x"} }},
			{Field: ".spec.secretRef.name", Target: &corev1.Secret{}, Names: func(*v1.Tenant) []string { return nil }, MetadataOnly: true, WakeAll: true},
		},
		Dependents: []Dependent{{Object: &v1.User{}, Names: func(client.Object) []string { return nil }}},
	}
	cases := map[string]struct {
		reason string
		opts   Options[*v1.Tenant]
		twice  bool
		// err is a substring of the error; empty: none.
		err string
	}{
		"Minimal": {
			reason: "a kind without references or dependents registers",
			opts:   tenantOptions(),
		},
		"Full": {
			reason: "references (indexed or not, metadata only, waking all) and dependents register",
			opts:   full,
		},
		"RegisteredTwice": {
			reason: "registering a kind twice is an error: its index exists",
			opts:   tenantOptions(),
			twice:  true,
			err:    "indexer conflict",
		},
		"ReferenceIndexClash": {
			reason: "a reference whose field clashes with the connection index is an error",
			opts: Options[*v1.Tenant]{
				List:       tenantOptions().List,
				References: []Reference[*v1.Tenant]{{Field: connectionIndex, Target: &v1.Tenant{}, Names: func(*v1.Tenant) []string { return nil }}},
			},
			err: "indexer conflict",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			mgr := newManager(t)
			r := newReconciler(mgr.GetClient(), &external{log: &calls{}}, nil, nil)
			err := r.SetupWithManager(mgr, tc.opts)
			if tc.twice && err == nil {
				err = newReconciler(mgr.GetClient(), &external{log: &calls{}}, nil, nil).SetupWithManager(mgr, tc.opts)
			}
			if (err != nil) != (tc.err != "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("%s: error = %v, want one containing %q", tc.reason, err, tc.err)
			}
		})
	}
}
