package connection_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	conn "github.com/tenant-operator/tenant-operator/internal/connection"
	connectionctrl "github.com/tenant-operator/tenant-operator/internal/controller/connection"
)

var seq int

type countingTransport struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

func name(prefix string) string {
	seq++
	return fmt.Sprintf("%s-%d", prefix, seq)
}

func credentials(namespace, id, secret string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name("creds"), Namespace: namespace},
		StringData: map[string]string{conn.KeyClientID: id, conn.KeyClientSecret: secret},
	}
}

func accountServer(secretName string) *v1.AccountServer {
	return &v1.AccountServer{
		ObjectMeta: metav1.ObjectMeta{Name: name("as"), Namespace: "default"},
		Spec:       v1.AccountServerSpec{URL: emuURL, CredentialsSecretRef: v1.SecretReference{Name: secretName}},
	}
}

func readyOf(o client.Object, status func() *v1.AccountServerStatus) func(Gomega) *metav1.Condition {
	return func(g Gomega) *metav1.Condition {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(o), o)).To(Succeed())
		return meta.FindStatusCondition(status().Conditions, v1.ConditionReady)
	}
}

func tokenRequests() int {
	n := 0
	for _, r := range emu.Requests() {
		if strings.HasSuffix(r.Path, "/idp/token") {
			n++
		}
	}
	return n
}

var _ = Describe("AccountServer", func() {
	It("becomes Ready with the tenant the credentials act in", func() {
		boot := emu.Bootstrap()
		secret := credentials("default", boot.ClientID, boot.ClientSecret)
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		as := accountServer(secret.Name)
		Expect(k8s.Create(ctx, as)).To(Succeed())

		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(And(
			HaveField("Status", metav1.ConditionTrue),
			HaveField("Reason", connectionctrl.ReasonConnected),
		))
		Expect(as.Status.TenantID).To(Equal(boot.TenantID))
		Expect(as.Status.TenantName).To(Equal(boot.TenantName))
		Expect(as.Status.TokenExpiresAt).NotTo(BeNil())
		Expect(as.Status.TokenExpiresAt.Time).To(BeTemporally(">", time.Now().Add(time.Hour)))
		Expect(as.Status.ObservedGeneration).To(Equal(as.Generation))
		Expect(meta.FindStatusCondition(as.Status.Conditions, v1.ConditionStalled)).To(BeNil())
	})

	It("reports bad credentials, backs off, and recovers when the Secret is rotated", func() {
		boot := emu.Bootstrap()
		const wrong = "not-the-secret-0123456789"
		secret := credentials("default", boot.ClientID, wrong)
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		as := accountServer(secret.Name)
		before := tokenRequests()
		Expect(k8s.Create(ctx, as)).To(Succeed())

		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", connectionctrl.ReasonInvalidCredentials),
		))
		Expect(meta.IsStatusConditionTrue(as.Status.Conditions, v1.ConditionStalled)).To(BeTrue())

		// No hot loop: fewer than ten token requests in a minute.
		Consistently(func() int { return tokenRequests() - before }).
			WithTimeout(time.Minute).WithPolling(time.Second).Should(BeNumerically("<", 10))
		Expect(tokenRequests()-before).To(BeNumerically(">=", 2), "the connection must keep trying with backoff")

		// Rotating the Secret makes it Ready without touching the object.
		generation := as.Generation
		secret.StringData = map[string]string{conn.KeyClientSecret: boot.ClientSecret}
		Expect(k8s.Update(ctx, secret)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		Expect(as.Generation).To(Equal(generation))
		Expect(as.Status.TenantID).To(Equal(boot.TenantID))
		Expect(meta.FindStatusCondition(as.Status.Conditions, v1.ConditionStalled)).To(BeNil())

		By("never writing the secret into a log, an event or a condition")
		Expect(string(logs.Contents())).NotTo(ContainSubstring(wrong))
		Expect(string(logs.Contents())).NotTo(ContainSubstring(boot.ClientSecret))
		evs := &eventsv1.EventList{}
		Expect(k8s.List(ctx, evs, client.InNamespace("default"))).To(Succeed())
		Expect(evs.Items).NotTo(BeEmpty(), "failures and recovery are announced as events")
		for _, e := range evs.Items {
			Expect(e.Note).NotTo(ContainSubstring(wrong))
			Expect(e.Note).NotTo(ContainSubstring(boot.ClientSecret))
		}
	})

	It("waits for a missing Secret and connects once it appears", func() {
		boot := emu.Bootstrap()
		as := accountServer(name("late-creds"))
		Expect(k8s.Create(ctx, as)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", string(conn.ReasonSecretNotFound)),
		))

		secret := credentials("default", boot.ClientID, boot.ClientSecret)
		secret.Name = as.Spec.CredentialsSecretRef.Name
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
	})

	It("says which keys a Secret lacks", func() {
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name("half"), Namespace: "default"},
			StringData: map[string]string{conn.KeyClientID: "only-an-id"},
		}
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		as := accountServer(secret.Name)
		Expect(k8s.Create(ctx, as)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(And(
			HaveField("Status", metav1.ConditionFalse),
			HaveField("Reason", string(conn.ReasonSecretInvalid)),
			HaveField("Message", ContainSubstring("client_secret")),
		))
	})
})

