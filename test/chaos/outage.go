package main

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// outage takes the server away from Ready objects, some with pending
// changes: 503 to everything for the first half, refused connections for
// the second; then it measures the way back.
func (c *chaos) outage(ctx context.Context, rs *results) error {
	st, err := c.newStage(ctx, scOutage, "outage")
	if err != nil {
		return err
	}
	defer st.release()
	m := st.mgrs[0]
	if err := m.Start(ctx, st.flags); err != nil {
		return err
	}
	if err := c.waitConnection(ctx, st); err != nil {
		return err
	}
	n := (c.cfg.outageObjects + 2) / 3
	objs := customers(st, n)
	c.logf("[%s] making %d customers (%d objects) Ready", st.name, n, len(objs))
	if err := createAll(ctx, c.k8s, objs); err != nil {
		return err
	}
	if _, ok, err := c.waitReady(ctx, st, len(objs), c.cfg.timeout, m); err != nil || !ok {
		return fmt.Errorf("the %d objects of the outage did not become Ready: %v", len(objs), err)
	}
	if err := c.quiesce(ctx, m, time.Minute); err != nil {
		return err
	}

	before, err := m.Sample(ctx)
	if err != nil {
		return err
	}
	down := time.Now()
	st.ep.unavailable.Store(true)
	c.logf("[%s] the server answers 503 to everything for %s, then refuses connections for %s; %d tenants get a spec change",
		st.name, c.cfg.outage/2, c.cfg.outage-c.cfg.outage/2, c.cfg.outagePending)
	var pending []client.Object
	for i := range c.cfg.outagePending {
		pending = append(pending, &v1.Tenant{})
		pending[i].SetNamespace(st.ns)
		pending[i].SetName(customerName(i))
	}
	patch := []byte(`{"spec":{"contact":{"lastname":"changed during the outage"}}}`)
	if err := forAll(ctx, pending, 8, func(o client.Object) error {
		return c.k8s.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch))
	}); err != nil {
		return err
	}
	if err := sleepUntil(ctx, down.Add(c.cfg.outage/2)); err != nil {
		return err
	}
	refuse := time.Now()
	st.ep.stop()
	if err := sleepUntil(ctx, down.Add(c.cfg.outage)); err != nil {
		return err
	}
	after, err := m.Sample(ctx)
	if err != nil {
		return err
	}
	if err := st.ep.start(); err != nil {
		return err
	}
	st.ep.unavailable.Store(false)
	up := time.Now()
	if err := m.Alive(); err != nil {
		return err
	}
	secs := up.Sub(down).Seconds()
	sent := after.ServerRequests - before.ServerRequests
	rate := float64(sent) / secs
	refused503 := st.ep.refusedIn(down, refuse)
	writes := c.track.writesIn(st.ns, down, up)
	written, most, total := writeCounts(writes)
	events := c.track.eventsIn(st.ns, down, up)
	kubeWrites := after.KubeWrites - before.KubeWrites
	c.logf("[%s] back after %.0fs: %d requests (%.2f/s; %d answered 503), %d Kubernetes writes (%d to %d objects, at most %d to one; %d events)",
		st.name, secs, sent, rate, refused503, kubeWrites, total, written, most, events)

	r, allReady, err := c.waitReady(ctx, st, len(objs), c.cfg.timeout, m)
	if err != nil {
		return err
	}
	recovered := up
	if allReady && r.lastReady.After(up) {
		recovered = r.lastReady
	}
	// The peak: any second from the end of the outage until ten seconds
	// after the last object was Ready (or the cap).
	reqs := st.requests()
	peakTo := time.Now()
	if allReady {
		peakTo = recovered.Add(10 * time.Second)
		if err := sleepUntil(ctx, peakTo); err != nil {
			return err
		}
		reqs = st.requests()
	}
	peak, peakAt := peakInWindow(requestTimes(reqs, up, peakTo), time.Second)
	budget := 2 * int(c.cfg.rate) // the connection's rate and burst: at most burst + rate in any second
	st.stop()

	sc := scOutage
	rs.add(sc, "objects Ready; tenants with a pending spec change; outage, s (503 / refused)",
		fmt.Sprintf("%s; %d; %.0f (%.0f / %.0f)", harness.FmtInt(len(objs)), c.cfg.outagePending, secs, refuse.Sub(down).Seconds(), up.Sub(refuse).Seconds()))
	rs.goal(sc, "requests/s per connection during the outage (requests sent: the manager's metrics)",
		fmt.Sprintf("%.2f (%s; %s answered 503)", rate, harness.FmtInt(int(sent)), harness.FmtInt(refused503)), fmt.Sprintf("≤ %.1f", c.cfg.outageRate), rate <= c.cfg.outageRate)
	rs.add(sc, "Kubernetes writes during the outage (the manager's metrics); events", fmt.Sprintf("%s; %s", harness.FmtInt(int(kubeWrites)), harness.FmtInt(events)))
	rs.goal(sc, "status writes per object during the outage: most to one (objects written, writes)",
		fmt.Sprintf("%d (%s, %s)", most, harness.FmtInt(written), harness.FmtInt(total)), "≤ 1", most <= 1)
	ready := fmt.Sprintf("> %.0f (cap)", c.cfg.timeout.Seconds())
	if allReady {
		ready = fmt.Sprintf("%.1f", recovered.Sub(up).Seconds())
	}
	rs.goal(sc, "all Ready after the outage ends, s", ready+examples(r.notReady), fmt.Sprintf("≤ %.0f", c.cfg.readyGoal.Seconds()), allReady && recovered.Sub(up) <= c.cfg.readyGoal)
	at := ""
	if peak > 0 {
		at = fmt.Sprintf(", %.1fs after the end", peakAt.Sub(up).Seconds())
	}
	rs.goal(sc, fmt.Sprintf("peak requests in one second after the outage (budget: rate %g + burst %g)", c.cfg.rate, c.cfg.rate),
		fmt.Sprintf("%d%s", peak, at), fmt.Sprintf("≤ %d", budget), peak <= budget)
	return nil
}

// quiesce waits until the manager has nothing queued or running, seen
// three times in a row, for at most limit.
func (c *chaos) quiesce(ctx context.Context, m *harness.Manager, limit time.Duration) error {
	quiet := 0
	err := harness.Poll(ctx, 500*time.Millisecond, limit, func() (bool, error) {
		s, err := m.Sample(ctx)
		if err != nil {
			return false, err
		}
		if s.Queued == 0 && s.Active == 0 {
			quiet++
		} else {
			quiet = 0
		}
		return quiet >= 3, nil
	})
	if err != nil && ctx.Err() == nil && m.Alive() == nil {
		c.logf("the manager is still busy after %s; going on", limit)
		return nil
	}
	return err
}

// sleepUntil waits until t (the harness's own pacing, not a test's
// synchronisation).
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
