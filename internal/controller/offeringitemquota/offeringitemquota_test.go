package offeringitemquota_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	oiq "github.com/tenant-operator/tenant-operator/internal/controller/offeringitemquota"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

const cp = "Cyber Protection"

var _ = Describe("OfferingItemQuota", func() {
	var conn, clientID string
	var customer *v1.Tenant
	BeforeEach(func() {
		conn, clientID = suite.Connection(nil)
		customer = tenantOn(conn, v1.TenantCustomer, nil)
	})

	It("sets, raises, lowers and removes quotas, per storage too, and reports them", func() {
		q := quotaFor(customer,
			item(cp, "workstations", ptr.To[int64](10), ptr.To[int64](12)),
			item(emulator.CyberProtectionAppID, "servers", ptr.To[int64](5), nil),
			v1.OfferingItemSpec{Application: cp, Name: "storage", InfraID: emulator.DefaultInfraID, Quota: &v1.QuotaSpec{Value: ptr.To[int64](1 << 40), Overage: ptr.To[int64](2 << 40)}},
		)
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		got := testenv.ExpectReady(suite, q)
		id := customer.Status.ID

		ws := remoteItem(id, "workstations", "")
		Expect(ws.Status).To(Equal(1))
		Expect(limit(ws.Quota.Value)).To(Equal(ptr.To[int64](10)))
		Expect(limit(ws.Quota.Overage)).To(Equal(ptr.To[int64](12)))
		srv := remoteItem(id, "servers", "")
		Expect(limit(srv.Quota.Value)).To(Equal(ptr.To[int64](5)))
		Expect(srv.Quota.Overage).To(BeNil(), "an absent overage is unlimited")
		st := remoteItem(id, "storage", emulator.DefaultInfraID)
		Expect(limit(st.Quota.Overage)).To(Equal(ptr.To[int64](2 << 40)))

		Expect(got.Status.TenantID).To(Equal(id))
		Expect(got.Status.ItemCount).To(Equal(int32(3)))
		Expect(got.Status.Items).To(ContainElement(And(
			HaveField("Name", "workstations"), HaveField("Enabled", true),
			HaveField("Value", ptr.To[int64](10)), HaveField("Overage", ptr.To[int64](12)),
			HaveField("QuotaVersion", ws.Quota.Version),
		)))
		Expect(got.Status.Items).To(ContainElement(And(HaveField("Name", "storage"), HaveField("InfraID", emulator.DefaultInfraID))))
		Expect(got.Status.UsageObservedAt).To(BeNil(), "a create does not read usage; the resync that follows does")

		By("raising one quota with one GET and one PUT, nothing else")
		suite.Settled(2 * time.Second)
		before := len(suite.RequestsBy(clientID))
		testenv.Modify(suite, q, func(q *v1.OfferingItemQuota) { q.Spec.Items[0].Quota.Value = ptr.To[int64](20) })
		Eventually(func() *int64 {
			return limit(remoteItem(id, "workstations", "").Quota.Value)
		}).
			Should(Equal(ptr.To[int64](20)))
		testenv.ExpectReady(suite, q)
		suite.Settled(2 * time.Second)
		sent := suite.RequestsBy(clientID)[before:]
		var calls []string
		for _, r := range sent {
			calls = append(calls, r.Method+" "+r.Path)
		}
		Expect(calls).To(Equal([]string{"GET /api/2/tenants/" + id + "/offering_items", "PUT /api/2/tenants/" + id + "/offering_items"}))

		By("lowering one and making another unlimited")
		testenv.Modify(suite, q, func(q *v1.OfferingItemQuota) {
			q.Spec.Items[0].Quota.Value = ptr.To[int64](3)
			q.Spec.Items[1].Quota = nil
		})
		Eventually(func() *int64 {
			return limit(remoteItem(id, "workstations", "").Quota.Value)
		}).
			Should(Equal(ptr.To[int64](3)))
		Eventually(func() *float64 { return remoteItem(id, "servers", "").Quota.Value }).Should(BeNil())
	})

	It("turns items off and on, and refuses to turn off one in use", func() {
		q := quotaFor(customer, item(cp, "vms", nil, nil), item(cp, "mobiles", nil, nil))
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		testenv.ExpectReady(suite, q)
		id := customer.Status.ID

		testenv.Modify(suite, q, func(q *v1.OfferingItemQuota) { q.Spec.Items[0].Enabled = ptr.To(false) })
		Eventually(func() int { return remoteItem(id, "vms", "").Status }).Should(Equal(0))
		Expect(remoteItem(id, "mobiles", "").Status).To(Equal(1))
		testenv.ExpectReady(suite, q)

		testenv.Modify(suite, q, func(q *v1.OfferingItemQuota) { q.Spec.Items[0].Enabled = nil })
		Eventually(func() int { return remoteItem(id, "vms", "").Status }).Should(Equal(1))

		By("refusing, with checkUsage, to turn off an item in use")
		emu.SetUsage(id, "mobiles", "", 3)
		testenv.Modify(suite, q, func(q *v1.OfferingItemQuota) { q.Spec.Items[1].Enabled = ptr.To(false) })
		testenv.ExpectStalled(suite, q, "Rejected")
		Expect(remoteItem(id, "mobiles", "").Status).To(Equal(1))
	})

	It("switches the edition, and stalls with the server's reasons when the switch is blocked", func() {
		q := quotaFor(customer, item(cp, "adv_workstations", ptr.To[int64](7), nil))
		q.Spec.Edition = &v1.EditionSpec{Application: cp, Name: "advanced"}
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		testenv.ExpectReady(suite, q)
		aw := remoteItem(customer.Status.ID, "adv_workstations", "")
		Expect(aw.Status).To(Equal(1))
		Expect(ptr.Deref(aw.Edition, "")).To(Equal("advanced"))
		Expect(limit(aw.Quota.Value)).To(Equal(ptr.To[int64](7)))
		Expect(remoteItem(customer.Status.ID, "workstations", "").Status).To(Equal(0), "one edition at a time")

		By("a partner that does not offer the advanced edition blocks its customer's switch")
		partner := tenantOn(conn, v1.TenantPartner, nil)
		var off []accountserver.OfferingItemChange
		for _, it := range emu.OfferingItems(partner.Status.ID) {
			if ptr.Deref(it.Edition, "") == "advanced" {
				off = append(off, accountserver.OfferingItemChange{ApplicationID: it.ApplicationID, Name: it.Name, Status: 0, InfraID: it.InfraID})
			}
		}
		_, err := suite.Admin.PutOfferingItems(ctx, partner.Status.ID, off, false)
		Expect(err).NotTo(HaveOccurred())
		child := tenantOn(conn, v1.TenantCustomer, partner)
		blocked := quotaFor(child, item(cp, "adv_servers", nil, nil))
		blocked.Spec.Edition = &v1.EditionSpec{Application: cp, Name: "advanced"}
		Expect(suite.K8s.Create(ctx, blocked)).To(Succeed())
		c := testenv.ExpectStalled(suite, blocked, oiq.ReasonEditionBlocked)
		Expect(c.Message).To(ContainSubstring("advanced"))
		Expect(c.Message).To(ContainSubstring("1021"))
		Expect(ptr.Deref(remoteItem(child.Status.ID, "workstations", "").Edition, "")).To(Equal("standard"))
	})

	It("stalls with NotAvailable, naming the item, when the parent does not offer it", func() {
		partner := tenantOn(conn, v1.TenantPartner, nil)
		_, err := suite.Admin.PutOfferingItems(ctx, partner.Status.ID, []accountserver.OfferingItemChange{
			{ApplicationID: emulator.CyberProtectionAppID, Name: "servers", Status: 0},
		}, false)
		Expect(err).NotTo(HaveOccurred())
		child := tenantOn(conn, v1.TenantCustomer, partner)
		q := quotaFor(child, item(cp, "servers", ptr.To[int64](2), nil))
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		Expect(testenv.ExpectStalled(suite, q, oiq.ReasonNotAvailable).Message).To(ContainSubstring("servers"))
		Expect(remoteItem(child.Status.ID, "servers", "").Status).To(Equal(0))
	})

	It("refuses a second object that claims an item the first manages, until the first goes", func() {
		first := quotaFor(customer, item(cp, "workstations", ptr.To[int64](4), nil))
		Expect(suite.K8s.Create(ctx, first)).To(Succeed())
		testenv.ExpectReady(suite, first)
		second := quotaFor(customer, item(cp, "workstations", ptr.To[int64](40), nil), item(cp, "servers", nil, nil))
		Expect(suite.K8s.Create(ctx, second)).To(Succeed())
		Expect(testenv.ExpectStalled(suite, second, oiq.ReasonItemClaimed).Message).To(ContainSubstring(first.Name))
		Consistently(func() *int64 {
			return limit(remoteItem(customer.Status.ID, "workstations", "").Quota.Value)
		}).WithTimeout(2 * time.Second).Should(Equal(ptr.To[int64](4)))

		first.Spec.DeletionPolicy = v1.DeletionOrphan
		testenv.Modify(suite, first, func(q *v1.OfferingItemQuota) { q.Spec.DeletionPolicy = v1.DeletionOrphan })
		Expect(suite.K8s.Delete(ctx, first)).To(Succeed())
		testenv.ExpectReady(suite, second)
		Expect(limit(remoteItem(customer.Status.ID, "workstations", "").Quota.Value)).To(Equal(ptr.To[int64](40)))
	})

	It("stalls on an unknown application or item", func() {
		q := quotaFor(customer, item("Tape Robot", "cartridges", nil, nil), item(cp, "workstations", nil, nil), item("Tape Robot", "drives", nil, nil), item("Punch Cards", "decks", nil, nil))
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		Expect(testenv.ExpectStalled(suite, q, oiq.ReasonUnknownApplication).Message).To(And(
			HavePrefix("spec.items[].application: no application is named or has the ID Tape Robot, Punch Cards on the server; it knows "),
			ContainSubstring("Cyber Protection")), "every unknown name once, and the known ones, as a Tenant says it")
		r := quotaFor(customer, item(cp, "floppies", nil, nil))
		Expect(suite.K8s.Create(ctx, r)).To(Succeed())
		Expect(testenv.ExpectStalled(suite, r, oiq.ReasonUnknownItem).Message).To(ContainSubstring("floppies"))
	})

	It("leaves every item as it is when deleted", func() {
		q := quotaFor(customer, item(cp, "vms", ptr.To[int64](1), nil))
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		testenv.ExpectReady(suite, q)
		Expect(suite.K8s.Delete(ctx, q)).To(Succeed())
		testenv.ExpectGone(suite, q)
		vms := remoteItem(customer.Status.ID, "vms", "")
		Expect(vms.Status).To(Equal(1), "deleting the object must not cut a service off")
		Expect(limit(vms.Quota.Value)).To(Equal(ptr.To[int64](1)))
		Expect(remoteItem(customer.Status.ID, "workstations", "").Status).To(Equal(1))
	})
})

