package remotewatch_test

import (
	"context"
	"errors"
	"iter"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/onsi/gomega"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// interval is short so that a test sees several polls in well under a
// second; the overlap is much longer, so every change is listed by many
// polls and must still be passed on once.
const interval = 50 * time.Millisecond

type fixture struct {
	emu    *emulator.Server
	client *accountserver.Client
	root   string
	hub    *remotewatch.Hub
	key    connection.Key
	got    *recorder
	cancel context.CancelFunc
	// failing makes every list fail; failures counts the failed ones.
	failing  atomic.Bool
	failures atomic.Int64
}

// recorder keeps the changes the watch passed on.
type recorder struct {
	mu      sync.Mutex
	changes []remotewatch.Change
}

func (r *recorder) notify(_ context.Context, ch remotewatch.Change) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, ch)
	return 1
}

// of returns the changes passed on for id.
func (r *recorder) of(id string) []remotewatch.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []remotewatch.Change
	for _, ch := range r.changes {
		if ch.ID == id {
			out = append(out, ch)
		}
	}
	return out
}

func (f *fixture) tenants(ctx context.Context, c *accountserver.Client, root string, since time.Time) iter.Seq2[remotewatch.Change, error] {
	if f.failing.Load() {
		f.failures.Add(1)
		return func(yield func(remotewatch.Change, error) bool) {
			yield(remotewatch.Change{}, errors.New("the server is down"))
		}
	}
	q := accountserver.TenantQuery{SubtreeRootID: root, UpdatedSince: since, Lod: "stamps", AllowDeleted: true}
	return remotewatch.Changes(c.ListTenants(ctx, q), func(t accountserver.Tenant) remotewatch.Change {
		return remotewatch.Change{ID: t.ID, Version: t.Version, Deleted: t.DeletedAt != nil}
	})
}

