package managed

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// This file holds the fakes the tests of the loop share: a remote object, an
// External whose every method is a func field and records its calls, a
// Connector, and helpers to build objects, clients and server errors.

// testScheme is the scheme of the operator (built-in types and this group)
// without importing the operator package, which pulls every controller in.
// Built once: a scheme is safe to share once built.
var testScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
})

// remote is the fake remote object.
type remote struct {
	ID      string
	Version int64
}

func (r remote) RemoteID() string        { return r.ID }
func (r remote) RemoteVersion() int64    { return r.Version }
func (r remote) String() string          { return fmt.Sprintf("%s@%d", r.ID, r.Version) }
func rm(id string, version int64) remote { return remote{ID: id, Version: version} }

// resolved is what the fake's Resolve finds.
type resolved string

type request = Request[*v1.Tenant, resolved]

// calls is the ordered log of what the fakes were asked.
type calls []string

func (c *calls) add(format string, a ...any) { *c = append(*c, fmt.Sprintf(format, a...)) }

// external is a fake External whose required methods default to a server
// that has every object asked for (version 1), creates "new-1", and sees
// no drift. Each optional interface is offered to the loop only when its
// func field is set (see newReconciler).
type external struct {
	log *calls

	connectionRef func(o *v1.Tenant) (v1.AccountServerReference, error)
	resolve       func(req *request) (resolved, error)
	observe       func(req *request, id string) (remote, error)
	create        func(req *request) (remote, error)
	diff          func(req *request, r remote) ([]string, error)
	update        func(req *request, r remote) (remote, error)

	delete      func(req *request, r remote) error
	find        func(req *request) (remote, bool, error)
	canAdopt    func(req *request, r remote) error
	dependants  func(o *v1.Tenant) ([]string, error)
	mustReplace func(req *request, r remote) []string
	publish     func(req *request, r remote) error
	pollAfter   func(req *request, r remote) time.Duration
	observeMany func(ids []string) (map[string]remote, error)
	complete    func(req *request, r remote) (remote, error)
	stale       func(o *v1.Tenant, ch remotewatch.Change) bool
}

var (
	_ External[*v1.Tenant, remote, resolved]  = &external{}
	_ Deleter[*v1.Tenant, remote, resolved]   = &external{}
	_ Finder[*v1.Tenant, remote, resolved]    = &external{}
	_ Adopter[*v1.Tenant, remote, resolved]   = &external{}
	_ Blocker[*v1.Tenant]                     = &external{}
	_ Replacer[*v1.Tenant, remote, resolved]  = &external{}
	_ Publisher[*v1.Tenant, remote, resolved] = &external{}
	_ Poller[*v1.Tenant, remote, resolved]    = &external{}
	_ Batcher[*v1.Tenant, remote, resolved]   = &external{}
	_ StaleJudge[*v1.Tenant]                  = &external{}
)

func (e *external) ConnectionRef(_ context.Context, o *v1.Tenant) (v1.AccountServerReference, error) {
	e.log.add("ConnectionRef")
	if e.connectionRef != nil {
		return e.connectionRef(o)
	}
	return v1.AccountServerReference{Name: "server"}, nil
}

func (e *external) Resolve(_ context.Context, req *request) (resolved, error) {
	e.log.add("Resolve")
	if e.resolve != nil {
		return e.resolve(req)
	}
	return "parent-id", nil
}

func (e *external) Observe(_ context.Context, req *request, id string) (remote, error) {
	e.log.add("Observe(%s)", id)
	if e.observe != nil {
		return e.observe(req, id)
	}
	return rm(id, 1), nil
}

func (e *external) Create(_ context.Context, req *request) (remote, error) {
	e.log.add("Create(%s)", req.Resolved)
	if e.create != nil {
		return e.create(req)
	}
	return rm("new-1", 1), nil
}

func (e *external) Diff(req *request, r remote) ([]string, error) {
	e.log.add("Diff(%s)", r)
	if e.diff != nil {
		return e.diff(req, r)
	}
	return nil, nil
}

func (e *external) Update(_ context.Context, req *request, r remote) (remote, error) {
	e.log.add("Update(%s)", r)
	if e.update != nil {
		return e.update(req, r)
	}
	return rm(r.ID, r.Version+1), nil
}

func (e *external) SetStatus(_ *request, r remote) { e.log.add("SetStatus(%s)", r) }

func (e *external) Delete(_ context.Context, req *request, r remote) error {
	e.log.add("Delete(%s)", r.ID)
	return e.delete(req, r)
}

