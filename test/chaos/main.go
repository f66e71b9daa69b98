// Command chaos runs the operator through what breaks in production and
// checks that it keeps its promises (docs/reliability.md). It is what
// `make chaos` runs.
//
// It starts an envtest control plane and, per scenario, an account server
// emulator in this process (its own partner tenant and API client, a
// namespace with an AccountServer) and the real bin/manager as a child
// process, which it SIGKILLs, fails over and cuts off:
//
//   - rollout: N customers (Tenant + User + OfferingItemQuota) applied at
//     once while the manager is SIGKILLed K times at random and the emulator
//     answers 5% 5xx, 2% 429 (Retry-After) and drops 10% of the answers of
//     committed writes; then twins and leaked objects on the server, objects
//     not Ready, and the time to all Ready after the faults stop;
//   - retry-after: from the same run, the requests that reached the emulator
//     while the connection had been asked to wait (the manager's log says
//     when a 429 arrived and for how long);
//   - lost updates: the operator changes managed fields of tenants and users
//     while an out-of-band writer changes an unmanaged one (the contact's
//     phone) through the API with version-guarded PUTs; what either wrote
//     and is not on the server at the end is lost;
//   - outage: the server answers 503 to everything, then refuses
//     connections, while objects are Ready and some have pending changes;
//     requests/s and Kubernetes writes during it, time to all Ready and the
//     peak request rate after it;
//   - failover: two managers with --leader-elect, the leader SIGKILLed
//     mid-rollout; time until the other leads and reconciles, twins;
//   - side effects: users with activation by email under the rollout's
//     faults and kills; users sent more than one activation email.
//
// The table of figures, with the goals, goes to stdout and to
// test/chaos/results.md (results-short.md for -profile short); the exit code
// is 1 when a goal is missed, 2 when the run itself failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// The scenarios, in the order they run.
const (
	scRollout  = "rollout"
	scLost     = "lost-updates"
	scOutage   = "outage"
	scFailover = "failover"
	scSide     = "side-effects"
)

var allScenarios = []string{scRollout, scSide, scLost, scFailover, scOutage}

// config is what a run does; -profile picks the defaults, flags override
// them.
type config struct {
	profile   string
	scenarios []string

	customers int           // rollout: customers applied at once
	kills     int           // rollout and side effects: SIGKILLs of the manager
	killMin   time.Duration // a kill comes this long at least after the manager is ready again
	killMax   time.Duration // and at most this long

	lostObjects int           // lost updates: tenants, each with a user
	lostFor     time.Duration // lost updates: how long both sides write
	editEvery   time.Duration // lost updates: one round of spec edits per this

	outageObjects int           // outage: Ready objects (customers of three objects)
	outagePending int           // outage: tenants whose spec changes as the outage begins
	outage        time.Duration // outage: 503 for the first half, refused connections for the second

	failoverCustomers int // failover: customers of the rollout the leader dies in

	users int // side effects: users with activation by email, ten per tenant

	rate         float64       // requests/s (and burst) of every AccountServer
	latency      time.Duration // of every emulator answer
	errorRate    float64       // rollout faults: share of 500 answers
	throttleRate float64       // share of 429 answers
	retryAfter   int           // their Retry-After, seconds
	dropRate     float64       // share of committed writes whose answer is lost
	slack        time.Duration // Retry-After: requests this close to a pause's ends are in flight, not violations
	readyGoal    time.Duration // all Ready this soon after the faults stop / the outage ends
	takeover     time.Duration // failover: the other manager leads and reconciles this soon
	outageRate   float64       // outage: requests/s per connection at most
	timeout      time.Duration // longest wait for objects to become Ready

	manager string // the manager binary
	build   bool   // go build it first
	workDir string // logs, kubeconfig
	results string // markdown results
	seed    int64  // of the random kill times; 0: from the clock
	note    string // a line for the results file
	verbose bool
}

