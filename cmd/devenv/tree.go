package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/plugin"
)

// printTree prints what `kubectl accounts tree` shows of the control plane: of the one namespace
// the applied objects of the accounts group are in, else of every namespace (-A). It is the
// plugin's own code, run in this process, reading only the local API server.
func printTree(ctx context.Context, k8s client.Reader, applied []client.Object, out io.Writer) error {
	var namespaces []string
	for _, o := range applied {
		if o.GetObjectKind().GroupVersionKind().Group == v1.GroupVersion.Group && o.GetNamespace() != "" && !slices.Contains(namespaces, o.GetNamespace()) {
			namespaces = append(namespaces, o.GetNamespace())
		}
	}
	ns, args := "", "-A"
	if len(namespaces) == 1 {
		ns, args = namespaces[0], "-n "+namespaces[0]
	}
	tree, err := plugin.BuildTree(ctx, k8s, ns)
	if err != nil {
		return fmt.Errorf("kubectl accounts tree: %w", err)
	}
	fmt.Fprintf(out, "devenv: kubectl accounts tree %s\n\n", args)
	if err := tree.WriteText(out); err != nil {
		return err
	}
	fmt.Fprintln(out)
	return nil
}
