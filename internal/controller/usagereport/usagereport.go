// Package usagereport says how a UsageReport object talks to the account
// server: the report configuration, its stored files, and the copy of the
// newest files into a ConfigMap. The generic loop in internal/managed does
// everything else.
package usagereport

import (
	"context"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Condition reasons of the UsageReport kind.
const (
	// ReasonReportMismatch: an imported once report differs from the spec,
	// and once reports cannot be changed on the server.
	ReasonReportMismatch = "ReportMismatch"
	// ReasonUsageNotReady: the server refused to make the report while it
	// rebuilds its usage history (its nightly window); the create is tried
	// again later.
	ReasonUsageNotReady = "UsageNotReady"
)

// DefaultNotReadyRetry is how soon a report the server refused during its
// nightly window is created again.
const DefaultNotReadyRetry = 5 * time.Minute

// Indexes of UsageReports by the objects they name.
const (
	RecipientIndex = ".spec.recipients.name"
	ConfigMapIndex = ".spec.output.configMapName"
)

// Annotations of the output ConfigMap: which report and which stored files
// its data comes from.
const (
	AnnotationReportID      = "accounts.tenant-operator.io/report-id"
	AnnotationStoredReports = "accounts.tenant-operator.io/stored-reports"
)

// DefaultMaxOutputBytes is how much report data goes into one ConfigMap:
// the API server refuses ConfigMaps over 1 MiB, metadata included.
const DefaultMaxOutputBytes = 1000 * 1000

// pollInterval is how soon a report whose files are being generated is
// looked at again.
const pollInterval = 3 * time.Second

// slowPollInterval is how often an enabled once report without any file is
// looked at (a server may start generating later than the create).
const slowPollInterval = 30 * time.Second

// remote is a report as read from the server, with its stored files.
type remote struct {
	report *accountserver.Report
	stored []accountserver.StoredReport
}

func (r *remote) RemoteID() string     { return r.report.ID }
func (r *remote) RemoteVersion() int64 { return r.report.Version }

// resolved is what Resolve found for one reconcile.
type resolved struct {
	tenantID   string
	recipients []string
}

type request = managed.Request[*v1.UsageReport, resolved]

// External talks to the account server about usage reports.
type External struct {
	tenant.Scope[*v1.UsageReport]
	// MaxOutputBytes bounds the data copied into the ConfigMap (default
	// DefaultMaxOutputBytes).
	MaxOutputBytes int64
	// NotReadyRetry is how soon a create the server refused during its
	// nightly window is tried again (default DefaultNotReadyRetry).
	NotReadyRetry time.Duration
}

// Resolve finds the tenant's UUID and the recipients' user IDs.
func (e *External) Resolve(ctx context.Context, req *request) (res resolved, err error) {
	r := req.Object
	if res.tenantID, err = e.TenantID(ctx, req.Conn, r); err != nil {
		return res, err
	}
	for _, ref := range r.Spec.Recipients {
		u := &v1.User{}
		if err := e.Reader.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: ref.Name}, u); err != nil {
			if apierrors.IsNotFound(err) {
				return resolved{}, managed.Waiting(managed.ReasonWaitingForReference, "waiting for recipient User %s to exist", ref.Name)
			}
			return resolved{}, err
		}
		if u.Status.ID == "" {
			return resolved{}, managed.Waiting(managed.ReasonWaitingForReference, "waiting for recipient User %s to be created", ref.Name)
		}
		res.recipients = append(res.recipients, u.Status.ID)
	}
	return res, nil
}

// Observe reads the report and its stored files.
func (e *External) Observe(ctx context.Context, req *request, id string) (*remote, error) {
	c := req.Conn.Client
	rep, err := c.GetReport(ctx, id)
	if err != nil {
		return nil, err
	}
	stored, err := c.ListStoredReports(ctx, id)
	if err != nil {
		return nil, err
	}
	return &remote{report: rep, stored: stored}, nil
}

