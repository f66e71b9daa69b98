// Package connection reconciles AccountServer and ClusterAccountServer: it
// reads the credentials Secret, gets a token, finds the tenant the
// credentials act in, and reports them in status. The client it builds is the
// one every other controller uses for that connection.
package connection

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/conditions"
	conn "github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// Condition reasons of a connection object.
const (
	ReasonConnected          = "Connected"
	ReasonInvalidCredentials = "InvalidCredentials"
	ReasonForbidden          = "Forbidden"
	ReasonUnreachable        = "Unreachable"
	// ReasonAnswering and ReasonServerUnavailable are the reasons of
	// ServerAvailable: the circuit breaker is closed, or open.
	ReasonAnswering         = "Answering"
	ReasonServerUnavailable = "ServerUnavailable"
)

// probeMargin is how long after its next probe is due a connection whose
// circuit is open looks again: the look sends the probe.
const probeMargin = 100 * time.Millisecond

// InUseFinalizer keeps a connection object while managed objects still
// need it to delete their remote objects: deleting a namespace deletes its
// AccountServer (and its credentials Secret) with the Tenants that use it.
const InUseFinalizer = "accounts.tenant-operator.io/in-use"

// retireRequeue is how often a connection object being deleted looks
// again for the objects that still use it (from the cache: no request).
const retireRequeue = 2 * time.Second

// secretIndex indexes connection objects by every Secret they read
// ("namespace/name"), so a changed Secret wakes exactly its connections.
const secretIndex = ".spec.secretRefs"

// Failures back off from a second to five minutes: a connection with wrong
// credentials asks the server for a token a handful of times an hour, not in
// a hot loop.
const (
	minBackoff = time.Second
	maxBackoff = 5 * time.Minute
)

// Reconciler reconciles one kind of connection object.
type Reconciler[T conn.Object] struct {
	Client client.Client
	// APIReader reads a namespace's state past the cache, on the rare path
	// where a connection's Secret is gone.
	APIReader client.Reader
	Registry  *conn.Registry
	// Watch runs the remote watch of every usable connection; nil when the
	// manager polls each object instead (--drift-detection=poll).
	Watch    *remotewatch.Hub
	Recorder events.EventRecorder
	// New returns an empty object of the reconciled kind.
	New func() T
	// NewList returns an empty list of the reconciled kind.
	NewList func() client.ObjectList
	// Items returns the objects of a list made by NewList.
	Items func(client.ObjectList) []T
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=accountservers;clusteraccountservers,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=accountservers/status;clusteraccountservers/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one connection object's status in line with what the
// account server says of its credentials.
func (r *Reconciler[T]) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := r.New()
	if err := r.Client.Get(ctx, req.NamespacedName, obj); err != nil {
		if apierrors.IsNotFound(err) {
			key := conn.KeyOf(obj)
			key.Namespace, key.Name = req.Namespace, req.Name
			r.Registry.Forget(key)
			if r.Watch != nil {
				r.Watch.Stop(key)
			}
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, err
	}
	if obj.GetDeletionTimestamp() != nil {
		return r.retire(ctx, obj)
	}
	if !controllerutil.ContainsFinalizer(obj, InUseFinalizer) {
		base := obj.DeepCopyObject().(T)
		controllerutil.AddFinalizer(obj, InUseFinalizer)
		if err := r.Client.Patch(ctx, obj, client.MergeFrom(base)); err != nil {
			return ctrl.Result{}, client.IgnoreNotFound(err)
		}
	}
	return r.sync(ctx, obj)
}

// sync checks the connection and records what it found in status.
func (r *Reconciler[T]) sync(ctx context.Context, obj T) (ctrl.Result, error) {
	log := logf.FromContext(ctx)
	before := obj.ConnectionStatus().DeepCopy()
	status := obj.ConnectionStatus()
	status.ObservedGeneration = obj.GetGeneration()

	c, checkErr := r.check(ctx, obj, status)
	if checkErr != nil && r.keepsClient(ctx, obj, before) {
		// Its namespace is being deleted, and the Secret with it: the
		// client built before stays, so the objects being deleted with
		// the namespace can still delete their remote objects.
		log.Info("credentials gone with the namespace; keeping the client built before for the objects being deleted", "reason", checkErr.Error())
		return ctrl.Result{RequeueAfter: retireRequeue}, nil
	}
	// An outage does not undo what an earlier check verified: a connection
	// Ready at this generation stays Ready while its server does not
	// answer (ServerAvailable says so), so the objects that use it keep
	// resolving it, fail at once on its open circuit and wait for it to
	// close, instead of all waiting for the connection and all waking
	// when it is Ready again. Its remote watch keeps its schedule: the
	// open circuit fails its polls at once.
	outage := checkErr != nil && c != nil && serverDown(checkErr) && readyAt(before, obj.GetGeneration())
	switch {
	case outage:
		r.watch(obj, status, c, nil)
	case checkErr == nil:
		r.watch(obj, status, c, nil)
		setConditions(status, obj.GetGeneration(), metav1.ConditionTrue, ReasonConnected,
			fmt.Sprintf("Acting in tenant %s (%s)", status.TenantName, status.TenantID), false)
	default:
		r.watch(obj, status, c, checkErr)
		reason, stalled := classify(checkErr)
		setConditions(status, obj.GetGeneration(), metav1.ConditionFalse, reason, checkErr.Error(), stalled)
	}
	setAvailability(status, obj.GetGeneration(), c)

	base := obj.DeepCopyObject().(T)
	*base.ConnectionStatus() = *before
	changed, err := conditions.PatchStatus(ctx, r.Client, base, obj)
	if err != nil {
		return ctrl.Result{}, err
	}
	if changed {
		wasReady := meta.IsStatusConditionTrue(before.Conditions, v1.ConditionReady)
		ready := meta.FindStatusCondition(status.Conditions, v1.ConditionReady)
		switch {
		case outage:
		case checkErr == nil && !wasReady:
			log.Info("connection ready", "tenant", status.TenantID)
			r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, ReasonConnected, "Connect", ready.Message)
		case checkErr != nil:
			r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, ready.Reason, "Connect", ready.Message)
		}
		r.announceAvailability(obj, before, status)
	}
	if checkErr != nil {
		if c != nil && !c.Available() {
			// Look again when the next probe is due: the look sends it, so
			// the circuit closes soon after the server is back even when
			// nothing else calls.
			return ctrl.Result{RequeueAfter: max(time.Until(c.Circuit().NextProbe), 0) + probeMargin}, nil
		}
		// The workqueue's exponential backoff decides when to try again.
		return ctrl.Result{}, checkErr
	}
	return ctrl.Result{RequeueAfter: conditions.Jitter(r.Registry.ResyncOf(obj))}, nil
}

