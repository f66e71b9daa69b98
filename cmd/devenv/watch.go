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
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// pollInterval is how often the local API server is asked for the objects'
// states; it never reaches an account server.
const pollInterval = time.Second

// readyWatcher prints each object's Ready state whenever it changes.
type readyWatcher struct {
	k8s     client.Client
	objects []client.Object
	// kinds are the kinds of the accounts group: follow lists them, so
	// objects applied later (by kubectl, helm, ...) are followed too.
	kinds []schema.GroupVersionKind
	out   io.Writer
	last  map[string]string
	// onAllReady, if set, is called once by follow, the first time every object is Ready.
	onAllReady func()
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
	var kinds []schema.GroupVersionKind
	for gvk := range k8s.Scheme().AllKnownTypes() {
		if gvk.GroupVersion() == v1.GroupVersion && !strings.HasSuffix(gvk.Kind, "List") {
			kinds = append(kinds, gvk)
		}
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].Kind < kinds[j].Kind })
	return &readyWatcher{k8s: k8s, objects: objs, kinds: kinds, out: out, last: map[string]string{}}
}

// all lists every object of the accounts group, in every namespace.
func (w *readyWatcher) all(ctx context.Context) []client.Object {
	var objs []client.Object
	for _, gvk := range w.kinds {
		l := &unstructured.UnstructuredList{}
		l.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := w.k8s.List(ctx, l); err != nil {
			continue
		}
		for i := range l.Items {
			u := &l.Items[i]
			u.SetGroupVersionKind(gvk)
			objs = append(objs, u)
		}
	}
	return objs
}

// poll reads every object once, prints what changed, and reports whether all
// of them are Ready.
func (w *readyWatcher) poll(ctx context.Context, objects []client.Object) (allReady bool, notReady []string) {
	allReady = true
	for _, o := range objects {
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
		ok, notReady := w.poll(ctx, w.objects)
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

// follow prints the state changes of every object of the group, those
// applied later included, and each object's disappearance, until ctx ends.
func (w *readyWatcher) follow(ctx context.Context) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		objs := w.all(ctx)
		if ctx.Err() != nil {
			return
		}
		if ok, _ := w.poll(ctx, objs); ok && len(objs) > 0 && w.onAllReady != nil {
			w.onAllReady()
			w.onAllReady = nil
		}
		seen := map[string]bool{}
		for _, o := range objs {
			seen[o.GetObjectKind().GroupVersionKind().Kind+" "+objectName(o)] = true
		}
		var gone []string
		for key := range w.last {
			if !seen[key] {
				gone = append(gone, key)
			}
		}
		sort.Strings(gone)
		for _, key := range gone {
			fmt.Fprintf(w.out, "%s  %-60s %s\n", time.Now().Format("15:04:05"), key, "deleted")
			delete(w.last, key)
		}
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
