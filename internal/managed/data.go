package managed

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DataSource is a Secret or ConfigMap whose data a kind uses (a password,
// a logo, an API client's credentials).
type DataSource struct {
	// Kind is "Secret" or "ConfigMap".
	Kind      string
	Namespace string
	Name      string
}

// ReadIfChanged reads a Secret's or ConfigMap's data only when it changed
// since the kind last used it. The manager caches both kinds by metadata
// only: the resourceVersion comes from cache, and only when seen(it) is
// false is the object read, from direct (around the cache). data is nil
// when nothing was read. A missing object is the reader's NotFound error.
func ReadIfChanged(ctx context.Context, cache, direct client.Reader, src DataSource, seen func(resourceVersion string) bool) (data map[string][]byte, resourceVersion string, err error) {
	key := client.ObjectKey{Namespace: src.Namespace, Name: src.Name}
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(src.Kind))
	if err := cache.Get(ctx, key, m); err != nil {
		return nil, "", err
	}
	if seen != nil && seen(m.ResourceVersion) {
		return nil, m.ResourceVersion, nil
	}
	if src.Kind == "ConfigMap" {
		cm := &corev1.ConfigMap{}
		if err := direct.Get(ctx, key, cm); err != nil {
			return nil, "", err
		}
		data = map[string][]byte{}
		for k, v := range cm.Data {
			data[k] = []byte(v)
		}
		for k, v := range cm.BinaryData {
			data[k] = v
		}
		return data, cm.ResourceVersion, nil
	}
	s := &corev1.Secret{}
	if err := direct.Get(ctx, key, s); err != nil {
		return nil, "", err
	}
	if s.Data == nil {
		s.Data = map[string][]byte{}
	}
	return s.Data, s.ResourceVersion, nil
}
