package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func ptrTo[T any](v T) *T { return &v }

func TestRemoteObjects(t *testing.T) {
	deleted := "2026-01-01T00:00:00Z"
	tenants := []emulator.Tenant{
		{ID: "root", ParentID: "root", Name: "Root"},
		{ID: "partner", ParentID: "root", Name: "chaos"},
		{ID: "other", ParentID: "root", Name: "someone else's"},
		{ID: "a", ParentID: "partner", Name: "c-1"},
		{ID: "b", ParentID: "a", Name: "unit"},
		{ID: "gone", ParentID: "partner", Name: "c-2", DeletedAt: &deleted},
		{ID: "pers", ParentID: "a", Name: "admin"},
		{ID: "x", ParentID: "other", Name: "c-1"},
	}
	users := []emulator.User{
		{ID: "u1", TenantID: "a", Login: "admin", PersonalTenantID: ptrTo("pers")},
		{ID: "u2", TenantID: "x", Login: "elsewhere"},
		{ID: "u3", TenantID: "partner", Login: "partner-admin"},
	}
	want := []remoteObject{
		{Kind: kindTenant, ID: "a", Key: "partner/c-1"},
		{Kind: kindTenant, ID: "b", Key: "a/unit"},
		{Kind: kindTenant, ID: "gone", Key: "partner/c-2", Deleted: true},
		{Kind: kindUser, ID: "u1", Key: "admin"},
		{Kind: kindUser, ID: "u3", Key: "partner-admin"},
	}
	if diff := cmp.Diff(want, remoteObjects("partner", tenants, users)); diff != "" {
		t.Errorf("tenants below the partner (not it, not its siblings' subtrees, not personal tenants) and their users (-want +got):\n%s", diff)
	}
}

func TestTwinsAndLeaks(t *testing.T) {
	tn := func(id, key string, deleted bool) remoteObject {
		return remoteObject{Kind: kindTenant, ID: id, Key: key, Deleted: deleted}
	}
	us := func(id, key string) remoteObject { return remoteObject{Kind: kindUser, ID: id, Key: key} }
	cases := map[string]struct {
		objs      []remoteObject
		owned     []string
		twins     []twin
		extra     int
		leaks     []remoteObject
		leakCount string
	}{
		"none": {
			objs:      []remoteObject{tn("1", "p/a", false), tn("2", "p/b", false), us("3", "login")},
			owned:     []string{"1", "2", "3"},
			leakCount: "0",
		},
		"a tenant made twice, the copy owned by no object": {
			objs:      []remoteObject{tn("1", "p/a", false), tn("2", "p/a", false), tn("3", "p/b", false)},
			owned:     []string{"1", "3"},
			twins:     []twin{{Kind: kindTenant, Key: "p/a", IDs: []string{"1", "2"}}},
			extra:     1,
			leaks:     []remoteObject{tn("2", "p/a", false)},
			leakCount: "1 (Tenant 1)",
		},
		"three copies are two extra": {
			objs:      []remoteObject{tn("3", "p/a", false), tn("1", "p/a", false), tn("2", "p/a", false)},
			owned:     []string{"1", "2", "3"},
			twins:     []twin{{Kind: kindTenant, Key: "p/a", IDs: []string{"1", "2", "3"}}},
			extra:     2,
			leakCount: "0",
		},
		"a deleted copy is no twin and no leak": {
			objs:      []remoteObject{tn("1", "p/a", false), tn("2", "p/a", true)},
			owned:     []string{"1"},
			leakCount: "0",
		},
		"same name under other parents, same login in other kinds": {
			objs:      []remoteObject{tn("1", "p/a", false), tn("2", "q/a", false), us("3", "p/a")},
			owned:     []string{"1", "2", "3"},
			leakCount: "0",
		},
		"a forgotten user and tenant": {
			objs:      []remoteObject{tn("1", "p/a", false), us("2", "login"), us("3", "other")},
			owned:     []string{"2"},
			leaks:     []remoteObject{tn("1", "p/a", false), us("3", "other")},
			leakCount: "2 (Tenant 1, User 1)",
		},
		"user twins": {
			objs:      []remoteObject{us("1", "login"), us("2", "login")},
			owned:     []string{"1", "2"},
			twins:     []twin{{Kind: kindUser, Key: "login", IDs: []string{"1", "2"}}},
			extra:     1,
			leakCount: "0",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			owned := map[string]bool{}
			for _, id := range tc.owned {
				owned[id] = true
			}
			twins := findTwins(tc.objs)
			if diff := cmp.Diff(tc.twins, twins); diff != "" {
				t.Errorf("twins (-want +got):\n%s", diff)
			}
			if got := extraCopies(twins); got != tc.extra {
				t.Errorf("extra copies: got %d, want %d", got, tc.extra)
			}
			leaks := findLeaks(tc.objs, owned)
			if diff := cmp.Diff(tc.leaks, leaks); diff != "" {
				t.Errorf("leaks (-want +got):\n%s", diff)
			}
			if got := countKinds(leaks); got != tc.leakCount {
				t.Errorf("leaks counted %q, want %q", got, tc.leakCount)
			}
		})
	}
}

