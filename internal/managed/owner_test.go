package managed

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// adoptedInTeamB are the calls of an object in team-b that adopts id-1.
var adoptedInTeamB = []string{"ConnectionRef", "Connect(AccountServer/server in team-b)", "Resolve", "Observe(id-1)", "Diff(id-1@1)", "SetStatus(id-1@1)"}

// importing names id-1 in importID.
func importing() tenantOption {
	return func(t *v1.Tenant) { t.Spec.ImportID = "id-1" }
}

func createdAt(sec int64) tenantOption {
	return func(t *v1.Tenant) { t.CreationTimestamp = metav1.Unix(sec, 0) }
}

// TestOneOwner: of the objects that claim one remote ID, only the owner
// reaches the server; the others are Stalled before any call, and one being
// deleted goes without deleting the owner's remote object.
func TestOneOwner(t *testing.T) {
	cases := map[string]struct {
		reason string
		others []client.Object
		obj    *v1.Tenant
		// owner is the key the refusal names; empty: obj goes on.
		owner string
		calls []string
	}{
		"Alone": {
			reason: "Nobody else claims the ID: the object adopts it.",
			obj:    named("team-b", "b", withFinalizer(), importing()),
			calls:  adoptedInTeamB,
		},
		"RecordedWins": {
			reason: "An object that records the ID owns it, even if it is younger.",
			others: []client.Object{named("team-a", "a", withID("id-1"), createdAt(200))},
			obj:    named("team-b", "b", importing(), createdAt(100)),
			owner:  "team-a/a",
		},
		"OlderImporterWins": {
			reason: "Two that only import it: the older one owns it.",
			others: []client.Object{named("team-b", "a", importing(), createdAt(100))},
			obj:    named("team-a", "b", importing(), createdAt(200)),
			owner:  "team-b/a",
		},
		"TieByNamespace": {
			reason: "Created in the same second: the namespace, then the name, decide.",
			others: []client.Object{named("team-a", "z", importing(), createdAt(100))},
			obj:    named("team-b", "a", importing(), createdAt(100)),
			owner:  "team-a/z",
		},
		"BothRecorded": {
			reason: "Both record it (a race of two imports): the older one owns it.",
			others: []client.Object{named("team-a", "a", withID("id-1"), createdAt(100))},
			obj:    named("team-b", "b", withID("id-1"), createdAt(200)),
			owner:  "team-a/a",
		},
		"OwnerOfAnotherID": {
			reason: "An object whose own ID is another one, with the ID only in importID, claims nothing of it first.",
			others: []client.Object{named("team-a", "a", withID("id-2"), importing(), createdAt(100))},
			obj:    named("team-b", "b", withFinalizer(), importing(), createdAt(200)),
			calls:  adoptedInTeamB,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := fake.NewClientBuilder().WithScheme(testScheme()).WithStatusSubresource(&v1.Tenant{}).
				WithObjects(append(tc.others, tc.obj)...).
				WithIndex(&v1.Tenant{}, IDIndex, func(o client.Object) []string { return claims(o.(*v1.Tenant)) }).Build()
			var log calls
			r := newReconciler(c, &external{log: &log}, &connector{log: &log}, nil)
			r.list = func() client.ObjectList { return &v1.TenantList{} }
			_, _ = r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(tc.obj)})
			got := &v1.Tenant{}
			if err := c.Get(context.Background(), client.ObjectKeyFromObject(tc.obj), got); err != nil {
				t.Fatal(err)
			}
			if tc.owner == "" {
				if stalled := stalledCondition(got); stalled != "" {
					t.Fatalf("%s: stalled: %s", tc.reason, stalled)
				}
				if diff := cmp.Diff(tc.calls, []string(log)); diff != "" {
					t.Errorf("%s: calls (-want +got):\n%s", tc.reason, diff)
				}
				return
			}
			msg := stalledCondition(got)
			if !strings.HasPrefix(msg, ReasonAlreadyManaged+": ") || !strings.Contains(msg, "Tenant "+tc.owner+" already manages id-1") {
				t.Errorf("%s: want AlreadyManaged naming %s, got %q", tc.reason, tc.owner, msg)
			}
			if len(log) != 0 {
				t.Errorf("%s: a refused object calls nothing, called %v", tc.reason, log)
			}
		})
	}
}

// TestNotTheOwnerDeletesNothing: an object that is not the owner, deleted,
// releases its finalizer without deleting the remote object.
func TestNotTheOwnerDeletesNothing(t *testing.T) {
	owner := named("team-a", "a", withFinalizer(), withID("id-1"), createdAt(100))
	loser := named("team-b", "b", withFinalizer(), withID("id-1"), createdAt(200), deleting())
	c := fake.NewClientBuilder().WithScheme(testScheme()).WithStatusSubresource(&v1.Tenant{}).
		WithObjects(owner, loser).
		WithIndex(&v1.Tenant{}, IDIndex, func(o client.Object) []string { return claims(o.(*v1.Tenant)) }).Build()
	var log calls
	r := newReconciler(c, &external{log: &log, delete: func(*request, remote) error { return nil }}, &connector{log: &log}, nil)
	r.list = func() client.ObjectList { return &v1.TenantList{} }
	if _, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: client.ObjectKeyFromObject(loser)}); err != nil {
		t.Fatal(err)
	}
	if len(log) != 0 {
		t.Errorf("the loser's deletion reached the server: %v", log)
	}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(loser), &v1.Tenant{}); err == nil {
		t.Error("the loser keeps its finalizer")
	}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(owner), &v1.Tenant{}); err != nil {
		t.Errorf("the owner: %v", err)
	}
}

func stalledCondition(t *v1.Tenant) string {
	for _, c := range t.Status.Conditions {
		if c.Type == v1.ConditionStalled && c.Status == metav1.ConditionTrue {
			return c.Reason + ": " + c.Message
		}
	}
	return ""
}
