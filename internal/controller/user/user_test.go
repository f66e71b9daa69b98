package user_test

import (
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/user"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var _ = Describe("User", func() {
	var conn, clientID string
	var tenant *v1.Tenant
	BeforeEach(func() {
		conn, clientID = suite.Connection(nil)
		tenant = customerOn(conn)
	})

	It("creates an administrator with its roles and sends the activation email once", func() {
		u := userIn(tenant, func(u *v1.User) {
			u.Spec.Roles = []string{"company_admin"}
			u.Spec.Language = "de"
			u.Spec.Notifications = []string{"quota", "reports"}
			u.Spec.BusinessTypes = []string{"buyer"}
		})
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		got := testenv.ExpectReady(suite, u)

		r := remoteUser(got.Status.ID)
		Expect(r.Login).To(Equal(u.Spec.Login))
		Expect(r.TenantID).To(Equal(tenant.Status.ID))
		Expect(r.Contact.Email).To(Equal(u.Spec.Contact.Email))
		Expect(r.Language).To(Equal("de"))
		Expect(r.Notifications).To(ConsistOf("quota", "reports"))
		Expect(r.BusinessTypes).To(ConsistOf("buyer"))
		Expect(rolesOn(got.Status.ID, tenant.Status.ID)).To(ConsistOf("company_admin"))
		Expect(emu.ActivationEmails(got.Status.ID)).To(Equal(1))

		Expect(got.Status.TenantID).To(Equal(tenant.Status.ID))
		Expect(got.Status.ActivationEmailSentAt).NotTo(BeNil())
		Expect(got.Status.ActivationEmail).To(Equal(v1.ActivationEmailSent))
		Expect(got.Annotations).To(HaveKeyWithValue(v1.AnnotationActivationEmail, managed.OnceSent))
		Expect(got.Status.Activated).To(BeFalse())
		Expect(got.Status.PersonalTenantID).NotTo(BeEmpty(), "a user of a customer gets a personal tenant")
		Expect(got.Status.ManagedRoles).To(ConsistOf("company_admin"))
		Expect(got.Status.Version).To(Equal(r.Version))

		By("not sending it again on later reconciles")
		testenv.Modify(suite, u, func(u *v1.User) { u.Spec.Language = "fr" })
		testenv.ExpectReady(suite, u)
		Eventually(func() string { return remoteUser(got.Status.ID).Language }).Should(Equal("fr"))
		Expect(emu.ActivationEmails(got.Status.ID)).To(Equal(1))
		Expect(emailRequests(clientID, got.Status.ID)).To(HaveLen(1))
	})

	It("sends the activation email at most once when its answer is lost, warns once, and sends it once more on request", func() {
		u := userIn(tenant, func(u *v1.User) { u.Spec.Activation.Method = v1.ActivationNone })
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		id := testenv.ExpectReady(suite, u).Status.ID

		By("losing the answer: the server sends the email and the connection breaks")
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		testenv.Modify(suite, u, func(u *v1.User) { u.Spec.Activation.Method = v1.ActivationEmail })
		Eventually(func(g Gomega) {
			if n := emu.ActivationEmails(id); n > 1 {
				StopTrying(fmt.Sprintf("the server sent %d activation emails", n)).Now()
			}
			g.Expect(testenv.Fresh(suite, g, u).Status.ActivationEmail).To(Equal(v1.ActivationEmailUnconfirmed))
		}).WithTimeout(time.Minute).Should(Succeed())
		emu.SetFaults(emulator.Faults{})
		got := testenv.ExpectReady(suite, u)
		Expect(got.Annotations).To(HaveKeyWithValue(v1.AnnotationActivationEmail, managed.OnceUnconfirmed))
		Expect(got.Status.ActivationEmailSentAt).NotTo(BeNil())
		Expect(emu.ActivationEmails(id)).To(Equal(1))
		sent := emailRequests(clientID, id)
		Expect(sent).To(HaveLen(1))
		Expect(sent[0].Dropped).To(BeTrue())
		Eventually(unconfirmedWarnings(u)).Should(HaveLen(1))
		Expect(unconfirmedWarnings(u)()[0].Note).To(ContainSubstring(v1.AnnotationResendActivationEmail + "=true"))

		By("not sending it again, nor warning again, on later reconciles")
		testenv.Modify(suite, u, func(u *v1.User) { u.Spec.Language = "fr" })
		Eventually(func() string { return remoteUser(id).Language }).Should(Equal("fr"))
		testenv.ExpectReady(suite, u)
		Consistently(func() int { return len(emailRequests(clientID, id)) }).WithTimeout(3 * time.Second).Should(Equal(1))
		Expect(unconfirmedWarnings(u)()).To(HaveLen(1))
		Expect(testenv.Fresh(suite, Default, u).Status.ActivationEmail).To(Equal(v1.ActivationEmailUnconfirmed))

		By("sending it exactly once more when asked")
		testenv.Modify(suite, u, func(u *v1.User) {
			metav1.SetMetaDataAnnotation(&u.ObjectMeta, v1.AnnotationResendActivationEmail, "true")
		})
		Eventually(func(g Gomega) {
			got := testenv.Fresh(suite, g, u)
			g.Expect(got.Annotations).NotTo(HaveKey(v1.AnnotationResendActivationEmail))
			g.Expect(got.Annotations).To(HaveKeyWithValue(v1.AnnotationActivationEmail, managed.OnceSent))
			g.Expect(got.Status.ActivationEmail).To(Equal(v1.ActivationEmailSent))
		}).WithTimeout(time.Minute).Should(Succeed())
		Consistently(func() int { return len(emailRequests(clientID, id)) }).WithTimeout(3 * time.Second).Should(Equal(2))
		Expect(emu.ActivationEmails(id)).To(Equal(2))
		Expect(unconfirmedWarnings(u)()).To(HaveLen(1))
	})

	It("reads the tenant before the create, unless the Tenant it names is Ready on the same connection", func() {
		tenantReads := func(clientID string) int {
			n := 0
			for _, r := range suite.RequestsBy(clientID) {
				if r.Method == "GET" && r.Path == "/api/2/tenants/"+tenant.Status.ID {
					n++
				}
			}
			return n
		}

		By("a tenantRef to a Ready Tenant on the connection: no read")
		before := tenantReads(clientID)
		byRef := userIn(tenant, nil)
		Expect(suite.K8s.Create(ctx, byRef)).To(Succeed())
		testenv.ExpectReady(suite, byRef)
		Expect(tenantReads(clientID) - before).To(BeZero())

		By("a tenantID: one read")
		before = tenantReads(clientID)
		byID := userIn(tenant, func(u *v1.User) {
			u.Spec.TenantRef, u.Spec.TenantID, u.Spec.AccountServerRef = nil, tenant.Status.ID, testenv.ConnectionRef(conn)
		})
		Expect(suite.K8s.Create(ctx, byID)).To(Succeed())
		testenv.ExpectReady(suite, byID)
		Expect(tenantReads(clientID) - before).To(Equal(1))

		By("a tenantRef to a Tenant on another connection: one read, by this one")
		other, otherClientID := suite.Connection(nil)
		elsewhere := userIn(tenant, func(u *v1.User) { u.Spec.AccountServerRef = testenv.ConnectionRef(other) })
		Expect(suite.K8s.Create(ctx, elsewhere)).To(Succeed())
		testenv.ExpectReady(suite, elsewhere)
		Expect(tenantReads(otherClientID)).To(Equal(1))
	})

	It("sends exactly one PUT when only the first name changes", func() {
		u := userIn(tenant, func(u *v1.User) { u.Spec.Roles = []string{"readonly_admin"} })
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		id := testenv.ExpectReady(suite, u).Status.ID
		suite.Settled(2 * time.Second)

		before := len(suite.WritesBy(clientID))
		testenv.Modify(suite, u, func(u *v1.User) { u.Spec.Contact.Firstname = "Grace" })
		Eventually(func() string { return remoteUser(id).Contact.Firstname }).Should(Equal("Grace"))
		testenv.ExpectReady(suite, u)
		suite.Settled(2 * time.Second)
		writes := suite.WritesBy(clientID)[before:]
		Expect(writes).To(HaveLen(1))
		Expect(writes[0].Method).To(Equal("PUT"))
		Expect(writes[0].Path).To(Equal("/api/2/users/" + id))
		Expect(remoteUser(id).Contact.Lastname).To(Equal("Admin"), "the rest of the contact is untouched")
	})

	It("updates enabled, MFA and roles, leaving alone the policies it did not make", func() {
		u := userIn(tenant, func(u *v1.User) { u.Spec.Roles = []string{"company_admin", "backup_user"} })
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		id := testenv.ExpectReady(suite, u).Status.ID

		// Someone gives the user a role by hand.
		policies, err := suite.Admin.GetAccessPolicies(ctx, id)
		Expect(err).NotTo(HaveOccurred())
		policies = append(policies, accountserver.AccessPolicy{TrusteeType: "user", TrusteeID: id, TenantID: tenant.Status.ID, RoleID: "sync_share_user"})
		_, err = suite.Admin.PutAccessPolicies(ctx, id, policies)
		Expect(err).NotTo(HaveOccurred())

		testenv.Modify(suite, u, func(u *v1.User) {
			u.Spec.Enabled = ptr.To(false)
			u.Spec.MFA = &v1.MFASpec{Enabled: true}
			u.Spec.Roles = []string{"readonly_admin", "backup_user"}
		})
		got := testenv.ExpectReady(suite, u)
		r := remoteUser(id)
		Expect(r.Enabled).To(BeFalse())
		Expect(r.MFAStatus).To(Equal("enabled"))
		Expect(rolesOn(id, tenant.Status.ID)).To(ConsistOf("readonly_admin", "backup_user", "sync_share_user"))
		Expect(got.Status.Enabled).To(Equal(ptr.To(false)))
		Expect(got.Status.MFAStatus).To(Equal("enabled"))
		Expect(got.Status.ManagedRoles).To(ConsistOf("readonly_admin", "backup_user"))

		By("turning MFA off and the user on again")
		testenv.Modify(suite, u, func(u *v1.User) {
			u.Spec.Enabled = ptr.To(true)
			u.Spec.MFA = &v1.MFASpec{Enabled: false}
		})
		testenv.ExpectReady(suite, u)
		Eventually(func() bool { return remoteUser(id).Enabled }).Should(BeTrue())
		Expect(remoteUser(id).MFAStatus).NotTo(Equal("enabled"))
	})

	It("activates with a password from a Secret, sets a changed one, and never shows it", func() {
		const first, second = "Correct-Horse-Battery-1", "Staple-Orbit-Lantern-2"
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("password"), Namespace: "default"},
			StringData: map[string]string{"password": first},
		}
		Expect(suite.K8s.Create(ctx, secret)).To(Succeed())
		u := userIn(tenant, func(u *v1.User) {
			u.Spec.Activation = v1.Activation{Method: v1.ActivationPassword, PasswordSecretRef: &v1.LocalSecretKeySelector{Name: secret.Name, Key: "password"}}
		})
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		got := testenv.ExpectReady(suite, u)
		id := got.Status.ID
		Expect(password(id)).To(Equal(first))
		Expect(remoteUser(id).Activated).To(BeTrue())
		Expect(got.Status.Activated).To(BeTrue())
		Expect(got.Status.PasswordSecretVersion).NotTo(BeEmpty())
		Expect(emu.ActivationEmails(id)).To(BeZero())

		By("setting the new password when the Secret changes")
		testenv.Modify(suite, secret, func(s *corev1.Secret) { s.StringData = map[string]string{"password": second} })
		Eventually(func() string { return password(id) }).WithTimeout(30 * time.Second).Should(Equal(second))

		By("stalling with a clear reason when the key is missing")
		testenv.Modify(suite, u, func(u *v1.User) { u.Spec.Activation.PasswordSecretRef.Key = "nope" })
		c := testenv.ExpectStalled(suite, u, user.ReasonPasswordKeyMissing)
		Expect(c.Message).To(ContainSubstring("nope"))

		By("never writing the password into a log, an event, a condition or the status")
		final := testenv.Fresh(suite, Default, u)
		status := fmt.Sprintf("%+v", final.Status)
		evs := &eventsv1.EventList{}
		Expect(suite.K8s.List(ctx, evs, client.InNamespace("default"))).To(Succeed())
		var notes []string
		for _, e := range evs.Items {
			notes = append(notes, e.Note, e.Reason)
		}
		for _, p := range []string{first, second} {
			Expect(string(logs.Contents())).NotTo(ContainSubstring(p))
			Expect(status).NotTo(ContainSubstring(p))
			Expect(strings.Join(notes, "\n")).NotTo(ContainSubstring(p))
		}
	})

	It("stalls with LoginTaken for a login used anywhere on the server", func() {
		other, err := suite.Admin.CreateTenant(ctx, accountserver.TenantCreate{Name: testenv.Uniq("other"), ParentID: suite.Boot.TenantID, Kind: "customer"})
		Expect(err).NotTo(HaveOccurred())
		login := testenv.Uniq("taken")
		_, err = suite.Admin.CreateUser(ctx, accountserver.UserCreate{TenantID: other.ID, Login: login, Contact: accountserver.Contact{Email: login + "@other.example"}})
		Expect(err).NotTo(HaveOccurred())

		u := userIn(tenant, func(u *v1.User) { u.Spec.Login = login })
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		Expect(testenv.ExpectStalled(suite, u, user.ReasonLoginTaken).Message).To(ContainSubstring(login))
		Expect(testenv.Fresh(suite, Default, u).Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
		Expect(loginsOnServer(login)).To(Equal(1))
	})

	It("recovers by login when the answer of the create is lost", func() {
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })
		u := userIn(tenant, func(u *v1.User) { u.Spec.Activation.Method = v1.ActivationNone })
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		got := testenv.ExpectReady(suite, u)
		Expect(loginsOnServer(u.Spec.Login)).To(Equal(1))
		Expect(remoteUser(got.Status.ID).Login).To(Equal(u.Spec.Login))
	})

	It("deletes with the version, orphans on request, and holds its tenant's deletion", func() {
		kept := userIn(tenant, func(u *v1.User) { u.Spec.DeletionPolicy = v1.DeletionOrphan })
		gone := userIn(tenant, nil)
		Expect(suite.K8s.Create(ctx, kept)).To(Succeed())
		Expect(suite.K8s.Create(ctx, gone)).To(Succeed())
		keptID, goneID := testenv.ExpectReady(suite, kept).Status.ID, testenv.ExpectReady(suite, gone).Status.ID

		Expect(suite.K8s.Delete(ctx, tenant)).To(Succeed())
		Eventually(testenv.Condition(suite, tenant, v1.ConditionReconciling)).Should(And(
			HaveField("Reason", managed.ReasonDeletionBlocked),
			HaveField("Message", ContainSubstring("User "+gone.Name)),
		))

		Expect(suite.K8s.Delete(ctx, gone)).To(Succeed())
		testenv.ExpectGone(suite, gone)
		Expect(remoteUser(goneID).DeletedAt).NotTo(BeNil())
		var deletes []string
		for _, w := range suite.WritesBy(clientID) {
			if w.Method == "DELETE" && strings.HasPrefix(w.Path, "/api/2/users/"+goneID) {
				deletes = append(deletes, w.Path)
			}
		}
		Expect(deletes).To(HaveLen(1))

		Expect(suite.K8s.Delete(ctx, kept)).To(Succeed())
		testenv.ExpectGone(suite, kept)
		testenv.ExpectGone(suite, tenant)
		// The tenant's deletion cascades on the server; the orphaned user
		// was not deleted by the operator itself.
		for _, w := range suite.WritesBy(clientID) {
			Expect(w.Method + " " + w.Path).NotTo(HavePrefix("DELETE /api/2/users/" + keptID))
		}
	})

	It("stops at a missing password Secret and goes on once it exists", func() {
		name := testenv.Uniq("late-password")
		u := userIn(tenant, func(u *v1.User) {
			u.Spec.Activation = v1.Activation{Method: v1.ActivationPassword, PasswordSecretRef: &v1.LocalSecretKeySelector{Name: name, Key: "pw"}}
		})
		Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		testenv.ExpectStalled(suite, u, user.ReasonPasswordSecretMissing)
		Expect(suite.K8s.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			StringData: map[string]string{"pw": "Late-But-Fine-3"},
		})).To(Succeed())
		got := testenv.ExpectReady(suite, u)
		Expect(password(got.Status.ID)).To(Equal("Late-But-Fine-3"))
	})
})

