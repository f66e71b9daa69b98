package operator

import (
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// lastApplied is the annotation client-side `kubectl apply` keeps a whole
// copy of the object in.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// CacheOptions is how the manager caches objects: only in the given
// namespaces plus the operator's own (where a ClusterAccountServer's Secret
// lives) when namespaces are given, every namespace otherwise
// (cluster-scoped kinds are cached cluster-wide either way); and without
// what the operator never reads. At ten thousand tenants, managedFields and
// kubectl's last-applied copy are more than half of each cached object.
func CacheOptions(namespaces []string, ownNamespace string) cache.Options {
	opts := cache.Options{DefaultTransform: StripForCache}
	if len(namespaces) == 0 {
		return opts
	}
	opts.DefaultNamespaces = map[string]cache.Config{}
	for _, ns := range namespaces {
		opts.DefaultNamespaces[ns] = cache.Config{}
	}
	if ownNamespace != "" {
		opts.DefaultNamespaces[ownNamespace] = cache.Config{}
	}
	return opts
}

// StripForCache drops managedFields and the last-applied annotation of an
// object before the cache keeps it. The operator writes with patches made
// from what it read, so neither is ever sent back.
func StripForCache(in any) (any, error) {
	o, err := meta.Accessor(in)
	if err != nil {
		// Not an object (a tombstone): keep as is.
		return in, nil
	}
	o.SetManagedFields(nil)
	if a := o.GetAnnotations(); a != nil {
		if _, ok := a[lastApplied]; ok {
			delete(a, lastApplied)
			o.SetAnnotations(a)
		}
	}
	return in, nil
}
