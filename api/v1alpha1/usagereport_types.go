package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// UsageReportKind says what a report shows: usage_summary, usage_current,
// usage_daily or usage_breakdown.
// +kubebuilder:validation:MaxLength=32
type UsageReportKind string

// Report kinds.
const (
	ReportUsageSummary   UsageReportKind = "usage_summary"
	ReportUsageCurrent   UsageReportKind = "usage_current"
	ReportUsageDaily     UsageReportKind = "usage_daily"
	ReportUsageBreakdown UsageReportKind = "usage_breakdown"
)

// UsageReportLevel says which tenants below the report's tenant it covers:
// itself, direct_partners, all_partners, all_customers or accounts.
// +kubebuilder:validation:MaxLength=32
type UsageReportLevel string

// Report levels.
const (
	ReportLevelItself         UsageReportLevel = "itself"
	ReportLevelDirectPartners UsageReportLevel = "direct_partners"
	ReportLevelAllPartners    UsageReportLevel = "all_partners"
	ReportLevelAllCustomers   UsageReportLevel = "all_customers"
	ReportLevelAccounts       UsageReportLevel = "accounts"
)

// UsageReportFormat is a file format the server renders a report in: csv,
// html, json_v1, csv_v2_0 or json_v2_0.
// +kubebuilder:validation:MaxLength=32
type UsageReportFormat string

// Report formats.
const (
	ReportFormatCSV    UsageReportFormat = "csv"
	ReportFormatHTML   UsageReportFormat = "html"
	ReportFormatJSONv1 UsageReportFormat = "json_v1"
	ReportFormatCSVv2  UsageReportFormat = "csv_v2_0"
	ReportFormatJSONv2 UsageReportFormat = "json_v2_0"
)

// ReportScheduleType says when a report is generated: once or monthly.
// +kubebuilder:validation:MaxLength=32
type ReportScheduleType string

// Schedule types.
const (
	ReportOnce    ReportScheduleType = "once"
	ReportMonthly ReportScheduleType = "monthly"
)

// ReportResultAction says what the server does with a generated report:
// save or send.
// +kubebuilder:validation:MaxLength=32
type ReportResultAction string

// Result actions.
const (
	ReportSave ReportResultAction = "save"
	ReportSend ReportResultAction = "send"
)

