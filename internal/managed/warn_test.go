package managed

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/conditions"
)

// TestWarnOnFailure walks one object through a sequence of reconciles,
// each from the status the last one left (or, where said, from an older
// one), and checks the Warning events: one per change of failing reason.
func TestWarnOnFailure(t *testing.T) {
	stalled := func(reason, msg string) func(*[]metav1.Condition) {
		return func(c *[]metav1.Condition) { conditions.Stalled(c, 1, reason, msg) }
	}
	progressing := func(reason, msg string) func(*[]metav1.Condition) {
		return func(c *[]metav1.Condition) { conditions.Progressing(c, 1, reason, msg) }
	}
	ready := func(c *[]metav1.Condition) { conditions.Ready(c, 1, ReasonSynced, "Tenant matches the spec") }
	none := func(*[]metav1.Condition) {}

	steps := []struct {
		name string
		// before is the status the reconcile read; nil: the last step's.
		before func(*[]metav1.Condition)
		after  func(*[]metav1.Condition)
		want   []string
	}{
		{"new object stalls", none, stalled("UnknownApplication", "no such service"), []string{"Warning UnknownApplication no such service"}},
		{"reconciled again, same reason", nil, stalled("UnknownApplication", "no such service"), nil},
		{"same reason, another message", nil, stalled("UnknownApplication", "no such service: Foo"), nil},
		{"a stale read of the status from before the Warning", none, stalled("UnknownApplication", "no such service"), nil},
		{"another failing reason", nil, stalled("ParentNotFound", "no parent"), []string{"Warning ParentNotFound no parent"}},
		{"waiting is not failing", nil, progressing(ReasonWaitingForReference, "waits for Tenant p"), nil},
		{"a transient error is failing", nil, progressing(ReasonTransientError, "503"), []string{"Warning TransientError 503"}},
		{"and stays announced while it lasts", nil, progressing(ReasonTransientError, "503 again"), nil},
		{"fixed", nil, ready, nil},
		{"broken again the first way", nil, stalled("UnknownApplication", "no such service"), []string{"Warning UnknownApplication no such service"}},
		{"fixed again", nil, ready, nil},
	}
	rec := events.NewFakeRecorder(100)
	r := &Reconciler[*v1.Tenant, remote, resolved]{Kind: "Tenant", Recorder: rec}
	var last []metav1.Condition
	for _, st := range steps {
		orig := &v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: types.UID("uid-1")}}
		if st.before != nil {
			st.before(&orig.Status.Conditions)
		} else {
			orig.Status.Conditions = append([]metav1.Condition(nil), last...)
		}
		obj := orig.DeepCopy()
		st.after(&obj.Status.Conditions)
		r.warnOnFailure(orig, obj)
		if diff := cmp.Diff(st.want, drain(rec)); diff != "" {
			t.Errorf("%s: events -want +got:\n%s", st.name, diff)
		}
		last = obj.Status.Conditions
	}

	t.Run("a restarted process does not repeat the Warning its predecessor sent", func(t *testing.T) {
		fresh := &Reconciler[*v1.Tenant, remote, resolved]{Kind: "Tenant", Recorder: rec}
		orig := &v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme", UID: types.UID("uid-2")}}
		stalled("UnknownApplication", "no such service")(&orig.Status.Conditions)
		obj := orig.DeepCopy()
		fresh.warnOnFailure(orig, obj)
		if got := drain(rec); got != nil {
			t.Errorf("events = %v, want none", got)
		}
	})
}
