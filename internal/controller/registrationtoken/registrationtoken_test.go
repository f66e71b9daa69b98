package registrationtoken_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/controller/registrationtoken"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var _ = Describe("RegistrationToken", func() {
	var tenant *v1.Tenant
	BeforeEach(func() {
		conn, _ := suite.Connection(nil)
		tenant = customerOn(conn)
	})

	It("makes a token that registers agents, keeps it only in its Secret, and revokes it with the object", func() {
		rt := tokenOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
		got := testenv.ExpectReady(suite, rt)

		Expect(got.Spec.ExpiresIn).To(Equal(&metav1.Duration{Duration: 720 * time.Hour}), "the CRD defaults expiresIn")
		st := got.Status
		Expect(st.ID).To(MatchRegexp(`^[0-9]+$`))
		Expect(st.TenantID).To(Equal(tenant.Status.ID))
		Expect(st.ExpiresAt).NotTo(BeNil())
		Expect(st.RenewAt).NotTo(BeNil())
		Expect(st.ExpiresAt.Sub(st.RenewAt.Time)).To(Equal(240*time.Hour), "renewed a third of its lifetime before it expires")
		Expect(st.SecretResourceVersion).NotTo(BeEmpty())
		Expect(st.SecretWrittenAt).NotTo(BeNil())

		remote := remoteToken(st.ID)
		Expect(remote.TenantID).To(Equal(tenant.Status.ID))
		Expect(remote.Scopes).To(Equal([]string{registrationtoken.AgentScope(tenant.Status.ID)}), "the default scope registers backup agents in the tenant")
		Expect(remote.ExpiresAt.Sub(remote.CreatedAt)).To(Equal(720 * time.Hour))
		Expect(remote.ExpiresAt.Truncate(time.Second).Equal(st.ExpiresAt.Time)).To(BeTrue(), "status.expiresAt is the server's, to the second")

		s := secretOf(Default, rt)
		Expect(metav1.IsControlledBy(s, got)).To(BeTrue(), "the Secret is owned by the RegistrationToken")
		Expect(s.Data).To(HaveLen(3))
		Expect(string(s.Data["token"])).To(Equal(remote.Token))
		Expect(string(s.Data["expires_at"])).To(Equal(remote.ExpiresAt.UTC().Format(time.RFC3339)))
		Expect(string(s.Data["url"])).To(Equal(suite.URL))
		Expect(emu.RegisterAgent(string(s.Data["token"])).Accepted).To(BeTrue(), "an agent registers with the Secret's token")

		Expect(suite.K8s.Delete(ctx, got)).To(Succeed())
		testenv.ExpectGone(suite, rt)
		Expect(liveTokens(tenant.Status.ID)).To(BeEmpty(), "the token is revoked with the object")
		Expect(emu.RegisterAgent(remote.Token).Refusal).To(Equal("revoked"))
	})

	It("renews the token before it expires: the new one is in the Secret and works before the old one is revoked", func() {
		rt := tokenOf(tenant, func(rt *v1.RegistrationToken) {
			rt.Spec.ExpiresIn = &metav1.Duration{Duration: time.Minute}
			rt.Spec.RenewBefore = &metav1.Duration{Duration: 40 * time.Second}
		})
		Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
		got := testenv.ExpectReady(suite, rt)
		firstID := got.Status.ID
		Expect(got.Status.ExpiresAt.Sub(got.Status.RenewAt.Time)).To(Equal(40 * time.Second))
		first := string(secretOf(Default, rt).Data["token"])
		Expect(emu.RegisterAgent(first).Accepted).To(BeTrue())

		By("holding every revocation until the new token has been seen to work")
		emu.SetFaults(emulator.Faults{ErrorRate: 1, ErrorMethods: []string{"DELETE"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		var second string
		Eventually(func(g Gomega) {
			second = string(secretOf(g, rt).Data["token"])
			g.Expect(second).NotTo(Equal(first))
		}).WithTimeout(45*time.Second).WithPolling(100*time.Millisecond).Should(Succeed(), "the poller wakes the object at renewAt")
		renewed := emu.RegisterAgent(second)
		Expect(renewed.Accepted).To(BeTrue(), "the new token works as soon as it is in the Secret")
		Expect(emu.RegisterAgent(first).Accepted).To(BeTrue(), "the old token is still valid: it is revoked only after the new one is written")

		By("letting the revocation through")
		emu.SetFaults(emulator.Faults{})
		Eventually(func() string { return emu.RegisterAgent(first).Refusal }).WithTimeout(30*time.Second).Should(Equal("revoked"),
			"after the rotation the old token is refused")
		old := remoteToken(firstID)
		Expect(old.RevokedAt).NotTo(BeNil())
		Expect(renewed.Time.Before(*old.RevokedAt)).To(BeTrue(), "the new token registered an agent before the old one was revoked")
		var creates []int
		revoked := -1
		for i, r := range emu.Requests() {
			switch {
			case r.Method == "POST" && r.Path == "/api/2/tenants/"+tenant.Status.ID+"/registration_tokens" && r.Status == 200:
				creates = append(creates, i)
			case r.Method == "DELETE" && r.Path == "/api/2/registration_tokens/"+firstID && r.Status == 204:
				revoked = i
			}
		}
		Expect(creates).To(HaveLen(2), "the first token and its renewal were made")
		Expect(revoked).To(BeNumerically(">", creates[1]), "the request log has the new token's create before the old one's revocation")
		Eventually(func(g Gomega) string { return testenv.Fresh(suite, g, rt).Status.ID }).Should(Equal(remoteIDOf(renewed)))
		Expect(liveTokens(tenant.Status.ID)).To(HaveLen(1))
		Expect(emu.RegisterAgent(second).Accepted).To(BeTrue())
		Eventually(func(g Gomega) []string { return eventsOf(g, rt.Name) }).Should(ContainElement(
			And(HavePrefix("Replaced: "), ContainSubstring(firstID), ContainSubstring("the token is due for renewal"))))
	})

	It("writes a deleted Secret anew with a fresh token and revokes the old one", func() {
		rt := tokenOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
		firstID := testenv.ExpectReady(suite, rt).Status.ID
		s := secretOf(Default, rt)
		first := string(s.Data["token"])

		Expect(suite.K8s.Delete(ctx, s)).To(Succeed())
		var second *corev1.Secret
		Eventually(func(g Gomega) {
			second = secretOf(g, rt)
			g.Expect(second.UID).NotTo(Equal(s.UID))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(string(second.Data["token"])).NotTo(Equal(first))
		Eventually(func() *time.Time { return remoteToken(firstID).RevokedAt }).ShouldNot(BeNil(), "the old token is revoked")
		Expect(emu.RegisterAgent(first).Refusal).To(Equal("revoked"))
		Expect(emu.RegisterAgent(string(second.Data["token"])).Accepted).To(BeTrue())
		Eventually(func(g Gomega) string { return testenv.Fresh(suite, g, rt).Status.ID }).ShouldNot(Equal(firstID))
		Expect(liveTokens(tenant.Status.ID)).To(HaveLen(1))
		Eventually(func(g Gomega) []string { return eventsOf(g, rt.Name) }).Should(ContainElement(
			And(HavePrefix("Replaced: "), ContainSubstring(firstID), ContainSubstring("the Secret is missing"))))
	})

	It("writes a Secret changed by hand anew with a fresh token and revokes the old one", func() {
		rt := tokenOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
		firstID := testenv.ExpectReady(suite, rt).Status.ID
		s := secretOf(Default, rt)
		first := string(s.Data["token"])

		testenv.Modify(suite, s, func(s *corev1.Secret) { s.Data["token"] = []byte("TYPE-DINB-YHND") })
		var second string
		Eventually(func(g Gomega) {
			second = string(secretOf(g, rt).Data["token"])
			g.Expect(second).NotTo(Or(Equal(first), Equal("TYPE-DINB-YHND")))
		}).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(secretOf(Default, rt).UID).To(Equal(s.UID), "the same Secret is written anew")
		Eventually(func() *time.Time { return remoteToken(firstID).RevokedAt }).ShouldNot(BeNil(), "the old token is revoked")
		Expect(emu.RegisterAgent(second).Accepted).To(BeTrue())
		Expect(liveTokens(tenant.Status.ID)).To(HaveLen(1))
		testenv.ExpectReady(suite, rt)
		Eventually(func(g Gomega) []string { return eventsOf(g, rt.Name) }).Should(ContainElement(
			And(HavePrefix("Replaced: "), ContainSubstring("the Secret does not hold the current token"))))
	})

	It("replaces the token when its scopes or its lifetime change", func() {
		rt := tokenOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
		firstID := testenv.ExpectReady(suite, rt).Status.ID
		scopes := []string{
			registrationtoken.AgentScope(tenant.Status.ID),
			"urn:acronis.com::policy_management:" + tenant.Status.ID + "|10858a46-db9b-4725-aa60-fff6252841fd:apply_revoke",
		}
		testenv.Modify(suite, rt, func(rt *v1.RegistrationToken) { rt.Spec.Scopes = scopes })
		Eventually(func(g Gomega) string { return testenv.Fresh(suite, g, rt).Status.ID }).WithTimeout(30 * time.Second).ShouldNot(Equal(firstID))
		got := testenv.ExpectReady(suite, rt)
		Expect(remoteToken(got.Status.ID).Scopes).To(ConsistOf(scopes))
		Expect(string(secretOf(Default, rt).Data["token"])).To(Equal(remoteToken(got.Status.ID).Token))
		Eventually(func() *time.Time { return remoteToken(firstID).RevokedAt }).ShouldNot(BeNil(), "the old token is revoked")
		Expect(liveTokens(tenant.Status.ID)).To(HaveLen(1))

		secondID := got.Status.ID
		testenv.Modify(suite, rt, func(rt *v1.RegistrationToken) { rt.Spec.ExpiresIn = &metav1.Duration{Duration: 48 * time.Hour} })
		Eventually(func(g Gomega) string { return testenv.Fresh(suite, g, rt).Status.ID }).WithTimeout(30 * time.Second).ShouldNot(Equal(secondID))
		got = testenv.ExpectReady(suite, rt)
		third := remoteToken(got.Status.ID)
		Expect(third.ExpiresAt.Sub(third.CreatedAt)).To(Equal(48 * time.Hour))
		Expect(third.Scopes).To(ConsistOf(scopes))
		Expect(got.Status.ExpiresAt.Sub(got.Status.RenewAt.Time)).To(Equal(16*time.Hour), "renewed a third of the new lifetime before expiry")
		Eventually(func() *time.Time { return remoteToken(secondID).RevokedAt }).ShouldNot(BeNil())
		Expect(liveTokens(tenant.Status.ID)).To(HaveLen(1))
	})

	It("stalls without making a token when a Secret of that name belongs to someone else", func() {
		rt := tokenOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: rt.Spec.SecretName, Namespace: "default"},
			StringData: map[string]string{"keep": "me"},
		})).To(Succeed())
		Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
		cond := testenv.ExpectStalled(suite, rt, "NotOwned")
		Expect(cond.Message).To(Equal("Secret " + rt.Spec.SecretName + " exists and is not owned by this object; delete it or choose another name"))
		Expect(liveTokens(tenant.Status.ID)).To(BeEmpty())
		Expect(secretOf(Default, rt).Data).To(HaveKeyWithValue("keep", []byte("me")))
	})

	It("adopts the token whose create answer was lost instead of making a twin", func() {
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		rt := tokenOf(tenant, nil)
		Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
		got := testenv.ExpectReady(suite, rt)
		emu.SetFaults(emulator.Faults{})

		live := liveTokens(tenant.Status.ID)
		Expect(live).To(HaveLen(1), "exactly one token on the server")
		Expect(got.Status.ID).To(Equal(remoteIDOf(emulator.Registration{TokenID: live[0].ID})))
		Expect(string(secretOf(Default, rt).Data["token"])).To(Equal(live[0].Token), "the adopted token is written to the Secret")
		dropped := 0
		for _, r := range emu.Requests() {
			if r.Dropped && strings.HasSuffix(r.Path, "/tenants/"+tenant.Status.ID+"/registration_tokens") {
				dropped++
			}
		}
		Expect(dropped).To(Equal(1), "the create's answer was lost, and the create not sent again")
		Eventually(func(g Gomega) []string { return eventsOf(g, rt.Name) }).Should(ContainElement(HavePrefix("Adopted: ")))
		Consistently(func() int { return len(liveTokens(tenant.Status.ID)) }).WithTimeout(2 * time.Second).Should(Equal(1))
	})
})

