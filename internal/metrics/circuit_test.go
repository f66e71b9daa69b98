package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/metrics"
)

// TestCircuitMetrics: the state gauge is one-hot per connection, an opening
// counts once per outage (not per failed probe), and a forgotten connection
// leaves no series.
func TestCircuitMetrics(t *testing.T) {
	const conn = "ClusterAccountServer/metrics-test"
	const (
		closed   = accountserver.CircuitClosed
		open     = accountserver.CircuitOpen
		halfOpen = accountserver.CircuitHalfOpen
	)
	// An outage with two failed probes, then the third answered; then a
	// second outage.
	for _, c := range [][2]accountserver.CircuitState{
		{closed, closed}, {closed, open}, {open, halfOpen}, {halfOpen, open}, {open, halfOpen}, {halfOpen, open},
		{open, halfOpen}, {halfOpen, closed}, {closed, open},
	} {
		metrics.SetCircuit(conn, c[0], c[1])
	}
	want := `
# HELP tenant_operator_connection_circuit_opens_total Times each connection's circuit breaker opened because the account server stopped answering (closed to open).
# TYPE tenant_operator_connection_circuit_opens_total counter
tenant_operator_connection_circuit_opens_total{connection="ClusterAccountServer/metrics-test"} 2
# HELP tenant_operator_connection_circuit_state State of each connection's circuit breaker: 1 for the state it is in (closed, open, half-open), 0 for the others.
# TYPE tenant_operator_connection_circuit_state gauge
tenant_operator_connection_circuit_state{connection="ClusterAccountServer/metrics-test",state="closed"} 0
tenant_operator_connection_circuit_state{connection="ClusterAccountServer/metrics-test",state="half-open"} 0
tenant_operator_connection_circuit_state{connection="ClusterAccountServer/metrics-test",state="open"} 1
`
	if err := testutil.GatherAndCompare(crmetrics.Registry, strings.NewReader(want), metrics.CircuitStateMetricName, metrics.CircuitOpensMetricName); err != nil {
		t.Error(err)
	}
	metrics.ForgetCircuit(conn)
	if err := testutil.GatherAndCompare(crmetrics.Registry, strings.NewReader(""), metrics.CircuitStateMetricName, metrics.CircuitOpensMetricName); err != nil {
		t.Errorf("series left after ForgetCircuit: %v", err)
	}
}
