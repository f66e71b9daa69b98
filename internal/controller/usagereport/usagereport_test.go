package usagereport_test

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/controller/usagereport"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/operator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

// csvUsage reads the usage column of the line of usageName in a csv report.
func csvUsage(g Gomega, data, usageName string) string {
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(rows).NotTo(BeEmpty())
	col := func(name string) int {
		for i, h := range rows[0] {
			if h == name {
				return i
			}
		}
		g.Expect(rows[0]).To(ContainElement(name))
		return -1
	}
	for _, r := range rows[1:] {
		if r[col("usage_name")] == usageName {
			return r[col("usage")]
		}
	}
	return ""
}

// jsonUsage reads the usage of usageName in a json_v1 report.
func jsonUsage(g Gomega, data, usageName string) float64 {
	var doc struct {
		Items []struct {
			UsageName string  `json:"usage_name"`
			Usage     float64 `json:"usage"`
		} `json:"items"`
	}
	g.Expect(json.Unmarshal([]byte(data), &doc)).To(Succeed())
	for _, it := range doc.Items {
		if it.UsageName == usageName {
			return it.Usage
		}
	}
	return -1
}

var _ = Describe("UsageReport", func() {
	var conn, clientID string
	var tenant *v1.Tenant
	BeforeEach(func() {
		conn, clientID = suite.Connection(nil)
		tenant = customerOn(conn)
	})

	It("makes a once report, copies its saved CSV and JSON into the ConfigMap, and makes no second one after a restart", func() {
		emu.SetUsage(tenant.Status.ID, "workstations", "", 7)
		cmName := testenv.Uniq("usage")
		r := reportOf(tenant, func(r *v1.UsageReport) { r.Spec.Output = &v1.UsageReportOutput{ConfigMapName: cmName} })
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		id := testenv.ExpectReady(suite, r).Status.ID
		Expect(reportsOf(tenant.Status.ID)).To(HaveLen(1))
		rep := remoteReport(id)
		Expect(rep.Schedule.Type).To(Equal("once"))
		Expect(rep.Parameters.Kind).To(Equal("usage_summary"))
		Expect(rep.Parameters.Level).To(Equal("itself"))
		Expect(rep.Parameters.Formats).To(ConsistOf("csv", "json_v1"))
		Expect(rep.Parameters.Period).To(Equal(&emulator.ReportPeriod{Start: r.Spec.Period.Start, End: r.Spec.Period.End}))

		By("listing the stored files as they go from in progress to saved")
		var got *v1.UsageReport
		Eventually(func(g Gomega) {
			got = testenv.Fresh(suite, g, r)
			g.Expect(got.Status.StoredReports).To(HaveLen(2))
			for _, s := range got.Status.StoredReports {
				g.Expect(s.Status).To(Equal("saved"))
				g.Expect(s.Size).To(BeNumerically(">", 0))
			}
			g.Expect(got.Status.LastSavedAt).NotTo(BeNil())
			g.Expect(got.Status.Output).NotTo(BeNil())
			g.Expect(got.Status.Output.StoredReportIDs).To(HaveLen(2))
		}).WithTimeout(time.Minute).Should(Succeed())
		Expect(got.Status.TenantID).To(Equal(tenant.Status.ID))
		for _, s := range emu.StoredReports(id) {
			Expect(s.Status).To(Equal(emulator.StoredSaved))
		}

		By("copying the files with the emulator's usage values")
		cm := configMap(cmName)(Default)
		Expect(cm.Data).To(HaveKey("csv"))
		Expect(cm.Data).To(HaveKey("json_v1"))
		Expect(csvUsage(Default, cm.Data["csv"], "workstations")).To(Equal("7"))
		Expect(jsonUsage(Default, cm.Data["json_v1"], "workstations")).To(Equal(7.0))
		Expect(cm.Annotations).To(HaveKeyWithValue(usagereport.AnnotationReportID, id))
		Expect(metav1.IsControlledBy(cm, got)).To(BeTrue(), "the ConfigMap is owned by the report")
		Expect(got.Status.Output.TooLarge).To(BeEmpty())

		By("making nothing anew when the manager restarts")
		suite.Settled(2 * time.Second)
		cmVersion := cm.ResourceVersion
		posts := func() int {
			n := 0
			for _, w := range suite.WritesBy(clientID) {
				if w.Method == "POST" && w.Path == "/api/2/reports" {
					n++
				}
			}
			return n
		}
		Expect(posts()).To(Equal(1))
		reads := func() int {
			n := 0
			for _, q := range suite.RequestsBy(clientID) {
				if q.Method == "GET" && q.Path == "/api/2/reports/"+id {
					n++
				}
			}
			return n
		}
		suite.StopManager()
		readsBefore := reads()
		suite.StartManager(operator.Options{})
		Eventually(reads).WithTimeout(30*time.Second).Should(BeNumerically(">", readsBefore), "the new manager looked at the report")
		testenv.ExpectReady(suite, r)
		Consistently(func(g Gomega) {
			g.Expect(posts()).To(Equal(1), "no second POST /reports")
			g.Expect(reportsOf(tenant.Status.ID)).To(HaveLen(1))
			g.Expect(configMap(cmName)(g).ResourceVersion).To(Equal(cmVersion), "the ConfigMap is not written again")
		}).WithTimeout(5 * time.Second).WithPolling(500 * time.Millisecond).Should(Succeed())
		Expect(testenv.Fresh(suite, Default, r).Status.ID).To(Equal(id))
	})

	It("writes the ConfigMap again when it is deleted", func() {
		cmName := testenv.Uniq("usage")
		r := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.Formats = []v1.UsageReportFormat{v1.ReportFormatHTML}
			r.Spec.Output = &v1.UsageReportOutput{ConfigMapName: cmName}
		})
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		cm := &corev1.ConfigMap{}
		Eventually(func(g Gomega) { cm = configMap(cmName)(g) }).WithTimeout(time.Minute).Should(Succeed())
		Expect(cm.Data["html"]).To(ContainSubstring("<html>"))
		Expect(suite.K8s.Delete(ctx, cm)).To(Succeed())
		Eventually(func(g Gomega) {
			again := configMap(cmName)(g)
			g.Expect(again.UID).NotTo(Equal(cm.UID))
			g.Expect(again.Data["html"]).To(Equal(cm.Data["html"]))
		}).WithTimeout(30 * time.Second).Should(Succeed())
	})

	It("adopts the report whose create answer was lost instead of making a twin", func() {
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		r := reportOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		got := testenv.ExpectReady(suite, r)
		Expect(reportsOf(tenant.Status.ID)).To(HaveLen(1))
		Expect(reportsOf(tenant.Status.ID)[0].ID).To(Equal(got.Status.ID))
		Expect(got.Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
		dropped := 0
		for _, w := range suite.WritesBy(clientID) {
			if w.Method == "POST" && w.Path == "/api/2/reports" {
				Expect(w.Dropped).To(BeTrue())
				dropped++
			}
		}
		Expect(dropped).To(Equal(1), "the create was sent once; the retry looked it up")
	})

	It("does not adopt an identical report another UsageReport holds", func() {
		first := reportOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, first)).To(Succeed())
		firstID := testenv.ExpectReady(suite, first).Status.ID

		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		second := reportOf(tenant, func(r *v1.UsageReport) { r.Spec.Period = first.Spec.Period })
		Expect(suite.K8s.Create(ctx, second)).To(Succeed())
		secondID := testenv.ExpectReady(suite, second).Status.ID
		Expect(secondID).NotTo(Equal(firstID))
		Expect(reportsOf(tenant.Status.ID)).To(HaveLen(2))
	})

	It("enables, disables and updates a monthly report sent to User recipients", func() {
		ada, bob := recipientIn(tenant), recipientIn(tenant)
		cmName := testenv.Uniq("monthly")
		r := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.Schedule = v1.UsageReportSchedule{Type: v1.ReportMonthly}
			r.Spec.Period = nil
			r.Spec.Formats = []v1.UsageReportFormat{v1.ReportFormatCSV}
			r.Spec.ResultAction = v1.ReportSend
			r.Spec.Recipients = []v1.LocalReference{{Name: ada.Name}, {Name: bob.Name}}
			r.Spec.Output = &v1.UsageReportOutput{ConfigMapName: cmName}
		})
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		id := testenv.ExpectReady(suite, r).Status.ID
		rep := remoteReport(id)
		Expect(rep.Schedule).To(Equal(emulator.ReportSchedule{Type: "monthly", Enabled: true}))
		Expect(rep.ResultAction).To(Equal("send"))
		Expect(rep.Recipients).To(ConsistOf(ada.Status.ID, bob.Status.ID), "recipients are resolved to user IDs")
		Eventually(func(g Gomega) {
			got := testenv.Fresh(suite, g, r)
			g.Expect(got.Status.LastSavedAt).NotTo(BeNil(), "a new schedule generates the month just passed")
			g.Expect(got.Status.GenerationDate).NotTo(BeEmpty())
			g.Expect(got.Status.Output).NotTo(BeNil())
		}).WithTimeout(time.Minute).Should(Succeed())
		Expect(configMap(cmName)(Default).Data).To(HaveKey("csv"))

		By("disabling it")
		testenv.Modify(suite, r, func(r *v1.UsageReport) { r.Spec.Schedule.Enabled = ptr.To(false) })
		got := testenv.ExpectReady(suite, r)
		Expect(remoteReport(id).Schedule.Enabled).To(BeFalse())
		Expect(got.Status.Enabled).To(Equal(ptr.To(false)))

		By("updating its parameters and recipients with one PUT")
		suite.Settled(2 * time.Second)
		before := len(suite.WritesBy(clientID))
		testenv.Modify(suite, r, func(r *v1.UsageReport) {
			r.Spec.Level = v1.ReportLevelAccounts
			r.Spec.HideZeroUsage = true
			r.Spec.Recipients = []v1.LocalReference{{Name: bob.Name}}
		})
		testenv.ExpectReady(suite, r)
		Eventually(func() bool { return remoteReport(id).Parameters.HideZeroUsage }).Should(BeTrue())
		rep = remoteReport(id)
		Expect(rep.Parameters.Level).To(Equal("accounts"))
		Expect(rep.Recipients).To(ConsistOf(bob.Status.ID))
		Expect(rep.Schedule.Enabled).To(BeFalse())
		suite.Settled(2 * time.Second)
		writes := suite.WritesBy(clientID)[before:]
		Expect(writes).To(HaveLen(1))
		Expect(writes[0].Method + " " + writes[0].Path).To(Equal("PUT /api/2/reports/" + id))

		By("changing its formats, which the server cannot change in place: a new report replaces the old one")
		before = len(suite.RequestsBy(clientID))
		testenv.Modify(suite, r, func(r *v1.UsageReport) {
			r.Spec.Formats = []v1.UsageReportFormat{v1.ReportFormatCSV, v1.ReportFormatJSONv2}
		})
		newID := replacedReport(r, id)
		rep = remoteReport(newID)
		Expect(rep.Parameters.Formats).To(ConsistOf("csv", "json_v2_0"))
		Expect(rep.Parameters.HideZeroUsage).To(BeTrue(), "the new report keeps what did not change")
		Expect(rep.Recipients).To(ConsistOf(bob.Status.ID))
		Expect(rep.Schedule.Enabled).To(BeFalse())
		expectReplacedOnce(clientID, before, id)
		id = newID

		By("saving instead of sending, which clears the recipients: also a replacement")
		before = len(suite.RequestsBy(clientID))
		testenv.Modify(suite, r, func(r *v1.UsageReport) {
			r.Spec.ResultAction = v1.ReportSave
			r.Spec.Recipients = nil
		})
		newID = replacedReport(r, id)
		Expect(remoteReport(newID).ResultAction).To(Equal("save"))
		Expect(remoteReport(newID).Recipients).To(BeEmpty())
		expectReplacedOnce(clientID, before, id)
		id = newID

		By("enabling it again")
		testenv.Modify(suite, r, func(r *v1.UsageReport) { r.Spec.Schedule.Enabled = ptr.To(true) })
		testenv.ExpectReady(suite, r)
		Eventually(func() bool { return remoteReport(id).Schedule.Enabled }).Should(BeTrue())
		Expect(reportsOf(tenant.Status.ID)).To(HaveLen(1), "every replaced report was deleted")
	})

	It("waits for a recipient that does not exist yet, and goes on once it does", func() {
		name := testenv.Uniq("late")
		r := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.ResultAction = v1.ReportSend
			r.Spec.Recipients = []v1.LocalReference{{Name: name}}
		})
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		Eventually(testenv.Condition(suite, r, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonWaitingForReference),
			HaveField("Message", ContainSubstring(name)),
		))
		Expect(reportsOf(tenant.Status.ID)).To(BeEmpty(), "nothing is created before the recipients are known")

		u := &v1.User{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec: v1.UserSpec{
				TenantRef: &v1.LocalReference{Name: tenant.Name}, Login: name,
				Contact: v1.Contact{Email: name + "@acme.example"}, Activation: v1.Activation{Method: v1.ActivationNone},
			},
		}
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		uid := testenv.ExpectReady(suite, u).Status.ID
		got := testenv.ExpectReady(suite, r)
		Expect(remoteReport(got.Status.ID).Recipients).To(ConsistOf(uid))
	})

	It("waits through the server's nightly window and creates the report afterwards, without stalling", func() {
		suite.StopManager()
		suite.StartManager(operator.Options{ReportNotReadyRetry: 2 * time.Second})
		DeferCleanup(func() {
			emu.SetFaults(emulator.Faults{})
			suite.StopManager()
			suite.StartManager(operator.Options{})
		})
		emu.SetFaults(emulator.Faults{ReportsNotReady: true})
		r := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.Schedule = v1.UsageReportSchedule{Type: v1.ReportMonthly}
			r.Spec.Period = nil
		})
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		Eventually(testenv.Condition(suite, r, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", usagereport.ReasonUsageNotReady),
			HaveField("Message", ContainSubstring("usage history is not ready")),
		))
		By("retrying by itself, not stalling, while the window lasts")
		Eventually(func() int {
			n := 0
			for _, rec := range suite.RequestsBy(clientID) {
				if rec.Method == "POST" && rec.Path == "/api/2/reports" && rec.Status == 400 {
					n++
				}
			}
			return n
		}).WithTimeout(30 * time.Second).Should(BeNumerically(">=", 2))
		Expect(testenv.Condition(suite, r, v1.ConditionStalled)(Default)).To(BeNil())
		Expect(reportsOf(tenant.Status.ID)).To(BeEmpty())
		// Each attempt sets the create marker and, refused, clears it: a
		// refused create made nothing, so nothing is left to look for.
		Eventually(func(g Gomega) map[string]string { return testenv.Fresh(suite, g, r).Annotations }).
			ShouldNot(HaveKey(v1.AnnotationCreatePending), "a refused create made nothing")

		By("creating it once the window ends")
		emu.SetFaults(emulator.Faults{})
		got := testenv.ExpectReady(suite, r)
		Expect(reportsOf(tenant.Status.ID)).To(HaveLen(1))
		Expect(remoteReport(got.Status.ID).Schedule.Type).To(Equal("monthly"))
	})

	It("stalls with the server's message for a period in the future", func() {
		next := time.Now().UTC().AddDate(0, 1, 0)
		r := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.Period = &v1.UsageReportPeriod{Start: next.Format(time.DateOnly), End: next.AddDate(0, 0, 5).Format(time.DateOnly)}
		})
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		c := testenv.ExpectStalled(suite, r, managed.ReasonRejected)
		Expect(c.Message).To(ContainSubstring("future"))
		Expect(testenv.Fresh(suite, Default, r).Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
		Expect(reportsOf(tenant.Status.ID)).To(BeEmpty())
	})

	It("deletes the report on the server, orphans on request, and holds its tenant's deletion", func() {
		gone := reportOf(tenant, nil)
		kept := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.Kind = v1.ReportUsageCurrent
			r.Spec.Period = nil
			r.Spec.DeletionPolicy = v1.DeletionOrphan
		})
		Expect(suite.K8s.Create(ctx, gone)).To(Succeed())
		Expect(suite.K8s.Create(ctx, kept)).To(Succeed())
		goneID, keptID := testenv.ExpectReady(suite, gone).Status.ID, testenv.ExpectReady(suite, kept).Status.ID

		Expect(suite.K8s.Delete(ctx, tenant)).To(Succeed())
		Eventually(testenv.Condition(suite, tenant, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonDeletionBlocked),
			HaveField("Message", ContainSubstring("UsageReport "+gone.Name)),
		))

		Expect(suite.K8s.Delete(ctx, gone)).To(Succeed())
		testenv.ExpectGone(suite, gone)
		_, ok := emu.Report(goneID)
		Expect(ok).To(BeFalse(), "the report is deleted on the server")

		Expect(suite.K8s.Delete(ctx, kept)).To(Succeed())
		testenv.ExpectGone(suite, kept)
		_, ok = emu.Report(keptID)
		Expect(ok).To(BeTrue(), "an orphaned report stays")
		testenv.ExpectGone(suite, tenant)
	})
})