// serverDown says err means the server is not answering: a 5xx, no answer,
// or the open circuit that follows them. Refused credentials, a 403 or a
// 429 are answers.
func serverDown(err error) bool {
	return accountserver.IsCircuitOpen(err) || accountserver.IsServerDown(err)
}

// readyAt says the connection was Ready at generation gen, with the tenant
// its credentials act in found.
func readyAt(s *v1.AccountServerStatus, gen int64) bool {
	c := meta.FindStatusCondition(s.Conditions, v1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gen && s.TenantID != ""
}

// setAvailability sets ServerAvailable from the client's circuit breaker;
// without a client nothing is known, and the condition goes.
func setAvailability(s *v1.AccountServerStatus, gen int64, c *accountserver.Client) {
	if c == nil {
		meta.RemoveStatusCondition(&s.Conditions, v1.ConditionServerAvailable)
		return
	}
	st := c.Circuit()
	if st.State == accountserver.CircuitClosed {
		meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: v1.ConditionServerAvailable, Status: metav1.ConditionTrue,
			Reason: ReasonAnswering, Message: "The account server answers", ObservedGeneration: gen})
		return
	}
	// The same message for the whole outage (the failure that opened the
	// circuit, not the latest probe's), so a failed probe writes nothing.
	meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: v1.ConditionServerAvailable, Status: metav1.ConditionFalse,
		Reason: ReasonServerUnavailable, ObservedGeneration: gen,
		Message: fmt.Sprintf("The account server stopped answering (%s). Calls through this connection fail at once without a request, "+
			"and one probe at a time asks whether it is back (the first %s after it opened, each next one twice as late, then every %s); "+
			"the objects that needed it show ServerUnavailable and are woken, at the connection's rateLimit, once it answers",
			st.Cause, accountserver.DefaultProbeBackoff, accountserver.DefaultMaxProbeBackoff)})
}

// announceAvailability emits one event when a Ready connection's server
// stops answering, and one when it answers again.
func (r *Reconciler[T]) announceAvailability(obj T, before, after *v1.AccountServerStatus) {
	if !meta.IsStatusConditionTrue(after.Conditions, v1.ConditionReady) {
		return // its Ready condition says more
	}
	was := meta.FindStatusCondition(before.Conditions, v1.ConditionServerAvailable)
	now := meta.FindStatusCondition(after.Conditions, v1.ConditionServerAvailable)
	switch {
	case now == nil || (was != nil && was.Status == now.Status):
	case now.Status == metav1.ConditionFalse:
		r.Recorder.Eventf(obj, nil, corev1.EventTypeWarning, ReasonServerUnavailable, "Connect", now.Message)
	case was != nil && was.Status == metav1.ConditionFalse:
		r.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, ReasonAnswering, "Connect",
			"The account server answers again; the objects the outage held are woken at the connection's rateLimit")
	}
}