func defaults(profile string) (config, error) {
	c := config{
		profile:      profile,
		scenarios:    allScenarios,
		killMin:      500 * time.Millisecond,
		killMax:      3 * time.Second,
		editEvery:    3 * time.Second,
		rate:         100,
		latency:      20 * time.Millisecond,
		errorRate:    0.05,
		throttleRate: 0.02,
		retryAfter:   1,
		dropRate:     0.10,
		slack:        25 * time.Millisecond,
		readyGoal:    60 * time.Second,
		takeover:     30 * time.Second,
		outageRate:   0.2,
		manager:      filepath.Join("bin", "manager"),
		build:        true,
		workDir:      filepath.Join("bin", "chaos-run"),
	}
	switch profile {
	case "full":
		c.customers, c.kills = 300, 100
		c.lostObjects, c.lostFor = 100, time.Minute
		c.outageObjects, c.outagePending, c.outage = 1000, 100, 5*time.Minute
		c.failoverCustomers = 300
		c.users = 1000
		c.timeout = 10 * time.Minute
		c.results = filepath.Join("test", "chaos", "results.md")
	case "short":
		c.customers, c.kills = 30, 10
		c.lostObjects, c.lostFor = 30, 20*time.Second
		// Opening the circuit costs a few requests whatever the outage's
		// length (five in a row fail, then probes at 5s, 15s, 35s): over 30s
		// they alone come to more than 0.2/s; over a minute they do not.
		c.outageObjects, c.outagePending, c.outage = 100, 10, time.Minute
		c.failoverCustomers = 30
		c.users = 100
		c.timeout = 5 * time.Minute
		c.results = filepath.Join("test", "chaos", "results-short.md")
	default:
		return c, fmt.Errorf("unknown -profile %q: full or short", profile)
	}
	return c, nil
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c, err := defaults(harness.PeekProfile(args))
	if err != nil {
		return c, err
	}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.profile, "profile", c.profile, "full (for releases; results in test/chaos/results.md) or short (a few minutes, for CI; test/chaos/results-short.md)")
	scenarios := strings.Join(c.scenarios, ",")
	fs.StringVar(&scenarios, "scenarios", scenarios, "comma-separated scenarios to run: "+strings.Join(allScenarios, ", ")+" (retry-after is measured in rollout and side-effects)")
	fs.IntVar(&c.customers, "customers", c.customers, "rollout: customers (Tenant + User + OfferingItemQuota) applied at once")
	fs.IntVar(&c.kills, "kills", c.kills, "rollout and side-effects: times the manager is SIGKILLed")
	fs.DurationVar(&c.killMin, "kill-min", c.killMin, "a kill comes at least this long after the restarted manager is ready")
	fs.DurationVar(&c.killMax, "kill-max", c.killMax, "and at most this long")
	fs.IntVar(&c.lostObjects, "lost-objects", c.lostObjects, "lost-updates: tenants, each with a user, edited on both sides")
	fs.DurationVar(&c.lostFor, "lost-for", c.lostFor, "lost-updates: how long both sides keep writing")
	fs.DurationVar(&c.editEvery, "edit-every", c.editEvery, "lost-updates: one round of spec edits per this")
	fs.IntVar(&c.outageObjects, "outage-objects", c.outageObjects, "outage: Ready objects (in customers of three)")
	fs.IntVar(&c.outagePending, "outage-pending", c.outagePending, "outage: tenants whose spec is changed as the outage begins")
	fs.DurationVar(&c.outage, "outage", c.outage, "outage: how long the server is down (503 for the first half, connections refused for the second)")
	fs.IntVar(&c.failoverCustomers, "failover-customers", c.failoverCustomers, "failover: customers of the rollout the leader is killed in")
	fs.IntVar(&c.users, "users", c.users, "side-effects: users with activation by email (ten per tenant)")
	fs.Float64Var(&c.rate, "rate", c.rate, "requests/s and burst of every AccountServer (the connection's budget)")
	fs.DurationVar(&c.latency, "latency", c.latency, "latency of every emulator answer")
	fs.Float64Var(&c.errorRate, "error-rate", c.errorRate, "share of answers that are 500 under fire")
	fs.Float64Var(&c.throttleRate, "throttle-rate", c.throttleRate, "share of answers that are 429 under fire")
	fs.IntVar(&c.retryAfter, "retry-after", c.retryAfter, "Retry-After of the 429s, seconds")
	fs.Float64Var(&c.dropRate, "drop-rate", c.dropRate, "share of committed writes whose answer is lost under fire")
	fs.DurationVar(&c.slack, "slack", c.slack, "retry-after: requests this close to either end of a pause count as in flight")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "longest wait for objects to become Ready")
	fs.StringVar(&c.manager, "manager", c.manager, "the manager binary")
	fs.BoolVar(&c.build, "build", c.build, "build the manager binary (go build -o MANAGER ./cmd) first")
	fs.StringVar(&c.workDir, "work-dir", c.workDir, "where the managers' logs and the kubeconfig go")
	fs.StringVar(&c.results, "results", c.results, "where the results table goes (markdown); empty: nowhere")
	fs.Int64Var(&c.seed, "seed", 0, "seed of the random kill times (0: from the clock); the results say which was used")
	fs.StringVar(&c.note, "note", "", "a line added to the results file under the command, e.g. which manager binary was measured")
	fs.BoolVar(&c.verbose, "v", false, "show more progress")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.scenarios = nil
	for s := range strings.SplitSeq(scenarios, ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case slices.Contains(allScenarios, s):
			if !slices.Contains(c.scenarios, s) {
				c.scenarios = append(c.scenarios, s)
			}
		default:
			return c, fmt.Errorf("unknown scenario %q in -scenarios: %s", s, strings.Join(allScenarios, ", "))
		}
	}
	// They run in the documented order whatever order the flag names.
	slices.SortFunc(c.scenarios, func(a, b string) int { return slices.Index(allScenarios, a) - slices.Index(allScenarios, b) })
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case len(c.scenarios) == 0:
		return errors.New("-scenarios names none")
	case c.customers < 1 || c.failoverCustomers < 1 || c.lostObjects < 1 || c.users < 1 || c.outageObjects < 3:
		return errors.New("-customers, -failover-customers, -lost-objects and -users must be positive, -outage-objects at least 3")
	case c.kills < 0:
		return errors.New("-kills must not be negative")
	case c.killMin <= 0 || c.killMax < c.killMin:
		return errors.New("-kill-min must be positive and -kill-max at least -kill-min")
	case c.outagePending < 0 || c.outagePending > (c.outageObjects+2)/3:
		return fmt.Errorf("-outage-pending must be between 0 and the tenants of -outage-objects (%d)", (c.outageObjects+2)/3)
	case c.rate < 1:
		return errors.New("-rate must be at least 1")
	case c.outage < 2*time.Second || c.lostFor <= 0 || c.editEvery <= 0:
		return errors.New("-outage must be at least 2s, -lost-for and -edit-every positive")
	}
	for name, v := range map[string]float64{"-error-rate": c.errorRate, "-throttle-rate": c.throttleRate, "-drop-rate": c.dropRate} {
		if v < 0 || v > 1 {
			return fmt.Errorf("%s must be between 0 and 1", name)
		}
	}
	return nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second Ctrl-C is not caught: the cleanup of the first may hang.
		<-ctx.Done()
		stop()
	}()
	os.Exit(run(ctx, cfg, os.Stdout))
}

// run returns the exit code: 0, 1 when a goal was missed, 2 when the run
// itself failed.
func run(ctx context.Context, cfg config, out io.Writer) int {
	c := newChaos(cfg, out)
	// Deferred, so that a panic stops the managers and the control plane
	// too.
	defer c.close()
	rs, err := c.run(ctx)
	if err != nil {
		c.close()
		fmt.Fprintln(os.Stderr, "chaos:", err)
		c.showLogs(os.Stderr)
		return 2
	}
	if missed := rs.missedGoals(); len(missed) > 0 {
		fmt.Fprintf(out, "\nmissed %d goal(s): %s\n", len(missed), strings.Join(missed, "; "))
		return 1
	}
	fmt.Fprintln(out, "\nevery goal met")
	return 0
}
