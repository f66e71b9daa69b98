package events_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

// eventsOf counts the events about obj by type and reason. An event the
// recorder sent again is one Event object with a series: its count is the
// number of times it was sent.
func eventsOf(g Gomega, obj client.Object, eventType string) map[string]int32 {
	var list eventsv1.EventList
	g.Expect(suite.K8s.List(ctx, &list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	out := map[string]int32{}
	for _, e := range list.Items {
		if e.Regarding.UID != obj.GetUID() || e.Type != eventType {
			continue
		}
		n := int32(1)
		if e.Series != nil {
			n = e.Series.Count
		}
		out[e.Reason] += n
	}
	return out
}

// notesOf returns the messages of obj's events of that type and reason.
func notesOf(g Gomega, obj client.Object, eventType, reason string) []string {
	var list eventsv1.EventList
	g.Expect(suite.K8s.List(ctx, &list, client.InNamespace(obj.GetNamespace()))).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.UID == obj.GetUID() && e.Type == eventType && e.Reason == reason {
			out = append(out, e.Note)
		}
	}
	return out
}

// customer is a customer Tenant named acme on connection conn in ns.
func customer(conn, ns string, applications []string) *v1.Tenant {
	return &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: ns},
		Spec: v1.TenantSpec{
			ManagedSpec:  v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)},
			Kind:         v1.TenantCustomer,
			DisplayName:  testenv.Uniq("acme"),
			Applications: applications,
		},
	}
}

var _ = Describe("Warning events", func() {
	It("warns once per change of failing reason, however often a stalled object is reconciled", func() {
		conn, _ := suite.Connection(nil)
		t := customer(conn, namespace("warn"), []string{"No Such Service"})
		Expect(suite.K8s.Create(ctx, t)).To(Succeed())
		testenv.ExpectStalled(suite, t, "UnknownApplication")
		Eventually(func(g Gomega) map[string]int32 { return eventsOf(g, t, corev1.EventTypeWarning) }).
			Should(Equal(map[string]int32{"UnknownApplication": 1}))

		By("reconciling the stalled object again and again for two minutes: each edit is a reconcile with the same reason")
		edits := 0
		Consistently(func(g Gomega) map[string]int32 {
			edits++
			testenv.Modify(suite, t, func(t *v1.Tenant) { t.Spec.DisplayName = testenv.Uniq("acme") })
			return eventsOf(g, t, corev1.EventTypeWarning)
		}).WithTimeout(2 * time.Minute).WithPolling(4 * time.Second).Should(Equal(map[string]int32{"UnknownApplication": 1}))
		Expect(edits).To(BeNumerically(">=", 20))
		// Every edit was reconciled: the last generation was observed.
		Eventually(func(g Gomega) {
			cur := testenv.Fresh(suite, g, t)
			c := testenv.Condition(suite, t, v1.ConditionStalled)(g)
			g.Expect(c).NotTo(BeNil())
			g.Expect(c.Reason).To(Equal("UnknownApplication"))
			g.Expect(cur.Status.ObservedGeneration).To(Equal(cur.Generation))
		}).Should(Succeed())

		By("another failing reason: one more Warning")
		testenv.Modify(suite, t, func(t *v1.Tenant) { t.Spec.ParentID = "0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70" })
		testenv.ExpectStalled(suite, t, "ParentNotFound")
		Eventually(func(g Gomega) map[string]int32 { return eventsOf(g, t, corev1.EventTypeWarning) }).
			Should(Equal(map[string]int32{"UnknownApplication": 1, "ParentNotFound": 1}))

		By("fixed, then broken again the first way: the first reason is announced again")
		testenv.Modify(suite, t, func(t *v1.Tenant) {
			t.Spec.ParentID = ""
			t.Spec.Applications = []string{"Cyber Protection"}
		})
		testenv.ExpectReady(suite, t)
		testenv.Modify(suite, t, func(t *v1.Tenant) { t.Spec.Applications = []string{"Another Unknown Service"} })
		testenv.ExpectStalled(suite, t, "UnknownApplication")
		Eventually(func(g Gomega) map[string]int32 { return eventsOf(g, t, corev1.EventTypeWarning) }).
			Should(Equal(map[string]int32{"UnknownApplication": 2, "ParentNotFound": 1}))
		Consistently(func(g Gomega) map[string]int32 { return eventsOf(g, t, corev1.EventTypeWarning) }).
			WithTimeout(5 * time.Second).Should(Equal(map[string]int32{"UnknownApplication": 2, "ParentNotFound": 1}))
		// The Warning carries the condition's message.
		Expect(notesOf(Default, t, corev1.EventTypeWarning, "ParentNotFound")).To(ConsistOf(ContainSubstring("0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70")))
	})
})

var _ = Describe("Deletion events", func() {
	It("says an OfferingItemQuota's items were released and left as they are, never that something was deleted", func() {
		conn, _ := suite.Connection(nil)
		ns := namespace("release")
		t := customer(conn, ns, nil)
		Expect(suite.K8s.Create(ctx, t)).To(Succeed())
		t = testenv.ExpectReady(suite, t)
		q := &v1.OfferingItemQuota{
			ObjectMeta: metav1.ObjectMeta{Name: "quotas", Namespace: ns},
			Spec: v1.OfferingItemQuotaSpec{
				TenantRef: &v1.LocalReference{Name: t.Name},
				Items: []v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations",
					Quota: &v1.QuotaSpec{Value: ptr.To(int64(7))}}},
			},
		}
		Expect(suite.K8s.Create(ctx, q)).To(Succeed())
		q = testenv.ExpectReady(suite, q)
		Expect(suite.K8s.Delete(ctx, q)).To(Succeed())
		testenv.ExpectGone(suite, q)

		Eventually(func(g Gomega) []string { return notesOf(g, q, corev1.EventTypeNormal, "Released") }).
			Should(ConsistOf(And(ContainSubstring("Released the offering items of tenant "+t.Status.ID), ContainSubstring("stay on the server as they are"))))
		Consistently(func(g Gomega) map[string]int32 { return eventsOf(g, q, corev1.EventTypeNormal) }).
			WithTimeout(3*time.Second).ShouldNot(HaveKey("Deleted"), "nothing was deleted on the server")
		Expect(eventsOf(Default, q, corev1.EventTypeWarning)).To(BeEmpty())

		By("a Tenant, which is deleted on the server, says so")
		Expect(suite.K8s.Delete(ctx, t)).To(Succeed())
		testenv.ExpectGone(suite, t)
		Eventually(func(g Gomega) []string { return notesOf(g, t, corev1.EventTypeNormal, "Deleted") }).
			Should(ConsistOf(ContainSubstring(t.Status.ID)))
	})
})
