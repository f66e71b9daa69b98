package isolation_test

import (
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

// touching are the requests of log that name id in their path or query.
func touching(log []emulator.RequestRecord, id string) []string {
	var out []string
	for _, r := range log {
		if strings.Contains(r.Path, id) || strings.Contains(r.Query, id) {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func writes(log []emulator.RequestRecord) []string {
	var out []string
	for _, r := range log {
		if r.Method != "GET" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// remoteTenant makes a customer on the server, under parent, as someone
// outside the operator would.
func remoteTenant(parent, name string, kind ...string) *accountserver.Tenant {
	k := "customer"
	if len(kind) > 0 {
		k = kind[0]
	}
	t, err := suite.Admin.CreateTenant(ctx, accountserver.TenantCreate{Name: name, ParentID: parent, Kind: k})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return t
}

var _ = Describe("Namespaces sharing a ClusterAccountServer", func() {
	It("refuse to reach into each other's tenants, naming the owner, with no write to the foreign tenant", func() {
		conn, clientID := suite.Connection(nil)
		teamA, teamB := namespace("team-a"), namespace("team-b")

		By("team-a managing a customer, its administrator, and a user made outside the operator")
		acme := newTenant(conn, teamA, "acme", nil)
		Expect(suite.K8s.Create(ctx, acme)).To(Succeed())
		acme = testenv.ExpectReady(suite, acme)
		id := acme.Status.ID
		admin := newUser(teamA, "acme-admin", func(u *v1.User) { u.Spec.TenantRef = &v1.LocalReference{Name: "acme"} })
		Expect(suite.K8s.Create(ctx, admin)).To(Succeed())
		admin = testenv.ExpectReady(suite, admin)
		outsider, err := suite.Admin.CreateUser(ctx, accountserver.UserCreate{TenantID: id, Login: testenv.Uniq("outsider"),
			Contact: accountserver.Contact{Email: "outsider@example.com", Firstname: "Otto", Lastname: "Outsider"}})
		Expect(err).NotTo(HaveOccurred())
		suite.Settled(2 * time.Second)
		before := len(suite.RequestsBy(clientID))

		By("team-b importing team-a's customer")
		importer := newTenant(conn, teamB, "acme", func(t *v1.Tenant) { t.Spec.ImportID = id })
		Expect(suite.K8s.Create(ctx, importer)).To(Succeed())
		c := testenv.ExpectStalled(suite, importer, managed.ReasonAlreadyManaged)
		Expect(c.Message).To(ContainSubstring(teamA + "/acme"))

		By("team-b importing a unit of team-a's customer that nobody manages")
		unit := remoteTenant(id, testenv.Uniq("unit"), "unit")
		unitImporter := newTenant(conn, teamB, "unit", func(t *v1.Tenant) {
			t.Spec.Kind, t.Spec.ImportID, t.Spec.DisplayName = v1.TenantUnit, unit.ID, unit.Name
		})
		Expect(suite.K8s.Create(ctx, unitImporter)).To(Succeed())
		c = testenv.ExpectStalled(suite, unitImporter, tenant.ReasonOutsideNamespace)
		Expect(c.Message).To(ContainSubstring(teamA + "/acme"))

		By("a second importer in team-a")
		second := newTenant(conn, teamA, "acme-again", func(t *v1.Tenant) { t.Spec.ImportID = id })
		Expect(suite.K8s.Create(ctx, second)).To(Succeed())
		c = testenv.ExpectStalled(suite, second, managed.ReasonAlreadyManaged)
		Expect(c.Message).To(ContainSubstring(teamA + "/acme"))

		By("team-b creating a tenant under team-a's customer with parentID")
		child := newTenant(conn, teamB, "acme-child", func(t *v1.Tenant) { t.Spec.Kind, t.Spec.ParentID = v1.TenantUnit, id })
		Expect(suite.K8s.Create(ctx, child)).To(Succeed())
		c = testenv.ExpectStalled(suite, child, tenant.ReasonOutsideNamespace)
		Expect(c.Message).To(ContainSubstring(teamA + "/acme"))

		By("team-b creating an administrator in team-a's customer with tenantID")
		intruder := newUser(teamB, "intruder", func(u *v1.User) {
			u.Spec.AccountServerRef, u.Spec.TenantID, u.Spec.Roles = testenv.ConnectionRef(conn), id, []string{"company_admin"}
		})
		Expect(suite.K8s.Create(ctx, intruder)).To(Succeed())
		c = testenv.ExpectStalled(suite, intruder, tenant.ReasonOutsideNamespace)
		Expect(c.Message).To(ContainSubstring(teamA + "/acme"))

		By("team-b importing a user of team-a's customer that nobody manages")
		adopter := newUser(teamB, "adopter", func(u *v1.User) {
			u.Spec.AccountServerRef, u.Spec.TenantID, u.Spec.ImportID, u.Spec.Login = testenv.ConnectionRef(conn), id, outsider.ID, outsider.Login
		})
		Expect(suite.K8s.Create(ctx, adopter)).To(Succeed())
		c = testenv.ExpectStalled(suite, adopter, tenant.ReasonOutsideNamespace)
		Expect(c.Message).To(ContainSubstring(teamA + "/acme"))

		By("team-b importing team-a's administrator")
		twin := newUser(teamB, "twin", func(u *v1.User) {
			u.Spec.AccountServerRef, u.Spec.TenantID, u.Spec.ImportID, u.Spec.Login = testenv.ConnectionRef(conn), id, admin.Status.ID, admin.Spec.Login
		})
		Expect(suite.K8s.Create(ctx, twin)).To(Succeed())
		c = testenv.ExpectStalled(suite, twin, managed.ReasonAlreadyManaged)
		Expect(c.Message).To(ContainSubstring(teamA + "/acme-admin"))

		By("writing nothing, and sending nothing about team-a's customer but reads")
		Consistently(func() []string { return writes(suite.RequestsBy(clientID)[before:]) }).
			WithTimeout(5 * time.Second).Should(BeEmpty())
		for _, r := range touching(suite.RequestsBy(clientID)[before:], id) {
			Expect(r).To(HavePrefix("GET "))
		}
		Expect(testenv.ExpectReady(suite, acme).Status.ID).To(Equal(id), "the owner is untouched")
		Expect(testenv.ExpectReady(suite, admin).Status.ID).To(Equal(admin.Status.ID))
	})

	It("stops an object whose tenant another namespace starts to manage above it, before its next write", func() {
		conn, clientID := suite.Connection(nil)
		teamA, teamB := namespace("team-a"), namespace("team-b")
		reseller := remoteTenant(suite.Boot.TenantID, testenv.Uniq("reseller"), "partner")
		child := newTenant(conn, teamB, "child", func(t *v1.Tenant) { t.Spec.ParentID = reseller.ID })
		Expect(suite.K8s.Create(ctx, child)).To(Succeed())
		childID := testenv.ExpectReady(suite, child).Status.ID

		By("team-a adopting the reseller above it")
		owner := newTenant(conn, teamA, "reseller", func(t *v1.Tenant) {
			t.Spec.Kind, t.Spec.ImportID, t.Spec.DisplayName = v1.TenantPartner, reseller.ID, reseller.Name
		})
		Expect(suite.K8s.Create(ctx, owner)).To(Succeed())
		testenv.ExpectReady(suite, owner)
		suite.Settled(2 * time.Second)
		before := len(suite.RequestsBy(clientID))

		By("team-b's next change is refused, not written")
		testenv.Modify(suite, child, func(t *v1.Tenant) { t.Spec.DisplayName += "-renamed" })
		c := testenv.ExpectStalled(suite, child, tenant.ReasonOutsideNamespace)
		Expect(c.Message).To(ContainSubstring(teamA + "/reseller"))
		for _, r := range writes(suite.RequestsBy(clientID)[before:]) {
			Expect(r).NotTo(ContainSubstring(childID), "no write to the tenant that is now team-a's")
		}
	})

	It("hands a tenant over to the waiting importer when the owner is deleted with deletionPolicy Orphan", func() {
		conn, _ := suite.Connection(nil)
		teamA, teamB := namespace("team-a"), namespace("team-b")
		remote := remoteTenant(suite.Boot.TenantID, testenv.Uniq("handover"))
		owner := newTenant(conn, teamA, "owner", func(t *v1.Tenant) {
			t.Spec.ImportID, t.Spec.DisplayName, t.Spec.DeletionPolicy = remote.ID, remote.Name, v1.DeletionOrphan
		})
		Expect(suite.K8s.Create(ctx, owner)).To(Succeed())
		testenv.ExpectReady(suite, owner)
		heir := newTenant(conn, teamB, "heir", func(t *v1.Tenant) { t.Spec.ImportID, t.Spec.DisplayName = remote.ID, remote.Name })
		Expect(suite.K8s.Create(ctx, heir)).To(Succeed())
		testenv.ExpectStalled(suite, heir, managed.ReasonAlreadyManaged)

		Expect(suite.K8s.Delete(ctx, owner)).To(Succeed())
		testenv.ExpectGone(suite, owner)
		got := testenv.ExpectReady(suite, heir)
		Expect(got.Status.ID).To(Equal(remote.ID), "the same remote tenant, not a new one")
		t, err := suite.Admin.GetTenant(ctx, remote.ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(t.DeletedAt).To(BeNil(), "orphaned, not deleted")
	})

	It("lets two objects that import one tenant at the same instant end with one owner and at most one write from the other", func() {
		// One connection (API client) per namespace: the request log tells
		// whose writes are whose.
		connA, clientA := suite.Connection(nil)
		connB, clientB := suite.Connection(nil)
		teamA, teamB := namespace("team-a"), namespace("team-b")
		remote := remoteTenant(suite.Boot.TenantID, testenv.Uniq("race"))
		// Each wants its own name on the server, so each adoption writes.
		a := newTenant(connA, teamA, "racer", func(t *v1.Tenant) { t.Spec.ImportID, t.Spec.DisplayName = remote.ID, remote.Name+"-a" })
		b := newTenant(connB, teamB, "racer", func(t *v1.Tenant) { t.Spec.ImportID, t.Spec.DisplayName = remote.ID, remote.Name+"-b" })
		var wg sync.WaitGroup
		for _, t := range []*v1.Tenant{a, b} {
			wg.Go(func() {
				defer GinkgoRecover()
				Expect(suite.K8s.Create(ctx, t)).To(Succeed())
			})
		}
		wg.Wait()

		var winner, loser *v1.Tenant
		Eventually(func(g Gomega) {
			ga, gb := testenv.Fresh(suite, g, a), testenv.Fresh(suite, g, b)
			readyA := isReady(ga)
			g.Expect(readyA).NotTo(Equal(isReady(gb)), "exactly one is Ready")
			winner, loser = ga, gb
			if !readyA {
				winner, loser = gb, ga
			}
			g.Expect(stalledReason(loser)).To(Equal(managed.ReasonAlreadyManaged))
		}).WithTimeout(time.Minute).Should(Succeed())
		Consistently(func(g Gomega) {
			g.Expect(isReady(testenv.Fresh(suite, g, winner))).To(BeTrue())
			g.Expect(stalledReason(testenv.Fresh(suite, g, loser))).To(Equal(managed.ReasonAlreadyManaged))
		}).WithTimeout(5 * time.Second).Should(Succeed())
		Eventually(func() string {
			t, err := suite.Admin.GetTenant(ctx, remote.ID)
			Expect(err).NotTo(HaveOccurred())
			return t.Name
		}).WithTimeout(time.Minute).Should(Equal(winner.Spec.DisplayName), "the owner's spec holds on the server")

		loserClient := clientB
		if loser.Namespace == teamA {
			loserClient = clientA
		}
		loserWrites := writes(suite.RequestsBy(loserClient))
		GinkgoWriter.Printf("race: the loser (%s/%s) wrote %d times: %v\n", loser.Namespace, loser.Name, len(loserWrites), loserWrites)
		Expect(len(loserWrites)).To(BeNumerically("<=", 1), "at most one write from the loser")
	})

	It("lets a ClusterAccountServer with crossNamespaceReferences: Allow reach across namespaces", func() {
		conn, _ := suite.Connection(func(c *v1.ClusterAccountServer) { c.Spec.CrossNamespaceReferences = v1.CrossNamespaceAllow })
		teamA, teamB := namespace("team-a"), namespace("team-b")
		acme := newTenant(conn, teamA, "acme", nil)
		Expect(suite.K8s.Create(ctx, acme)).To(Succeed())
		id := testenv.ExpectReady(suite, acme).Status.ID

		child := newTenant(conn, teamB, "acme-child", func(t *v1.Tenant) { t.Spec.Kind, t.Spec.ParentID = v1.TenantUnit, id })
		Expect(suite.K8s.Create(ctx, child)).To(Succeed())
		got := testenv.ExpectReady(suite, child)
		Expect(got.Status.ParentID).To(Equal(id))
		helper := newUser(teamB, "helper", func(u *v1.User) {
			u.Spec.AccountServerRef, u.Spec.TenantID, u.Spec.Roles = testenv.ConnectionRef(conn), id, []string{"company_admin"}
		})
		Expect(suite.K8s.Create(ctx, helper)).To(Succeed())
		u, err := suite.Admin.GetUser(ctx, testenv.ExpectReady(suite, helper).Status.ID)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.TenantID).To(Equal(id))

		By("still one OfferingItemQuota per item, across namespaces")
		quota := func(ns, name string, value int64, mutate func(*v1.OfferingItemQuota)) *v1.OfferingItemQuota {
			q := &v1.OfferingItemQuota{
				ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
				Spec: v1.OfferingItemQuotaSpec{Items: []v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations",
					Quota: &v1.QuotaSpec{Value: ptr.To(value)}}}},
			}
			mutate(q)
			return q
		}
		first := quota(teamA, "quotas", 10, func(q *v1.OfferingItemQuota) { q.Spec.TenantRef = &v1.LocalReference{Name: "acme"} })
		Expect(suite.K8s.Create(ctx, first)).To(Succeed())
		testenv.ExpectReady(suite, first)
		other := quota(teamB, "quotas", 20, func(q *v1.OfferingItemQuota) {
			q.Spec.AccountServerRef, q.Spec.TenantID = testenv.ConnectionRef(conn), id
		})
		Expect(suite.K8s.Create(ctx, other)).To(Succeed())
		c := testenv.ExpectStalled(suite, other, "ItemClaimed")
		Expect(c.Message).To(ContainSubstring(teamA + "/quotas"))
		Expect(suite.K8s.Delete(ctx, first)).To(Succeed())
		testenv.ExpectReady(suite, other)
		Eventually(func() *int64 {
			for _, it := range suite.Emulator.OfferingItems(id) {
				if it.Name == "workstations" && it.InfraID == nil && it.Quota.Value != nil {
					return ptr.To(int64(*it.Quota.Value))
				}
			}
			return nil
		}).Should(Equal(ptr.To[int64](20)), "the other namespace's quota took over the item")
	})
})

func isReady(o managed.Object) bool {
	for _, c := range o.ManagedStatus().Conditions {
		if c.Type == v1.ConditionReady {
			return c.Status == "True" && c.ObservedGeneration == o.GetGeneration()
		}
	}
	return false
}

func stalledReason(o managed.Object) string {
	for _, c := range o.ManagedStatus().Conditions {
		if c.Type == v1.ConditionStalled && c.Status == "True" {
			return c.Reason
		}
	}
	return ""
}