// UsageReportSpec is the desired state of a usage report.
//
// A once report is made a single time: everything the server holds of it
// is fixed at creation (only deletionPolicy, managementPolicy and output
// may change later).
// +kubebuilder:validation:XValidation:rule="has(self.tenantRef) != has(self.tenantID)",message="set exactly one of tenantRef and tenantID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.importID) || (has(self.importID) && self.importID == oldSelf.importID)",message="importID cannot be changed or removed once set"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy != 'ObserveOnly' || has(self.importID)",message="managementPolicy ObserveOnly needs importID: the report to observe"
// +kubebuilder:validation:XValidation:rule="!self.?schedule.?type.hasValue() || !oldSelf.?schedule.?type.hasValue() || self.schedule.type == oldSelf.schedule.type",message="schedule.type cannot be changed: the server cannot turn a monthly report into a once report or back"
// +kubebuilder:validation:XValidation:rule="!oldSelf.?schedule.?type.hasValue() || oldSelf.schedule.type != 'once' || ((has(self.schedule) ? has(oldSelf.schedule) && self.schedule == oldSelf.schedule : !has(oldSelf.schedule)) && (has(self.kind) ? has(oldSelf.kind) && self.kind == oldSelf.kind : !has(oldSelf.kind)) && (has(self.level) ? has(oldSelf.level) && self.level == oldSelf.level : !has(oldSelf.level)) && (has(self.formats) ? has(oldSelf.formats) && self.formats == oldSelf.formats : !has(oldSelf.formats)) && (has(self.period) ? has(oldSelf.period) && self.period == oldSelf.period : !has(oldSelf.period)) && (has(self.showSKUs) ? has(oldSelf.showSKUs) && self.showSKUs == oldSelf.showSKUs : !has(oldSelf.showSKUs)) && (has(self.hideZeroUsage) ? has(oldSelf.hideZeroUsage) && self.hideZeroUsage == oldSelf.hideZeroUsage : !has(oldSelf.hideZeroUsage)) && (has(self.resultAction) ? has(oldSelf.resultAction) && self.resultAction == oldSelf.resultAction : !has(oldSelf.resultAction)) && (has(self.recipients) ? has(oldSelf.recipients) && self.recipients == oldSelf.recipients : !has(oldSelf.recipients)) && (has(self.tenantRef) ? has(oldSelf.tenantRef) && self.tenantRef == oldSelf.tenantRef : !has(oldSelf.tenantRef)) && (has(self.tenantID) ? has(oldSelf.tenantID) && self.tenantID == oldSelf.tenantID : !has(oldSelf.tenantID)) && (has(self.accountServerRef) ? has(oldSelf.accountServerRef) && self.accountServerRef == oldSelf.accountServerRef : !has(oldSelf.accountServerRef)))",message="a once report cannot be changed after creation (only deletionPolicy, managementPolicy and output can); create a new UsageReport instead"
// +kubebuilder:validation:XValidation:rule="!self.?schedule.?type.hasValue() || self.schedule.type != 'monthly' || !has(self.period)",message="period applies to once reports only; a monthly report covers the month before each run"
// +kubebuilder:validation:XValidation:rule="!self.?schedule.?type.hasValue() || self.schedule.type != 'once' || !has(self.kind) || self.kind == 'usage_current' || has(self.period)",message="a once report needs a period (except usage_current, which is today's usage)"
// +kubebuilder:validation:XValidation:rule="!has(self.resultAction) || self.resultAction != 'send' || (has(self.recipients) && size(self.recipients) > 0)",message="resultAction send needs recipients"
// +kubebuilder:validation:XValidation:rule="has(self.kind)",message="kind is required: usage_summary, usage_current, usage_daily or usage_breakdown",fieldPath=".kind",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.formats) && size(self.formats) > 0",message="formats must list at least one of csv, html, json_v1, csv_v2_0 and json_v2_0",fieldPath=".formats",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.schedule)",message="schedule is required: its type is once or monthly",fieldPath=".schedule",reason=FieldValueRequired
type UsageReportSpec struct {
	ManagedSpec `json:",inline"`

	// TenantRef names the Tenant object (same namespace) the report is
	// about; the report inherits its connection when accountServerRef is
	// left out.
	// +optional
	TenantRef *LocalReference `json:"tenantRef,omitempty"`

	// TenantID is the UUID of an existing tenant the report is about.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="tenantID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	TenantID string `json:"tenantID,omitempty"`

	// Kind of report (required): usage_summary, usage_current (today's
	// usage), usage_daily (one line per day) or usage_breakdown (each
	// tenant's own usage, without its sub-tenants').
	// +optional
	// +kubebuilder:validation:XValidation:rule="self in ['usage_summary', 'usage_current', 'usage_daily', 'usage_breakdown']",message="kind must be usage_summary, usage_current, usage_daily or usage_breakdown"
	Kind UsageReportKind `json:"kind"`

	// Level says which tenants the report covers: itself (the tenant
	// alone), direct_partners, all_partners, all_customers or accounts
	// (every tenant below; default).
	// +optional
	// +kubebuilder:default=accounts
	// +kubebuilder:validation:XValidation:rule="self in ['itself', 'direct_partners', 'all_partners', 'all_customers', 'accounts']",message="level must be itself, direct_partners, all_partners, all_customers or accounts"
	Level UsageReportLevel `json:"level,omitempty"`

	// Formats the server renders the report in (required, at least one):
	// csv, html, json_v1, csv_v2_0, json_v2_0. Each becomes one key of the
	// output ConfigMap.
	// +optional
	// +kubebuilder:validation:MaxItems=5
	// +listType=set
	// +kubebuilder:validation:items:XValidation:rule="self in ['csv', 'html', 'json_v1', 'csv_v2_0', 'json_v2_0']",message="formats must be csv, html, json_v1, csv_v2_0 or json_v2_0"
	Formats []UsageReportFormat `json:"formats"`

	// ShowSKUs adds the SKU of each offering item.
	// +optional
	ShowSKUs bool `json:"showSKUs,omitempty"`

	// HideZeroUsage leaves out lines without usage.
	// +optional
	HideZeroUsage bool `json:"hideZeroUsage,omitempty"`

	// Schedule says whether the report is made once or every month, and
	// whether a monthly one is enabled (required).
	// +optional
	Schedule UsageReportSchedule `json:"schedule"`

	// Period a once report covers (dates, not in the future; the server
	// refuses a period it has no usage for yet). Monthly reports cover the
	// month before each run and take no period.
	// +optional
	Period *UsageReportPeriod `json:"period,omitempty"`

	// ResultAction: save (default) keeps the generated files on the
	// server, where status.storedReports lists them; send also mails them
	// to the recipients.
	// +optional
	// +kubebuilder:default=save
	// +kubebuilder:validation:XValidation:rule="self in ['save', 'send']",message="resultAction must be save or send"
	ResultAction ReportResultAction `json:"resultAction,omitempty"`

	// Recipients are User objects (same namespace) the report is sent to;
	// each is resolved to its user ID once it exists on the server.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +listType=map
	// +listMapKey=name
	Recipients []LocalReference `json:"recipients,omitempty"`

	// Output copies the newest saved report's files into a ConfigMap.
	// +optional
	Output *UsageReportOutput `json:"output,omitempty"`
}

// UsageReportSchedule says when a report is generated.
// +kubebuilder:validation:XValidation:rule="has(self.type)",message="schedule.type is required: once or monthly",fieldPath=".type",reason=FieldValueRequired
type UsageReportSchedule struct {
	// Type (required): once (generated at creation, for spec.period) or
	// monthly (generated at the start of every month for the month
	// before). Cannot be changed.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self in ['once', 'monthly']",message="schedule.type must be once or monthly"
	Type ReportScheduleType `json:"type"`

	// Enabled turns a monthly report's generation on or off (default
	// true). A once report that is not enabled is never generated.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`
}

