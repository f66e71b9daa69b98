package connection_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	connectionctrl "github.com/tenant-operator/tenant-operator/internal/controller/connection"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/metrics"
)

var _ = Describe("An outage of the account server", func() {
	It("costs one probe at a time and one status write per object, and recovers within the connection's budget", func() {
		const (
			tenants       = 50
			rps, burst    = 10, 10
			outageFor     = 25 * time.Second
			threshold     = accountserver.DefaultBreakerThreshold
			openingAllows = 10 // requests that may be under way when the circuit opens, beyond the threshold
		)
		// An emulator of its own: the outage touches no other spec's
		// connection, and its request log holds this connection's
		// requests only.
		var mu sync.Mutex
		var violations []string
		server := emulator.New(emulator.Options{CheckResponse: func(r emulator.ResponseReport) {
			if r.Violation != nil {
				mu.Lock()
				defer mu.Unlock()
				violations = append(violations, r.Violation.Error())
			}
		}})
		hs := httptest.NewServer(server)
		DeferCleanup(hs.Close)
		DeferCleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			Expect(violations).To(BeEmpty(), "the emulator answered outside the official wire schema")
		})
		boot := server.Bootstrap()

		secret := credentials("default", boot.ClientID, boot.ClientSecret)
		Expect(k8s.Create(ctx, secret)).To(Succeed())
		as := accountServer(secret.Name)
		as.Spec.URL = hs.URL
		as.Spec.RateLimit = v1.RateLimit{RequestsPerSecond: rps, Burst: burst}
		// Every Tenant reads its remote object within the outage, and the
		// remote watch polls in it too.
		as.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Second}
		as.Spec.DriftInterval = &metav1.Duration{Duration: 5 * time.Second}
		Expect(k8s.Create(ctx, as)).To(Succeed())
		Eventually(readyOf(as, as.ConnectionStatus)).WithTimeout(30 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		connKey := "AccountServer/default/" + as.Name
		available := func(g Gomega) *metav1.Condition {
			got := &v1.AccountServer{}
			g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(as), got)).To(Succeed())
			g.Expect(meta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionReady)).To(BeTrue(), "the connection stays Ready")
			return meta.FindStatusCondition(got.Status.Conditions, v1.ConditionServerAvailable)
		}
		Expect(available(Default)).To(HaveField("Status", metav1.ConditionTrue))

		By(fmt.Sprintf("%d Tenants Ready", tenants))
		var ts []*v1.Tenant
		for i := range tenants {
			t := &v1.Tenant{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-t%d", as.Name, i), Namespace: "default"},
				Spec: v1.TenantSpec{
					ManagedSpec: v1.ManagedSpec{AccountServerRef: &v1.AccountServerReference{Kind: "AccountServer", Name: as.Name}},
					Kind:        v1.TenantCustomer,
				},
			}
			Expect(k8s.Create(ctx, t)).To(Succeed())
			ts = append(ts, t)
		}
		reasons := func(g Gomega) map[string]int {
			out := map[string]int{}
			for _, t := range ts {
				got := &v1.Tenant{}
				g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), got)).To(Succeed())
				if c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady); c != nil {
					out[string(c.Status)+"/"+c.Reason]++
				}
			}
			return out
		}
		allReady := HaveKeyWithValue("True/"+managed.ReasonSynced, tenants)
		Eventually(reasons).WithTimeout(2 * time.Minute).Should(allReady)
		settled(3 * time.Second)

		// tenantStatusWrites counts the manager's status writes to these
		// Tenants since a mark in the write log.
		tenantStatusWrites := func(from int) int {
			n := 0
			for _, w := range env.APIWriteLog()[from:] {
				if strings.Contains(w.Path, "/tenants/"+as.Name+"-t") && strings.HasSuffix(w.Path, "/status") {
					n++
				}
			}
			return n
		}
		requestsBetween := func(from, to time.Time) []emulator.RequestRecord {
			var out []emulator.RequestRecord
			for _, r := range server.Requests() {
				if !r.Time.Before(from) && r.Time.Before(to) {
					out = append(out, r)
				}
			}
			return out
		}

		By("the server answers every request with 503")
		writesMark, writesBefore := len(env.APIWriteLog()), env.APIWrites()
		start := time.Now()
		server.SetFaults(emulator.Faults{ErrorRate: 1, ErrorStatus: http.StatusServiceUnavailable})
		end := start.Add(outageFor)
		Eventually(available).WithTimeout(outageFor).Should(HaveField("Status", metav1.ConditionFalse))
		Eventually(reasons).WithTimeout(outageFor).Should(HaveKeyWithValue("False/"+managed.ReasonServerUnavailable, tenants))
		marked := time.Since(start)
		writesMarked := tenantStatusWrites(writesMark)

		By("reconciling every held Tenant again (the pause annotation on and off) writes nothing")
		for _, t := range ts {
			testenvModify(t, func(o *v1.Tenant) { o.Annotations = map[string]string{v1.AnnotationPaused: "true"} })
			testenvModify(t, func(o *v1.Tenant) { delete(o.Annotations, v1.AnnotationPaused) })
		}
		Consistently(func(g Gomega) int {
			g.Expect(available(g)).To(HaveField("Status", metav1.ConditionFalse))
			return tenantStatusWrites(writesMark)
		}).WithTimeout(time.Until(end)).WithPolling(time.Second).Should(Equal(writesMarked))

		outage := requestsBetween(start, time.Now())
		elapsed := time.Since(start)
		statusWrites := tenantStatusWrites(writesMark)
		allWrites := env.APIWrites() - writesBefore
		probeRate := float64(max(len(outage)-threshold, 0)) / elapsed.Seconds()
		AddReportEntry("outage", fmt.Sprintf("%s of 503s: %d requests (%.3f/s; %.3f/s beyond the %d that opened the circuit); "+
			"all %d Tenants ServerUnavailable after %s; Tenant status writes %d, all manager writes %d",
			elapsed.Round(time.Second), len(outage), float64(len(outage))/elapsed.Seconds(), probeRate, threshold,
			tenants, marked.Round(time.Second), statusWrites, allWrites))
		GinkgoWriter.Printf("requests during the outage:\n%s", describe(outage, start))
		Expect(len(outage)).To(BeNumerically("<=", threshold+openingAllows+int(0.2*elapsed.Seconds())),
			"during an outage the connection sends its probe (at most one per 5s) and nothing else:\n%s", describe(outage, start))
		Expect(statusWrites).To(BeNumerically("<=", tenants), "an outage costs each Tenant at most one status write")
		// The connection's own: ServerAvailable and its Warning event.
		Expect(allWrites).To(BeNumerically("<=", int64(tenants+4)), "nothing else writes during the outage")
		Expect(metricValue(metrics.CircuitOpensMetricName, connKey, "")).To(Equal(1.0), "one opening for one outage")

		By("the server answers again")
		back := time.Now()
		server.SetFaults(emulator.Faults{})
		Eventually(reasons).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).Should(allReady)
		recovered := time.Since(back)
		Eventually(available).WithTimeout(10 * time.Second).Should(HaveField("Status", metav1.ConditionTrue))
		settled(2 * time.Second)
		after := requestsBetween(back, time.Now())
		// The budget is a token bucket: no second may see more than the
		// burst and one second's rate.
		peak := 0
		for i, r := range after {
			n := 0
			for _, o := range after[i:] {
				if o.Time.Sub(r.Time) < time.Second {
					n++
				}
			}
			peak = max(peak, n)
		}
		AddReportEntry("recovery", fmt.Sprintf("all %d Tenants Ready %s after the server answered again; %d requests, at most %d in one second (budget %d/s, burst %d)",
			tenants, recovered.Round(100*time.Millisecond), len(after), peak, rps, burst))
		GinkgoWriter.Printf("requests after the outage:\n%s", describe(after, back))
		Expect(peak).To(BeNumerically("<=", rps+burst), "the release stays within the connection's budget")
		Expect(recovered).To(BeNumerically("<", accountserver.DefaultMaxProbeBackoff+30*time.Second),
			"the Tenants are Ready soon after the first probe that gets an answer")
		Expect(metricValue(metrics.CircuitStateMetricName, connKey, "closed")).To(Equal(1.0))
		Expect(metricValue(metrics.CircuitStateMetricName, connKey, "open")).To(Equal(0.0))
		Expect(string(logs.Contents())).NotTo(ContainSubstring(boot.ClientSecret))
		var announced []string
		for _, e := range eventsOf(as.Name) {
			Expect(e).NotTo(ContainSubstring(boot.ClientSecret))
			reason, _, _ := strings.Cut(e, ":")
			if reason == connectionctrl.ReasonServerUnavailable || reason == connectionctrl.ReasonAnswering {
				announced = append(announced, reason)
			}
		}
		Expect(announced).To(ConsistOf(connectionctrl.ReasonServerUnavailable, connectionctrl.ReasonAnswering),
			"the connection announces the outage once, and its end once")
	})
})

