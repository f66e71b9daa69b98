package usagereport

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// This file translates between the UsageReport spec and the account
// server's report; nothing here talks to the server.

// maxStoredInStatus bounds status.storedReports: a monthly report gains one
// file per format every month.
const maxStoredInStatus = 50

func wantEnabled(r *v1.UsageReport) bool {
	return r.Spec.Schedule.Enabled == nil || *r.Spec.Schedule.Enabled
}

func isOnce(r *v1.UsageReport) bool { return r.Spec.Schedule.Type == v1.ReportOnce }

func resultAction(r *v1.UsageReport) string {
	if r.Spec.ResultAction == "" {
		return string(v1.ReportSave)
	}
	return string(r.Spec.ResultAction)
}

func level(r *v1.UsageReport) string {
	if r.Spec.Level == "" {
		return string(v1.ReportLevelAccounts)
	}
	return string(r.Spec.Level)
}

func formats(r *v1.UsageReport) []string {
	out := make([]string, 0, len(r.Spec.Formats))
	for _, f := range r.Spec.Formats {
		out = append(out, string(f))
	}
	return out
}

// toParameters is what the report covers.
func toParameters(r *v1.UsageReport, tenantID string) accountserver.ReportParameters {
	p := accountserver.ReportParameters{
		TenantID:      tenantID,
		Level:         level(r),
		Kind:          string(r.Spec.Kind),
		Formats:       formats(r),
		ShowSKUs:      r.Spec.ShowSKUs,
		HideZeroUsage: r.Spec.HideZeroUsage,
	}
	if pe := r.Spec.Period; pe != nil {
		p.Period = &accountserver.ReportPeriod{Start: pe.Start, End: pe.End}
	}
	return p
}

// toSpec is the report the spec describes, for a create.
func toSpec(r *v1.UsageReport, tenantID string, recipients []string) accountserver.ReportSpec {
	return accountserver.ReportSpec{
		Recipients:   recipientList(recipients),
		ResultAction: resultAction(r),
		Parameters:   toParameters(r, tenantID),
		Schedule:     accountserver.ReportSchedule{Type: string(r.Spec.Schedule.Type), Enabled: ptr.To(wantEnabled(r))},
	}
}

// reportDiff names the fields of a report that differ from the spec and
// that PUT /reports/{id} can change: recipients, level, kind, the two
// display switches and whether the schedule is enabled. Only monthly
// reports can be changed on the server; a once report is compared when it
// is adopted (with replaceDiff too).
func reportDiff(r *v1.UsageReport, tenantID string, recipients []string, got *accountserver.Report) []string {
	want := toParameters(r, tenantID)
	have := got.Parameters
	var fields diffs
	add := fields.add
	add(want.Kind != have.Kind, "kind")
	add(want.Level != have.Level, "level")
	add(want.ShowSKUs != have.ShowSKUs, "showSKUs")
	add(want.HideZeroUsage != have.HideZeroUsage, "hideZeroUsage")
	add(wantEnabled(r) != ptr.Deref(got.Schedule.Enabled, true), "schedule.enabled")
	add(!sameSet(recipients, got.Recipients), "recipients")
	return fields
}

// diffs collects the names of the fields that differ.
type diffs []string

func (d *diffs) add(differs bool, name string) {
	if differs {
		*d = append(*d, name)
	}
}

// replaceDiff names the fields of a report that differ from the spec and
// that the server cannot change in place: a new report is needed.
func replaceDiff(r *v1.UsageReport, tenantID string, got *accountserver.Report) []string {
	want := toParameters(r, tenantID)
	have := got.Parameters
	var fields diffs
	add := fields.add
	add(want.TenantID != have.TenantID, "tenant")
	add(!sameSet(want.Formats, have.Formats), "formats")
	add(want.Period != nil && (have.Period == nil || *want.Period != *have.Period), "period")
	add(string(r.Spec.Schedule.Type) != got.Schedule.Type, "schedule.type")
	add(resultAction(r) != got.ResultAction, "resultAction")
	return fields
}

// toUpdate is the PUT that makes a monthly report match the spec: only
// what the official schema lets a report change in place, and no version
// (PUT /reports/{id} takes none).
func toUpdate(r *v1.UsageReport, recipients []string) accountserver.ReportUpdate {
	return accountserver.ReportUpdate{
		Recipients: recipientList(recipients),
		Parameters: &accountserver.ReportUpdateParameters{
			Level:         level(r),
			Kind:          string(r.Spec.Kind),
			HideZeroUsage: r.Spec.HideZeroUsage,
			ShowSKUs:      r.Spec.ShowSKUs,
		},
		Schedule: &accountserver.ReportUpdateSchedule{Enabled: wantEnabled(r)},
	}
}

// recipientList is the recipients as the server takes them: a list of its
// own, empty rather than absent when there are none.
func recipientList(recipients []string) []string {
	if recipients == nil {
		return []string{}
	}
	return slices.Clone(recipients)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// newestFirst orders stored files by creation, newest first (ID breaks
// ties, so the order is stable).
func newestFirst(stored []accountserver.StoredReport) []accountserver.StoredReport {
	out := slices.Clone(stored)
	slices.SortStableFunc(out, func(a, b accountserver.StoredReport) int {
		if c := b.CreatedAt.Compare(a.CreatedAt.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

func toStored(s accountserver.StoredReport) v1.StoredReport {
	out := v1.StoredReport{ID: s.ID, Format: s.ReportFormat, Status: s.Status, Size: s.Size}
	if !s.CreatedAt.IsZero() {
		out.CreatedAt = ptr.To(metav1.NewTime(s.CreatedAt.UTC().Truncate(1e9)))
	}
	return out
}

// storedStatus is status.storedReports and status.lastSavedAt.
func storedStatus(stored []accountserver.StoredReport) ([]v1.StoredReport, *metav1.Time) {
	var out []v1.StoredReport
	var lastSaved *metav1.Time
	for _, s := range newestFirst(stored) {
		if len(out) < maxStoredInStatus {
			out = append(out, toStored(s))
		}
		if s.Status == accountserver.StoredReportSaved && lastSaved == nil && !s.CreatedAt.IsZero() {
			lastSaved = ptr.To(metav1.NewTime(s.CreatedAt.UTC().Truncate(1e9)))
		}
	}
	return out, lastSaved
}

// inProgress says whether the server is still generating a file.
func inProgress(stored []accountserver.StoredReport) bool {
	return slices.ContainsFunc(stored, func(s accountserver.StoredReport) bool { return s.Status == accountserver.StoredReportInProgress })
}

// selectOutput picks, for each format of the spec in order, the newest saved
// file, and splits them into those that fit together into limit bytes and
// those that do not. Formats with no saved file yet are left out.
func selectOutput(formats []string, stored []accountserver.StoredReport, limit int64) (fit, tooLarge []accountserver.StoredReport) {
	byAge := newestFirst(stored)
	var total int64
	for _, f := range formats {
		i := slices.IndexFunc(byAge, func(s accountserver.StoredReport) bool {
			return s.ReportFormat == f && s.Status == accountserver.StoredReportSaved
		})
		if i < 0 {
			continue
		}
		s := byAge[i]
		if total+s.Size > limit {
			tooLarge = append(tooLarge, s)
			continue
		}
		total += s.Size
		fit = append(fit, s)
	}
	return fit, tooLarge
}