// UsageReportPeriod is the date range of a once report.
// +kubebuilder:validation:XValidation:rule="has(self.start)",message="period.start is required: a date, YYYY-MM-DD",fieldPath=".start",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.end)",message="period.end is required: a date, YYYY-MM-DD",fieldPath=".end",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="!has(self.start) || !has(self.end) || !self.start.matches('^[0-9]{4}-[0-9]{2}-[0-9]{2}$') || !self.end.matches('^[0-9]{4}-[0-9]{2}-[0-9]{2}$') || self.end >= self.start",message="period.end must not be before period.start"
type UsageReportPeriod struct {
	// Start date, YYYY-MM-DD (required).
	// +optional
	// +kubebuilder:validation:MaxLength=10
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{4}-[0-9]{2}-[0-9]{2}$')",message="period.start must be a date, YYYY-MM-DD"
	Start string `json:"start"`
	// End date, YYYY-MM-DD (required; inclusive, not in the future).
	// +optional
	// +kubebuilder:validation:MaxLength=10
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9]{4}-[0-9]{2}-[0-9]{2}$')",message="period.end must be a date, YYYY-MM-DD"
	End string `json:"end"`
}

// UsageReportOutput says where a report's files are copied.
// +kubebuilder:validation:XValidation:rule="has(self.configMapName)",message="output.configMapName is required: the ConfigMap the files are copied to",fieldPath=".configMapName",reason=FieldValueRequired
type UsageReportOutput struct {
	// ConfigMapName is the ConfigMap (same namespace) the operator writes
	// the newest saved file of each format to, under the format's name
	// (csv, html, json_v1, csv_v2_0, json_v2_0). The ConfigMap is owned by
	// the UsageReport and goes with it. A file that would not fit into a
	// ConfigMap is not copied, and status.output.tooLarge names it.
	// Required.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="output.configMapName must be a ConfigMap name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit"
	ConfigMapName string `json:"configMapName"`
}

// StoredReport is one file the server generated for a report.
type StoredReport struct {
	// ID of the stored file.
	ID string `json:"id"`
	// Format of the file.
	Format string `json:"format"`
	// Status: in_progress, saved or failed.
	Status string `json:"status"`
	// Size in bytes, once saved.
	// +optional
	Size int64 `json:"size,omitempty"`
	// CreatedAt is when generation started.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty"`
}

// UsageReportOutputStatus says what the output ConfigMap holds.
type UsageReportOutputStatus struct {
	// ConfigMapName is the ConfigMap written last.
	ConfigMapName string `json:"configMapName"`
	// StoredReportIDs are the stored files whose data it holds.
	// +optional
	// +listType=atomic
	StoredReportIDs []string `json:"storedReportIDs,omitempty"`
	// TooLarge names the stored files that were not copied because they
	// would not fit into a ConfigMap; download them from the server.
	// +optional
	// +listType=atomic
	TooLarge []StoredReport `json:"tooLarge,omitempty"`
}

// UsageReportStatus is the observed state of a usage report.
type UsageReportStatus struct {
	ManagedStatus `json:",inline"`

	// TenantID is the tenant the report is about.
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// Enabled as the server reports the schedule.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// GenerationDate is when the server generates the report (next, for a
	// monthly one).
	// +optional
	GenerationDate string `json:"generationDate,omitempty"`
	// StoredReports are the files the server generated, newest first (at
	// most 50), as they move from in_progress to saved (or failed).
	// +optional
	// +listType=atomic
	StoredReports []StoredReport `json:"storedReports,omitempty"`
	// LastSavedAt is when the newest saved file was generated.
	// +optional
	LastSavedAt *metav1.Time `json:"lastSavedAt,omitempty"`
	// Output says what spec.output's ConfigMap holds.
	// +optional
	Output *UsageReportOutputStatus `json:"output,omitempty"`
}

// UsageReport is a usage report of an account server tenant: made once
// for a past period, or every month.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=accounts
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`,description="The Tenant object the report is about (empty when spec.tenantID names the tenant)"
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule.type`
// +kubebuilder:printcolumn:name="Last Saved",type=date,JSONPath=`.status.lastSavedAt`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`,priority=1
// +kubebuilder:printcolumn:name="Version",type=integer,JSONPath=`.status.version`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type UsageReport struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   UsageReportSpec   `json:"spec"`
	Status UsageReportStatus `json:"status,omitempty"`
}

// UsageReportList contains a list of UsageReport.
// +kubebuilder:object:root=true
type UsageReportList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []UsageReport `json:"items"`
}

// Managed returns the shared part of the spec.
func (r *UsageReport) Managed() *ManagedSpec { return &r.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (r *UsageReport) ManagedStatus() *ManagedStatus { return &r.Status.ManagedStatus }

func init() {
	register(&UsageReport{}, &UsageReportList{})
}
