package location

import (
	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// The capabilities of the kind, as the loop finds them when it is built:
// the build fails if a method's signature drifts from its interface.
var (
	_ managed.External[*v1.Location, *remote, resolved] = &External{}
	_ managed.Deleter[*v1.Location, *remote, resolved]  = &External{}
	_ managed.Finder[*v1.Location, *remote, resolved]   = &External{}
	_ managed.Adopter[*v1.Location, *remote, resolved]  = &External{}
	_ managed.Blocker[*v1.Location]                     = &External{}
)