func (e *external) Find(_ context.Context, req *request) (remote, bool, error) {
	e.log.add("Find(%s)", req.Resolved)
	return e.find(req)
}

func (e *external) CanAdopt(_ context.Context, req *request, r remote) error {
	e.log.add("CanAdopt(%s)", r.ID)
	return e.canAdopt(req, r)
}

func (e *external) Dependants(_ context.Context, o *v1.Tenant) ([]string, error) {
	e.log.add("Dependants")
	return e.dependants(o)
}

func (e *external) MustReplace(req *request, r remote) []string {
	e.log.add("MustReplace(%s)", r)
	return e.mustReplace(req, r)
}

func (e *external) Publish(_ context.Context, req *request, r remote) error {
	e.log.add("Publish(%s)", r)
	return e.publish(req, r)
}

func (e *external) PollAfter(req *request, r remote) time.Duration {
	e.log.add("PollAfter(%s)", r)
	return e.pollAfter(req, r)
}

func (e *external) ObserveMany(_ context.Context, _ *connection.Connection, ids []string) (map[string]remote, error) {
	e.log.add("ObserveMany(%s)", strings.Join(ids, ","))
	return e.observeMany(ids)
}

func (e *external) Complete(_ context.Context, req *request, r remote) (remote, error) {
	e.log.add("Complete(%s)", r)
	if e.complete != nil {
		return e.complete(req, r)
	}
	return r, nil
}

func (e *external) Stale(o *v1.Tenant, ch remotewatch.Change) bool {
	e.log.add("Stale(%s)", o.Name)
	return e.stale(o, ch)
}

// caps are the optional interfaces e offers: those whose func is set.
func (e *external) caps() capabilities[*v1.Tenant, remote, resolved] {
	var c capabilities[*v1.Tenant, remote, resolved]
	if e.delete != nil {
		c.deleter = e
	}
	if e.find != nil {
		c.finder = e
	}
	if e.canAdopt != nil {
		c.adopter = e
	}
	if e.dependants != nil {
		c.blocker = e
	}
	if e.mustReplace != nil {
		c.replacer = e
	}
	if e.publish != nil {
		c.publisher = e
	}
	if e.pollAfter != nil {
		c.poller = e
	}
	if e.observeMany != nil {
		c.batcher = e
	}
	if e.stale != nil {
		c.judge = e
	}
	return c
}

// bareExternal implements External only: none of the optional interfaces.
type bareExternal struct{ e *external }

func (b bareExternal) ConnectionRef(ctx context.Context, o *v1.Tenant) (v1.AccountServerReference, error) {
	return b.e.ConnectionRef(ctx, o)
}
func (b bareExternal) Resolve(ctx context.Context, req *request) (resolved, error) {
	return b.e.Resolve(ctx, req)
}
func (b bareExternal) Observe(ctx context.Context, req *request, id string) (remote, error) {
	return b.e.Observe(ctx, req, id)
}
func (b bareExternal) Create(ctx context.Context, req *request) (remote, error) {
	return b.e.Create(ctx, req)
}
func (b bareExternal) Diff(req *request, r remote) ([]string, error) { return b.e.Diff(req, r) }
func (b bareExternal) Update(ctx context.Context, req *request, r remote) (remote, error) {
	return b.e.Update(ctx, req, r)
}
func (b bareExternal) SetStatus(req *request, r remote) { b.e.SetStatus(req, r) }

// connector is a fake Connector.
type connector struct {
	log  *calls
	conn *connection.Connection
	err  error
	// errTimes, when positive, is how many Resolves fail with err; the
	// later ones succeed.
	errTimes int
	resolves int
}

func (c *connector) Resolve(_ context.Context, ref v1.AccountServerReference, namespace string) (*connection.Connection, error) {
	c.log.add("Connect(%s in %s)", connectionKey(ref.Kind, ref.Name), namespace)
	c.resolves++
	if c.err != nil && (c.errTimes == 0 || c.resolves <= c.errTimes) {
		return nil, c.err
	}
	if c.conn != nil {
		return c.conn, nil
	}
	return &connection.Connection{TenantID: "root-tenant", ResyncInterval: resync}, nil
}

// resync is the fake connection's resync interval.
const resync = 10 * time.Minute

// Objects.

const (
	ns         = "team-a"
	name       = "acme"
	generation = 3
)

var key = client.ObjectKey{Namespace: ns, Name: name}

type tenantOption func(*v1.Tenant)

