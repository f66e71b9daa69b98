// Command kubectl-accounts is a kubectl plugin for the objects of
// tenant-operator: copy it onto PATH and run `kubectl accounts`. It uses
// the user's kubeconfig and RBAC; for the account server it uses the
// credentials of a connection object the user names.
package main

import (
	"os"

	"github.com/tenant-operator/tenant-operator/internal/plugin"
)

func main() {
	cmd := plugin.NewCommand(plugin.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
