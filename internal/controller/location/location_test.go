package location_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/controller/location"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var _ = Describe("Location", func() {
	var conn, clientID string
	var partner *v1.Tenant
	BeforeEach(func() {
		conn, clientID = suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		})
		partner = partnerOn(conn)
	})

	It("creates the location, renames it with its version, corrects a rename made on the server, and deletes it", func() {
		l := locationOf(partner, func(l *v1.Location) { l.Spec.DisplayName = "Frankfurt" })
		Expect(suite.K8s.Create(ctx, l)).To(Succeed())
		got := testenv.ExpectReady(suite, l)
		id := got.Status.ID
		r := remoteLocation(id)
		Expect(r.Name).To(Equal("Frankfurt"))
		Expect(r.OwnerTenantID).To(Equal(partner.Status.ID))
		Expect(got.Status.TenantID).To(Equal(partner.Status.ID))
		Expect(got.Status.DisplayName).To(Equal("Frankfurt"))
		Expect(got.Status.Version).To(Equal(r.Version))

		By("renaming it with a PUT that carries its version")
		testenv.Modify(suite, l, func(l *v1.Location) { l.Spec.DisplayName = "Frankfurt 2" })
		Eventually(func() string { return remoteLocation(id).Name }).Should(Equal("Frankfurt 2"))
		Eventually(func(g Gomega) {
			got := testenv.Fresh(suite, g, l)
			g.Expect(got.Status.DisplayName).To(Equal("Frankfurt 2"))
			g.Expect(got.Status.Version).To(Equal(remoteLocation(id).Version))
			g.Expect(got.Status.Version).To(BeNumerically(">", r.Version))
		}).Should(Succeed())
		Expect(requestIndex(clientID, "PUT", "/locations/"+id)).To(BeNumerically(">=", 0))

		By("renaming it back when someone renames it on the server")
		now := remoteLocation(id)
		_, err := suite.Admin.UpdateLocation(ctx, id, "renamed by hand", now.Version)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string { return remoteLocation(id).Name }).WithTimeout(30 * time.Second).Should(Equal("Frankfurt 2"))
		testenv.ExpectReady(suite, l)

		By("deleting it with the object")
		Expect(suite.K8s.Delete(ctx, l)).To(Succeed())
		testenv.ExpectGone(suite, l)
		_, found := emu.Location(id)
		Expect(found).To(BeFalse(), "the remote location is deleted")
		Expect(requestIndex(clientID, "DELETE", "/locations/"+id)).To(BeNumerically(">=", 0))
	})

	It("uses metadata.name when displayName is left out", func() {
		l := locationOf(partner, nil)
		Expect(suite.K8s.Create(ctx, l)).To(Succeed())
		got := testenv.ExpectReady(suite, l)
		Expect(remoteLocation(got.Status.ID).Name).To(Equal(l.Name))
		Expect(got.Status.DisplayName).To(Equal(l.Name))
	})

	It("waits for its Storages before it goes, and deletes them first on the server", func() {
		l := locationOf(partner, nil)
		Expect(suite.K8s.Create(ctx, l)).To(Succeed())
		lid := testenv.ExpectReady(suite, l).Status.ID
		s := &v1.Storage{
			ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("storage"), Namespace: l.Namespace},
			Spec: v1.StorageSpec{TenantRef: &v1.LocalReference{Name: partner.Name}, LocationRef: &v1.LocalReference{Name: l.Name},
				URL: "https://storage.example.com", Capabilities: []v1.StorageCapability{v1.StorageBackup}},
		}
		Expect(suite.K8s.Create(ctx, s)).To(Succeed())
		sid := testenv.ExpectReady(suite, s).Status.ID
		Expect(sid).NotTo(BeEmpty())

		Expect(suite.K8s.Delete(ctx, l)).To(Succeed())
		Eventually(testenv.Condition(suite, l, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonDeletionBlocked),
			HaveField("Message", ContainSubstring("Storage "+s.Name)),
		))
		Consistently(func() bool { _, ok := emu.Location(lid); return ok }).WithTimeout(3*time.Second).Should(BeTrue(),
			"the location stays on the server while a Storage sits in it")
		Expect(requestIndex(clientID, "DELETE", "/locations/"+lid)).To(Equal(-1), "no DELETE is even tried")

		Expect(suite.K8s.Delete(ctx, s)).To(Succeed())
		testenv.ExpectGone(suite, s)
		testenv.ExpectGone(suite, l)
		_, found := emu.Location(lid)
		Expect(found).To(BeFalse())
		_, found = emu.Infra(sid)
		Expect(found).To(BeFalse())
		delInfra, delLocation := requestIndex(clientID, "DELETE", "/infra/"+sid), requestIndex(clientID, "DELETE", "/locations/"+lid)
		Expect(delInfra).To(BeNumerically(">=", 0))
		Expect(delLocation).To(BeNumerically(">", delInfra), "the storage is deleted before its location")
	})

	It("adopts an existing location by importID, and refuses one of another tenant", func() {
		existing, err := suite.Admin.CreateLocation(ctx, partner.Status.ID, "existing-"+testenv.Uniq("dc"))
		Expect(err).NotTo(HaveOccurred())
		l := locationOf(partner, func(l *v1.Location) {
			l.Spec.ImportID, l.Spec.DisplayName = existing.ID, existing.Name
		})
		Expect(suite.K8s.Create(ctx, l)).To(Succeed())
		got := testenv.ExpectReady(suite, l)
		Expect(got.Status.ID).To(Equal(existing.ID))
		Expect(got.Status.Version).To(Equal(existing.Version), "adopted as it is: the name matches")
		Expect(requestIndex(clientID, "POST", "/locations")).To(Equal(-1), "nothing created")

		other := partnerOn(conn)
		foreign, err := suite.Admin.CreateLocation(ctx, other.Status.ID, "foreign")
		Expect(err).NotTo(HaveOccurred())
		refused := locationOf(partner, func(l *v1.Location) { l.Spec.ImportID = foreign.ID })
		Expect(suite.K8s.Create(ctx, refused)).To(Succeed())
		cond := testenv.ExpectStalled(suite, refused, location.ReasonTenantMismatch)
		Expect(cond.Message).To(Equal(fmt.Sprintf("Location %s belongs to tenant %s, not to tenant %s that the spec names; it cannot move between tenants",
			foreign.ID, other.Status.ID, partner.Status.ID)))
		Expect(remoteLocation(foreign.ID).Name).To(Equal("foreign"), "left as it is")
		Expect(testenv.Fresh(suite, Default, refused).Status.ID).To(BeEmpty())
	})

	It("adopts the location whose create answer was lost, leaving exactly one", func() {
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		l := locationOf(partner, func(l *v1.Location) { l.Spec.DisplayName = "lost answer" })
		Expect(suite.K8s.Create(ctx, l)).To(Succeed())
		Eventually(func(g Gomega) {
			g.Expect(locationsNamed(g, partner.Status.ID, "lost answer")).NotTo(BeEmpty())
		}).WithTimeout(30 * time.Second).Should(Succeed())
		emu.SetFaults(emulator.Faults{})

		got := testenv.ExpectReady(suite, l)
		Consistently(func(g Gomega) {
			made := locationsNamed(g, partner.Status.ID, "lost answer")
			g.Expect(made).To(HaveLen(1))
			g.Expect(made[0].ID).To(Equal(got.Status.ID))
		}).WithTimeout(3 * time.Second).Should(Succeed())
		dropped := 0
		for _, r := range suite.RequestsBy(clientID) {
			if r.Method == "POST" && strings.HasSuffix(r.Path, "/locations") && r.Dropped {
				dropped++
			}
		}
		Expect(dropped).To(BeNumerically(">=", 1), "the create's answer was lost")
	})
})

