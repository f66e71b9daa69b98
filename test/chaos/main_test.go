package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/harness"
)

func TestParseFlags(t *testing.T) {
	cases := map[string]struct {
		args  []string
		check func(config) bool
		err   string
	}{
		"full is the default": {nil, func(c config) bool {
			return c.customers == 300 && c.kills == 100 && c.outage == 5*time.Minute && c.users == 1000 &&
				c.outageObjects == 1000 && c.outagePending == 100 && c.results == "test/chaos/results.md" && len(c.scenarios) == len(allScenarios)
		}, ""},
		"short": {[]string{"-profile", "short"}, func(c config) bool {
			return c.customers == 30 && c.kills == 10 && c.outage == time.Minute && c.users == 100 && c.results == "test/chaos/results-short.md"
		}, ""},
		"a flag overrides the profile": {[]string{"-customers=7", "-profile=short"}, func(c config) bool { return c.customers == 7 && c.kills == 10 }, ""},
		"scenarios run in their order, once": {[]string{"-scenarios", "outage,rollout,outage"}, func(c config) bool {
			return strings.Join(c.scenarios, ",") == "rollout,outage"
		}, ""},
		"unknown profile":    {[]string{"-profile", "huge"}, nil, "unknown -profile"},
		"unknown scenario":   {[]string{"-scenarios", "rollout,meteor"}, nil, `unknown scenario "meteor"`},
		"no scenario":        {[]string{"-scenarios", ","}, nil, "names none"},
		"too many pending":   {[]string{"-outage-objects", "30", "-outage-pending", "11"}, nil, "-outage-pending"},
		"a rate above 1":     {[]string{"-error-rate", "1.5"}, nil, "-error-rate must be between 0 and 1"},
		"kill window":        {[]string{"-kill-min", "2s", "-kill-max", "1s"}, nil, "-kill-max"},
		"stray arguments":    {[]string{"rollout"}, nil, "unexpected arguments"},
		"a too short outage": {[]string{"-outage", "1s"}, nil, "-outage must be at least 2s"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := parseFlags(tc.args, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got error %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestTableAndGoals(t *testing.T) {
	cfg, err := defaults("short")
	if err != nil {
		t.Fatal(err)
	}
	rs := &results{cfg: cfg, seed: 42}
	rs.add(scRollout, "requests", "1,234")
	rs.goal(scRollout, "twins", "0", "0", true)
	rs.goal(scOutage, "requests/s", "0.60 (6 | 5)", "≤ 0.2", false)
	table := rs.table()
	for _, want := range []string{
		"| scenario | figure | value | goal | |",
		"| rollout | requests | 1,234 |  |  |",
		"| rollout | twins | 0 | 0 | met |",
		`| outage | requests/s | 0.60 (6 \| 5) | ≤ 0.2 | **missed** |`,
	} {
		if !strings.Contains(table, want) {
			t.Errorf("the table has no line %q:\n%s", want, table)
		}
	}
	missed := rs.missedGoals()
	if len(missed) != 1 || !strings.Contains(missed[0], "outage: requests/s") {
		t.Errorf("missed goals: %v", missed)
	}
	doc := rs.markdown(table)
	for _, want := range []string{"`make chaos CHAOS_PROFILE=short`", "kill seed 42", "## How measured", "**outage**"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the results file has no %q", want)
		}
	}
	if harness.FmtInt(1234567) != "1,234,567" || harness.FmtInt(-1000) != "-1,000" || harness.FmtInt(12) != "12" {
		t.Error("fmtInt")
	}
}
