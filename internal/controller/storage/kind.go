package storage

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/controller/offeringitemquota"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Indexes of Storages: by the Location their locationRef names, by their
// locationID (both: what a Location's deletion waits for), and by their
// own name (what an OfferingItemQuota's infraRef names).
const (
	LocationRefIndex = ".spec.locationRef.name"
	LocationIDIndex  = ".spec.locationID"
	NameIndex        = ".storage.name"
)

func locationRefNames(s *v1.Storage) []string {
	if ref := s.Spec.LocationRef; ref != nil {
		return []string{ref.Name}
	}
	return nil
}

func locationIDs(s *v1.Storage) []string {
	if s.Spec.LocationID != "" {
		return []string{s.Spec.LocationID}
	}
	return nil
}

func ownName(s *v1.Storage) []string { return []string{s.Name} }

// infraRefNames gives the Storages an OfferingItemQuota names by
// items[].infraRef.
func infraRefNames(o client.Object) []string {
	q, ok := o.(*v1.OfferingItemQuota)
	if !ok {
		return nil
	}
	return offeringitemquota.InfraRefNames(q)
}

// Dependants are the OfferingItemQuotas of the namespace whose items name
// this Storage by infraRef: they lose their storage with it.
func (e *External) Dependants(ctx context.Context, s *v1.Storage) ([]string, error) {
	return managed.Referencing(ctx, e.Reader, &v1.OfferingItemQuotaList{}, "OfferingItemQuota", s.Namespace, offeringitemquota.InfraRefIndex, s.Name)
}

// Kind registers Storages with the loop. The Location a locationRef names
// wakes a Storage waiting for its ID; an OfferingItemQuota that names a
// Storage by infraRef wakes it when it changes or goes, so a deletion
// waiting for it goes on.
var Kind = tenant.Kind[*v1.Storage, *remote, resolved]{
	Name: "Storage",
	External: func(s tenant.Scope[*v1.Storage]) managed.External[*v1.Storage, *remote, resolved] {
		return &External{Scope: s}
	},
	References: []managed.Reference[*v1.Storage]{
		{Field: LocationRefIndex, Target: &v1.Location{}, Names: locationRefNames},
		{Field: LocationIDIndex, Names: locationIDs},
		{Field: NameIndex, Target: &v1.OfferingItemQuota{}, Names: ownName, Values: infraRefNames},
	},
}
