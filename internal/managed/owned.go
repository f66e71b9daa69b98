package managed

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// ReasonNotOwned: a Kubernetes object the kind writes (a Secret, a
// ConfigMap) exists already and belongs to someone else.
const ReasonNotOwned = "NotOwned"

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
		return false, notOwned(kind, key.Name)
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

// CheckOwned refuses, before anything is made that only such an object
// could hold (credentials the server shows once), an object of kind gvk
// and this name in owner's namespace that owner does not control: the
// Stalled error WriteOwned would return later. Only its metadata is read,
// so reader may be the manager's cache.
func CheckOwned(ctx context.Context, reader client.Reader, owner client.Object, gvk schema.GroupVersionKind, name string) error {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(gvk)
	err := reader.Get(ctx, client.ObjectKey{Namespace: owner.GetNamespace(), Name: name}, meta)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return err
	case !metav1.IsControlledBy(meta, owner):
		return notOwned(gvk.Kind, name)
	}
	return nil
}

// notOwned is worded once for every kind that writes an object: a
// UsageReport's ConfigMap, an ApiClient's or RegistrationToken's Secret.
func notOwned(kind, name string) error {
	return Stalled(ReasonNotOwned, "%s %s exists and is not owned by this object; delete it or choose another name", kind, name)
}
