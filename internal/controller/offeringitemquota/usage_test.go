package offeringitemquota

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func TestReadsUsage(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const resync = 10 * time.Minute
	ready := func(gen int64) metav1.Condition {
		return metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Synced", ObservedGeneration: gen}
	}
	quota := func(gen, observed int64, cond *metav1.Condition, usageAge time.Duration) *v1.OfferingItemQuota {
		q := &v1.OfferingItemQuota{ObjectMeta: metav1.ObjectMeta{Generation: gen}}
		q.Status.ObservedGeneration = observed
		if cond != nil {
			q.Status.Conditions = []metav1.Condition{*cond}
		}
		if usageAge > 0 {
			q.Status.UsageObservedAt = &metav1.Time{Time: now.Add(-usageAge)}
		}
		return q
	}
	cases := map[string]struct {
		reason string
		q      *v1.OfferingItemQuota
		want   bool
	}{
		"Create": {
			reason: "The reconcile that creates (nothing recorded yet) sends the spec without reading usage.",
			q:      quota(1, 0, nil, 0),
			want:   false,
		},
		"CreateAfterWaiting": {
			reason: "An object that waited for its Tenant has an outcome at its generation, but was never Ready.",
			q:      quota(1, 1, &metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: "WaitingForReference", ObservedGeneration: 1}, 0),
			want:   false,
		},
		"FirstResync": {
			reason: "The first resync after the create reads usage.",
			q:      quota(1, 1, ptr.To(ready(1)), 0),
			want:   true,
		},
		"ResyncWithAnOldReading": {
			reason: "A resync reads usage once the last reading is older than the interval.",
			q:      quota(1, 1, ptr.To(ready(1)), resync),
			want:   true,
		},
		"ResyncWithAFreshReading": {
			reason: "A reconcile within the interval of the last reading does not read it again.",
			q:      quota(1, 1, ptr.To(ready(1)), resync-time.Second),
			want:   false,
		},
		"SpecChange": {
			reason: "A spec change does not read usage, however old the last reading.",
			q:      quota(2, 1, ptr.To(ready(1)), 2*resync),
			want:   false,
		},
		"AfterAFailure": {
			reason: "A retry after a failure at this generation waits for the next resync after Ready.",
			q:      quota(1, 1, &metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: "TransientError", ObservedGeneration: 1}, 2*resync),
			want:   false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, readsUsage(tc.q, resync, now)); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
