// Package remotewatch finds drift the way a Kubernetes watch finds changes:
// one goroutine per connection asks the account server, every drift
// interval, which tenants, users and offering items of the connection's
// subtree changed since the last time it asked (one paged list per kind,
// `updated_since` and `allow_deleted`), and wakes only the objects whose
// remote object changed. Its cost does not grow with the number of objects:
// three requests per interval when nothing changed, whether the connection
// holds ten tenants or ten thousand.
//
// The watermark is the start of the last successful poll on the operator's
// clock; each poll asks for changes since the watermark minus an overlap, so
// a server clock behind the operator's (or a change committed while a poll
// ran) is not missed. A change seen twice in the overlap is passed on once.
package remotewatch

import (
	"context"
	"iter"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// DefaultInterval is how often a connection is polled when neither its spec
// nor the manager says otherwise.
const DefaultInterval = 30 * time.Second

// DefaultOverlap is how far back before its watermark each poll asks: the
// clock skew between operator and server the watch tolerates.
const DefaultOverlap = time.Minute

// Change is one remote object a list says changed.
type Change struct {
	// ID is the ID the objects that manage the change hold in status.id
	// (for offering items: their tenant's).
	ID string
	// Version is the remote object's version; 0 when it has none.
	Version int64
	// Deleted says the object is (soft-)deleted on the server.
	Deleted bool
	// Detail is what the kind's Stale needs beyond the version (an
	// offering item, say).
	Detail any
}

// Lister lists the remote objects of one kind in the subtree of root that
// changed since since, deletions included, following the paging cursor.
type Lister func(ctx context.Context, c *accountserver.Client, root string, since time.Time) iter.Seq2[Change, error]

// Feed is one kind the watch lists.
type Feed struct {
	// Kind names the kind in logs and metrics.
	Kind string
	List Lister
	// Notify wakes the objects that manage the changed remote object and
	// returns how many it woke.
	Notify func(ctx context.Context, ch Change) int
}

// Target is a connection to watch.
type Target struct {
	Client *accountserver.Client
	// TenantID is the root of the subtree the connection acts in.
	TenantID string
	Interval time.Duration
}

// Hub runs one watch per connection. It is a manager Runnable: the watches
// run in the leader only, from Start until the manager stops.
type Hub struct {
	Log logr.Logger
	// Overlap overrides DefaultOverlap.
	Overlap time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	ctx     context.Context
	feeds   []Feed
	watches map[connection.Key]*watch
}

// Register adds a kind. Call it before the manager starts.
func (h *Hub) Register(f Feed) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.feeds = append(h.feeds, f)
}

// NeedLeaderElection makes the watches run in the leader only, beside the
// controllers they wake.
func (h *Hub) NeedLeaderElection() bool { return true }

// Start runs the watches of the connections Ensure named until ctx ends.
func (h *Hub) Start(ctx context.Context) error {
	h.mu.Lock()
	h.ctx = ctx
	for _, w := range h.watches {
		if w.target.Client != nil {
			w.start(ctx)
		}
	}
	h.mu.Unlock()
	<-ctx.Done()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.watches {
		w.stop()
	}
	return nil
}

// Ensure watches a connection with target, or changes the watch of one
// already watched (its interval, its client after a credentials rotation).
// The watermark survives: a watch paused by Pause, or whose client changed,
// goes on from where it stopped.
func (h *Hub) Ensure(key connection.Key, t Target) {
	if t.Interval <= 0 {
		t.Interval = DefaultInterval
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.watches == nil {
		h.watches = map[connection.Key]*watch{}
	}
	w, ok := h.watches[key]
	if !ok {
		w = &watch{hub: h, key: key, log: h.Log.WithValues("connection", key.String())}
		h.watches[key] = w
	}
	if w.running() && w.target == t {
		return
	}
	if w.target.TenantID != "" && w.target.TenantID != t.TenantID {
		// Another subtree: what was seen of the old one means nothing.
		w.watermark = time.Time{}
	}
	w.stop()
	w.target = t
	if h.ctx != nil {
		w.start(h.ctx)
	}
}

// Pause stops polling a connection that cannot be used for now (its server
// unreachable, its credentials refused) and keeps its watermark, so Ensure
// goes on from there: nothing that changed meanwhile is missed.
func (h *Hub) Pause(key connection.Key) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w, ok := h.watches[key]; ok {
		w.stop()
	}
}

// Stop forgets a connection (its object was deleted).
func (h *Hub) Stop(key connection.Key) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w, ok := h.watches[key]; ok {
		w.stop()
		delete(h.watches, key)
	}
}

// Watching says whether a connection is being polled, and how often.
func (h *Hub) Watching(key connection.Key) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w, ok := h.watches[key]; ok && w.running() {
		return w.target.Interval, true
	}
	return 0, false
}

