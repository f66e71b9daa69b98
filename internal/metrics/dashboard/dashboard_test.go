// Package dashboard_test checks the Grafana dashboard the Helm chart ships
// (charts/tenant-operator/dashboards/tenant-operator.json): it has the shape
// Grafana loads, and every metric its queries name is one the manager
// serves.
package dashboard_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/metrics"

	// The manager's packages: importing them registers every metric they
	// export with controller-runtime's registry, as in the manager (the
	// account server client's, the remote watch's, controller-runtime's
	// reconcile and workqueue metrics).
	_ "github.com/tenant-operator/tenant-operator/internal/operator"
)

const (
	chartDir      = "../../../charts/tenant-operator"
	dashboardFile = "dashboards/tenant-operator.json"
	templateFile  = "templates/grafana-dashboard.yaml"
)

type target struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"`
}

type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

func load(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(chartDir, dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s is not valid JSON: %v", dashboardFile, err)
	}
	return d
}

var labelValues = regexp.MustCompile(`^\s*label_values\((.*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$`)

// queries are every PromQL expression of the dashboard, with where it is:
// the panels' targets and the query variables.
func queries(d dashboard) map[string]string {
	out := map[string]string{}
	var walk func(ps []panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out["panel "+p.Title+" "+tg.RefID] = tg.Expr
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var s string
			if json.Unmarshal(v.Query, &s) == nil {
				q.Query = s
			}
		}
		// label_values(<series selector>, <label>): only the selector is PromQL.
		if m := labelValues.FindStringSubmatch(q.Query); m != nil {
			q.Query = m[1]
		}
		out["variable "+v.Name] = q.Query
	}
	return out
}

// TestDashboardShape: a dashboard with a title and uid, a Prometheus data
// source variable every panel uses, and panels laid out on Grafana's grid of
// 24 columns, each with at least one query; rows hold no queries.
func TestDashboardShape(t *testing.T) {
	d := load(t)
	if d.Title == "" || d.UID == "" {
		t.Errorf("title %q, uid %q: both are needed", d.Title, d.UID)
	}
	dsVar := ""
	for _, v := range d.Templating.List {
		if v.Type == "datasource" && string(v.Query) == `"prometheus"` {
			dsVar = v.Name
		}
	}
	if dsVar == "" {
		t.Fatal("no data source variable of type prometheus in templating.list")
	}
	if len(d.Panels) < 5 {
		t.Fatalf("only %d panels", len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Title == "" || p.Type == "" {
			t.Errorf("panel %d: no title or type", p.ID)
		}
		if g := p.GridPos; g == nil || g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is not on the 24-column grid", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			if len(p.Targets) > 0 {
				t.Errorf("row %q has queries", p.Title)
			}
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${"+dsVar+"}" {
			t.Errorf("panel %q: datasource %+v, want the variable ${%s}", p.Title, p.Datasource, dsVar)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q, target %s: no expr", p.Title, tg.RefID)
			}
		}
	}
}

// TestChartLoadsDashboard: the chart's ConfigMap template loads the file
// this test checks, so what is checked is what is shipped.
func TestChartLoadsDashboard(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartDir, templateFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `.Files.Get "`+dashboardFile+`"`) {
		t.Errorf("%s does not load %s", templateFile, dashboardFile)
	}
}

// promqlWords are the PromQL keywords that look like identifiers.
var promqlWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "Inf": true, "NaN": true, "inf": true, "nan": true,
}

var (
	stringLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	matchers   = regexp.MustCompile(`\{[^{}]*\}`)
	ranges     = regexp.MustCompile(`\[[^\]]*\]`)
	grouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	// Numbers and durations (0.95, 1e3, 5m, 1h30m).
	number = regexp.MustCompile(`\b[0-9][0-9a-zA-Z_.]*`)
	// Grafana's variables ($tenant, ${datasource}, $__rate_interval).
	variable = regexp.MustCompile(`\$\{?[a-zA-Z0-9_]+\}?`)
)

// metricNames are the metric names expr selects: identifiers outside label
// matchers, ranges and groupings that are neither functions nor keywords.
func metricNames(expr string) []string {
	s := stringLit.ReplaceAllString(expr, `""`)
	s = variable.ReplaceAllString(s, " ")
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	s = number.ReplaceAllString(s, " ")
	var names []string
	for _, m := range identifier.FindAllStringSubmatch(s, -1) {
		if m[1] != "" { // a function call
			continue
		}
		if w := m[0]; !promqlWords[w] && !slices.Contains(names, w) {
			names = append(names, w)
		}
	}
	return names
}

