package managed

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// failing returns the reason and message of a condition that asks for
// attention: Stalled (only a change can help), or a transient error (the
// server is failing). Waiting for a reference or a connection is not
// failing: those show as the thing waited for fails, or not at all.
func failing(conds []metav1.Condition) (reason, msg string, ok bool) {
	if c := meta.FindStatusCondition(conds, v1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		return c.Reason, c.Message, true
	}
	if c := meta.FindStatusCondition(conds, v1.ConditionReady); c != nil && c.Status == metav1.ConditionFalse && c.Reason == ReasonTransientError {
		return c.Reason, c.Message, true
	}
	return "", "", false
}

// warnOnFailure emits one Warning event when obj enters a failing reason:
// once per change of reason, never once per reconcile. Both the status
// read at the start of the reconcile and the last reason this process
// warned of must differ, so a reconcile that reads a cache from before its
// own status write does not warn twice.
func (r *Reconciler[O, R, X]) warnOnFailure(orig, obj O) {
	reason, msg, ok := failing(obj.ManagedStatus().Conditions)
	if !ok {
		r.warned.Delete(obj.GetUID())
		return
	}
	if before, _, was := failing(orig.ManagedStatus().Conditions); was && before == reason {
		r.warned.Store(obj.GetUID(), reason)
		return
	}
	if last, seen := r.warned.Swap(obj.GetUID(), reason); seen && last == reason {
		return
	}
	r.event(obj, corev1.EventTypeWarning, reason, "Reconcile", "%s", msg)
}

// forgetWarned drops what warnOnFailure remembers of a released object.
func (r *Reconciler[O, R, X]) forgetWarned(obj O) { r.warned.Delete(obj.GetUID()) }
