// Package connection keeps one account server client per AccountServer or
// ClusterAccountServer object and hands it to every controller that uses
// that connection, so they share its token, its request budget and the pause
// a 429 imposes. A client is rebuilt when its spec or Secret changes.
package connection

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/metrics"
)

// Secret keys of a credentials Secret.
const (
	KeyClientID     = "client_id"
	KeyClientSecret = "client_secret"
	// DefaultCAKey is the key of a CA bundle when caSecretRef names none.
	DefaultCAKey = "ca.crt"
)

// Kinds of connection objects.
const (
	KindAccountServer        = "AccountServer"
	KindClusterAccountServer = "ClusterAccountServer"
)

// Object is an AccountServer or a ClusterAccountServer.
type Object interface {
	client.Object
	ConnectionSpec() *v1.AccountServerSpec
	ConnectionStatus() *v1.AccountServerStatus
}

// Key identifies a connection object: its kind, namespace (empty for a
// ClusterAccountServer) and name.
type Key struct {
	Kind      string
	Namespace string
	Name      string
}

func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// KeyFor returns the key of the connection object ref names from an object
// in namespace, as Resolve finds it.
func KeyFor(ref v1.AccountServerReference, namespace string) Key {
	if ref.Kind == KindClusterAccountServer {
		return Key{Kind: KindClusterAccountServer, Name: ref.Name}
	}
	return Key{Kind: KindAccountServer, Namespace: namespace, Name: ref.Name}
}

// KeyOf returns the key of a connection object.
func KeyOf(o Object) Key {
	switch o.(type) {
	case *v1.ClusterAccountServer:
		return Key{Kind: KindClusterAccountServer, Name: o.GetName()}
	default:
		return Key{Kind: KindAccountServer, Namespace: o.GetNamespace(), Name: o.GetName()}
	}
}

// Reason is why a connection cannot be used; it becomes a condition reason.
type Reason string

// Reasons a connection is unusable.
const (
	ReasonNotFound            Reason = "AccountServerNotFound"
	ReasonNotReady            Reason = "AccountServerNotReady"
	ReasonNamespaceNotAllowed Reason = "NamespaceNotAllowed"
	ReasonSecretNotFound      Reason = "SecretNotFound"
	ReasonSecretInvalid       Reason = "SecretInvalid"
	ReasonInvalidSpec         Reason = "InvalidSpec"
)

// Error says why a connection cannot be used. Its message names objects and
// keys, never their values.
type Error struct {
	Reason  Reason
	Message string
}

func (e *Error) Error() string { return e.Message }

// ReasonOf returns the Reason of a connection error, if err is one.
func ReasonOf(err error) (Reason, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason, true
	}
	return "", false
}

func errorf(r Reason, format string, a ...any) error {
	return &Error{Reason: r, Message: fmt.Sprintf(format, a...)}
}

// Connection is a usable connection as a remote-object controller sees it.
type Connection struct {
	Key    Key
	Client *accountserver.Client
	// TenantID is the tenant the credentials act in: everything this
	// connection creates must lie in its subtree.
	TenantID       string
	TenantName     string
	ResyncInterval time.Duration
	// CrossNamespace lets objects reach by UUID into subtrees that Tenants
	// of other namespaces manage (a ClusterAccountServer's
	// crossNamespaceReferences: Allow).
	CrossNamespace bool
}

// DefaultResyncInterval applies when neither a connection's spec nor the
// manager says otherwise: a slow safety net behind the remote watch.
const DefaultResyncInterval = 10 * time.Hour

// PollResyncInterval is the default when the manager finds drift by
// polling each object (--drift-detection=poll).
const PollResyncInterval = 10 * time.Minute

// DefaultDriftInterval is how often a connection's remote watch asks for
// changes when neither its spec nor the manager says otherwise.
const DefaultDriftInterval = 30 * time.Second

// DriftOf is how often the remote watch of connection o asks for changes:
// its spec's driftInterval, else the manager's default.
func (r *Registry) DriftOf(o Object) time.Duration {
	if di := o.ConnectionSpec().DriftInterval; di != nil && di.Duration > 0 {
		return di.Duration
	}
	if r.DefaultDrift > 0 {
		return r.DefaultDrift
	}
	return DefaultDriftInterval
}

// ResyncOf is how often the objects of connection o are compared with the
// server: its spec's resyncInterval, else the manager's default.
func (r *Registry) ResyncOf(o Object) time.Duration {
	if ri := o.ConnectionSpec().ResyncInterval; ri != nil && ri.Duration > 0 {
		return ri.Duration
	}
	if r.DefaultResync > 0 {
		return r.DefaultResync
	}
	return DefaultResyncInterval
}

