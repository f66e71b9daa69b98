package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// Names of the circuit breaker metrics.
const (
	CircuitStateMetricName = "tenant_operator_connection_circuit_state"
	CircuitOpensMetricName = "tenant_operator_connection_circuit_opens_total"
)

// Labelled by connection ("ClusterAccountServer/name",
// "AccountServer/namespace/name"): a few series per connection object.
var (
	circuitState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: CircuitStateMetricName,
		Help: "State of each connection's circuit breaker: 1 for the state it is in (closed, open, half-open), 0 for the others.",
	}, []string{"connection", "state"})

	circuitOpens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: CircuitOpensMetricName,
		Help: "Times each connection's circuit breaker opened because the account server stopped answering (closed to open).",
	}, []string{"connection"})
)

func init() {
	crmetrics.Registry.MustRegister(circuitState, circuitOpens)
}

// SetCircuit records that connection's circuit is in state: its state
// series is 1, the others 0. A change from closed to open counts as an
// opening.
func SetCircuit(connection string, from, to accountserver.CircuitState) {
	for _, s := range accountserver.CircuitStates {
		v := 0.0
		if s == to {
			v = 1
		}
		circuitState.WithLabelValues(connection, s.String()).Set(v)
	}
	if from == accountserver.CircuitClosed && to == accountserver.CircuitOpen {
		circuitOpens.WithLabelValues(connection).Inc()
	}
}

// ForgetCircuit drops the series of a connection that is gone.
func ForgetCircuit(connection string) {
	circuitState.DeletePartialMatch(prometheus.Labels{"connection": connection})
	circuitOpens.DeleteLabelValues(connection)
}
