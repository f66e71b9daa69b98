package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	conn "github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// The two modes.
const (
	modePoll  = "poll"
	modeWatch = "watch"
)

// Names every mode's objects use.
const (
	connectionName = "emulator"
	secretName     = "emulator-credentials"
)

// mode is one side of the comparison: a namespace, a partner tenant and an
// API client of its own on the emulator, reached through a listener of its
// own, and a manager process.
type mode struct {
	name       string
	ns         string
	emu        *emulator.Server
	admin      *accountserver.Client // the emulator's bootstrap client
	bootTenant string                // the tenant it acts in
	url        string                // the emulator as this mode's manager reaches it
	timing     *timing               // how long the emulator took to answer the mode's requests
	partnerID  string
	clientID   string
	mgr        *harness.Manager
	flags      []string // the manager's flags of the current phase
	// kicks records the objects found stuck waiting for a Ready
	// connection, which the benchmark woke (see unstick).
	kicks []string
}

type bench struct {
	cfg   config
	out   io.Writer
	start time.Time
	feat  features

	control    *envtest.Environment
	kubeconfig string
	k8s        client.Client
	track      *tracker
	stopCache  context.CancelFunc

	servers []*http.Server

	modes []*mode

	closeOnce sync.Once
}

func newBench(cfg config, out io.Writer) *bench {
	return &bench{cfg: cfg, out: out, start: time.Now()}
}

// logf prints a progress line with the time since the start.
func (b *bench) logf(format string, args ...any) {
	d := time.Since(b.start).Truncate(time.Second)
	fmt.Fprintf(b.out, "[%02d:%02d] %s\n", int(d.Minutes()), int(d.Seconds())%60, fmt.Sprintf(format, args...))
}

// setup starts everything the scenarios need.
func (b *bench) setup(ctx context.Context) error {
	cfg := b.cfg
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run through `make bench`, which builds the control plane once and points at it")
	}
	// Nothing of the control plane or of the managers goes to stdout.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	if err := os.MkdirAll(cfg.workDir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(cfg.workDir, "manager-*.log"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	if cfg.build {
		b.logf("building %s", cfg.manager)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", cfg.manager, "./cmd")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the manager: %w", err)
		}
	}
	var err error
	if b.feat, err = probeFeatures(ctx, cfg.manager); err != nil {
		return err
	}
	if !b.feat.driftDetection {
		b.logf("WARNING: %s has no --drift-detection flag: both modes run its only (old) behaviour; the watch column is not the remote watch", cfg.manager)
	}
	if !b.feat.kubeQPS {
		b.logf("note: %s has no --kube-api-qps flag: its Kubernetes client is not rate limited", cfg.manager)
	}

	b.logf("starting the control plane")
	// The control plane is the bottleneck of seeding on a small machine,
	// and a third of its CPU goes to garbage collection: it (and only it,
	// not the managers under test) collects less often.
	cp, err := harness.StartControlPlane(cfg.workDir, "bench-manager", "400")
	if cp != nil {
		b.control = cp.Env
	}
	if err != nil {
		return err
	}
	// The benchmark's own client applies thousands of objects at once.
	b.kubeconfig, b.k8s = cp.Kubeconfig, cp.Client

	var namespaces []string
	for _, name := range cfg.modes {
		m := &mode{name: name, ns: "bench-" + name}
		// An emulator per mode: its store has one lock, and some of its
		// answers cost time in the number of tenants it holds, so a mode
		// must not wait for the other's requests (nor count its tenants).
		m.emu = emulator.New(emulator.Options{
			Faults:          emulator.Faults{Latency: emulator.Duration(cfg.latency), RateLimit: cfg.rate},
			RequestLogLimit: 50_000_000,
			InstantReports:  true,
		})
		m.timing = &timing{}
		if m.url, err = b.serve(m.timing.wrap(m.emu)); err != nil {
			return err
		}
		// The bootstrap client makes the mode's partner and client and
		// the out-of-band changes, on a listener of its own; the rate
		// limit is per client, so it never takes from the mode's budget.
		boot := m.emu.Bootstrap()
		m.bootTenant = boot.TenantID
		adminURL, err := b.serve(m.emu)
		if err != nil {
			return err
		}
		if m.admin, err = accountserver.New(accountserver.Config{URL: adminURL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, RequestsPerSecond: 1000, Burst: 1000}); err != nil {
			return err
		}
		m.mgr = &harness.Manager{Name: name, Bin: cfg.manager, Kubeconfig: b.kubeconfig, LogDir: cfg.workDir}
		b.modes = append(b.modes, m)
		namespaces = append(namespaces, m.ns)
	}
	cacheCtx, cancel := context.WithCancel(ctx)
	b.stopCache = cancel
	if b.track, err = startTracker(cacheCtx, cp.Unthrottled, namespaces); err != nil {
		return err
	}
	for _, m := range b.modes {
		if err := b.setupMode(ctx, m); err != nil {
			return fmt.Errorf("mode %s: %w", m.name, err)
		}
	}
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		m.flags = b.managerFlags(m, false)
		if err := m.mgr.Start(ctx, m.flags); err != nil {
			return err
		}
		return b.waitConnection(ctx, m)
	})
}

