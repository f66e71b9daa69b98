// Command manager runs the tenant-operator controllers.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"runtime/debug"
	"strings"
	"time"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// defaultGCPercent is the manager's GOGC. The heap of a manager is mostly
// its cache, which lives as long as the process: with Go's default of 100
// the heap grows to twice the cache before each collection. An operator
// idles most of the time, so memory is worth more than the collector's
// CPU. Measured by make bench while 10,000 users were adopted beside
// 10,000 tenants: peak RSS 170 MiB at 30 (175-240 MiB at 50, about 250 at
// 100), with the collector at 3% of the manager's CPU time (2% at 50).
const defaultGCPercent = 30

func main() {
	var (
		metricsAddr, probeAddr, pprofAddr, namespace, watchNamespaces, driftDetection string
		defaultResync, defaultDrift                                                   time.Duration
		enableLeaderElection, secureMetrics, enableHTTP2                              bool
		kubeQPS                                                                       float64
		kubeBurst, gcPercent                                                          int
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address the metrics endpoint binds to, e.g. :8443 (https) or :8080 (http); 0 turns it off.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.StringVar(&pprofAddr, "pprof-bind-address", "0", "Address Go's pprof endpoints (/debug/pprof/, plain http, no authentication) bind to, e.g. 127.0.0.1:6060; 0 turns them off.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false, "Elect a leader, so only one replica reconciles at a time.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over https with authentication and authorization.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Serve HTTP/2 on the metrics and webhook servers (off against HTTP/2 rapid-reset attacks).")
	flag.StringVar(&namespace, "namespace", envOr("POD_NAMESPACE", operator.DefaultNamespace), "Namespace the operator runs in; a ClusterAccountServer's Secret is read from it by default.")
	flag.StringVar(&driftDetection, "drift-detection", "watch", "How drift made on the server is found: watch (each connection lists what changed every driftInterval, and objects are read in batches) or poll (each object reads itself every resyncInterval).")
	flag.DurationVar(&defaultDrift, "default-drift-interval", 30*time.Second, "How often a connection's remote watch asks the server what changed, for connections whose spec sets no driftInterval.")
	flag.DurationVar(&defaultResync, "default-resync-interval", 0, "How often each object reads its remote object by itself, for connections whose spec sets no resyncInterval (default 10h with --drift-detection=watch, a safety net; 10m with poll).")
	flag.Float64Var(&kubeQPS, "kube-api-qps", 50, "Steady rate of the manager's requests to the Kubernetes API server.")
	flag.IntVar(&kubeBurst, "kube-api-burst", 100, "Burst of the manager's requests to the Kubernetes API server.")
	flag.IntVar(&gcPercent, "gc-percent", defaultGCPercent, "Go's GOGC for the manager: how far the heap may grow past what is in use before the garbage collector runs. Lower keeps less memory at the cost of CPU; the environment's GOGC, when set, wins.")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces whose objects the operator watches; empty watches all. The operator's own namespace is always added, and cluster-scoped kinds are watched regardless.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")
	if _, set := os.LookupEnv("GOGC"); !set {
		if gcPercent < 1 {
			log.Error(nil, "--gc-percent must be positive", "value", gcPercent)
			os.Exit(1)
		}
		debug.SetGCPercent(gcPercent)
	}

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, TLSOpts: tlsOpts}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	if driftDetection != "watch" && driftDetection != "poll" {
		log.Error(nil, "--drift-detection must be watch or poll", "value", driftDetection)
		os.Exit(1)
	}
	if defaultResync != 0 && defaultResync < 10*time.Second {
		log.Error(nil, "--default-resync-interval must be at least 10s", "value", defaultResync.String())
		os.Exit(1)
	}
	if defaultDrift < 5*time.Second {
		log.Error(nil, "--default-drift-interval must be at least 5s", "value", defaultDrift.String())
		os.Exit(1)
	}
	if kubeQPS <= 0 || kubeBurst < 1 {
		log.Error(nil, "--kube-api-qps and --kube-api-burst must be positive")
		os.Exit(1)
	}
	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(kubeQPS), kubeBurst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 operator.NewScheme(),
		Metrics:                metricsOpts,
		WebhookServer:          webhook.NewServer(webhook.Options{TLSOpts: tlsOpts}),
		HealthProbeBindAddress: probeAddr,
		PprofBindAddress:       pprofAddr,
		LeaderElection:         enableLeaderElection,
		LeaderElectionID:       "tenant-operator.accounts.tenant-operator.io",
		// The lease lives in the operator's namespace: in a pod it is the
		// pod's, outside a cluster --namespace says it (controller-runtime
		// would otherwise look for a service account namespace and exit).
		LeaderElectionNamespace: namespace,
		// A stopping leader hands over at once instead of after the lease
		// expires; it exits right after, so nothing runs on without it.
		LeaderElectionReleaseOnCancel: true,
		Cache:                         operator.CacheOptions(splitList(watchNamespaces), namespace),
		MapperProvider:                operator.NewRESTMapper,
	})
	if err != nil {
		log.Error(err, "unable to create manager")
		os.Exit(1)
	}
	if err := operator.Setup(mgr, operator.Options{Namespace: namespace, Poll: driftDetection == "poll",
		DefaultResyncInterval: defaultResync, DefaultDriftInterval: defaultDrift}); err != nil {
		log.Error(err, "unable to set up controllers")
		os.Exit(1)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up health check")
		os.Exit(1)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		log.Error(err, "unable to set up ready check")
		os.Exit(1)
	}

	log.Info("starting manager")
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		log.Error(err, "manager stopped with an error")
		os.Exit(1)
	}
}

// splitList splits a comma-separated list, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
