package v1alpha1_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

var _ = Describe("UsageReport", func() {
	once := func(mutate func(*v1.UsageReportSpec)) *v1.UsageReport {
		spec := v1.UsageReportSpec{
			TenantRef: &v1.LocalReference{Name: "northwind"},
			Kind:      v1.ReportUsageSummary,
			Formats:   []v1.UsageReportFormat{v1.ReportFormatCSV, v1.ReportFormatJSONv1},
			Schedule:  v1.UsageReportSchedule{Type: v1.ReportOnce},
			Period:    &v1.UsageReportPeriod{Start: "2026-01-01", End: "2026-01-31"},
		}
		if mutate != nil {
			mutate(&spec)
		}
		return &v1.UsageReport{ObjectMeta: metav1.ObjectMeta{Name: uniqueName("report"), Namespace: "default"}, Spec: spec}
	}
	monthly := func(mutate func(*v1.UsageReportSpec)) *v1.UsageReport {
		return once(func(s *v1.UsageReportSpec) {
			s.Schedule.Type, s.Period = v1.ReportMonthly, nil
			if mutate != nil {
				mutate(s)
			}
		})
	}
	update := func(r *v1.UsageReport, change func(*v1.UsageReport)) error {
		got := &v1.UsageReport{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(r), got)).To(Succeed())
		change(got)
		return k8s.Update(ctx, got)
	}

	It("accepts a once and a monthly report and fills in the defaults", func() {
		r := once(nil)
		Expect(k8s.Create(ctx, r)).To(Succeed())
		got := &v1.UsageReport{}
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(r), got)).To(Succeed())
		Expect(got.Spec.Level).To(Equal(v1.ReportLevelAccounts))
		Expect(got.Spec.ResultAction).To(Equal(v1.ReportSave))
		Expect(got.Spec.Schedule.Enabled).To(Equal(ptr.To(true)))

		Expect(k8s.Create(ctx, monthly(func(s *v1.UsageReportSpec) {
			s.ResultAction = v1.ReportSend
			s.Recipients = []v1.LocalReference{{Name: "auditor"}}
			s.Output = &v1.UsageReportOutput{ConfigMapName: "northwind-usage"}
		}))).To(Succeed())
		Expect(k8s.Create(ctx, once(func(s *v1.UsageReportSpec) { s.Kind, s.Period = v1.ReportUsageCurrent, nil }))).To(Succeed(),
			"usage_current needs no period")
	})

	DescribeTable("refuses a bad report with a clear message",
		func(r *v1.UsageReport, fragments ...string) { expectRefused(r, fragments...) },
		Entry("neither tenantRef nor tenantID", once(func(s *v1.UsageReportSpec) { s.TenantRef = nil }),
			"set exactly one of tenantRef and tenantID"),
		Entry("both tenantRef and tenantID", once(func(s *v1.UsageReportSpec) { s.TenantID = someUUID }),
			"set exactly one of tenantRef and tenantID"),
		Entry("a tenantID in capitals", once(func(s *v1.UsageReportSpec) { s.TenantRef, s.TenantID = nil, strings.ToUpper(someUUID) }),
			"spec.tenantID", "tenantID must be a lowercase UUID"),
		Entry("send without recipients", monthly(func(s *v1.UsageReportSpec) { s.ResultAction = v1.ReportSend }),
			"resultAction send needs recipients"),
		Entry("an unknown result action", monthly(func(s *v1.UsageReportSpec) { s.ResultAction = "mail" }),
			"spec.resultAction", "resultAction must be save or send"),
		Entry("a recipient without a name", monthly(func(s *v1.UsageReportSpec) { s.Recipients = []v1.LocalReference{{}} }),
			"spec.recipients[0].name", "name must not be empty"),
		Entry("a once report without a period", once(func(s *v1.UsageReportSpec) { s.Period = nil }),
			"a once report needs a period"),
		Entry("a monthly report with a period", monthly(func(s *v1.UsageReportSpec) {
			s.Period = &v1.UsageReportPeriod{Start: "2026-01-01", End: "2026-01-31"}
		}), "period applies to once reports only"),
		Entry("a period that ends before it starts", once(func(s *v1.UsageReportSpec) { s.Period.End = "2025-12-31" }),
			"spec.period", "period.end must not be before period.start"),
		Entry("a period that is no date", once(func(s *v1.UsageReportSpec) { s.Period.Start = "January" }),
			"spec.period.start", "period.start must be a date, YYYY-MM-DD"),
		Entry("no format", once(func(s *v1.UsageReportSpec) { s.Formats = nil }),
			"spec.formats: Required value: formats must list at least one of csv, html"),
		Entry("an unknown format", once(func(s *v1.UsageReportSpec) { s.Formats = []v1.UsageReportFormat{"pdf"} }),
			"spec.formats[0]", "formats must be csv, html, json_v1, csv_v2_0 or json_v2_0"),
		Entry("an unknown kind", once(func(s *v1.UsageReportSpec) { s.Kind = "usage_forecast" }),
			"spec.kind", "kind must be usage_summary, usage_current, usage_daily or usage_breakdown"),
		Entry("an unknown level", once(func(s *v1.UsageReportSpec) { s.Level = "everybody" }),
			"spec.level", "level must be itself, direct_partners, all_partners, all_customers or accounts"),
		Entry("an unknown schedule", once(func(s *v1.UsageReportSpec) { s.Schedule.Type = "weekly" }),
			"spec.schedule.type", "schedule.type must be once or monthly"),
		Entry("an output ConfigMap name that is no object name", monthly(func(s *v1.UsageReportSpec) {
			s.Output = &v1.UsageReportOutput{ConfigMapName: "Usage Report"}
		}), "spec.output.configMapName", "output.configMapName must be a ConfigMap name"),
	)

	DescribeTable("refuses a report without a required field with a clear message",
		func(path []string, fragments ...string) {
			expectRefused(without(once(nil), path...), fragments...)
		},
		Entry("no spec", []string{"spec"}, "spec: Required value: spec is required"),
		Entry("no kind", []string{"spec", "kind"}, "spec.kind: Required value: kind is required"),
		Entry("no schedule", []string{"spec", "schedule"}, "spec.schedule: Required value: schedule is required"),
		Entry("no schedule type", []string{"spec", "schedule", "type"}, "spec.schedule.type: Required value: schedule.type is required: once or monthly"),
		Entry("a period without its end", []string{"spec", "period", "end"}, "spec.period.end: Required value: period.end is required"),
	)

	It("keeps a once report as it was created, but lets its output and deletion policy change", func() {
		r := once(nil)
		Expect(k8s.Create(ctx, r)).To(Succeed())

		for name, change := range map[string]func(*v1.UsageReport){
			"period":    func(r *v1.UsageReport) { r.Spec.Period.End = "2026-01-15" },
			"formats":   func(r *v1.UsageReport) { r.Spec.Formats = []v1.UsageReportFormat{v1.ReportFormatHTML} },
			"kind":      func(r *v1.UsageReport) { r.Spec.Kind = v1.ReportUsageDaily },
			"level":     func(r *v1.UsageReport) { r.Spec.Level = v1.ReportLevelItself },
			"tenant":    func(r *v1.UsageReport) { r.Spec.TenantRef = &v1.LocalReference{Name: "acme"} },
			"showSKUs":  func(r *v1.UsageReport) { r.Spec.ShowSKUs = true },
			"schedule":  func(r *v1.UsageReport) { r.Spec.Schedule.Enabled = ptr.To(false) },
			"recipient": func(r *v1.UsageReport) { r.Spec.Recipients = []v1.LocalReference{{Name: "auditor"}} },
		} {
			err := update(r, change)
			Expect(err).To(HaveOccurred(), "changing %s", name)
			Expect(err.Error()).To(ContainSubstring("a once report cannot be changed after creation"), "changing %s", name)
		}

		Expect(update(r, func(r *v1.UsageReport) {
			r.Spec.Output = &v1.UsageReportOutput{ConfigMapName: "usage"}
			r.Spec.DeletionPolicy = v1.DeletionOrphan
		})).To(Succeed())
	})

	It("lets a monthly report change, but not into a once report", func() {
		r := monthly(nil)
		Expect(k8s.Create(ctx, r)).To(Succeed())
		Expect(update(r, func(r *v1.UsageReport) {
			r.Spec.Schedule.Enabled = ptr.To(false)
			r.Spec.Formats = []v1.UsageReportFormat{v1.ReportFormatHTML}
			r.Spec.ResultAction = v1.ReportSend
			r.Spec.Recipients = []v1.LocalReference{{Name: "auditor"}}
		})).To(Succeed())

		err := update(r, func(r *v1.UsageReport) {
			r.Spec.Schedule.Type = v1.ReportOnce
			r.Spec.Period = &v1.UsageReportPeriod{Start: "2026-01-01", End: "2026-01-31"}
		})
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("schedule.type cannot be changed"))
	})
})