// settled waits until the manager has not written for quiet.
func settled(quiet time.Duration) {
	last, since := env.APIWrites(), time.Now()
	EventuallyWithOffset(1, func() time.Duration {
		if now := env.APIWrites(); now != last {
			last, since = now, time.Now()
		}
		return time.Since(since)
	}).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).Should(BeNumerically(">=", quiet),
		func() string { return "still writing, last: " + env.LastAPIWrite() })
}

// testenvModify applies change to the newest t and updates it.
func testenvModify(t *v1.Tenant, change func(*v1.Tenant)) {
	EventuallyWithOffset(1, func(g Gomega) {
		got := &v1.Tenant{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), got)).To(Succeed())
		change(got)
		g.Expect(k8s.Update(ctx, got)).To(Succeed())
	}).Should(Succeed())
}

// describe lists requests, their time since t0, method, path and status.
func describe(reqs []emulator.RequestRecord, t0 time.Time) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "  +%6.2fs %s %s %d\n", r.Time.Sub(t0).Seconds(), r.Method, r.Path, r.Status)
	}
	return b.String()
}

// metricValue reads a circuit metric of connection conn (and state, when
// not empty) from the manager's registry.
func metricValue(name, conn, state string) float64 {
	families, err := crmetrics.Registry.Gather()
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["connection"] != conn || (state != "" && labels["state"] != state) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// eventsOf are the notes of the events about object name.
func eventsOf(name string) []string {
	list := &eventsv1.EventList{}
	ExpectWithOffset(1, k8s.List(ctx, list)).To(Succeed())
	var out []string
	for _, e := range list.Items {
		if e.Regarding.Name == name {
			out = append(out, e.Reason+": "+e.Note)
		}
	}
	return out
}
