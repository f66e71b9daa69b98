package apiclient_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

// eventsOf lists the notes and reasons of the events about an object.
func eventsOf(g Gomega, name string) []string {
	evs := &eventsv1.EventList{}
	g.Expect(suite.K8s.List(ctx, evs, client.InNamespace("default"))).To(Succeed())
	var out []string
	for _, e := range evs.Items {
		if e.Regarding.Name == name {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}

var _ = Describe("ApiClient", func() {
	var conn string
	var tenant *v1.Tenant
	BeforeEach(func() {
		conn, _ = suite.Connection(nil)
		tenant = customerOn(conn)
	})

	It("creates a client whose Secret gets a token, replaces it when the Secret is lost or stops working, and never shows the secret", func() {
		c := clientOf(tenant, func(c *v1.ApiClient) { c.Spec.DisplayName = "Acme backup integration" })
		Expect(suite.K8s.Create(ctx, c)).To(Succeed())
		got := testenv.ExpectReady(suite, c)
		id := got.Status.ID
		Expect(got.Status.ClientID).To(Equal(id))
		Expect(got.Status.TenantID).To(Equal(tenant.Status.ID))
		Expect(got.Status.Enabled).To(Equal(ptr.To(true)))
		Expect(got.Status.SecretWrittenAt).NotTo(BeNil())
		r := remoteClient(id)
		Expect(r.TenantID).To(Equal(tenant.Status.ID))
		Expect(r.Status).To(Equal("enabled"))
		Expect(r.Data["client_name"]).To(Equal("Acme backup integration [" + string(got.UID) + "]"))

		first := secretOf(Default, c)
		Expect(metav1.IsControlledBy(first, got)).To(BeTrue(), "the Secret is owned by the ApiClient")
		Expect(string(first.Data["client_id"])).To(Equal(id))
		Expect(string(first.Data["url"])).To(Equal(suite.URL))
		Expect(tokenWith(first)).To(Equal(tenant.Status.ID), "the Secret gets a token that acts in the tenant")
		secrets := []string{string(first.Data["client_secret"])}

		By("replacing the client when the Secret is deleted")
		Expect(suite.K8s.Delete(ctx, first)).To(Succeed())
		var second *corev1.Secret
		Eventually(func(g Gomega) {
			second = secretOf(g, c)
			g.Expect(second.UID).NotTo(Equal(first.UID))
			g.Expect(testenv.Fresh(suite, g, c).Status.ClientID).To(Equal(string(second.Data["client_id"])))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		secondID := string(second.Data["client_id"])
		Expect(secondID).NotTo(Equal(id))
		Expect(tokenWith(second)).To(Equal(tenant.Status.ID))
		Eventually(func() *string { return remoteClient(id).DeletedAt }).ShouldNot(BeNil(), "the old client is deleted")
		Eventually(func() []emulator.APIClient { return liveClientsOf(got) }).Should(HaveLen(1))
		Eventually(func(g Gomega) []string { return eventsOf(g, c.Name) }).Should(ContainElement(
			And(HavePrefix("Replaced: "), ContainSubstring(id), ContainSubstring(secondID), ContainSubstring("the Secret is missing"))))
		secrets = append(secrets, string(second.Data["client_secret"]))

		By("replacing it when the Secret's secret no longer works")
		testenv.Modify(suite, second, func(s *corev1.Secret) { s.Data["client_secret"] = []byte("someone-typed-this-in") })
		var third *corev1.Secret
		Eventually(func(g Gomega) {
			third = secretOf(g, c)
			g.Expect(string(third.Data["client_id"])).NotTo(Equal(secondID))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(third.UID).To(Equal(second.UID), "the same Secret is written anew")
		Expect(tokenWith(third)).To(Equal(tenant.Status.ID))
		Eventually(func() *string { return remoteClient(secondID).DeletedAt }).ShouldNot(BeNil())
		Eventually(func(g Gomega) string { return testenv.Fresh(suite, g, c).Status.ClientID }).Should(Equal(string(third.Data["client_id"])))
		testenv.ExpectReady(suite, c)
		Eventually(func() []emulator.APIClient { return liveClientsOf(got) }).Should(HaveLen(1))
		Eventually(func(g Gomega) []string { return eventsOf(g, c.Name) }).Should(ContainElement(
			And(HavePrefix("Replaced: "), ContainSubstring("the server refuses the Secret's credentials"))))
		secrets = append(secrets, string(third.Data["client_secret"]))

		By("never writing a secret into a log, an event, a condition or the status")
		final := testenv.Fresh(suite, Default, c)
		status := fmt.Sprintf("%+v", final.Status)
		notes := strings.Join(eventsOf(Default, c.Name), "\n")
		for _, s := range secrets {
			Expect(s).NotTo(BeEmpty())
			Expect(string(logs.Contents())).NotTo(ContainSubstring(s))
			Expect(status).NotTo(ContainSubstring(s))
			Expect(notes).NotTo(ContainSubstring(s))
		}
	})

	It("turns the client off and on as the spec says, without replacing it", func() {
		c := clientOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, c)).To(Succeed())
		id := testenv.ExpectReady(suite, c).Status.ID
		s := secretOf(Default, c)

		testenv.Modify(suite, c, func(c *v1.ApiClient) { c.Spec.Enabled = ptr.To(false) })
		got := testenv.ExpectReady(suite, c)
		Expect(got.Status.Enabled).To(Equal(ptr.To(false)))
		Expect(remoteClient(id).Status).To(Equal("disabled"))
		_, err := tokenWith(s)
		Expect(accountserver.IsUnauthorized(err)).To(BeTrue(), "a disabled client gets no token: %v", err)
		Consistently(func(g Gomega) string { return testenv.Fresh(suite, g, c).Status.ClientID }).
			WithTimeout(3*time.Second).Should(Equal(id), "a disabled client is not replaced")

		testenv.Modify(suite, c, func(c *v1.ApiClient) {
			c.Spec.Enabled = ptr.To(true)
			c.Spec.DisplayName = "renamed"
		})
		testenv.ExpectReady(suite, c)
		Eventually(func() string { return remoteClient(id).Status }).Should(Equal("enabled"))
		Expect(remoteClient(id).Data["client_name"]).To(HavePrefix("renamed ["))
		Expect(tokenWith(secretOf(Default, c))).To(Equal(tenant.Status.ID))
		Expect(testenv.Fresh(suite, Default, c).Status.ClientID).To(Equal(id))
	})

	It("deletes the remote client with the object, and holds its tenant's deletion", func() {
		c := clientOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, c)).To(Succeed())
		id := testenv.ExpectReady(suite, c).Status.ID

		Expect(suite.K8s.Delete(ctx, tenant)).To(Succeed())
		Eventually(testenv.Condition(suite, tenant, v1.ConditionReconciling)).Should(And(
			Not(BeNil()),
			HaveField("Reason", managed.ReasonDeletionBlocked),
			HaveField("Message", ContainSubstring("ApiClient "+c.Name)),
		))

		Expect(suite.K8s.Delete(ctx, c)).To(Succeed())
		testenv.ExpectGone(suite, c)
		Eventually(func() *string { return remoteClient(id).DeletedAt }).ShouldNot(BeNil(), "the remote client is deleted")
		testenv.ExpectGone(suite, tenant)
	})

	It("replaces the client whose create answer was lost, leaving exactly one", func() {
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		c := clientOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, c)).To(Succeed())
		Eventually(func(g Gomega) {
			got := testenv.Fresh(suite, g, c)
			g.Expect(liveClientsOf(got)).NotTo(BeEmpty())
		}).WithTimeout(30 * time.Second).Should(Succeed())
		emu.SetFaults(emulator.Faults{})

		got := testenv.ExpectReady(suite, c)
		Eventually(func() []emulator.APIClient { return liveClientsOf(got) }).Should(HaveLen(1))
		Expect(liveClientsOf(got)[0].ClientID).To(Equal(got.Status.ClientID))
		Expect(tokenWith(secretOf(Default, c))).To(Equal(tenant.Status.ID))
	})

	It("stalls without creating anything when a Secret of that name belongs to someone else", func() {
		c := clientOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: c.Spec.SecretName, Namespace: "default"},
			StringData: map[string]string{"keep": "me"},
		})).To(Succeed())
		Expect(suite.K8s.Create(ctx, c)).To(Succeed())
		cond := testenv.ExpectStalled(suite, c, managed.ReasonNotOwned)
		Expect(cond.Message).To(Equal("Secret "+c.Spec.SecretName+" exists and is not owned by this object; delete it or choose another name"),
			"worded as managed.WriteOwned words it for every kind")
		Expect(liveClientsOf(testenv.Fresh(suite, Default, c))).To(BeEmpty())
		Expect(secretOf(Default, c).Data).To(HaveKeyWithValue("keep", []byte("me")))
	})

	It("refuses a tenant outside the connection's subtree", func() {
		c := clientOf(tenant, func(c *v1.ApiClient) {
			c.Spec.TenantRef, c.Spec.TenantID = nil, suite.Boot.RootTenantID
			c.Spec.AccountServerRef = testenv.ConnectionRef(conn)
		})
		Expect(suite.K8s.Create(ctx, c)).To(Succeed())
		Expect(testenv.ExpectStalled(suite, c, managed.ReasonOutsideScope).Message).To(Equal(
			"tenant "+suite.Boot.RootTenantID+" lies outside the subtree of tenant "+suite.Boot.TenantID+" that the connection acts in"),
			"worded as for a Tenant's parent")
		Expect(liveClientsOf(testenv.Fresh(suite, Default, c))).To(BeEmpty())
	})
})

