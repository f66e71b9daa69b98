package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// row is one figure of a scenario and, when it has one, its goal.
type row struct {
	scenario, figure, value, goal string
	met                           *bool
}

type results struct {
	cfg      config
	seed     int64
	rows     []row
	machine  harness.MachineInfo
	started  time.Time
	elapsed  time.Duration
	failures []string // scenarios that could not be measured
}

func (rs *results) add(sc, figure, value string) {
	rs.rows = append(rs.rows, row{scenario: sc, figure: figure, value: value})
}

func (rs *results) goal(sc, figure, value, goal string, met bool) {
	rs.rows = append(rs.rows, row{scenario: sc, figure: figure, value: value, goal: goal, met: &met})
}

// missedGoals names the figures whose goal was missed, and the scenarios
// that could not be measured.
func (rs *results) missedGoals() []string {
	var out []string
	for _, r := range rs.rows {
		if r.met != nil && !*r.met {
			out = append(out, fmt.Sprintf("%s: %s = %s (goal %s)", r.scenario, r.figure, r.value, r.goal))
		}
	}
	return append(out, rs.failures...)
}

// table renders the rows as a markdown table.
func (rs *results) table() string {
	var sb strings.Builder
	sb.WriteString("| scenario | figure | value | goal | |\n|---|---|---:|---:|---|\n")
	for _, r := range rs.rows {
		verdict := ""
		if r.met != nil {
			verdict = "met"
			if !*r.met {
				verdict = "**missed**"
			}
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s |\n", r.scenario, r.figure, escapeCell(r.value), r.goal, verdict)
	}
	return sb.String()
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// run sets up, runs every scenario chosen and reports.
func (c *chaos) run(ctx context.Context) (*results, error) {
	rs := &results{cfg: c.cfg, seed: c.seed, machine: harness.Machine(), started: time.Now()}
	if err := c.setup(ctx); err != nil {
		return nil, err
	}
	steps := map[string]func(context.Context, *results) error{
		scRollout: c.rollout, scSide: c.sideEffects, scLost: c.lostUpdates, scFailover: c.failover, scOutage: c.outage,
	}
	for _, sc := range c.cfg.scenarios {
		began := time.Now()
		c.logf("== %s", sc)
		if err := steps[sc](ctx, rs); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%s: %w", sc, err)
		}
		c.logf("== %s took %s", sc, time.Since(began).Truncate(time.Second))
	}
	rs.elapsed = time.Since(c.start).Truncate(time.Second)
	table := rs.table()
	fmt.Fprintf(c.out, "\n%s\n", table)
	if c.cfg.results != "" {
		if err := os.MkdirAll(filepath.Dir(c.cfg.results), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(c.cfg.results, []byte(rs.markdown(table)), 0o644); err != nil {
			return nil, err
		}
		c.logf("wrote %s", c.cfg.results)
	}
	return rs, nil
}

// command is the make line that reproduces the run's profile.
func (rs *results) command() string {
	if rs.cfg.profile == "full" {
		return "make chaos"
	}
	return "make chaos CHAOS_PROFILE=" + rs.cfg.profile
}

func (rs *results) markdown(table string) string {
	cfg, mi := rs.cfg, rs.machine
	var sb strings.Builder
	fmt.Fprintf(&sb, "# Chaos: what the operator keeps when things break\n\n")
	cpu := ""
	if mi.CPUModel != "" {
		cpu = ", " + mi.CPUModel
	}
	fmt.Fprintf(&sb, "`%s` (scenarios: %s; kill seed %d), %s. Machine: %s cores (`nproc`)%s, %s. Commit %s. The run took %s.\n\n",
		rs.command(), strings.Join(cfg.scenarios, ", "), rs.seed, mi.Date, mi.CPUs, cpu, mi.GoVersion, mi.Commit, rs.elapsed)
	if cfg.note != "" {
		fmt.Fprintf(&sb, "%s\n\n", cfg.note)
	}
	sb.WriteString(table)
	sb.WriteString("\n## How measured\n\n")
	fmt.Fprintf(&sb, "`test/chaos` starts an envtest control plane and, per scenario, an account server emulator inside its own process (%s latency on every answer) with a partner tenant and an API client of its own, a namespace with an AccountServer (`rateLimit` %g/s, burst %g) and the real `bin/manager` as a child process (`--zap-time-encoding=rfc3339nano`). Requests are counted from the emulator's request log by the manager's client id (tokens included), unless said otherwise. *Under fire* means: the emulator answers %.0f%% of requests 500, %.0f%% 429 with `Retry-After: %d`, and closes the connection without an answer after %.0f%% of committed writes (POST, PUT, DELETE); the manager is SIGKILLed %d times, each %s–%s (uniformly at random) after it was ready again, and restarted at once. Objects are Ready when their Ready condition is True for their generation; a run that does not get there within %s says so.\n\n",
		cfg.latency, cfg.rate, cfg.rate, 100*cfg.errorRate, 100*cfg.throttleRate, cfg.retryAfter, 100*cfg.dropRate, cfg.kills, cfg.killMin, cfg.killMax, cfg.timeout)
	fmt.Fprintf(&sb, "- **rollout**: %s customers (each a Tenant with a contact, an administrator User activated by email with role company_admin, and an OfferingItemQuota with one item, as in `cmd/bench`) applied at once, under fire; the faults stop after the last kill. Twins are live remote objects with the same key (a tenant's parent and name, a user's login) more than once; leaked objects are live remote tenants below the scenario's partner tenant (users' personal tenants aside) and users in them whose id no Tenant or User holds in `status.id`. The time to all Ready runs from the faults' end to the last object's Ready.\n", harness.FmtInt(cfg.customers))
	fmt.Fprintf(&sb, "- **retry-after**: the manager logs each 429 that pauses its connection (`%s`, with `retryAfter`) at the time the answer arrived; a violation is a request of the manager's client that the emulator received inside such a pause, more than %s after its start and before its end (the slack leaves out requests already on their way when the 429 arrived); a pause ends with its process. The strict count has no slack.\n", pauseMessage, cfg.slack)
	fmt.Fprintf(&sb, "- **side-effects**: %s Users with activation by email, ten per Tenant, applied at once with their tenants, under fire. Activation emails are the `POST /users/{id}/send-activation-email` the emulator answered 2xx (the mail went, whether the answer arrived or was lost), cross-checked with the emulator's own count. A user whose email is `Unconfirmed` (its answer was lost or a 5xx: the operator does not send it again on its own) may have been mailed once or not at all.\n", harness.FmtInt(cfg.users))
	fmt.Fprintf(&sb, "- **lost-updates**: %d Tenants and %d Users (activation None) Ready; then for %s, under the rollout's faults, every %s the spec's `contact.firstname` of all of them is changed (a managed field), while four out-of-band writers keep changing `contact.phone` (which the spec leaves to the server) through the API with the emulator's bootstrap client, as a person's tool would: read the object, change the phone in the contact as read, PUT the whole contact with the version read, read again on a stale version. An out-of-band change is lost when the last phone a writer confirmed is not on the server at the end; a spec change is lost when the server's first name is not the spec's %s after the faults stop and everything is Ready.\n", cfg.lostObjects, cfg.lostObjects, cfg.lostFor, cfg.editEvery, cfg.readyGoal)
	fmt.Fprintf(&sb, "- **failover**: two managers with `--leader-elect` (lease in namespace %s); %s customers applied at once (no injected faults), and the leader (the process that logged `%s`) SIGKILLed when a third of the objects are Ready. The takeover is when the lease names another holder; resuming is the first object the new leader makes Ready (seen after it holds the lease; if nothing was left to do by then, its first request), counted from the kill.\n", leaseNamespace, harness.FmtInt(cfg.failoverCustomers), acquiredMessage)
	fmt.Fprintf(&sb, "- **outage**: %s customers (%s objects) Ready and quiet; then the endpoint the manager uses answers 503 to everything for %s (%d tenants' `contact.lastname` is changed as it begins) and then closes its listener and every connection for %s, after which it listens on the same address again. Requests during the outage are the growth of the manager's `tenant_operator_accountserver_requests_total` (every answer or failed attempt) and `tenant_operator_accountserver_token_refreshes_total`; Kubernetes writes the growth of its `rest_client_requests_total` for POST, PUT, PATCH and DELETE; writes per object are the updates of each object that kept its generation (status, finalizers, annotations), seen through a watch. The peak is the most requests the emulator received in any one second from the outage's end until 10 s after the last object was Ready; the budget of a token bucket of rate r and burst b is r + b in any second.\n",
		harness.FmtInt((cfg.outageObjects+2)/3), harness.FmtInt(3*((cfg.outageObjects+2)/3)), cfg.outage/2, cfg.outagePending, cfg.outage-cfg.outage/2)
	return sb.String()
}
