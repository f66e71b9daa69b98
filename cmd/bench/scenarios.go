package main

import (
	"context"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// farFuture ends the log windows that are still open.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// run sets up and goes through every scenario in order.
func (b *bench) run(ctx context.Context) (*results, error) {
	if err := b.setup(ctx); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	rs := newResults(b.cfg, b.feat, b.modes)
	rs.machine = harness.Machine()
	steps := []struct {
		name string
		fn   func(context.Context, *results) error
	}{
		{"cold", b.cold},
		{"interactive", b.interactive},
		{"seed", b.seed},
		{"idle", b.idle},
		{"drift", b.drift},
		{"restart", b.restart},
		{"memory", b.memory},
	}
	for i, s := range steps {
		b.logf("== %d/%d %s", i+1, len(steps), s.name)
		if err := s.fn(ctx, rs); err != nil {
			return rs, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	for _, m := range b.modes {
		rs.res[m.name].kicks = m.kicks
	}
	rs.finished = time.Now()
	rs.elapsed = time.Since(b.start)
	return rs, b.report(rs)
}

// waitReady waits until want[kind] objects of each kind in the mode's
// namespace whose names start with prefix are Ready, printing progress, and
// returns when the last became Ready. Objects left waiting for a Ready
// connection are woken after 20 s without progress (see unstick).
func (b *bench) waitReady(ctx context.Context, m *mode, label, prefix string, want map[string]int) (time.Time, error) {
	total := 0
	for _, n := range want {
		total += n
	}
	var last time.Time
	lastPrint, lastProgress, lastReady := time.Now(), time.Now(), -1
	err := harness.Poll(ctx, 200*time.Millisecond, b.cfg.timeout, func() (bool, error) {
		if err := m.mgr.Alive(); err != nil {
			return false, err
		}
		ready := 0
		last = time.Time{}
		for kind, n := range want {
			c := b.track.count(m.ns, kind, prefix)
			ready += min(c.ready, n)
			if c.lastReady.After(last) {
				last = c.lastReady
			}
		}
		if ready != lastReady {
			lastReady, lastProgress = ready, time.Now()
		}
		if time.Since(lastPrint) >= 10*time.Second {
			b.logf("[%s] %s: %d/%d Ready", m.name, label, ready, total)
			lastPrint = time.Now()
		}
		if ready < total && time.Since(lastProgress) >= 20*time.Second {
			lastProgress = time.Now()
			if err := b.unstick(ctx, m, label); err != nil {
				return false, err
			}
		}
		return ready == total, nil
	})
	if err != nil {
		return last, fmt.Errorf("waiting for %d objects to be Ready (%v); not Ready: %v", total, err, b.track.notReady(m.ns, 5))
	}
	return last, nil
}

// waitAllReady waits until every object of every mode is Ready.
func (b *bench) waitAllReady(ctx context.Context, label string) error {
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		_, err := b.waitReady(ctx, m, label, "", b.track.totals(m.ns))
		return err
	})
}

// restoreQuietly puts back R once the managers have nothing left to do at
// the lifted rate, and waits until every object is Ready again.
func (b *bench) restoreQuietly(ctx context.Context, label string) error {
	if err := b.waitAllReady(ctx, label); err != nil {
		return err
	}
	if err := b.quiesce(ctx, label+": before restoring R", time.Minute); err != nil {
		return err
	}
	if err := b.restore(ctx); err != nil {
		return err
	}
	return b.waitAllReady(ctx, label+": after restoring R")
}

// hold lets a measurement window pass, checking that the managers live.
func (b *bench) hold(ctx context.Context, d time.Duration, label string) error {
	end := time.Now().Add(d)
	lastPrint := time.Now()
	return harness.Poll(ctx, time.Second, d+time.Minute, func() (bool, error) {
		for _, m := range b.modes {
			if err := m.mgr.Alive(); err != nil {
				return false, err
			}
		}
		if time.Since(lastPrint) >= 30*time.Second && time.Until(end) > 5*time.Second {
			b.logf("%s: %s left", label, time.Until(end).Round(time.Second))
			lastPrint = time.Now()
		}
		return !time.Now().Before(end), nil
	})
}

// cold applies the customers at once and times them until Ready.
func (b *bench) cold(ctx context.Context, rs *results) error {
	n := b.cfg.customers
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		var objs []client.Object
		for i := range n {
			objs = append(objs, customer(m, i)...)
		}
		start := time.Now()
		if err := createAll(ctx, b.k8s, objs, 16); err != nil {
			return err
		}
		b.logf("[%s] cold: %d objects applied in %.1fs", m.name, len(objs), time.Since(start).Seconds())
		last, err := b.waitReady(ctx, m, "cold", prefixCustomer, map[string]int{kindTenant: n, kindUser: n, kindQuota: n})
		if err != nil {
			return err
		}
		r := rs.res[m.name]
		r.coldSeconds = last.Sub(start).Seconds()
		reqs := b.requests(m, start, last.Add(time.Millisecond))
		r.coldRequests = len(reqs)
		r.coldTop = topOps(reqs, 8)
		b.logf("[%s] cold: %d customers Ready in %.1fs, %d requests (%.2f per customer)", m.name, n, r.coldSeconds, len(reqs), float64(len(reqs))/float64(n))
		return nil
	})
}

