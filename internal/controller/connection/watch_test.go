package connection_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	conn "github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var _ = Describe("The remote watch of a connection", func() {
	It("starts, changes its interval, pauses and stops with its connection object", func() {
		boot := emu.Bootstrap()
		admin, err := accountserver.New(accountserver.Config{URL: emuURL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret})
		Expect(err).NotTo(HaveOccurred())
		// A client of its own, so the emulator's log tells its polls apart.
		created, err := admin.CreateClient(ctx, accountserver.ClientCreate{Type: "api_client", TenantID: boot.TenantID,
			TokenEndpointAuthMethod: "client_secret_basic", Data: accountserver.ClientData{ClientName: name("watch")}})
		Expect(err).NotTo(HaveOccurred())
		secret := credentials("default", created.ClientID, string(created.ClientSecret))
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		as := accountServer(secret.Name)
		as.Spec.DriftInterval = &metav1.Duration{Duration: 5 * time.Second}
		Expect(k8s.Create(ctx, as)).To(Succeed())

		polls := func() int {
			n := 0
			for _, r := range emu.Requests() {
				if r.Client == created.ClientID && testenv.IsWatchPoll(r) && r.Path == "/api/2/tenants" {
					n++
				}
			}
			return n
		}
		By("polling every driftInterval while the connection is Ready")
		Eventually(polls).WithTimeout(20 * time.Second).Should(BeNumerically(">=", 2))

		By("polling at the new interval when it changes")
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(as), as)).To(Succeed())
		as.Spec.DriftInterval = &metav1.Duration{Duration: time.Minute}
		Expect(k8s.Update(ctx, as)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("ObservedGeneration", as.Generation))
		at := polls()
		// At the old interval two more polls would come in 12s; at the new
		// one none (a poll under way at the change may still finish).
		Consistently(func() int { return polls() - at }).WithTimeout(12 * time.Second).WithPolling(time.Second).Should(BeNumerically("<=", 1))

		By("pausing while the credentials are refused")
		as.Spec.DriftInterval = &metav1.Duration{Duration: 5 * time.Second}
		Expect(k8s.Update(ctx, as)).To(Succeed())
		resumed := polls()
		Eventually(polls).WithTimeout(20 * time.Second).Should(BeNumerically(">", resumed))
		Expect(k8s.Get(ctx, client.ObjectKeyFromObject(secret), secret)).To(Succeed())
		secret.StringData = map[string]string{conn.KeyClientSecret: "not-the-secret-0123456789"}
		Expect(k8s.Update(ctx, secret)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("Status", metav1.ConditionFalse))
		paused := polls()
		Consistently(func() int { return polls() - paused }).WithTimeout(12 * time.Second).WithPolling(time.Second).Should(BeNumerically("<=", 1))

		By("going on when they are accepted again")
		secret.StringData = map[string]string{conn.KeyClientSecret: string(created.ClientSecret)}
		Expect(k8s.Update(ctx, secret)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		back := polls()
		Eventually(polls).WithTimeout(20 * time.Second).Should(BeNumerically(">", back))

		By("stopping when the connection object is deleted")
		Expect(k8s.Delete(ctx, as)).To(Succeed())
		Eventually(func() error { return k8s.Get(ctx, client.ObjectKeyFromObject(as), &v1.AccountServer{}) }).Should(HaveOccurred())
		gone := polls()
		Consistently(func() int { return polls() - gone }).WithTimeout(12 * time.Second).WithPolling(time.Second).Should(BeNumerically("<=", 1))
	})
})