// serve runs h on a new local listener and returns its URL.
func (b *bench) serve(h http.Handler) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	b.servers = append(b.servers, srv)
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), nil
}

// setupMode makes the mode's partner tenant and API client on the
// emulator, and its namespace, Secret and AccountServer.
func (b *bench) setupMode(ctx context.Context, m *mode) error {
	partner, err := m.admin.CreateTenant(ctx, accountserver.TenantCreate{Name: "bench-" + m.name, ParentID: m.bootTenant, Kind: accountserver.KindPartner})
	if err != nil {
		return fmt.Errorf("creating the partner: %w", err)
	}
	m.partnerID = partner.ID
	created, err := m.admin.CreateClient(ctx, accountserver.ClientCreate{
		Type: accountserver.ClientTypeAPI, TenantID: partner.ID, TokenEndpointAuthMethod: accountserver.AuthMethodSecretBasic,
		Data: accountserver.ClientData{ClientName: "tenant-operator " + m.name},
	})
	if err != nil {
		return fmt.Errorf("creating the API client: %w", err)
	}
	m.clientID = created.ClientID
	for _, o := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: m.ns}},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: m.ns},
			StringData: map[string]string{conn.KeyClientID: created.ClientID, conn.KeyClientSecret: string(created.ClientSecret)},
		},
		b.accountServer(m),
	} {
		if err := b.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// accountServer is the mode's connection: R requests/s, the old resync in
// poll mode, the new defaults in watch mode.
func (b *bench) accountServer(m *mode) *v1.AccountServer {
	as := &v1.AccountServer{
		ObjectMeta: metav1.ObjectMeta{Name: connectionName, Namespace: m.ns},
		Spec: v1.AccountServerSpec{
			URL:                  m.url,
			CredentialsSecretRef: v1.SecretReference{Name: secretName},
			RateLimit:            rateLimit(b.cfg.rate),
		},
	}
	switch m.name {
	case modePoll:
		as.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Minute}
	case modeWatch:
		as.Spec.DriftInterval = &metav1.Duration{Duration: 30 * time.Second}
	}
	return as
}

func rateLimit(rps float64) v1.RateLimit {
	r := int32(max(1, rps))
	return v1.RateLimit{RequestsPerSecond: r, Burst: r}
}

// managerFlags are the mode's flags; lifted raises the Kubernetes client
// budget for seeding.
func (b *bench) managerFlags(m *mode, lifted bool) []string {
	flags := []string{"--leader-elect=false", "--watch-namespaces=" + m.ns, "--namespace=" + m.ns}
	if b.feat.driftDetection {
		flags = append(flags, "--drift-detection="+m.name)
	}
	if lifted && b.feat.kubeQPS {
		flags = append(flags, fmt.Sprintf("--kube-api-qps=%d", b.cfg.liftQPS), fmt.Sprintf("--kube-api-burst=%d", 2*b.cfg.liftQPS))
	}
	return append(flags, b.cfg.managerArgs...)
}

