package tenant_test

import (
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	connpkg "github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/operator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var _ = Describe("Tenant crash safety", func() {
	It("converges 50 tenants with no twin when the answer of every create is lost", func() {
		conn, clientID := connection(func(c *v1.ClusterAccountServer) {
			c.Spec.RateLimit = v1.RateLimit{RequestsPerSecond: 100, Burst: 100}
		})
		emu.SetFaults(emulator.Faults{DropAfterCommitRate: 1, DropAfterCommitMethods: []string{"POST"}})
		DeferCleanup(func() { emu.SetFaults(emulator.Faults{}) })

		var tenants []*v1.Tenant
		for range 50 {
			t := tenantOn(conn, uniq("lossy"), v1.TenantCustomer, nil)
			Expect(k8s.Create(ctx, t)).To(Succeed())
			tenants = append(tenants, t)
		}
		for _, t := range tenants {
			Eventually(func(g Gomega) {
				got := get(t)(g)
				g.Expect(got.Status.ID).NotTo(BeEmpty())
				g.Expect(got.Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
			}).WithTimeout(3 * time.Minute).Should(Succeed())
			got := expectReady(t)
			Expect(namedOnServer(t.Name)).To(Equal(1), "tenant %s has a twin on the server", t.Name)
			Expect(remoteTenant(got.Status.ID).Name).To(Equal(t.Name))
		}
		dropped := 0
		for _, r := range requestsBy(clientID) {
			if r.Method == "POST" && r.Dropped {
				dropped++
			}
		}
		Expect(dropped).To(Equal(50), "every create's answer was lost, and no create was sent twice")
	})

	It("adopts what an interrupted create made when the manager restarts between the create and the status write", func() {
		conn, _ := connection(nil)
		name := uniq("interrupted")
		suite.StopManager()

		var once sync.Once
		fired := make(chan struct{})
		suite.StartManager(operator.Options{AfterTenantCreate: func(t *v1.Tenant) {
			if t.Name == name {
				once.Do(func() {
					close(fired)
					suite.Crash()
					// The process dies here: status.id is never written.
					panic("simulated crash between the create and the status write")
				})
			}
		}})
		t := tenantOn(conn, name, v1.TenantCustomer, nil)
		Expect(k8s.Create(ctx, t)).To(Succeed())
		Eventually(fired).WithTimeout(time.Minute).Should(BeClosed())
		suite.StopManager()

		crashed := get(t)(Default)
		Expect(crashed.Status.ID).To(BeEmpty(), "the crash came before status.id was written")
		Expect(crashed.Annotations).To(HaveKey(v1.AnnotationCreatePending))
		Expect(namedOnServer(name)).To(Equal(1), "the create went through")

		suite.StartManager(operator.Options{})
		got := expectReady(t)
		Expect(namedOnServer(name)).To(Equal(1), "the restarted manager adopted instead of creating a twin")
		Expect(remoteTenant(got.Status.ID).Name).To(Equal(name))
		Expect(got.Annotations).NotTo(HaveKey(v1.AnnotationCreatePending))
	})
})

var _ = Describe("Tenant steady state", func() {
	It("writes nothing once 100 tenants are Ready, and a stalled one sends almost nothing", func() {
		conn, clientID := connection(func(c *v1.ClusterAccountServer) {
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
			c.Spec.RateLimit = v1.RateLimit{RequestsPerSecond: 100, Burst: 100}
		})
		var tenants []*v1.Tenant
		for range 100 {
			t := tenantOn(conn, uniq("steady"), v1.TenantCustomer, nil)
			Expect(k8s.Create(ctx, t)).To(Succeed())
			tenants = append(tenants, t)
		}

		stallConn, stallClient := connection(nil)
		parent := tenantOn(stallConn, uniq("customer"), v1.TenantCustomer, nil)
		bad := tenantOn(stallConn, uniq("bad"), v1.TenantCustomer, func(t *v1.Tenant) {
			t.Spec.AccountServerRef = nil
			t.Spec.ParentRef = &v1.LocalReference{Name: parent.Name}
		})
		Expect(k8s.Create(ctx, parent)).To(Succeed())
		Expect(k8s.Create(ctx, bad)).To(Succeed())

		for _, t := range tenants {
			expectReady(t)
		}
		stalled := expectStalled(bad, managed.ReasonRejected)
		Expect(stalled.Message).To(ContainSubstring("cannot be placed under a tenant of kind customer"), "the server's own message")

		// Events and the last status patches land a little after Ready.
		suite.Settled(5 * time.Second)
		apiBefore, writesBefore := env.APIWrites(), len(writesBy(clientID))
		readsBefore, stallBefore := len(requestsBy(clientID)), len(requestsBy(stallClient))
		Consistently(func() int64 { return env.APIWrites() - apiBefore }).
			WithTimeout(2*time.Minute).WithPolling(time.Second).Should(BeZero(), func() string { return "no write to the API server in steady state; the last was " + env.LastAPIWrite() })
		Expect(writesBy(clientID)).To(HaveLen(writesBefore), "no write to the account server in steady state")
		Expect(len(requestsBy(clientID))-readsBefore).To(BeNumerically(">=", 10), "drift was looked for (resync every 10s, read in batches)")
		testenv.ExpectWatchRate(requestsBy(clientID)[readsBefore:], 2*time.Minute, connpkg.DefaultDriftInterval)
		stallReqs := requestsBy(stallClient)[stallBefore:]
		for _, r := range stallReqs {
			Expect(testenv.IsWatchPoll(r)).To(BeTrue(), "a stalled object is not retried; only the remote watch polls: %s %s?%s", r.Method, r.Path, r.Query)
		}
		testenv.ExpectWatchRate(stallReqs, 2*time.Minute, connpkg.DefaultDriftInterval)
	})
})