// Find looks for the report an interrupted create made. Reports carry no
// name, so the natural key is the whole configuration: a report of the
// tenant whose parameters, schedule, result action and recipients are the
// spec's, that no other UsageReport object has claimed (status.id). Among
// several, the newest (highest version) is the one this object made last.
func (e *External) Find(ctx context.Context, req *request) (*remote, bool, error) {
	res := &req.Resolved
	c := req.Conn.Client
	ids, err := c.TenantReportIDs(ctx, res.tenantID)
	if err != nil {
		return nil, false, err
	}
	claimed, err := e.claimed(ctx, req.Object)
	if err != nil {
		return nil, false, err
	}
	want := toSpec(req.Object, res.tenantID, res.recipients)
	var best *accountserver.Report
	for _, id := range ids {
		if claimed[id] {
			continue
		}
		rep, err := c.GetReport(ctx, id)
		if accountserver.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		if matches(want, rep) && (best == nil || rep.Version > best.Version) {
			best = rep
		}
	}
	if best == nil {
		return nil, false, nil
	}
	stored, err := c.ListStoredReports(ctx, best.ID)
	if err != nil {
		return nil, false, err
	}
	return &remote{report: best, stored: stored}, true, nil
}

// claimed is the set of report IDs other UsageReport objects hold.
func (e *External) claimed(ctx context.Context, self *v1.UsageReport) (map[string]bool, error) {
	list := &v1.UsageReportList{}
	if err := e.Reader.List(ctx, list); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, o := range list.Items {
		if o.UID != self.UID && o.Status.ID != "" {
			out[o.Status.ID] = true
		}
	}
	return out, nil
}

// matches says whether a report on the server is the one the spec asks
// for; the generation date, which the server chooses, is left out.
func matches(want accountserver.ReportSpec, got *accountserver.Report) bool {
	w, g := want.Parameters, got.Parameters
	// The server gives every report a period (a monthly one shows the month
	// it will cover next); only a period the spec sets is compared.
	samePeriod := w.Period == nil || (g.Period != nil && *w.Period == *g.Period)
	return w.TenantID == g.TenantID && w.Kind == g.Kind && w.Level == g.Level && sameSet(w.Formats, g.Formats) &&
		w.ShowSKUs == g.ShowSKUs && w.HideZeroUsage == g.HideZeroUsage && samePeriod &&
		want.Schedule.Type == got.Schedule.Type && ptr.Deref(want.Schedule.Enabled, true) == ptr.Deref(got.Schedule.Enabled, true) &&
		want.ResultAction == got.ResultAction && sameSet(want.Recipients, got.Recipients)
}

// CanAdopt refuses a once report that differs from the spec: the server
// cannot change it, so the object could never match.
func (e *External) CanAdopt(_ context.Context, req *request, r *remote) error {
	if !isOnce(req.Object) {
		return nil
	}
	res := &req.Resolved
	fields := append(replaceDiff(req.Object, res.tenantID, r.report), reportDiff(req.Object, res.tenantID, res.recipients, r.report)...)
	if len(fields) > 0 {
		return managed.Stalled(ReasonReportMismatch, "once report %s differs from the spec in %s, and the server cannot change a once report; make the spec match it or create a new report",
			r.report.ID, strings.Join(fields, ", "))
	}
	return nil
}

// Create creates the report, after checking that its tenant lies in the
// connection's subtree. A once report is generated right away.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	res := &req.Resolved
	if err := e.CheckTenant(ctx, req.Conn, req.Object, res.tenantID); err != nil {
		return nil, err
	}
	rep, err := req.Conn.Client.CreateReport(ctx, toSpec(req.Object, res.tenantID, res.recipients))
	if accountserver.IsUsageNotReady(err) {
		retry := e.NotReadyRetry
		if retry <= 0 {
			retry = DefaultNotReadyRetry
		}
		return nil, managed.WaitingFor(ReasonUsageNotReady, retry,
			"the server's usage history is not ready (its nightly window); creating the report again in %s", retry)
	}
	if err != nil {
		return nil, tenant.MissingTenant(err, res.tenantID)
	}
	// A once report starts generating at once. Listing the files may fail
	// without harm: the next Observe lists them, and PollAfter comes back
	// for a once report that shows none.
	stored, err := req.Conn.Client.ListStoredReports(ctx, rep.ID)
	if err != nil {
		logf.FromContext(ctx).Info("cannot list the files of a new report yet", "report", rep.ID, "error", err.Error())
	}
	return &remote{report: rep, stored: stored}, nil
}

