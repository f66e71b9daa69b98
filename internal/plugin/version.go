package plugin

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tenant-operator/tenant-operator/internal/version"
)

func init() { register(newVersionCommand) }

func newVersionCommand(o *Options) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(o.Out, "kubectl-accounts %s\n", version.Version)
			return err
		},
	}
}