var _ = Describe("ApiClient steady state", func() {
	It("writes nothing and asks for no token once Ready, while it keeps looking", func() {
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		})
		tenant := customerOn(conn)
		var clients []*v1.ApiClient
		for range 3 {
			c := clientOf(tenant, nil)
			Expect(suite.K8s.Create(ctx, c)).To(Succeed())
			clients = append(clients, c)
		}
		for _, c := range clients {
			testenv.ExpectReady(suite, c)
		}
		suite.Settled(3 * time.Second)

		tokens := func() int {
			n := 0
			for _, r := range emu.Requests() {
				if strings.HasSuffix(r.Path, "/idp/token") {
					n++
				}
			}
			return n
		}
		apiBefore, writesBefore, readsBefore, tokensBefore := suite.APIWrites(), len(suite.WritesBy(clientID)), len(suite.RequestsBy(clientID)), tokens()
		Consistently(func() int64 { return suite.APIWrites() - apiBefore }).WithTimeout(12*time.Second).WithPolling(time.Second).
			Should(BeZero(), func() string { return "no write to the API server; the last was " + suite.LastAPIWrite() })
		Expect(suite.WritesBy(clientID)).To(HaveLen(writesBefore), "no write to the account server")
		Expect(len(suite.RequestsBy(clientID))-readsBefore).To(BeNumerically(">=", 3), "drift was looked for")
		testenv.ExpectWatchRate(suite.RequestsBy(clientID)[readsBefore:], 12*time.Second, connection.DefaultDriftInterval)
		Expect(tokens()-tokensBefore).To(BeNumerically("<=", 1), "a Secret that did not change is not tried again")
	})
})
