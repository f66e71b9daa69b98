/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package managed

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// ReasonNotOwned: a Kubernetes object the kind writes (a Secret, a
// ConfigMap) exists already and belongs to someone else.
const ReasonNotOwned = "NotOwned"

// Publisher is implemented by kinds that copy what they read from the
// server into Kubernetes objects they own (a report's files into a
// ConfigMap). The loop calls Publish after the remote object matches the
// spec and SetStatus ran, on every reconcile, also in ObserveOnly (it
// writes to the API server only); it writes only what changed and may
// record what it wrote in the object's status.
type Publisher[O Object, R Remote] interface {
	Publish(ctx context.Context, req *Request[O], remote R) error
}

// Replacer is implemented by kinds whose remote object cannot take some
// changes in place (a report's formats, say). MustReplace names the spec
// fields that differ in that way; when it names any, the loop replaces the
// remote object crash-safely: it records the old ID on the object, creates
// the new one under the create marker (recovering an interrupted attempt by
// natural key, never twinning), records the new ID, then deletes the old
// object. Diff and Update then only see what can change in place.
type Replacer[O Object, R Remote] interface {
	MustReplace(req *Request[O], remote R) []string
}

// Poller is implemented by kinds whose remote object keeps changing on its
// own for a while after a write (a report being generated): while PollAfter
// returns a positive duration shorter than the resync interval, the loop
// looks again after it instead of waiting for the resync.
type Poller[O Object, R Remote] interface {
	PollAfter(req *Request[O], remote R) time.Duration
}

// WriteOwned creates obj (its name and namespace set), or updates the
// existing one, as a dependent of owner: owner is its controller, so the
// garbage collector deletes it with owner. mutate sets the desired content
// on the object as read (or on obj when there is none yet); nothing is sent
// when that changes nothing. An object of that name that owner does not
// control is left alone: a Stalled error with reason NotOwned. reader reads
// around the cache for kinds the manager caches by metadata only (Secrets).
func WriteOwned(ctx context.Context, c client.Client, reader client.Reader, owner, obj client.Object, mutate func() error) (changed bool, err error) {
	key := client.ObjectKeyFromObject(obj)
	kind := "object"
	if gvk, err := apiutil.GVKForObject(obj, c.Scheme()); err == nil {
		kind = gvk.Kind
	}
	if err := reader.Get(ctx, key, obj); err != nil {
		if !apierrors.IsNotFound(err) {
			return false, err
		}
		obj.SetName(key.Name)
		obj.SetNamespace(key.Namespace)
		if err := mutate(); err != nil {
			return false, err
		}
		if err := controllerutil.SetControllerReference(owner, obj, c.Scheme()); err != nil {
			return false, err
		}
		return true, c.Create(ctx, obj)
	}
	if !metav1.IsControlledBy(obj, owner) {
		return false, Stalled(ReasonNotOwned, "%s %s exists and is not owned by this object; delete it or choose another name", kind, key.Name)
	}
	before := obj.DeepCopyObject()
	if err := mutate(); err != nil {
		return false, err
	}
	if equality.Semantic.DeepEqual(before, obj) {
		return false, nil
	}
	return true, c.Update(ctx, obj)
}
