package costs_test

import (
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

// customer is what an onboarding applies for one customer: the Tenant, its
// administrator activated by email with one role, and its quotas, the last
// two naming the Tenant by tenantRef.
type customer struct {
	tenant *v1.Tenant
	admin  *v1.User
	quota  *v1.OfferingItemQuota
}

func newCustomer(conn string) customer {
	name := testenv.Uniq("customer")
	return customer{
		tenant: &v1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
			Spec:       v1.TenantSpec{ManagedSpec: v1.ManagedSpec{AccountServerRef: testenv.ConnectionRef(conn)}, Kind: v1.TenantCustomer},
		},
		admin: &v1.User{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-admin", Namespace: "default"},
			Spec: v1.UserSpec{
				TenantRef:  &v1.LocalReference{Name: name},
				Login:      name + "-admin",
				Contact:    v1.Contact{Email: "admin@" + name + ".example", Firstname: "Ada", Lastname: "Admin"},
				Roles:      []string{"company_admin"},
				Activation: v1.Activation{Method: v1.ActivationEmail},
			},
		},
		quota: &v1.OfferingItemQuota{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-quotas", Namespace: "default"},
			Spec: v1.OfferingItemQuotaSpec{
				TenantRef: &v1.LocalReference{Name: name},
				Items:     []v1.OfferingItemSpec{{Application: "Cyber Protection", Name: "workstations", Quota: &v1.QuotaSpec{Value: ptr.To[int64](10)}}},
			},
		},
	}
}

func (c customer) objects() []managed.Object { return []managed.Object{c.tenant, c.admin, c.quota} }

var uuid = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// operations counts requests by method and route, IDs replaced by {id}.
func operations(reqs []emulator.RequestRecord) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		out[r.Method+" "+uuid.ReplaceAllString(strings.TrimPrefix(r.Path, "/api/2"), "{id}")]++
	}
	return out
}

// notReady names the objects that are not Ready at their generation yet.
func notReady(objs []managed.Object) func(Gomega) []string {
	return func(g Gomega) []string {
		var out []string
		for _, o := range objs {
			got := testenv.Fresh(suite, g, o)
			st := got.ManagedStatus()
			if !meta.IsStatusConditionTrue(st.Conditions, v1.ConditionReady) || st.ObservedGeneration != got.GetGeneration() {
				out = append(out, fmt.Sprintf("%T %s", o, o.GetName()))
			}
		}
		return out
	}
}

var _ = Describe("Creating customers", func() {
	It("sends only the six necessary requests per customer, and nothing more once they are Ready", func() {
		const n = 20
		// The connection's remote watch polls once in an hour: its lists are
		// not part of the create path (their cost in steady state is checked
		// with testenv.ExpectWatchRate).
		conn, clientID := suite.Connection(func(c *v1.ClusterAccountServer) { c.Spec.DriftInterval = &metav1.Duration{Duration: time.Hour} })
		before := len(suite.Emulator.Requests())

		var objs []managed.Object
		for range n {
			objs = append(objs, newCustomer(conn).objects()...)
		}
		for _, o := range objs {
			Expect(suite.K8s.Create(ctx, o)).To(Succeed())
		}
		Eventually(notReady(objs)).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(BeEmpty())

		sent := func() []emulator.RequestRecord {
			var out []emulator.RequestRecord
			for _, r := range suite.Emulator.Requests()[before:] {
				if r.Client == clientID {
					out = append(out, r)
				}
			}
			return out
		}
		count := len(sent())
		Consistently(func() int { return len(sent()) }).WithTimeout(3*time.Second).Should(Equal(count), "requests sent after every object was Ready")

		got := operations(sent())
		AddReportEntry("requests by operation", maps.Clone(got))
		delete(got, "POST /idp/token")
		Expect(got["GET /applications"]).To(BeNumerically("<=", 1), "the catalog is read once")
		delete(got, "GET /applications")
		Expect(got).To(Equal(map[string]int{
			"POST /tenants":                          n,
			"POST /users":                            n,
			"PUT /users/{id}/access_policies":        n,
			"POST /users/{id}/send-activation-email": n,
			"GET /tenants/{id}/offering_items":       n,
			"PUT /tenants/{id}/offering_items":       n,
		}))
	})
})
