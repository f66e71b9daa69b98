package emulator

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seedPostReport is the request example of POST /reports in seed 001; TENANT is replaced.
const seedPostReport = `{
"result_action": "send",
"recipients": [
"ca451758-b48a-45d9-9ae6-8f1059f67619",
"ab00e527-219b-481b-b01b-311b5be0ed3c"
],
"schedule": {
"type": "once"
},
"generation_date": "2017-05-08",
"parameters": {
"tenant_id": "TENANT",
"formats": [
"csv",
"json_v1",
"csv_v2_0",
"json_v2_0"
],
"show_skus": false,
"hide_zero_usage": true,
"kind": "usage_summary",
"period": {
"start": "2017-05-01",
"end": "2017-05-07"
},
"level": "accounts"
}
}`

// seedPutReport is the request example of PUT /reports/{report_id} in seed 001; TENANT is replaced.
const seedPutReport = `{
"recipients": [
"ca451758-b48a-45d9-9ae6-8f1059f67619"
],
"parameters": {
"tenant_id": "TENANT",
"show_skus": false,
"hide_zero_usage": true,
"kind": "usage_current",
"level": "direct_partners"
}
}`

// reportBody builds a POST /reports body; change edits it before it is sent.
func reportBody(tenantID string, change func(m map[string]any)) map[string]any {
	m := map[string]any{
		"result_action": "save",
		"recipients":    []string{},
		"schedule":      map[string]any{"type": "once", "enabled": true},
		"parameters": map[string]any{
			"tenant_id": tenantID, "level": "accounts", "kind": "usage_summary", "formats": []string{"csv"},
			"period":    map[string]any{"start": "2024-05-01", "end": "2024-05-05"},
			"show_skus": false, "hide_zero_usage": false,
		},
	}
	if change != nil {
		change(m)
	}
	return m
}

func params(m map[string]any) map[string]any { return m["parameters"].(map[string]any) }

func (w *world) createReport(t *testing.T, body any) Report {
	t.Helper()
	r := w.env.api.do(http.MethodPost, "/reports", body)
	if r.status != http.StatusOK {
		t.Fatalf("POST /reports: %d %s", r.status, r.body)
	}
	var rep Report
	mustUnmarshal(t, r.body, &rep)
	return rep
}

func (w *world) stored(t *testing.T, reportID string) []StoredReport {
	t.Helper()
	r := w.env.api.do(http.MethodGet, "/reports/"+reportID+"/stored", nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET stored: %d %s", r.status, r.body)
	}
	var body struct {
		Items []StoredReport `json:"items"`
	}
	mustUnmarshal(t, r.body, &body)
	return body.Items
}

