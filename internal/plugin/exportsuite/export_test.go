package exportsuite_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

// seeded is the subtree the suite exports: the connection's own tenant
// (a partner, "Reseller"), one partner below it, ten folders and partners
// below that, and customers below those, size tenants in all below the
// connection's tenant; as many users with roles; custom quotas on some.
type seeded struct {
	reseller, top string
	mids          []string
	customers     []string
	users         int
	conn          string
	clientID      string
}

var world seeded

var _ = Describe("kubectl accounts export", Ordered, func() {
	BeforeAll(func() {
		world = seed(size)
	})

	var observeStream []byte

	It("exports observe-only objects that the operator adopts without one write", func() {
		ns := suite.Namespace("observe")
		start := time.Now()
		out, errOut, err := run("export", "--connection", "ClusterAccountServer/"+world.conn, "-n", ns, "--observe-only", "-o", "-")
		Expect(err).NotTo(HaveOccurred(), string(errOut))
		exportTook := time.Since(start)
		observeStream = out
		summary := string(errOut)
		if dir := os.Getenv("EXPORT_OUT"); dir != "" {
			// To look at what a run exported.
			Expect(os.WriteFile(filepath.Join(dir, "export.yaml"), out, 0o644)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, "summary.txt"), errOut, 0o644)).To(Succeed())
		}
		AddReportEntry("export --observe-only summary", summary)
		Expect(summary).To(ContainSubstring(fmt.Sprintf("Tenant             %d", size)))
		Expect(summary).To(ContainSubstring(fmt.Sprintf("User               %d", world.users)))
		Expect(summary).NotTo(ContainSubstring("warning:"))

		objs := parse(out)
		counts := countKinds(objs)
		Expect(counts["Tenant"]).To(Equal(size))
		Expect(counts["User"]).To(Equal(world.users))
		Expect(counts["OfferingItemQuota"]).To(BeNumerically(">", 0))
		for _, o := range objs {
			Expect(o.Object["spec"]).To(HaveKeyWithValue("managementPolicy", "ObserveOnly"), o.GetName())
		}

		took := adopt(ns, objs, counts)
		AddReportEntry("observe-only adoption", fmt.Sprintf("%d objects, export %s, all Ready %s after the first create", len(objs), exportTook.Round(time.Millisecond), took.Round(time.Millisecond)))

		By("a second export of the same server gives the same bytes")
		again, errOut, err := run("export", "--connection", "ClusterAccountServer/"+world.conn, "-n", ns, "--observe-only", "-o", "-")
		Expect(err).NotTo(HaveOccurred(), string(errOut))
		Expect(again).To(Equal(out))

		By("the observe-only objects go, leaving the server as it is")
		for _, o := range objs {
			o = o.DeepCopy()
			o.SetNamespace(ns)
			Expect(client.IgnoreNotFound(suite.K8s.Delete(ctx, o))).To(Succeed())
		}
		Eventually(func(g Gomega) {
			for _, l := range []client.ObjectList{&v1.TenantList{}, &v1.UserList{}, &v1.OfferingItemQuotaList{}} {
				g.Expect(suite.K8s.List(ctx, l, client.InNamespace(ns))).To(Succeed())
				g.Expect(meta.LenList(l)).To(BeZero())
			}
		}).WithTimeout(2 * time.Minute).Should(Succeed())
	})

	It("exports managed objects that match the server exactly: adopting them writes nothing", func() {
		ns := suite.Namespace("managed")
		out, errOut, err := run("export", "--connection", "ClusterAccountServer/"+world.conn, "-n", ns, "-o", "-")
		Expect(err).NotTo(HaveOccurred(), string(errOut))
		AddReportEntry("export (managed) summary", string(errOut))
		objs := parse(out)
		counts := countKinds(objs)
		Expect(counts["Tenant"]).To(Equal(size))
		for _, o := range objs {
			Expect(o.Object["spec"]).NotTo(HaveKey("managementPolicy"), o.GetName())
		}
		Expect(strings.ReplaceAll(string(observeStream), "  managementPolicy: ObserveOnly\n", "")).To(Equal(string(out)),
			"the managed export differs from the observe-only one by the policy only")

		took := adopt(ns, objs, counts)
		AddReportEntry("managed adoption", fmt.Sprintf("%d objects, all Ready %s after the first create", len(objs), took.Round(time.Millisecond)))
	})

	It("exports a subtree below the connection's tenant, its root naming its parent by UUID", func() {
		mid := world.mids[0]
		out, errOut, err := run("export", "--connection", "ClusterAccountServer/"+world.conn, "--subtree", mid, "-o", "-")
		Expect(err).NotTo(HaveOccurred(), string(errOut))
		objs := parse(out)
		root := objs[0]
		Expect(root.GetKind()).To(Equal("Tenant"))
		spec := root.Object["spec"].(map[string]any)
		Expect(spec).To(HaveKeyWithValue("importID", mid))
		Expect(spec).To(HaveKeyWithValue("parentID", world.top))
		Expect(spec).NotTo(HaveKey("parentRef"))
		for _, o := range objs[1:] {
			if o.GetKind() == "Tenant" {
				Expect(o.Object["spec"]).To(HaveKey("parentRef"), o.GetName())
			}
		}
	})

	It("writes a directory per tenant with kustomizations that hold the same objects as the stream", func() {
		dir := filepath.Join(GinkgoT().TempDir(), "export")
		_, errOut, err := run("export", "--connection", "ClusterAccountServer/"+world.conn, "--observe-only", "-o", dir)
		Expect(err).NotTo(HaveOccurred(), string(errOut))
		top, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var joined bytes.Buffer
		dirs := resources(string(top))
		Expect(dirs).To(HaveLen(size + 1)) // every tenant, and the connection's own for its users
		for _, d := range dirs {
			k, err := os.ReadFile(filepath.Join(dir, d, "kustomization.yaml"))
			Expect(err).NotTo(HaveOccurred())
			for _, f := range resources(string(k)) {
				b, err := os.ReadFile(filepath.Join(dir, d, f))
				Expect(err).NotTo(HaveOccurred())
				joined.Write(b)
			}
		}
		Expect(joined.String()).To(Equal(string(observeStream)))

		By("refusing to write into a directory that is not empty")
		_, _, err = run("export", "--connection", "ClusterAccountServer/"+world.conn, "-o", dir)
		Expect(err).To(MatchError(ContainSubstring("not empty")))
	})
})