var _ = Describe("RegistrationToken steady state", func() {
	It("writes nothing once Ready, while it keeps looking", func() {
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		})
		tenant := customerOn(conn)
		var tokens []*v1.RegistrationToken
		for range 3 {
			rt := tokenOf(tenant, nil)
			Expect(suite.K8s.Create(ctx, rt)).To(Succeed())
			tokens = append(tokens, rt)
		}
		for _, rt := range tokens {
			testenv.ExpectReady(suite, rt)
		}
		suite.Settled(3 * time.Second)

		apiBefore, writesBefore, readsBefore := suite.APIWrites(), len(suite.WritesBy(clientID)), len(suite.RequestsBy(clientID))
		Consistently(func() int64 { return suite.APIWrites() - apiBefore }).WithTimeout(12*time.Second).WithPolling(time.Second).
			Should(BeZero(), func() string { return "no write to the API server; the last was " + suite.LastAPIWrite() })
		Expect(suite.WritesBy(clientID)).To(HaveLen(writesBefore), "no write to the account server")
		lists := 0
		for _, r := range suite.RequestsBy(clientID)[readsBefore:] {
			if strings.HasSuffix(r.Path, "/registration_tokens") {
				lists++
			}
		}
		Expect(lists).To(BeNumerically(">=", 3), "each token was looked at again")
		Expect(liveTokens(tenant.Status.ID)).To(HaveLen(3))
	})
})

// remoteIDOf is status.id of the token a registration used.
func remoteIDOf(r emulator.Registration) string { return itoa(r.TokenID) }
