package connection_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	connectionctrl "github.com/tenant-operator/tenant-operator/internal/controller/connection"
)

// gone reports whether obj no longer exists.
func gone(obj client.Object) func() bool {
	return func() bool {
		return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(obj), obj))
	}
}

// liveTenant says whether the emulator holds tenant id, not deleted.
func liveTenant(id string) bool {
	t, ok := emu.Tenant(id)
	return ok && t.DeletedAt == nil
}

var _ = Describe("A connection object being deleted", func() {
	// The namespace is deleted as the namespace controller does it (plain
	// envtest has none): marked, then its content deleted in any order —
	// the credentials Secret first, the worst one.
	It("stays usable, even without its Secret, until the objects that use it have deleted their remote objects", func() {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name("customer")}}
		Expect(k8s.Create(ctx, ns)).To(Succeed())
		boot := emu.Bootstrap()
		secret := credentials(ns.Name, boot.ClientID, boot.ClientSecret)
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		as := accountServer(secret.Name)
		as.Namespace = ns.Name
		Expect(k8s.Create(ctx, as)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		Expect(as.Finalizers).To(ContainElement(connectionctrl.InUseFinalizer))

		parent := &v1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: ns.Name},
			Spec: v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: &v1.AccountServerReference{Kind: "AccountServer", Name: as.Name}},
				Kind: v1.TenantCustomer, DisplayName: name("Acme")},
		}
		Expect(k8s.Create(ctx, parent)).To(Succeed())
		// The child inherits the connection from its parent.
		child := &v1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: "acme-unit", Namespace: ns.Name},
			Spec:       v1.TenantSpec{ParentRef: &v1.LocalReference{Name: parent.Name}, Kind: v1.TenantUnit, DisplayName: name("Unit")},
		}
		Expect(k8s.Create(ctx, child)).To(Succeed())
		var ids []string
		for _, t := range []*v1.Tenant{parent, child} {
			Eventually(func(g Gomega) string {
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), t)).To(Succeed())
				return t.Status.ID
			}).WithTimeout(30 * time.Second).ShouldNot(BeEmpty())
			ids = append(ids, t.Status.ID)
		}

		Expect(k8s.Delete(ctx, ns)).To(Succeed())
		Expect(k8s.Delete(ctx, secret)).To(Succeed())
		Expect(k8s.Delete(ctx, as)).To(Succeed())

		By("waiting for the tenants, and saying so, while it is still Ready")
		Eventually(func(g Gomega) {
			c := readyOf(as, as.ConnectionStatus)(g)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
			// Deletion raised the generation; Ready holds at the new one.
			g.Expect(c.ObservedGeneration).To(Equal(as.Generation))
			g.Expect(c.Message).To(ContainSubstring("being deleted, it waits for 2 object(s) that still use it"))
		}).WithTimeout(10 * time.Second).Should(Succeed())
		Consistently(gone(as)).WithTimeout(3 * time.Second).Should(BeFalse())

		Expect(k8s.Delete(ctx, parent)).To(Succeed())
		Expect(k8s.Delete(ctx, child)).To(Succeed())
		Eventually(gone(child)).WithTimeout(30 * time.Second).Should(BeTrue())
		Eventually(gone(parent)).WithTimeout(30 * time.Second).Should(BeTrue())
		for _, id := range ids {
			Expect(liveTenant(id)).To(BeFalse(), "tenant %s must be deleted on the server", id)
		}
		By("letting go once nothing uses it")
		Eventually(gone(as)).WithTimeout(10 * time.Second).Should(BeTrue())
	})

	It("lets go at once when nothing uses it", func() {
		boot := emu.Bootstrap()
		secret := credentials("default", boot.ClientID, boot.ClientSecret)
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		as := accountServer(secret.Name)
		Expect(k8s.Create(ctx, as)).To(Succeed())
		Eventually(func(g Gomega) bool {
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(as), as)).To(Succeed())
			return controllerutil.ContainsFinalizer(as, connectionctrl.InUseFinalizer)
		}).WithTimeout(30 * time.Second).Should(BeTrue())
		Expect(k8s.Delete(ctx, as)).To(Succeed())
		Eventually(gone(as)).WithTimeout(10 * time.Second).Should(BeTrue())
	})
})