// start runs a hub watching the emulator's bootstrap tenant every
// interval, with the given overlap (a minute when none).
func start(t *testing.T, overlap ...time.Duration) *fixture {
	t.Helper()
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	b := emu.Bootstrap()
	c, err := accountserver.New(accountserver.Config{URL: srv.URL, ClientID: b.ClientID, ClientSecret: b.ClientSecret, RequestsPerSecond: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{emu: emu, client: c, root: b.TenantID, got: &recorder{}, key: connection.Key{Kind: connection.KindClusterAccountServer, Name: "test"}}
	f.hub = &remotewatch.Hub{Log: testr.New(t), Overlap: time.Minute}
	if len(overlap) > 0 {
		f.hub.Overlap = overlap[0]
	}
	f.hub.Register(remotewatch.Feed{Kind: "Tenant", List: f.tenants, Notify: f.got.notify})
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.hub.Start(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	f.hub.Ensure(f.key, remotewatch.Target{Client: c, TenantID: f.root, Interval: interval})
	return f
}

func (f *fixture) createTenant(t *testing.T, name string) *accountserver.Tenant {
	t.Helper()
	tn, err := f.client.CreateTenant(context.Background(), accountserver.TenantCreate{Name: name, ParentID: f.root, Kind: accountserver.KindCustomer})
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// lists counts the watch's list requests so far.
func (f *fixture) lists() int {
	n := 0
	for _, r := range f.emu.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/api/2/tenants") {
			n++
		}
	}
	return n
}

// eventually waits, with Gomega's Eventually, until cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(10*time.Second).WithPolling(10*time.Millisecond).Should(gomega.BeTrue(), "waiting: %s", what)
}

// pollsPass waits until the watch listed n more times.
func (f *fixture) pollsPass(t *testing.T, n int) {
	t.Helper()
	from := f.lists()
	eventually(t, "the watch to poll again", func() bool { return f.lists() >= from+n })
}

func TestAChangeIsPassedOnOnceAndADeletionToo(t *testing.T) {
	f := start(t)
	tn := f.createTenant(t, "acme")
	eventually(t, "the new tenant to be passed on", func() bool { return len(f.got.of(tn.ID)) > 0 })
	// Every poll of the next minute lists it again (the overlap): it is
	// still passed on once.
	f.pollsPass(t, 5)
	if got := f.got.of(tn.ID); len(got) != 1 || got[0].Version != tn.Version || got[0].Deleted {
		t.Fatalf("passed on %+v, want one change at version %d", got, tn.Version)
	}

	name := "acme-renamed"
	up, err := f.client.UpdateTenant(context.Background(), tn.ID, accountserver.TenantUpdate{Version: tn.Version, Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rename to be passed on", func() bool { return len(f.got.of(tn.ID)) == 2 })
	if got := f.got.of(tn.ID)[1]; got.Version != up.Version {
		t.Fatalf("passed on version %d, want %d", got.Version, up.Version)
	}

	// A disabled tenant can be deleted; the deletion is listed with
	// allow_deleted.
	off := false
	up, err = f.client.UpdateTenant(context.Background(), tn.ID, accountserver.TenantUpdate{Version: up.Version, Enabled: &off})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.DeleteTenant(context.Background(), tn.ID, up.Version); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion to be passed on", func() bool {
		return slices.ContainsFunc(f.got.of(tn.ID), func(ch remotewatch.Change) bool { return ch.Deleted })
	})
}

func TestNothingChangedCostsOneListPerPoll(t *testing.T) {
	f := start(t)
	f.pollsPass(t, 1)
	before := len(f.emu.Requests())
	f.pollsPass(t, 10)
	after := f.emu.Requests()[before:]
	for _, r := range after {
		if r.Method != "GET" || !strings.HasSuffix(r.Path, "/api/2/tenants") {
			t.Errorf("an idle watch sent %s %s", r.Method, r.Path)
		}
	}
	if n := len(after); n < 10 || n > 11 {
		t.Errorf("ten polls sent %d requests, want one list each", n)
	}
}

func TestAFailedPollKeepsTheWatermark(t *testing.T) {
	f := start(t, time.Nanosecond)
	f.pollsPass(t, 1)
	// Every list fails for a while (longer than the second the server's
	// timestamps resolve); a change made when the failures began is found
	// once lists work again: the overlap alone would not reach back to it.
	f.failing.Store(true)
	tn := f.createTenant(t, "during-outage")
	made := time.Now()
	failed := f.failures.Load()
	eventually(t, "three failed polls over more than a second", func() bool {
		return f.failures.Load() >= failed+3 && time.Since(made) > 1100*time.Millisecond
	})
	if got := f.got.of(tn.ID); len(got) != 0 {
		t.Fatalf("passed on %+v while every list failed", got)
	}
	f.failing.Store(false)
	eventually(t, "the change made during the failures", func() bool { return len(f.got.of(tn.ID)) == 1 })
}

func TestPauseKeepsTheWatermarkAndStopForgets(t *testing.T) {
	f := start(t)
	f.pollsPass(t, 1)
	f.hub.Pause(f.key)
	if _, ok := f.hub.Watching(f.key); ok {
		t.Fatal("a paused connection is still watched")
	}
	tn := f.createTenant(t, "while-paused")
	polled := f.lists()
	// Nothing is polled while paused: the next list comes after Ensure.
	f.hub.Ensure(f.key, remotewatch.Target{Client: f.client, TenantID: f.root, Interval: 2 * interval})
	if got, ok := f.hub.Watching(f.key); !ok || got != 2*interval {
		t.Fatalf("watching = %v %v, want every %v", got, ok, 2*interval)
	}
	eventually(t, "the change made while paused", func() bool { return len(f.got.of(tn.ID)) == 1 })
	if f.lists() <= polled {
		t.Fatal("the change was found without a poll")
	}

	f.hub.Stop(f.key)
	if _, ok := f.hub.Watching(f.key); ok {
		t.Fatal("a stopped connection is still watched")
	}
	stopped := f.lists()
	other := f.createTenant(t, "after-stop")
	// A running watch would have polled many times by the time a second
	// watch on another connection polls twice.
	second := connection.Key{Kind: connection.KindClusterAccountServer, Name: "second"}
	f.hub.Ensure(second, remotewatch.Target{Client: f.client, TenantID: f.root, Interval: interval})
	f.pollsPass(t, 2)
	f.hub.Stop(second)
	if n := f.lists() - stopped; n > 3 {
		t.Errorf("%d lists after Stop, want only the second connection's", n)
	}
	// The second connection's first poll looks back by the overlap, so it
	// passes on what changed just before it started.
	if len(f.got.of(other.ID)) != 1 {
		t.Errorf("the change made a moment before the second watch started was not passed on")
	}
}
