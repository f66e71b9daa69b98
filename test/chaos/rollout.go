package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// firedRun is what a run under fire (rollout, side effects) measured.
type firedRun struct {
	objects     int
	kills       int
	killsDuring int     // kills before the last object became Ready
	fireSeconds float64 // from the first create to the faults' end
	readyAtCalm int     // objects Ready when the faults stopped
	rollout     float64 // seconds from the first create to all Ready
	requests    int
	errors5xx   int
	throttled   int
	dropped     int
	twins       []twin
	leaks       []remoteObject
	notReady    readiness
	allReady    bool
	readyAfter  float64 // seconds from the faults' end to the last object Ready
	// Retry-After
	pauses     int
	violations []violation // more than the slack inside a pause
	strict     []violation // inside a pause at all
}

// fire applies objs at once, kills the manager kills times under the
// rollout's faults, stops the faults and waits for every object to be
// Ready; then it reads twins, leaks and the Retry-After figures.
func (c *chaos) fire(ctx context.Context, st *stage, objs []client.Object, kills int) (*firedRun, error) {
	res := &firedRun{objects: len(objs), kills: kills}
	m := st.mgrs[0]
	if err := m.Start(ctx, st.flags); err != nil {
		return nil, err
	}
	if err := c.waitConnection(ctx, st); err != nil {
		return nil, err
	}
	st.emu.SetFaults(c.faults())
	start := time.Now()
	c.logf("[%s] applying %d objects at once; %d kills, %.0f%% 5xx, %.0f%% 429 (Retry-After %ds), %.0f%% of committed answers lost",
		st.name, len(objs), kills, 100*c.cfg.errorRate, 100*c.cfg.throttleRate, c.cfg.retryAfter, 100*c.cfg.dropRate)
	if err := createAll(ctx, c.k8s, objs); err != nil {
		return nil, err
	}
	killed, err := c.underFire(ctx, st, kills)
	if err != nil {
		return nil, err
	}
	st.emu.SetFaults(c.calm())
	calm := time.Now()
	res.readyAtCalm = c.track.readiness(st.ns).ready
	res.fireSeconds = calm.Sub(start).Seconds()
	c.logf("[%s] faults stopped after %.0fs; waiting for every object to be Ready", st.name, res.fireSeconds)
	r, ok, err := c.waitReady(ctx, st, len(objs), c.cfg.timeout, m)
	if err != nil {
		return nil, err
	}
	res.notReady, res.allReady = r, ok
	if ok {
		res.readyAfter = max(0, r.lastReady.Sub(calm).Seconds())
		res.rollout = r.lastReady.Sub(start).Seconds()
		for _, k := range killed {
			if k.Before(r.lastReady) {
				res.killsDuring++
			}
		}
		c.logf("[%s] all %d Ready %.1fs after the faults stopped", st.name, r.total, res.readyAfter)
	} else {
		c.logf("[%s] %d/%d Ready after %s, e.g. %s", st.name, r.ready, r.total, c.cfg.timeout, notReadyText(r))
	}
	if res.twins, res.leaks, err = c.twinsAndLeaks(ctx, st); err != nil {
		return nil, err
	}
	st.stop()
	reqs := st.requests()
	res.requests = len(reqs)
	res.errors5xx = answered(reqs, http.StatusInternalServerError)
	res.throttled = answered(reqs, http.StatusTooManyRequests)
	res.dropped = dropped(reqs)
	pauses, loose, strict, err := c.retryAfter(st, reqs)
	if err != nil {
		return nil, err
	}
	res.pauses, res.violations, res.strict = len(pauses), loose, strict
	return res, nil
}

func (c *chaos) rollout(ctx context.Context, rs *results) error {
	st, err := c.newStage(ctx, scRollout, "rollout")
	if err != nil {
		return err
	}
	defer st.release()
	res, err := c.fire(ctx, st, customers(st, c.cfg.customers), c.cfg.kills)
	if err != nil {
		return err
	}
	c.reportFired(rs, scRollout, fmt.Sprintf("%s customers (%s objects)", harness.FmtInt(c.cfg.customers), harness.FmtInt(res.objects)), res)
	c.reportRetryAfter(rs, scRollout, res)
	return nil
}

// reportFired adds a run under fire's rows.
func (c *chaos) reportFired(rs *results, sc, what string, res *firedRun) {
	rs.add(sc, "applied at once; SIGKILLs (before the last object was Ready); seconds under fire", fmt.Sprintf("%s; %d (%d); %.0f", what, res.kills, res.killsDuring, res.fireSeconds))
	rs.add(sc, "requests; 500 / 429 / answers lost", fmt.Sprintf("%s; %d / %d / %d", harness.FmtInt(res.requests), res.errors5xx, res.throttled, res.dropped))
	rollout := "–"
	if res.allReady {
		rollout = fmt.Sprintf("%.1f", res.rollout)
	}
	rs.add(sc, "objects Ready when the faults stopped; from the first create to all Ready, s", fmt.Sprintf("%s/%s; %s", harness.FmtInt(res.readyAtCalm), harness.FmtInt(res.objects), rollout))
	rs.goal(sc, "twins on the server (extra copies)", fmt.Sprint(extraCopies(res.twins))+twinExamples(res.twins), "0", len(res.twins) == 0)
	rs.goal(sc, "leaked remote objects (owned by no object)", countKinds(res.leaks), "0", len(res.leaks) == 0)
	notReady := res.notReady.total - res.notReady.ready
	rs.goal(sc, "objects not Ready at the end", fmt.Sprint(notReady)+examples(res.notReady.notReady), "0", notReady == 0 && res.notReady.total >= res.objects)
	ready := fmt.Sprintf("> %.0f (cap)", c.cfg.timeout.Seconds())
	if res.allReady {
		ready = fmt.Sprintf("%.1f", res.readyAfter)
	}
	rs.goal(sc, "all Ready after the faults stop, s", ready, fmt.Sprintf("≤ %.0f", c.cfg.readyGoal.Seconds()), res.allReady && res.readyAfter <= c.cfg.readyGoal.Seconds())
}

