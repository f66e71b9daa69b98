// Command devenv runs the whole operator on one machine without a cluster:
// an envtest control plane built from the cached binaries with a
// kube-controller-manager beside it, the CRDs, the manager in the same
// process, and the samples, and shows the objects converge. It is what
// `make demo` runs. It stops everything it started, and removes its
// kubeconfig, on Ctrl-C, SIGTERM, or when the process that started it dies;
// if it is killed outright, a guard process does that cleanup.
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
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tenant-operator/tenant-operator/internal/operator"
)

type options struct {
	kubeconfig    string
	crdDir        string
	samples       string
	manager       bool
	exitWhenReady bool
	timeout       time.Duration
	verbose       bool
	emulatorAddr  string
}

func main() {
	opts := options{}
	fs := flag.NewFlagSet("devenv", flag.ExitOnError)
	fs.StringVar(&opts.kubeconfig, "kubeconfig", filepath.Join("bin", "demo", "kubeconfig"), "Where to write the kubeconfig of the local control plane.")
	fs.StringVar(&opts.crdDir, "crds", filepath.Join("config", "crd", "bases"), "Directory of the CRDs to install.")
	fs.StringVar(&opts.samples, "samples", filepath.Join("config", "samples"), "Directory of manifests to apply once the control plane is up, or 'none'.")
	fs.BoolVar(&opts.manager, "manager", true, "Run the operator's manager in this process; false leaves it out so another manager (e.g. bin/manager) can be run against the control plane.")
	fs.BoolVar(&opts.exitWhenReady, "exit-when-ready", false, "Exit 0 once every applied object of the accounts group is Ready (non-zero after --timeout) instead of running until interrupted.")
	fs.DurationVar(&opts.timeout, "timeout", 5*time.Minute, "With --exit-when-ready: how long to wait for Ready.")
	fs.BoolVar(&opts.verbose, "v", false, "Show the manager's and the control plane's logs.")
	fs.StringVar(&opts.emulatorAddr, "emulator-addr", "127.0.0.1:8080", "Address of the in-process account server emulator, plain HTTP (port 0 picks a free one).")
	if os.Getenv(guardEnv) != "" {
		runGuard(os.Stdin)
		return
	}
	_ = fs.Parse(os.Args[1:])

	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	ctx, cancel := context.WithCancelCause(sigCtx)
	defer cancel(nil)
	watchParent(ctx, cancel, 250*time.Millisecond)
	go func() {
		<-ctx.Done()
		if errors.Is(context.Cause(ctx), errParentGone) {
			fmt.Fprintln(os.Stdout, "devenv:", errParentGone.Error()+"; stopping")
		}
	}()
	if err := run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devenv:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, opts options, out io.Writer) (err error) {
	logOut := io.Discard
	if opts.verbose {
		logOut = os.Stderr
	}
	ctrl.SetLogger(zap.New(zap.WriteTo(logOut)))

	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return errors.New("KUBEBUILDER_ASSETS is not set: run through `make demo`, which builds the control plane binaries once and points at them")
	}
	g, err := startGuard()
	if err != nil {
		fmt.Fprintln(out, "devenv: no guard process (the control plane would outlive a SIGKILL of devenv):", err)
	}
	defer g.done()

	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{opts.crdDir},
		ErrorIfCRDPathMissing: true,
	}
	fmt.Fprintln(out, "devenv: starting the control plane (etcd, kube-apiserver, kube-controller-manager)")
	cfg, err := env.Start()
	if err != nil {
		return fmt.Errorf("starting the control plane: %w", err)
	}
	guardControlPlane(g, env)
	defer func() {
		fmt.Fprintln(out, "devenv: stopping the control plane")
		if stopErr := env.Stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stopping the control plane: %w", stopErr)
		}
	}()

	work, err := os.MkdirTemp("", "devenv-")
	if err != nil {
		return err
	}
	g.remove(work)
	defer os.RemoveAll(work)
	cm, err := startControllerManager(env, work, logOut)
	if err != nil {
		return err
	}
	g.killGroup(cm.pid())
	defer func() {
		if stopErr := cm.stop(); stopErr != nil && err == nil {
			err = fmt.Errorf("stopping kube-controller-manager: %w", stopErr)
		}
	}()

	g.remove(absPath(opts.kubeconfig))
	defer os.Remove(opts.kubeconfig)
	if err := writeKubeconfig(env, opts.kubeconfig); err != nil {
		return err
	}
	if err := cm.running(); err != nil {
		return err
	}
	fmt.Fprintf(out, "devenv: control plane at %s\ndevenv: kubeconfig written; use it with\n\n    export KUBECONFIG=%s\n    kubectl get crds\n    kubectl get accounts -A\n\n", cfg.Host, absPath(opts.kubeconfig))

	k8s, err := client.New(cfg, client.Options{Scheme: operator.NewScheme()})
	if err != nil {
		return err
	}
	if err := ensureNamespace(ctx, k8s, operator.DefaultNamespace); err != nil {
		return err
	}

	emu, stopEmulator, err := startEmulator(opts.emulatorAddr, out)
	if err != nil {
		return err
	}
	defer stopEmulator()
	emulatorConn, err := createEmulatorConnection(ctx, k8s, emu)
	if err != nil {
		return err
	}

	mgrErr := make(chan error, 1)
	mgrCtx, stopMgr := context.WithCancel(ctx)
	defer func() {
		stopMgr()
		if opts.manager {
			if e := <-mgrErr; e != nil && err == nil {
				err = fmt.Errorf("manager: %w", e)
			}
		}
	}()
	if opts.manager {
		if err := startManager(mgrCtx, cfg, mgrErr); err != nil {
			return err
		}
		fmt.Fprintln(out, "devenv: manager running in this process")
	} else {
		fmt.Fprintln(out, "devenv: manager left out (--manager=false); start one against the kubeconfig")
	}

	applied := []client.Object{emulatorConn}
	if opts.samples != "none" && opts.samples != "" {
		samples, err := applyDir(ctx, k8s, opts.samples, out)
		if err != nil {
			return err
		}
		applied = append(applied, samples...)
	}

	w := newReadyWatcher(k8s, applied, out)
	if opts.exitWhenReady {
		waitCtx, cancel := context.WithTimeout(ctx, opts.timeout)
		defer cancel()
		if err := w.waitAllReady(waitCtx); err != nil {
			return err
		}
		fmt.Fprintln(out, "devenv: every applied object is Ready")
		return printTree(ctx, k8s, applied, out)
	}
	fmt.Fprintln(out, "devenv: running; press Ctrl-C to stop")
	w.onAllReady = func() {
		if err := printTree(ctx, k8s, applied, out); err != nil {
			fmt.Fprintln(out, "devenv:", err)
		}
	}
	w.follow(ctx)
	return nil
}

