package harness_test

import (
	"strings"
	"testing"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

func TestParseSample(t *testing.T) {
	text := `# HELP rest_client_requests_total Number of HTTP requests, partitioned by status code, method, and host.
# TYPE rest_client_requests_total counter
rest_client_requests_total{code="200",host="127.0.0.1:45011",method="GET"} 1234
rest_client_requests_total{code="200",host="127.0.0.1:45011",method="PATCH"} 17
rest_client_requests_total{code="201",host="127.0.0.1:45011",method="POST"} 3
rest_client_requests_total{code="409",host="127.0.0.1:45011",method="PUT"} 2
rest_client_requests_total{code="200",host="127.0.0.1:45011",method="DELETE"} 1e+00
rest_client_requests_total_other{method="PATCH"} 100
workqueue_adds_total{name="tenant"} 5
workqueue_depth{controller="tenant",name="tenant",priority=""} 3
workqueue_depth{controller="user",name="user",priority="-100"} 2
controller_runtime_active_workers{controller="tenant"} 4
controller_runtime_active_workers{controller="user"} 0
tenant_operator_accountserver_requests_total{code="200",operation="GET /tenants/{id}"} 5
tenant_operator_accountserver_requests_total{code="error",operation="POST /tenants"} 3
tenant_operator_accountserver_token_refreshes_total{result="success"} 1
tenant_operator_accountserver_rate_limiter_wait_seconds_total 12.5
`
	got, err := harness.ParseSample(strings.NewReader(text))
	want := harness.Sample{KubeWrites: 23, Queued: 5, Active: 4, ServerRequests: 9}
	if err != nil || got != want {
		t.Errorf("got %+v, %v; want %+v (writes: PATCH, POST, PUT and DELETE of rest_client_requests_total only; server requests: every answer and error, and the token requests)", got, err, want)
	}
}

func TestMemoryFromStatus(t *testing.T) {
	status := "Name:\tmanager\nVmPeak:\t 2000000 kB\nVmHWM:\t  102400 kB\nVmRSS:\t   51200 kB\nThreads:\t12\n"
	peak, cur, err := harness.MemoryFromStatus(strings.NewReader(status))
	if err != nil || peak != 100<<20 || cur != 50<<20 {
		t.Errorf("got peak %d, current %d, %v", peak, cur, err)
	}
	if _, _, err := harness.MemoryFromStatus(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("a status without VmHWM is an error")
	}
}
