package offeringitemquota

import (
	"context"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// This file resolves items[].infraRef: a Storage object named instead of
// the storage's UUID (infraID). Once resolved, an item is the same as one
// with that infraID.

// InfraRefIndex indexes OfferingItemQuotas by the Storages their items
// name by infraRef.
const InfraRefIndex = ".spec.items.infraRef.name"

// InfraRefNames are the Storages q's items name by infraRef, each once.
func InfraRefNames(q *v1.OfferingItemQuota) []string {
	var names []string
	for _, it := range q.Spec.Items {
		if ref := it.InfraRef; ref != nil && !slices.Contains(names, ref.Name) {
			names = append(names, ref.Name)
		}
	}
	return names
}

// infraOf is the storage an item is bound to: its infraID, or the
// status.id of the Storage its infraRef names, waiting
// (WaitingForReference) while that Storage does not exist or has no ID.
func infraOf(ctx context.Context, reader client.Reader, namespace string, it v1.OfferingItemSpec) (string, error) {
	ref := it.InfraRef
	if ref == nil {
		return it.InfraID, nil
	}
	s := &v1.Storage{}
	// Read only: no copy of the cached Storage.
	if err := reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, s, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return "", managed.Waiting(managed.ReasonWaitingForReference, "waiting for Storage %s (item %s of %s) to exist", ref.Name, it.Name, it.Application)
		}
		return "", err
	}
	if s.Status.ID == "" {
		return "", managed.Waiting(managed.ReasonWaitingForReference, "waiting for Storage %s (item %s of %s) to be created", ref.Name, it.Name, it.Application)
	}
	return s.Status.ID, nil
}

// claimKey is what tells the storage of an item apart when two objects'
// items are compared: its infraID, or the status.id of the Storage its
// infraRef names, or, while that Storage has none, the Storage itself.
func claimKey(ctx context.Context, reader client.Reader, namespace string, it v1.OfferingItemSpec) string {
	id, err := infraOf(ctx, reader, namespace, it)
	if err != nil {
		return "ref:" + namespace + "/" + it.InfraRef.Name
	}
	return id
}