// retire handles a connection object being deleted: it stays usable, and
// keeps its finalizer, while managed objects still need it to delete their
// remote objects; then it lets go.
func (r *Reconciler[T]) retire(ctx context.Context, obj T) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(obj, InUseFinalizer) {
		return ctrl.Result{}, nil
	}
	key := conn.KeyOf(obj)
	users, err := r.Registry.Users(ctx, key)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(users) == 0 {
		r.Registry.Forget(key)
		if r.Watch != nil {
			r.Watch.Stop(key)
		}
		base := obj.DeepCopyObject().(T)
		controllerutil.RemoveFinalizer(obj, InUseFinalizer)
		return ctrl.Result{}, client.IgnoreNotFound(r.Client.Patch(ctx, obj, client.MergeFrom(base)))
	}
	before := obj.ConnectionStatus().DeepCopy()
	if r.Registry.Built(key) == nil || !meta.IsStatusConditionTrue(before.Conditions, v1.ConditionReady) {
		// No usable client yet (the manager restarted, say): check as
		// usual, and look again soon.
		res, err := r.sync(ctx, obj)
		if err == nil && (res.RequeueAfter == 0 || res.RequeueAfter > retireRequeue) {
			res.RequeueAfter = retireRequeue
		}
		return res, err
	}
	// Deletion raised the generation: Ready again at this one, so the
	// objects being deleted may use the connection, saying what it waits
	// for.
	status := obj.ConnectionStatus()
	status.ObservedGeneration = obj.GetGeneration()
	conditions.Ready(&status.Conditions, obj.GetGeneration(), ReasonConnected,
		fmt.Sprintf("Acting in tenant %s (%s); being deleted, it waits for %d object(s) that still use it: %s",
			status.TenantName, status.TenantID, len(users), summarize(users, 5)))
	setAvailability(status, obj.GetGeneration(), r.Registry.Built(key))
	base := obj.DeepCopyObject().(T)
	*base.ConnectionStatus() = *before
	if _, err := conditions.PatchStatus(ctx, r.Client, base, obj); err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: retireRequeue}, nil
}

// keepsClient says whether a connection whose check failed keeps the
// client it built: it was Ready, and its namespace is being deleted (which
// deletes its Secret while the objects that use it still need it).
func (r *Reconciler[T]) keepsClient(ctx context.Context, obj T, before *v1.AccountServerStatus) bool {
	if obj.GetNamespace() == "" || r.APIReader == nil || r.Registry.Built(conn.KeyOf(obj)) == nil ||
		!meta.IsStatusConditionTrue(before.Conditions, v1.ConditionReady) {
		return false
	}
	ns := &corev1.Namespace{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Name: obj.GetNamespace()}, ns); err != nil {
		return false
	}
	return ns.DeletionTimestamp != nil
}

