package emulator

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Report enums as the reference lists them.
var (
	reportLevels        = []string{"itself", "direct_partners", "all_partners", "all_customers", "accounts"}
	reportKinds         = []string{"usage_daily", "usage_summary", "usage_current", "usage_breakdown"}
	reportFormats       = []string{"csv", "html", "json_v1", "csv_v2_0", "json_v2_0"}
	reportResultActions = []string{"save", "send"}
	reportScheduleTypes = []string{"once", "monthly"}
)

// Stored report states.
const (
	StoredInProgress = "in_progress"
	StoredSaved      = "saved"
	StoredFailed     = "failed"
)

// reportGenerationTime is how long a stored report stays in_progress without Options.InstantReports.
const reportGenerationTime = 5 * time.Second

// dateLayout is the reference's YYYY-MM-DD.
const dateLayout = "2006-01-02"

var datePattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// ReportPeriod is the period a report covers, as dates.
type ReportPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// ReportParameters says what a report contains.
type ReportParameters struct {
	TenantID      string        `json:"tenant_id"`
	Level         string        `json:"level"`
	Kind          string        `json:"kind"`
	Formats       []string      `json:"formats"`
	Period        *ReportPeriod `json:"period"`
	ShowSKUs      bool          `json:"show_skus"`
	HideZeroUsage bool          `json:"hide_zero_usage"`
}

// ReportSchedule says when a report is generated.
type ReportSchedule struct {
	Type    string `json:"type"`
	Enabled bool   `json:"enabled"`
}

// Report is a usage report configuration.
type Report struct {
	ID             string           `json:"id"`
	Version        int64            `json:"version"`
	Recipients     []string         `json:"recipients"`
	ResultAction   string           `json:"result_action"`
	Parameters     ReportParameters `json:"parameters"`
	Schedule       ReportSchedule   `json:"schedule"`
	GenerationDate string           `json:"generation_date"`
}

func (r Report) clone() Report {
	r.Recipients = slices.Clone(r.Recipients)
	r.Parameters.Formats = slices.Clone(r.Parameters.Formats)
	r.Parameters.Period = clonePtr(r.Parameters.Period)
	return r
}

// StoredReport is one generated file of a report.
type StoredReport struct {
	ID           string `json:"id"`
	ReportFormat string `json:"report_format"`
	Size         int64  `json:"size"`
	CreatedAt    string `json:"created_at"`
	Status       string `json:"status"`
}

type reportRecord struct {
	Report Report          `json:"report"`
	Stored []*storedRecord `json:"stored"`
	// NextRun is when a monthly report is generated next; generation happens lazily, when the
	// report is next read, so the emulator needs no background goroutine and follows Options.Now.
	NextRun time.Time `json:"next_run,omitzero"`
}

type storedRecord struct {
	ID        string    `json:"id"`
	Format    string    `json:"format"`
	CreatedAt time.Time `json:"created_at"`
	ReadyAt   time.Time `json:"ready_at"`
	Content   []byte    `json:"content"`
}

// Report returns a report configuration by id, for tests.
func (s *Server) Report(id string) (Report, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.st.Ext.Reports[id]
	if !ok {
		return Report{}, false
	}
	return rec.Report.clone(), true
}

// Reports returns every report configuration sorted by id, for tests.
func (s *Server) Reports() []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Report
	for _, rec := range s.st.Ext.Reports {
		out = append(out, rec.Report.clone())
	}
	slices.SortFunc(out, func(a, b Report) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// StoredReports returns a report's generated files with their current status, for tests.
func (s *Server) StoredReports(reportID string) []StoredReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.st.Ext.Reports[reportID]
	if !ok {
		return nil
	}
	s.catchUpReport(rec)
	var out []StoredReport
	for _, sr := range rec.Stored {
		out = append(out, s.renderStored(sr))
	}
	return out
}