func TestCreateReport(t *testing.T) {
	w := newWorld(t, Options{})
	seed := strings.Replace(seedPostReport, "TENANT", w.customer.ID, 1)
	cases := map[string]struct {
		reason string
		body   any
		ct     string
		want   errCode
		report *Report // compared without id and version
	}{
		"SeedExample": {"the reference's example is accepted", seed, "", errCode{Status: 200}, &Report{
			Recipients: []string{"ca451758-b48a-45d9-9ae6-8f1059f67619", "ab00e527-219b-481b-b01b-311b5be0ed3c"}, ResultAction: "send",
			Parameters: ReportParameters{TenantID: w.customer.ID, Level: "accounts", Kind: "usage_summary", Formats: []string{"csv", "json_v1", "csv_v2_0", "json_v2_0"},
				Period: &ReportPeriod{Start: "2017-05-01", End: "2017-05-07"}, HideZeroUsage: true},
			Schedule: ReportSchedule{Type: "once", Enabled: true}, GenerationDate: "2017-05-08",
		}},
		"Defaults": {"a once report without generation_date is generated today", reportBody(w.customer.ID, func(m map[string]any) { m["schedule"] = map[string]any{"type": "once"} }), "", errCode{Status: 200}, &Report{
			Recipients: []string{}, ResultAction: "save",
			Parameters: ReportParameters{TenantID: w.customer.ID, Level: "accounts", Kind: "usage_summary", Formats: []string{"csv"}, Period: &ReportPeriod{Start: "2024-05-01", End: "2024-05-05"}},
			Schedule:   ReportSchedule{Type: "once", Enabled: true}, GenerationDate: "2024-05-06",
		}},
		"CurrentNeedsNoPeriod": {"usage_current needs no period", reportBody(w.customer.ID, func(m map[string]any) {
			params(m)["kind"] = "usage_current"
			delete(params(m), "period")
		}), "", errCode{Status: 200}, nil},
		"PeriodUpToToday": {"a period ending today is fine", reportBody(w.customer.ID, func(m map[string]any) {
			params(m)["period"] = map[string]any{"start": "2024-05-01", "end": "2024-05-06"}
		}), "", errCode{Status: 200}, nil},
		"FuturePeriod": {"a period ending in the future is refused", reportBody(w.customer.ID, func(m map[string]any) {
			params(m)["period"] = map[string]any{"start": "2024-05-01", "end": "2024-05-07"}
		}), "", errCode{400, 400}, nil},
		"FutureStart": {"a period starting in the future is refused", reportBody(w.customer.ID, func(m map[string]any) {
			params(m)["period"] = map[string]any{"start": "2025-01-01", "end": "2025-01-31"}
		}), "", errCode{400, 400}, nil},
		"Backwards": {"a period ending before it starts is refused", reportBody(w.customer.ID, func(m map[string]any) {
			params(m)["period"] = map[string]any{"start": "2024-05-03", "end": "2024-05-01"}
		}), "", errCode{400, 400}, nil},
		"PeriodNotDate":     {"period bounds are dates", reportBody(w.customer.ID, func(m map[string]any) { params(m)["period"] = map[string]any{"start": "May", "end": "June"} }), "", errCode{400, 400}, nil},
		"MissingPeriod":     {"a once summary needs a period", reportBody(w.customer.ID, func(m map[string]any) { delete(params(m), "period") }), "", errCode{400, 400}, nil},
		"BadLevel":          {"level is one of the reference's values", reportBody(w.customer.ID, func(m map[string]any) { params(m)["level"] = "everyone" }), "", errCode{400, 400}, nil},
		"BadKind":           {"kind is one of the reference's values", reportBody(w.customer.ID, func(m map[string]any) { params(m)["kind"] = "usage_total" }), "", errCode{400, 400}, nil},
		"BadFormat":         {"formats are the reference's values", reportBody(w.customer.ID, func(m map[string]any) { params(m)["formats"] = []string{"pdf"} }), "", errCode{400, 400}, nil},
		"DuplicateFormat":   {"a format is listed once", reportBody(w.customer.ID, func(m map[string]any) { params(m)["formats"] = []string{"csv", "csv"} }), "", errCode{400, 400}, nil},
		"NoFormats":         {"formats is optional: without formats the report is made as CSV (assumed)", reportBody(w.customer.ID, func(m map[string]any) { params(m)["formats"] = []string{} }), "", errCode{Status: 200}, nil},
		"BadResultAction":   {"result_action is save or send", reportBody(w.customer.ID, func(m map[string]any) { m["result_action"] = "print" }), "", errCode{400, 400}, nil},
		"BadSchedule":       {"schedule.type is once or monthly", reportBody(w.customer.ID, func(m map[string]any) { m["schedule"] = map[string]any{"type": "weekly"} }), "", errCode{400, 400}, nil},
		"BadGenerationDate": {"generation_date is YYYY-MM-DD", reportBody(w.customer.ID, func(m map[string]any) { m["generation_date"] = "8 May 2017" }), "", errCode{400, 400}, nil},
		"BadRecipient":      {"recipients are UUIDs", reportBody(w.customer.ID, func(m map[string]any) { m["recipients"] = []string{"bob"} }), "", errCode{400, 400}, nil},
		"MissingSchedule":   {"schedule is required", reportBody(w.customer.ID, func(m map[string]any) { delete(m, "schedule") }), "", errCode{400, 400}, nil},
		"UnknownField":      {"unknown fields are refused", reportBody(w.customer.ID, func(m map[string]any) { m["priority"] = 1 }), "", errCode{400, 400}, nil},
		"UnknownParameter":  {"parameters is open in the official body: unknown keys are ignored", reportBody(w.customer.ID, func(m map[string]any) { params(m)["currency"] = "EUR" }), "", errCode{Status: 200}, nil},
		"UnknownPeriodKey": {"period is open in the official body: unknown keys are ignored", reportBody(w.customer.ID, func(m map[string]any) {
			params(m)["period"] = map[string]any{"start": "2024-05-01", "end": "2024-05-02", "tz": "UTC"}
		}), "", errCode{Status: 200}, nil},
		"VersionOnCreate": {"the server sets the version", reportBody(w.customer.ID, func(m map[string]any) { m["version"] = 1 }), "", errCode{400, 400}, nil},
		"Outside":         {"the root is outside the caller's subtree", reportBody(w.root.ID, nil), "", errCode{403, codeAccessDenied}, nil},
		"NoTenant":        {"the tenant must exist", reportBody("00000000-0000-4000-8000-000000000000", nil), "", errCode{404, codeTenantNotFound}, nil},
		"ContentType":     {"the body must be JSON", reportBody(w.customer.ID, nil), "text/plain", errCode{415, 415}, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(w.env.srv.Reports())
			ct := tc.ct
			if ct == "" {
				ct = "application/json"
			}
			r := w.env.api.doCT(http.MethodPost, "/reports", tc.body, ct)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
			}
			after := w.env.srv.Reports()
			if tc.want.Status != 200 {
				if len(after) != before {
					t.Errorf("%s: a refused report was stored", tc.reason)
				}
				return
			}
			var got Report
			mustUnmarshal(t, r.body, &got)
			stored, ok := w.env.srv.Report(got.ID)
			if !ok || got.Version == 0 || !validUUID(got.ID) {
				t.Fatalf("%s: report %+v not stored with an id and a version", tc.reason, got)
			}
			if stored.Parameters.Period == nil {
				// The official document requires a period in every report answer: a report
				// without its own shows the one it covers, today for current usage.
				if diff := cmp.Diff(&ReportPeriod{Start: "2024-05-06", End: "2024-05-06"}, got.Parameters.Period); diff != "" {
					t.Errorf("%s: period of a report without one: -want +got:\n%s", tc.reason, diff)
				}
				got.Parameters.Period = nil
			}
			if diff := cmp.Diff(stored, got); diff != "" {
				t.Errorf("%s: answer and store differ: -store +answer:\n%s", tc.reason, diff)
			}
			if tc.report != nil {
				want := *tc.report
				want.ID, want.Version = got.ID, got.Version
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}

func TestReportsNotReadyFault(t *testing.T) {
	w := newWorld(t, Options{})
	w.env.srv.SetFaults(Faults{ReportsNotReady: true})
	r := w.env.api.do(http.MethodPost, "/reports", reportBody(w.customer.ID, nil))
	if diff := cmp.Diff(errCode{400, 400}, r.code(t)); diff != "" {
		t.Fatalf("during the nightly window a report is refused: -want +got:\n%s\n%s", diff, r.body)
	}
	var body ErrorBody
	mustUnmarshal(t, r.body, &body)
	if body.Error.Message != "usage history is not ready" {
		t.Errorf("message = %q, want %q", body.Error.Message, "usage history is not ready")
	}
	if len(w.env.srv.Reports()) != 0 {
		t.Errorf("a refused report was stored")
	}
	// The fault does not hide other refusals: a tenant outside the subtree is still 403.
	if diff := cmp.Diff(errCode{403, codeAccessDenied}, w.env.api.do(http.MethodPost, "/reports", reportBody(w.root.ID, nil)).code(t)); diff != "" {
		t.Errorf("outside the subtree: -want +got:\n%s", diff)
	}
	w.env.srv.SetFaults(Faults{})
	if r := w.env.api.do(http.MethodPost, "/reports", reportBody(w.customer.ID, nil)); r.status != http.StatusOK {
		t.Errorf("after the window: %d %s", r.status, r.body)
	}
}

func TestStoredReportsFollowTheClock(t *testing.T) {
	w := newWorld(t, Options{})
	w.env.srv.SetUsage(w.customer.ID, "workstations", "", 5)
	rep := w.createReport(t, reportBody(w.customer.ID, func(m map[string]any) {
		params(m)["formats"] = reportFormats
		params(m)["level"] = "itself"
		params(m)["hide_zero_usage"] = true
	}))
	st := w.stored(t, rep.ID)
	var formats []string
	for _, s := range st {
		formats = append(formats, s.ReportFormat)
		if s.Status != StoredInProgress || s.Size != 0 {
			t.Errorf("stored %s starts as %s size %d, want in_progress size 0", s.ReportFormat, s.Status, s.Size)
		}
	}
	if diff := cmp.Diff(reportFormats, formats); diff != "" {
		t.Fatalf("one stored report per format: -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(errCode{404, 404}, w.env.api.do(http.MethodGet, "/reports/"+rep.ID+"/stored/"+st[0].ID, nil).code(t)); diff != "" {
		t.Errorf("an unfinished file cannot be downloaded: -want +got:\n%s", diff)
	}
	w.env.clock.Advance(reportGenerationTime)
	for _, s := range w.stored(t, rep.ID) {
		if s.Status != StoredSaved || s.Size == 0 {
			t.Errorf("stored %s after the generation time is %s size %d, want saved", s.ReportFormat, s.Status, s.Size)
		}
		r := w.env.api.do(http.MethodGet, "/reports/"+rep.ID+"/stored/"+s.ID, nil)
		if r.status != 200 || r.header.Get("Content-Type") != "application/octet-stream" || int64(len(r.body)) != s.Size {
			t.Fatalf("download %s: %d %s, %d bytes of %d", s.ReportFormat, r.status, r.header.Get("Content-Type"), len(r.body), s.Size)
		}
		if diff := cmp.Diff([]string{"workstations=5"}, reportUsages(t, s.ReportFormat, r.body)); diff != "" {
			t.Errorf("%s holds the customer's usage, zero rows hidden: -want +got:\n%s", s.ReportFormat, diff)
		}
	}
}

// reportUsages parses a report file of any format into "item=usage" lines.
func reportUsages(t *testing.T, format string, data []byte) []string {
	t.Helper()
	var out []string
	switch format {
	case "csv", "csv_v2_0":
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(rows) == 0 {
			t.Fatalf("%s does not parse: %v", format, err)
		}
		for _, row := range rows[1:] {
			out = append(out, row[7]+"="+row[12])
		}
	case "json_v1":
		var doc struct {
			Items []struct {
				OfferingItem string  `json:"offering_item"`
				Usage        float64 `json:"usage"`
			} `json:"items"`
		}
		mustUnmarshal(t, data, &doc)
		for _, it := range doc.Items {
			out = append(out, it.OfferingItem+"="+formatNumber(it.Usage))
		}
	case "json_v2_0":
		var doc struct {
			Tenants []struct {
				Usages []struct {
					OfferingItem string  `json:"offering_item"`
					Value        float64 `json:"value"`
				} `json:"usages"`
			} `json:"tenants"`
		}
		mustUnmarshal(t, data, &doc)
		for _, tn := range doc.Tenants {
			for _, u := range tn.Usages {
				out = append(out, u.OfferingItem+"="+formatNumber(u.Value))
			}
		}
	case "html":
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "<tr><td>") {
				continue
			}
			cells := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "<tr><td>"), "</td></tr>"), "</td><td>")
			out = append(out, cells[5]+"="+cells[7])
		}
	}
	slices.Sort(out)
	return out
}