var _ = Describe("UsageReport steady state", func() {
	It("writes nothing once its files are copied, while it keeps looking", func() {
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		})
		tenant := customerOn(conn)
		once := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.Output = &v1.UsageReportOutput{ConfigMapName: testenv.Uniq("steady")}
		})
		monthly := reportOf(tenant, func(r *v1.UsageReport) {
			r.Spec.Schedule, r.Spec.Period = v1.UsageReportSchedule{Type: v1.ReportMonthly}, nil
			r.Spec.Output = &v1.UsageReportOutput{ConfigMapName: testenv.Uniq("steady")}
		})
		for _, r := range []*v1.UsageReport{once, monthly} {
			Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		}
		for _, r := range []*v1.UsageReport{once, monthly} {
			Eventually(func(g Gomega) {
				got := testenv.Fresh(suite, g, r)
				g.Expect(got.Status.Output).NotTo(BeNil())
				g.Expect(got.Status.Output.StoredReportIDs).NotTo(BeEmpty())
			}).WithTimeout(time.Minute).Should(Succeed())
		}
		suite.Settled(3 * time.Second)

		apiBefore, writesBefore, readsBefore := suite.APIWrites(), len(suite.WritesBy(clientID)), len(suite.RequestsBy(clientID))
		Consistently(func() int64 { return suite.APIWrites() - apiBefore }).WithTimeout(12*time.Second).WithPolling(time.Second).
			Should(BeZero(), func() string { return "no write to the API server; the last was " + suite.LastAPIWrite() })
		Expect(suite.WritesBy(clientID)).To(HaveLen(writesBefore), "no write to the account server")
		Expect(len(suite.RequestsBy(clientID))-readsBefore).To(BeNumerically(">=", 4), "drift was looked for")
		testenv.ExpectWatchRate(suite.RequestsBy(clientID)[readsBefore:], 12*time.Second, connection.DefaultDriftInterval)
		var downloads int
		for _, r := range suite.RequestsBy(clientID)[readsBefore:] {
			if strings.Contains(r.Path, "/stored/") {
				downloads++
			}
		}
		Expect(downloads).To(BeZero(), "files already copied are not downloaded again")
	})
})
