package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// pollInterval is how often the local API server is asked for the objects'
// states; it never reaches an account server.
const pollInterval = time.Second

// readyWatcher prints each applied object's Ready state whenever it changes.
type readyWatcher struct {
	k8s     client.Client
	objects []client.Object
	out     io.Writer
	last    map[string]string
}

// newReadyWatcher follows the applied objects of the accounts group; Secrets,
// ConfigMaps and namespaces have no Ready state.
func newReadyWatcher(k8s client.Client, applied []client.Object, out io.Writer) *readyWatcher {
	var objs []client.Object
	for _, o := range applied {
		if o.GetObjectKind().GroupVersionKind().Group == v1.GroupVersion.Group {
			objs = append(objs, o)
		}
	}
	return &readyWatcher{k8s: k8s, objects: objs, out: out, last: map[string]string{}}
}

// poll reads every object once, prints what changed, and reports whether all
// of them are Ready.
func (w *readyWatcher) poll(ctx context.Context) (allReady bool, notReady []string) {
	allReady = true
	for _, o := range w.objects {
		key := o.GetObjectKind().GroupVersionKind().Kind + " " + objectName(o)
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GetObjectKind().GroupVersionKind())
		state := "Ready=Unknown (not reconciled yet)"
		ready := false
		if err := w.k8s.Get(ctx, client.ObjectKeyFromObject(o), u); err != nil {
			state = "cannot read: " + err.Error()
		} else if c := readyCondition(u); c != nil {
			state = fmt.Sprintf("Ready=%s", c.Status)
			if c.Reason != "" {
				state += " (" + c.Reason
				if c.Message != "" {
					state += ": " + c.Message
				}
				state += ")"
			}
			ready = c.Status == metav1.ConditionTrue && c.ObservedGeneration >= u.GetGeneration()
		}
		if w.last[key] != state {
			fmt.Fprintf(w.out, "%s  %-60s %s\n", time.Now().Format("15:04:05"), key, state)
			w.last[key] = state
		}
		if !ready {
			allReady = false
			notReady = append(notReady, key+": "+state)
		}
	}
	sort.Strings(notReady)
	return allReady, notReady
}

func (w *readyWatcher) waitAllReady(ctx context.Context) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		ok, notReady := w.poll(ctx)
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not every applied object became Ready (%v):\n  %s", ctx.Err(), strings.Join(notReady, "\n  "))
		case <-t.C:
		}
	}
}

func (w *readyWatcher) follow(ctx context.Context) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		w.poll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func readyCondition(u *unstructured.Unstructured) *metav1.Condition {
	raw, found, err := unstructured.NestedSlice(u.Object, "status", "conditions")
	if err != nil || !found {
		return nil
	}
	var conds []metav1.Condition
	for _, r := range raw {
		m, ok := r.(map[string]any)
		if !ok {
			continue
		}
		c := metav1.Condition{}
		c.Type, _ = m["type"].(string)
		s, _ := m["status"].(string)
		c.Status = metav1.ConditionStatus(s)
		c.Reason, _ = m["reason"].(string)
		c.Message, _ = m["message"].(string)
		if g, ok := m["observedGeneration"].(int64); ok {
			c.ObservedGeneration = g
		}
		conds = append(conds, c)
	}
	return meta.FindStatusCondition(conds, v1.ConditionReady)
}