func resources(kustomization string) []string {
	var out []string
	for _, l := range strings.Split(kustomization, "\n") {
		if r, ok := strings.CutPrefix(l, "- "); ok {
			out = append(out, r)
		}
	}
	return out
}

// adopt creates objs in ns, in the stream's order, waits until every one
// is Ready, and checks that the operator sent the account server no write
// from before the first create until then, nor a moment after. It returns
// how long it took until all were Ready.
func adopt(ns string, objs []*unstructured.Unstructured, counts map[string]int) time.Duration {
	GinkgoHelper()
	mark := time.Now()
	for _, o := range objs {
		o = o.DeepCopy()
		o.SetNamespace(ns)
		Expect(suite.K8s.Create(ctx, o)).To(Succeed(), o.GetName())
	}
	Eventually(func(g Gomega) {
		ready := map[string]int{}
		check := func(kind string, items []v1Object) {
			for _, o := range items {
				st := o.ManagedStatus()
				if c := meta.FindStatusCondition(st.Conditions, v1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
					StopTrying(fmt.Sprintf("%s %s is Stalled: %s: %s", kind, o.GetName(), c.Reason, c.Message)).Now()
				}
				if meta.IsStatusConditionTrue(st.Conditions, v1.ConditionReady) && st.ObservedGeneration == o.GetGeneration() {
					ready[kind]++
				}
			}
		}
		tl, ul, ql := &v1.TenantList{}, &v1.UserList{}, &v1.OfferingItemQuotaList{}
		g.Expect(suite.K8s.List(ctx, tl, client.InNamespace(ns))).To(Succeed())
		g.Expect(suite.K8s.List(ctx, ul, client.InNamespace(ns))).To(Succeed())
		g.Expect(suite.K8s.List(ctx, ql, client.InNamespace(ns))).To(Succeed())
		check("Tenant", objects(tl.Items))
		check("User", objects(ul.Items))
		check("OfferingItemQuota", objects(ql.Items))
		g.Expect(ready).To(Equal(counts))
	}).WithTimeout(5 * time.Minute).WithPolling(time.Second).Should(Succeed())
	took := time.Since(mark)
	reads := 0
	for _, r := range suite.RequestsBy(world.clientID) {
		if !r.Time.Before(mark) {
			reads++
		}
	}
	AddReportEntry("operator requests while adopting", fmt.Sprintf("%d requests, %d of them writes, until %d objects were Ready", reads, len(writesSince(mark)), len(objs)))
	Expect(writesSince(mark)).To(BeEmpty(), "adopting sent writes to the account server")
	Consistently(func() []emulator.RequestRecord { return writesSince(mark) }).
		WithTimeout(3*time.Second).WithPolling(250*time.Millisecond).Should(BeEmpty(), "the operator wrote after all were Ready")
	return took
}

