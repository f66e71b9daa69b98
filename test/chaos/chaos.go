package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	conn "github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/harness"
	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// leaseNamespace is where the managers of the failover keep their lease:
// the manager's --namespace default.
const leaseNamespace = operator.DefaultNamespace

type chaos struct {
	cfg   config
	out   io.Writer
	start time.Time
	seed  int64
	rng   *rand.Rand

	control    *envtest.Environment
	kubeconfig string
	k8s        client.Client
	track      *tracker
	stopCache  context.CancelFunc

	mu     sync.Mutex
	stages []*stage

	closeOnce sync.Once
}

// stage is one scenario's world: a namespace, an emulator with a partner
// tenant and an API client for the manager, reached through an endpoint
// the outage can take down, and the manager processes.
type stage struct {
	name, ns string
	emu      *emulator.Server
	ep       *endpoint
	adminSrv *http.Server
	admin    *accountserver.Client // the emulator's bootstrap client, on a listener of its own
	partner  string                // the tenant the manager's client acts in
	clientID string                // the manager's API client
	mgrs     []*harness.Manager
	flags    []string
	// ended says when the process that wrote each log died (SIGKILL or
	// stop): its pauses end there.
	endedMu sync.Mutex
	ended   map[string]time.Time
}

func newChaos(cfg config, out io.Writer) *chaos {
	seed := cfg.seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	return &chaos{cfg: cfg, out: out, start: time.Now(), seed: seed, rng: rand.New(rand.NewPCG(uint64(seed), 0))}
}

// logf prints a progress line with the time since the start.
func (c *chaos) logf(format string, args ...any) {
	d := time.Since(c.start).Truncate(time.Second)
	fmt.Fprintf(c.out, "[%02d:%02d] %s\n", int(d.Minutes()), int(d.Seconds())%60, fmt.Sprintf(format, args...))
}

func (c *chaos) vlogf(format string, args ...any) {
	if c.cfg.verbose {
		c.logf(format, args...)
	}
}

func stageNamespace(scenario string) string { return "chaos-" + scenario }

// setup builds the manager and starts the control plane and the tracker.
func (c *chaos) setup(ctx context.Context) error {
	cfg := c.cfg
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run through `make chaos`, which builds the control plane once and points at it")
	}
	// Nothing of the control plane goes to stdout.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	if err := os.MkdirAll(cfg.workDir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(cfg.workDir, "manager-*.log"))
	for _, f := range old {
		_ = os.Remove(f)
	}
	if cfg.build {
		c.logf("building %s", cfg.manager)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", cfg.manager, "./cmd")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building the manager: %w", err)
		}
	}
	c.logf("starting the control plane")
	cp, err := harness.StartControlPlane(cfg.workDir, "chaos-manager", "")
	if cp != nil {
		c.control = cp.Env
	}
	if err != nil {
		return err
	}
	c.kubeconfig, c.k8s = cp.Kubeconfig, cp.Client
	var namespaces []string
	for _, s := range cfg.scenarios {
		namespaces = append(namespaces, stageNamespace(s))
	}
	for _, ns := range append([]string{leaseNamespace}, namespaces...) {
		if err := c.k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	cacheCtx, cancel := context.WithCancel(ctx)
	c.stopCache = cancel
	c.track, err = startTracker(cacheCtx, cp.Unthrottled, namespaces)
	return err
}

