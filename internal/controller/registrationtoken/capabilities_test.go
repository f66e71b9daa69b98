package registrationtoken

import (
	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// The capabilities of the kind, as the loop finds them when it is built:
// the build fails if a method's signature drifts from its interface.
var (
	_ managed.External[*v1.RegistrationToken, *remote, resolved] = &External{}
	_ managed.Deleter[*v1.RegistrationToken, *remote, resolved]  = &External{}
	_ managed.Finder[*v1.RegistrationToken, *remote, resolved]   = &External{}
	_ managed.Adopter[*v1.RegistrationToken, *remote, resolved]  = &External{}
	_ managed.Replacer[*v1.RegistrationToken, *remote, resolved] = &External{}
	_ managed.Poller[*v1.RegistrationToken, *remote, resolved]   = &External{}
)