// ReportRequest is the body of POST /reports and PUT /reports/{id}. Pointers tell absent fields,
// which PUT keeps.
type ReportRequest struct {
	Recipients     []string                `json:"recipients,omitempty"`
	ResultAction   *string                 `json:"result_action,omitempty"`
	Parameters     *ReportParametersChange `json:"parameters,omitempty"`
	Schedule       *ReportScheduleChange   `json:"schedule,omitempty"`
	GenerationDate *string                 `json:"generation_date,omitempty"`
	Version        *int64                  `json:"version,omitempty"`
}

// ReportParametersChange is the parameters object of a report request.
type ReportParametersChange struct {
	TenantID      *string       `json:"tenant_id,omitempty"`
	Level         *string       `json:"level,omitempty"`
	Kind          *string       `json:"kind,omitempty"`
	Formats       []string      `json:"formats,omitempty"`
	Period        *ReportPeriod `json:"period,omitempty"`
	ShowSKUs      *bool         `json:"show_skus,omitempty"`
	HideZeroUsage *bool         `json:"hide_zero_usage,omitempty"`
}

// ReportScheduleChange is the schedule object of a report request.
type ReportScheduleChange struct {
	Type    *string `json:"type,omitempty"`
	Enabled *bool   `json:"enabled,omitempty"`
}

// apply merges a request into a report.
func (req *ReportRequest) apply(r *Report) {
	if req.Recipients != nil {
		r.Recipients = slices.Clone(req.Recipients)
	}
	if req.ResultAction != nil {
		r.ResultAction = *req.ResultAction
	}
	if p := req.Parameters; p != nil {
		setIf(&r.Parameters.TenantID, p.TenantID)
		setIf(&r.Parameters.Level, p.Level)
		setIf(&r.Parameters.Kind, p.Kind)
		if len(p.Formats) > 0 {
			r.Parameters.Formats = slices.Clone(p.Formats)
		}
		if p.Period != nil {
			r.Parameters.Period = clonePtr(p.Period)
		}
		setIf(&r.Parameters.ShowSKUs, p.ShowSKUs)
		setIf(&r.Parameters.HideZeroUsage, p.HideZeroUsage)
	}
	if sc := req.Schedule; sc != nil {
		setIf(&r.Schedule.Type, sc.Type)
		setIf(&r.Schedule.Enabled, sc.Enabled)
	}
	setIf(&r.GenerationDate, req.GenerationDate)
}

func oneOf(field, v string, allowed []string) *apiError {
	if !slices.Contains(allowed, v) {
		return errBadRequest("%s must be one of %s, got %q", field, strings.Join(allowed, ", "), v)
	}
	return nil
}

// validateReport checks a whole report configuration against the reference's rules, with today
// taken from the emulator's clock.
func validateReport(r *Report, now time.Time) *apiError {
	for i, id := range r.Recipients {
		if !validUUID(id) {
			return errBadRequest("recipients[%d] must be a lowercase UUID", i)
		}
	}
	p := r.Parameters
	if p.TenantID == "" || p.Level == "" || p.Kind == "" || len(p.Formats) == 0 {
		return errBadRequest("parameters.tenant_id, parameters.level, parameters.kind and parameters.formats are required")
	}
	if !validUUID(p.TenantID) {
		return errBadRequest("parameters.tenant_id must be a lowercase UUID")
	}
	checks := []*apiError{
		oneOf("result_action", r.ResultAction, reportResultActions),
		oneOf("parameters.level", p.Level, reportLevels),
		oneOf("parameters.kind", p.Kind, reportKinds),
		oneOf("schedule.type", r.Schedule.Type, reportScheduleTypes),
	}
	for i, f := range p.Formats {
		checks = append(checks, oneOf(fmt.Sprintf("parameters.formats[%d]", i), f, reportFormats))
		if slices.Contains(p.Formats[:i], f) {
			checks = append(checks, errBadRequest("parameters.formats[%d]: %q is listed twice", i, f))
		}
	}
	for _, e := range checks {
		if e != nil {
			return e
		}
	}
	if r.GenerationDate != "" {
		if _, err := time.Parse(dateLayout, r.GenerationDate); err != nil || !datePattern.MatchString(r.GenerationDate) {
			return errBadRequest("generation_date must be a date YYYY-MM-DD, got %q", r.GenerationDate)
		}
	}
	if p.Period == nil {
		if r.Schedule.Type == "once" && p.Kind != "usage_current" {
			return errBadRequest("parameters.period is required for a once report of kind %s", p.Kind)
		}
		return nil
	}
	start, err1 := parseTime(p.Period.Start)
	end, err2 := parseTime(p.Period.End)
	if err1 != nil || err2 != nil {
		return errBadRequest("parameters.period.start and parameters.period.end must be dates YYYY-MM-DD")
	}
	if end.Before(start) {
		return errBadRequest("parameters.period ends before it starts")
	}
	today := dayOf(now)
	if dayOf(start).After(today) || dayOf(end).After(today) {
		e := errBadRequest("parameters.period lies in the future: usage is known up to %s", today.Format(dateLayout))
		e.Context = map[string]any{"period": *p.Period}
		return e
	}
	return nil
}

