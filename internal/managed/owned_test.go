package managed

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

func TestWriteOwned(t *testing.T) {
	owner := tenant(func(t *v1.Tenant) { t.UID = types.UID("uid-owner") })
	ownerRef := metav1.OwnerReference{APIVersion: v1.GroupVersion.String(), Kind: "Tenant", Name: name,
		UID: "uid-owner", Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	existing := func(data string, refs ...metav1.OwnerReference) *corev1.ConfigMap {
		return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report", OwnerReferences: refs},
			Data: map[string]string{"report.csv": data}}
	}
	setData := func(data string) func(cm *corev1.ConfigMap) error {
		return func(cm *corev1.ConfigMap) error {
			cm.Data = map[string]string{"report.csv": data}
			return nil
		}
	}

	type want struct {
		changed bool
		err     error
		// data is the ConfigMap's data afterwards; nil: there is none.
		data   map[string]string
		owners []metav1.OwnerReference
		writes int32
	}
	cases := map[string]struct {
		reason string
		owner  client.Object
		objs   []client.Object
		funcs  interceptor.Funcs
		mutate func(*corev1.ConfigMap) error
		want   want
	}{
		"Create": {
			reason: "a missing object is created with the content and owner as its controller",
			mutate: setData("a,b"),
			want: want{changed: true, data: map[string]string{"report.csv": "a,b"},
				owners: []metav1.OwnerReference{ownerRef}, writes: 1},
		},
		"CreateMutateFails": {
			reason: "a content that cannot be made creates nothing",
			mutate: func(*corev1.ConfigMap) error { return errors.New("no files yet") },
			want:   want{err: errors.New("no files yet")},
		},
		"CreateOwnerElsewhere": {
			reason: "an owner in another namespace cannot control the object: nothing is created",
			owner: tenant(func(t *v1.Tenant) {
				t.UID, t.Namespace = "uid-owner", "team-b"
			}),
			mutate: setData("a,b"),
			want:   want{err: errors.New("cross-namespace owner references are disallowed")},
		},
		"CreateFails": {
			reason: "a failed create is returned",
			funcs: interceptor.Funcs{Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
				return internal()
			}},
			mutate: setData("a,b"),
			want:   want{changed: true, err: internal()},
		},
		"Update": {
			reason: "an owned object whose content differs is updated",
			objs:   []client.Object{existing("old", ownerRef)},
			mutate: setData("new"),
			want: want{changed: true, data: map[string]string{"report.csv": "new"},
				owners: []metav1.OwnerReference{ownerRef}, writes: 1},
		},
		"Unchanged": {
			reason: "an owned object with the content already sends nothing",
			objs:   []client.Object{existing("same", ownerRef)},
			mutate: setData("same"),
			want: want{data: map[string]string{"report.csv": "same"},
				owners: []metav1.OwnerReference{ownerRef}},
		},
		"UpdateMutateFails": {
			reason: "a content that cannot be made changes nothing",
			objs:   []client.Object{existing("old", ownerRef)},
			mutate: func(*corev1.ConfigMap) error { return errors.New("no files yet") },
			want: want{err: errors.New("no files yet"), data: map[string]string{"report.csv": "old"},
				owners: []metav1.OwnerReference{ownerRef}},
		},
		"NotOwned": {
			reason: "an object of that name someone else made is left alone: Stalled NotOwned",
			objs:   []client.Object{existing("theirs")},
			mutate: setData("ours"),
			want: want{err: Stalled(ReasonNotOwned, "ConfigMap report exists and is not owned by this object; delete it or choose another name"),
				data: map[string]string{"report.csv": "theirs"}},
		},
		"OwnedByAnother": {
			reason: "an object another controller owns is left alone",
			objs: []client.Object{existing("theirs", metav1.OwnerReference{APIVersion: "v1", Kind: "Tenant", Name: "other",
				UID: "uid-other", Controller: ptr.To(true)})},
			mutate: setData("ours"),
			want: want{err: Stalled(ReasonNotOwned, "ConfigMap report exists and is not owned by this object; delete it or choose another name"),
				data: map[string]string{"report.csv": "theirs"},
				owners: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Tenant", Name: "other",
					UID: "uid-other", Controller: ptr.To(true)}}},
		},
		"ReadFails": {
			reason: "a failed read is returned",
			funcs: interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
				return internal()
			}},
			mutate: setData("a,b"),
			want:   want{err: internal()},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			base := newFake(tc.objs...)
			var writes atomic.Int32
			funcs := tc.funcs
			create, update := funcs.Create, funcs.Update
			funcs.Create = func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				if create != nil {
					return create(ctx, c, obj, opts...)
				}
				writes.Add(1)
				return c.Create(ctx, obj, opts...)
			}
			funcs.Update = func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if update != nil {
					return update(ctx, c, obj, opts...)
				}
				writes.Add(1)
				return c.Update(ctx, obj, opts...)
			}
			c := interceptor.NewClient(base, funcs)
			o := tc.owner
			if o == nil {
				o = owner
			}
			cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "report"}}
			changed, err := WriteOwned(ctx, c, c, o, cm, func() error { return tc.mutate(cm) })

			got := want{changed: changed, err: err, writes: writes.Load()}
			after := &corev1.ConfigMap{}
			if gerr := base.Get(ctx, client.ObjectKeyFromObject(cm), after); gerr == nil {
				got.data, got.owners = after.Data, after.OwnerReferences
			} else if !apierrors.IsNotFound(gerr) {
				t.Fatal(gerr)
			}
			errText := cmp.Comparer(func(a, b error) bool {
				if a == nil || b == nil {
					return a == nil && b == nil
				}
				return a.Error() == b.Error() || strings.Contains(a.Error(), b.Error()) || strings.Contains(b.Error(), a.Error())
			})
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{}), errText); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
			if s, ok := asStalled(tc.want.err); ok {
				if gs, gok := asStalled(err); !gok || gs.Reason != s.Reason {
					t.Errorf("%s: error %v, want a StalledError with reason %s", tc.reason, err, s.Reason)
				}
			}
		})
	}
}