// Registry builds and caches one client per connection object.
type Registry struct {
	// Reader reads connection objects and namespaces (the manager's cache).
	Reader client.Reader
	// SecretReader reads Secrets. An uncached reader keeps Secrets' data out
	// of the operator's memory except for the moment it is read.
	SecretReader client.Reader
	// OperatorNamespace holds a ClusterAccountServer's Secret when its
	// reference names no namespace.
	OperatorNamespace string
	// Logger is handed to every client.
	Logger logr.Logger
	// Configure, when set, adjusts each client's config before it is built
	// (tests inject clocks or HTTP clients here).
	Configure func(*accountserver.Config)
	// DefaultResync applies to connections whose spec sets no
	// resyncInterval; zero means DefaultResyncInterval.
	DefaultResync time.Duration
	// DefaultDrift applies to connections whose spec sets no
	// driftInterval; zero means DefaultDriftInterval.
	DefaultDrift time.Duration

	mu      sync.Mutex
	clients map[Key]*entry
	users   []UsersFunc

	// circuits feed, per kind of connection object, the objects whose
	// circuit breaker opened or closed (CircuitEvents); closings, every
	// subscriber of CircuitClosings.
	circuitsMu sync.Mutex
	circuits   map[string]chan event.GenericEvent
	closings   []chan event.GenericEvent
}

// circuitBuffer is how many changes of circuit state may wait for the
// connection controller to take them; one more is dropped (and logged),
// and the controller's next look, due at the next probe, finds it.
const circuitBuffer = 1024

// CircuitEvents yields an event for a connection object of kind whenever
// its client's circuit breaker opens or closes, so its controller can show
// it in status. Call it before the manager starts.
func (r *Registry) CircuitEvents(kind string) <-chan event.GenericEvent {
	r.circuitsMu.Lock()
	defer r.circuitsMu.Unlock()
	if r.circuits == nil {
		r.circuits = map[string]chan event.GenericEvent{}
	}
	ch, ok := r.circuits[kind]
	if !ok {
		ch = make(chan event.GenericEvent, circuitBuffer)
		r.circuits[kind] = ch
	}
	return ch
}

// CircuitClosings yields an event for a connection object whenever its
// client's circuit closes (or a new client, closed, replaces one): each
// managed kind releases the objects the outage held. Every call returns a
// channel of its own; call it before the manager starts.
func (r *Registry) CircuitClosings() <-chan event.GenericEvent {
	r.circuitsMu.Lock()
	defer r.circuitsMu.Unlock()
	ch := make(chan event.GenericEvent, circuitBuffer)
	r.closings = append(r.closings, ch)
	return ch
}

// circuitChanged is every client's OnCircuitChange: it keeps the metrics
// and tells the connection's controller when the circuit opens or closes,
// and the managed kinds when it closes. It runs under the breaker's lock,
// so it never blocks.
func (r *Registry) circuitChanged(key Key, from, to accountserver.CircuitState) {
	metrics.SetCircuit(key.String(), from, to)
	if from != accountserver.CircuitClosed && to != accountserver.CircuitClosed {
		return // a probe going out or failing: nothing to show
	}
	r.circuitsMu.Lock()
	chans := []chan event.GenericEvent{r.circuits[key.Kind]}
	if to == accountserver.CircuitClosed {
		chans = append(chans, r.closings...)
	}
	r.circuitsMu.Unlock()
	for _, ch := range chans {
		if ch == nil {
			continue
		}
		select {
		case ch <- event.GenericEvent{Object: objectOf(key)}:
		default:
			r.Logger.Info("too many circuit changes waiting; dropped one (the connection's next look, or a held object's own, finds it)",
				"connection", key.String(), "circuit", to.String())
		}
	}
}

// circuitClosedOnce tells the managed kinds that key's circuit is closed
// (a new client replaced one whose circuit was open).
func (r *Registry) circuitClosedOnce(key Key) {
	r.circuitsMu.Lock()
	chans := append([]chan event.GenericEvent(nil), r.closings...)
	r.circuitsMu.Unlock()
	for _, ch := range chans {
		select {
		case ch <- event.GenericEvent{Object: objectOf(key)}:
		default:
		}
	}
}

// objectOf is an empty connection object named by key.
func objectOf(key Key) client.Object {
	var o client.Object = &v1.AccountServer{}
	if key.Kind == KindClusterAccountServer {
		o = &v1.ClusterAccountServer{}
	}
	o.SetNamespace(key.Namespace)
	o.SetName(key.Name)
	return o
}

// UsersFunc lists the objects of one kind that still hold something on the
// server through the connection key, as "Kind namespace/name".
type UsersFunc func(ctx context.Context, key Key) ([]string, error)

// AddUsers registers how to find one kind's users of a connection; each
// kind's loop registers itself when it is set up.
func (r *Registry) AddUsers(f UsersFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.users = append(r.users, f)
}