func (h *Hub) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Hub) overlap() time.Duration {
	if h.Overlap > 0 {
		return h.Overlap
	}
	return DefaultOverlap
}

func (h *Hub) feedList() []Feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Feed(nil), h.feeds...)
}

// watch polls one connection. Its fields are guarded by hub.mu, except
// those only its goroutine touches (seen).
type watch struct {
	hub    *Hub
	key    connection.Key
	log    logr.Logger
	target Target
	// watermark is the start of the last successful poll; zero before the
	// first, when the start-up observation of every object stands in.
	watermark time.Time
	cancel    context.CancelFunc
	done      chan struct{}
}

func (w *watch) running() bool { return w.cancel != nil }

// start runs the poll loop; hub.mu is held.
func (w *watch) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	w.cancel, w.done = cancel, make(chan struct{})
	if w.watermark.IsZero() {
		// Everything before now is covered by the observation every object
		// makes when it is first reconciled.
		w.watermark = w.hub.now()
	}
	go w.loop(ctx, w.target, w.done)
}

// stop ends the poll loop; hub.mu is held. It does not wait: a poll under
// way ends at its next request.
func (w *watch) stop() {
	if w.cancel != nil {
		w.cancel()
		w.cancel, w.done = nil, nil
	}
}

func (w *watch) loop(ctx context.Context, t Target, done chan struct{}) {
	defer close(done)
	seen := newSeen()
	timer := time.NewTimer(jitter(t.Interval))
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		w.poll(ctx, t, seen)
		timer.Reset(jitter(t.Interval))
	}
}

// poll asks for every kind's changes since the watermark and passes them
// on; the watermark moves only when every list succeeded.
func (w *watch) poll(ctx context.Context, t Target, seen *seen) {
	h := w.hub
	h.mu.Lock()
	since := w.watermark.Add(-h.overlap())
	h.mu.Unlock()
	start := h.now()
	ok := true
	for _, f := range h.feedList() {
		listed, woken := 0, 0
		var err error
		for ch, lerr := range f.List(ctx, t.Client, t.TenantID, since) {
			if lerr != nil {
				err = lerr
				break
			}
			listed++
			if seen.again(f.Kind, ch, start) {
				continue
			}
			woken += f.Notify(ctx, ch)
		}
		polls.WithLabelValues(w.key.String(), f.Kind, outcome(err)).Inc()
		changes.WithLabelValues(w.key.String(), f.Kind).Add(float64(listed))
		wakes.WithLabelValues(w.key.String(), f.Kind).Add(float64(woken))
		if err != nil {
			ok = false
			switch {
			case ctx.Err() != nil:
			case accountserver.IsCircuitOpen(err):
				// Nothing was sent: the connection says once that its
				// server is down, not every poll.
				w.log.V(1).Info("listing changes skipped: the connection's circuit breaker is open", "kind", f.Kind)
			default:
				w.log.Info("listing changes failed; the next poll asks again from the same watermark", "kind", f.Kind, "error", err.Error())
			}
			continue
		}
		if woken > 0 {
			w.log.V(1).Info("remote changes", "kind", f.Kind, "listed", listed, "woken", woken)
		}
	}
	seen.forget(since)
	if ok {
		h.mu.Lock()
		w.watermark = start
		h.mu.Unlock()
	}
}

// seen remembers the changes passed on during the overlap window, so a
// change listed by two polls wakes its objects once.
type seen struct {
	at map[seenKey]time.Time
}

type seenKey struct {
	kind, id string
	version  int64
	deleted  bool
	detail   any
}

func newSeen() *seen { return &seen{at: map[seenKey]time.Time{}} }

// again records ch and says whether it was passed on before.
func (s *seen) again(kind string, ch Change, now time.Time) bool {
	k := seenKey{kind: kind, id: ch.ID, version: ch.Version, deleted: ch.Deleted, detail: ch.Detail}
	if _, ok := s.at[k]; ok {
		return true
	}
	s.at[k] = now
	return false
}

// forget drops what no later poll can list again.
func (s *seen) forget(before time.Time) {
	for k, at := range s.at {
		if at.Before(before) {
			delete(s.at, k)
		}
	}
}

func outcome(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// jitter spreads polls of many connections by up to a tenth.
func jitter(d time.Duration) time.Duration {
	return d - time.Duration(rand.Int64N(int64(d)/10+1))
}

// Changes maps a list of remote objects to the changes they are.
func Changes[T any](list iter.Seq2[T, error], change func(T) Change) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		for v, err := range list {
			if err != nil {
				yield(Change{}, err)
				return
			}
			if !yield(change(v), nil) {
				return
			}
		}
	}
}
