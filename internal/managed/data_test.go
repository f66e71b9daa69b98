package managed

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestReadIfChanged(t *testing.T) {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"},
		Data: map[string][]byte{"password": []byte("s3cret")}}
	emptySecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "empty"}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "logo"},
		Data: map[string]string{"text": "hello"}, BinaryData: map[string][]byte{"logo.png": {0x89, 'P', 'N', 'G'}}}
	// The cache and the direct reader are one fake: both see the same
	// resourceVersion ("999" for objects built in).
	both := newFake(secret, emptySecret, cm)
	empty := newFake()

	type want struct {
		data     map[string][]byte
		version  string
		notFound bool
	}
	cases := map[string]struct {
		reason string
		cache  client.Reader
		direct client.Reader
		src    DataSource
		seen   func(string) bool
		want   want
	}{
		"SecretNoSeen": {
			reason: "without seen the Secret is read",
			cache:  both, direct: both,
			src:  DataSource{Kind: "Secret", Namespace: ns, Name: "creds"},
			want: want{data: map[string][]byte{"password": []byte("s3cret")}, version: "999"},
		},
		"SecretSeen": {
			reason: "a Secret whose resourceVersion was seen is not read: no data, its version",
			cache:  both, direct: empty,
			src:  DataSource{Kind: "Secret", Namespace: ns, Name: "creds"},
			seen: func(rv string) bool { return rv == "999" },
			want: want{version: "999"},
		},
		"SecretChanged": {
			reason: "a Secret whose resourceVersion was not seen is read around the cache",
			cache:  both, direct: both,
			src:  DataSource{Kind: "Secret", Namespace: ns, Name: "creds"},
			seen: func(rv string) bool { return rv == "998" },
			want: want{data: map[string][]byte{"password": []byte("s3cret")}, version: "999"},
		},
		"SecretWithoutData": {
			reason: "a Secret without data reads as empty data, not none",
			cache:  both, direct: both,
			src:  DataSource{Kind: "Secret", Namespace: ns, Name: "empty"},
			want: want{data: map[string][]byte{}, version: "999"},
		},
		"SecretNotFound": {
			reason: "a missing Secret is the cache's NotFound",
			cache:  empty, direct: both,
			src:  DataSource{Kind: "Secret", Namespace: ns, Name: "creds"},
			want: want{notFound: true},
		},
		"SecretGoneMeanwhile": {
			reason: "a Secret the direct reader no longer finds is its NotFound",
			cache:  both, direct: empty,
			src:  DataSource{Kind: "Secret", Namespace: ns, Name: "creds"},
			want: want{notFound: true},
		},
		"ConfigMap": {
			reason: "a ConfigMap's data and binaryData are merged",
			cache:  both, direct: both,
			src:  DataSource{Kind: "ConfigMap", Namespace: ns, Name: "logo"},
			seen: func(string) bool { return false },
			want: want{data: map[string][]byte{"text": []byte("hello"), "logo.png": {0x89, 'P', 'N', 'G'}}, version: "999"},
		},
		"ConfigMapSeen": {
			reason: "a ConfigMap already seen is not read",
			cache:  both, direct: empty,
			src:  DataSource{Kind: "ConfigMap", Namespace: ns, Name: "logo"},
			seen: func(string) bool { return true },
			want: want{version: "999"},
		},
		"ConfigMapNotFound": {
			reason: "a missing ConfigMap is the cache's NotFound",
			cache:  empty, direct: both,
			src:  DataSource{Kind: "ConfigMap", Namespace: ns, Name: "logo"},
			want: want{notFound: true},
		},
		"ConfigMapGoneMeanwhile": {
			reason: "a ConfigMap the direct reader no longer finds is its NotFound",
			cache:  both, direct: empty,
			src:  DataSource{Kind: "ConfigMap", Namespace: ns, Name: "logo"},
			want: want{notFound: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			data, rv, err := ReadIfChanged(context.Background(), tc.cache, tc.direct, tc.src, tc.seen)
			got := want{data: data, version: rv, notFound: apierrors.IsNotFound(err)}
			if err != nil && !got.notFound {
				t.Fatalf("%s: unexpected error %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
