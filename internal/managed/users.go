package managed

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// usersRegistry is the part of connection.Registry that learns who uses a
// connection.
type usersRegistry interface {
	AddUsers(connection.UsersFunc)
}

// usersOf lists the objects of a kind with a Deleter that still hold the
// operator's finalizer and reach the server through the connection key, whether they
// name it or inherit it (from a parent, a tenant). An object whose
// connection cannot be told is counted: it may need the connection to
// finish its deletion. From the cache: no request.
func (r *Reconciler[O, R, X]) usersOf(ctx context.Context, key connection.Key, newList func() client.ObjectList) ([]string, error) {
	list := newList()
	var opts []client.ListOption
	if key.Kind == connection.KindAccountServer {
		opts = append(opts, client.InNamespace(key.Namespace))
	}
	if err := r.Client.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, item := range items {
		o, ok := item.(O)
		if !ok || !controllerutil.ContainsFinalizer(o, v1.Finalizer) {
			continue
		}
		name := fmt.Sprintf("%s %s/%s", r.Kind, o.GetNamespace(), o.GetName())
		ref, err := r.External.ConnectionRef(ctx, o)
		if err != nil {
			out = append(out, name+" (its connection cannot be told: "+err.Error()+")")
			continue
		}
		if refKey(ref, o.GetNamespace()) == key {
			out = append(out, name)
		}
	}
	return out, nil
}

// refKey is the connection a reference from namespace names.
func refKey(ref v1.AccountServerReference, namespace string) connection.Key {
	if ref.Kind == connection.KindClusterAccountServer {
		return connection.Key{Kind: connection.KindClusterAccountServer, Name: ref.Name}
	}
	return connection.Key{Kind: connection.KindAccountServer, Namespace: namespace, Name: ref.Name}
}
