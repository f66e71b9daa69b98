package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// leaseName is the manager's LeaderElectionID (cmd/main.go).
const leaseName = "tenant-operator.accounts.tenant-operator.io"

// acquiredMessage is what client-go's leader election logs when this
// process becomes the leader (its case changed between versions).
const acquiredMessage = "successfully acquired lease"

// holder reads the lease's holder ("" when there is no lease yet).
func (c *chaos) holder(ctx context.Context) (string, error) {
	var l coordinationv1.Lease
	err := c.k8s.Get(ctx, client.ObjectKey{Namespace: leaseNamespace, Name: leaseName}, &l)
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil || l.Spec.HolderIdentity == nil {
		return "", err
	}
	return *l.Spec.HolderIdentity, nil
}

// leads says whether the manager's current process has logged that it
// acquired the lease.
func leads(m *harness.Manager) bool {
	logs := m.Logs()
	if len(logs) == 0 {
		return false
	}
	data, err := os.ReadFile(logs[len(logs)-1])
	return err == nil && strings.Contains(strings.ToLower(string(data)), acquiredMessage)
}

// failover runs two managers with leader election, kills the leader
// mid-rollout and measures how soon the other one leads and reconciles.
func (c *chaos) failover(ctx context.Context, rs *results) error {
	st, err := c.newStage(ctx, scFailover, "failover-a", "failover-b")
	if err != nil {
		return err
	}
	defer st.release()
	for i, f := range st.flags {
		switch {
		case f == "--leader-elect=false":
			st.flags[i] = "--leader-elect=true"
		case strings.HasPrefix(f, "--namespace="):
			st.flags[i] = "--namespace=" + leaseNamespace
		}
	}
	a, b := st.mgrs[0], st.mgrs[1]
	if err := a.Start(ctx, st.flags); err != nil {
		return err
	}
	if err := harness.Poll(ctx, 200*time.Millisecond, time.Minute, func() (bool, error) { return leads(a), a.Alive() }); err != nil {
		return fmt.Errorf("the first manager did not lead: %w", err)
	}
	if err := b.Start(ctx, st.flags); err != nil {
		return err
	}
	if err := c.waitConnection(ctx, st); err != nil {
		return err
	}
	objs := customers(st, c.cfg.failoverCustomers)
	start := time.Now()
	c.logf("[%s] applying %d customers; the leader dies when a third of the objects are Ready", st.name, c.cfg.failoverCustomers)
	if err := createAll(ctx, c.k8s, objs); err != nil {
		return err
	}
	third := max(1, len(objs)/3)
	if err := harness.Poll(ctx, 100*time.Millisecond, c.cfg.timeout, func() (bool, error) {
		return c.track.readiness(st.ns).ready >= third, a.Alive()
	}); err != nil {
		return fmt.Errorf("waiting for a third of the objects to be Ready: %w", err)
	}
	leader, other := a, b
	if !leads(a) {
		leader, other = b, a
	}
	old, err := c.holder(ctx)
	if err != nil {
		return err
	}
	readyAtKill := c.track.readiness(st.ns).ready
	killed := st.kill(leader)
	c.logf("[%s] SIGKILLed the leader %s (lease holder %s) %.1fs into the rollout, %d/%d objects Ready", st.name, leader.Name, old, killed.Sub(start).Seconds(), readyAtKill, len(objs))

	// The other manager leads when the lease names it; it resumes with its
	// first request to the server and the first object it makes Ready
	// (seen after it leads: what the dead leader wrote last may reach the
	// tracker a little after the kill).
	var led, firstReq, firstReady time.Time
	nothingLeft := false
	limit := max(2*c.cfg.takeover, time.Minute)
	_ = harness.Poll(ctx, 100*time.Millisecond, limit, func() (bool, error) {
		if err := other.Alive(); err != nil {
			return false, err
		}
		if led.IsZero() {
			h, err := c.holder(ctx)
			if err != nil || h == "" || h == old {
				return false, err
			}
			led = time.Now()
			rd := c.track.readiness(st.ns)
			nothingLeft = rd.total >= len(objs) && rd.ready == rd.total
		}
		if firstReq.IsZero() {
			for _, r := range st.requests() {
				if r.Time.After(killed) {
					firstReq = r.Time
					break
				}
			}
		}
		if firstReady.IsZero() && !nothingLeft {
			firstReady = c.track.firstReadyAfter(st.ns, led)
		}
		return !firstReq.IsZero() && (nothingLeft || !firstReady.IsZero()), nil
	})
	if err := other.Alive(); err != nil {
		return err
	}
	since := func(t time.Time) (string, bool) {
		if t.IsZero() {
			return fmt.Sprintf("> %.0f (cap)", limit.Seconds()), false
		}
		d := t.Sub(killed)
		return fmt.Sprintf("%.1f", d.Seconds()), d <= c.cfg.takeover
	}
	ledText, _ := since(led)
	reqText, reqMet := since(firstReq)
	readyText, resumed := since(firstReady)
	if nothingLeft {
		// Every object was Ready before it led: its first request is all
		// there is to resume.
		readyText, resumed = "– (nothing left; first request "+reqText+")", reqMet
	}
	c.logf("[%s] the other manager leads after %s s, sends its first request after %s s, makes an object Ready after %s s", st.name, ledText, reqText, readyText)
	r, allReady, err := c.waitReady(ctx, st, len(objs), c.cfg.timeout, other)
	if err != nil {
		return err
	}
	twins, leaks, err := c.twinsAndLeaks(ctx, st)
	if err != nil {
		return err
	}
	st.stop()
	sc := scFailover
	rs.add(sc, "customers (objects); Ready when the leader was SIGKILLed", fmt.Sprintf("%s (%s); %s", harness.FmtInt(c.cfg.failoverCustomers), harness.FmtInt(len(objs)), harness.FmtInt(readyAtKill)))
	rs.add(sc, "the other manager holds the lease after, s", ledText)
	rs.add(sc, "its first request to the server after, s", reqText)
	rs.goal(sc, "it resumes: the first object it makes Ready, after the kill, s", readyText, fmt.Sprintf("≤ %.0f", c.cfg.takeover.Seconds()), resumed)
	ready := fmt.Sprintf("> %.0f (cap)", c.cfg.timeout.Seconds())
	if allReady {
		ready = fmt.Sprintf("%.1f", r.lastReady.Sub(killed).Seconds())
	}
	rs.add(sc, "all Ready after the kill, s", ready)
	rs.goal(sc, "twins on the server (extra copies)", fmt.Sprint(extraCopies(twins))+twinExamples(twins), "0", len(twins) == 0)
	rs.goal(sc, "leaked remote objects (owned by no object)", countKinds(leaks), "0", len(leaks) == 0)
	return nil
}