// waitConnection waits until the mode's AccountServer is Ready for its
// current generation.
func (b *bench) waitConnection(ctx context.Context, m *mode) error {
	var last string
	err := harness.Poll(ctx, 200*time.Millisecond, time.Minute, func() (bool, error) {
		if err := m.mgr.Alive(); err != nil {
			return false, err
		}
		as := &v1.AccountServer{}
		if err := b.k8s.Get(ctx, client.ObjectKey{Namespace: m.ns, Name: connectionName}, as); err != nil {
			return false, err
		}
		c := meta.FindStatusCondition(as.Status.Conditions, v1.ConditionReady)
		if c == nil {
			return false, nil
		}
		last = c.Reason + ": " + c.Message
		return c.Status == metav1.ConditionTrue && as.Status.ObservedGeneration == as.Generation, nil
	})
	if err != nil {
		return fmt.Errorf("AccountServer %s/%s not Ready (%s): %w", m.ns, connectionName, last, err)
	}
	return nil
}

// setConnectionRate changes the requests/s of every mode's AccountServer
// and waits until the managers have taken it.
func (b *bench) setConnectionRate(ctx context.Context, rps float64) error {
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		as := &v1.AccountServer{}
		if err := b.k8s.Get(ctx, client.ObjectKey{Namespace: m.ns, Name: connectionName}, as); err != nil {
			return err
		}
		patch := client.MergeFrom(as.DeepCopy())
		as.Spec.RateLimit = rateLimit(rps)
		if err := b.k8s.Patch(ctx, as, patch); err != nil {
			return err
		}
		return b.waitConnection(ctx, m)
	})
}

// lift takes the limits off for seeding: no latency and no rate limit on
// the emulator, a high rate in the AccountServers.
func (b *bench) lift(ctx context.Context) error {
	for _, m := range b.modes {
		m.emu.SetFaults(emulator.Faults{})
	}
	return b.setConnectionRate(ctx, float64(b.cfg.liftRate))
}

// restore puts back the conditions every figure is measured under.
func (b *bench) restore(ctx context.Context) error {
	if err := b.setConnectionRate(ctx, b.cfg.rate); err != nil {
		return err
	}
	for _, m := range b.modes {
		m.emu.SetFaults(emulator.Faults{Latency: emulator.Duration(b.cfg.latency), RateLimit: b.cfg.rate})
	}
	return nil
}

// restartManagers stops every manager and starts it again with flags.
func (b *bench) restartManagers(ctx context.Context, lifted bool) error {
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		m.mgr.Stop()
		m.flags = b.managerFlags(m, lifted)
		return m.mgr.Start(ctx, m.flags)
	})
}

// unstick wakes the mode's objects that wait for their AccountServer
// although it is Ready: the operator sets WaitingForAccountServer while a
// connection is being re-checked after a spec change (the benchmark changes
// the rate limit to seed fast) and is woken when it is Ready again, but an
// object whose status had not reached the manager's cache by then is never
// woken. The benchmark pauses and unpauses such objects (what a user would
// do) and records them, so the run goes on and the results say so.
func (b *bench) unstick(ctx context.Context, m *mode, step string) error {
	stuck := b.track.notReadyFor(m.ns, "WaitingForAccountServer")
	if len(stuck) == 0 {
		return nil
	}
	as := &v1.AccountServer{}
	if err := b.k8s.Get(ctx, client.ObjectKey{Namespace: m.ns, Name: connectionName}, as); err != nil {
		return err
	}
	if !meta.IsStatusConditionTrue(as.Status.Conditions, v1.ConditionReady) || as.Status.ObservedGeneration != as.Generation {
		return nil // really waiting
	}
	n := 0
	var names []string
	for kind, objs := range stuck {
		for _, name := range objs {
			var o client.Object
			switch kind {
			case kindTenant:
				o = &v1.Tenant{}
			case kindUser:
				o = &v1.User{}
			default:
				o = &v1.OfferingItemQuota{}
			}
			o.SetNamespace(m.ns)
			o.SetName(name)
			for _, patch := range []string{`{"metadata":{"annotations":{"` + v1.AnnotationPaused + `":"true"}}}`, `{"metadata":{"annotations":{"` + v1.AnnotationPaused + `":null}}}`} {
				if err := b.k8s.Patch(ctx, o, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
					return fmt.Errorf("waking %s %s: %w", kind, name, err)
				}
			}
			n++
			if len(names) < 5 {
				names = append(names, kind+" "+name)
			}
		}
	}
	b.logf("WARNING: [%s] %s: %d objects waited for AccountServer %s although it is Ready (never woken after the connection's rate limit changed); paused and unpaused them: %s",
		m.name, step, n, connectionName, strings.Join(names, ", "))
	m.kicks = append(m.kicks, fmt.Sprintf("%s: %d (%s)", step, n, strings.Join(names, ", ")))
	return nil
}

