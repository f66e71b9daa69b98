package accountserver_test

import (
	"regexp"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

var uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func gather(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

func counterValue(f *dto.MetricFamily, labels map[string]string) float64 {
	if f == nil {
		return 0
	}
	sum := 0.0
next:
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
				continue next
			}
		}
		sum += m.GetCounter().GetValue()
	}
	return sum
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, withConfig(func(c *accountserver.Config) {
		c.RequestsPerSecond = 1
		c.Burst = 1
		c.Connection = "AccountServer/team-a/eu2"
	}))
	e.clk.autoAdvance(t)
	before := gather(t)
	ctx := ctxFor(t)
	for range 3 {
		if _, err := e.client.GetTenant(ctx, e.boot.TenantID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.client.GetTenant(ctx, "0b7e3b1c-2f0c-4a59-8d9e-5f1f2b3c4d5e"); !accountserver.IsNotFound(err) {
		t.Fatal(err)
	}
	after := gather(t)

	delta := func(name string, labels map[string]string) float64 {
		return counterValue(after[name], labels) - counterValue(before[name], labels)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"tenant_operator_accountserver_requests_total", map[string]string{"connection": "AccountServer/team-a/eu2", "operation": "GET /tenants/{id}", "code": "200"}, 3},
		{"tenant_operator_accountserver_requests_total", map[string]string{"connection": "AccountServer/team-a/eu2", "operation": "GET /tenants/{id}", "code": "404"}, 1},
		{"tenant_operator_accountserver_requests_total", map[string]string{"connection": "AccountServer/team-a/eu2", "operation": "POST /idp/token", "code": "200"}, 1},
		{"tenant_operator_accountserver_requests_total", map[string]string{"connection": "AccountServer/team-b/eu2"}, 0},
		{"tenant_operator_accountserver_token_refreshes_total", map[string]string{"result": "success"}, 1},
	}
	for _, c := range checks {
		if got := delta(c.name, c.labels); got != c.want {
			t.Errorf("%s%v grew by %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// 5 requests at 1/s with burst 1: 4 seconds waited for the budget.
	if got := delta("tenant_operator_accountserver_rate_limiter_wait_seconds_total", map[string]string{"connection": "AccountServer/team-a/eu2"}); got < 3.99 {
		t.Errorf("rate limiter wait grew by %vs, want at least 4s", got)
	}
	h := after["tenant_operator_accountserver_request_duration_seconds"]
	if h == nil || h.GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("request duration histogram missing")
	}
	for name, f := range after {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if uuidRE.MatchString(l.GetValue()) {
					t.Errorf("%s has an ID in label %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}
