package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// request is one entry of the emulator's request log.
type request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

func requestLog() []request {
	resp, err := http.Get(emulatorURL + "/_emulator/requests")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var body struct {
		Requests []request `json:"requests"`
	}
	Expect(json.NewDecoder(resp.Body).Decode(&body)).To(Succeed())
	return body.Requests
}

// remoteObject is what one object of the samples manages on the server.
type remoteObject struct {
	kind, name, id, tenantID string
}

// remoteObjects reads, in namespace ns, the remote ID and tenant (or
// parent, for a Tenant) of every object of a kind that is deleted on the
// server with it.
func remoteObjects(ns string) []remoteObject {
	var out []remoteObject
	for _, kind := range []string{"tenants", "users", "usagereports", "apiclients"} {
		tenantField := "{.status.tenantID}"
		if kind == "tenants" {
			tenantField = "{.status.parentID}"
		}
		lines := mustKubectl("get", kind, "-n", ns, "-o",
			`jsonpath={range .items[*]}{.metadata.name}{"\t"}{.status.id}{"\t"}`+tenantField+`{"\n"}{end}`)
		for _, line := range strings.Split(strings.TrimSpace(lines), "\n") {
			f := strings.Split(line, "\t")
			Expect(f).To(HaveLen(3), "kubectl get %s: %q", kind, line)
			Expect(f[1]).NotTo(BeEmpty(), "%s %s has no status.id", kind, f[0])
			out = append(out, remoteObject{kind: kind, name: f[0], id: f[1], tenantID: f[2]})
		}
	}
	return out
}

// deletePath is the path of the DELETE request for a remote object.
func deletePath(o remoteObject) string {
	switch o.kind {
	case "tenants":
		return "/api/2/tenants/" + o.id
	case "users":
		return "/api/2/users/" + o.id
	case "usagereports":
		return "/api/2/reports/" + o.id
	default:
		return "/api/2/clients/" + o.id
	}
}

