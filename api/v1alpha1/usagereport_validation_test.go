package v1alpha1_test

import (
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
		Entry("send without recipients", monthly(func(s *v1.UsageReportSpec) { s.ResultAction = v1.ReportSend }),
			"resultAction send needs recipients"),
		Entry("a once report without a period", once(func(s *v1.UsageReportSpec) { s.Period = nil }),
			"a once report needs a period"),
		Entry("a monthly report with a period", monthly(func(s *v1.UsageReportSpec) {
			s.Period = &v1.UsageReportPeriod{Start: "2026-01-01", End: "2026-01-31"}
		}), "period applies to once reports only"),
		Entry("a period that ends before it starts", once(func(s *v1.UsageReportSpec) { s.Period.End = "2025-12-31" }),
			"period.end must not be before period.start"),
		Entry("a period that is no date", once(func(s *v1.UsageReportSpec) { s.Period.Start = "January" }),
			"spec.period.start"),
		Entry("no format", once(func(s *v1.UsageReportSpec) { s.Formats = nil }), "spec.formats"),
		Entry("an unknown format", once(func(s *v1.UsageReportSpec) { s.Formats = []v1.UsageReportFormat{"pdf"} }), "spec.formats"),
		Entry("an unknown kind", once(func(s *v1.UsageReportSpec) { s.Kind = "usage_forecast" }), "spec.kind"),
		Entry("an unknown level", once(func(s *v1.UsageReportSpec) { s.Level = "everybody" }), "spec.level"),
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
