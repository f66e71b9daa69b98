package offeringitemquota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// TestPeerWakes: a changed OfferingItemQuota wakes the peers of its tenant
// only once it has an outcome (or goes), and only peers that may wait for
// it. An object in the middle of its own create is neither: its writes
// must not wake it again.
func TestPeerWakes(t *testing.T) {
	quota := func(gen, observed int64, conds ...metav1.Condition) *v1.OfferingItemQuota {
		q := &v1.OfferingItemQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: "default", Generation: gen},
			Spec:       v1.OfferingItemQuotaSpec{TenantRef: &v1.LocalReference{Name: "acme"}},
		}
		q.Status.ObservedGeneration, q.Status.Conditions = observed, conds
		return q
	}
	ready := metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: managed.ReasonSynced, ObservedGeneration: 1}
	claimed := metav1.Condition{Type: v1.ConditionStalled, Status: metav1.ConditionTrue, Reason: ReasonItemClaimed, ObservedGeneration: 1}
	deleting := quota(1, 0)
	deleting.DeletionTimestamp = &metav1.Time{Time: time.Now()}

	type want struct{ wakes, waits []string }
	cases := map[string]struct {
		reason string
		q      *v1.OfferingItemQuota
		want   want
	}{
		"Creating": {
			reason: "No outcome yet: its writes wake nobody, and it may be checking claims.",
			q:      quota(1, 0),
			want:   want{waits: []string{"ref:default/acme"}},
		},
		"Ready": {
			reason: "Its outcome is in: peers waiting for it may go on; it waits for nobody.",
			q:      quota(1, 1, ready),
			want:   want{wakes: []string{"ref:default/acme"}},
		},
		"Claimed": {
			reason: "Refused for an item a peer manages: it waits for its peers.",
			q:      quota(1, 1, claimed),
			want:   want{wakes: []string{"ref:default/acme"}, waits: []string{"ref:default/acme"}},
		},
		"SpecChanged": {
			reason: "A new generation not handled yet.",
			q:      quota(2, 1, ready),
			want:   want{waits: []string{"ref:default/acme"}},
		},
		"Deleting": {
			reason: "Going frees its items.",
			q:      deleting,
			want:   want{wakes: []string{"ref:default/acme"}, waits: []string{"ref:default/acme"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := want{wakes: settledPeer(tc.q), waits: mayWaitForPeer(tc.q)}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
