package remotewatch

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Labelled by connection ("ClusterAccountServer/name",
// "AccountServer/namespace/name") and kind: a handful of series per
// connection, never one per object.
var (
	polls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_remote_watch_polls_total",
		Help: "Lists of remote changes the remote watch made, by connection, kind and result (ok, error).",
	}, []string{"connection", "kind", "result"})

	changes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_remote_watch_changes_total",
		Help: "Changed remote objects the remote watch listed, managed or not, by connection and kind.",
	}, []string{"connection", "kind"})

	wakes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_remote_watch_wakes_total",
		Help: "Objects the remote watch woke because their remote object changed, by connection and kind.",
	}, []string{"connection", "kind"})
)

func init() {
	metrics.Registry.MustRegister(polls, changes, wakes)
}