var _ = Describe("Location steady state", func() {
	It("writes nothing once Ready, while it keeps looking", func() {
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		})
		partner := partnerOn(conn)
		var locations []*v1.Location
		for range 3 {
			l := locationOf(partner, nil)
			Expect(suite.K8s.Create(ctx, l)).To(Succeed())
			locations = append(locations, l)
		}
		for _, l := range locations {
			testenv.ExpectReady(suite, l)
		}
		suite.Settled(3 * time.Second)

		apiBefore, writesBefore, readsBefore := suite.APIWrites(), len(suite.WritesBy(clientID)), len(suite.RequestsBy(clientID))
		Consistently(func() int64 { return suite.APIWrites() - apiBefore }).WithTimeout(12*time.Second).WithPolling(time.Second).
			Should(BeZero(), func() string { return "no write to the API server; the last was " + suite.LastAPIWrite() })
		Expect(suite.WritesBy(clientID)).To(HaveLen(writesBefore), "no write to the account server")
		reads := 0
		for _, r := range suite.RequestsBy(clientID)[readsBefore:] {
			if r.Method == "GET" && strings.Contains(r.Path, "/locations/") {
				reads++
			}
		}
		Expect(reads).To(BeNumerically(">=", 3), "drift was looked for: each location read at its resync")
	})
})
