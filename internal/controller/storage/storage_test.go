package storage_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/storage"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

// quotaOn returns an OfferingItemQuota of tenant t turning on its storage
// item of one storage, named by item, not yet created.
func quotaOn(t *v1.Tenant, item func(*v1.OfferingItemSpec)) *v1.OfferingItemQuota {
	it := v1.OfferingItemSpec{Application: "Cyber Protection", Name: "storage", Quota: &v1.QuotaSpec{Value: ptr.To[int64](1 << 40)}}
	item(&it)
	return &v1.OfferingItemQuota{
		ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("quota"), Namespace: t.Namespace},
		Spec:       v1.OfferingItemQuotaSpec{TenantRef: &v1.LocalReference{Name: t.Name}, Items: []v1.OfferingItemSpec{it}},
	}
}

var _ = Describe("Storage", func() {
	var conn, clientID string
	var partner *v1.Tenant
	BeforeEach(func() {
		conn, clientID = suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		})
		partner = tenantOn(conn, v1.TenantPartner, nil)
	})

	It("waits for its Location, creates the storage, updates it with its version, and corrects drift of the fields it sets only", func() {
		l := &v1.Location{
			ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("location"), Namespace: partner.Namespace},
			Spec:       v1.LocationSpec{TenantRef: &v1.LocalReference{Name: partner.Name}},
		}
		s := storageOf(partner, l, func(s *v1.Storage) {
			s.Spec.DisplayName = "Backup storage"
			s.Spec.BackendType = "ceph"
		})
		Expect(suite.K8s.Create(ctx, s)).To(Succeed())
		Eventually(testenv.Condition(suite, s, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonWaitingForReference),
			HaveField("Message", Equal("waiting for Location "+l.Name+" to exist")),
		))
		Expect(requestIndex(clientID, "POST", "/infra")).To(Equal(-1))
		Expect(suite.K8s.Create(ctx, l)).To(Succeed())
		lid := testenv.ExpectReady(suite, l).Status.ID

		got := testenv.ExpectReady(suite, s)
		id := got.Status.ID
		r := remoteInfra(id)
		Expect(r.Name).To(Equal("Backup storage"))
		Expect(r.OwnerTenantID).To(Equal(partner.Status.ID))
		Expect(r.LocationID).To(Equal(lid))
		Expect(r.URL).To(Equal("https://storage.example.com"))
		Expect(r.Capabilities).To(Equal([]string{"backup"}))
		Expect(r.BackendType).To(Equal("ceph"))
		Expect(r.ContentURL).To(BeNil(), "left out of the create when the spec does not set it")
		Expect(got.Status.TenantID).To(Equal(partner.Status.ID))
		Expect(got.Status.LocationID).To(Equal(lid))
		Expect(got.Status.Capabilities).To(Equal([]v1.StorageCapability{v1.StorageBackup}))
		Expect(got.Status.Version).To(Equal(r.Version))
		_, on := storageItem(partner.Status.ID, id)
		Expect(on).To(BeTrue(), "the server gives the owner the storage's backup item")

		By("changing url, capabilities, name and location in one PUT with its version")
		other := locationOf(partner)
		testenv.Modify(suite, s, func(s *v1.Storage) {
			s.Spec.URL = "https://storage2.example.com"
			s.Spec.Capabilities = []v1.StorageCapability{v1.StorageDisasterRecovery, v1.StorageBackup}
			s.Spec.DisplayName = "Backup and DR storage"
			s.Spec.LocationRef = &v1.LocalReference{Name: other.Name}
		})
		Eventually(func(g Gomega) {
			r := remoteInfra(id)
			g.Expect(r.URL).To(Equal("https://storage2.example.com"))
			g.Expect(r.Capabilities).To(ConsistOf("backup", "disaster_recovery"))
			g.Expect(r.Name).To(Equal("Backup and DR storage"))
			g.Expect(r.LocationID).To(Equal(other.Status.ID))
			got := testenv.Fresh(suite, g, s)
			g.Expect(got.Status.Version).To(Equal(r.Version))
			g.Expect(got.Status.LocationID).To(Equal(other.Status.ID))
			g.Expect(got.Status.Capabilities).To(ConsistOf(v1.StorageBackup, v1.StorageDisasterRecovery))
		}).Should(Succeed())
		Expect(requestIndex(clientID, "PUT", "/infra/"+id)).To(BeNumerically(">=", 0))
		testenv.ExpectReady(suite, s)

		By("writing nothing when the server lists the same capabilities in another order")
		now := remoteInfra(id)
		writes := len(suite.WritesBy(clientID))
		reordered, err := suite.Admin.UpdateInfra(ctx, id, accountserver.InfraSpec{Capabilities: []string{"backup", "disaster_recovery"}, Version: now.Version})
		Expect(err).NotTo(HaveOccurred())
		Expect(reordered.Version).NotTo(Equal(now.Version))
		Eventually(func(g Gomega) int64 { return testenv.Fresh(suite, g, s).Status.Version }).WithTimeout(30*time.Second).
			Should(Equal(reordered.Version), "the resync read it")
		Expect(suite.WritesBy(clientID)).To(HaveLen(writes), "capabilities are compared as sets")

		By("putting back what someone changed on the server, and keeping what the spec leaves out")
		now = remoteInfra(id)
		_, err = suite.Admin.UpdateInfra(ctx, id, accountserver.InfraSpec{URL: "https://elsewhere.example.com",
			ContentURL: "https://content.example.com", Version: now.Version})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { return remoteInfra(id).URL }).WithTimeout(30 * time.Second).Should(Equal("https://storage2.example.com"))
		Expect(remoteInfra(id).ContentURL).To(Equal(ptr.To("https://content.example.com")), "contentURL is not in the spec: the server's is kept")
		Expect(remoteInfra(id).Capabilities).To(ConsistOf("backup", "disaster_recovery"))
		testenv.ExpectReady(suite, s)
	})

	It("binds an OfferingItemQuota's infraRef to it, waits for that quota before it goes, and says why the server refuses", func() {
		customer := tenantOn(conn, v1.TenantCustomer, partner)
		l := locationOf(partner)
		s := storageOf(partner, l, nil)

		By("an item naming the Storage waits until the Storage is created")
		q := quotaOn(customer, func(it *v1.OfferingItemSpec) { it.InfraRef = &v1.LocalReference{Name: s.Name} })
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		Eventually(testenv.Condition(suite, q, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonWaitingForReference),
			HaveField("Message", ContainSubstring("Storage "+s.Name)),
		))
		Expect(suite.K8s.Create(ctx, s)).To(Succeed())
		id := testenv.ExpectReady(suite, s).Status.ID
		gotQ := testenv.ExpectReady(suite, q)
		it, ok := storageItem(customer.Status.ID, id)
		Expect(ok).To(BeTrue())
		Expect(it.Status).To(Equal(1), "the customer's item of that storage is on")
		Expect(it.Quota.Value).To(Equal(ptr.To(float64(1 << 40))))
		Expect(gotQ.Status.Items).To(ContainElement(And(HaveField("Name", "storage"), HaveField("InfraID", id), HaveField("Enabled", true))))

		By("the same storage by infraID and by infraRef is one item, listed twice")
		twice := quotaOn(customer, func(it *v1.OfferingItemSpec) { it.InfraRef = &v1.LocalReference{Name: s.Name} })
		twice.Spec.Items = append(twice.Spec.Items, v1.OfferingItemSpec{Application: "Cyber Protection", Name: "storage", InfraID: id})
		Expect(suite.K8s.Create(ctx, twice)).To(Succeed())
		Expect(testenv.ExpectStalled(suite, twice, managed.ReasonInvalidSpec).Message).To(Equal("spec.items: item storage of Cyber Protection is listed twice"))
		Expect(suite.K8s.Delete(ctx, twice)).To(Succeed())

		By("the Storage's deletion waits for the quota that names it")
		Expect(suite.K8s.Delete(ctx, s)).To(Succeed())
		Eventually(testenv.Condition(suite, s, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonDeletionBlocked),
			HaveField("Message", ContainSubstring("OfferingItemQuota "+q.Name)),
		))
		Expect(requestIndex(clientID, "DELETE", "/infra/"+id)).To(Equal(-1), "no DELETE is even tried")

		By("the server refuses while the customer has the item on; the refusal is shown in its words")
		Expect(suite.K8s.Delete(ctx, q)).To(Succeed())
		testenv.ExpectGone(suite, q)
		Eventually(testenv.Condition(suite, s, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonDeletionBlocked),
			HaveField("Message", And(
				HavePrefix("the server refuses to delete storage "+id+": "),
				ContainSubstring("storage "+id+" is turned on for customer tenant "+customer.Status.ID),
				ContainSubstring("(code 1016)"),
			)),
		))
		_, found := emu.Infra(id)
		Expect(found).To(BeTrue(), "never forced")
		Expect(emu.Requests()).NotTo(ContainElement(And(HaveField("Method", "DELETE"), HaveField("Query", ContainSubstring("force")))))

		By("going once the customer's item is off (the pause annotation toggled to retry at once)")
		items, err := suite.Admin.GetOfferingItems(ctx, customer.Status.ID, accountserver.OfferingItemQuery{})
		Expect(err).NotTo(HaveOccurred())
		var off []accountserver.OfferingItemChange
		for _, it := range items {
			if ptr.Deref(it.InfraID, "") == id {
				off = append(off, accountserver.OfferingItemChange{ApplicationID: it.ApplicationID, Name: it.Name, Status: accountserver.ItemStatusOff, InfraID: it.InfraID})
			}
		}
		Expect(off).NotTo(BeEmpty())
		_, err = suite.Admin.PutOfferingItems(ctx, customer.Status.ID, off, false)
		Expect(err).NotTo(HaveOccurred())
		testenv.Modify(suite, s, func(s *v1.Storage) { s.Annotations = map[string]string{v1.AnnotationPaused: "true"} })
		testenv.Modify(suite, s, func(s *v1.Storage) { delete(s.Annotations, v1.AnnotationPaused) })
		testenv.ExpectGone(suite, s)
		_, found = emu.Infra(id)
		Expect(found).To(BeFalse())
	})

	It("adopts an existing storage by importID, and refuses one of another tenant", func() {
		l := locationOf(partner)
		existing, err := suite.Admin.CreateInfra(ctx, accountserver.InfraSpec{OwnerTenantID: partner.Status.ID, LocationID: l.Status.ID,
			Name: "existing", URL: "https://existing.example.com", Capabilities: []string{"backup"}})
		Expect(err).NotTo(HaveOccurred())
		s := storageOf(partner, l, func(s *v1.Storage) {
			s.Spec.ImportID, s.Spec.DisplayName, s.Spec.URL = existing.ID, "existing", "https://existing.example.com"
		})
		Expect(suite.K8s.Create(ctx, s)).To(Succeed())
		got := testenv.ExpectReady(suite, s)
		Expect(got.Status.ID).To(Equal(existing.ID))
		Expect(got.Status.Version).To(Equal(existing.Version), "adopted as it is")
		Expect(requestIndex(clientID, "POST", "/infra")).To(Equal(-1), "nothing created")

		other := tenantOn(conn, v1.TenantPartner, nil)
		foreign, err := suite.Admin.CreateInfra(ctx, accountserver.InfraSpec{OwnerTenantID: other.Status.ID, LocationID: emulator.DefaultLocationID,
			Name: "foreign", URL: "https://foreign.example.com", Capabilities: []string{"backup"}})
		Expect(err).NotTo(HaveOccurred())
		refused := storageOf(partner, l, func(s *v1.Storage) { s.Spec.ImportID = foreign.ID })
		Expect(suite.K8s.Create(ctx, refused)).To(Succeed())
		cond := testenv.ExpectStalled(suite, refused, storage.ReasonTenantMismatch)
		Expect(cond.Message).To(Equal(fmt.Sprintf("Storage %s belongs to tenant %s, not to tenant %s that the spec names; it cannot move between tenants",
			foreign.ID, other.Status.ID, partner.Status.ID)))
		Expect(remoteInfra(foreign.ID).Name).To(Equal("foreign"), "left as it is")
		Expect(testenv.Fresh(suite, Default, refused).Status.ID).To(BeEmpty())
	})

	It("adopts the storage whose create answer was lost, leaving exactly one", func() {
		l := locationOf(partner)
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		s := storageOf(partner, l, func(s *v1.Storage) { s.Spec.DisplayName = "lost answer" })
		Expect(suite.K8s.Create(ctx, s)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(infrasNamed(g, l.Status.ID, "lost answer")).NotTo(BeEmpty())
		}).WithTimeout(30 * time.Second).Should(Succeed())
		emu.SetFaults(emulator.Faults{})

		got := testenv.ExpectReady(suite, s)
		Consistently(func(g Gomega) {
			made := infrasNamed(g, l.Status.ID, "lost answer")
			g.Expect(made).To(HaveLen(1))
			g.Expect(made[0].ID).To(Equal(got.Status.ID))
		}).WithTimeout(3 * time.Second).Should(Succeed())
		dropped := 0
		for _, r := range suite.RequestsBy(clientID) {
			if r.Method == "POST" && strings.HasSuffix(r.Path, "/infra") && r.Dropped {
				dropped++
			}
		}
		Expect(dropped).To(BeNumerically(">=", 1), "the create's answer was lost")
	})
})

