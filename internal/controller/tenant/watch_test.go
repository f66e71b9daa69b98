package tenant_test

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var _ = Describe("Tenant remote watch", func() {
	// A drift interval of 5s (the least allowed) and a resync of 10h: only
	// the remote watch can notice anything within this test.
	const drift = 5 * time.Second

	It("wakes nobody for a tenant nobody manages, and reports a deleted one as RemoteDeleted within one drift interval", func() {
		conn, clientID := connection(func(c *v1.ClusterAccountServer) {
			c.Spec.DriftInterval = &metav1.Duration{Duration: drift}
			c.Spec.ResyncInterval = &metav1.Duration{Duration: 10 * time.Hour}
		})
		t := tenantOn(conn, uniq("watched"), v1.TenantCustomer, nil)
		Expect(k8s.Create(ctx, t)).To(Succeed())
		id := expectReady(t).Status.ID

		// Someone creates and renames a customer the operator does not
		// manage, in the connection's subtree.
		stranger, err := suite.Admin.CreateTenant(ctx, accountserver.TenantCreate{Name: uniq("stranger"), ParentID: boot.TenantID, Kind: accountserver.KindCustomer})
		Expect(err).NotTo(HaveOccurred())
		renamed := stranger.Name + "-renamed"
		_, err = suite.Admin.UpdateTenant(ctx, stranger.ID, accountserver.TenantUpdate{Version: stranger.Version, Name: &renamed})
		Expect(err).NotTo(HaveOccurred())
		from := len(requestsBy(clientID))
		polls := func() int {
			n := 0
			for _, r := range requestsBy(clientID)[from:] {
				if testenv.IsWatchPoll(r) && r.Path == "/api/2/tenants" {
					n++
				}
			}
			return n
		}
		Eventually(polls).WithTimeout(4*drift).Should(BeNumerically(">=", 2), "the watch listed the subtree twice since")
		for _, r := range requestsBy(clientID)[from:] {
			Expect(testenv.IsWatchPoll(r)).To(BeTrue(), "nothing but the watch's lists: %s %s?%s", r.Method, r.Path, r.Query)
			Expect(r.Path + "?" + r.Query).NotTo(ContainSubstring(stranger.ID))
		}
		Expect(testenv.Fresh(suite, Default, t).Status.Version).To(Equal(remoteTenant(id).Version), "the managed tenant was not touched")

		// Someone deletes the managed customer on the server.
		remote, err := suite.Admin.GetTenant(ctx, id)
		Expect(err).NotTo(HaveOccurred())
		off, err := suite.Admin.UpdateTenant(ctx, id, accountserver.TenantUpdate{Version: remote.Version, Enabled: ptr.To(false)})
		Expect(err).NotTo(HaveOccurred())
		Expect(suite.Admin.DeleteTenant(ctx, id, off.Version)).To(Succeed())
		deleted := time.Now()
		// One drift interval, plus the overlap a poll under way may need to
		// finish and the status write.
		Eventually(condition(t, v1.ConditionStalled)).WithTimeout(drift + 3*time.Second).WithPolling(100 * time.Millisecond).
			Should(And(Not(BeNil()), HaveField("Reason", managed.ReasonRemoteDeleted)))
		GinkgoWriter.Printf("RemoteDeleted %s after the deletion\n", time.Since(deleted).Round(time.Millisecond))
		var reads []emulator.RequestRecord
		for _, r := range requestsBy(clientID)[from:] {
			if !testenv.IsWatchPoll(r) {
				reads = append(reads, r)
			}
		}
		Expect(reads).NotTo(BeEmpty())
		for _, r := range reads {
			Expect(r.Method).To(Equal("GET"), "finding a deletion writes nothing")
			Expect(strings.Contains(r.Path+"?"+r.Query, id)).To(BeTrue(), "only the deleted tenant is read: %s?%s", r.Path, r.Query)
		}
	})
})
