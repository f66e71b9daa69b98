package conditions

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

type cond struct{ Type, Status, Reason string }

func summary(conds []metav1.Condition) []cond {
	var out []cond
	for _, c := range conds {
		out = append(out, cond{c.Type, string(c.Status), c.Reason})
	}
	return out
}

func TestSetters(t *testing.T) {
	cases := map[string]struct {
		reason string
		set    func(*[]metav1.Condition)
		want   []cond
	}{
		"Ready": {"Ready=True alone", func(c *[]metav1.Condition) { Ready(c, 2, "Synced", "ok") },
			[]cond{{v1.ConditionReady, "True", "Synced"}}},
		"Progressing": {"Ready=False and Reconciling=True", func(c *[]metav1.Condition) { Progressing(c, 2, "Waiting", "w") },
			[]cond{{v1.ConditionReady, "False", "Waiting"}, {v1.ConditionReconciling, "True", "Waiting"}}},
		"Stalled": {"Ready=False and Stalled=True", func(c *[]metav1.Condition) { Stalled(c, 2, "Rejected", "r") },
			[]cond{{v1.ConditionReady, "False", "Rejected"}, {v1.ConditionStalled, "True", "Rejected"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			// Start from the opposite states, so each setter must clear them.
			conds := []metav1.Condition{
				{Type: v1.ConditionStalled, Status: metav1.ConditionTrue, Reason: "Old"},
				{Type: v1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "Old"},
			}
			tc.set(&conds)
			sort := cmpopts.SortSlices(func(a, b cond) bool { return a.Type < b.Type })
			if diff := cmp.Diff(tc.want, summary(conds), sort); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
			for _, c := range conds {
				if c.ObservedGeneration != 2 {
					t.Errorf("%s: observedGeneration %d, want 2", c.Type, c.ObservedGeneration)
				}
			}
		})
	}
}

func TestJitter(t *testing.T) {
	for range 100 {
		if got := Jitter(10 * time.Second); got < 10*time.Second || got > 11*time.Second {
			t.Fatalf("Jitter(10s) = %s, want within [10s, 11s]", got)
		}
	}
}

// TestPatchStatus: the status is written only when it changed; nil and
// empty lists are the same status (as on the wire).
func TestPatchStatus(t *testing.T) {
	ctx := context.Background()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	base := &v1.Tenant{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "acme"},
		Status: v1.TenantStatus{ManagedStatus: v1.ManagedStatus{ID: "id-1", Version: 1}}}
	cases := map[string]struct {
		change func(*v1.Tenant)
		want   bool
	}{
		"Unchanged":         {change: func(*v1.Tenant) {}},
		"NilToEmptyList":    {change: func(t *v1.Tenant) { t.Status.Conditions = []metav1.Condition{} }},
		"NewVersion":        {change: func(t *v1.Tenant) { t.Status.Version = 2 }, want: true},
		"ConditionAdded":    {change: func(t *v1.Tenant) { Ready(&t.Status.Conditions, 1, "Synced", "ok") }, want: true},
		"SpecChangeIgnored": {change: func(t *v1.Tenant) { t.Spec.DisplayName = "other" }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var patches int
			c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme).WithObjects(base.DeepCopy()).WithStatusSubresource(&v1.Tenant{}).Build(),
				interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
					patches++
					return c.SubResource(sub).Patch(ctx, obj, patch, opts...)
				}})
			orig := &v1.Tenant{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(base), orig); err != nil {
				t.Fatal(err)
			}
			obj := orig.DeepCopy()
			tc.change(obj)
			changed, err := PatchStatus(ctx, c, orig, obj)
			if err != nil {
				t.Fatal(err)
			}
			if changed != tc.want || (patches == 1) != tc.want {
				t.Errorf("changed = %t with %d patches, want %t", changed, patches, tc.want)
			}
		})
	}
}