// Users lists the objects of every registered kind that still use the
// connection key: a connection object being deleted waits for them.
func (r *Registry) Users(ctx context.Context, key Key) ([]string, error) {
	r.mu.Lock()
	funcs := append([]UsersFunc(nil), r.users...)
	r.mu.Unlock()
	var out []string
	for _, f := range funcs {
		u, err := f(ctx, key)
		if err != nil {
			return nil, err
		}
		out = append(out, u...)
	}
	return out, nil
}

// Built returns the client last built for key, if any, without reading
// anything: a connection whose Secret is gone with its namespace keeps
// using it to delete what it manages.
func (r *Registry) Built(key Key) *accountserver.Client { return r.cached(key) }

type entry struct {
	fingerprint string
	client      *accountserver.Client
}

// ClientFor returns the client for a connection object, building it on
// first use and again whenever its URL, budget, TLS settings or credentials
// changed. Building sends no request.
func (r *Registry) ClientFor(ctx context.Context, o Object) (*accountserver.Client, error) {
	spec := o.ConnectionSpec()
	creds, err := r.readSecret(ctx, r.secretKey(o, spec.CredentialsSecretRef))
	if err != nil {
		return nil, err
	}
	id, secret := string(creds.Data[KeyClientID]), string(creds.Data[KeyClientSecret])
	if id == "" || secret == "" {
		return nil, errorf(ReasonSecretInvalid, "Secret %s must have the keys %s and %s", r.secretKey(o, spec.CredentialsSecretRef), KeyClientID, KeyClientSecret)
	}
	tlsConfig, caPEM, err := r.tlsConfig(ctx, o, spec.TLS)
	if err != nil {
		return nil, err
	}
	rate := spec.RateLimit
	fp := fingerprint(spec.URL, fmt.Sprint(rate.RequestsPerSecond, "/", rate.Burst), fmt.Sprint(spec.TLS != nil && spec.TLS.InsecureSkipVerify), caPEM, id, secret)

	key := KeyOf(o)
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.clients[key]; ok && e.fingerprint == fp {
		return e.client, nil
	}
	cfg := accountserver.Config{
		URL:               spec.URL,
		Connection:        key.String(),
		ClientID:          id,
		ClientSecret:      secret,
		RequestsPerSecond: float64(rate.RequestsPerSecond),
		Burst:             int(rate.Burst),
		TLS:               tlsConfig,
		Logger:            r.Logger.WithValues("connection", key.String()),
	}
	if r.Configure != nil {
		r.Configure(&cfg)
	}
	hook := cfg.OnCircuitChange
	var built *accountserver.Client
	cfg.OnCircuitChange = func(from, to accountserver.CircuitState) {
		// A client replaced (its Secret rotated) may still finish calls:
		// only the connection's current client speaks for it.
		if current := r.cached(key); current == built {
			r.circuitChanged(key, from, to)
		}
		if hook != nil {
			hook(from, to)
		}
	}
	c, err := accountserver.New(cfg)
	if err != nil {
		return nil, errorf(ReasonInvalidSpec, "cannot build a client for %s: %v", key, err)
	}
	if r.clients == nil {
		r.clients = map[Key]*entry{}
	}
	built = c
	old, replaced := r.clients[key]
	r.clients[key] = &entry{fingerprint: fp, client: c}
	// A new client starts closed, whatever the one it replaces was doing:
	// what that one's outage held is released.
	metrics.SetCircuit(key.String(), accountserver.CircuitClosed, accountserver.CircuitClosed)
	if replaced {
		// Not under r.mu: the old client's breaker lock comes first where
		// its OnCircuitChange reads the registry.
		go func(old *accountserver.Client) {
			if !old.Available() {
				r.circuitClosedOnce(key)
			}
		}(old.client)
	}
	return c, nil
}

// cached returns the client built for key, if any. The connection controller
// rebuilds it whenever the spec or the Secret changes, so a controller of
// remote objects never reads the Secret itself.
func (r *Registry) cached(key Key) *accountserver.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.clients[key]; ok {
		return e.client
	}
	return nil
}

// Forget drops the client of a deleted connection object.
func (r *Registry) Forget(key Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.clients, key)
	metrics.ForgetCircuit(key.String())
}