type v1Object interface {
	client.Object
	ManagedStatus() *v1.ManagedStatus
}

func objects[T any, P interface {
	*T
	v1Object
}](items []T) []v1Object {
	out := make([]v1Object, 0, len(items))
	for i := range items {
		out = append(out, P(&items[i]))
	}
	return out
}

// writesSince lists what the connection's client sent the account server
// since mark that was not a read, token requests aside.
func writesSince(mark time.Time) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range suite.WritesBy(world.clientID) {
		if !r.Time.Before(mark) {
			out = append(out, r)
		}
	}
	return out
}

func parse(stream []byte) []*unstructured.Unstructured {
	GinkgoHelper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(stream), 4096)
	var out []*unstructured.Unstructured
	for {
		o := &unstructured.Unstructured{}
		err := dec.Decode(&o.Object)
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		if len(o.Object) > 0 {
			out = append(out, o)
		}
	}
}

func countKinds(objs []*unstructured.Unstructured) map[string]int {
	out := map[string]int{}
	for _, o := range objs {
		out[o.GetKind()]++
	}
	return out
}

// seed makes the subtree on the emulator: tenants and users through the
// seeding helpers (no requests), their roles, disabled ones, MFA and
// custom quotas through the API as the administrator.
func seed(size int) seeded {
	GinkgoHelper()
	emu, admin := suite.Emulator, suite.Admin
	var w seeded
	ids, err := emu.SeedTenants(suite.Boot.TenantID, []emulator.SeedTenant{{Name: testenv.Uniq("Reseller"), Kind: emulator.KindPartner}})
	Expect(err).NotTo(HaveOccurred())
	w.reseller = ids[0]
	created, err := admin.CreateClient(ctx, accountserver.ClientCreate{TenantID: w.reseller, Data: accountserver.ClientData{ClientName: "export-suite"}})
	Expect(err).NotTo(HaveOccurred())
	w.conn, w.clientID = testenv.Uniq("reseller"), created.ClientID
	cas, err := suite.Env.Connection(ctx, w.conn, created.ClientID, string(created.ClientSecret), nil)
	Expect(err).NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		g.Expect(suite.K8s.Get(ctx, client.ObjectKeyFromObject(cas), cas)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(cas.Status.Conditions, v1.ConditionReady)).To(BeTrue())
	}).WithTimeout(30 * time.Second).Should(Succeed())

	ids, err = emu.SeedTenants(w.reseller, []emulator.SeedTenant{{Name: "Acme Partner", Kind: emulator.KindPartner,
		Contact: emulator.Contact{Email: "partner@acme.example", Firstname: "Ada", Lastname: "Lovelace"}}})
	Expect(err).NotTo(HaveOccurred())
	w.top = ids[0]
	var mids []emulator.SeedTenant
	for i := range 10 {
		kind, name := emulator.KindFolder, fmt.Sprintf("Région %d / EU", i)
		if i%2 == 1 {
			kind, name = emulator.KindPartner, fmt.Sprintf("Sub-Partner %d", i)
		}
		mids = append(mids, emulator.SeedTenant{Name: name, Kind: kind})
	}
	w.mids, err = emu.SeedTenants(w.top, mids)
	Expect(err).NotTo(HaveOccurred())
	customers := make([][]emulator.SeedTenant, len(w.mids))
	for i := range size - 11 {
		st := emulator.SeedTenant{Name: fmt.Sprintf("Customer %03d", i), Kind: emulator.KindCustomer}
		switch {
		case i == 0:
			st.Name = "Acme GmbH" // and "ACME gmbh" below another parent: one name, two objects
		case i == 1:
			st.Name = "ACME gmbh"
		case i%4 == 0:
			st.Contact = emulator.Contact{Email: fmt.Sprintf("it%03d@customer.example", i), Phone: "+49 30 1234", City: "Berlin", Country: "DE"}
			st.CustomerID, st.Language = fmt.Sprintf("CRM-%05d", i), "de"
		}
		customers[i%len(w.mids)] = append(customers[i%len(w.mids)], st)
	}
	for m, cs := range customers {
		ids, err := emu.SeedTenants(w.mids[m], cs)
		Expect(err).NotTo(HaveOccurred())
		w.customers = append(w.customers, ids...)
	}

	// Users: one in the connection's tenant, one in the partner, one per
	// folder or partner, the rest in customers.
	tenants := append([]string{w.reseller, w.top}, w.mids...)
	var users []emulator.SeedUser
	for i := range size {
		t := tenants[min(i, len(tenants)-1)]
		if i >= len(tenants) {
			t = w.customers[(i-len(tenants))%len(w.customers)]
		}
		users = append(users, emulator.SeedUser{TenantID: t, Login: fmt.Sprintf("user.%03d@example.com", i), Activated: i%2 == 0,
			Contact: emulator.Contact{Email: fmt.Sprintf("user.%03d@example.com", i), Firstname: "User", Lastname: fmt.Sprintf("Nr %d", i)}})
	}
	userIDs, err := emu.SeedUsers(users)
	Expect(err).NotTo(HaveOccurred())
	w.users = len(userIDs)
	for i, id := range userIDs {
		roles := []string{accountserver.RolePartnerAdmin}
		if i >= len(tenants) {
			roles = []string{accountserver.RoleCompanyAdmin}
			if i%3 == 0 {
				roles = append(roles, accountserver.RoleBackupUser)
			}
		}
		var policies []accountserver.AccessPolicy
		for _, r := range roles {
			policies = append(policies, accountserver.NewAccessPolicy(id, users[i].TenantID, r))
		}
		_, err := admin.PutAccessPolicies(ctx, id, policies)
		Expect(err).NotTo(HaveOccurred())
		if i%10 == 5 {
			u, err := admin.GetUser(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			_, err = admin.UpdateUser(ctx, id, accountserver.UserUpdate{Version: u.Version, Enabled: ptr.To(false), Language: ptr.To("fr")})
			Expect(err).NotTo(HaveOccurred())
		}
	}

	// Disabled customers, one with MFA, custom quotas.
	for i, id := range w.customers {
		var changes []accountserver.OfferingItemChange
		if i%5 == 2 {
			changes = append(changes, itemChange(id, "workstations", true, ptr.To(int64(10+i)), ptr.To(int64(20+i))))
		}
		if i%7 == 3 {
			changes = append(changes, itemChange(id, "mobiles", false, nil, nil))
		}
		if len(changes) > 0 {
			_, err := admin.PutOfferingItems(ctx, id, changes, false)
			Expect(err).NotTo(HaveOccurred())
		}
	}
	for i, id := range w.customers {
		if i == 3 {
			Expect(admin.SetTenantMFA(ctx, id, true)).To(Succeed())
		}
		if i%13 == 6 {
			t, err := admin.GetTenant(ctx, id)
			Expect(err).NotTo(HaveOccurred())
			_, err = admin.UpdateTenant(ctx, id, accountserver.TenantUpdate{Version: t.Version, Enabled: ptr.To(false)})
			Expect(err).NotTo(HaveOccurred())
		}
	}
	// A partner's own quota, and an item it turns off: its customers lose
	// it too, which is what they inherit, not a change of theirs.
	_, err = admin.PutOfferingItems(ctx, w.mids[1], []accountserver.OfferingItemChange{
		itemChange(w.mids[1], "servers", true, ptr.To(int64(1000)), nil),
		itemChange(w.mids[1], "mobiles", false, nil, nil),
	}, false)
	Expect(err).NotTo(HaveOccurred())
	return w
}

// itemChange is a change of a Cyber Protection item of the tenant, with
// the quota version the server has.
func itemChange(tenantID, name string, on bool, value, overage *int64) accountserver.OfferingItemChange {
	GinkgoHelper()
	items, err := suite.Admin.GetOfferingItems(ctx, tenantID, accountserver.OfferingItemQuery{Edition: accountserver.AllEditions})
	Expect(err).NotTo(HaveOccurred())
	for _, it := range items {
		if it.ApplicationID == emulator.CyberProtectionAppID && it.Name == name {
			c := accountserver.OfferingItemChange{ApplicationID: it.ApplicationID, Name: name, Status: accountserver.ItemStatusOff}
			if on {
				c.Status = accountserver.ItemStatusOn
				c.Quota = &accountserver.Quota{Value: value, Overage: overage, Version: it.Quota.Version}
			}
			return c
		}
	}
	Fail("no item " + name)
	return accountserver.OfferingItemChange{}
}