// summarize lists the first n names, and how many more there are.
func summarize(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// check gets a token and the tenant the credentials act in, and records
// them in status. It returns the client it checked, also when the check
// failed (nil only when none could be built).
func (r *Reconciler[T]) check(ctx context.Context, obj T, status *v1.AccountServerStatus) (*accountserver.Client, error) {
	c, err := r.Registry.ClientFor(ctx, obj)
	if err != nil {
		return nil, err
	}
	expiry, err := c.Token(ctx)
	if err != nil {
		return c, err
	}
	tenantID, err := c.WhoAmI(ctx)
	if err != nil {
		return c, err
	}
	tenant, err := c.GetTenant(ctx, tenantID)
	if err != nil {
		return c, err
	}
	status.TenantID, status.TenantName = tenant.ID, tenant.Name
	// Recorded again only once the recorded time has passed: a restarted
	// manager gets a new token, and must not write status for it.
	if status.TokenExpiresAt == nil || !status.TokenExpiresAt.After(time.Now()) {
		exp := metav1.NewTime(expiry.UTC().Truncate(time.Second))
		status.TokenExpiresAt = &exp
	}
	return c, nil
}

// watch starts, changes or pauses the connection's remote watch: it runs
// while the connection is usable, and a pause keeps its watermark, so what
// changed while the connection could not be used is still found.
func (r *Reconciler[T]) watch(obj T, status *v1.AccountServerStatus, c *accountserver.Client, checkErr error) {
	if r.Watch == nil {
		return
	}
	key := conn.KeyOf(obj)
	if checkErr != nil {
		r.Watch.Pause(key)
		return
	}
	r.Watch.Ensure(key, remotewatch.Target{Client: c, TenantID: status.TenantID, Interval: r.Registry.DriftOf(obj)})
}

// classify turns a failure into a condition reason, and says whether only a
// change of spec or Secret can fix it (Stalled) rather than time.
func classify(err error) (reason string, stalled bool) {
	if r, ok := conn.ReasonOf(err); ok {
		return string(r), r != conn.ReasonNotReady
	}
	switch {
	case accountserver.IsUnauthorized(err), accountserver.IsInvalid(err):
		return ReasonInvalidCredentials, true
	case accountserver.IsForbidden(err):
		return ReasonForbidden, true
	default:
		return ReasonUnreachable, false
	}
}

func setConditions(s *v1.AccountServerStatus, gen int64, ready metav1.ConditionStatus, reason, msg string, stalled bool) {
	switch {
	case ready == metav1.ConditionTrue:
		conditions.Ready(&s.Conditions, gen, reason, msg)
	case stalled:
		conditions.Stalled(&s.Conditions, gen, reason, msg)
	default:
		conditions.Progressing(&s.Conditions, gen, reason, msg)
	}
}

func (r *Reconciler[T]) SetupWithManager(mgr ctrl.Manager, name string) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), r.New(), secretIndex, func(o client.Object) []string {
		c := o.(T)
		spec := c.ConnectionSpec()
		keys := []string{r.Registry.SecretKeyFor(c, spec.CredentialsSecretRef).String()}
		if spec.TLS != nil && spec.TLS.CASecretRef != nil {
			keys = append(keys, r.Registry.SecretKeyFor(c, spec.TLS.CASecretRef.SecretReference).String())
		}
		return keys
	}); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named(name).
		// Our own status writes must not wake us again.
		For(r.New(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, deletionStarted))).
		// Only metadata: a Secret's data is read when needed, never cached.
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.forSecret), builder.OnlyMetadata).
		// The client's circuit opened or closed: ServerAvailable shows it.
		WatchesRawSource(source.Channel(r.Registry.CircuitEvents(conn.KeyOf(r.New()).Kind), &handler.EnqueueRequestForObject{})).
		WithOptions(controller.Options{
			RateLimiter: workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](minBackoff, maxBackoff),
		}).
		Complete(r)
}

// deletionStarted passes the update that marks an object for deletion.
var deletionStarted = predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
	return e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil
}}

func (r *Reconciler[T]) forSecret(ctx context.Context, s client.Object) []reconcile.Request {
	list := r.NewList()
	if err := r.Client.List(ctx, list, client.MatchingFields{secretIndex: s.GetNamespace() + "/" + s.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "listing connections of a Secret", "secret", s.GetName())
		return nil
	}
	var reqs []reconcile.Request
	for _, o := range r.Items(list) {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(o)})
	}
	return reqs
}

// Setup registers the AccountServer and ClusterAccountServer controllers;
// watch, when not nil, runs the remote watch of each usable connection.
func Setup(mgr ctrl.Manager, registry *conn.Registry, watch *remotewatch.Hub) error {
	as := &Reconciler[*v1.AccountServer]{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Registry: registry, Watch: watch, Recorder: mgr.GetEventRecorder("accountserver-controller"),
		New:     func() *v1.AccountServer { return &v1.AccountServer{} },
		NewList: func() client.ObjectList { return &v1.AccountServerList{} },
		Items: func(l client.ObjectList) []*v1.AccountServer {
			var out []*v1.AccountServer
			for i := range l.(*v1.AccountServerList).Items {
				out = append(out, &l.(*v1.AccountServerList).Items[i])
			}
			return out
		},
	}
	if err := as.SetupWithManager(mgr, "accountserver"); err != nil {
		return err
	}
	cas := &Reconciler[*v1.ClusterAccountServer]{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Registry: registry, Watch: watch, Recorder: mgr.GetEventRecorder("clusteraccountserver-controller"),
		New:     func() *v1.ClusterAccountServer { return &v1.ClusterAccountServer{} },
		NewList: func() client.ObjectList { return &v1.ClusterAccountServerList{} },
		Items: func(l client.ObjectList) []*v1.ClusterAccountServer {
			var out []*v1.ClusterAccountServer
			for i := range l.(*v1.ClusterAccountServerList).Items {
				out = append(out, &l.(*v1.ClusterAccountServerList).Items[i])
			}
			return out
		},
	}
	return cas.SetupWithManager(mgr, "clusteraccountserver")
}
