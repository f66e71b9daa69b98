package tenant

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// settledTenant is a Tenant whose create has ended with the given
// condition at generation 1.
func settledTenant(id string, cond metav1.Condition) *v1.Tenant {
	cond.ObservedGeneration = 1
	return &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "default", Generation: 1},
		Status: v1.TenantStatus{ManagedStatus: v1.ManagedStatus{ID: id, ObservedGeneration: 1,
			Conditions: []metav1.Condition{cond}}},
	}
}

var (
	readyCond     = metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: managed.ReasonSynced}
	transientCond = metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: managed.ReasonTransientError}
	waitingCond   = metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: managed.ReasonWaitingForReference}
)

func TestWakesDependantsAndCreating(t *testing.T) {
	type want struct{ wakes, creating bool }
	cases := map[string]struct {
		reason string
		tenant func() *v1.Tenant
		want   want
	}{
		"NotReconciledYet": {
			reason: "A new Tenant: its first reconcile is about to write it several times.",
			tenant: func() *v1.Tenant {
				t := settledTenant("", readyCond)
				t.Status.ObservedGeneration, t.Status.Conditions = 0, nil
				return t
			},
			want: want{},
		},
		"WaitingWithoutID": {
			reason: "A Tenant waiting before its create: its dependants wait too, and say what for.",
			tenant: func() *v1.Tenant { return settledTenant("", waitingCond) },
			want:   want{wakes: true},
		},
		"CreatingAfterWaiting": {
			reason: "The create marker of a Tenant that waited before its create.",
			tenant: func() *v1.Tenant {
				t := settledTenant("", waitingCond)
				t.Annotations = map[string]string{v1.AnnotationCreatePending: "2026-01-01T00:00:00Z"}
				return t
			},
			want: want{},
		},
		"IDWrittenNoOutcomeYet": {
			reason: "status.id is written in the middle of the create; nothing is recorded yet.",
			tenant: func() *v1.Tenant {
				t := settledTenant("t-1", readyCond)
				t.Status.ObservedGeneration, t.Status.Conditions = 0, nil
				return t
			},
			want: want{creating: true},
		},
		"CreateMarkerStillOn": {
			reason: "The marker goes only after status.id is written.",
			tenant: func() *v1.Tenant {
				t := settledTenant("t-1", waitingCond)
				t.Annotations = map[string]string{v1.AnnotationCreatePending: "2026-01-01T00:00:00Z"}
				return t
			},
			want: want{creating: true},
		},
		"Ready": {
			reason: "A Tenant Ready at its generation wakes its dependants.",
			tenant: func() *v1.Tenant { return settledTenant("t-1", readyCond) },
			want:   want{wakes: true},
		},
		"ReadyAtAnOlderGeneration": {
			reason: "A spec change is being reconciled: wait for its outcome.",
			tenant: func() *v1.Tenant {
				t := settledTenant("t-1", readyCond)
				t.Generation = 2
				return t
			},
			want: want{},
		},
		"TransientError": {
			reason: "A Tenant with an ID that keeps failing must not hold its dependants back.",
			tenant: func() *v1.Tenant { return settledTenant("t-1", transientCond) },
			want:   want{wakes: true},
		},
		"Stalled": {
			reason: "A stalled Tenant with an ID has ended its reconcile too.",
			tenant: func() *v1.Tenant {
				t := settledTenant("t-1", metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonPricingOneWay})
				t.Status.Conditions = append(t.Status.Conditions, metav1.Condition{Type: v1.ConditionStalled, Status: metav1.ConditionTrue, Reason: ReasonPricingOneWay, ObservedGeneration: 1})
				return t
			},
			want: want{wakes: true},
		},
		"WaitingWithID": {
			reason: "The outcome a create after a wait carries until its own is recorded.",
			tenant: func() *v1.Tenant { return settledTenant("t-1", waitingCond) },
			want:   want{},
		},
		"Deleting": {
			reason: "A Tenant going always wakes its dependants.",
			tenant: func() *v1.Tenant {
				t := settledTenant("t-1", waitingCond)
				t.DeletionTimestamp = &metav1.Time{Time: time.Now()}
				return t
			},
			want: want{wakes: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tn := tc.tenant()
			got := want{wakes: wakesDependants(tn), creating: creating(tn)}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// TestCheckTenant counts what Scope.CheckTenant asks the server: nothing
// when the Tenant named by tenantRef is Ready with that ID on the very
// connection, one GET of the tenant otherwise.
func TestCheckTenant(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	boot := emu.Bootstrap()
	c, err := accountserver.New(accountserver.Config{URL: srv.URL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, RequestsPerSecond: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	customer, err := c.CreateTenant(ctx, accountserver.TenantCreate{Name: "acme", ParentID: boot.TenantID, Kind: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	conn := &connection.Connection{Key: connection.Key{Kind: connection.KindClusterAccountServer, Name: "main"}, Client: c, TenantID: boot.TenantID, TenantName: boot.TenantName}
	on := func(kind, name string) *v1.AccountServerReference {
		return &v1.AccountServerReference{Kind: kind, Name: name}
	}
	const missing = "6a0f4a5e-0000-4000-8000-000000000000"

	cases := map[string]struct {
		reason string
		// tenant changes the Tenant acme the cache holds, by default Ready
		// with the customer's ID on the connection checked.
		tenant   func(t *v1.Tenant)
		parent   *v1.Tenant
		noRef    bool
		tenantID string
		// gets is how many GET /tenants/{id} the check sends.
		gets int
		// wantMessage is the refusal's message, the same for every kind.
		wantMessage string
		wantReason  string
	}{
		"ReadyOnTheSameConnection": {
			reason: "The Tenant's own reconcile read the tenant through this connection.",
			gets:   0,
		},
		"ReadyThroughItsParent": {
			reason: "A Tenant that inherits the connection from its parent is on it too.",
			tenant: func(t *v1.Tenant) {
				t.Spec.AccountServerRef, t.Spec.ParentRef = nil, &v1.LocalReference{Name: "partner"}
			},
			parent: &v1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "partner", Namespace: "default"}, Spec: v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: on(connection.KindClusterAccountServer, "main")}}},
			gets:   0,
		},
		"RawTenantID": {
			reason: "A tenantID is vouched for by nothing: it is read.",
			noRef:  true,
			gets:   1,
		},
		"RawTenantIDMissing": {
			reason:      "A tenantID that does not exist is refused before any write.",
			noRef:       true,
			tenantID:    missing,
			gets:        1,
			wantReason:  ReasonParentNotFound,
			wantMessage: "tenant " + missing + " does not exist on the server",
		},
		"RawTenantIDOutside": {
			reason:      "A tenantID outside the connection's subtree is refused before any write.",
			noRef:       true,
			tenantID:    boot.RootTenantID,
			gets:        1,
			wantReason:  managed.ReasonOutsideScope,
			wantMessage: "tenant " + boot.RootTenantID + " lies outside the subtree of tenant " + boot.TenantID + " that the connection acts in",
		},
		"ReadyOnAnotherConnection": {
			reason: "A Tenant Ready on another connection says nothing about this one.",
			tenant: func(t *v1.Tenant) { t.Spec.AccountServerRef = on(connection.KindClusterAccountServer, "other") },
			gets:   1,
		},
		"ReadyOnANamespacedConnectionOfTheSameName": {
			reason: "An AccountServer is not the ClusterAccountServer of the same name.",
			tenant: func(t *v1.Tenant) { t.Spec.AccountServerRef = on("", "main") },
			gets:   1,
		},
		"NotReady": {
			reason: "A Tenant that is not Ready proves nothing.",
			tenant: func(t *v1.Tenant) { t.Status.Conditions[0] = transientCond },
			gets:   1,
		},
		"ReadyAtAnOlderGeneration": {
			reason: "The Tenant's spec changed since it was Ready (it may be moving).",
			tenant: func(t *v1.Tenant) { t.Generation = 2 },
			gets:   1,
		},
		"AnotherID": {
			reason: "The Tenant vouches for its own ID only.",
			tenant: func(t *v1.Tenant) { t.Status.ID = missing },
			gets:   1,
		},
		"Deleting": {
			reason: "A Tenant being deleted may be gone on the server.",
			tenant: func(t *v1.Tenant) {
				t.DeletionTimestamp, t.Finalizers = &metav1.Time{Time: time.Now()}, []string{v1.Finalizer}
			},
			gets: 1,
		},
	}
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tn := settledTenant(customer.ID, readyCond)
			tn.Spec.AccountServerRef = on(connection.KindClusterAccountServer, "main")
			if tc.tenant != nil {
				tc.tenant(tn)
			}
			objs := []client.Object{tn}
			if tc.parent != nil {
				objs = append(objs, tc.parent)
			}
			reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
			u := &v1.User{ObjectMeta: metav1.ObjectMeta{Name: "ada", Namespace: "default"}, Spec: v1.UserSpec{TenantRef: &v1.LocalReference{Name: "acme"}}}
			if tc.noRef {
				u.Spec.TenantRef, u.Spec.TenantID = nil, customer.ID
			}
			id := customer.ID
			if tc.tenantID != "" {
				id = tc.tenantID
			}

			before := getTenants(emu, boot.ClientID)
			err := Scope[*v1.User]{Reader: reader}.CheckTenant(ctx, conn, u, id)
			gotReason, gotMessage := "", ""
			if err != nil {
				var s *managed.StalledError
				if !errors.As(err, &s) {
					t.Fatalf("%s: unexpected error %v", tc.reason, err)
				}
				gotReason, gotMessage = s.Reason, s.Message
			}
			if diff := cmp.Diff(tc.wantReason, gotReason); diff != "" {
				t.Errorf("%s: reason (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantMessage, gotMessage); diff != "" {
				t.Errorf("%s: message (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.gets, getTenants(emu, boot.ClientID)-before); diff != "" {
				t.Errorf("%s: GET /tenants/{id} sent (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

// getTenants counts the GET /tenants/{id} that clientID sent.
func getTenants(emu *emulator.Server, clientID string) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Client == clientID && r.Method == "GET" && strings.HasPrefix(r.Path, "/api/2/tenants/") && strings.Count(r.Path, "/") == 4 {
			n++
		}
	}
	return n
}

// TestAwaitTenant: an object still to be created goes on only once its
// Tenant's create has finished and the kind's watch of Tenants has decided
// on the version the cache holds.
func TestAwaitTenant(t *testing.T) {
	type want struct {
		reason     string
		retryAfter time.Duration
	}
	cases := map[string]struct {
		reason string
		tenant *v1.Tenant
		// decided says the watch has decided on the version the cache holds.
		decided bool
		want    want
	}{
		"Decided": {
			reason:  "The watch has decided on this version: its wake, if any, is on its way already.",
			tenant:  settledTenant("t-1", readyCond),
			decided: true,
			want:    want{},
		},
		"NotDecidedYet": {
			reason: "The cache holds a version the watch has not decided on: wait for its wake, or retry.",
			tenant: settledTenant("t-1", readyCond),
			want:   want{reason: managed.ReasonWaitingForReference, retryAfter: time.Second},
		},
		"Creating": {
			reason:  "The Tenant's create has not finished: its last write wakes the object.",
			tenant:  func() *v1.Tenant { t := settledTenant("t-1", readyCond); t.Status.ObservedGeneration = 0; return t }(),
			decided: true,
			want:    want{reason: managed.ReasonWaitingForReference},
		},
		"NoID": {
			reason:  "The Tenant has no ID yet.",
			tenant:  settledTenant("", waitingCond),
			decided: true,
			want:    want{reason: managed.ReasonWaitingForReference},
		},
	}
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			reader := fake.NewClientBuilder().WithScheme(scheme).WithObjects(tc.tenant).Build()
			stored := &v1.Tenant{}
			if err := reader.Get(context.Background(), client.ObjectKeyFromObject(tc.tenant), stored); err != nil {
				t.Fatal(err)
			}
			d := &decided{versions: map[client.ObjectKey]string{}}
			if tc.decided {
				d.record(client.ObjectKeyFromObject(stored), stored.ResourceVersion)
			}
			err := Scope[*v1.User]{Reader: reader, decided: d}.awaitTenant(context.Background(), "default", "acme")
			var got want
			var w *managed.WaitingError
			if errors.As(err, &w) {
				got = want{reason: w.Reason, retryAfter: w.RetryAfter}
			} else if err != nil {
				t.Fatalf("%s: unexpected error %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s: (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
