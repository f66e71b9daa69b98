package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// idlePoint is the idle request rate of one mode at one size.
type idlePoint struct {
	tenants int
	rate    float64
	seconds float64
}

// result is what one mode measured.
type result struct {
	mode string

	coldSeconds  float64
	coldRequests int
	coldTop      string

	editDelays     []float64 // seconds; +Inf: no PUT within the cap
	backlogSeconds float64

	points []idlePoint
	idle   idleFigures

	driftDelays []float64 // seconds; +Inf: not corrected within the cap

	restartTotal      int
	restartObserved   int
	restartDone       bool
	restartSeconds    float64
	restartRequests   int
	restartWrites     int
	restartKubeWrites int64
	restartTop        string
	restartKubeSeen   string
	restartEmuMax     time.Duration
	driftEmuMax       time.Duration

	peakRSS, rss      int64
	users, memTenants int

	kicks []string // objects the benchmark had to wake (see unstick)
}

type results struct {
	cfg   config
	feat  features
	modes []string
	res   map[string]*result
	// machine is read when the run starts: the commit is the one built
	// and measured, whatever happens to the tree meanwhile.
	machine  harness.MachineInfo
	started  time.Time
	finished time.Time
	elapsed  time.Duration
}

func newResults(cfg config, feat features, modes []*mode) *results {
	rs := &results{cfg: cfg, feat: feat, res: map[string]*result{}, started: time.Now()}
	for _, m := range modes {
		rs.modes = append(rs.modes, m.name)
		rs.res[m.name] = &result{mode: m.name}
	}
	return rs
}

// row is one figure: a value per mode and, for the watch mode, a goal.
type row struct {
	figure string
	value  func(*result) string
	goal   string
	// met checks the watch mode's result against the goal; nil: no goal
	// (or none that means anything at this profile's sizes).
	met func(*result) bool
}

// bound is the least time the cold start can take: the necessary
// requests at R.
func (rs *results) bound() float64 {
	return float64(necessaryPerCustomer*rs.cfg.customers) / rs.cfg.rate
}

// necessaryPerCustomer: POST tenant, POST user, PUT access policies, POST
// activation email, GET and PUT offering items.
const necessaryPerCustomer = 6

// restartGoal is the request budget of a restart: one batch read per 100
// tenants and 50 for the rest (150 at 10,000 tenants).
func restartGoal(tenants int) int { return (tenants+99)/100 + 50 }