// exported says whether the manager serves name: it tries to register a
// gauge of that name with controller-runtime's registry, which refuses a
// name one of its collectors describes already (whatever its labels and
// help). A name nobody has is registered and unregistered again.
func exported(name string) (bool, error) {
	probe := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: "probe of the dashboard test"})
	err := crmetrics.Registry.Register(probe)
	if err == nil {
		crmetrics.Registry.Unregister(probe)
		return false, nil
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) || strings.Contains(err.Error(), "same fully-qualified name") {
		return true, nil
	}
	return false, err
}

// served says whether the series name is one the manager serves: a metric
// it registered, or the _bucket, _sum or _count series of one.
func served(t *testing.T, name string) bool {
	t.Helper()
	candidates := []string{name}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			candidates = append(candidates, base)
		}
	}
	for _, c := range candidates {
		ok, err := exported(c)
		if err != nil {
			t.Fatalf("probing %s: %v", c, err)
		}
		if ok {
			return true
		}
	}
	return false
}

// unknownMetrics lists, per query, the metric names it uses that the
// manager does not serve.
func unknownMetrics(t *testing.T, qs map[string]string) map[string][]string {
	t.Helper()
	registerCollectors(t)
	out := map[string][]string{}
	for where, q := range qs {
		names := metricNames(q)
		if len(names) == 0 {
			out[where] = append(out[where], "(no metric at all)")
		}
		for _, n := range names {
			if !served(t, n) {
				out[where] = append(out[where], n)
			}
		}
	}
	return out
}

// registerCollectors registers the collectors the manager registers at
// start (metrics.Register, with the manager's cache; here a fake client).
func registerCollectors(t *testing.T) {
	t.Helper()
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	if err := metrics.Register(fake.NewClientBuilder().WithScheme(s).Build(), logr.Discard()); err != nil {
		t.Fatal(err)
	}
}

// TestDashboardMetricsExist fails for every query of the dashboard that
// names a metric the manager does not serve.
func TestDashboardMetricsExist(t *testing.T) {
	d := load(t)
	qs := queries(d)
	if len(qs) < 10 {
		t.Fatalf("only %d queries found; is the parse still right?", len(qs))
	}
	for where, names := range unknownMetrics(t, qs) {
		t.Errorf("%s: %s: not a metric the operator exports: %s", dashboardFile, where, strings.Join(names, ", "))
	}
	// The metrics the dashboard is about are all there.
	var all []string
	for _, q := range qs {
		all = append(all, metricNames(q)...)
	}
	for _, want := range []string{
		metrics.OfferingItemUsageMetricName, metrics.OfferingItemQuotaMetricName, metrics.OfferingItemOverageMetricName,
		metrics.ObjectsMetricName, "tenant_operator_accountserver_requests_total", "controller_runtime_reconcile_time_seconds_bucket",
	} {
		if !slices.Contains(all, want) {
			t.Errorf("no panel uses %s", want)
		}
	}
}

// TestDashboardCheckCatches proves the check above can fail: a misspelt
// metric, one of no package, a made-up histogram series, and a query with
// no metric are reported; functions, keywords, label names and Grafana's
// variables are not taken for metrics.
func TestDashboardCheckCatches(t *testing.T) {
	got := unknownMetrics(t, map[string]string{
		"misspelt":  `sum(tenant_operator_offering_item_usages{tenant=~"$tenant"})`,
		"made up":   `rate(tenant_operator_quota_refusals_total[$__rate_interval])`,
		"histogram": `histogram_quantile(0.9, sum by (le) (rate(controller_runtime_reconcile_time_seconds_buckets[5m])))`,
		"none":      `vector(1)`,
		"fine":      `sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket{controller="tenant"}[5m])) / on (kind) group_left tenant_operator_objects or vector(0)`,
	})
	want := map[string][]string{
		"misspelt":  {"tenant_operator_offering_item_usages"},
		"made up":   {"tenant_operator_quota_refusals_total"},
		"histogram": {"controller_runtime_reconcile_time_seconds_buckets"},
		"none":      {"(no metric at all)"},
	}
	if len(got) != len(want) {
		t.Errorf("reported %v, want %v", got, want)
	}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s: reported %v, want %v", k, got[k], w)
		}
	}
	if n := metricNames(`a_total{x="b_total"} / ignoring(c_total) d_total offset 5m`); !slices.Equal(n, []string{"a_total", "d_total"}) {
		t.Errorf("metricNames: %v", n)
	}
}
