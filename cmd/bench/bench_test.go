package main

import (
	"encoding/xml"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

const (
	idA = "0b8f3c52-6d1e-4f0a-9c7b-2e4d5a6f7081"
	idB = "1b8f3c52-6d1e-4f0a-9c7b-2e4d5a6f7081"
	idC = "2b8f3c52-6d1e-4f0a-9c7b-2e4d5a6f7081"
)

func TestPercentile(t *testing.T) {
	inf := math.Inf(1)
	cases := map[string]struct {
		reason string
		vs     []float64
		p      float64
		want   float64
	}{
		"Median":         {"nearest rank, not interpolated", []float64{3, 1, 2, 4}, 50, 2},
		"P99OfFew":       {"p99 of fewer than 100 values is the largest", []float64{1, 5, 2}, 99, 5},
		"P99Of200":       {"p99 of 200 values is the 198th", seq(200), 99, 198},
		"MissedSortLast": {"a value that never came (+Inf) is above every other", []float64{inf, 1, 2}, 50, 2},
		"MissedIsP99":    {"one miss in 50 makes p99 a miss", append(seq(49), inf), 99, inf},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := percentile(tc.vs, tc.p); got != tc.want {
				t.Errorf("%s: got %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("no values has no percentile")
	}
}

func seq(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out
}

func TestReqLog(t *testing.T) {
	l := reqLog{
		{Time: at(0), Method: "POST", Path: tokenPath},
		{Time: at(1), Method: "GET", Path: "/api/2/tenants/" + idA, Status: 200},
		{Time: at(2), Method: "PUT", Path: "/api/2/tenants/" + idA},
		{Time: at(3), Method: "GET", Path: "/api/2/tenants/" + idB, Status: 200},
		{Time: at(4), Method: "GET", Path: "/api/2/tenants"},
		{Time: at(5), Method: "PUT", Path: "/api/2/tenants/" + idA},
		{Time: at(6), Method: "POST", Path: "/api/2/users/" + idC + "/send-activation-email"},
	}
	t.Run("Writes", func(t *testing.T) {
		var got []string
		for _, r := range l.writes() {
			got = append(got, r.Method+" "+harness.OperationPath(r.Path))
		}
		want := []string{"PUT /tenants/{id}", "PUT /tenants/{id}", "POST /users/{id}/send-activation-email"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("token requests are not writes (-want +got):\n%s", diff)
		}
	})
	t.Run("Ops", func(t *testing.T) {
		want := []opCount{{"GET /tenants/{id}", 2}, {"PUT /tenants/{id}", 2}, {"GET /tenants", 1}, {"POST /idp/token", 1}, {"POST /users/{id}/send-activation-email", 1}}
		if diff := cmp.Diff(want, l.ops()); diff != "" {
			t.Errorf("most frequent first, then by name (-want +got):\n%s", diff)
		}
		if got := topOps(l, 1); got != "`GET /tenants/{id}` 2 (29%)" {
			t.Errorf("topOps: %s", got)
		}
	})
	t.Run("FirstAfter", func(t *testing.T) {
		got, ok := l.firstPutAfter("/api/2/tenants/"+idA, at(2.5))
		if !ok || !got.Equal(at(5)) {
			t.Errorf("the first PUT at or after 2.5s is the one at 5s: %v %v", got, ok)
		}
		if _, ok := l.firstPutAfter("/api/2/tenants/"+idB, at(0)); ok {
			t.Error("no PUT of B")
		}
	})
	t.Run("ObjectsRead", func(t *testing.T) {
		l := append(l,
			emulator.RequestRecord{Time: at(0.5), Method: "GET", Path: "/api/2/tenants", Query: "uuids=" + idB + "%2C" + idC + "&lod=full", Status: 200},
			emulator.RequestRecord{Time: at(7), Method: "GET", Path: "/api/2/users", Query: "uuids=" + idA, Status: 200},
			emulator.RequestRecord{Time: at(7.5), Method: "GET", Path: "/api/2/users/" + idB, Status: 200},
			emulator.RequestRecord{Time: at(8), Method: "GET", Path: "/api/2/tenants", Query: "updated_since=2026-01-01T00%3A00%3A00Z", Status: 200},
			emulator.RequestRecord{Time: at(9), Method: "GET", Path: "/api/2/tenants/offering_items", Query: "subtree_root_tenant_id=" + idA, Tenants: []string{idA, idB}, Status: 200},
			emulator.RequestRecord{Time: at(10), Method: "GET", Path: "/api/2/tenants/" + idC + "/offering_items", Status: 200},
			emulator.RequestRecord{Time: at(11), Method: "GET", Path: "/api/2/users/" + idC, Status: 429},
		)
		want := map[string]time.Time{
			"Tenant/" + idA: at(1), "Tenant/" + idB: at(0.5), "Tenant/" + idC: at(0.5),
			"User/" + idA: at(7), "User/" + idB: at(7.5),
			"OfferingItemQuota/" + idA: at(9), "OfferingItemQuota/" + idB: at(9), "OfferingItemQuota/" + idC: at(10),
		}
		if diff := cmp.Diff(want, objectsRead(l)); diff != "" {
			t.Errorf("read alone or in a batch, first time wins, refusals read nothing (-want +got):\n%s", diff)
		}
	})
}

func TestParseFlags(t *testing.T) {
	cases := map[string]struct {
		reason string
		args   []string
		check  func(config) bool
		err    string
	}{
		"Full": {"full is the default", nil, func(c config) bool {
			return c.customers == 1000 && c.tenants == 10000 && c.results == "bench/results.md" && c.failOnGoals
		}, ""},
		"Short": {"short scales down and writes elsewhere", []string{"-profile", "short"}, func(c config) bool {
			return c.customers == 50 && c.results == "bench/results-short.md" && !c.failOnGoals
		}, ""},
		"ShortEquals": {"-profile=short is the same", []string{"--profile=short", "-tenants", "2000"}, func(c config) bool { return c.customers == 50 && c.tenants == 2000 }, ""},
		"Override": {"flags win over the profile", []string{"-profile", "short", "-customers", "7", "-points", "300,600", "-modes", "watch"}, func(c config) bool {
			return c.customers == 7 && cmp.Equal(c.points, []int{300, 600}) && cmp.Equal(c.modes, []string{"watch"})
		}, ""},
		"BadProfile":  {"only full and short", []string{"-profile", "long"}, nil, "unknown -profile"},
		"BadMode":     {"only poll and watch", []string{"-modes", "poll,push"}, nil, "unknown mode"},
		"TooFew":      {"the seeded size must hold the cold and interactive tenants", []string{"-tenants", "1500"}, nil, "at least"},
		"PointTooBig": {"points lie below the full size", []string{"-points", "10000"}, nil, "not below"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := parseFlags(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("%s: error %v, want %q", tc.reason, err, tc.err)
				}
				return
			}
			if err != nil || !tc.check(c) {
				t.Errorf("%s: %v, %+v", tc.reason, err, c)
			}
		})
	}
}

func sampleResults() *results {
	cfg, _ := defaults("full")
	rs := &results{cfg: cfg, feat: features{driftDetection: true, kubeQPS: true}, modes: []string{modePoll, modeWatch}, res: map[string]*result{
		modePoll: {
			coldSeconds: 400, coldRequests: 7500, editDelays: []float64{10, 20, math.Inf(1)},
			points: []idlePoint{{2000, 4.2, 30}, {5000, 8.4, 30}, {10000, 16.8, 300}},
			idle:   idleFigures{rate: 16.8, writes: 3, kubeWrites: 2}, driftDelays: []float64{80, math.Inf(1)},
			restartTotal: 10000, restartObserved: 2400, restartRequests: 2400, restartKubeWrites: 1, peakRSS: 150 << 20,
		},
		modeWatch: {
			coldSeconds: 330, coldRequests: 6100, editDelays: []float64{0.2, 0.5, 1.5},
			points: []idlePoint{{2000, 0.1, 30}, {5000, 0.1, 30}, {10000, 0.2, 300}},
			idle:   idleFigures{rate: 0.2}, driftDelays: []float64{10, 30},
			restartTotal: 10000, restartObserved: 10000, restartDone: true, restartSeconds: 20, restartRequests: 140, peakRSS: 180 << 20,
		},
	}}
	return rs
}

func TestTableAndGoals(t *testing.T) {
	rs := sampleResults()
	table := rs.table()
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2+len(rs.rows()) {
		t.Fatalf("one header, one rule and a row per figure; got:\n%s", table)
	}
	for _, want := range []string{
		"| cold: time ÷ bound (6 × 1,000 requests ÷ 20/s = 300 s) | 1.33 | 1.10 | ≤ 1.15 | met |",
		"| interactive: edit → PUT, p99, s | > 120 (cap) | 1.5 | ≤ 2 | met |",
		"| idle at 2,000 tenants: requests/s (30s window) | 4.20 | 0.10 |  |  |",
		"| restart: requests until all objects read (10,000 tenants, their users and quotas) | 2,400 (2,400 read in 1m0s) | 140 | ≤ 150 | met |",
		"| restart: seconds until all read | > 60 (cap) | 20.0 | ≤ 60 | met |",
		"| drift: change → correcting PUT, p99, s | > 60 (cap) | 30.0 | ≤ 60 | met |",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	if missed := rs.missedGoals(); len(missed) != 0 {
		t.Errorf("nothing missed: %v", missed)
	}
	rs.res[modeWatch].idle.kubeWrites = 1
	rs.res[modeWatch].driftDelays = append(rs.res[modeWatch].driftDelays, math.Inf(1))
	missed := rs.missedGoals()
	if len(missed) != 2 || !strings.Contains(missed[0], "Kubernetes") || !strings.Contains(missed[1], "p99") {
		t.Errorf("a Kubernetes write when idle and an uncorrected drift are missed goals: %v", missed)
	}
	if !strings.Contains(rs.table(), "| idle: writes to the Kubernetes API | 2 | 1 | 0 | **missed** |") {
		t.Errorf("a missed goal is marked:\n%s", rs.table())
	}
}

func TestSVG(t *testing.T) {
	out := sampleResults().svg()
	if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
		t.Fatalf("not well-formed XML: %v\n%s", err, out)
	}
	for _, want := range []string{"<polyline", "reads are spread out (estimate)", "budget R = 20/s", "goal (watch) ≤ 1/s", "poll (old)", "watch (new)", "10,000"} {
		if !strings.Contains(out, want) {
			t.Errorf("figure lacks %q", want)
		}
	}
	if n := strings.Count(out, "<circle"); n != 6 {
		t.Errorf("a marker per measured point: %d", n)
	}
}

func TestFormatting(t *testing.T) {
	cases := map[string]struct{ got, want string }{
		"Thousands":    {harness.FmtInt(10000), "10,000"},
		"Small":        {harness.FmtInt(999), "999"},
		"Millions":     {harness.FmtInt(-1234567), "-1,234,567"},
		"Delay":        {fmtDelay(1.26, time.Minute), "1.3"},
		"DelayMissed":  {fmtDelay(math.Inf(1), 2*time.Minute), "> 120 (cap)"},
		"RateLow":      {fmtRate(0.123), "0.12"},
		"RateHigh":     {fmtRate(16.84), "16.8"},
		"OpPath":       {harness.OperationPath("/api/2/users/" + idA + "/access_policies"), "/users/{id}/access_policies"},
		"NotAnID":      {harness.OperationPath("/api/2/tenants/offering_items"), "/tenants/offering_items"},
		"NiceStep":     {trimFloat(niceStep(2300)), "2500"},
		"NiceStepTiny": {trimFloat(niceStep(0.07)), "0.1"},
	}
	for name, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s: got %q, want %q", name, tc.got, tc.want)
		}
	}
}

// The seeded twin of a Tenant must need no write to adopt: the fields the
// spec sets are the remote's.
func TestSeedTwinMatchesSpec(t *testing.T) {
	m := &mode{name: modePoll, ns: "bench-poll"}
	spec := plainTenant(m, "s-00001", "id").Spec
	seed := seedTenant("s-00001", t0)
	want := emulator.Contact{Email: spec.Contact.Email, Firstname: spec.Contact.Firstname, Lastname: spec.Contact.Lastname}
	if seed.Name != "s-00001" || seed.Kind != string(spec.Kind) || !cmp.Equal(seed.Contact, want) || !seed.At.Equal(t0) {
		t.Errorf("seed %+v does not match spec %+v", seed, spec)
	}
	u := adoptedUser(m, "u-00001", "s-00001", "id").Spec
	su := seedUser(m, "u-00001", "tid", t0)
	if su.Login != u.Login || su.Contact.Email != u.Contact.Email || su.Contact.Firstname != u.Contact.Firstname || !su.Activated {
		t.Errorf("seed user %+v does not match spec %+v", su, u)
	}
}