// quiesce waits until no manager has anything queued or running, seen
// three times in a row, for at most timeout (a poll mode busy with its
// resyncs may never be quiet; then it goes on with a note).
func (b *bench) quiesce(ctx context.Context, label string, timeout time.Duration) error {
	return b.forModes(ctx, func(ctx context.Context, m *mode) error {
		quiet := 0
		var last harness.Sample
		err := harness.Poll(ctx, 500*time.Millisecond, timeout, func() (bool, error) {
			if err := m.mgr.Alive(); err != nil {
				return false, err
			}
			s, err := m.mgr.Sample(ctx)
			if err != nil {
				return false, err
			}
			last = s
			if s.Queued == 0 && s.Active == 0 {
				quiet++
			} else {
				quiet = 0
			}
			return quiet >= 3, nil
		})
		if err != nil && ctx.Err() == nil && m.mgr.Alive() == nil {
			b.logf("[%s] %s: still busy after %s (%.0f queued, %.0f running); going on", m.name, label, timeout, last.Queued, last.Active)
			return nil
		}
		return err
	})
}

// forModes runs fn for every mode at once and returns the first error;
// the other modes' work is cancelled then.
func (b *bench) forModes(ctx context.Context, fn func(context.Context, *mode) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(b.modes))
	var wg sync.WaitGroup
	for i, m := range b.modes {
		wg.Go(func() {
			if err := fn(ctx, m); err != nil {
				errs[i] = fmt.Errorf("%s: %w", m.name, err)
				cancel()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

// close stops the managers, the emulator and the control plane.
func (b *bench) close() {
	b.closeOnce.Do(func() {
		var wg sync.WaitGroup
		for _, m := range b.modes {
			wg.Go(m.mgr.Kill)
		}
		wg.Wait()
		if b.stopCache != nil {
			b.stopCache()
		}
		for _, s := range b.servers {
			_ = s.Close()
		}
		if b.control != nil {
			if err := b.control.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "bench: stopping the control plane:", err)
			}
		}
	})
}

// showLogs prints the end of every manager's latest log.
func (b *bench) showLogs(w io.Writer) {
	for _, m := range b.modes {
		path, tail := m.mgr.Tail(40)
		if path == "" {
			continue
		}
		fmt.Fprintf(w, "\n--- last lines of %s ---\n%s\n", path, tail)
	}
}

// requests is the emulator's log of what the mode's client sent in
// [from, to).
func (b *bench) requests(m *mode, from, to time.Time) reqLog {
	var out reqLog
	for _, r := range m.emu.Requests() {
		if r.Client == m.clientID && !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

// timing records how long the emulator takes to answer each of a mode's
// requests, its latency fault aside: its store has one lock, and some
// answers cost time in the number of tenants it holds, which every other
// request of the mode then waits for.
type timing struct {
	mu   sync.Mutex
	recs []timed
}

type timed struct {
	at   time.Time
	took time.Duration
}

func (t *timing) wrap(h *emulator.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		if !strings.HasPrefix(r.URL.Path, "/api/2/") {
			return
		}
		took := time.Since(start) - time.Duration(h.Faults().Latency)
		t.mu.Lock()
		t.recs = append(t.recs, timed{at: start, took: took})
		t.mu.Unlock()
	})
}

// in returns the p99 and the longest time the emulator took to answer in
// [from, to).
func (t *timing) in(from, to time.Time) (p99, longest time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var vs []float64
	for _, r := range t.recs {
		if !r.at.Before(from) && r.at.Before(to) {
			vs = append(vs, r.took.Seconds())
			longest = max(longest, r.took)
		}
	}
	if len(vs) == 0 {
		return 0, 0
	}
	return time.Duration(percentile(vs, 99) * float64(time.Second)), longest
}