var _ = Describe("ClusterAccountServer", func() {
	It("reads its Secret from the operator's namespace and admits only the namespaces it allows", func() {
		boot := emu.Bootstrap()
		secret := credentials(operatorNamespace, boot.ClientID, boot.ClientSecret)
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		allowed := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name("allowed"), Labels: map[string]string{"tenants": "yes"}}}
		other := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name("other")}}
		Expect(k8s.Create(ctx, allowed)).To(Succeed())
		Expect(k8s.Create(ctx, other)).To(Succeed())

		cas := &v1.ClusterAccountServer{
			ObjectMeta: metav1.ObjectMeta{Name: name("cas")},
			Spec: v1.ClusterAccountServerSpec{
				AccountServerSpec: v1.AccountServerSpec{URL: emuURL, CredentialsSecretRef: v1.SecretReference{Name: secret.Name}},
				AllowedNamespaces: &metav1.LabelSelector{MatchLabels: map[string]string{"tenants": "yes"}},
			},
		}
		Expect(k8s.Create(ctx, cas)).To(Succeed())
		Eventually(readyOf(cas, cas.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		Expect(cas.Status.TenantID).To(Equal(boot.TenantID))

		// A registry of its own, whose clients count what they send.
		var sent atomic.Int64
		registry := &conn.Registry{Reader: k8s, SecretReader: k8s, OperatorNamespace: operatorNamespace,
			Configure: func(c *accountserver.Config) {
				c.HTTPClient = &http.Client{Transport: countingTransport{n: &sent, next: http.DefaultTransport}}
			}}
		ref := v1.AccountServerReference{Kind: conn.KindClusterAccountServer, Name: cas.Name}

		_, err := registry.Resolve(ctx, ref, other.Name)
		Expect(err).To(HaveOccurred())
		reason, ok := conn.ReasonOf(err)
		Expect(ok).To(BeTrue())
		Expect(reason).To(Equal(conn.ReasonNamespaceNotAllowed))
		Expect(err.Error()).To(ContainSubstring(other.Name))

		c, err := registry.Resolve(ctx, ref, allowed.Name)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.TenantID).To(Equal(boot.TenantID))
		Expect(c.ResyncInterval).To(Equal(conn.DefaultResyncInterval), "the safety net behind the remote watch")
		Expect(sent.Load()).To(BeZero(), "resolving a connection sends nothing")
		_, err = c.Client.GetTenant(ctx, c.TenantID)
		Expect(err).NotTo(HaveOccurred())
		Expect(sent.Load()).To(BeNumerically(">", 0), "the counter sees what the client sends")

		By("admitting nobody when allowedNamespaces is absent")
		cas.Spec.AllowedNamespaces = nil
		Expect(k8s.Update(ctx, cas)).To(Succeed())
		Eventually(func() (conn.Reason, error) {
			_, err := registry.Resolve(ctx, ref, allowed.Name)
			r, _ := conn.ReasonOf(err)
			return r, nil
		}).WithTimeout(30 * time.Second).Should(Equal(conn.ReasonNamespaceNotAllowed))
	})
})