func tenant(opts ...tenantOption) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: generation},
		Spec:       v1.TenantSpec{Kind: v1.TenantCustomer},
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

func withFinalizer(f ...string) tenantOption {
	if len(f) == 0 {
		f = []string{v1.Finalizer}
	}
	return func(t *v1.Tenant) { t.Finalizers = append(t.Finalizers, f...) }
}

// withID records a remote object at version 1.
func withID(id string) tenantOption {
	return func(t *v1.Tenant) { t.Status.ID, t.Status.Version = id, 1 }
}

func withAnnotation(k, v string) tenantOption {
	return func(t *v1.Tenant) {
		if t.Annotations == nil {
			t.Annotations = map[string]string{}
		}
		t.Annotations[k] = v
	}
}

func pending() tenantOption {
	return withAnnotation(v1.AnnotationCreatePending, "2026-01-01T00:00:00Z")
}

// replacing says id-1 is being replaced.
func replacing() tenantOption { return withAnnotation(v1.AnnotationReplacing, "id-1") }

func deleting() tenantOption {
	return func(t *v1.Tenant) {
		now := metav1.Now()
		t.DeletionTimestamp = &now
	}
}

func orphan() tenantOption {
	return func(t *v1.Tenant) { t.Spec.DeletionPolicy = v1.DeletionOrphan }
}

func observeOnly() tenantOption {
	return func(t *v1.Tenant) { t.Spec.ManagementPolicy = v1.ManagementObserveOnly }
}

// importID asks to adopt imp-1.
func importID() tenantOption {
	return func(t *v1.Tenant) { t.Spec.ImportID = "imp-1" }
}

func withConditions(c ...metav1.Condition) tenantOption {
	return func(t *v1.Tenant) { t.Status.Conditions = append(t.Status.Conditions, c...) }
}

// Clients.

// newFake is a fake API server holding objs, with the Tenant's status
// subresource. Tests put interceptor.Funcs in front of it and read the
// outcome from it directly.
func newFake(objs ...client.Object) client.WithWatch {
	return fake.NewClientBuilder().
		WithScheme(testScheme()).
		WithStatusSubresource(&v1.Tenant{}).
		WithObjects(objs...).
		Build()
}

// patchContaining fails metadata patches whose body contains substr with
// err; other writes go through.
func patchContaining(substr string, err error) interceptor.Funcs {
	return interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
		data, derr := patch.Data(obj)
		if derr != nil {
			return derr
		}
		if strings.Contains(string(data), substr) {
			return err
		}
		return c.Patch(ctx, obj, patch, opts...)
	}}
}

// patchAnnotation fails metadata patches that set annotation key with err.
func patchAnnotation(key string, err error) interceptor.Funcs {
	return patchContaining(`"`+key+`":"`, err)
}

var tenantsGR = schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "tenants"}

func conflict() error {
	return apierrors.NewConflict(tenantsGR, name, fmt.Errorf("the object has been modified"))
}
func notFound() error { return apierrors.NewNotFound(tenantsGR, name) }
func internal() error { return apierrors.NewInternalError(fmt.Errorf("etcd is sad")) }

// Server errors, as the account server client returns them.

func serverError(status int, code int, message string) error {
	body := fmt.Sprintf(`{"error":{"code":%d,"message":%q,"details":{},"domain":null}}`, code, message)
	return accountserver.ErrorFromAnswer("call", status, []byte(body), 0)
}

var (
	errNotFound    = serverError(http.StatusNotFound, 404, "not found")
	errForbidden   = serverError(http.StatusForbidden, accountserver.CodeAccessDenied, "access denied")
	errInvalid     = serverError(http.StatusBadRequest, 1010, "kind is invalid")
	errStaleVer    = serverError(http.StatusConflict, accountserver.CodeVersionMismatch, "stale")
	errNameTaken   = serverError(http.StatusConflict, accountserver.CodeNameConflict, "name acme is taken")
	errUnavailable = accountserver.ErrorFromAnswer("call", http.StatusServiceUnavailable, nil, 0)
	errTransport   = accountserver.ErrorFromTransport("call", fmt.Errorf("connection refused"))
)

func retryAfter(d time.Duration) error {
	return accountserver.ErrorFromAnswer("call", http.StatusTooManyRequests, nil, d)
}

// drain returns the events recorded so far.
// normal drops the Warning events of events.
func normal(events []string) []string {
	var out []string
	for _, e := range events {
		if !strings.HasPrefix(e, "Warning ") {
			out = append(out, e)
		}
	}
	return out
}

func drain(r *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-r.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