// interactive edits Ready tenants one at a time while a backlog of new
// tenants drains, and times each edit to the operator's PUT.
func (b *bench) interactive(ctx context.Context, rs *results) error {
	cfg := b.cfg
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		r := rs.res[m.name]
		ids := b.track.tenantIDs(m.ns, prefixCustomer)
		targets := slices.Sorted(maps.Keys(ids))
		var objs []client.Object
		for i := range cfg.backlog {
			objs = append(objs, plainTenant(m, fmt.Sprintf("%s%05d", prefixBacklog, i), ""))
		}
		start := time.Now()
		if err := createAll(ctx, b.k8s, objs, 16); err != nil {
			return err
		}
		b.logf("[%s] interactive: %d tenants applied in %.1fs; editing one tenant every %s", m.name, cfg.backlog, time.Since(start).Seconds(), cfg.editEvery)
		type edit struct {
			path           string
			sent, returned time.Time
		}
		var edits []edit
		tick := time.NewTicker(cfg.editEvery)
		defer tick.Stop()
		for i := 0; i < len(targets) && i < cfg.maxEdits; i++ {
			drained := b.track.count(m.ns, kindTenant, prefixBacklog).ready == cfg.backlog
			if drained && i >= cfg.minEdits {
				break
			}
			if err := m.mgr.Alive(); err != nil {
				return err
			}
			name := targets[i]
			sent := time.Now()
			if err := b.editTenant(ctx, m, name, i); err != nil {
				return err
			}
			edits = append(edits, edit{path: "/api/2/tenants/" + ids[name], sent: sent, returned: time.Now()})
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
		lastEdit := time.Now()
		delays := make([]float64, len(edits))
		for i := range delays {
			delays[i] = math.Inf(1)
		}
		_ = harness.Poll(ctx, 500*time.Millisecond, cfg.editCap, func() (bool, error) {
			reqs := b.requests(m, start, farFuture)
			done := true
			for i, e := range edits {
				if !math.IsInf(delays[i], 1) {
					continue
				}
				if t, ok := reqs.firstPutAfter(e.path, e.sent); ok {
					delays[i] = max(0, t.Sub(e.returned).Seconds())
				} else {
					done = false
				}
			}
			return done, nil
		})
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.editDelays = delays
		last, err := b.waitReady(ctx, m, "interactive backlog", prefixBacklog, map[string]int{kindTenant: cfg.backlog})
		if err != nil {
			return err
		}
		r.backlogSeconds = last.Sub(start).Seconds()
		b.logf("[%s] interactive: %d edits (the last %.0fs after the backlog was applied), p50 %s, p99 %s; backlog Ready in %.1fs",
			m.name, len(edits), lastEdit.Sub(start).Seconds(), fmtDelay(percentile(delays, 50), cfg.editCap), fmtDelay(percentile(delays, 99), cfg.editCap), r.backlogSeconds)
		return nil
	})
}

