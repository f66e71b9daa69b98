// Command bench measures how the operator scales, the old drift detection
// (per-object polling, --drift-detection=poll) against the new one (the
// remote watch, --drift-detection=watch) side by side in one run. It is what
// `make bench` runs.
//
// It starts an envtest control plane, the account server emulator in this
// process (50 ms latency, R requests/s per API client) and two real
// bin/manager processes, one per mode, each with its own namespace, its own
// partner tenant and API client on the emulator (so its own budget of R
// requests/s) and its own AccountServer. Both modes then go through the same
// scenarios at the same time: cold start, interactive edits under a backlog,
// seeding to 10,000 tenants, idle, out-of-band drift, restart and memory.
// Every figure comes from the emulator's request log (by the mode's client
// id), the managers' Prometheus metrics and /proc; the table, with the goals
// of the new mode, goes to stdout and bench/results.md, and the idle request
// rates to bench/requests.svg.
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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// config is what a run measures; -profile picks the defaults, flags override them.
type config struct {
	profile string

	customers int   // cold: customers applied at once (Tenant + User + OfferingItemQuota each)
	backlog   int   // interactive: new Tenants applied at once
	tenants   int   // seed: Ready tenants per mode
	points    []int // seed: sizes to measure the idle rate at on the way (below tenants)
	users     int   // memory: Users added (seeded)

	rate       float64       // R: requests/s per API client, on the emulator and in the AccountServers
	latency    time.Duration // of every emulator answer
	liftRate   int           // requests/s the connections get while seeding
	liftQPS    int           // --kube-api-qps while seeding (when the binary has the flag)
	idle       time.Duration // idle window at the full size
	window     time.Duration // idle windows on the way
	settle     time.Duration // after R is restored, before a window opens
	editEvery  time.Duration // interactive: one edit per this
	maxEdits   int
	minEdits   int
	editCap    time.Duration // interactive: wait for the last edit's PUT at most this
	drifts     int           // drift: out-of-band changes per mode
	driftOver  time.Duration // drift: spread the changes over this
	driftCap   time.Duration // drift: wait this long after the last change
	restartCap time.Duration
	timeout    time.Duration // any wait for objects to become Ready

	modes       []string
	manager     string   // the manager binary
	managerArgs []string // added to every start of every manager
	build       bool     // go build it first
	workDir     string   // logs, kubeconfig
	results     string   // markdown results
	svg         string   // figure
	failOnGoals bool     // exit 1 when the new mode misses a goal
	verbose     bool
}

func defaults(profile string) (config, error) {
	c := config{
		profile:   profile,
		rate:      20,
		latency:   50 * time.Millisecond,
		liftRate:  2000,
		liftQPS:   2000,
		settle:    15 * time.Second,
		editEvery: time.Second,
		modes:     []string{modePoll, modeWatch},
		manager:   filepath.Join("bin", "manager"),
		build:     true,
		workDir:   filepath.Join("bin", "bench"),
		timeout:   15 * time.Minute,
	}
	switch profile {
	case "full":
		c.customers, c.backlog, c.tenants, c.users = 1000, 1000, 10000, 10000
		c.points = nil
		c.idle, c.window = 5*time.Minute, 30*time.Second
		c.minEdits, c.maxEdits, c.editCap = 20, 300, 2*time.Minute
		// The caps are the goals: what takes longer missed them anyway.
		c.drifts, c.driftOver, c.driftCap = 100, 20*time.Second, 60*time.Second
		c.restartCap = 60 * time.Second
		c.results, c.svg = filepath.Join("bench", "results.md"), filepath.Join("bench", "requests.svg")
		c.failOnGoals = true
	case "short":
		c.customers, c.backlog, c.tenants, c.users = 50, 200, 1000, 500
		c.points = nil
		c.idle, c.window = time.Minute, 15*time.Second
		c.settle = 5 * time.Second
		c.minEdits, c.maxEdits, c.editCap = 10, 120, time.Minute
		c.drifts, c.driftOver, c.driftCap = 20, 5*time.Second, 40*time.Second
		c.restartCap = 30 * time.Second
		c.timeout = 5 * time.Minute
		c.results, c.svg = filepath.Join("bench", "results-short.md"), filepath.Join("bench", "requests-short.svg")
	default:
		return c, fmt.Errorf("unknown -profile %q: full or short", profile)
	}
	return c, nil
}

