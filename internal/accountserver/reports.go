package accountserver

import (
	"context"
	"net/http"
)

// ReportPeriod is a report's date range (YYYY-MM-DD).
type ReportPeriod struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// ReportParameters say what a usage report covers.
type ReportParameters struct {
	TenantID      string        `json:"tenant_id"`
	Level         string        `json:"level,omitempty"`
	Kind          string        `json:"kind,omitempty"`
	Formats       []string      `json:"formats,omitempty"`
	Period        *ReportPeriod `json:"period,omitempty"`
	ShowSKUs      bool          `json:"show_skus"`
	HideZeroUsage bool          `json:"hide_zero_usage"`
}

// ReportSchedule says when a report is made: once or monthly.
type ReportSchedule struct {
	Type    string `json:"type"`
	Enabled *bool  `json:"enabled,omitempty"`
}

// ReportSpec is the writable part of a usage report (the body of POST /reports). The official
// schema requires recipients (an empty list when there are none), result_action, parameters and
// schedule.
type ReportSpec struct {
	Recipients     []string         `json:"recipients"`
	ResultAction   string           `json:"result_action"`
	Parameters     ReportParameters `json:"parameters"`
	Schedule       ReportSchedule   `json:"schedule"`
	GenerationDate string           `json:"generation_date,omitempty"`
}

// Report is a usage report configuration.
type Report struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	ReportSpec
}

// ReportUpdate is the body of PUT /reports/{id} (scheduled reports only). The official schema
// lets a report change only its recipients, four of its parameters and whether its schedule is
// enabled; everything else (formats, period, result action, tenant) needs a new report. It takes
// no version. Recipients is always sent: an empty list clears them.
type ReportUpdate struct {
	Recipients []string                `json:"recipients"`
	Parameters *ReportUpdateParameters `json:"parameters,omitempty"`
	Schedule   *ReportUpdateSchedule   `json:"schedule,omitempty"`
}

// ReportUpdateParameters are the parameters a report can change in place.
type ReportUpdateParameters struct {
	Level         string `json:"level"`
	Kind          string `json:"kind"`
	HideZeroUsage bool   `json:"hide_zero_usage"`
	ShowSKUs      bool   `json:"show_skus"`
}

// ReportUpdateSchedule turns a monthly report's schedule on or off.
type ReportUpdateSchedule struct {
	Enabled bool `json:"enabled"`
}

// Stored report statuses.
const (
	StoredReportInProgress = "in_progress"
	StoredReportSaved      = "saved"
	StoredReportFailed     = "failed"
)

// StoredReport is one generated file of a report.
type StoredReport struct {
	ID           string `json:"id"`
	ReportFormat string `json:"report_format"`
	Size         int64  `json:"size"`
	CreatedAt    Time   `json:"created_at"`
	Status       string `json:"status"`
}

// CreateReport creates a usage report (200). Not re-sent once it may have reached the server.
func (c *Client) CreateReport(ctx context.Context, in ReportSpec) (*Report, error) {
	if in.Recipients == nil {
		in.Recipients = []string{}
	}
	var r Report
	err := c.do(ctx, &request{method: http.MethodPost, route: "/reports", body: in, out: &r,
		op: "create report for tenant " + in.Parameters.TenantID})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// GetReport reads a report's configuration.
func (c *Client) GetReport(ctx context.Context, id string) (*Report, error) {
	var r Report
	if err := c.do(ctx, &request{method: http.MethodGet, route: "/reports/{id}", args: []string{id}, out: &r,
		op: "get report " + id}); err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateReport changes a scheduled report.
func (c *Client) UpdateReport(ctx context.Context, id string, in ReportUpdate) (*Report, error) {
	if in.Recipients == nil {
		in.Recipients = []string{}
	}
	var r Report
	if err := c.do(ctx, &request{method: http.MethodPut, route: "/reports/{id}", args: []string{id}, body: in, out: &r,
		op: "update report " + id}); err != nil {
		return nil, err
	}
	return &r, nil
}

// DeleteReport deletes a report.
func (c *Client) DeleteReport(ctx context.Context, id string, version int64) error {
	return c.do(ctx, &request{method: http.MethodDelete, route: "/reports/{id}", args: []string{id},
		query: versionQuery(version), op: "delete report " + id})
}

// ListStoredReports lists the files generated for a report.
func (c *Client) ListStoredReports(ctx context.Context, id string) ([]StoredReport, error) {
	var out items[StoredReport]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/reports/{id}/stored", args: []string{id}, out: &out,
		op: "list stored reports of report " + id})
	return out.Items, err
}

// DownloadStoredReport returns a stored report's file.
func (c *Client) DownloadStoredReport(ctx context.Context, id, storedID string) ([]byte, error) {
	var data []byte
	err := c.do(ctx, &request{method: http.MethodGet, route: "/reports/{id}/stored/{stored_id}", args: []string{id, storedID},
		raw: &data, op: "download stored report " + storedID + " of report " + id})
	return data, err
}