var _ = Describe("OfferingItemQuota drift", func() {
	It("puts a listed item back within the resync interval and leaves unlisted items as the server has them", func() {
		conn, _ := suite.Connection(func(c *v1.ClusterAccountServer) { c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second} })
		customer := tenantOn(conn, v1.TenantCustomer, nil)
		id := customer.Status.ID
		q := quotaFor(customer, item(cp, "workstations", ptr.To[int64](10), nil))
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		testenv.ExpectReady(suite, q)

		ws := remoteItem(id, "workstations", "")
		sv := remoteItem(id, "servers", "")
		_, err := suite.Admin.PutOfferingItems(ctx, id, []accountserver.OfferingItemChange{
			{ApplicationID: emulator.CyberProtectionAppID, Name: "workstations", Status: 1, Quota: &accountserver.Quota{Value: ptr.To[int64](99), Version: ws.Quota.Version}},
			{ApplicationID: emulator.CyberProtectionAppID, Name: "servers", Status: 1, Quota: &accountserver.Quota{Value: ptr.To[int64](77), Version: sv.Quota.Version}},
		}, false)
		Expect(err).NotTo(HaveOccurred())

		Eventually(func() *int64 {
			return limit(remoteItem(id, "workstations", "").Quota.Value)
		}).
			WithTimeout(25 * time.Second).Should(Equal(ptr.To[int64](10)))
		Expect(limit(remoteItem(id, "servers", "").Quota.Value)).To(Equal(ptr.To[int64](77)), "an unlisted item stays as the server has it")
	})
})