// guardControlPlane tells the guard about envtest's etcd and kube-apiserver
// (the children of devenv other than the guard, each in a process group of
// its own) and their temporary directories.
func guardControlPlane(g *guard, env *envtest.Environment) {
	if g == nil {
		return
	}
	for _, pid := range childrenOf(os.Getpid()) {
		if pid != g.cmd.Process.Pid {
			g.killGroup(pid)
		}
	}
	if api := env.ControlPlane.APIServer; api != nil && api.CertDir != "" {
		g.remove(api.CertDir)
	}
	if etcd := env.ControlPlane.Etcd; etcd != nil && etcd.DataDir != "" {
		g.remove(etcd.DataDir)
	}
}

func startManager(ctx context.Context, cfg *rest.Config, done chan<- error) error {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 operator.NewScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  operator.CacheOptions(nil, ""),
		MapperProvider:         operator.NewRESTMapper,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := operator.Setup(mgr, operator.Options{Namespace: operator.DefaultNamespace}); err != nil {
		return fmt.Errorf("setting up the controllers: %w", err)
	}
	go func() { done <- mgr.Start(ctx) }()
	return nil
}

// writeKubeconfig adds an administrator to the control plane and writes a
// kubeconfig for it, so kubectl and a separately started manager can connect.
func writeKubeconfig(env *envtest.Environment, path string) error {
	user, err := env.AddUser(envtest.User{Name: "devenv-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("adding the kubeconfig user: %w", err)
	}
	data, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("rendering the kubeconfig: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func ensureNamespace(ctx context.Context, k8s client.Client, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := k8s.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