var _ = Describe("a customer's namespace, deleted", Ordered, func() {
	var mgr *gexec.Session

	BeforeAll(func() {
		mgr, _ = startManager()
	})
	AfterAll(func() {
		if mgr != nil {
			mgr.Signal(syscall.SIGTERM)
			Eventually(mgr, 30*time.Second).Should(gexec.Exit())
		}
	})

	It("takes every remote object with it, children before parents, its connection last, and is gone within 2 minutes", func() {
		ns := "customer-ns-deletion"
		mustKubectl("create", "namespace", ns)
		// The namespace's own connection: an AccountServer and its
		// credentials Secret, deleted with the namespace while the objects
		// that use them still need them.
		out, err := kubectlStdin(`
apiVersion: v1
kind: Secret
metadata: {name: account-server-credentials, namespace: `+ns+`}
stringData: {client_id: "`+emulatorClientID+`", client_secret: "`+emulatorClientSecret+`"}
---
apiVersion: accounts.tenant-operator.io/v1alpha1
kind: AccountServer
metadata: {name: emulator, namespace: `+ns+`}
spec:
  url: `+emulatorURL+`
  credentialsSecretRef: {name: account-server-credentials}
`, "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		// The samples, a four-level tenant tree with users, quotas, a report
		// and an API client, moved into the namespace and onto its connection.
		manifests := mustKubectl("kustomize", "config/samples")
		manifests = strings.ReplaceAll(manifests, "namespace: default", "namespace: "+ns)
		manifests = strings.ReplaceAll(manifests, "kind: ClusterAccountServer", "kind: AccountServer")
		Expect(manifests).To(ContainSubstring("namespace: " + ns))
		Expect(manifests).To(ContainSubstring("kind: AccountServer"))
		out, err = kubectlStdin(manifests, "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		mustKubectl("wait", "--for=condition=Ready", sampleKinds, "--all", "-n", ns, "--timeout=180s")

		objects := remoteObjects(ns)
		tenants := map[string]remoteObject{}
		for _, o := range objects {
			if o.kind == "tenants" {
				tenants[o.id] = o
			}
		}
		Expect(tenants).To(HaveLen(4))
		depth := 0
		for _, t := range tenants {
			d := 1
			for p := t.tenantID; tenants[p].id != ""; p = tenants[p].tenantID {
				d++
			}
			depth = max(depth, d)
		}
		Expect(depth).To(BeNumerically(">=", 3), "a tenant tree of at least three levels")
		Expect(mustKubectl("get", "offeringitemquotas", "-n", ns, "-o", "name")).NotTo(BeEmpty())

		start := time.Now()
		mustKubectl("delete", "namespace", ns, "--wait=false")
		Eventually(func() string {
			out, _ := kubectl("get", "namespace", ns, "-o", "name", "--ignore-not-found")
			return strings.TrimSpace(out)
		}).WithTimeout(2*time.Minute).WithPolling(time.Second).Should(BeEmpty(), "the namespace must be gone within 2 minutes")
		GinkgoWriter.Printf("namespace %s deleted in %s\n", ns, time.Since(start).Round(time.Second))

		By("the server holds none of the remote objects")
		st := state()
		for _, o := range objects {
			switch o.kind {
			case "tenants":
				t, ok := st.Store.Tenants[o.id]
				Expect(ok && t.DeletedAt == nil).To(BeFalse(), "tenant %s (%s) must be deleted on the server", o.name, o.id)
			case "users":
				u, ok := st.Store.Users[o.id]
				Expect(ok && u.DeletedAt == nil).To(BeFalse(), "user %s (%s) must be deleted on the server", o.name, o.id)
			}
		}

		By("each DELETE came after those of the objects inside its tenant")
		at := map[string]int{}
		for i, r := range requestLog() {
			if r.Method == http.MethodDelete && r.Status < 300 {
				if _, seen := at[r.Path]; !seen {
					at[r.Path] = i
				}
			}
		}
		for _, o := range objects {
			Expect(at).To(HaveKey(deletePath(o)), "no DELETE for %s %s", o.kind, o.name)
		}
		for _, o := range objects {
			parent, ok := tenants[o.tenantID]
			if !ok {
				continue // the tree's root, under the connection's tenant
			}
			Expect(at[deletePath(o)]).To(BeNumerically("<", at[deletePath(parent)]),
				"%s %s must be deleted before its tenant %s", o.kind, o.name, parent.name)
		}
	})

	It("collects an ApiClient's Secret once the ApiClient is gone", func() {
		ns := "customer-gc"
		mustKubectl("create", "namespace", ns)
		DeferCleanup(func() { _, _ = kubectl("delete", "namespace", ns, "--wait=false") })
		out, err := kubectlStdin(`
apiVersion: accounts.tenant-operator.io/v1alpha1
kind: Tenant
metadata: {name: gc-customer, namespace: `+ns+`}
spec:
  accountServerRef: {kind: ClusterAccountServer, name: emulator}
  kind: customer
  displayName: GC Customer
---
apiVersion: accounts.tenant-operator.io/v1alpha1
kind: ApiClient
metadata: {name: backup-integration, namespace: `+ns+`}
spec:
  tenantRef: {name: gc-customer}
  displayName: GC backup integration
  secretName: backup-integration-credentials
`, "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		mustKubectl("wait", "--for=condition=Ready", "apiclient/backup-integration", "-n", ns, "--timeout=120s")
		owner := mustKubectl("get", "secret", "backup-integration-credentials", "-n", ns, "-o", "jsonpath={.metadata.ownerReferences[0].kind}")
		Expect(owner).To(Equal("ApiClient"))

		// The finalizer deletes the client on the server; then the garbage
		// collector removes the Secret the ApiClient owned.
		mustKubectl("delete", "apiclient", "backup-integration", "-n", ns, "--wait=true", "--timeout=60s")
		Eventually(func() string {
			out, _ := kubectl("get", "secret", "backup-integration-credentials", "-n", ns, "-o", "name", "--ignore-not-found")
			return strings.TrimSpace(out)
		}).WithTimeout(time.Minute).Should(BeEmpty(), "the garbage collector must delete the owned Secret")
	})
})