// newStage makes a scenario's emulator, endpoint, partner tenant, API
// client, Secret and AccountServer; managers are the names of its manager
// processes (none started yet).
func (c *chaos) newStage(ctx context.Context, scenario string, managers ...string) (*stage, error) {
	st := &stage{name: scenario, ns: stageNamespace(scenario), ended: map[string]time.Time{}}
	st.emu = emulator.New(emulator.Options{
		Faults:          emulator.Faults{Latency: emulator.Duration(c.cfg.latency)},
		RequestLogLimit: 20_000_000,
		InstantReports:  true,
	})
	c.mu.Lock()
	c.stages = append(c.stages, st)
	c.mu.Unlock()
	st.ep = newEndpoint(st.emu)
	if err := st.ep.start(); err != nil {
		return nil, err
	}
	// The bootstrap client makes the partner and the manager's client, and
	// writes out of band, on a listener of its own that no outage touches;
	// faults are per emulator, so it meets the same ones.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	st.adminSrv = &http.Server{Handler: st.emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = st.adminSrv.Serve(l) }()
	boot := st.emu.Bootstrap()
	if st.admin, err = accountserver.New(accountserver.Config{
		URL: "http://" + l.Addr().String(), ClientID: boot.ClientID, ClientSecret: boot.ClientSecret,
		RequestsPerSecond: 1000, Burst: 1000, MaxAttempts: 10,
	}); err != nil {
		return nil, err
	}
	partner, err := st.admin.CreateTenant(ctx, accountserver.TenantCreate{Name: "chaos-" + scenario, ParentID: boot.TenantID, Kind: accountserver.KindPartner})
	if err != nil {
		return nil, fmt.Errorf("creating the partner: %w", err)
	}
	st.partner = partner.ID
	created, err := st.admin.CreateClient(ctx, accountserver.ClientCreate{
		Type: accountserver.ClientTypeAPI, TenantID: partner.ID, TokenEndpointAuthMethod: accountserver.AuthMethodSecretBasic,
		Data: accountserver.ClientData{ClientName: "tenant-operator chaos " + scenario},
	})
	if err != nil {
		return nil, fmt.Errorf("creating the API client: %w", err)
	}
	st.clientID = created.ClientID
	rate := int32(c.cfg.rate)
	for _, o := range []client.Object{
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: st.ns},
			StringData: map[string]string{conn.KeyClientID: created.ClientID, conn.KeyClientSecret: string(created.ClientSecret)},
		},
		&v1.AccountServer{
			ObjectMeta: metav1.ObjectMeta{Name: connectionName, Namespace: st.ns},
			Spec: v1.AccountServerSpec{
				URL:                  st.ep.url(),
				CredentialsSecretRef: v1.SecretReference{Name: secretName},
				RateLimit:            v1.RateLimit{RequestsPerSecond: rate, Burst: rate},
			},
		},
	} {
		if err := c.k8s.Create(ctx, o); err != nil {
			return nil, fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	st.flags = []string{
		"--leader-elect=false", "--namespace=" + st.ns, "--watch-namespaces=" + st.ns,
		// The time of every log line to the nanosecond: when a 429 arrived.
		"--zap-time-encoding=rfc3339nano",
		"--kube-api-qps=200", "--kube-api-burst=400",
	}
	for _, name := range managers {
		st.mgrs = append(st.mgrs, &harness.Manager{Name: name, Bin: c.cfg.manager, Kubeconfig: c.kubeconfig, LogDir: c.cfg.workDir})
	}
	return st, nil
}

// faults are the rollout's: 5xx, 429 with Retry-After, lost answers of
// committed writes.
func (c *chaos) faults() emulator.Faults {
	return emulator.Faults{
		Latency:             emulator.Duration(c.cfg.latency),
		ErrorRate:           c.cfg.errorRate,
		ThrottleRate:        c.cfg.throttleRate,
		RetryAfterSeconds:   c.cfg.retryAfter,
		DropAfterCommitRate: c.cfg.dropRate,
	}
}

func (c *chaos) calm() emulator.Faults {
	return emulator.Faults{Latency: emulator.Duration(c.cfg.latency)}
}

// kill SIGKILLs a manager and notes when its process was gone.
func (st *stage) kill(m *harness.Manager) time.Time {
	logs := m.Logs()
	m.Kill()
	at := time.Now()
	if len(logs) > 0 {
		st.endedMu.Lock()
		st.ended[logs[len(logs)-1]] = at
		st.endedMu.Unlock()
	}
	return at
}

// stop stops every manager of the stage.
func (st *stage) stop() {
	for _, m := range st.mgrs {
		logs := m.Logs()
		m.Stop()
		st.endedMu.Lock()
		if len(logs) > 0 {
			if _, ok := st.ended[logs[len(logs)-1]]; !ok {
				st.ended[logs[len(logs)-1]] = time.Now()
			}
		}
		st.endedMu.Unlock()
	}
}

// release stops everything of the stage but its analysis data.
func (st *stage) release() {
	st.stop()
	st.ep.stop()
	if st.adminSrv != nil {
		_ = st.adminSrv.Close()
	}
}

// requests is the emulator's log of what the stage's manager sent.
func (st *stage) requests() []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range st.emu.Requests() {
		if r.Client == st.clientID {
			out = append(out, r)
		}
	}
	return out
}

// waitConnection waits until the stage's AccountServer is Ready for its
// generation.
func (c *chaos) waitConnection(ctx context.Context, st *stage) error {
	var last string
	err := harness.Poll(ctx, 200*time.Millisecond, 2*time.Minute, func() (bool, error) {
		as := &v1.AccountServer{}
		if err := c.k8s.Get(ctx, client.ObjectKey{Namespace: st.ns, Name: connectionName}, as); err != nil {
			return false, err
		}
		cond := meta.FindStatusCondition(as.Status.Conditions, v1.ConditionReady)
		if cond == nil {
			return false, nil
		}
		last = cond.Reason + ": " + cond.Message
		return cond.Status == metav1.ConditionTrue && as.Status.ObservedGeneration == as.Generation, nil
	})
	if err != nil {
		return fmt.Errorf("AccountServer %s/%s not Ready (%s): %w", st.ns, connectionName, last, err)
	}
	return nil
}