var _ = Describe("User at scale", func() {
	It("converges 200 users across 20 tenants from one apply and then writes nothing", func() {
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
			c.Spec.RateLimit = v1.RateLimit{RequestsPerSecond: 200, Burst: 200}
		})
		var tenants []*v1.Tenant
		var users []*v1.User
		for range 20 {
			t := &v1.Tenant{
				ObjectMeta: metav1.ObjectMeta{Name: testenv.Uniq("fleet"), Namespace: "default"},
				Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantCustomer},
			}
			tenants = append(tenants, t)
			for range 10 {
				users = append(users, userIn(t, func(u *v1.User) { u.Spec.Roles = []string{"company_admin"} }))
			}
		}
		// One apply: users before their tenants exist.
		for _, u := range users {
			Expect(suite.K8s.Create(ctx, u)).To(Succeed())
		}
		for _, t := range tenants {
			Expect(suite.K8s.Create(ctx, t)).To(Succeed())
		}
		for _, u := range users {
			got := testenv.ExpectReady(suite, u)
			Expect(emu.ActivationEmails(got.Status.ID)).To(Equal(1))
		}
		suite.Settled(5 * time.Second)
		// The request log: one activation email per user, no more.
		perUser := map[string]int{}
		for _, r := range suite.WritesBy(clientID) {
			if id, ok := strings.CutSuffix(strings.TrimPrefix(r.Path, "/api/2/users/"), "/send-activation-email"); ok && r.Method == "POST" {
				perUser[id]++
			}
		}
		Expect(perUser).To(HaveLen(len(users)))
		for id, n := range perUser {
			Expect(n).To(Equal(1), "activation emails sent to user %s", id)
		}

		apiBefore, writesBefore, readsBefore := suite.APIWrites(), len(suite.WritesBy(clientID)), len(suite.RequestsBy(clientID))
		Consistently(func() int64 { return suite.APIWrites() - apiBefore }).WithTimeout(30*time.Second).WithPolling(time.Second).
			Should(BeZero(), func() string { return "no write to the API server; the last was " + suite.LastAPIWrite() })
		Expect(suite.WritesBy(clientID)).To(HaveLen(writesBefore), "no write to the account server")
		Expect(len(suite.RequestsBy(clientID))-readsBefore).To(BeNumerically(">=", 200), "drift was looked for")
		for _, u := range users[:5] {
			Expect(meta.IsStatusConditionTrue(testenv.Fresh(suite, Default, u).Status.Conditions, v1.ConditionReady)).To(BeTrue())
		}
	})
})

// emailRequests are the activation emails clientID asked for user id, from
// the emulator's request log (answered or not).
func emailRequests(clientID, id string) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range suite.WritesBy(clientID) {
		if r.Method == "POST" && r.Path == "/api/2/users/"+id+"/send-activation-email" {
			out = append(out, r)
		}
	}
	return out
}

// unconfirmedWarnings lists u's Warning events that say its activation
// email is unconfirmed; a repeat of one counts too.
func unconfirmedWarnings(u *v1.User) func() []eventsv1.Event {
	return func() []eventsv1.Event {
		evs := &eventsv1.EventList{}
		Expect(suite.K8s.List(ctx, evs, client.InNamespace(u.Namespace))).To(Succeed())
		var out []eventsv1.Event
		for _, e := range evs.Items {
			if e.Regarding.Name != u.Name || e.Reason != user.ReasonActivationEmailUnconfirmed || e.Type != corev1.EventTypeWarning {
				continue
			}
			out = append(out, e)
			if e.Series != nil {
				for range e.Series.Count - 1 {
					out = append(out, e)
				}
			}
		}
		return out
	}
}