func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *Server) createReport(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req ReportRequest
	// parameters and schedule are open objects in the official body: keys the emulator does not
	// know are ignored.
	if e := s.decodeJSON(r, &req, true); e != nil {
		return e
	}
	if req.Version != nil {
		return errBadRequest("version is set by the server")
	}
	if req.Parameters == nil || req.Schedule == nil || req.ResultAction == nil {
		return errBadRequest("result_action, parameters and schedule are required")
	}
	rep := Report{Recipients: []string{}, Schedule: ReportSchedule{Enabled: true}}
	req.apply(&rep)
	if len(rep.Parameters.Formats) == 0 {
		// formats is optional in the official body; a report without it is made as CSV (assumed).
		rep.Parameters.Formats = []string{"csv"}
	}
	notReady := s.Faults().ReportsNotReady
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if e := validateReport(&rep, now); e != nil {
		return e
	}
	if _, e := s.lookupTenant(c, rep.Parameters.TenantID, false); e != nil {
		return e
	}
	if notReady {
		// The server refuses new reports while it processes the day's usage (Faults.ReportsNotReady).
		return errBadRequest("usage history is not ready")
	}
	rep.ID = newID()
	rep.Version = s.nextVersion()
	if rep.Schedule.Type == "once" && rep.GenerationDate == "" {
		rep.GenerationDate = dayOf(now).Format(dateLayout)
	}
	rec := &reportRecord{Report: rep}
	switch {
	case rep.Schedule.Type == "monthly":
		s.scheduleMonthly(rec, now)
	case rep.Schedule.Enabled:
		s.generateReport(rec, reportPeriodOf(rep, now))
	}
	s.ext().Reports[rep.ID] = rec
	return reply(w, http.StatusOK, s.renderReport(rec))
}

// renderReport is a report as answers show it. The official document requires parameters.period in
// every report answer, though a request may leave it out: a report without its own period shows the
// period its next generation covers, the current month for a monthly report and today for a once
// report of current usage (not in the official schema). Call with s.mu held.
func (s *Server) renderReport(rec *reportRecord) Report {
	out := rec.Report.clone()
	if out.Parameters.Period == nil {
		now := s.now()
		p := reportPeriodOf(out, now)
		if out.Schedule.Type == "monthly" {
			next := rec.NextRun
			if next.IsZero() {
				next = monthStart(now).AddDate(0, 1, 0)
			}
			p = previousMonth(next)
		}
		out.Parameters.Period = &p
	}
	return out
}

// reportPeriodOf is the period a once report covers: its own, or today for current usage.
func reportPeriodOf(r Report, now time.Time) ReportPeriod {
	if r.Parameters.Period != nil && r.Parameters.Kind != "usage_current" {
		return *r.Parameters.Period
	}
	today := dayOf(now).Format(dateLayout)
	return ReportPeriod{Start: today, End: today}
}