func (c *chaos) reportRetryAfter(rs *results, from string, res *firedRun) {
	sc := "retry-after (" + from + ")"
	rs.add(sc, "429 answers; pauses the manager logged", fmt.Sprintf("%d; %d", res.throttled, res.pauses))
	rs.goal(sc, fmt.Sprintf("requests sent inside a Retry-After, more than %s after the 429 arrived (strictly inside)", c.cfg.slack),
		fmt.Sprintf("%d%s (%d%s)", len(res.violations), violationExamples(res.violations), len(res.strict), violationExamples(res.strict)), "0", len(res.violations) == 0)
}

func twinExamples(ts []twin) string {
	if len(ts) == 0 {
		return ""
	}
	t := ts[0]
	return fmt.Sprintf(" (e.g. %s %s: %d copies)", t.Kind, t.Key, len(t.IDs))
}

func violationExamples(vs []violation) string {
	if len(vs) == 0 {
		return ""
	}
	v := vs[0]
	return fmt.Sprintf(", e.g. %s %s %.3fs into a %s pause", v.Request.Method, harness.OperationPath(v.Request.Path), v.Request.Time.Sub(v.Pause.At).Seconds(), v.Pause.For)
}

func examples(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return " (e.g. " + names[0] + ")"
}

// sideEffects runs users with activation by email under the rollout's
// faults and kills and counts the activation emails each was sent.
func (c *chaos) sideEffects(ctx context.Context, rs *results) error {
	st, err := c.newStage(ctx, scSide, "side-effects")
	if err != nil {
		return err
	}
	defer st.release()
	var objs []client.Object
	tenants := (c.cfg.users + 9) / 10
	for i := range tenants {
		objs = append(objs, tenant(st, fmt.Sprintf("t-%04d", i)))
	}
	for i := range c.cfg.users {
		objs = append(objs, user(st, fmt.Sprintf("u-%05d", i), fmt.Sprintf("t-%04d", i%tenants), v1.ActivationEmail))
	}
	res, err := c.fire(ctx, st, objs, c.cfg.kills)
	if err != nil {
		return err
	}
	sent, received := activationEmails(st.requests())
	over := overOnce(sent)
	// The emulator's own count of the mails, as a check of the log's.
	mails, most := 0, 0
	for _, u := range st.emu.Users() {
		n := st.emu.ActivationEmails(u.ID)
		mails += n
		most = max(most, n)
	}
	// Users the server never mailed, and users whose email the operator
	// could not confirm (a lost answer or a 5xx: never sent again on its
	// own, by design); a user never mailed whose email is not Unconfirmed
	// was forgotten.
	never, unconfirmed, neverUnconfirmed := 0, 0, 0
	var us v1.UserList
	if err := c.k8s.List(ctx, &us, client.InNamespace(st.ns)); err != nil {
		return err
	}
	for _, u := range us.Items {
		isUnconfirmed := u.Status.ActivationEmail == v1.ActivationEmailUnconfirmed
		if isUnconfirmed {
			unconfirmed++
		}
		if u.Status.ID != "" && sent[u.Status.ID] == 0 {
			never++
			if isUnconfirmed {
				neverUnconfirmed++
			}
		}
	}
	sc := scSide
	c.reportFired(rs, sc, fmt.Sprintf("%s users with activation by email in %s tenants", harness.FmtInt(c.cfg.users), harness.FmtInt(tenants)), res)
	rs.add(sc, "activation email requests received; mails sent (emulator's count); most to one user", fmt.Sprintf("%s; %s (%s); %d", harness.FmtInt(received), harness.FmtInt(sumValues(sent)), harness.FmtInt(mails), most))
	rs.add(sc, "users whose email is Unconfirmed (status.activationEmail); users never sent one (of them Unconfirmed)", fmt.Sprintf("%d; %d (%d)", unconfirmed, never, neverUnconfirmed))
	ex := ""
	if len(over) > 0 {
		ex = " (e.g. " + over[0] + ")"
	}
	rs.goal(sc, "users sent more than one activation email", fmt.Sprint(len(over))+ex, "0", len(over) == 0)
	c.reportRetryAfter(rs, sc, res)
	c.logf("[%s] %d users sent more than one activation email", st.name, len(over))
	return nil
}

func sumValues(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
