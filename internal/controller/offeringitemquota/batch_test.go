package offeringitemquota_test

import (
	"net/url"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/operator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var _ = Describe("OfferingItemQuota batched observation", func() {
	It("verifies the quotas of many tenants after a restart with a list of their subtree, not a read per tenant, and corrects what changed meanwhile", func() {
		const n = 8
		conn, clientID := suite.Connection(nil)
		var tenants []*v1.Tenant
		var quotas []*v1.OfferingItemQuota
		for i := range n {
			t := tenantOn(conn, v1.TenantCustomer, nil)
			q := quotaFor(t, item(cp, "workstations", ptr.To(int64(10+i)), nil))
			if i == 0 {
				q.Spec.Items = append(q.Spec.Items, v1.OfferingItemSpec{Application: cp, Name: "storage", InfraID: emulator.DefaultInfraID,
					Quota: &v1.QuotaSpec{Value: ptr.To[int64](1 << 40)}})
			}
			Expect(suite.K8s.Create(ctx, q)).To(Succeed())
			tenants, quotas = append(tenants, t), append(quotas, q)
		}
		for _, q := range quotas {
			testenv.ExpectReady(suite, q)
		}
		suite.Settled(3 * time.Second)

		suite.StopManager()
		drifted := tenants[3].Status.ID
		ws := remoteItem(drifted, "workstations", "")
		_, err := suite.Admin.PutOfferingItems(ctx, drifted, []accountserver.OfferingItemChange{{
			ApplicationID: emulator.CyberProtectionAppID, Name: "workstations", Status: 1,
			Quota: &accountserver.Quota{Value: ptr.To[int64](99), Version: ws.Quota.Version},
		}}, false)
		Expect(err).NotTo(HaveOccurred())
		before := len(suite.RequestsBy(clientID))
		suite.StartManager(operator.Options{})

		By("correcting the quota changed while the manager was down")
		Eventually(func() *int64 { return limit(remoteItem(drifted, "workstations", "").Quota.Value) }).
			WithTimeout(time.Minute).Should(Equal(ptr.To[int64](13)))

		By("reading the others' items and usage in batches, not tenant by tenant")
		Eventually(func(g Gomega) {
			for _, q := range quotas {
				g.Expect(testenv.Fresh(suite, g, q).Status.UsageObservedAt).NotTo(BeNil(), "%s: the first verification reads usage", q.Name)
			}
		}).WithTimeout(time.Minute).Should(Succeed())
		suite.Settled(3 * time.Second)
		c := countReads(suite.RequestsBy(clientID)[before:], tenants)
		Expect(c.lists).To(BeNumerically(">=", 1), "the quotas were verified through a list of the subtree")
		Expect(c.usageBatches).To(BeNumerically(">=", 1), "usage was read for many tenants at once")
		Expect(c.alone).To(BeNumerically("<", n/2), "most tenants' items are not read one by one")
		Expect(c.usageAlone).To(BeNumerically("<", n/2), "most tenants' usage is not read one by one")

		By("restarting again: nothing is written, to either server")
		versions := map[string]string{}
		for _, q := range quotas {
			got := &v1.OfferingItemQuota{}
			Expect(suite.K8s.Get(ctx, client.ObjectKeyFromObject(q), got)).To(Succeed())
			versions[q.Name] = got.ResourceVersion
		}
		suite.StopManager()
		before = len(suite.RequestsBy(clientID))
		writes := len(suite.WritesBy(clientID))
		suite.StartManager(operator.Options{})
		Eventually(func() int { return countReads(suite.RequestsBy(clientID)[before:], tenants).lists }).
			WithTimeout(time.Minute).Should(BeNumerically(">=", 1))
		suite.Settled(3 * time.Second)
		Expect(suite.WritesBy(clientID)).To(HaveLen(writes))
		for _, q := range quotas {
			got := &v1.OfferingItemQuota{}
			Expect(suite.K8s.Get(ctx, client.ObjectKeyFromObject(q), got)).To(Succeed())
			Expect(got.ResourceVersion).To(Equal(versions[q.Name]), "%s: a verified quota's status is not written", q.Name)
		}
	})
})

// reads counts how the items and usage of some tenants were read.
type reads struct{ lists, alone, usageBatches, usageAlone int }

func countReads(log []emulator.RequestRecord, tenants []*v1.Tenant) reads {
	ids := map[string]bool{}
	for _, t := range tenants {
		ids[t.Status.ID] = true
	}
	var c reads
	for _, r := range log {
		if r.Method != "GET" {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		switch rest, _ := strings.CutPrefix(r.Path, "/api/2/tenants/"); {
		case rest == "offering_items" && q.Get("offering_items") != "":
			Expect(strings.Split(q.Get("offering_items"), ",")).To(ConsistOf("storage", "workstations"), "only the names the quotas manage")
			c.lists++
		case rest == "usages":
			c.usageBatches++
		case strings.HasSuffix(rest, "/offering_items") && ids[strings.TrimSuffix(rest, "/offering_items")]:
			c.alone++
		case strings.HasSuffix(rest, "/usages") && ids[strings.TrimSuffix(rest, "/usages")]:
			c.usageAlone++
		}
	}
	return c
}