// scheduleMonthly generates an enabled monthly report for the month just passed, so a new
// schedule has something to show, and sets the next run to the first day of the next month.
// Call with s.mu held.
func (s *Server) scheduleMonthly(rec *reportRecord, now time.Time) {
	next := monthStart(now).AddDate(0, 1, 0)
	rec.NextRun = next
	if rec.Report.GenerationDate == "" {
		rec.Report.GenerationDate = next.Format(dateLayout)
	}
	if rec.Report.Schedule.Enabled && len(rec.Stored) == 0 {
		s.generateReport(rec, previousMonth(monthStart(now)))
	}
}

// previousMonth is the calendar month before the month starting at start.
func previousMonth(start time.Time) ReportPeriod {
	return ReportPeriod{Start: start.AddDate(0, -1, 0).Format(dateLayout), End: start.AddDate(0, 0, -1).Format(dateLayout)}
}

// catchUpReport runs the monthly generations the clock has passed since the report was last read.
// Call with s.mu held.
func (s *Server) catchUpReport(rec *reportRecord) {
	if rec.Report.Schedule.Type != "monthly" || rec.NextRun.IsZero() {
		return
	}
	now := s.now()
	// A clock moved years ahead would otherwise generate one file set per month in between.
	for range 24 {
		if now.Before(rec.NextRun) {
			return
		}
		if rec.Report.Schedule.Enabled {
			s.generateReport(rec, previousMonth(rec.NextRun))
		}
		rec.NextRun = rec.NextRun.AddDate(0, 1, 0)
		rec.Report.GenerationDate = rec.NextRun.Format(dateLayout)
	}
	rec.NextRun = monthStart(now).AddDate(0, 1, 0)
}

// generateReport stores one file per format, built from the usage as it is now. Call with s.mu held.
func (s *Server) generateReport(rec *reportRecord, period ReportPeriod) {
	now := s.now()
	ready := now.Add(reportGenerationTime)
	if s.opts.InstantReports {
		ready = now
	}
	rows := s.reportRows(rec.Report, period)
	for _, f := range rec.Report.Parameters.Formats {
		rec.Stored = append(rec.Stored, &storedRecord{
			ID:        newID(),
			Format:    f,
			CreatedAt: now,
			ReadyAt:   ready,
			Content:   renderReportFile(rec.Report, period, formatTime(now), f, rows),
		})
	}
}

func (s *Server) renderStored(sr *storedRecord) StoredReport {
	out := StoredReport{ID: sr.ID, ReportFormat: sr.Format, CreatedAt: formatTime(sr.CreatedAt), Status: StoredInProgress}
	if !s.now().Before(sr.ReadyAt) {
		out.Status = StoredSaved
		out.Size = int64(len(sr.Content))
	}
	return out
}

// readReport finds a report the caller may see and brings its monthly generations up to date.
// Call with s.mu held.
func (s *Server) readReport(c callerInfo, id string) (*reportRecord, *apiError) {
	rec, ok := s.ext().Reports[id]
	if !ok {
		return nil, errNotFound("report", id)
	}
	if _, ok := s.st.Tenants[rec.Report.Parameters.TenantID]; !ok || !s.inScope(c.TenantID, rec.Report.Parameters.TenantID) {
		return nil, errForbidden()
	}
	s.catchUpReport(rec)
	return rec, nil
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.readReport(c, r.PathValue("report_id"))
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.renderReport(rec))
}

