package usagereport

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

func stored(id, format, status string, size int64, minute int) accountserver.StoredReport {
	return accountserver.StoredReport{ID: id, ReportFormat: format, Status: status, Size: size,
		CreatedAt: accountserver.NewTime(time.Date(2026, 3, 1, 0, minute, 0, 0, time.UTC))}
}

func ids(s []accountserver.StoredReport) []string {
	out := []string{}
	for _, x := range s {
		out = append(out, x.ID)
	}
	return out
}

func TestSelectOutput(t *testing.T) {
	const saved, busy = accountserver.StoredReportSaved, accountserver.StoredReportInProgress
	cases := map[string]struct {
		reason   string
		formats  []string
		stored   []accountserver.StoredReport
		limit    int64
		fit      []string
		tooLarge []string
	}{
		"NothingSaved": {"files in progress are not copied", []string{"csv"},
			[]accountserver.StoredReport{stored("a", "csv", busy, 0, 1)}, 100, []string{}, []string{}},
		"NewestPerFormat": {"the newest saved file of each format, in the spec's order", []string{"json_v1", "csv"},
			[]accountserver.StoredReport{
				stored("old-csv", "csv", saved, 10, 1), stored("old-json", "json_v1", saved, 10, 1),
				stored("new-csv", "csv", saved, 10, 2), stored("new-json", "json_v1", busy, 0, 2),
			}, 100, []string{"old-json", "new-csv"}, []string{}},
		"FailedSkipped": {"a failed file is not the newest saved one", []string{"csv"},
			[]accountserver.StoredReport{stored("ok", "csv", saved, 10, 1), stored("bad", "csv", accountserver.StoredReportFailed, 0, 2)},
			100, []string{"ok"}, []string{}},
		"TooLarge": {"a file that does not fit is named, the others still copied", []string{"html", "csv"},
			[]accountserver.StoredReport{stored("big", "html", saved, 80, 1), stored("small", "csv", saved, 30, 1)},
			100, []string{"big"}, []string{"small"}},
		"AloneTooLarge": {"one file larger than the limit", []string{"csv"},
			[]accountserver.StoredReport{stored("huge", "csv", saved, 101, 1)}, 100, []string{}, []string{"huge"}},
		"OtherFormats": {"files of formats the spec dropped are not copied", []string{"csv"},
			[]accountserver.StoredReport{stored("h", "html", saved, 1, 1), stored("c", "csv", saved, 1, 1)}, 100, []string{"c"}, []string{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fit, tooLarge := selectOutput(tc.formats, tc.stored, tc.limit)
			if diff := cmp.Diff(tc.fit, ids(fit)); diff != "" {
				t.Errorf("%s: fit -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.tooLarge, ids(tooLarge)); diff != "" {
				t.Errorf("%s: tooLarge -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func monthly(mutate func(*v1.UsageReport)) *v1.UsageReport {
	r := &v1.UsageReport{Spec: v1.UsageReportSpec{
		Kind: v1.ReportUsageSummary, Level: v1.ReportLevelAccounts,
		Formats:  []v1.UsageReportFormat{v1.ReportFormatCSV, v1.ReportFormatHTML},
		Schedule: v1.UsageReportSchedule{Type: v1.ReportMonthly, Enabled: ptr.To(true)},
	}}
	if mutate != nil {
		mutate(r)
	}
	return r
}

func TestReportDiff(t *testing.T) {
	const tenant = "t-1"
	server := func(mutate func(*accountserver.Report)) *accountserver.Report {
		rep := &accountserver.Report{ID: "r", Version: 3, ReportSpec: accountserver.ReportSpec{
			Recipients: []string{"u-2", "u-1"}, ResultAction: "save",
			Parameters: accountserver.ReportParameters{TenantID: tenant, Level: "accounts", Kind: "usage_summary", Formats: []string{"html", "csv"}},
			Schedule:   accountserver.ReportSchedule{Type: "monthly", Enabled: ptr.To(true)},
		}}
		if mutate != nil {
			mutate(rep)
		}
		return rep
	}
	cases := map[string]struct {
		reason      string
		spec        *v1.UsageReport
		recipients  []string
		got         *accountserver.Report
		wantInPlace []string
		wantReplace []string
	}{
		"Same": {"order of formats and recipients does not matter", monthly(nil), []string{"u-1", "u-2"}, server(nil), nil, nil},
		"Disabled": {"enabled follows the spec, in place", monthly(func(r *v1.UsageReport) { r.Spec.Schedule.Enabled = ptr.To(false) }),
			[]string{"u-1", "u-2"}, server(nil), []string{"schedule.enabled"}, nil},
		"Parameters": {"level and showSKUs change in place, formats need a new report", monthly(func(r *v1.UsageReport) {
			r.Spec.Level, r.Spec.ShowSKUs, r.Spec.Formats = v1.ReportLevelItself, true, []v1.UsageReportFormat{v1.ReportFormatCSV}
		}), []string{"u-1", "u-2"}, server(nil), []string{"level", "showSKUs"}, []string{"formats"}},
		"Recipients": {"a recipient less, in place", monthly(nil), []string{"u-1"}, server(nil), []string{"recipients"}, nil},
		"Send": {"the result action needs a new report", monthly(func(r *v1.UsageReport) { r.Spec.ResultAction = v1.ReportSend }),
			[]string{"u-1", "u-2"}, server(nil), nil, []string{"resultAction"}},
		"Tenant": {"another tenant needs a new report", monthly(nil), []string{"u-1", "u-2"},
			server(func(r *accountserver.Report) { r.Parameters.TenantID = "t-2" }), nil, []string{"tenant"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.wantInPlace, reportDiff(tc.spec, tenant, tc.recipients, tc.got)); diff != "" {
				t.Errorf("%s: in place -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantReplace, replaceDiff(tc.spec, tenant, tc.got)); diff != "" {
				t.Errorf("%s: replace -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestToUpdate(t *testing.T) {
	cases := map[string]struct {
		reason     string
		spec       *v1.UsageReport
		recipients []string
		want       accountserver.ReportUpdate
	}{
		"NoRecipients": {"recipients are sent as an empty list, never omitted", monthly(nil), nil, accountserver.ReportUpdate{
			Recipients: []string{},
			Parameters: &accountserver.ReportUpdateParameters{Level: "accounts", Kind: "usage_summary"},
			Schedule:   &accountserver.ReportUpdateSchedule{Enabled: true},
		}},
		"Everything": {"only what PUT /reports/{id} accepts", monthly(func(r *v1.UsageReport) {
			r.Spec.HideZeroUsage, r.Spec.ShowSKUs, r.Spec.Schedule.Enabled = true, true, ptr.To(false)
		}), []string{"u-1"}, accountserver.ReportUpdate{
			Recipients: []string{"u-1"},
			Parameters: &accountserver.ReportUpdateParameters{Level: "accounts", Kind: "usage_summary", HideZeroUsage: true, ShowSKUs: true},
			Schedule:   &accountserver.ReportUpdateSchedule{Enabled: false},
		}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, toUpdate(tc.spec, tc.recipients)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMatches(t *testing.T) {
	once := func(mutate func(*v1.UsageReport)) *v1.UsageReport {
		r := monthly(func(r *v1.UsageReport) {
			r.Spec.Schedule.Type = v1.ReportOnce
			r.Spec.Period = &v1.UsageReportPeriod{Start: "2026-01-01", End: "2026-01-31"}
		})
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	onServer := func(r *v1.UsageReport, tenant string) *accountserver.Report {
		return &accountserver.Report{ID: "x", Version: 1, ReportSpec: toSpec(r, tenant, nil)}
	}
	cases := map[string]struct {
		reason string
		want   *v1.UsageReport
		got    *accountserver.Report
		match  bool
	}{
		"Same":          {"the report the spec describes", once(nil), onServer(once(nil), "t"), true},
		"OtherTenant":   {"a report of another tenant", once(nil), onServer(once(nil), "u"), false},
		"OtherPeriod":   {"another period", once(nil), onServer(once(func(r *v1.UsageReport) { r.Spec.Period.End = "2026-01-30" }), "t"), false},
		"OtherSchedule": {"a monthly report is not a once one", once(nil), onServer(monthly(nil), "t"), false},
		"OtherFormats":  {"other formats", once(nil), onServer(once(func(r *v1.UsageReport) { r.Spec.Formats = r.Spec.Formats[:1] }), "t"), false},
		"ServerPeriod": {"the server shows a period on a monthly report too; a spec without one still matches", monthly(nil),
			onServer(monthly(func(r *v1.UsageReport) { r.Spec.Period = &v1.UsageReportPeriod{Start: "2026-11-01", End: "2026-11-30"} }), "t"), true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := matches(toSpec(tc.want, "t", nil), tc.got); got != tc.match {
				t.Errorf("%s: matches = %t, want %t", tc.reason, got, tc.match)
			}
		})
	}
}

func TestStoredStatus(t *testing.T) {
	const saved, busy = accountserver.StoredReportSaved, accountserver.StoredReportInProgress
	var many []accountserver.StoredReport
	for i := range 60 {
		many = append(many, stored(string(rune('A'+i)), "csv", saved, 1, i))
	}
	many = append(many, stored("busy", "csv", busy, 0, 59))
	got, last := storedStatus(many)
	if len(got) != maxStoredInStatus {
		t.Fatalf("status keeps %d files, want %d", len(got), maxStoredInStatus)
	}
	if got[0].ID != "busy" || got[1].ID != string(rune('A'+59)) {
		t.Errorf("newest first: got %s, %s", got[0].ID, got[1].ID)
	}
	if want := time.Date(2026, 3, 1, 0, 59, 0, 0, time.UTC); last == nil || !last.Time.Equal(want) {
		t.Errorf("lastSavedAt = %v, want %v (the newest saved file)", last, want)
	}
	if _, last := storedStatus([]accountserver.StoredReport{stored("b", "csv", busy, 0, 1)}); last != nil {
		t.Errorf("lastSavedAt with nothing saved = %v, want nil", last)
	}
}