var _ = Describe("OfferingItemQuota usage", func() {
	It("is read by the resync after the create, and neither by the create nor by a spec change", func() {
		const resync = 10 * time.Second
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) { c.Spec.ResyncInterval = &metav1.Duration{Duration: resync} })
		customer := tenantOn(conn, v1.TenantCustomer, nil)
		id := customer.Status.ID
		emu.SetUsage(id, "workstations", "", 3)
		usageReads := func() int {
			n := 0
			for _, r := range suite.RequestsBy(clientID) {
				if r.Method == "GET" && r.Path == "/api/2/tenants/"+id+"/usages" {
					n++
				}
			}
			return n
		}

		q := quotaFor(customer, item(cp, "workstations", ptr.To[int64](10), nil))
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		got := testenv.ExpectReady(suite, q)
		Expect(got.Status.UsageObservedAt).To(BeNil())
		Expect(got.Status.Items[0].Usage).To(BeNil())
		Expect(usageReads()).To(BeZero(), "the create does not read usage")

		By("the first resync reading it")
		Eventually(func(g Gomega) {
			got = testenv.Fresh(suite, g, q)
			g.Expect(got.Status.UsageObservedAt).NotTo(BeNil())
			g.Expect(got.Status.Items[0].Usage).To(Equal(ptr.To[int64](3)))
		}).WithTimeout(3 * resync).Should(Succeed())
		Expect(usageReads()).To(Equal(1))

		By("a spec change not reading it, however old the last reading")
		testenv.Modify(suite, q, func(q *v1.OfferingItemQuota) { q.Annotations = map[string]string{v1.AnnotationPaused: "true"} })
		Eventually(func() time.Duration {
			return time.Since(testenv.Fresh(suite, Default, q).Status.UsageObservedAt.Time)
		}).WithTimeout(3 * resync).WithPolling(time.Second).Should(BeNumerically(">", resync+time.Second))
		reads := usageReads()
		testenv.Modify(suite, q, func(q *v1.OfferingItemQuota) {
			delete(q.Annotations, v1.AnnotationPaused)
			q.Spec.Items[0].Quota.Value = ptr.To[int64](20)
		})
		Eventually(func() *int64 {
			return limit(remoteItem(id, "workstations", "").Quota.Value)
		}).Should(Equal(ptr.To[int64](20)))
		got = testenv.ExpectReady(suite, q)
		Expect(usageReads()).To(Equal(reads))
		Expect(got.Status.Items[0].Usage).To(Equal(ptr.To[int64](3)), "the last reading stays in status")
	})
})
