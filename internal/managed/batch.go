package managed

import (
	"context"
	"errors"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
)

// Batched observation. When many objects of one connection only need
// looking at (the manager starts, a connection comes back after an outage,
// a poll of the remote watch names many changes), each reconcile leaves the
// ID it wants with the batcher and ends; the batcher reads up to
// accountserver.MaxBatch IDs in one request (`uuids=`), keeps each answer
// for the one reconcile it wakes, and that reconcile goes on from it. Ten
// thousand tenants cost a hundred requests, not ten thousand.
//
// Only a reconcile that verifies an object already handled at its
// generation reads this way: a spec change, a create, a deletion, a
// retry after a stale version, read the server directly. A batched answer
// older than maxBatchAge is not trusted, nor one taken before a change the
// remote watch reported, nor one taken before the operator's own write to
// the object.

// errBatched ends a reconcile that left its ID with the batcher: it is woken
// again when the answer is there.
var errBatched = errors.New("waiting for a batched read")

const (
	// batchWindow is how long the first wanted ID waits for others to
	// share its request.
	batchWindow = 50 * time.Millisecond
	// maxBatchAge bounds how old a batched answer may be when its
	// reconcile runs.
	maxBatchAge = 30 * time.Second
	// batchTimeout bounds one batched read, rate limiter wait included.
	batchTimeout = 5 * time.Minute
	// maxHeld bounds, per connection, the answers read and not yet taken
	// plus the IDs being read. A fast server answers thousands of objects
	// (a restart, an import) faster than their reconciles come for them;
	// beyond this the next read waits for them, instead of the manager
	// holding every remote object in memory at once.
	maxHeld = 10 * accountserver.MaxBatch
	// heldRetry is how soon wanted IDs that found no room look again, if
	// no reconcile has taken an answer (and so made room) meanwhile.
	heldRetry = time.Second
)

// batchResult is what a batched read found for one ID.
type batchResult[R Remote] struct {
	remote R
	found  bool
	err    error
	at     time.Time
}

// batcher collects wanted IDs per connection and reads them in batches.
type batcher[R Remote] struct {
	read func(ctx context.Context, c *connection.Connection, ids []string) (map[string]R, error)
	// wake enqueues the objects waiting for an answer.
	wake func(keys []types.NamespacedName)
	now  func() time.Time
	// maxHeld is the bound of the constant maxHeld (tests lower it).
	maxHeld int
	// size is how many IDs one read takes at most, and window how long the
	// first wanted ID waits for others (BatchSizer).
	size   int
	window time.Duration

	mu    sync.Mutex
	conns map[connection.Key]*connBatch[R]
}

type connBatch[R Remote] struct {
	conn *connection.Connection
	// waiting maps each wanted ID to the objects waiting for it, in the
	// order the IDs were first wanted.
	waiting map[string][]types.NamespacedName
	order   []string
	timer   *time.Timer
	results map[string]batchResult[R]
	// oldest is no later than the time of the oldest answer held (zero:
	// none held since the last walk), so that expired answers are looked
	// for only when one may be there.
	oldest time.Time
	// reading is how many IDs are being read.
	reading int
}

func newBatcher[R Remote](read func(context.Context, *connection.Connection, []string) (map[string]R, error), wake func([]types.NamespacedName)) *batcher[R] {
	return &batcher[R]{read: read, wake: wake, now: time.Now, maxHeld: maxHeld, size: accountserver.MaxBatch, window: batchWindow,
		conns: map[connection.Key]*connBatch[R]{}}
}

// connBatch returns the state of a connection; b.mu is held.
func (b *batcher[R]) connBatch(key connection.Key) *connBatch[R] {
	cb, ok := b.conns[key]
	if !ok {
		cb = &connBatch[R]{waiting: map[string][]types.NamespacedName{}, results: map[string]batchResult[R]{}}
		b.conns[key] = cb
	}
	return cb
}

// take returns, and forgets, the answer of a batched read for id, if one
// is there and young enough.
func (b *batcher[R]) take(c *connection.Connection, id string) (batchResult[R], bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb, ok := b.conns[c.Key]
	if !ok {
		return batchResult[R]{}, false
	}
	res, ok := cb.results[id]
	if !ok {
		return res, false
	}
	delete(cb.results, id)
	// Room for the next read, if IDs wait for it.
	b.pumpLocked(c.Key, cb, false)
	return res, b.now().Sub(res.at) <= maxBatchAge
}