func (s *Server) updateReport(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req ReportRequest
	// parameters and schedule are open objects in the official body: keys the emulator does not
	// know are ignored.
	if e := s.decodeJSON(r, &req, true); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.readReport(c, r.PathValue("report_id"))
	if e != nil {
		return e
	}
	if rec.Report.Schedule.Type != "monthly" {
		return errBadRequest("only scheduled reports can be updated; report %s is a once report", rec.Report.ID)
	}
	if req.Version != nil {
		if e := checkVersion(rec.Report.Version, *req.Version); e != nil {
			return e
		}
	}
	next := rec.Report.clone()
	req.apply(&next)
	if next.Schedule.Type != "monthly" {
		return errBadRequest("a scheduled report cannot be turned into a once report")
	}
	now := s.now()
	if e := validateReport(&next, now); e != nil {
		return e
	}
	if next.Parameters.TenantID != rec.Report.Parameters.TenantID {
		if _, e := s.lookupTenant(c, next.Parameters.TenantID, false); e != nil {
			return e
		}
	}
	before, _ := json.Marshal(rec.Report)
	after, _ := json.Marshal(next)
	if !bytes.Equal(before, after) {
		next.Version = s.nextVersion()
		rec.Report = next
		s.scheduleMonthly(rec, now)
	}
	return reply(w, http.StatusOK, s.renderReport(rec))
}

func (s *Server) deleteReport(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	version, e := queryVersion(r)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.readReport(c, r.PathValue("report_id"))
	if e != nil {
		return e
	}
	if e := checkVersion(rec.Report.Version, version); e != nil {
		return e
	}
	delete(s.ext().Reports, rec.Report.ID)
	return replyStatus(w, http.StatusNoContent)
}

func (s *Server) listStoredReports(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.readReport(c, r.PathValue("report_id"))
	if e != nil {
		return e
	}
	items := []StoredReport{}
	for _, sr := range rec.Stored {
		items = append(items, s.renderStored(sr))
	}
	return reply(w, http.StatusOK, map[string]any{"items": items})
}

var reportExtensions = map[string]string{"csv": "csv", "csv_v2_0": "csv", "html": "html", "json_v1": "json", "json_v2_0": "json"}