// Resolve returns the connection an object in namespace uses through ref. It
// fails, without sending any request, when the connection object is missing,
// not Ready yet, or does not admit the namespace.
func (r *Registry) Resolve(ctx context.Context, ref v1.AccountServerReference, namespace string) (*Connection, error) {
	var o Object
	var key client.ObjectKey
	switch ref.Kind {
	case KindClusterAccountServer:
		o, key = &v1.ClusterAccountServer{}, client.ObjectKey{Name: ref.Name}
	case KindAccountServer, "":
		o, key = &v1.AccountServer{}, client.ObjectKey{Namespace: namespace, Name: ref.Name}
	default:
		return nil, errorf(ReasonInvalidSpec, "accountServerRef.kind %q is neither %s nor %s", ref.Kind, KindAccountServer, KindClusterAccountServer)
	}
	// Read only, and nothing of it is kept but strings: the cache's own
	// object, without a copy, as every reconcile of every object asks.
	if err := r.Reader.Get(ctx, key, o, client.UnsafeDisableDeepCopy); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, errorf(ReasonNotFound, "%s %s not found", kindName(o), ref.Name)
		}
		return nil, err
	}
	if cas, ok := o.(*v1.ClusterAccountServer); ok {
		allowed, err := r.namespaceAllowed(ctx, cas, namespace)
		if err != nil {
			return nil, err
		}
		if !allowed {
			return nil, errorf(ReasonNamespaceNotAllowed, "ClusterAccountServer %s does not allow namespace %s (see its spec.allowedNamespaces)", cas.Name, namespace)
		}
	}
	status := o.ConnectionStatus()
	ready := meta.FindStatusCondition(status.Conditions, v1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue || status.TenantID == "" || ready.ObservedGeneration != o.GetGeneration() {
		return nil, errorf(ReasonNotReady, "%s %s is not Ready yet", kindName(o), ref.Name)
	}
	c := r.cached(KeyOf(o))
	if c == nil {
		// After a restart the connection controller may not have built it yet.
		var err error
		if c, err = r.ClientFor(ctx, o); err != nil {
			return nil, err
		}
	}
	conn := &Connection{Key: KeyOf(o), Client: c, TenantID: status.TenantID, TenantName: status.TenantName, ResyncInterval: r.ResyncOf(o)}
	if cas, ok := o.(*v1.ClusterAccountServer); ok {
		conn.CrossNamespace = cas.Spec.CrossNamespaceReferences == v1.CrossNamespaceAllow
	}
	return conn, nil
}

func kindName(o Object) string {
	if _, ok := o.(*v1.ClusterAccountServer); ok {
		return KindClusterAccountServer
	}
	return KindAccountServer
}

// namespaceAllowed applies a ClusterAccountServer's allowedNamespaces:
// absent admits none, an empty selector admits all.
func (r *Registry) namespaceAllowed(ctx context.Context, cas *v1.ClusterAccountServer, namespace string) (bool, error) {
	if cas.Spec.AllowedNamespaces == nil {
		return false, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(cas.Spec.AllowedNamespaces)
	if err != nil {
		return false, errorf(ReasonInvalidSpec, "ClusterAccountServer %s has an invalid allowedNamespaces selector: %v", cas.Name, err)
	}
	if sel.Empty() {
		return true, nil
	}
	ns := &corev1.Namespace{}
	if err := r.Reader.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return false, err
	}
	return sel.Matches(labels.Set(ns.Labels)), nil
}

// SecretKeyFor returns where a connection object's Secret reference points.
func (r *Registry) SecretKeyFor(o Object, ref v1.SecretReference) types.NamespacedName {
	return r.secretKey(o, ref)
}

func (r *Registry) secretKey(o Object, ref v1.SecretReference) types.NamespacedName {
	ns := ref.Namespace
	switch {
	case o.GetNamespace() != "":
		// A namespaced AccountServer only reads its own namespace.
		ns = o.GetNamespace()
	case ns == "":
		ns = r.OperatorNamespace
	}
	return types.NamespacedName{Namespace: ns, Name: ref.Name}
}

func (r *Registry) readSecret(ctx context.Context, key types.NamespacedName) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	if err := r.SecretReader.Get(ctx, key, s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, errorf(ReasonSecretNotFound, "Secret %s not found", key)
		}
		return nil, fmt.Errorf("reading Secret %s: %w", key, err)
	}
	return s, nil
}

func (r *Registry) tlsConfig(ctx context.Context, o Object, t *v1.TLSConfig) (*tls.Config, string, error) {
	if t == nil {
		return nil, "", nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: t.InsecureSkipVerify} //nolint:gosec // the user asked for it, for tests
	if t.CASecretRef == nil {
		return cfg, "", nil
	}
	key := r.secretKey(o, t.CASecretRef.SecretReference)
	s, err := r.readSecret(ctx, key)
	if err != nil {
		return nil, "", err
	}
	dataKey := t.CASecretRef.Key
	if dataKey == "" {
		dataKey = DefaultCAKey
	}
	pem := s.Data[dataKey]
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, "", errorf(ReasonSecretInvalid, "Secret %s has no PEM certificate under key %s", key, dataKey)
	}
	cfg.RootCAs = pool
	return cfg, string(pem), nil
}

// fingerprint hashes what a client is built from, so a change is noticed
// without keeping the secret itself beside the client.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s|", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}