func TestParsePauses(t *testing.T) {
	end := at(100)
	log := strings.Join([]string{
		"# bin/manager --zap-time-encoding=rfc3339nano",
		`{"level":"info","ts":"2026-01-02T03:04:06.5Z","msg":"connection ready"}`,
		`{"level":"info","ts":"2026-01-02T03:04:07.25Z","msg":"account server asked to slow down; pausing the connection","operation":"GET /tenants/{id}","retryAfter":1}`,
		`I0102 03:04:08.000000 1 leaderelection.go:1] account server asked to slow down; pausing the connection`,
		`{"level":"info","ts":"2026-01-02T03:04:09.000000001Z","msg":"account server asked to slow down; pausing the connection","operation":"POST /idp/token","retryAfter":"1.5s"}`,
		`{"level":"info","ts":"2026-01-02T03:04:10Z","msg":"a message that quotes it: account server asked to slow down; pausing the connection"}`,
		"",
	}, "\n")
	got, err := parsePauses(strings.NewReader(log), end)
	if err != nil {
		t.Fatal(err)
	}
	want := []pause{
		{At: at(2.25), For: time.Second, End: end},
		{At: at(4).Add(time.Nanosecond), For: 1500 * time.Millisecond, End: end},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the JSON pause lines, seconds or a duration string (-want +got):\n%s", diff)
	}

	for name, bad := range map[string]string{
		"epoch time":  `{"ts":1767323046.5,"msg":"account server asked to slow down; pausing the connection","retryAfter":1}`,
		"no duration": `{"ts":"2026-01-02T03:04:06Z","msg":"account server asked to slow down; pausing the connection","retryAfter":true}`,
		"broken JSON": `{"ts":"2026-01-02T03:04:06Z","msg":"account server asked to slow down; pausing the connection"`,
	} {
		if _, err := parsePauses(strings.NewReader(bad), end); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRetryAfterViolations(t *testing.T) {
	req := func(s float64, path string) emulator.RequestRecord {
		return emulator.RequestRecord{Time: at(s), Method: "GET", Path: path, Status: 200}
	}
	p := pause{At: at(10), For: 2 * time.Second}
	slack := 25 * time.Millisecond
	cases := map[string]struct {
		pauses []pause
		reqs   []emulator.RequestRecord
		loose  []float64 // arrival times of the violations with the slack
		strict int
	}{
		"before, in flight, inside, at the end, after": {
			pauses: []pause{p},
			reqs:   []emulator.RequestRecord{req(9.9, "/a"), req(10.01, "/b"), req(10.5, "/c"), req(11.99, "/d"), req(12, "/e"), req(12.5, "/f")},
			loose:  []float64{10.5},
			strict: 3,
		},
		"a pause ends with its process": {
			pauses: []pause{{At: at(10), For: 2 * time.Second, End: at(10.4)}},
			reqs:   []emulator.RequestRecord{req(10.3, "/old process"), req(10.6, "/new process")},
			loose:  []float64{10.3},
			strict: 1,
		},
		"overlapping pauses count a request once": {
			pauses: []pause{p, {At: at(10.5), For: time.Second}},
			reqs:   []emulator.RequestRecord{req(10.7, "/x")},
			loose:  []float64{10.7},
			strict: 1,
		},
		"no pause": {
			reqs: []emulator.RequestRecord{req(10.7, "/x")},
		},
		"a zero Retry-After": {
			pauses: []pause{{At: at(10)}},
			reqs:   []emulator.RequestRecord{req(10, "/x"), req(10.001, "/y")},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got []float64
			for _, v := range retryAfterViolations(tc.pauses, tc.reqs, slack) {
				got = append(got, v.Request.Time.Sub(t0).Seconds())
			}
			if diff := cmp.Diff(tc.loose, got); diff != "" {
				t.Errorf("with %s slack (-want +got):\n%s", slack, diff)
			}
			if n := len(retryAfterViolations(tc.pauses, tc.reqs, 0)); n != tc.strict {
				t.Errorf("strictly: got %d, want %d", n, tc.strict)
			}
		})
	}
}

func TestLost(t *testing.T) {
	cases := map[string]struct {
		want, got map[string]string
		lost      []string
	}{
		"all there": {
			want: map[string]string{"Tenant/a": "1", "User/b": "2"},
			got:  map[string]string{"Tenant/a": "1", "User/b": "2", "Tenant/c": "other"},
		},
		"overwritten and missing": {
			want: map[string]string{"Tenant/a": "1", "User/b": "2", "Tenant/c": "3"},
			got:  map[string]string{"Tenant/a": "0", "User/b": "2"},
			lost: []string{"Tenant/a", "Tenant/c"},
		},
		"an empty value is a value": {
			want: map[string]string{"Tenant/a": ""},
			got:  map[string]string{"Tenant/a": "x"},
			lost: []string{"Tenant/a"},
		},
		"nothing wanted": {
			got: map[string]string{"Tenant/a": "1"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.lost, lost(tc.want, tc.got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestActivationEmails(t *testing.T) {
	const u1, u2 = "0b8f3c52-6d1e-4f0a-9c7b-2e4d5a6f7081", "1c9e4d63-7e2f-4a1b-8d8c-3f5e6b708192"
	send := func(id string, status int, dropped bool) emulator.RequestRecord {
		return emulator.RequestRecord{Method: "POST", Path: "/api/2/users/" + id + "/send-activation-email", Status: status, Dropped: dropped}
	}
	reqs := []emulator.RequestRecord{
		send(u1, 204, false),
		send(u1, 204, true), // the answer was lost, the mail went
		send(u1, 500, false),
		send(u1, 429, false),
		send(u2, 204, false),
		{Method: "GET", Path: "/api/2/users/" + u2 + "/send-activation-email", Status: 405},
		{Method: "POST", Path: "/api/2/users/" + u2, Status: 200},
		{Method: "POST", Path: "/api/2/users/" + u2 + "/x/send-activation-email", Status: 404},
	}
	sent, received := activationEmails(reqs)
	if diff := cmp.Diff(map[string]int{u1: 2, u2: 1}, sent); diff != "" {
		t.Errorf("mails sent: 2xx answers, lost or not (-want +got):\n%s", diff)
	}
	if received != 5 {
		t.Errorf("received %d requests, want 5", received)
	}
	if diff := cmp.Diff([]string{u1 + " (2)"}, overOnce(sent)); diff != "" {
		t.Errorf("more than once (-want +got):\n%s", diff)
	}
	if got := overOnce(map[string]int{u1: 1, u2: 0}); got != nil {
		t.Errorf("once or never is not more than once: %v", got)
	}
}

func TestPeakInWindow(t *testing.T) {
	cases := map[string]struct {
		times []float64
		peak  int
		start float64
	}{
		"none":                    {nil, 0, -1},
		"one":                     {[]float64{3}, 1, 3},
		"a burst inside a second": {[]float64{0, 5, 5.1, 5.5, 5.99, 6, 7}, 4, 5},
		"unsorted":                {[]float64{6, 5.5, 0, 5.1, 5.99, 5, 7}, 4, 5},
		"the end is open":         {[]float64{1, 2, 3}, 1, 1},
		"sliding, not per second": {[]float64{0.6, 0.9, 1.1, 1.4, 2.5}, 4, 0.6},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var ts []time.Time
			for _, s := range tc.times {
				ts = append(ts, at(s))
			}
			peak, start := peakInWindow(ts, time.Second)
			if peak != tc.peak {
				t.Errorf("peak %d, want %d", peak, tc.peak)
			}
			if tc.start >= 0 && !start.Equal(at(tc.start)) {
				t.Errorf("starts at %s, want %s", start, at(tc.start))
			}
		})
	}
}

func TestWriteCounts(t *testing.T) {
	objects, most, total := writeCounts(map[string]int{"a": 1, "b": 3, "c": 0, "d": 1})
	if objects != 3 || most != 3 || total != 5 {
		t.Errorf("got %d objects, most %d, total %d; want 3, 3, 5", objects, most, total)
	}
	if o, m, n := writeCounts(nil); o != 0 || m != 0 || n != 0 {
		t.Errorf("nothing written: got %d, %d, %d", o, m, n)
	}
}

func TestRequestCounts(t *testing.T) {
	reqs := []emulator.RequestRecord{
		{Time: at(0), Status: 500}, {Time: at(1), Status: 429}, {Time: at(2), Status: 200, Dropped: true},
		{Time: at(3), Status: 429}, {Time: at(4), Status: 200},
	}
	if n := answered(reqs, 429); n != 2 {
		t.Errorf("429s: %d", n)
	}
	if n := dropped(reqs); n != 1 {
		t.Errorf("dropped: %d", n)
	}
	if got := requestTimes(reqs, at(1), at(3)); len(got) != 2 || !got[0].Equal(at(1)) {
		t.Errorf("[1, 3): %v", got)
	}
	if got := harness.OperationPath("/api/2/users/0b8f3c52-6d1e-4f0a-9c7b-2e4d5a6f7081/send-activation-email"); got != "/users/{id}/send-activation-email" {
		t.Errorf("operationPath: %s", got)
	}
}