// waitReady waits until want objects exist in the stage's namespace and
// all are Ready, for at most limit; alive names the managers that must
// stay up meanwhile. ok is false when the limit passed first.
func (c *chaos) waitReady(ctx context.Context, st *stage, want int, limit time.Duration, alive ...*harness.Manager) (readiness, bool, error) {
	var r readiness
	lastLog := time.Now()
	err := harness.Poll(ctx, 250*time.Millisecond, limit, func() (bool, error) {
		if err := allAlive(alive); err != nil {
			return false, err
		}
		r = c.track.readiness(st.ns)
		if time.Since(lastLog) > 30*time.Second {
			lastLog = time.Now()
			c.logf("[%s] %d/%d Ready", st.name, r.ready, want)
		}
		return r.total >= want && r.ready == r.total, nil
	})
	if err != nil && ctx.Err() == nil && allAlive(alive) == nil {
		// The limit passed: a figure, not a failure of the run.
		return r, false, nil
	}
	return r, err == nil, err
}

func allAlive(ms []*harness.Manager) error {
	for _, m := range ms {
		if err := m.Alive(); err != nil {
			return err
		}
	}
	return nil
}

// underFire kills the stage's (only) manager kills times, each a random
// time between killMin and killMax after it was ready again, and starts
// it again at once. It returns when each process was gone.
func (c *chaos) underFire(ctx context.Context, st *stage, kills int) ([]time.Time, error) {
	m := st.mgrs[0]
	var killed []time.Time
	for i := range kills {
		gap := c.cfg.killMin + time.Duration(c.rng.Int64N(int64(c.cfg.killMax-c.cfg.killMin)+1))
		t := time.NewTimer(gap)
		select {
		case <-ctx.Done():
			t.Stop()
			return killed, ctx.Err()
		case <-t.C:
		}
		if err := m.Alive(); err != nil {
			return killed, fmt.Errorf("before kill %d: %w", i+1, err)
		}
		killed = append(killed, st.kill(m))
		if (i+1)%10 == 0 || c.cfg.verbose {
			r := c.track.readiness(st.ns)
			c.logf("[%s] kill %d/%d (%d/%d objects Ready)", st.name, i+1, kills, r.ready, r.total)
		}
		if err := m.Start(ctx, st.flags); err != nil {
			return killed, fmt.Errorf("restarting after kill %d: %w", i+1, err)
		}
	}
	return killed, nil
}

// owned is the set of remote ids the stage's objects hold in status.id.
func (c *chaos) owned(ctx context.Context, st *stage) (map[string]bool, error) {
	out := map[string]bool{}
	var ts v1.TenantList
	if err := c.k8s.List(ctx, &ts, client.InNamespace(st.ns)); err != nil {
		return nil, err
	}
	for _, t := range ts.Items {
		if t.Status.ID != "" {
			out[t.Status.ID] = true
		}
	}
	var us v1.UserList
	if err := c.k8s.List(ctx, &us, client.InNamespace(st.ns)); err != nil {
		return nil, err
	}
	for _, u := range us.Items {
		if u.Status.ID != "" {
			out[u.Status.ID] = true
		}
	}
	return out, nil
}

// twinsAndLeaks reads the stage's remote objects.
func (c *chaos) twinsAndLeaks(ctx context.Context, st *stage) ([]twin, []remoteObject, error) {
	owned, err := c.owned(ctx, st)
	if err != nil {
		return nil, nil, err
	}
	objs := remoteObjects(st.partner, st.emu.Tenants(), st.emu.Users())
	return findTwins(objs), findLeaks(objs, owned), nil
}

// retryAfter finds the requests the stage's manager sent while a 429 had
// asked it to wait: with the slack and strictly.
func (c *chaos) retryAfter(st *stage, reqs []emulator.RequestRecord) (pauses []pause, loose, strict []violation, err error) {
	st.endedMu.Lock()
	defer st.endedMu.Unlock()
	for _, m := range st.mgrs {
		for _, path := range m.Logs() {
			f, err := os.Open(path)
			if err != nil {
				return nil, nil, nil, err
			}
			ps, err := parsePauses(f, st.ended[path])
			_ = f.Close()
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", path, err)
			}
			pauses = append(pauses, ps...)
		}
	}
	return pauses, retryAfterViolations(pauses, reqs, c.cfg.slack), retryAfterViolations(pauses, reqs, 0), nil
}

// close stops the managers, the emulators and the control plane.
func (c *chaos) close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		stages := c.stages
		c.mu.Unlock()
		var wg sync.WaitGroup
		for _, st := range stages {
			for _, m := range st.mgrs {
				wg.Go(m.Kill)
			}
		}
		wg.Wait()
		for _, st := range stages {
			st.release()
		}
		if c.stopCache != nil {
			c.stopCache()
		}
		if c.control != nil {
			if err := c.control.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "chaos: stopping the control plane:", err)
			}
		}
	})
}

// showLogs prints the end of every manager's latest log.
func (c *chaos) showLogs(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stages {
		for _, m := range st.mgrs {
			path, tail := m.Tail(40)
			if path == "" {
				continue
			}
			fmt.Fprintf(w, "\n--- last lines of %s ---\n%s\n", path, tail)
		}
	}
}

// notReadyText names a few objects that are not Ready.
func notReadyText(r readiness) string {
	if len(r.notReady) == 0 {
		return ""
	}
	names := r.notReady
	if len(names) > 3 {
		names = names[:3]
	}
	return strings.Join(names, "; ")
}