// editTenant changes a contact field of the tenant's spec.
func (b *bench) editTenant(ctx context.Context, m *mode, name string, i int) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		t := &v1.Tenant{}
		if err := b.k8s.Get(ctx, client.ObjectKey{Namespace: m.ns, Name: name}, t); err != nil {
			return err
		}
		if t.Spec.Contact == nil {
			t.Spec.Contact = &v1.Contact{}
		}
		t.Spec.Contact.Phone = fmt.Sprintf("+41 31 %03d %04d", i/10000, i%10000)
		return b.k8s.Update(ctx, t)
	})
}

// seed brings every mode to cfg.tenants Ready tenants by adopting tenants
// made in the emulator's store, and measures the idle rate on the way.
func (b *bench) seed(ctx context.Context, rs *results) error {
	cfg := b.cfg
	record := func(tenants int, figs map[string]idleFigures) {
		for name, f := range figs {
			rs.res[name].points = append(rs.res[name].points, idlePoint{tenants: tenants, rate: f.rate, seconds: f.seconds})
		}
	}
	// The size the earlier steps left is measured first, as it is: R is
	// in place, nothing to restore.
	existing := cfg.customers + cfg.backlog
	if err := b.waitAllReady(ctx, "seed: before"); err != nil {
		return err
	}
	if err := b.quiesce(ctx, "seed: before", time.Minute); err != nil {
		return err
	}
	figs, err := b.measureIdle(ctx, cfg.window, fmt.Sprintf("idle at %d tenants", existing))
	if err != nil {
		return err
	}
	record(existing, figs)

	b.logf("seed: lifting the limits (emulator latency and rate limit off, connections at %d/s)", cfg.liftRate)
	if err := b.lift(ctx); err != nil {
		return err
	}
	if b.feat.kubeQPS {
		b.logf("seed: restarting the managers with --kube-api-qps=%d", cfg.liftQPS)
		if err := b.restartManagers(ctx, true); err != nil {
			return err
		}
	}
	var targets []int
	for _, p := range slices.Sorted(slices.Values(cfg.points)) {
		if p > existing {
			targets = append(targets, p)
		}
	}
	targets = append(targets, cfg.tenants)
	for _, target := range targets {
		start := time.Now()
		if err := b.forModes(ctx, func(ctx context.Context, m *mode) error { return b.seedTenants(ctx, m, target) }); err != nil {
			return err
		}
		b.logf("seed: %d tenants Ready in every mode (%.0fs)", target, time.Since(start).Seconds())
		if target == cfg.tenants {
			break
		}
		if err := b.restoreQuietly(ctx, fmt.Sprintf("seed at %d tenants", target)); err != nil {
			return err
		}
		figs, err := b.measureIdle(ctx, cfg.window, fmt.Sprintf("idle at %d tenants", target))
		if err != nil {
			return err
		}
		record(target, figs)
		if err := b.lift(ctx); err != nil {
			return err
		}
	}
	b.logf("seed: restoring R = %g requests/s and %s latency", cfg.rate, cfg.latency)
	return b.restoreQuietly(ctx, fmt.Sprintf("seed at %d tenants", cfg.tenants))
}