var _ = Describe("Storage steady state", func() {
	It("writes nothing once Ready, while it keeps looking", func() {
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		})
		partner := tenantOn(conn, v1.TenantPartner, nil)
		l := locationOf(partner)
		var storages []*v1.Storage
		for i := range 3 {
			s := storageOf(partner, l, func(s *v1.Storage) {
				s.Spec.Capabilities = []v1.StorageCapability{v1.StorageFilesCloud, v1.StorageBackup}
				s.Spec.ContentURL = fmt.Sprintf("https://content%d.example.com", i)
			})
			Expect(suite.K8s.Create(ctx, s)).To(Succeed())
			storages = append(storages, s)
		}
		for _, s := range storages {
			testenv.ExpectReady(suite, s)
		}
		suite.Settled(3 * time.Second)

		apiBefore, writesBefore, readsBefore := suite.APIWrites(), len(suite.WritesBy(clientID)), len(suite.RequestsBy(clientID))
		Consistently(func() int64 { return suite.APIWrites() - apiBefore }).WithTimeout(12*time.Second).WithPolling(time.Second).
			Should(BeZero(), func() string { return "no write to the API server; the last was " + suite.LastAPIWrite() })
		Expect(suite.WritesBy(clientID)).To(HaveLen(writesBefore), "no write to the account server")
		reads := 0
		for _, r := range suite.RequestsBy(clientID)[readsBefore:] {
			if r.Method == "GET" && strings.Contains(r.Path, "/infra/") {
				reads++
			}
		}
		Expect(reads).To(BeNumerically(">=", 3), "drift was looked for: each storage read at its resync")
	})
})
