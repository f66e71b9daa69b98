package accountserver

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Operation labels are the method and the templated path ("GET /tenants/{id}"), never a raw ID,
// so the series count stays bounded by the number of endpoints. Connection labels name the
// connection object ("AccountServer/<namespace>/<name>", "ClusterAccountServer/<name>"), so the
// series count also grows with the number of connections, which is small.
var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_accountserver_requests_total",
		Help: "Requests sent to the account server, by connection, operation and HTTP status code (\"error\" when no answer arrived).",
	}, []string{"connection", "operation", "code"})

	requestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tenant_operator_accountserver_request_duration_seconds",
		Help:    "Latency of account server requests, by operation.",
		Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
	}, []string{"operation"})

	rateLimiterWait = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_accountserver_rate_limiter_wait_seconds_total",
		Help: "Time callers spent waiting for the connection's request budget or a server-requested pause (Retry-After), by connection.",
	}, []string{"connection"})

	tokenRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenant_operator_accountserver_token_refreshes_total",
		Help: "Access token requests to the account server, by result (success, error).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(requestsTotal, requestDuration, rateLimiterWait, tokenRefreshes)
}