func (rs *results) rows() []row {
	cfg := rs.cfg
	short := cfg.profile != "full"
	n := cfg.customers
	seconds := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	var rows []row
	coldGoal := fmt.Sprintf("≤ %.2f", 1.15)
	coldMet := func(r *result) bool { return r.coldSeconds/rs.bound() <= 1.15 }
	if short {
		coldGoal, coldMet = "(≤ 1.15 at full size)", nil
	}
	rows = append(rows,
		row{figure: fmt.Sprintf("cold: %s customers (%s objects) Ready, s", harness.FmtInt(n), harness.FmtInt(3*n)), value: func(r *result) string { return seconds(r.coldSeconds) }},
		row{figure: fmt.Sprintf("cold: time ÷ bound (%d × %s requests ÷ %g/s = %.0f s)", necessaryPerCustomer, harness.FmtInt(n), cfg.rate, rs.bound()),
			value: func(r *result) string { return fmt.Sprintf("%.2f", r.coldSeconds/rs.bound()) }, goal: coldGoal, met: coldMet},
		row{figure: fmt.Sprintf("cold: requests per customer (%d necessary)", necessaryPerCustomer),
			value: func(r *result) string { return fmt.Sprintf("%.2f", float64(r.coldRequests)/float64(n)) }},
		row{figure: fmt.Sprintf("interactive: edit → PUT, p50, s (%s new tenants draining)", harness.FmtInt(cfg.backlog)),
			value: func(r *result) string { return fmtDelay(percentile(r.editDelays, 50), cfg.editCap) }},
		row{figure: "interactive: edit → PUT, p99, s",
			value: func(r *result) string { return fmtDelay(percentile(r.editDelays, 99), cfg.editCap) },
			goal:  "≤ 2", met: func(r *result) bool { return percentile(r.editDelays, 99) <= 2 }},
		row{figure: "interactive: edits; backlog Ready after, s",
			value: func(r *result) string { return fmt.Sprintf("%d; %.1f", len(r.editDelays), r.backlogSeconds) }},
	)
	for _, p := range rs.pointSizes() {
		if p == cfg.tenants {
			continue
		}
		rows = append(rows, row{figure: fmt.Sprintf("idle at %s tenants: requests/s (%s window)", harness.FmtInt(p), cfg.window),
			value: func(r *result) string { return fmtRate(r.pointAt(p)) }})
	}
	rows = append(rows,
		row{figure: fmt.Sprintf("idle at %s tenants: requests/s (%s)", harness.FmtInt(cfg.tenants), cfg.idle),
			value: func(r *result) string {
				if r.mode == modePoll {
					// Its objects were all read shortly before the window: what
					// it sends once their reads are spread out is the estimate.
					return fmt.Sprintf("%s (steady: %.1f)", fmtRate(r.idle.rate), pollSteadyRate(float64(cfg.tenants), cfg))
				}
				return fmtRate(r.idle.rate)
			}, goal: "≤ 1", met: func(r *result) bool { return r.idle.rate <= 1 }},
		row{figure: "idle: writes to the account server",
			value: func(r *result) string { return harness.FmtInt(r.idle.writes) }, goal: "0", met: func(r *result) bool { return r.idle.writes == 0 }},
		row{figure: "idle: writes to the Kubernetes API",
			value: func(r *result) string { return harness.FmtInt(int(r.idle.kubeWrites)) }, goal: "0", met: func(r *result) bool { return r.idle.kubeWrites == 0 }},
		row{figure: fmt.Sprintf("drift: change → correcting PUT, p50, s (%d changes)", cfg.drifts),
			value: func(r *result) string { return fmtDelay(percentile(r.driftDelays, 50), cfg.driftCap) }},
		row{figure: "drift: change → correcting PUT, p99, s",
			value: func(r *result) string { return fmtDelay(percentile(r.driftDelays, 99), cfg.driftCap) },
			goal:  "≤ 60", met: func(r *result) bool { return percentile(r.driftDelays, 99) <= 60 }},
		row{figure: fmt.Sprintf("drift: corrected within %s", cfg.driftCap),
			value: func(r *result) string { return fmt.Sprintf("%d/%d", countFinite(r.driftDelays), len(r.driftDelays)) }},
		row{figure: fmt.Sprintf("restart: requests until all objects read (%s tenants, their users and quotas)", harness.FmtInt(cfg.tenants)),
			value: func(r *result) string {
				s := harness.FmtInt(r.restartRequests)
				if !r.restartDone {
					s += fmt.Sprintf(" (%s read in %s)", harness.FmtInt(r.restartObserved), cfg.restartCap)
				}
				return s
			},
			goal: fmt.Sprintf("≤ %d", restartGoal(cfg.tenants)), met: func(r *result) bool { return r.restartDone && r.restartRequests <= restartGoal(cfg.tenants) }},
		row{figure: "restart: seconds until all read",
			value: func(r *result) string {
				if !r.restartDone {
					return fmt.Sprintf("> %.0f (cap)", cfg.restartCap.Seconds())
				}
				return seconds(r.restartSeconds)
			},
			goal: "≤ 60", met: func(r *result) bool { return r.restartDone && r.restartSeconds <= 60 }},
		row{figure: "restart: writes, account server / Kubernetes API",
			value: func(r *result) string { return fmt.Sprintf("%d / %d", r.restartWrites, r.restartKubeWrites) },
			goal:  "0 / 0", met: func(r *result) bool { return r.restartWrites == 0 && r.restartKubeWrites == 0 }},
		row{figure: fmt.Sprintf("memory: peak RSS at %s tenants + %s users, MiB", harness.FmtInt(cfg.tenants), harness.FmtInt(cfg.users+cfg.customers)),
			value: func(r *result) string { return fmt.Sprintf("%.0f", mib(r.peakRSS)) },
			goal:  "≤ 200", met: func(r *result) bool { return r.peakRSS > 0 && mib(r.peakRSS) <= 200 }},
	)
	return rows
}

