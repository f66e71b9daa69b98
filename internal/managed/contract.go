package managed

import (
	"context"
	"iter"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// Object is a Kubernetes object that mirrors one remote object.
type Object interface {
	client.Object
	Managed() *v1.ManagedSpec
	ManagedStatus() *v1.ManagedStatus
}

// Remote is a remote object as the per-kind code read it.
type Remote interface {
	RemoteID() string
	RemoteVersion() int64
}

// Request is what one reconcile knows of an object: the object, its
// connection, and X, what the kind's Resolve found (remote IDs of the
// objects it names, a password read from a Secret, ...). Resolved is X's
// zero value where Resolve did not run: when an object is deleted, Resolve
// runs only to look for the result of an interrupted create.
type Request[O Object, X any] struct {
	Object   O
	Conn     *connection.Connection
	Resolved X
}

// External is how one kind talks to the account server; the loop does the
// rest. O is the kind's object, R its remote object as read, X what Resolve
// finds. Errors may be WaitingError, StalledError, or errors of the
// accountserver package; the loop turns each into conditions and a retry
// policy.
//
// Capabilities only some kinds have are optional interfaces, checked once
// when the loop is built: Deleter, Finder, Adopter, Blocker, Replacer,
// Publisher, Poller, Watched, StaleJudge, Batcher, Sharer and Releaser.
type External[O Object, R Remote, X any] interface {
	// ConnectionRef says which connection the object lives on (its own
	// accountServerRef, or the one of the object it names).
	ConnectionRef(ctx context.Context, o O) (v1.AccountServerReference, error)
	// Resolve turns references into remote IDs and checks what must hold
	// before any request is sent.
	Resolve(ctx context.Context, req *Request[O, X]) (X, error)
	// Observe reads the remote object with the given ID.
	Observe(ctx context.Context, req *Request[O, X], id string) (R, error)
	// Create creates the remote object.
	Create(ctx context.Context, req *Request[O, X]) (R, error)
	// Diff names the fields the spec sets that differ on the server.
	Diff(req *Request[O, X], remote R) ([]string, error)
	// Update makes the remote object match the spec, guarded by its version.
	Update(ctx context.Context, req *Request[O, X], remote R) (R, error)
	// SetStatus writes the kind's own status fields from the remote object.
	SetStatus(req *Request[O, X], remote R)
}

// Deleter is implemented by kinds whose remote object goes with the
// Kubernetes object (deletionPolicy Delete). A kind without one only
// releases its remote object on deletion and leaves it as it is (a
// tenant's offering items belong to the tenant).
type Deleter[O Object, R Remote, X any] interface {
	Delete(ctx context.Context, req *Request[O, X], remote R) error
}

// Finder is implemented by kinds whose remote objects have a natural key
// (a tenant's parent and name, a user's login). After an interrupted
// create, the loop looks the object up before creating again, so no twin
// is made. A kind without one must have an idempotent Create.
type Finder[O Object, R Remote, X any] interface {
	// Find returns the remote object the spec describes; found is false
	// when there is none.
	Find(ctx context.Context, req *Request[O, X]) (remote R, found bool, err error)
}

// Adopter is implemented by kinds that refuse to manage some existing
// remote objects (one of another tenant, say), through importID or after an
// interrupted create.
type Adopter[O Object, R Remote, X any] interface {
	CanAdopt(ctx context.Context, req *Request[O, X], remote R) error
}

// Blocker is implemented by kinds other objects of the group depend on
// (a tenant's children and users): deletion waits while Dependants names
// any.
type Blocker[O Object] interface {
	Dependants(ctx context.Context, o O) ([]string, error)
}

// Replacer is implemented by kinds whose remote object cannot take some
// changes in place (a report's formats, an API client whose secret is
// lost). MustReplace names why; when it names anything, the loop replaces
// the remote object crash-safely: it records the old ID on the object,
// creates the new one under the create marker (recovering an interrupted
// attempt through Finder, never twinning), records the new ID, then deletes
// the old object. Diff and Update see only what can change in place.
type Replacer[O Object, R Remote, X any] interface {
	MustReplace(req *Request[O, X], remote R) []string
}

// Publisher is implemented by kinds that copy what they read from the
// server into Kubernetes objects they own (a report's files into a
// ConfigMap). The loop calls Publish after the remote object matches the
// spec and SetStatus ran, on every reconcile, also in ObserveOnly (it
// writes to the API server only); it writes only what changed and may
// record what it wrote in the object's status.
type Publisher[O Object, R Remote, X any] interface {
	Publish(ctx context.Context, req *Request[O, X], remote R) error
}

// Poller is implemented by kinds whose remote object keeps changing on its
// own for a while after a write (a report being generated): while PollAfter
// returns a positive duration shorter than the resync interval, the loop
// looks again after it instead of waiting for the resync.
type Poller[O Object, R Remote, X any] interface {
	PollAfter(req *Request[O, X], remote R) time.Duration
}

// Watched is implemented by kinds whose remote objects a connection's
// remote watch lists (tenants, users, offering items): the watch wakes the
// objects whose status.id a change names, instead of every object reading
// itself once per resync interval.
type Watched interface {
	// ListChanged lists the kind's remote objects in the subtree of root
	// changed since since, deletions included, following the paging
	// cursor. Each Change's ID is what the managing objects hold in
	// status.id.
	ListChanged(ctx context.Context, c *accountserver.Client, root string, since time.Time) iter.Seq2[remotewatch.Change, error]
}

// StaleJudge is implemented by watched kinds that tell themselves whether
// a change concerns an object; without one, a change wakes an object
// whose status.version differs from the change's version (the operator's
// own writes, already recorded, wake nothing).
type StaleJudge[O Object] interface {
	Stale(o O, ch remotewatch.Change) bool
}

// Batcher is implemented by kinds whose remote objects can be read many at
// once (GET /tenants?uuids=). When many objects need only verifying at
// once, the loop reads them through ObserveMany, a batch per connection,
// and finishes each with Complete (see batch.go).
type Batcher[O Object, R Remote, X any] interface {
	// ObserveMany reads the remote objects with these IDs, at most
	// accountserver.MaxBatch (or BatchSizer's size), in one read; IDs the
	// answer lacks are left out (the loop then reads each of them alone).
	ObserveMany(ctx context.Context, c *connection.Connection, ids []string) (map[string]R, error)
	// Complete reads what one object needs beyond what ObserveMany read
	// (a tenant's pricing or applications when its spec sets them), or
	// returns r when nothing is left to read. The result is what Observe
	// would have returned.
	Complete(ctx context.Context, req *Request[O, X], r R) (R, error)
}

// BatchSizer is a Batcher whose batched read costs about the same whatever
// the number of IDs (a list of a subtree, not a list of IDs): it reads up
// to size IDs at once, and the first wanted ID waits window for others to
// gather. Without it: accountserver.MaxBatch and 50ms.
type BatchSizer interface {
	BatchSize() (size int, window time.Duration)
}

// Connector finds the connection an object lives on: the registry of
// account server clients in the manager, a fixed connection in tests.
type Connector interface {
	Resolve(ctx context.Context, ref v1.AccountServerReference, namespace string) (*connection.Connection, error)
}

// Releaser is implemented by kinds without a Deleter whose remote ID does
// not name what the object managed (an OfferingItemQuota's is its
// tenant's): it says, for the event of a deletion, what was released and
// that it was left as it is.
type Releaser interface {
	ReleaseMessage(id string) string
}

// capabilities are the optional interfaces one kind's External implements.
type capabilities[O Object, R Remote, X any] struct {
	deleter   Deleter[O, R, X]
	finder    Finder[O, R, X]
	adopter   Adopter[O, R, X]
	blocker   Blocker[O]
	replacer  Replacer[O, R, X]
	publisher Publisher[O, R, X]
	poller    Poller[O, R, X]
	watched   Watched
	judge     StaleJudge[O]
	batcher   Batcher[O, R, X]
	sharer    Sharer
	releaser  Releaser
}

func capabilitiesOf[O Object, R Remote, X any](e External[O, R, X]) capabilities[O, R, X] {
	var c capabilities[O, R, X]
	c.deleter, _ = e.(Deleter[O, R, X])
	c.finder, _ = e.(Finder[O, R, X])
	c.adopter, _ = e.(Adopter[O, R, X])
	c.blocker, _ = e.(Blocker[O])
	c.replacer, _ = e.(Replacer[O, R, X])
	c.publisher, _ = e.(Publisher[O, R, X])
	c.poller, _ = e.(Poller[O, R, X])
	c.watched, _ = e.(Watched)
	c.judge, _ = e.(StaleJudge[O])
	c.batcher, _ = e.(Batcher[O, R, X])
	c.sharer, _ = e.(Sharer)
	c.releaser, _ = e.(Releaser)
	return c
}
