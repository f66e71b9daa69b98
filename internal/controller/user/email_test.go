package user

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
)

// TestActivationEmailOverAStaleCache reconciles a User as the cache shows it,
// while the API server holds what the last reconcile wrote: an email that
// reconcile sent must not go again.
func TestActivationEmailOverAStaleCache(t *testing.T) {
	sent := metav1.NewTime(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
	user := func(id string, sentAt *metav1.Time) *v1.User {
		u := &v1.User{
			ObjectMeta: metav1.ObjectMeta{Name: "ada", Namespace: "default"},
			Spec:       v1.UserSpec{TenantID: "t-1", Login: "ada", Activation: v1.Activation{Method: v1.ActivationEmail}},
		}
		u.Status.ID, u.Status.ActivationEmailSentAt = id, sentAt
		return u
	}
	cases := map[string]struct {
		reason string
		cached *v1.User
		stored *v1.User
		want   []string
	}{
		"SentByTheLastReconcile": {
			reason: "The cache lags behind the status write of the reconcile that sent the email.",
			cached: user("u-1", nil),
			stored: user("u-1", &sent),
			want:   nil,
		},
		"NeverSent": {
			reason: "A user whose email never went (a failure after the create) gets it.",
			cached: user("u-1", nil),
			stored: user("u-1", nil),
			want:   []string{"activation email"},
		},
		"Creating": {
			reason: "The reconcile that creates the user sends it; nothing is read around the cache for that.",
			cached: user("", nil),
			stored: user("", &sent),
			want:   []string{"activation email"},
		},
	}
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			direct := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.stored).WithStatusSubresource(tc.stored).Build()
			e := &External{Scope: tenant.Scope[*v1.User]{Direct: direct}}
			req := &request{Object: tc.cached}
			res, err := e.Resolve(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			req.Resolved = res
			got, err := e.Diff(req, &remote{user: &accountserver.User{ID: "u-1", TenantID: "t-1", Login: "ada", Enabled: true}})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
