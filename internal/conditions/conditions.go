// Package conditions holds what every controller of the operator does with
// status the same way: the Ready, Reconciling and Stalled conditions that
// kstatus-based tools (kubectl wait, Flux, Argo CD) read, the jitter that
// spreads resyncs, and the status patch that is sent only when something
// changed.
package conditions

import (
	"context"
	"math/rand/v2"
	"reflect"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Ready says the object matches its spec: Ready=True, no Reconciling, no
// Stalled.
func Ready(conds *[]metav1.Condition, gen int64, reason, msg string) {
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.RemoveStatusCondition(conds, v1.ConditionReconciling)
	meta.RemoveStatusCondition(conds, v1.ConditionStalled)
}

// Progressing says work is under way or waits for something that will
// come by itself: Ready=False and Reconciling=True with the same reason.
func Progressing(conds *[]metav1.Condition, gen int64, reason, msg string) {
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.RemoveStatusCondition(conds, v1.ConditionStalled)
}

// Stalled says only a change of spec (or of what it names) can help:
// Ready=False and Stalled=True with the same reason.
func Stalled(conds *[]metav1.Condition, gen int64, reason, msg string) {
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: msg, ObservedGeneration: gen})
	meta.RemoveStatusCondition(conds, v1.ConditionReconciling)
}

// Jitter spreads resyncs of many objects over a tenth of the interval, so
// ten thousand tenants do not all ask the server at once.
func Jitter(d time.Duration) time.Duration {
	return d + time.Duration(rand.Int64N(int64(d/10)+1))
}

// PatchStatus writes obj's status in one merge patch against orig, and only
// when it differs: a steady-state reconcile writes nothing to the API
// server. An object deleted meanwhile is not an error.
func PatchStatus(ctx context.Context, c client.Client, orig, obj client.Object) (changed bool, err error) {
	before, err := statusOf(orig)
	if err != nil {
		return false, err
	}
	after, err := statusOf(obj)
	if err != nil {
		return false, err
	}
	if equality.Semantic.DeepEqual(before, after) {
		return false, nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(orig)); err != nil && !apierrors.IsNotFound(err) {
		return true, err
	}
	return true, nil
}

// statusOf is the object's Status field, compared with equality.Semantic
// (nil and empty lists are equal, as on the wire). Objects without one are
// converted to unstructured, which costs a map per field: done twice for
// every reconcile, that conversion was a fifth of what the manager
// allocated.
func statusOf(o runtime.Object) (any, error) {
	if v := reflect.Indirect(reflect.ValueOf(o)); v.Kind() == reflect.Struct {
		if f := v.FieldByName("Status"); f.IsValid() && f.CanInterface() {
			return f.Interface(), nil
		}
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	return u["status"], nil
}