// pointSizes are the sizes measured, in order.
func (rs *results) pointSizes() []int {
	seen := map[int]bool{}
	var out []int
	for _, m := range rs.modes {
		for _, p := range rs.res[m].points {
			if !seen[p.tenants] {
				seen[p.tenants] = true
				out = append(out, p.tenants)
			}
		}
	}
	return out
}

func (r *result) pointAt(tenants int) float64 {
	for _, p := range r.points {
		if p.tenants == tenants {
			return p.rate
		}
	}
	return math.NaN()
}

func modeTitle(m string) string {
	switch m {
	case modePoll:
		return "poll (old)"
	case modeWatch:
		return "watch (new)"
	}
	return m
}

// table renders the one markdown table.
func (rs *results) table() string {
	var sb strings.Builder
	hasWatch := rs.res[modeWatch] != nil
	sb.WriteString("| figure |")
	for _, m := range rs.modes {
		sb.WriteString(" " + modeTitle(m) + " |")
	}
	sb.WriteString(" goal (watch) | watch |\n|---|")
	for range rs.modes {
		sb.WriteString("---:|")
	}
	sb.WriteString("---:|---|\n")
	for _, r := range rs.rows() {
		sb.WriteString("| " + r.figure + " |")
		for _, m := range rs.modes {
			sb.WriteString(" " + r.value(rs.res[m]) + " |")
		}
		verdict := ""
		switch {
		case r.met == nil:
		case !hasWatch:
			verdict = "not run"
		case r.met(rs.res[modeWatch]):
			verdict = "met"
		default:
			verdict = "**missed**"
		}
		fmt.Fprintf(&sb, " %s | %s |\n", r.goal, verdict)
	}
	return sb.String()
}

// missedGoals names the goals the watch mode missed.
func (rs *results) missedGoals() []string {
	w := rs.res[modeWatch]
	if w == nil {
		return nil
	}
	var out []string
	for _, r := range rs.rows() {
		if r.met != nil && !r.met(w) {
			out = append(out, fmt.Sprintf("%s: %s (goal %s)", r.figure, r.value(w), r.goal))
		}
	}
	return out
}