func parseFlags(args []string) (config, error) {
	c, err := defaults(harness.PeekProfile(args))
	if err != nil {
		return c, err
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.StringVar(&c.profile, "profile", c.profile, "full (about 22 minutes on 2 cores; results in bench/results.md) or short (a few minutes; bench/results-short.md)")
	fs.IntVar(&c.customers, "customers", c.customers, "cold: customers applied at once, each a Tenant, an administrator User and an OfferingItemQuota")
	fs.IntVar(&c.backlog, "backlog", c.backlog, "interactive: new Tenants applied at once while existing ones are edited")
	fs.IntVar(&c.tenants, "tenants", c.tenants, "seed: Ready tenants per mode for idle, drift, restart and memory")
	fs.Var((*intList)(&c.points), "points", "seed: comma-separated tenant counts below -tenants to measure the idle rate at, besides the size seeding starts from (-customers + -backlog)")
	fs.IntVar(&c.users, "users", c.users, "memory: Users added (seeded) before the peak RSS is read")
	fs.Float64Var(&c.rate, "rate", c.rate, "R: requests/s per API client, enforced by the emulator and set in each AccountServer")
	fs.DurationVar(&c.latency, "latency", c.latency, "latency of every emulator answer")
	fs.IntVar(&c.liftRate, "lift-rate", c.liftRate, "requests/s of the connections while seeding (restored to -rate before measuring)")
	fs.IntVar(&c.liftQPS, "lift-kube-qps", c.liftQPS, "--kube-api-qps of the managers from the seed step on (when bin/manager has the flag)")
	fs.DurationVar(&c.idle, "idle", c.idle, "idle window at -tenants")
	fs.DurationVar(&c.window, "window", c.window, "idle windows at -points")
	fs.DurationVar(&c.settle, "settle", c.settle, "wait after restoring R before an idle window opens")
	fs.DurationVar(&c.editEvery, "edit-every", c.editEvery, "interactive: one Tenant edit per mode this often")
	fs.IntVar(&c.minEdits, "min-edits", c.minEdits, "interactive: edits made even if the backlog drains sooner")
	fs.IntVar(&c.maxEdits, "max-edits", c.maxEdits, "interactive: edits made at most")
	fs.DurationVar(&c.editCap, "edit-cap", c.editCap, "interactive: wait for the operator's PUT at most this long after the last edit")
	fs.IntVar(&c.drifts, "drifts", c.drifts, "drift: out-of-band changes per mode")
	fs.DurationVar(&c.driftOver, "drift-over", c.driftOver, "drift: the changes are spread over this")
	fs.DurationVar(&c.driftCap, "drift-cap", c.driftCap, "drift: wait for corrections this long after the last change")
	fs.DurationVar(&c.restartCap, "restart-cap", c.restartCap, "restart: wait this long for every tenant to be read")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "longest wait for objects to become Ready")
	modes := strings.Join(c.modes, ",")
	fs.StringVar(&modes, "modes", modes, "modes to run, side by side: poll, watch")
	fs.StringVar(&c.manager, "manager", c.manager, "the manager binary")
	managerArgs := ""
	fs.StringVar(&managerArgs, "manager-args", "", "space-separated flags added to every start of the managers, e.g. --pprof-bind-address=127.0.0.1:6060 (with one mode) to profile one")
	fs.BoolVar(&c.build, "build", c.build, "build the manager binary (go build -o MANAGER ./cmd) first")
	fs.StringVar(&c.workDir, "work-dir", c.workDir, "where the managers' logs and the kubeconfig go")
	fs.StringVar(&c.results, "results", c.results, "where the results table goes (markdown)")
	fs.StringVar(&c.svg, "svg", c.svg, "where the figure of idle requests/s against tenants goes")
	fs.BoolVar(&c.failOnGoals, "fail-on-goals", c.failOnGoals, "exit 1 when the watch mode misses a goal (default true for -profile full)")
	fs.BoolVar(&c.verbose, "v", false, "show more progress")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	c.managerArgs = strings.Fields(managerArgs)
	c.modes = nil
	for m := range strings.SplitSeq(modes, ",") {
		switch m = strings.TrimSpace(m); m {
		case modePoll, modeWatch:
			c.modes = append(c.modes, m)
		case "":
		default:
			return c, fmt.Errorf("unknown mode %q in -modes: poll or watch", m)
		}
	}
	return c, c.validate()
}

func (c config) validate() error {
	switch {
	case len(c.modes) == 0:
		return errors.New("-modes names no mode")
	case c.customers < 1 || c.rate <= 0:
		return errors.New("-customers and -rate must be positive")
	case c.tenants < c.customers+c.backlog:
		return fmt.Errorf("-tenants (%d) must be at least -customers + -backlog (%d): those tenants exist before seeding", c.tenants, c.customers+c.backlog)
	}
	for _, p := range c.points {
		if p >= c.tenants {
			return fmt.Errorf("-points %d is not below -tenants %d", p, c.tenants)
		}
	}
	return nil
}

type intList []int

func (l *intList) String() string {
	var s []string
	for _, v := range *l {
		s = append(s, strconv.Itoa(v))
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return fmt.Errorf("%q is not a positive number", f)
		}
		*l = append(*l, n)
	}
	return nil
}

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// A second Ctrl-C is not caught: the cleanup of the first may hang.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, cfg, os.Stdout)
	os.Exit(code)
}

// run returns the exit code: 0, 1 when the watch mode missed a goal (with
// -fail-on-goals), 2 when the benchmark itself failed.
func run(ctx context.Context, cfg config, out io.Writer) int {
	b := newBench(cfg, out)
	// Deferred, so that a panic stops the managers and the control plane
	// too.
	defer b.close()
	res, err := b.run(ctx)
	if err != nil {
		b.close()
		fmt.Fprintln(os.Stderr, "bench:", err)
		b.showLogs(os.Stderr)
		return 2
	}
	if missed := res.missedGoals(); len(missed) > 0 {
		fmt.Fprintf(out, "\nthe watch mode missed %d goal(s): %s\n", len(missed), strings.Join(missed, "; "))
		if cfg.failOnGoals {
			return 1
		}
	}
	return 0
}