// seedTenants adds remote tenants and Tenants adopting them until the mode
// has target Ready tenants.
func (b *bench) seedTenants(ctx context.Context, m *mode, target int) error {
	have := b.track.count(m.ns, kindTenant, "").total
	first := b.track.count(m.ns, kindTenant, prefixSeeded).total
	var objs []client.Object
	for lo := 0; lo < target-have; lo += 2000 {
		var names []string
		var seeds []emulator.SeedTenant
		for i := first + lo; i < first+min(target-have, lo+2000); i++ {
			name := fmt.Sprintf("%s%05d", prefixSeeded, i)
			names, seeds = append(names, name), append(seeds, seedTenant(name, existedBefore(b.start)))
		}
		ids, err := m.emu.SeedTenants(m.partnerID, seeds)
		if err != nil {
			return err
		}
		for j, name := range names {
			objs = append(objs, plainTenant(m, name, ids[j]))
		}
	}
	if err := createAll(ctx, b.k8s, objs, 32); err != nil {
		return err
	}
	_, err := b.waitReady(ctx, m, fmt.Sprintf("seed to %d tenants", target), "", map[string]int{kindTenant: target})
	return err
}

// idleFigures is one idle window of one mode.
type idleFigures struct {
	seconds    float64
	requests   int
	rate       float64
	writes     int
	kubeWrites int64
	kubeSeen   string // what those writes changed, as the benchmark's watch saw it
	top        string
	// emuP99 and emuMax: how long the emulator took to answer the mode.
	emuP99, emuMax time.Duration
}

// measureIdle lets R settle, then counts what every mode sends in window.
func (b *bench) measureIdle(ctx context.Context, window time.Duration, label string) (map[string]idleFigures, error) {
	if err := b.hold(ctx, b.cfg.settle, label+": settling"); err != nil {
		return nil, err
	}
	k0 := map[string]int64{}
	for _, m := range b.modes {
		k, err := m.mgr.KubeWrites(ctx)
		if err != nil {
			return nil, err
		}
		k0[m.name] = k
	}
	t0 := time.Now()
	b.logf("%s: measuring for %s", label, window)
	if err := b.hold(ctx, window, label); err != nil {
		return nil, err
	}
	t1 := time.Now()
	out := map[string]idleFigures{}
	for _, m := range b.modes {
		k1, err := m.mgr.KubeWrites(ctx)
		if err != nil {
			return nil, err
		}
		reqs := b.requests(m, t0, t1)
		secs := t1.Sub(t0).Seconds()
		f := idleFigures{seconds: secs, requests: len(reqs), rate: float64(len(reqs)) / secs, writes: len(reqs.writes()), kubeWrites: k1 - k0[m.name], top: topOps(reqs, 5),
			kubeSeen: b.track.changesIn(m.ns, t0, t1)}
		f.emuP99, f.emuMax = m.timing.in(t0, t1)
		out[m.name] = f
		b.logf("[%s] %s: %.2f requests/s (%d in %.0fs), %d account server writes, %d Kubernetes writes", m.name, label, f.rate, f.requests, secs, f.writes, f.kubeWrites)
		if b.cfg.verbose || f.requests > 0 || f.kubeWrites > 0 {
			b.logf("[%s] %s: requests: %s; Kubernetes objects changed: %s; the emulator answered in %s at most", m.name, label, f.top, f.kubeSeen, f.emuMax.Round(time.Millisecond))
		}
	}
	return out, nil
}

// idle measures the full size for cfg.idle.
func (b *bench) idle(ctx context.Context, rs *results) error {
	figs, err := b.measureIdle(ctx, b.cfg.idle, fmt.Sprintf("idle at %d tenants", b.cfg.tenants))
	if err != nil {
		return err
	}
	for name, f := range figs {
		r := rs.res[name]
		r.idle = f
		r.points = append(r.points, idlePoint{tenants: b.cfg.tenants, rate: f.rate, seconds: f.seconds})
	}
	return nil
}