func TestReportContents(t *testing.T) {
	w := newWorld(t, Options{InstantReports: true})
	w.env.srv.SetUsage(w.unit.ID, "workstations", "", 2)
	w.env.srv.SetUsage(w.customer.ID, "workstations", "", 3)
	w.env.srv.SetUsage(w.customer.ID, "storage", DefaultInfraID, 2048)
	w.env.srv.SetUsage(w.p2.ID, "servers", "", 7)
	type row struct{ Tenant, Start, End, Item, SKU string }
	cases := map[string]struct {
		reason string
		change func(m map[string]any)
		want   []string // tenant/item=usage lines of the json_v1 file
	}{
		"Accounts": {"accounts covers the whole subtree, with sub-tenant usage counted upwards", func(m map[string]any) {
			params(m)["tenant_id"] = w.partner.ID
		}, []string{"Customer/storage=2048", "Customer/workstations=5", "Partner/storage=2048", "Partner/workstations=5", "Unit/workstations=2"}},
		"Itself": {"itself is the tenant alone", func(m map[string]any) {
			params(m)["tenant_id"] = w.partner.ID
			params(m)["level"] = "itself"
		}, []string{"Partner/storage=2048", "Partner/workstations=5"}},
		"AllCustomers": {"all_customers keeps customers", func(m map[string]any) {
			params(m)["tenant_id"] = w.provider.ID
			params(m)["level"] = "all_customers"
		}, []string{"Customer/storage=2048", "Customer/workstations=5"}},
		"DirectPartners": {"direct_partners keeps the partners right below", func(m map[string]any) {
			params(m)["tenant_id"] = w.provider.ID
			params(m)["level"] = "direct_partners"
		}, []string{"Partner 2/servers=7", "Partner/storage=2048", "Partner/workstations=5"}},
		"Breakdown": {"usage_breakdown shows each tenant's own usage", func(m map[string]any) {
			params(m)["tenant_id"] = w.partner.ID
			params(m)["kind"] = "usage_breakdown"
		}, []string{"Customer/storage=2048", "Customer/workstations=3", "Unit/workstations=2"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rep := w.createReport(t, reportBody("", func(m map[string]any) {
				params(m)["formats"] = []string{"json_v1"}
				params(m)["hide_zero_usage"] = true
				tc.change(m)
			}))
			st := w.stored(t, rep.ID)
			if len(st) != 1 || st[0].Status != StoredSaved {
				t.Fatalf("InstantReports: stored = %+v, want one saved file", st)
			}
			r := w.env.api.do(http.MethodGet, "/reports/"+rep.ID+"/stored/"+st[0].ID, nil)
			var doc struct {
				Items []struct {
					TenantName   string  `json:"tenant_name"`
					OfferingItem string  `json:"offering_item"`
					Usage        float64 `json:"usage"`
				} `json:"items"`
			}
			mustUnmarshal(t, r.body, &doc)
			var got []string
			for _, it := range doc.Items {
				got = append(got, it.TenantName+"/"+it.OfferingItem+"="+formatNumber(it.Usage))
			}
			slices.Sort(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
	t.Run("DailyWithSKUs", func(t *testing.T) {
		rep := w.createReport(t, reportBody(w.unit.ID, func(m map[string]any) {
			params(m)["kind"] = "usage_daily"
			params(m)["level"] = "itself"
			params(m)["show_skus"] = true
			params(m)["hide_zero_usage"] = true
			params(m)["formats"] = []string{"csv"}
			params(m)["period"] = map[string]any{"start": "2024-05-01", "end": "2024-05-03"}
		}))
		st := w.stored(t, rep.ID)
		r := w.env.api.do(http.MethodGet, "/reports/"+rep.ID+"/stored/"+st[0].ID, nil)
		rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatalf("csv: %v", err)
		}
		var got []row
		for _, rw := range rows[1:] {
			got = append(got, row{Tenant: rw[3], Start: rw[0], End: rw[1], Item: rw[7], SKU: rw[15]})
		}
		want := []row{
			{"Unit", "2024-05-01", "2024-05-01", "workstations", "SKU-BACKUP-WORKSTATIONS"},
			{"Unit", "2024-05-02", "2024-05-02", "workstations", "SKU-BACKUP-WORKSTATIONS"},
			{"Unit", "2024-05-03", "2024-05-03", "workstations", "SKU-BACKUP-WORKSTATIONS"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("one row per day with SKUs: -want +got:\n%s", diff)
		}
	})
}

func TestReportLifecycle(t *testing.T) {
	w := newWorld(t, Options{})
	monthly := w.createReport(t, reportBody(w.partner.ID, func(m map[string]any) {
		m["schedule"] = map[string]any{"type": "monthly", "enabled": true}
		delete(params(m), "period")
		params(m)["formats"] = []string{"csv", "html"}
	}))
	once := w.createReport(t, reportBody(w.partner.ID, nil))
	if monthly.GenerationDate != "2024-06-01" {
		t.Errorf("monthly generation_date = %q, want the first of next month", monthly.GenerationDate)
	}
	if n := len(w.stored(t, monthly.ID)); n != 2 {
		t.Errorf("an enabled monthly report has %d stored files at creation, want one per format", n)
	}

	t.Run("TenantReports", func(t *testing.T) {
		r := w.env.api.do(http.MethodGet, "/tenants/"+w.partner.ID+"/reports", nil)
		var got struct {
			Items []string `json:"items"`
		}
		mustUnmarshal(t, r.body, &got)
		want := []string{monthly.ID, once.ID}
		slices.Sort(want)
		if diff := cmp.Diff(want, got.Items); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
		if diff := cmp.Diff(errCode{403, codeAccessDenied}, w.env.api.do(http.MethodGet, "/tenants/"+w.root.ID+"/reports", nil).code(t)); diff != "" {
			t.Errorf("root's reports: -want +got:\n%s", diff)
		}
	})

	t.Run("Update", func(t *testing.T) {
		cases := map[string]struct {
			reason string
			id     string
			body   any
			want   errCode
		}{
			"OnceRefused":  {"only scheduled reports can be updated", once.ID, map[string]any{"recipients": []string{}}, errCode{400, 400}},
			"ToOnce":       {"a scheduled report stays scheduled", monthly.ID, map[string]any{"schedule": map[string]any{"type": "once"}}, errCode{400, 400}},
			"Stale":        {"the official body has no version: sending one is refused", monthly.ID, map[string]any{"version": monthly.Version - 1, "recipients": []string{}}, errCode{400, 400}},
			"UnknownField": {"unknown fields are refused", monthly.ID, map[string]any{"owner": "x"}, errCode{400, 400}},
			"BadKind":      {"values are validated", monthly.ID, map[string]any{"parameters": map[string]any{"kind": "usage_total"}}, errCode{400, 400}},
			"Missing":      {"an unknown report is 404", "00000000-0000-4000-8000-000000000000", map[string]any{}, errCode{404, 404}},
		}
		for name, tc := range cases {
			t.Run(name, func(t *testing.T) {
				before, _ := w.env.srv.Report(tc.id)
				r := w.env.api.do(http.MethodPut, "/reports/"+tc.id, tc.body)
				if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
					t.Fatalf("%s: -want +got:\n%s\n%s", tc.reason, diff, r.body)
				}
				after, _ := w.env.srv.Report(tc.id)
				if diff := cmp.Diff(before, after); diff != "" {
					t.Errorf("%s: a refused update changed the report: %s", tc.reason, diff)
				}
			})
		}
		r := w.env.api.do(http.MethodPut, "/reports/"+monthly.ID, strings.Replace(seedPutReport, "TENANT", w.partner.ID, 1))
		if r.status != 200 {
			t.Fatalf("the reference's PUT example: %d %s", r.status, r.body)
		}
		var got Report
		mustUnmarshal(t, r.body, &got)
		want := monthly
		want.Version = got.Version
		want.Recipients = []string{"ca451758-b48a-45d9-9ae6-8f1059f67619"}
		want.Parameters.Kind = "usage_current"
		want.Parameters.Level = "direct_partners"
		want.Parameters.HideZeroUsage = true
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("PUT merges what it is given: -want +got:\n%s", diff)
		}
		if got.Version <= monthly.Version {
			t.Errorf("version %d did not grow from %d", got.Version, monthly.Version)
		}
		monthly = got
	})

	t.Run("MonthlyGeneration", func(t *testing.T) {
		w.advance(30 * 24 * time.Hour) // 2024-06-05
		st := w.stored(t, monthly.ID)
		if len(st) != 4 {
			t.Fatalf("after the first of the month there are %d stored files, want 4", len(st))
		}
		rep, _ := w.env.srv.Report(monthly.ID)
		if rep.GenerationDate != "2024-07-01" {
			t.Errorf("generation_date = %q, want the next first of the month", rep.GenerationDate)
		}
		off := w.env.api.do(http.MethodPut, "/reports/"+monthly.ID, map[string]any{"schedule": map[string]any{"enabled": false}})
		if off.status != 200 {
			t.Fatalf("disable: %d %s", off.status, off.body)
		}
		w.advance(31 * 24 * time.Hour)
		if n := len(w.stored(t, monthly.ID)); n != 4 {
			t.Errorf("a disabled report generated files: %d", n)
		}
	})

	t.Run("Scope", func(t *testing.T) {
		id, secret := w.env.api.createClient(w.p2.ID)
		other := w.env.as(id, secret)
		for _, path := range []string{"/reports/" + once.ID, "/reports/" + once.ID + "/stored"} {
			if diff := cmp.Diff(errCode{403, codeAccessDenied}, other.do(http.MethodGet, path, nil).code(t)); diff != "" {
				t.Errorf("GET %s from another subtree: -want +got:\n%s", path, diff)
			}
		}
		if diff := cmp.Diff(errCode{403, codeAccessDenied}, other.do(http.MethodDelete, "/reports/"+once.ID+"?version="+jsonInt(once.Version), nil).code(t)); diff != "" {
			t.Errorf("DELETE from another subtree: -want +got:\n%s", diff)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		cases := []struct {
			reason string
			query  string
			want   errCode
		}{
			{"version is required", "", errCode{400, 400}},
			{"a stale version is 409", "?version=" + jsonInt(once.Version-1), errCode{409, codeVersionMismatch}},
			{"the current version deletes", "?version=" + jsonInt(once.Version), errCode{Status: 204}},
			{"a deleted report is gone", "?version=" + jsonInt(once.Version), errCode{404, 404}},
		}
		for _, tc := range cases {
			if diff := cmp.Diff(tc.want, w.env.api.do(http.MethodDelete, "/reports/"+once.ID+tc.query, nil).code(t)); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		}
		if _, ok := w.env.srv.Report(once.ID); ok {
			t.Errorf("the report is still stored")
		}
		if diff := cmp.Diff(errCode{404, 404}, w.env.api.do(http.MethodGet, "/reports/"+once.ID, nil).code(t)); diff != "" {
			t.Errorf("GET after delete: -want +got:\n%s", diff)
		}
	})
}

// TestReportRoundTrip decodes a report and a stored report written as the reference describes them.
func TestReportRoundTrip(t *testing.T) {
	docs := map[string]struct {
		doc string
		v   any
	}{
		"Report": {`{"id":"4d8e6b5a-7d1b-4a8c-9d7a-1c2b3d4e5f60","version":1559561146223,"recipients":["ca451758-b48a-45d9-9ae6-8f1059f67619"],` +
			`"result_action":"send","parameters":{"tenant_id":"2a91a14d-ffd3-4ac1-9b4d-3990162c5acc","level":"accounts","kind":"usage_summary",` +
			`"formats":["csv","json_v1"],"period":{"start":"2017-05-01","end":"2017-05-07"},"show_skus":false,"hide_zero_usage":true},` +
			`"schedule":{"type":"once","enabled":true},"generation_date":"2017-05-08"}`, &Report{}},
		"StoredReport": {`{"id":"5e9f7c6b-8e2c-4b9d-8e8b-2d3c4e5f6a71","report_format":"csv","size":1024,"created_at":"2017-05-08T00:00:00","status":"saved"}`, &StoredReport{}},
		"Location":     {`{"id":"bfdf24b0-5a72-49a8-a2bd-2fc7c085ff7b","owner_tenant_id":"0bb386ae-e66d-4e7b-84fb-cddcf60002de","platform_owned":false,"name":"Boston Infrastructure","version":10,"readonly":false}`, &Location{}},
		"Infra": {`{"id":"4a2cbe2d-b7ab-4b17-9cba-10c7eb55de01","owner_tenant_id":"0bb386ae-e66d-4e7b-84fb-cddcf60002de","location_id":"bfdf24b0-5a72-49a8-a2bd-2fc7c085ff7b",` +
			`"platform_owned":false,"name":"Default Infrastructure Component","url":"acronis+fes://storage20.acronis.com:44445","capabilities":["backup","disaster_recovery"],` +
			`"content_url":"https://browse.storage20.acronis.com/","content_mobile_url":"https://browse.storage20.acronis.com/mobile/","backend_type":"azure","version":10,"readonly":false}`, &Infra{}},
		"Usage": {`{"tenant_id":1042,"tenant_uuid":"2a91a14d-ffd3-4ac1-9b4d-3990162c5acc","application_id":"a9fd8016-0e00-4ade-949e-6efe8672dac0","name":"workstations",` +
			`"usage_name":"workstations","edition":"standard","type":"count","measurement_unit":"quantity","value":5,"absolute_value":5,` +
			`"range_start":"2024-05-01T00:00:00","offering_item":{"status":1,"quota":{"value":10,"overage":12,"version":1486479690324}}}`, &Usage{}},
		"Application": {`{"id":"a9fd8016-0e00-4ade-949e-6efe8672dac0","name":"Cyber Protection","type":"backup","usages":["workstations","storage"],"api_base_url":"/api/1"}`, &Application{}},
	}
	for name, tc := range docs {
		t.Run(name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tc.doc))
			dec.DisallowUnknownFields()
			if err := dec.Decode(tc.v); err != nil {
				t.Fatalf("decoding: %v", err)
			}
			out, _ := json.Marshal(tc.v)
			var want, got any
			mustUnmarshal(t, []byte(tc.doc), &want)
			mustUnmarshal(t, out, &got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("round trip: -want +got:\n%s", diff)
			}
		})
	}
}
