// Package version carries the build's version, stamped by the linker:
//
//	go build -ldflags "-X github.com/tenant-operator/tenant-operator/internal/version.Version=v1.2.3"
package version

// Version is the operator's release; "dev" for unstamped builds.
var Version = "dev"

// UserAgent is what the operator calls itself on the wire.
func UserAgent() string { return "tenant-operator/" + Version }
