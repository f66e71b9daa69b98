package tenant_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

var _ = Describe("Tenant", func() {
	var conn, clientID string
	BeforeEach(func() { conn, clientID = connection(nil) })

	It("creates a four-level tree from one apply, children waiting for their parents", func() {
		partner := tenantOn(conn, uniq("partner"), v1.TenantPartner, nil)
		folder := tenantOn(conn, uniq("folder"), v1.TenantFolder, func(t *v1.Tenant) {
			t.Spec.AccountServerRef = nil // inherited from the parent
			t.Spec.ParentRef = &v1.LocalReference{Name: partner.Name}
		})
		customer := tenantOn(conn, uniq("customer"), v1.TenantCustomer, func(t *v1.Tenant) {
			t.Spec.AccountServerRef = nil
			t.Spec.ParentRef = &v1.LocalReference{Name: folder.Name}
			t.Spec.DisplayName = "Acme Corp"
			t.Spec.Contact = &v1.Contact{Email: "it@acme.example", Firstname: "Ada"}
		})
		unit := tenantOn(conn, uniq("unit"), v1.TenantUnit, func(t *v1.Tenant) {
			t.Spec.AccountServerRef = nil
			t.Spec.ParentRef = &v1.LocalReference{Name: customer.Name}
		})
		// Children first: they must wait, not fail.
		for _, t := range []*v1.Tenant{unit, customer, folder, partner} {
			Expect(k8s.Create(ctx, t)).To(Succeed())
		}

		p, f, c, u := expectReady(partner), expectReady(folder), expectReady(customer), expectReady(unit)
		Expect(remoteTenant(p.Status.ID).ParentID).To(Equal(boot.TenantID))
		Expect(remoteTenant(f.Status.ID).ParentID).To(Equal(p.Status.ID))
		Expect(remoteTenant(c.Status.ID).ParentID).To(Equal(f.Status.ID))
		Expect(remoteTenant(u.Status.ID).ParentID).To(Equal(c.Status.ID))
		rc := remoteTenant(c.Status.ID)
		Expect(rc.Name).To(Equal("Acme Corp"))
		Expect(rc.Kind).To(Equal("customer"))
		Expect(rc.Contact.Email).To(Equal("it@acme.example"))
		Expect(u.Status.Path).To(Equal([]string{boot.TenantName, partner.Name, folder.Name, "Acme Corp", unit.Name}))
		Expect(c.Status.ParentID).To(Equal(f.Status.ID))
		Expect(c.Status.Kind).To(Equal("customer"))
		Expect(c.Status.Version).To(Equal(rc.Version))
		for _, name := range []string{partner.Name, folder.Name, "Acme Corp", unit.Name} {
			Expect(namedOnServer(name)).To(Equal(1))
		}
	})

	It("updates each field, and moves the tenant when its parent changes", func() {
		p1 := tenantOn(conn, uniq("p1"), v1.TenantPartner, nil)
		p2 := tenantOn(conn, uniq("p2"), v1.TenantPartner, nil)
		c := tenantOn(conn, uniq("cust"), v1.TenantCustomer, func(t *v1.Tenant) { t.Spec.ParentRef = &v1.LocalReference{Name: p1.Name} })
		for _, t := range []*v1.Tenant{p1, p2, c} {
			Expect(k8s.Create(ctx, t)).To(Succeed())
		}
		c = expectReady(c)
		id := c.Status.ID
		p2 = expectReady(p2)

		modify(c, func(c *v1.Tenant) {
			c.Spec.DisplayName = "Renamed Ltd"
			c.Spec.Enabled = ptr.To(false)
			c.Spec.Contact = &v1.Contact{Email: "new@renamed.example", Lastname: "Lovelace", Phone: "+100", Address1: "1 Main St", City: "Bern", Zipcode: "3000", Country: "CH"}
			c.Spec.CustomerID = "CRM-42"
			c.Spec.Language = "de"
			c.Spec.CustomerType = "enterprise"
			c.Spec.AncestralAccess = ptr.To(true)
			c.Spec.MFA = &v1.MFASpec{Enabled: true}
			c.Spec.Pricing = &v1.PricingSpec{Mode: v1.PricingProduction}
			c.Spec.ParentRef = &v1.LocalReference{Name: p2.Name}
		})

		c = expectReady(c)
		Expect(c.Status.ID).To(Equal(id), "an update never replaces the tenant")
		r := remoteTenant(id)
		Expect(r.Name).To(Equal("Renamed Ltd"))
		Expect(r.Enabled).To(BeFalse())
		Expect(r.Contact.Email).To(Equal("new@renamed.example"))
		Expect(r.Contact.Lastname).To(Equal("Lovelace"))
		Expect(r.Contact.City).To(Equal("Bern"))
		Expect(ptr.Deref(r.CustomerID, "")).To(Equal("CRM-42"))
		Expect(r.Language).To(Equal("de"))
		Expect(r.CustomerType).To(Equal("enterprise"))
		Expect(r.AncestralAccess).To(BeTrue())
		Expect(r.MFAStatus).To(Equal("enabled"))
		Expect(r.PricingMode).To(Equal("production"))
		Expect(r.ParentID).To(Equal(p2.Status.ID), "a new parent moves the tenant")
		Expect(c.Status.ParentID).To(Equal(p2.Status.ID))
		Expect(c.Status.Enabled).To(Equal(ptr.To(false)))
		Expect(c.Status.MFAStatus).To(Equal("enabled"))
		Expect(c.Status.PricingMode).To(Equal("production"))
		Expect(c.Status.ProductionStartDate).NotTo(BeNil())
		Expect(c.Status.Path).To(Equal([]string{boot.TenantName, p2.Name, "Renamed Ltd"}))

		By("refusing to go back from production pricing")
		modify(c, func(c *v1.Tenant) { c.Spec.Pricing = &v1.PricingSpec{Mode: v1.PricingTrial} })
		Expect(expectStalled(c, tenant.ReasonPricingOneWay).Message).To(ContainSubstring("production"))
		Expect(remoteTenant(id).PricingMode).To(Equal("production"))
	})

	It("puts an out-of-band change back within the resync interval and leaves unmanaged fields alone", func() {
		conn, _ := connection(func(c *v1.ClusterAccountServer) { c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second} })
		t := tenantOn(conn, uniq("drift"), v1.TenantCustomer, func(t *v1.Tenant) { t.Spec.Contact = &v1.Contact{Email: "a@drift.example"} })
		Expect(k8s.Create(ctx, t)).To(Succeed())
		id := expectReady(t).Status.ID

		r := remoteTenant(id)
		_, err := suite.Admin.UpdateTenant(ctx, id, accountserver.TenantUpdate{Version: r.Version, Name: ptr.To("hijacked"),
			Contact: &accountserver.Contact{Email: "evil@drift.example", Phone: "+999"}})
		Expect(err).NotTo(HaveOccurred())

		Eventually(func() string { return remoteTenant(id).Name }).WithTimeout(25 * time.Second).Should(Equal(t.Name))
		Eventually(func() string { return remoteTenant(id).Contact.Email }).WithTimeout(25 * time.Second).Should(Equal("a@drift.example"))
		Expect(remoteTenant(id).Contact.Phone).To(Equal("+999"), "a field the spec does not set stays as the server has it")
	})

	It("mirrors an imported tenant without writing when ObserveOnly", func() {
		existing, err := suite.Admin.CreateTenant(ctx, accountserver.TenantCreate{Name: uniq("observed"), ParentID: boot.TenantID, Kind: "customer"})
		Expect(err).NotTo(HaveOccurred())
		t := tenantOn(conn, uniq("observer"), v1.TenantPartner, func(t *v1.Tenant) {
			t.Spec.ImportID = existing.ID
			t.Spec.ManagementPolicy = v1.ManagementObserveOnly
			t.Spec.Enabled = ptr.To(false) // differs, and must not be written
		})
		Expect(k8s.Create(ctx, t)).To(Succeed())
		got := expectReady(t)
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady).Reason).To(Equal(managed.ReasonObserved))
		Expect(got.Status.ID).To(Equal(existing.ID))
		Expect(got.Status.Kind).To(Equal("customer"))
		Expect(got.Status.Enabled).To(Equal(ptr.To(true)))
		Expect(got.Finalizers).To(BeEmpty())
		Expect(writesBy(clientID)).To(BeEmpty(), "ObserveOnly must never write to the server")
		Expect(remoteTenant(existing.ID).Version).To(Equal(existing.Version))

		Expect(k8s.Delete(ctx, got)).To(Succeed())
		expectGone(t)
		Expect(remoteTenant(existing.ID).DeletedAt).To(BeNil())
	})

	It("leaves the tenant on the server with deletionPolicy Orphan", func() {
		t := tenantOn(conn, uniq("orphan"), v1.TenantCustomer, func(t *v1.Tenant) { t.Spec.DeletionPolicy = v1.DeletionOrphan })
		Expect(k8s.Create(ctx, t)).To(Succeed())
		id := expectReady(t).Status.ID
		Expect(k8s.Delete(ctx, t)).To(Succeed())
		expectGone(t)
		r := remoteTenant(id)
		Expect(r.DeletedAt).To(BeNil())
		Expect(r.Enabled).To(BeTrue())
	})

	It("disables, then deletes, and blocks deletion while a child still refers to it", func() {
		parent := tenantOn(conn, uniq("parent"), v1.TenantPartner, nil)
		child := tenantOn(conn, uniq("child"), v1.TenantCustomer, func(t *v1.Tenant) { t.Spec.ParentRef = &v1.LocalReference{Name: parent.Name} })
		Expect(k8s.Create(ctx, parent)).To(Succeed())
		Expect(k8s.Create(ctx, child)).To(Succeed())
		pid, cid := expectReady(parent).Status.ID, expectReady(child).Status.ID

		Expect(k8s.Delete(ctx, parent)).To(Succeed())
		Eventually(condition(parent, v1.ConditionReconciling)).WithTimeout(30 * time.Second).Should(And(
			HaveField("Reason", managed.ReasonDeletionBlocked),
			HaveField("Message", ContainSubstring(child.Name)),
		))
		Consistently(func() *string { return remoteTenant(pid).DeletedAt }).WithTimeout(3 * time.Second).Should(BeNil())

		before := len(writesBy(clientID))
		Expect(k8s.Delete(ctx, child)).To(Succeed())
		for _, t := range []*v1.Tenant{child, parent} {
			expectGone(t)
		}
		for _, id := range []string{cid, pid} {
			r, ok := emu.Tenant(id)
			Expect(ok).To(BeTrue())
			Expect(r.DeletedAt).NotTo(BeNil(), "tenant %s must be deleted on the server", id)
			Expect(r.Enabled).To(BeFalse())
		}
		var methods []string
		for _, w := range writesBy(clientID)[before:] {
			if w.Path == "/api/2/tenants/"+cid {
				methods = append(methods, w.Method)
			}
		}
		Expect(methods).To(Equal([]string{"PUT", "DELETE"}), "disable, then delete")
	})

	It("stalls with AlreadyExists instead of adopting a tenant of the same name", func() {
		name := uniq("taken")
		_, err := suite.Admin.CreateTenant(ctx, accountserver.TenantCreate{Name: name, ParentID: boot.TenantID, Kind: "customer"})
		Expect(err).NotTo(HaveOccurred())
		t := tenantOn(conn, name, v1.TenantCustomer, nil)
		Expect(k8s.Create(ctx, t)).To(Succeed())
		Expect(expectStalled(t, managed.ReasonAlreadyExists).Message).To(ContainSubstring("importID"))
		Expect(get(t)(Default).Status.ID).To(BeEmpty())
		Expect(get(t)(Default).Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
		Expect(namedOnServer(name)).To(Equal(1))
	})

	It("refuses, before any write, a parent or an import outside the connection's subtree", func() {
		outside := tenantOn(conn, uniq("outside"), v1.TenantPartner, func(t *v1.Tenant) { t.Spec.ParentID = boot.RootTenantID })
		Expect(k8s.Create(ctx, outside)).To(Succeed())
		Expect(expectStalled(outside, managed.ReasonOutsideScope).Message).To(Equal(
			"tenant "+boot.RootTenantID+" lies outside the subtree of tenant "+boot.TenantID+" that the connection acts in"),
			"worded as for every kind that names a tenant")

		missing := tenantOn(conn, uniq("orphan"), v1.TenantCustomer, func(t *v1.Tenant) { t.Spec.ParentID = "6a0f4a5e-0000-4000-8000-000000000000" })
		Expect(k8s.Create(ctx, missing)).To(Succeed())
		Expect(expectStalled(missing, tenant.ReasonParentNotFound).Message).To(Equal(
			"tenant 6a0f4a5e-0000-4000-8000-000000000000 does not exist on the server"), "worded as for every kind that names a tenant")

		imported := tenantOn(conn, uniq("import-root"), v1.TenantPartner, func(t *v1.Tenant) { t.Spec.ImportID = boot.RootTenantID })
		Expect(k8s.Create(ctx, imported)).To(Succeed())
		expectStalled(imported, managed.ReasonOutsideScope)

		own := tenantOn(conn, uniq("import-own"), v1.TenantPartner, func(t *v1.Tenant) { t.Spec.ImportID = boot.TenantID })
		Expect(k8s.Create(ctx, own)).To(Succeed())
		expectStalled(own, managed.ReasonOutsideScope)

		Expect(writesBy(clientID)).To(BeEmpty())
	})

	It("adopts an imported tenant and makes it match the spec", func() {
		existing, err := suite.Admin.CreateTenant(ctx, accountserver.TenantCreate{Name: uniq("legacy"), ParentID: boot.TenantID, Kind: "customer"})
		Expect(err).NotTo(HaveOccurred())
		t := tenantOn(conn, uniq("adopter"), v1.TenantCustomer, func(t *v1.Tenant) {
			t.Spec.ImportID = existing.ID
			t.Spec.CustomerID = "CRM-7"
		})
		Expect(k8s.Create(ctx, t)).To(Succeed())
		got := expectReady(t)
		Expect(got.Status.ID).To(Equal(existing.ID))
		r := remoteTenant(existing.ID)
		Expect(r.Name).To(Equal(t.Name))
		Expect(ptr.Deref(r.CustomerID, "")).To(Equal("CRM-7"))

		By("refusing to change importID")
		got.Spec.ImportID = "00000000-0000-0000-0000-000000000001"
		err = k8s.Update(ctx, got)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("importID cannot be changed"))
	})

	It("stops at a namespace the ClusterAccountServer does not allow", func() {
		closed, closedID := connection(func(c *v1.ClusterAccountServer) { c.Spec.AllowedNamespaces = nil })
		sent := len(requestsBy(closedID))
		t := tenantOn(closed, uniq("denied"), v1.TenantCustomer, nil)
		Expect(k8s.Create(ctx, t)).To(Succeed())
		expectStalled(t, "NamespaceNotAllowed")
		Expect(requestsBy(closedID)).To(HaveLen(sent), "no request is sent for an object in a namespace that is not allowed")
	})

	It("does nothing while paused", func() {
		t := tenantOn(conn, uniq("paused"), v1.TenantCustomer, func(t *v1.Tenant) {
			t.Annotations = map[string]string{v1.AnnotationPaused: "true"}
		})
		Expect(k8s.Create(ctx, t)).To(Succeed())
		Consistently(func(g Gomega) []metav1.Condition { return get(t)(g).Status.Conditions }).WithTimeout(3 * time.Second).Should(BeEmpty())
		Expect(namedOnServer(t.Name)).To(BeZero())

		modify(t, func(t *v1.Tenant) { delete(t.Annotations, v1.AnnotationPaused) })
		expectReady(t)
		Expect(namedOnServer(t.Name)).To(Equal(1))
	})
})