func TestCheckOwned(t *testing.T) {
	owner := tenant(func(t *v1.Tenant) { t.UID = types.UID("uid-owner") })
	ours := metav1.OwnerReference{APIVersion: v1.GroupVersion.String(), Kind: "Tenant", Name: name,
		UID: "uid-owner", Controller: ptr.To(true)}
	secret := func(refs ...metav1.OwnerReference) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds", OwnerReferences: refs}}
	}
	notOwned := Stalled(ReasonNotOwned, "Secret creds exists and is not owned by this object; delete it or choose another name")
	cases := map[string]struct {
		reason string
		objs   []client.Object
		funcs  interceptor.Funcs
		want   error
	}{
		"Missing":  {reason: "no Secret of that name: nothing to refuse"},
		"Ours":     {reason: "a Secret this object controls may be written", objs: []client.Object{secret(ours)}},
		"NotOwned": {reason: "a Secret someone else made is refused", objs: []client.Object{secret()}, want: notOwned},
		"OwnedByAnother": {reason: "a Secret another object controls is refused", want: notOwned,
			objs: []client.Object{secret(metav1.OwnerReference{APIVersion: "v1", Kind: "Tenant", Name: "other", UID: "uid-other", Controller: ptr.To(true)})}},
		"ReadFails": {reason: "a failed read is returned", want: internal(),
			funcs: interceptor.Funcs{Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
				return internal()
			}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := interceptor.NewClient(newFake(tc.objs...), tc.funcs)
			err := CheckOwned(context.Background(), c, owner, corev1.SchemeGroupVersion.WithKind("Secret"), "creds")
			if (err == nil) != (tc.want == nil) || (err != nil && err.Error() != tc.want.Error()) {
				t.Fatalf("%s: error %v, want %v", tc.reason, err, tc.want)
			}
			if s, ok := asStalled(tc.want); ok {
				if gs, gok := asStalled(err); !gok || gs.Reason != s.Reason {
					t.Errorf("%s: error %v, want a StalledError with reason %s", tc.reason, err, s.Reason)
				}
			}
		})
	}
}