// report prints the table and writes the results file and the figure.
func (b *bench) report(rs *results) error {
	table := rs.table()
	fmt.Fprintf(b.out, "\n%s\n", table)
	doc := rs.markdown(table, rs.machine, filepath.Base(b.cfg.svg))
	if err := os.MkdirAll(filepath.Dir(b.cfg.results), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(b.cfg.results, []byte(doc), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(b.cfg.svg, []byte(rs.svg()), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s and %s", b.cfg.results, b.cfg.svg)
	return nil
}

func (rs *results) markdown(table string, mi harness.MachineInfo, svgName string) string {
	cfg := rs.cfg
	var sb strings.Builder
	fmt.Fprintf(&sb, "# How the operator scales: polling against the remote watch\n\n")
	fmt.Fprintf(&sb, "`make bench`%s, %s. Machine: %s cores (`nproc`)%s, %s. Commit %s. The run took %s.\n\n",
		map[bool]string{true: " BENCH_PROFILE=" + cfg.profile, false: ""}[cfg.profile != "full"],
		mi.Date, mi.CPUs, map[bool]string{true: ", " + mi.CPUModel, false: ""}[mi.CPUModel != ""], mi.GoVersion, mi.Commit, rs.elapsed.Round(time.Second))
	if !rs.feat.driftDetection {
		sb.WriteString("**The manager binary of this run has no `--drift-detection` flag: both columns ran its only behaviour, per-object polling. The watch column is not the remote watch.**\n\n")
	}
	sb.WriteString(table)
	sb.WriteString("\n## How measured\n\n")
	fmt.Fprintf(&sb, "`cmd/bench` starts an envtest control plane, an account server emulator per mode in its own process (%s latency on every answer, "+
		"R = %g requests/s per API client, 429 beyond; one per mode so that neither waits for the other's requests on the emulator's single lock) "+
		"and two real `bin/manager` processes at once: `--drift-detection=poll` "+
		"(`resyncInterval` 10m, the old default) and `--drift-detection=watch` (`driftInterval` 30s, the resync left at the manager's default). "+
		"Each mode has its own namespace, its own partner tenant and API client on the emulator (its own budget of R) and an AccountServer "+
		"with `rateLimit` %g/s, burst %g. Account server requests are counted from the emulator's request log by the mode's client id, "+
		"everything included (tokens, 429s); writes there are the non-GET requests but token requests. Kubernetes writes are the growth of "+
		"the manager's `rest_client_requests_total` for POST, PUT, PATCH and DELETE. Memory is `VmHWM` of the manager started by the restart.\n\n",
		cfg.latency, cfg.rate, cfg.rate, cfg.rate)
	fmt.Fprintf(&sb, "- **Cold**: %s customers, each a Tenant with a contact, an administrator User (role company_admin, activation by email) "+
		"and an OfferingItemQuota (one item), applied at once; time from the first create to the last object Ready for its generation.\n", harness.FmtInt(cfg.customers))
	fmt.Fprintf(&sb, "- **Interactive**: %s new Tenants applied at once, then one Ready tenant's `spec.contact.phone` edited every %s until they "+
		"are Ready; delay from the Update call's return to the operator's `PUT /tenants/{id}` in the request log (cap %s after the last edit).\n",
		harness.FmtInt(cfg.backlog), cfg.editEvery, cfg.editCap)
	fmt.Fprintf(&sb, "- **Seed**: the first idle window is at the size the earlier steps left (%s tenants), as it is. Then tenants are made "+
		"directly in the emulator's store, dated a day before the run (objects one adopts existed before; so they are not changes a remote watch lists), and adopted by Tenants with `spec.importID` and a matching spec (created with the operator's "+
		"finalizer on: one write less for the API server, the bottleneck of seeding here), with the emulator's latency and rate limit off, "+
		"the connections at %d/s and the managers restarted with `--kube-api-qps=%d` (kept from here on: it only bounds writes, and the "+
		"later steps should make none). Before each later window the managers are let finish (nothing queued or running), R and the latency "+
		"are restored, every object is Ready again and %s passes. The control plane runs with `GOGC=400`, the managers with their own defaults (among them `--gc-percent=30`).\n",
		harness.FmtInt(cfg.customers+cfg.backlog), cfg.liftRate, cfg.liftQPS, cfg.settle)
	fmt.Fprintf(&sb, "- **Idle**: %s at %s tenants; what the Kubernetes writes changed is counted from a watch of the namespace.\n", cfg.idle, harness.FmtInt(cfg.tenants))
	fmt.Fprintf(&sb, "- **Drift**: %d random tenants per mode get `contact.firstname` changed by `PUT /tenants/{id}` of the emulator's bootstrap "+
		"client, spread over %s; delay from that change to the mode's next `PUT` of the tenant, capped %s after the last change (the "+
		"uncorrected ones are then put back by hand, so the restart starts from a converged server).\n", cfg.drifts, cfg.driftOver, cfg.driftCap)
	fmt.Fprintf(&sb, "- **Restart**: SIGKILL, start again, until every Ready object was read: a Tenant by `GET /tenants/{id}` or in a `GET /tenants?uuids=`, "+
		"a User by `GET /users/{id}` or in a `GET /users?uuids=`, an OfferingItemQuota by `GET /tenants/{id}/offering_items` or among the "+
		"tenants a `GET /tenants/offering_items` answered (the emulator logs them); cap %s; requests and writes are those of that time.\n", cfg.restartCap)
	fmt.Fprintf(&sb, "- **Memory**: %s Users adopted the same way (activated, no roles), spread over the tenants, with the limits lifted again.\n\n", harness.FmtInt(cfg.users))
	fmt.Fprintf(&sb, "The poll mode's idle rate depends on when its objects were last read: each reads itself 10–11 minutes after its "+
		"previous read, and all of them were read within a few minutes of each other (the seed step restarts the managers, and seeded "+
		"tenants are read when adopted), shortly before the idle windows, so most of their next reads fall after the windows. Once its "+
		"reads are spread out it sends about (tenants + 4 × %s customers) ÷ 10.5 min requests/s (a tenant reads itself with one GET, an "+
		"administrator with two, a quota with two), at most R: %.1f/s at %s tenants (\"steady\" in the table); the figure shows that estimate as a dashed line.\n\n",
		harness.FmtInt(cfg.customers), pollSteadyRate(float64(cfg.tenants), cfg), harness.FmtInt(cfg.tenants))
	if cfg.profile != "full" {
		sb.WriteString("Short profile: the sizes are small, so the cold bound is not checked; the restart budget is scaled (one request per 100 tenants plus 50).\n\n")
	}
	var kicks []string
	for _, m := range rs.modes {
		for _, k := range rs.res[m].kicks {
			kicks = append(kicks, fmt.Sprintf("- %s, %s", modeTitle(m), k))
		}
	}
	if len(kicks) > 0 {
		sb.WriteString("## Objects the operator left waiting\n\n" +
			"These objects stayed `WaitingForAccountServer` although their AccountServer was Ready again after the benchmark changed its rate limit " +
			"(a wake-up lost between the connection's status and the object's): the benchmark paused and unpaused them to go on.\n\n")
		sb.WriteString(strings.Join(kicks, "\n") + "\n\n")
	}
	sb.WriteString("## What the requests were\n\n")
	for _, m := range rs.modes {
		r := rs.res[m]
		fmt.Fprintf(&sb, "- %s, cold: %s\n", modeTitle(m), r.coldTop)
		fmt.Fprintf(&sb, "- %s, idle: %s\n", modeTitle(m), r.idle.top)
		fmt.Fprintf(&sb, "- %s, restart: %s\n", modeTitle(m), r.restartTop)
		fmt.Fprintf(&sb, "- %s, Kubernetes objects changed: idle: %s; restart: %s\n", modeTitle(m), r.idle.kubeSeen, r.restartKubeSeen)
		fmt.Fprintf(&sb, "- %s, the emulator's longest answer (its latency fault aside): idle %s (p99 %s), drift %s, restart %s\n", modeTitle(m),
			r.idle.emuMax.Round(time.Millisecond), r.idle.emuP99.Round(time.Millisecond), r.driftEmuMax.Round(time.Millisecond), r.restartEmuMax.Round(time.Millisecond))
	}
	fmt.Fprintf(&sb, "\n## Idle requests/s against tenants\n\n![idle requests/s against tenants](%s)\n", svgName)
	return sb.String()
}

// fmtDelay shows a delay in seconds, or "> cap" when it never came.
func fmtDelay(v float64, limit time.Duration) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case math.IsInf(v, 1):
		return fmt.Sprintf("> %.0f (cap)", limit.Seconds())
	}
	return fmt.Sprintf("%.1f", v)
}

func fmtRate(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