// MustReplace names what differs on a monthly report that the server cannot
// change in place (formats, result action, tenant): the loop then replaces
// the report with a new one. A once report is never changed: its spec
// cannot change (CEL), and CanAdopt checked an import.
func (e *External) MustReplace(req *request, r *remote) []string {
	if isOnce(req.Object) {
		return nil
	}
	return replaceDiff(req.Object, req.Resolved.tenantID, r.report)
}

// Diff names what differs on a monthly report and can change in place.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	if isOnce(req.Object) {
		return nil, nil
	}
	res := &req.Resolved
	return reportDiff(req.Object, res.tenantID, res.recipients, r.report), nil
}

// Update sends what a monthly report can change in place in one PUT.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	res := &req.Resolved
	rep, err := req.Conn.Client.UpdateReport(ctx, r.report.ID, toUpdate(req.Object, res.recipients))
	if err != nil {
		return nil, err
	}
	// Enabling a schedule may start a generation: list the files again.
	stored, err := req.Conn.Client.ListStoredReports(ctx, rep.ID)
	if err != nil {
		return nil, err
	}
	return &remote{report: rep, stored: stored}, nil
}

// Delete deletes the report (and its stored files) with its version.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	return req.Conn.Client.DeleteReport(ctx, r.report.ID, r.report.Version)
}

// SetStatus mirrors the report and its stored files into status.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	rep := r.report
	st.TenantID = rep.Parameters.TenantID
	st.Enabled = ptr.To(ptr.Deref(rep.Schedule.Enabled, true))
	st.GenerationDate = rep.GenerationDate
	st.StoredReports, st.LastSavedAt = storedStatus(r.stored)
}

// PollAfter looks again soon while the server generates files, and now
// and then while an enabled once report shows none yet.
func (e *External) PollAfter(req *request, r *remote) time.Duration {
	switch {
	case inProgress(r.stored):
		return pollInterval
	case isOnce(req.Object) && ptr.Deref(r.report.Schedule.Enabled, true) && len(r.stored) == 0:
		return slowPollInterval
	}
	return 0
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=usagereports,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=usagereports/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=usagereports/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch;create;update;patch

// Kind registers UsageReports with the loop. notReadyRetry is how soon a
// create refused during the server's nightly window is tried again (zero:
// DefaultNotReadyRetry). A recipient User that gets its ID, and a deleted or
// changed output ConfigMap, wake the report.
func Kind(notReadyRetry time.Duration) tenant.Kind[*v1.UsageReport, *remote, resolved] {
	return tenant.Kind[*v1.UsageReport, *remote, resolved]{
		Name: "UsageReport",
		External: func(s tenant.Scope[*v1.UsageReport]) managed.External[*v1.UsageReport, *remote, resolved] {
			return &External{Scope: s, NotReadyRetry: notReadyRetry}
		},
		References: []managed.Reference[*v1.UsageReport]{
			{Field: RecipientIndex, Target: &v1.User{}, Names: recipientNames},
			{Field: ConfigMapIndex, Target: &corev1.ConfigMap{}, MetadataOnly: true, WakeAll: true, Names: outputName},
		},
	}
}

func recipientNames(r *v1.UsageReport) []string {
	var names []string
	for _, ref := range r.Spec.Recipients {
		names = append(names, ref.Name)
	}
	return names
}

func outputName(r *v1.UsageReport) []string {
	if r.Spec.Output == nil {
		return nil
	}
	return []string{r.Spec.Output.ConfigMapName}
}
