// Command manager runs the tenant-operator controllers.
package main

import (
	"crypto/tls"
	"flag"
	"os"
	"strings"
	"time"

	_ "k8s.io/client-go/plugin/pkg/client/auth"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/tenant-operator/tenant-operator/internal/operator"
)

func main() {
	var (
		metricsAddr, probeAddr, namespace, watchNamespaces string
		defaultResync                                      time.Duration
		enableLeaderElection, secureMetrics, enableHTTP2   bool
	)
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address the metrics endpoint binds to, e.g. :8443 (https) or :8080 (http); 0 turns it off.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address the health and readiness probes bind to.")
	flag.BoolVar(&enableLeaderElection, "leader-elect", false, "Elect a leader, so only one replica reconciles at a time.")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over https with authentication and authorization.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false, "Serve HTTP/2 on the metrics and webhook servers (off against HTTP/2 rapid-reset attacks).")
	flag.StringVar(&namespace, "namespace", envOr("POD_NAMESPACE", operator.DefaultNamespace), "Namespace the operator runs in; a ClusterAccountServer's Secret is read from it by default.")
	flag.DurationVar(&defaultResync, "default-resync-interval", 10*time.Minute, "How often objects are compared with the account server to find drift, for connections whose spec sets no resyncInterval.")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces whose objects the operator watches; empty watches all. The operator's own namespace is always added, and cluster-scoped kinds are watched regardless.")
	zapOpts := zap.Options{Development: false}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	var tlsOpts []func(*tls.Config)
	if !enableHTTP2 {
		tlsOpts = append(tlsOpts, func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} })
	}
	metricsOpts := metricsserver.Options{BindAddress: metricsAddr, SecureServing: secureMetrics, TLSOpts: tlsOpts}
	if secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                 operator.NewScheme(),
		Metrics:                metricsOpts,
		WebhookServer:          webhook.NewServer(webhook.Options{TLSOpts: tlsOpts}),
		HealthProbeBindAddress: probeAddr,
		LeaderElection:         enableLeaderElection,
		LeaderElectionID:       "tenant-operator.accounts.tenant-operator.io",
		Cache:                  cacheOptions(watchNamespaces, namespace),
	})
	if err != nil {
		log.Error(err, "unable to create manager")
		os.Exit(1)
	}
	if defaultResync < 10*time.Second {
		log.Error(nil, "--default-resync-interval must be at least 10s", "value", defaultResync.String())
		os.Exit(1)
	}
	if err := operator.Setup(mgr, operator.Options{Namespace: namespace, DefaultResyncInterval: defaultResync}); err != nil {
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

// cacheOptions restricts the manager's cache to the given comma-separated
// namespaces plus the operator's own (where a ClusterAccountServer's Secret
// lives). Empty means every namespace. Cluster-scoped kinds
// (ClusterAccountServer, Namespace) are cached cluster-wide either way.
func cacheOptions(watchNamespaces, ownNamespace string) cache.Options {
	namespaces := map[string]cache.Config{}
	for ns := range strings.SplitSeq(watchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces[ns] = cache.Config{}
		}
	}
	if len(namespaces) == 0 {
		return cache.Options{}
	}
	if ownNamespace != "" {
		namespaces[ownNamespace] = cache.Config{}
	}
	return cache.Options{DefaultNamespaces: namespaces}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