// drift changes random tenants on the server with another client and times
// each change to the operator's correcting PUT.
func (b *bench) drift(ctx context.Context, rs *results) error {
	cfg := b.cfg
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		ids := b.track.tenantIDs(m.ns, "")
		names := slices.Sorted(maps.Keys(ids))
		rng := rand.New(rand.NewPCG(42, uint64(len(m.name))))
		rng.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
		names = names[:min(cfg.drifts, len(names))]
		type change struct {
			id         string
			sent, done time.Time
		}
		changes := make([]change, 0, len(names))
		start := time.Now()
		spacing := cfg.driftOver / time.Duration(max(1, len(names)))
		for i, name := range names {
			id := ids[name]
			t, err := m.admin.GetTenant(ctx, id)
			if err != nil {
				return err
			}
			sent := time.Now()
			if _, err := m.admin.UpdateTenant(ctx, id, accountserver.TenantUpdate{Version: t.Version, Contact: &accountserver.Contact{Firstname: fmt.Sprintf("Drift%03d", i)}}); err != nil {
				return fmt.Errorf("changing tenant %s out of band: %w", id, err)
			}
			changes = append(changes, change{id: id, sent: sent, done: time.Now()})
			if wait := time.Until(start.Add(time.Duration(i+1) * spacing)); wait > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
		}
		b.logf("[%s] drift: %d tenants changed out of band in %.0fs; waiting up to %s for the corrections", m.name, len(changes), time.Since(start).Seconds(), cfg.driftCap)
		delays := make([]float64, len(changes))
		for i := range delays {
			delays[i] = math.Inf(1)
		}
		lastPrint := time.Now()
		_ = harness.Poll(ctx, time.Second, cfg.driftCap, func() (bool, error) {
			if err := m.mgr.Alive(); err != nil {
				return false, err
			}
			reqs := b.requests(m, start, farFuture)
			left := 0
			for i, c := range changes {
				if !math.IsInf(delays[i], 1) {
					continue
				}
				if t, ok := reqs.firstPutAfter("/api/2/tenants/"+c.id, c.sent); ok {
					delays[i] = max(0, t.Sub(c.done).Seconds())
				} else {
					left++
				}
			}
			if time.Since(lastPrint) >= 15*time.Second {
				b.logf("[%s] drift: %d/%d corrected", m.name, len(changes)-left, len(changes))
				lastPrint = time.Now()
			}
			return left == 0, nil
		})
		if err := m.mgr.Alive(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rs.res[m.name].driftDelays = delays
		_, rs.res[m.name].driftEmuMax = m.timing.in(start, time.Now())
		// Put back what the operator did not, so the restart starts from
		// a converged server.
		reverted := 0
		for i, c := range changes {
			if !math.IsInf(delays[i], 1) {
				continue
			}
			t, err := m.admin.GetTenant(ctx, c.id)
			if err != nil {
				return err
			}
			if t.Contact.Firstname == firstname {
				continue
			}
			if _, err := m.admin.UpdateTenant(ctx, c.id, accountserver.TenantUpdate{Version: t.Version, Contact: &accountserver.Contact{Firstname: firstname}}); err != nil {
				return err
			}
			reverted++
		}
		b.logf("[%s] drift: %d/%d corrected within the cap, p50 %s, p99 %s; %d reverted by hand", m.name, countFinite(delays), len(delays),
			fmtDelay(percentile(delays, 50), cfg.driftCap), fmtDelay(percentile(delays, 99), cfg.driftCap), reverted)
		return nil
	})
}

