package location

import (
	"context"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/controller/storage"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// KeyIndex indexes Locations by what a Storage may name them by: "name:"
// and their name (locationRef), "id:" and their status.id (locationID).
const KeyIndex = ".location.keys"

func keys(l *v1.Location) []string {
	out := []string{"name:" + l.Name}
	if l.Status.ID != "" {
		out = append(out, "id:"+l.Status.ID)
	}
	return out
}

// namedBy gives the KeyIndex values of the Locations a Storage names.
func namedBy(o client.Object) []string {
	s, ok := o.(*v1.Storage)
	if !ok {
		return nil
	}
	switch {
	case s.Spec.LocationRef != nil:
		return []string{"name:" + s.Spec.LocationRef.Name}
	case s.Spec.LocationID != "":
		return []string{"id:" + s.Spec.LocationID}
	}
	return nil
}

// Dependants are the Storages of the namespace that sit in this location:
// by locationRef, or by locationID equal to its status.id. The server
// refuses to delete a location that still holds storages.
func (e *External) Dependants(ctx context.Context, l *v1.Location) ([]string, error) {
	deps, err := managed.Referencing(ctx, e.Reader, &v1.StorageList{}, "Storage", l.Namespace, storage.LocationRefIndex, l.Name)
	if err != nil || l.Status.ID == "" {
		return deps, err
	}
	more, err := managed.Referencing(ctx, e.Reader, &v1.StorageList{}, "Storage", l.Namespace, storage.LocationIDIndex, l.Status.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range more {
		if !slices.Contains(deps, d) {
			deps = append(deps, d)
		}
	}
	return deps, nil
}

// Kind registers Locations with the loop. A Storage that names a Location
// wakes it when it changes or goes, so a deletion that waits for the
// location's storages goes on when the last one is gone.
var Kind = tenant.Kind[*v1.Location, *remote, resolved]{
	Name: "Location",
	External: func(s tenant.Scope[*v1.Location]) managed.External[*v1.Location, *remote, resolved] {
		return &External{Scope: s}
	},
	References: []managed.Reference[*v1.Location]{{Field: KeyIndex, Target: &v1.Storage{}, Names: keys, Values: namedBy}},
}