func (s *Server) downloadStoredReport(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.readReport(c, r.PathValue("report_id"))
	if e != nil {
		return e
	}
	sid := r.PathValue("stored_report_id")
	i := slices.IndexFunc(rec.Stored, func(sr *storedRecord) bool { return sr.ID == sid })
	if i < 0 {
		return errNotFound("stored report", sid)
	}
	sr := rec.Stored[i]
	if s.now().Before(sr.ReadyAt) {
		return errorf(http.StatusNotFound, 0, "stored report %s is still being generated", sid)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="report-%s.%s"`, sid, reportExtensions[sr.Format]))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(sr.Content)
	return nil
}

func (s *Server) tenantReports(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	ids := []string{}
	for id, rec := range s.ext().Reports {
		if rec.Report.Parameters.TenantID == t.ID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return reply(w, http.StatusOK, map[string]any{"items": ids})
}

// reportRow is one line of a report: one offering item of one tenant on one day (or period).
type reportRow struct {
	Start, End      string
	TenantID        string
	TenantName      string
	TenantKind      string
	ParentID        string
	ApplicationID   string
	ApplicationName string
	Item            string
	Edition         string
	UsageName       string
	Unit            string
	InfraID         string
	Value           float64
	Quota           *float64
	Overage         *float64
	SKU             string
}

// reportTenants picks the tenants a report covers by its level. Call with s.mu held.
func (s *Server) reportTenants(rootID, level string) []*Tenant {
	var out []*Tenant
	for i, id := range s.tenantTree(rootID, false) {
		t := s.st.Tenants[id]
		if t == nil || t.Kind == kindPersonal {
			continue
		}
		keep := false
		switch level {
		case "itself":
			keep = i == 0
		case "direct_partners":
			keep = t.ParentID == rootID && t.ID != rootID && t.Kind == KindPartner
		case "all_partners":
			keep = t.Kind == KindPartner
		case "all_customers":
			keep = t.Kind == KindCustomer
		case "accounts":
			keep = true
		}
		if keep {
			out = append(out, t)
		}
	}
	return out
}

// reportRows collects the usage lines of a report from the store. Call with s.mu held.
func (s *Server) reportRows(rep Report, period ReportPeriod) []reportRow {
	p := rep.Parameters
	var days []string
	if p.Kind == "usage_daily" {
		start, _ := parseTime(period.Start)
		end, _ := parseTime(period.End)
		for d := dayOf(start); !d.After(end) && len(days) < 400; d = d.AddDate(0, 0, 1) {
			days = append(days, d.Format(dateLayout))
		}
	}
	var rows []reportRow
	for _, t := range s.reportTenants(p.TenantID, p.Level) {
		for _, it := range s.ext().Items[t.ID] {
			if it.DeletedAt != nil || it.Status != 1 {
				continue
			}
			value := s.itemUsage(t.ID, it)
			if p.Kind == "usage_breakdown" {
				value = s.ownUsage(t.ID, it.UsageName, it.infraID())
			}
			if p.HideZeroUsage && value == 0 {
				continue
			}
			app, _ := findApp(it.ApplicationID)
			row := reportRow{
				Start: period.Start, End: period.End,
				TenantID: t.ID, TenantName: t.Name, TenantKind: t.Kind, ParentID: t.ParentID,
				ApplicationID: it.ApplicationID, ApplicationName: app.Name,
				Item: it.Name, Edition: it.editionName(), UsageName: it.UsageName, Unit: it.MeasurementUnit, InfraID: it.infraID(),
				Value: value, Quota: clonePtr(it.Quota.Value), Overage: clonePtr(it.Quota.Overage),
			}
			if p.ShowSKUs {
				row.SKU = "SKU-" + strings.ToUpper(strings.ReplaceAll(app.Type+"-"+it.Name, "_", "-"))
			}
			if days == nil {
				rows = append(rows, row)
				continue
			}
			for _, d := range days {
				row.Start, row.End = d, d
				rows = append(rows, row)
			}
		}
	}
	return rows
}

func quotaText(v *float64) string {
	if v == nil {
		return "unlimited"
	}
	return formatNumber(*v)
}

// renderReportFile writes the rows in one of the reference's formats.
func renderReportFile(rep Report, period ReportPeriod, generatedAt, format string, rows []reportRow) []byte {
	skus := rep.Parameters.ShowSKUs
	switch format {
	case "csv", "csv_v2_0":
		header := []string{"start_date", "end_date", "tenant_id", "tenant_name", "tenant_kind", "parent_id", "application", "offering_item", "edition", "usage_name", "measurement_unit", "infra_id", "usage", "quota", "hard_quota"}
		if format == "csv_v2_0" {
			header = []string{"Start date", "End date", "Tenant ID", "Tenant name", "Tenant kind", "Parent tenant ID", "Service", "Offering item", "Edition", "Usage name", "Measurement unit", "Infrastructure ID", "Usage", "Soft quota", "Hard quota"}
		}
		if skus {
			header = append(header, map[bool]string{false: "sku", true: "SKU"}[format == "csv_v2_0"])
		}
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		_ = cw.Write(header)
		for _, r := range rows {
			rec := []string{r.Start, r.End, r.TenantID, r.TenantName, r.TenantKind, r.ParentID, r.ApplicationName, r.Item, r.Edition, r.UsageName, r.Unit, r.InfraID, formatNumber(r.Value), quotaText(r.Quota), quotaText(r.Overage)}
			if skus {
				rec = append(rec, r.SKU)
			}
			_ = cw.Write(rec)
		}
		cw.Flush()
		return buf.Bytes()
	case "json_v1":
		items := make([]map[string]any, 0, len(rows))
		for _, r := range rows {
			m := map[string]any{
				"start_date": r.Start, "end_date": r.End, "tenant_id": r.TenantID, "tenant_name": r.TenantName,
				"tenant_kind": r.TenantKind, "parent_id": r.ParentID, "application_id": r.ApplicationID,
				"application_name": r.ApplicationName, "offering_item": r.Item, "edition": r.Edition,
				"usage_name": r.UsageName, "measurement_unit": r.Unit, "infra_id": r.InfraID,
				"usage": r.Value, "quota": r.Quota, "hard_quota": r.Overage,
			}
			if skus {
				m["sku"] = r.SKU
			}
			items = append(items, m)
		}
		data, _ := json.MarshalIndent(map[string]any{
			"report_id": rep.ID, "tenant_id": rep.Parameters.TenantID, "kind": rep.Parameters.Kind, "level": rep.Parameters.Level,
			"period": period, "generated_at": generatedAt, "items": items,
		}, "", "  ")
		return append(data, '\n')
	case "json_v2_0":
		type usage struct {
			StartDate       string   `json:"start_date"`
			EndDate         string   `json:"end_date"`
			ApplicationID   string   `json:"application_id"`
			ApplicationName string   `json:"application_name"`
			OfferingItem    string   `json:"offering_item"`
			Edition         string   `json:"edition,omitempty"`
			UsageName       string   `json:"usage_name"`
			MeasurementUnit string   `json:"measurement_unit"`
			InfraID         string   `json:"infra_id,omitempty"`
			Value           float64  `json:"value"`
			Quota           *float64 `json:"quota"`
			Overage         *float64 `json:"overage"`
			SKU             string   `json:"sku,omitempty"`
		}
		type tenant struct {
			ID       string  `json:"id"`
			Name     string  `json:"name"`
			Kind     string  `json:"kind"`
			ParentID string  `json:"parent_id"`
			Usages   []usage `json:"usages"`
		}
		tenants := []*tenant{}
		for _, r := range rows {
			if len(tenants) == 0 || tenants[len(tenants)-1].ID != r.TenantID {
				tenants = append(tenants, &tenant{ID: r.TenantID, Name: r.TenantName, Kind: r.TenantKind, ParentID: r.ParentID, Usages: []usage{}})
			}
			cur := tenants[len(tenants)-1]
			cur.Usages = append(cur.Usages, usage{
				StartDate: r.Start, EndDate: r.End, ApplicationID: r.ApplicationID, ApplicationName: r.ApplicationName,
				OfferingItem: r.Item, Edition: r.Edition, UsageName: r.UsageName, MeasurementUnit: r.Unit, InfraID: r.InfraID,
				Value: r.Value, Quota: r.Quota, Overage: r.Overage, SKU: r.SKU,
			})
		}
		data, _ := json.MarshalIndent(map[string]any{
			"format_version": "2.0",
			"report":         map[string]any{"id": rep.ID, "tenant_id": rep.Parameters.TenantID, "kind": rep.Parameters.Kind, "level": rep.Parameters.Level, "period": period, "generated_at": generatedAt},
			"tenants":        tenants,
		}, "", "  ")
		return append(data, '\n')
	default: // html
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Usage report</title></head><body>\n")
		fmt.Fprintf(&b, "<h1>Usage report (%s, %s)</h1>\n<p>Period %s to %s, generated %s</p>\n",
			html.EscapeString(rep.Parameters.Kind), html.EscapeString(rep.Parameters.Level), html.EscapeString(period.Start), html.EscapeString(period.End), html.EscapeString(generatedAt))
		b.WriteString("<table>\n<tr><th>Start date</th><th>End date</th><th>Tenant</th><th>Tenant ID</th><th>Service</th><th>Offering item</th><th>Usage name</th><th>Usage</th><th>Unit</th><th>Quota</th><th>Hard quota</th>")
		if skus {
			b.WriteString("<th>SKU</th>")
		}
		b.WriteString("</tr>\n")
		for _, r := range rows {
			cells := []string{r.Start, r.End, r.TenantName, r.TenantID, r.ApplicationName, r.Item, r.UsageName, formatNumber(r.Value), r.Unit, quotaText(r.Quota), quotaText(r.Overage)}
			if skus {
				cells = append(cells, r.SKU)
			}
			b.WriteString("<tr>")
			for _, c := range cells {
				fmt.Fprintf(&b, "<td>%s</td>", html.EscapeString(c))
			}
			b.WriteString("</tr>\n")
		}
		b.WriteString("</table>\n</body></html>\n")
		return []byte(b.String())
	}
}
