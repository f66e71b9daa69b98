package user

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// These tests run the real loop (managed.Reconciler) with the User's
// External against the emulator, over a fake API server whose reads and
// writes the test can make lag or fail: the worst moments for the
// activation email, one reconcile at a time.

// rig is one User, its loop, the emulator and the fake API server.
type rig struct {
	t     *testing.T
	ctx   context.Context
	emu   *emulator.Server
	store client.WithWatch // the fake API server itself
	rec   *events.FakeRecorder
	loop  *managed.Reconciler[*v1.User, *remote, resolved]
	key   client.ObjectKey

	mu sync.Mutex
	// answer, when set, answers a request to the emulator itself (true) or
	// lets it through (false).
	answer func(w http.ResponseWriter, r *http.Request) bool
	// get, patch and statusPatch, when set, stand in front of the fake's.
	get         func(ctx context.Context, c client.WithWatch, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error
	patch       func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error
	statusPatch func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error
	// beforeEmail is the user as stored after its last metadata write
	// before the activation email (its ID is in, nothing says the email
	// went): what a lagging cache shows.
	beforeEmail *v1.User
}

func isSend(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/send-activation-email")
}

// newRig makes a customer on a fresh emulator and a User of it with
// activation method, not yet reconciled.
func newRig(t *testing.T, method v1.ActivationMethod, mutate func(*v1.User)) *rig {
	t.Helper()
	rg := &rig{t: t, ctx: context.Background(), emu: emulator.New(emulator.Options{}), rec: events.NewFakeRecorder(100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rg.mu.Lock()
		answer := rg.answer
		rg.mu.Unlock()
		if answer != nil && answer(w, r) {
			return
		}
		rg.emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	boot := rg.emu.Bootstrap()
	// One attempt per call: the tests decide what each request meets.
	c, err := accountserver.New(accountserver.Config{URL: srv.URL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret,
		RequestsPerSecond: 1000, Burst: 1000, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	customer, err := c.CreateTenant(rg.ctx, accountserver.TenantCreate{Name: "acme", ParentID: boot.TenantID, Kind: "customer"})
	if err != nil {
		t.Fatal(err)
	}
	conn := &connection.Connection{Key: connection.Key{Kind: connection.KindClusterAccountServer, Name: "main"}, Client: c,
		TenantID: boot.TenantID, TenantName: boot.TenantName, ResyncInterval: time.Hour, CrossNamespace: true}

	u := &v1.User{
		ObjectMeta: metav1.ObjectMeta{Name: "ada", Namespace: "default"},
		Spec: v1.UserSpec{
			ManagedSpec: v1.ManagedSpec{AccountServerRef: &v1.AccountServerReference{Kind: connection.KindClusterAccountServer, Name: "main"}},
			TenantID:    customer.ID, Login: "ada", Enabled: ptr.To(true),
			Contact:    v1.Contact{Email: "ada@acme.example", Firstname: "Ada", Lastname: "Admin"},
			Activation: v1.Activation{Method: method},
		},
	}
	if mutate != nil {
		mutate(u)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	rg.store = fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.User{}).WithObjects(u).Build()
	k8s := interceptor.NewClient(rg.store, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if f := rg.hook().get; f != nil {
				return f(ctx, c, k, obj, opts...)
			}
			return c.Get(ctx, k, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			var err error
			if f := rg.hook().patch; f != nil {
				err = f(ctx, c, obj, p, opts...)
			} else {
				err = c.Patch(ctx, obj, p, opts...)
			}
			if u := (&v1.User{}); err == nil && c.Get(ctx, client.ObjectKeyFromObject(obj), u) == nil &&
				u.Status.ID != "" && u.Status.ActivationEmailSentAt == nil && !emailRecorded(u) {
				rg.beforeEmail = u
			}
			return err
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			if f := rg.hook().statusPatch; f != nil {
				return f(ctx, c, sub, obj, p, opts...)
			}
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		},
	})
	// Direct reads around the cache, as the manager's API reader does.
	ext := &External{Scope: tenant.Scope[*v1.User]{Reader: k8s, Direct: rg.store, Writer: k8s, Recorder: rg.rec}}
	rg.loop = managed.NewReconciler("User", k8s, rg.rec, fixed{conn}, managed.External[*v1.User, *remote, resolved](ext), func() *v1.User { return &v1.User{} })
	rg.key = client.ObjectKeyFromObject(u)
	return rg
}

// fixed is a Connector with one connection.
type fixed struct{ c *connection.Connection }

func (f fixed) Resolve(context.Context, v1.AccountServerReference, string) (*connection.Connection, error) {
	return f.c, nil
}

type hooks struct {
	get         func(ctx context.Context, c client.WithWatch, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error
	patch       func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error
	statusPatch func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error
}

func (rg *rig) hook() hooks {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	return hooks{get: rg.get, patch: rg.patch, statusPatch: rg.statusPatch}
}

// set changes the rig's hooks under its lock.
func (rg *rig) set(change func(rg *rig)) {
	rg.mu.Lock()
	defer rg.mu.Unlock()
	change(rg)
}

// reconcile runs one reconcile of the user.
func (rg *rig) reconcile() (reconcile.Result, error) {
	return rg.loop.Reconcile(rg.ctx, reconcile.Request{NamespacedName: rg.key})
}

// mustReconcile runs one reconcile that must not fail.
func (rg *rig) mustReconcile() {
	rg.t.Helper()
	if _, err := rg.reconcile(); err != nil {
		rg.t.Fatalf("reconcile: %v", err)
	}
}

// stored is the user as the API server holds it.
func (rg *rig) stored() *v1.User {
	rg.t.Helper()
	u := &v1.User{}
	if err := rg.store.Get(rg.ctx, rg.key, u); err != nil {
		rg.t.Fatal(err)
	}
	return u
}

// sends counts the activation emails the emulator's request log holds for
// the user, answered or not.
func (rg *rig) sends() int {
	id := rg.stored().Status.ID
	n := 0
	for _, r := range rg.emu.Requests() {
		if r.Method == http.MethodPost && r.Path == "/api/2/users/"+id+"/send-activation-email" {
			n++
		}
	}
	return n
}

// events returns the events recorded since the last call with reason.
func (rg *rig) events(reason string) []string {
	var out []string
	for {
		select {
		case e := <-rg.rec.Events:
			if strings.Contains(e, " "+reason+" ") {
				out = append(out, e)
			}
		default:
			return out
		}
	}
}

// expect checks the user's record, status and Ready condition, and the
// emails sent so far.
func (rg *rig) expect(why string, sends int, record string, state v1.ActivationEmailState) {
	rg.t.Helper()
	u := rg.stored()
	if got := rg.sends(); got != sends {
		rg.t.Errorf("%s: %d activation emails sent, want %d", why, got, sends)
	}
	if got := u.Annotations[v1.AnnotationActivationEmail]; got != record {
		rg.t.Errorf("%s: record %q, want %q", why, got, record)
	}
	if u.Status.ActivationEmail != state {
		rg.t.Errorf("%s: status.activationEmail %q, want %q", why, u.Status.ActivationEmail, state)
	}
}

func (rg *rig) expectReady(why string) {
	rg.t.Helper()
	u := rg.stored()
	if !meta.IsStatusConditionTrue(u.Status.Conditions, v1.ConditionReady) {
		rg.t.Errorf("%s: not Ready: %+v", why, u.Status.Conditions)
	}
}

// refuse answers the activation email with status until stopped, and
// counts the refusals.
func (rg *rig) refuse(status int) (refused func() int, stop func()) {
	var mu sync.Mutex
	n := 0
	rg.set(func(rg *rig) {
		rg.answer = func(w http.ResponseWriter, r *http.Request) bool {
			if !isSend(r) {
				return false
			}
			mu.Lock()
			n++
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = fmt.Fprintf(w, `{"error":{"code":%d,"message":"refused by the test","details":{},"domain":null}}`, status)
			return true
		}
	})
	return func() int { mu.Lock(); defer mu.Unlock(); return n }, func() { rg.set(func(rg *rig) { rg.answer = nil }) }
}

// dropSend makes the emulator lose the answer to the activation email (it
// sends the email, then breaks the connection: fault dropAfterCommitRate).
func (rg *rig) dropSend() {
	rg.set(func(rg *rig) {
		rg.answer = func(w http.ResponseWriter, r *http.Request) bool {
			if !isSend(r) {
				return false
			}
			rg.emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1})
			defer rg.emu.SetFaults(emulator.Faults{})
			rg.emu.ServeHTTP(w, r)
			return true
		}
	})
}

func TestActivationEmailStaleCache(t *testing.T) {
	rg := newRig(t, v1.ActivationEmail, nil)
	rg.mustReconcile()
	rg.expect("created", 1, managed.OnceSent, v1.ActivationEmailSent)

	// The cache shows the user from before the email (its ID is in).
	stale := rg.beforeEmail
	if stale == nil {
		t.Fatal("the user before the email was not caught")
	}
	rg.set(func(rg *rig) {
		rg.get = func(ctx context.Context, c client.WithWatch, k client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if u, ok := obj.(*v1.User); ok {
				stale.DeepCopyInto(u)
				return nil
			}
			return c.Get(ctx, k, obj, opts...)
		}
	})
	for range 3 {
		res, err := rg.reconcile()
		if err != nil {
			t.Fatalf("a lagging cache is no error: %v", err)
		}
		if res.RequeueAfter <= 0 || res.RequeueAfter > time.Second {
			t.Errorf("a lagging cache is looked at again soon, got %+v", res)
		}
	}
	rg.expect("the cache lags behind the record", 1, managed.OnceSent, v1.ActivationEmailSent)

	rg.set(func(rg *rig) { rg.get = nil })
	rg.mustReconcile()
	rg.expect("the cache caught up", 1, managed.OnceSent, v1.ActivationEmailSent)
	rg.expectReady("the cache caught up")
}

func TestActivationEmailStatusWriteFails(t *testing.T) {
	rg := newRig(t, v1.ActivationEmail, nil)
	// Every status write after the email fails (status.id before it goes).
	rg.set(func(rg *rig) {
		rg.statusPatch = func(ctx context.Context, c client.Client, sub string, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			if rg.emu.ActivationEmails(obj.(*v1.User).Status.ID) > 0 {
				return fmt.Errorf("the API server is overloaded")
			}
			return c.SubResource(sub).Patch(ctx, obj, p, opts...)
		}
	})
	if _, err := rg.reconcile(); err == nil {
		t.Fatal("the failed status write is reported")
	}
	rg.expect("status write failed", 1, managed.OnceSent, "")

	rg.set(func(rg *rig) { rg.statusPatch = nil })
	rg.mustReconcile()
	rg.mustReconcile()
	rg.expect("the status is written", 1, managed.OnceSent, v1.ActivationEmailSent)
	rg.expectReady("the status is written")
}

func TestActivationEmailFailureLaterInTheReconcile(t *testing.T) {
	rg := newRig(t, v1.ActivationEmail, func(u *v1.User) { u.Spec.Roles = []string{"company_admin"} })
	// The roles are written after the email; the server fails them.
	rg.set(func(rg *rig) {
		rg.answer = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPut || !strings.HasSuffix(r.URL.Path, "/access_policies") {
				return false
			}
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
	})
	if _, err := rg.reconcile(); err == nil {
		t.Fatal("the failed roles write is reported")
	}
	rg.expect("roles failed", 1, managed.OnceSent, "")

	rg.set(func(rg *rig) { rg.answer = nil })
	rg.mustReconcile()
	rg.expect("roles written", 1, managed.OnceSent, v1.ActivationEmailSent)
	rg.expectReady("roles written")
}

func TestActivationEmailOutcomeWriteFails(t *testing.T) {
	rg := newRig(t, v1.ActivationEmail, nil)
	rg.set(func(rg *rig) {
		rg.patch = func(ctx context.Context, c client.WithWatch, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
			if obj.GetAnnotations()[v1.AnnotationActivationEmail] == managed.OnceSent {
				return fmt.Errorf("the API server is overloaded")
			}
			return c.Patch(ctx, obj, p, opts...)
		}
	})
	if _, err := rg.reconcile(); err == nil {
		t.Fatal("the failed write of the outcome is reported")
	}
	rg.expect("the outcome was not written", 1, managed.OnceSending, "")

	rg.set(func(rg *rig) { rg.patch = nil })
	rg.mustReconcile()
	rg.mustReconcile()
	rg.expect("the record is settled", 1, managed.OnceUnconfirmed, v1.ActivationEmailUnconfirmed)
	rg.expectReady("the record is settled")
	if w := rg.events(ReasonActivationEmailUnconfirmed); len(w) != 1 || !strings.HasPrefix(w[0], "Warning ") {
		t.Errorf("one Warning, got %q", w)
	}
}

func TestActivationEmailCrashAfterTheRecord(t *testing.T) {
	rg := newRig(t, v1.ActivationNone, nil)
	rg.mustReconcile()
	// An earlier process recorded the email and stopped.
	u := rg.stored()
	u.Spec.Activation.Method = v1.ActivationEmail
	metav1.SetMetaDataAnnotation(&u.ObjectMeta, v1.AnnotationActivationEmail, managed.OnceSending)
	if err := rg.store.Update(rg.ctx, u); err != nil {
		t.Fatal(err)
	}
	rg.mustReconcile()
	rg.mustReconcile()
	rg.expect("found Sending", 0, managed.OnceUnconfirmed, v1.ActivationEmailUnconfirmed)
	rg.expectReady("found Sending")
	if w := rg.events(ReasonActivationEmailUnconfirmed); len(w) != 1 {
		t.Errorf("one Warning, got %q", w)
	}
}

func TestActivationEmailRefused(t *testing.T) {
	for name, status := range map[string]int{"BadRequest": http.StatusBadRequest, "TooManyRequests": http.StatusTooManyRequests, "Forbidden": http.StatusForbidden} {
		t.Run(name, func(t *testing.T) {
			rg := newRig(t, v1.ActivationEmail, nil)
			refused, stop := rg.refuse(status)
			// Stalled (400, 403) or retried with backoff (429).
			_, _ = rg.reconcile()
			if meta.IsStatusConditionTrue(rg.stored().Status.Conditions, v1.ConditionReady) {
				t.Error("a refused email leaves the user not Ready")
			}
			if refused() != 1 {
				t.Fatalf("%d refusals, want 1", refused())
			}
			rg.expect("refused", 0, "", "")
			if rg.stored().Status.ActivationEmailSentAt != nil {
				t.Error("a refused email is not recorded as sent")
			}

			stop()
			rg.mustReconcile()
			rg.expect("sent after the refusal", 1, managed.OnceSent, v1.ActivationEmailSent)
			rg.expectReady("sent after the refusal")
		})
	}
}

func TestActivationEmailResendRefused(t *testing.T) {
	rg := newRig(t, v1.ActivationEmail, nil)
	rg.mustReconcile()
	ask(t, rg)
	refused, stop := rg.refuse(http.StatusBadRequest)
	_, _ = rg.reconcile() // Stalled: Rejected
	if refused() != 1 {
		t.Fatalf("%d refusals, want 1", refused())
	}
	u := rg.stored()
	if u.Annotations[v1.AnnotationActivationEmail] != managed.OnceSent || u.Annotations[v1.AnnotationResendActivationEmail] != "true" {
		t.Errorf("a refused resend leaves the record and the request as they were: %v", u.Annotations)
	}
	stop()
	rg.mustReconcile()
	rg.expect("resent after the refusal", 2, managed.OnceSent, v1.ActivationEmailSent)
	if _, asked := rg.stored().Annotations[v1.AnnotationResendActivationEmail]; asked {
		t.Error("the request to resend is removed once sent")
	}
}

func TestActivationEmailServerError(t *testing.T) {
	for name, status := range map[string]int{"InternalServerError": http.StatusInternalServerError, "GatewayTimeout": http.StatusGatewayTimeout} {
		t.Run(name, func(t *testing.T) {
			rg := newRig(t, v1.ActivationEmail, nil)
			refused, _ := rg.refuse(status)
			rg.mustReconcile()
			rg.mustReconcile()
			if refused() != 1 {
				t.Errorf("%d requests, want 1: a 5xx may come after the server acted", refused())
			}
			rg.expect("5xx", 0, managed.OnceUnconfirmed, v1.ActivationEmailUnconfirmed)
			rg.expectReady("5xx")
			if w := rg.events(ReasonActivationEmailUnconfirmed); len(w) != 1 {
				t.Errorf("one Warning, got %q", w)
			}
		})
	}
}

func TestActivationEmailAnswerLost(t *testing.T) {
	rg := newRig(t, v1.ActivationEmail, nil)
	rg.dropSend()
	rg.mustReconcile()
	rg.set(func(rg *rig) { rg.answer = nil })
	id := rg.stored().Status.ID
	if n := rg.emu.ActivationEmails(id); n != 1 {
		t.Fatalf("the server sent %d emails, want 1", n)
	}
	rg.expect("answer lost", 1, managed.OnceUnconfirmed, v1.ActivationEmailUnconfirmed)
	rg.expectReady("answer lost")
	if rg.stored().Status.ActivationEmailSentAt == nil {
		t.Error("status.activationEmailSentAt says when it was asked for")
	}
	w := rg.events(ReasonActivationEmailUnconfirmed)
	if len(w) != 1 || !strings.HasPrefix(w[0], "Warning ") || !strings.Contains(w[0], v1.AnnotationResendActivationEmail+"=true") {
		t.Errorf("one Warning naming the resend annotation, got %q", w)
	}

	for range 3 {
		rg.mustReconcile()
	}
	rg.expect("not sent again on its own", 1, managed.OnceUnconfirmed, v1.ActivationEmailUnconfirmed)
	if w := rg.events(ReasonActivationEmailUnconfirmed); len(w) != 0 {
		t.Errorf("no second Warning, got %q", w)
	}

	ask(t, rg)
	rg.mustReconcile()
	rg.mustReconcile()
	rg.expect("resent once", 2, managed.OnceSent, v1.ActivationEmailSent)
	if n := rg.emu.ActivationEmails(id); n != 2 {
		t.Errorf("the server sent %d emails, want 2", n)
	}
	if _, asked := rg.stored().Annotations[v1.AnnotationResendActivationEmail]; asked {
		t.Error("the request to resend is removed once sent")
	}
}

func TestActivationEmailResendNotHonoured(t *testing.T) {
	rg := newRig(t, v1.ActivationNone, nil)
	rg.mustReconcile()
	ask(t, rg)
	rg.mustReconcile()
	rg.expect("method None", 0, "", "")
	if _, asked := rg.stored().Annotations[v1.AnnotationResendActivationEmail]; asked {
		t.Error("a request that cannot be honoured is removed")
	}
	if e := rg.events(ReasonActivationEmailNotResent); len(e) != 1 || !strings.Contains(e[0], "None") {
		t.Errorf("one event saying why, got %q", e)
	}
}

// ask sets the annotation that asks for the activation email once more.
func ask(t *testing.T, rg *rig) {
	t.Helper()
	u := rg.stored()
	metav1.SetMetaDataAnnotation(&u.ObjectMeta, v1.AnnotationResendActivationEmail, "true")
	if err := rg.store.Update(rg.ctx, u); err != nil {
		t.Fatal(err)
	}
}