// restart kills each manager, starts it again and counts what it sends
// until every object (Tenant, User, OfferingItemQuota) has been read once.
func (b *bench) restart(ctx context.Context, rs *results) error {
	cfg := b.cfg
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		r := rs.res[m.name]
		want := map[string]bool{}
		for _, kind := range trackedKinds {
			for _, id := range b.track.ids(m.ns, kind, "") {
				want[kind+"/"+id] = true
			}
		}
		r.restartTotal = len(want)
		m.mgr.Kill()
		start := time.Now()
		if err := m.mgr.Start(ctx, m.flags); err != nil {
			return err
		}
		end := start.Add(cfg.restartCap)
		lastPrint := time.Now()
		_ = harness.Poll(ctx, 500*time.Millisecond, cfg.restartCap, func() (bool, error) {
			if err := m.mgr.Alive(); err != nil {
				return false, err
			}
			seen := objectsRead(b.requests(m, start, farFuture))
			n := 0
			var last time.Time
			for id := range want {
				if t, ok := seen[id]; ok {
					n++
					if t.After(last) {
						last = t
					}
				}
			}
			r.restartObserved = n
			if n == len(want) {
				r.restartDone, end = true, last
				return true, nil
			}
			if time.Since(lastPrint) >= 15*time.Second {
				b.logf("[%s] restart: %d/%d objects read", m.name, n, len(want))
				lastPrint = time.Now()
			}
			return false, nil
		})
		if err := m.mgr.Alive(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		k, err := m.mgr.KubeWrites(ctx)
		if err != nil {
			return err
		}
		reqs := b.requests(m, start, end.Add(time.Millisecond))
		r.restartSeconds = end.Sub(start).Seconds()
		r.restartRequests = len(reqs)
		r.restartWrites = len(reqs.writes())
		r.restartKubeWrites = k
		r.restartTop = topOps(reqs, 5)
		r.restartKubeSeen = b.track.changesIn(m.ns, start, time.Now())
		_, r.restartEmuMax = m.timing.in(start, end.Add(time.Millisecond))
		b.logf("[%s] restart: %d/%d objects read in %.1fs with %d requests, %d account server writes, %d Kubernetes writes",
			m.name, r.restartObserved, r.restartTotal, r.restartSeconds, r.restartRequests, r.restartWrites, r.restartKubeWrites)
		return nil
	})
}

// memory adds users (adopted from the emulator's store) and reads the peak
// resident set of the manager started by restart.
func (b *bench) memory(ctx context.Context, rs *results) error {
	cfg := b.cfg
	b.logf("memory: lifting the limits to adopt %d users", cfg.users)
	if err := b.lift(ctx); err != nil {
		return err
	}
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		ids := b.track.tenantIDs(m.ns, "")
		tenants := slices.Sorted(maps.Keys(ids))
		var objs []client.Object
		for lo := 0; lo < cfg.users; lo += 2000 {
			hi := min(cfg.users, lo+2000)
			var seeds []emulator.SeedUser
			var names, owners []string
			for i := lo; i < hi; i++ {
				name := fmt.Sprintf("%s%05d", prefixUser, i)
				owner := tenants[i%len(tenants)]
				names, owners = append(names, name), append(owners, owner)
				seeds = append(seeds, seedUser(m, name, ids[owner], existedBefore(b.start)))
			}
			uids, err := m.emu.SeedUsers(seeds)
			if err != nil {
				return err
			}
			for j := range names {
				objs = append(objs, adoptedUser(m, names[j], owners[j], uids[j]))
			}
		}
		start := time.Now()
		if err := createAll(ctx, b.k8s, objs, 32); err != nil {
			return err
		}
		if _, err := b.waitReady(ctx, m, "memory users", prefixUser, map[string]int{kindUser: cfg.users}); err != nil {
			return err
		}
		r := rs.res[m.name]
		var err error
		if r.peakRSS, r.rss, err = m.mgr.Memory(); err != nil {
			return err
		}
		r.users = b.track.count(m.ns, kindUser, "").total
		r.memTenants = b.track.count(m.ns, kindTenant, "").total
		b.logf("[%s] memory: %d users adopted in %.0fs; peak RSS %.0f MiB (now %.0f MiB) at %d tenants and %d users",
			m.name, cfg.users, time.Since(start).Seconds(), mib(r.peakRSS), mib(r.rss), r.memTenants, r.users)
		return nil
	})
}

func countFinite(vs []float64) int {
	n := 0
	for _, v := range vs {
		if !math.IsInf(v, 1) {
			n++
		}
	}
	return n
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