// forget drops any answer for id: the remote object changed since, or the
// operator wrote to it.
func (b *batcher[R]) forget(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, cb := range b.conns {
		delete(cb.results, id)
	}
}

// want leaves id with the batcher for the object key; the object is woken
// when the answer is there.
func (b *batcher[R]) want(c *connection.Connection, id string, key types.NamespacedName) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cb := b.connBatch(c.Key)
	// The newest connection: its client is rebuilt when credentials rotate.
	cb.conn = c
	waiting, known := cb.waiting[id]
	for _, k := range waiting {
		if k == key {
			return
		}
	}
	cb.waiting[id] = append(waiting, key)
	if !known {
		cb.order = append(cb.order, id)
	}
	b.pumpLocked(c.Key, cb, false)
}

// pumpLocked sends batched reads while there is room: full batches at once,
// a partial one too when partial is set (its window has passed). IDs left
// waiting get a timer to look again: after the window, or, when there was
// no room, after heldRetry (taking an answer looks again sooner). b.mu is
// held.
func (b *batcher[R]) pumpLocked(key connection.Key, cb *connBatch[R], partial bool) {
	for len(cb.order) >= b.size || (partial && len(cb.order) > 0) {
		if !b.flushLocked(cb) {
			break
		}
	}
	if len(cb.order) == 0 || cb.timer != nil {
		return
	}
	wait := b.window
	if !b.roomLocked(cb) {
		wait = heldRetry
	}
	cb.timer = time.AfterFunc(wait, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if cb, ok := b.conns[key]; ok {
			cb.timer = nil
			b.pumpLocked(key, cb, true)
		}
	})
}

// roomLocked says whether the next batch may be read now. Only when there
// is no room, and some answer may have outlived maxBatchAge, are the held
// answers walked to drop those nobody came for in time. b.mu is held.
func (b *batcher[R]) roomLocked(cb *connBatch[R]) bool {
	fits := func() bool {
		return len(cb.results)+cb.reading+min(len(cb.order), b.size) <= b.maxHeld
	}
	now := b.now()
	if fits() || cb.oldest.IsZero() || now.Sub(cb.oldest) <= maxBatchAge {
		return fits()
	}
	cb.oldest = time.Time{}
	for id, res := range cb.results {
		switch {
		case now.Sub(res.at) > maxBatchAge:
			delete(cb.results, id)
		case cb.oldest.IsZero() || res.at.Before(cb.oldest):
			cb.oldest = res.at
		}
	}
	return fits()
}

// flushLocked sends one batched read for the first size wanted IDs, if
// there is room for its answers; b.mu is held.
func (b *batcher[R]) flushLocked(cb *connBatch[R]) bool {
	n := min(len(cb.order), b.size)
	if n == 0 || !b.roomLocked(cb) {
		return false
	}
	ids := append([]string(nil), cb.order[:n]...)
	cb.order = cb.order[n:]
	waiting := make(map[string][]types.NamespacedName, n)
	for _, id := range ids {
		waiting[id] = cb.waiting[id]
		delete(cb.waiting, id)
	}
	if len(cb.order) == 0 && cb.timer != nil {
		cb.timer.Stop()
		cb.timer = nil
	}
	cb.reading += n
	go b.fetch(cb.conn, ids, waiting)
	return true
}

// fetch reads ids and wakes the objects waiting for them, whatever the
// outcome: an error is handed to each, which retries as after any failed
// read.
func (b *batcher[R]) fetch(c *connection.Connection, ids []string, waiting map[string][]types.NamespacedName) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	got, err := b.read(ctx, c, ids)
	if err != nil {
		logf.FromContext(ctx).V(1).Info("batched read failed", "connection", c.Key.String(), "ids", len(ids), "error", err.Error())
	}
	at := b.now()
	var keys []types.NamespacedName
	b.mu.Lock()
	cb := b.connBatch(c.Key)
	cb.reading -= len(ids)
	if cb.oldest.IsZero() || at.Before(cb.oldest) {
		cb.oldest = at
	}
	for _, id := range ids {
		r, found := got[id]
		cb.results[id] = batchResult[R]{remote: r, found: found, err: err, at: at}
		keys = append(keys, waiting[id]...)
	}
	b.mu.Unlock()
	b.wake(keys)
}
