package usagereport_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	emu   *emulator.Server
)

func TestUsageReport(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "UsageReport controller suite")
}

var _ = BeforeSuite(func() {
	suite, _ = testenv.StartSuite()
	ctx, emu = suite.Ctx, suite.Emulator
})

// customerOn creates a customer Tenant on the connection and waits for it.
func customerOn(conn string) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("customer"), Namespace: "default"},
		Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantCustomer},
	}
	ExpectWithOffset(1, suite.K8s.Create(ctx, t)).To(Succeed())
	return testenv.ExpectReady(suite, t)
}

// recipientIn creates a User of tenant t and waits for it.
func recipientIn(t *v1.Tenant) *v1.User {
	name := testenv.Uniq("recipient")
	u := &v1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: t.Namespace},
		Spec: v1.UserSpec{
			TenantRef:  &v1.LocalReference{Name: t.Name},
			Login:      name,
			Contact:    v1.Contact{Email: name + "@acme.example"},
			Activation: v1.Activation{Method: v1.ActivationNone},
		},
	}
	ExpectWithOffset(1, suite.K8s.Create(ctx, u)).To(Succeed())
	return testenv.ExpectReady(suite, u)
}

// lastMonth is a period the server has usage for: the past 30 days.
func lastMonth() *v1.UsageReportPeriod {
	today := time.Now().UTC()
	return &v1.UsageReportPeriod{Start: today.AddDate(0, 0, -30).Format(time.DateOnly), End: today.AddDate(0, 0, -1).Format(time.DateOnly)}
}

// reportOf returns a UsageReport of tenant t, not yet created.
func reportOf(t *v1.Tenant, mutate func(*v1.UsageReport)) *v1.UsageReport {
	r := &v1.UsageReport{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("report"), Namespace: t.Namespace},
		Spec: v1.UsageReportSpec{
			TenantRef: &v1.LocalReference{Name: t.Name},
			Kind:      v1.ReportUsageSummary,
			Level:     v1.ReportLevelItself,
			Formats:   []v1.UsageReportFormat{v1.ReportFormatCSV, v1.ReportFormatJSONv1},
			Schedule:  v1.UsageReportSchedule{Type: v1.ReportOnce},
			Period:    lastMonth(),
		},
	}
	if mutate != nil {
		mutate(r)
	}
	return r
}

// reportsOf lists the report configurations of a tenant on the server.
func reportsOf(tenantID string) []emulator.Report {
	var out []emulator.Report
	for _, r := range emu.Reports() {
		if r.Parameters.TenantID == tenantID {
			out = append(out, r)
		}
	}
	return out
}

func remoteReport(id string) emulator.Report {
	r, ok := emu.Report(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "report %s is not on the server", id)
	return r
}

func configMap(name string) func(Gomega) *corev1.ConfigMap {
	return func(g Gomega) *corev1.ConfigMap {
		cm := &corev1.ConfigMap{}
		g.Expect(suite.K8s.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, cm)).To(Succeed())
		return cm
	}
}

// replacedReport waits until r records a report other than old and is
// Ready again, and returns the new report's ID.
func replacedReport(r *v1.UsageReport, old string) string {
	var id string
	EventuallyWithOffset(1, func(g Gomega) {
		got := testenv.Fresh(suite, g, r)
		g.Expect(got.Status.ID).NotTo(Or(BeEmpty(), Equal(old)))
		g.Expect(got.Annotations).NotTo(HaveKey(v1.AnnotationReplacing), "the old report is deleted")
		id = got.Status.ID
	}).WithTimeout(30 * time.Second).Should(Succeed())
	testenv.ExpectReady(suite, r)
	return id
}

// expectReplacedOnce checks what clientID wrote since the request log had
// `before` entries: exactly one POST /reports and then the DELETE of the
// old report, each answered with success (a refused request would have
// stalled the object), and the old report gone from the server.
func expectReplacedOnce(clientID string, before int, old string) {
	suite.Settled(2 * time.Second)
	var writes []string
	for _, rec := range suite.RequestsBy(clientID)[before:] {
		ExpectWithOffset(1, rec.Status).To(BeNumerically("<", 300), "%s %s answered %d", rec.Method, rec.Path, rec.Status)
		if rec.Method != "GET" {
			writes = append(writes, rec.Method+" "+rec.Path)
		}
	}
	ExpectWithOffset(1, writes).To(Equal([]string{"POST /api/2/reports", "DELETE /api/2/reports/" + old}))
	_, ok := emu.Report(old)
	ExpectWithOffset(1, ok).To(BeFalse(), "the replaced report is deleted on the server")
}
