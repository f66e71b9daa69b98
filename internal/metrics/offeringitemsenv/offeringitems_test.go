// Package offeringitemsenv_test checks the offering item gauges against the
// account server emulator, through a running manager: what a scrape reports
// is what the emulator has.
package offeringitemsenv_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	dto "github.com/prometheus/client_model/go"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/metrics"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
	emu   *emulator.Server
)

func TestOfferingItemMetrics(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Offering item metrics suite")
}

var _ = BeforeSuite(func() {
	suite, _ = testenv.StartSuite()
	ctx, emu = suite.Ctx, suite.Emulator
})

// series is one sample of a gauge, keyed by its item and storage.
type series struct{ metric, item, infra string }

// scrape gathers controller-runtime's registry (what the manager serves
// on /metrics) and returns the offering item gauges of tenant.
func scrape(g Gomega, tenant string) map[series]float64 {
	families, err := crmetrics.Registry.Gather()
	g.Expect(err).NotTo(HaveOccurred())
	out := map[series]float64{}
	for _, f := range families {
		switch f.GetName() {
		case metrics.OfferingItemUsageMetricName, metrics.OfferingItemQuotaMetricName, metrics.OfferingItemOverageMetricName:
		default:
			continue
		}
		for _, m := range f.GetMetric() {
			l := labels(m)
			if l["tenant"] != tenant {
				continue
			}
			g.Expect(l["namespace"]).To(Equal("default"))
			g.Expect(l["application"]).To(Equal(emulator.CyberProtectionAppID))
			g.Expect(l["application_name"]).To(Equal("Cyber Protection"), "the spec names the application by name")
			out[series{f.GetName(), l["item"], l["infra"]}] = m.GetGauge().GetValue()
		}
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// fromEmulator is what the gauges of tenantID's items must be: the quotas
// of the emulator's items and the usage its API reports for them.
func fromEmulator(g Gomega, tenantID string, managed map[string]string) map[series]float64 {
	out := map[series]float64{}
	for _, it := range emu.OfferingItems(tenantID) {
		infra := ptr.Deref(it.InfraID, "")
		if it.ApplicationID != emulator.CyberProtectionAppID || it.Status != 1 {
			continue
		}
		if want, ok := managed[it.Name]; !ok || want != infra {
			continue
		}
		if it.Quota.Value != nil {
			out[series{metrics.OfferingItemQuotaMetricName, it.Name, infra}] = *it.Quota.Value
		}
		if it.Quota.Overage != nil {
			out[series{metrics.OfferingItemOverageMetricName, it.Name, infra}] = *it.Quota.Overage
		}
	}
	usages, err := suite.Admin.GetUsages(ctx, tenantID)
	g.Expect(err).NotTo(HaveOccurred())
	for _, u := range usages {
		infra := ptr.Deref(u.InfraID, "")
		if want, ok := managed[u.Name]; u.ApplicationID == emulator.CyberProtectionAppID && ok && want == infra {
			out[series{metrics.OfferingItemUsageMetricName, u.Name, infra}] = float64(u.Value)
		}
	}
	return out
}

var _ = Describe("The offering item gauges", func() {
	It("report the usage and quotas the emulator has, and follow a change of usage", func() {
		const resync = 10 * time.Second
		conn, _ := suite.Connection(func(c *v1.ClusterAccountServer) { c.Spec.ResyncInterval = &metav1.Duration{Duration: resync} })
		customer := &v1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("customer"), Namespace: "default"},
			Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantCustomer},
		}
		Expect(suite.K8s.Create(ctx, customer)).To(Succeed())
		id := testenv.ExpectReady(suite, customer).Status.ID
		emu.SetUsage(id, "workstations", "", 7)
		emu.SetUsage(id, "storage", emulator.DefaultInfraID, 3<<30)

		q := &v1.OfferingItemQuota{
			ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("quota"), Namespace: "default"},
			Spec: v1.OfferingItemQuotaSpec{TenantRef: &v1.LocalReference{Name: customer.Name}, Items: []v1.OfferingItemSpec{
				{Application: "Cyber Protection", Name: "workstations", Quota: &v1.QuotaSpec{Value: ptr.To[int64](10), Overage: ptr.To[int64](12)}},
				{Application: "Cyber Protection", Name: "storage", InfraID: emulator.DefaultInfraID, Quota: &v1.QuotaSpec{Value: ptr.To[int64](5 << 30)}},
				{Application: "Cyber Protection", Name: "servers"},
			}},
		}
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		managed := map[string]string{"workstations": "", "storage": emulator.DefaultInfraID, "servers": ""}

		By("reporting the quotas once Ready, and the usage once a resync has read it")
		Eventually(func(g Gomega) {
			got := testenv.Fresh(suite, g, q)
			g.Expect(got.Status.UsageObservedAt).NotTo(BeNil())
			want := fromEmulator(g, id, managed)
			g.Expect(want).To(HaveKeyWithValue(series{metrics.OfferingItemUsageMetricName, "workstations", ""}, 7.0))
			g.Expect(want).To(HaveKeyWithValue(series{metrics.OfferingItemUsageMetricName, "storage", emulator.DefaultInfraID}, float64(3<<30)))
			g.Expect(want).To(HaveKeyWithValue(series{metrics.OfferingItemQuotaMetricName, "workstations", ""}, 10.0))
			g.Expect(want).To(HaveKeyWithValue(series{metrics.OfferingItemOverageMetricName, "workstations", ""}, 12.0))
			g.Expect(scrape(g, customer.Name)).To(Equal(want))
		}).WithTimeout(4 * resync).WithPolling(250 * time.Millisecond).Should(Succeed())
		Expect(scrape(Default, customer.Name)).NotTo(HaveKey(series{metrics.OfferingItemQuotaMetricName, "servers", ""}), "servers is unlimited: no quota series")
		Expect(scrape(Default, customer.Name)).NotTo(HaveKey(series{metrics.OfferingItemOverageMetricName, "storage", emulator.DefaultInfraID}), "storage has no hard quota")

		By("following the emulator's usage at the next resync")
		emu.SetUsage(id, "workstations", "", 11)
		Eventually(func(g Gomega) {
			want := fromEmulator(g, id, managed)
			g.Expect(want).To(HaveKeyWithValue(series{metrics.OfferingItemUsageMetricName, "workstations", ""}, 11.0))
			g.Expect(scrape(g, customer.Name)).To(Equal(want))
		}).WithTimeout(4 * resync).WithPolling(250 * time.Millisecond).Should(Succeed())
	})
})

var _ = Describe("The request metrics", func() {
	It("count each connection's requests under its own connection label", func() {
		conn, _ := suite.Connection(nil)
		customer := &v1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("customer"), Namespace: "default"},
			Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantCustomer},
		}
		Expect(suite.K8s.Create(ctx, customer)).To(Succeed())
		testenv.ExpectReady(suite, customer)

		label := "ClusterAccountServer/" + conn
		posts := 0.0
		families, err := crmetrics.Registry.Gather()
		Expect(err).NotTo(HaveOccurred())
		for _, f := range families {
			if f.GetName() != "tenant_operator_accountserver_requests_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				if l := labels(m); l["connection"] == label && l["operation"] == "POST /tenants" {
					posts += m.GetCounter().GetValue()
				}
			}
		}
		Expect(posts).To(BeNumerically(">=", 1), "the create of customer %s is counted under %s", customer.Name, label)
	})
})
