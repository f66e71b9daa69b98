package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// helm runs bin/helm against the devenv control plane and returns its
// standard output.
func helm(args ...string) string {
	cmd := exec.Command(filepath.Join(repoRoot, "bin", "helm"), append(args, "--kubeconfig", kubeconfig)...)
	cmd.Dir = repoRoot
	out, err := cmd.Output()
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "helm %s: %s", strings.Join(args, " "), out)
	return string(out)
}

// customerValues are the onboarding chart's values for one customer.
func customerValues(release, displayName, login string) []string {
	return []string{"--set", "accountServerRef.kind=ClusterAccountServer", "--set", "accountServerRef.name=emulator",
		"--set", "customer.displayName=" + displayName, "--set", "customer.contact.email=it@" + release + ".example",
		"--set", "administrator.login=" + login, "--set", "administrator.email=admin@" + release + ".example",
		"--set", "quotas[0].application=Cyber Protection", "--set", "quotas[0].name=workstations",
		"--set", "quotas[0].quota.value=10",
		"--set", "apiClient.enabled=true"}
}

// onboard installs one customer with the onboarding chart and returns
// helm's output, the release notes included.
func onboard(release, displayName, login string, extra ...string) string {
	args := append([]string{"install", release, "charts/tenant-onboarding", "--namespace", "customers", "--create-namespace"},
		customerValues(release, displayName, login)...)
	return helm(append(args, extra...)...)
}

// registrationTokens is the part of the emulator's state dump about
// registration tokens (their values are redacted there) and storages.
type registrationTokens struct {
	Store struct {
		Ext struct {
			RegistrationTokens map[string]struct {
				TenantID  string  `json:"tenant_id"`
				RevokedAt *string `json:"revoked_at"`
			} `json:"registration_tokens"`
			Infras map[string]struct {
				Name string `json:"name"`
			} `json:"infras"`
		} `json:"ext"`
	} `json:"store"`
}

func emulatorExt() registrationTokens {
	resp, err := http.Get(emulatorURL + "/_emulator/state")
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var st registrationTokens
	ExpectWithOffset(1, json.NewDecoder(resp.Body).Decode(&st)).To(Succeed())
	return st
}

// liveTokens counts the registration tokens of a tenant that are not revoked.
func (st registrationTokens) liveTokens(tenantID string) int {
	n := 0
	for _, t := range st.Store.Ext.RegistrationTokens {
		if t.TenantID == tenantID && t.RevokedAt == nil {
			n++
		}
	}
	return n
}

// registerAgent registers a machine with a token through the emulator's
// stand-in for an agent's registration and returns the HTTP status and body.
func registerAgent(token string) (int, string) {
	body, err := json.Marshal(map[string]string{"token": token})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	resp, err := http.Post(emulatorURL+"/_emulator/registrations", "application/json", bytes.NewReader(body))
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// secretData reads a Secret's data, decoded.
func secretData(namespace, name string) map[string]string {
	var s struct {
		Data map[string]string `json:"data"`
	}
	ExpectWithOffset(1, json.Unmarshal([]byte(mustKubectl("get", "secret", name, "-n", namespace, "-o", "json")), &s)).To(Succeed())
	out := map[string]string{}
	for k, v := range s.Data {
		b, err := base64.StdEncoding.DecodeString(v)
		ExpectWithOffset(1, err).NotTo(HaveOccurred())
		out[k] = string(b)
	}
	return out
}

var _ = Describe("the onboarding chart, end to end", Ordered, func() {
	var mgr *gexec.Session

	BeforeAll(func() {
		Expect(filepath.Join(repoRoot, "bin", "helm")).To(BeAnExistingFile(), "run through `make test-e2e`, which installs helm")
		mgr, _ = startManager()
	})
	AfterAll(func() {
		mgr.Signal(syscall.SIGTERM)
		Eventually(mgr, 30*time.Second).Should(gexec.Exit())
	})

	// The token the chart's RegistrationToken wrote for globex, and its tenant.
	var globexToken, globexTenantID string

	It("onboards two customers from two releases", func() {
		notes := onboard("globex", "Globex Inc", "globex-admin")
		onboard("initech", "Initech LLC", "initech-admin")
		mustKubectl("wait", "--for=condition=Ready", "tenants,users,offeringitemquotas,apiclients,registrationtokens", "--all", "-n", "customers", "--timeout=180s")
		st := state()
		Expect(st.liveTenants("Globex Inc")).To(Equal(1))
		Expect(st.liveTenants("Initech LLC")).To(Equal(1))
		Expect(st.liveUsers("globex-admin")).To(Equal(1))
		Expect(st.liveUsers("initech-admin")).To(Equal(1))
		out := mustKubectl("get", "secrets", "-n", "customers", "-o", "name")
		Expect(out).To(ContainSubstring("secret/globex-api-credentials"), "the API client's credentials")

		By("the registration token, on by default, is in its Secret")
		Expect(mustKubectl("get", "registrationtokens", "-n", "customers", "-o", "name")).To(And(
			ContainSubstring("registrationtoken.accounts.tenant-operator.io/globex-registration"),
			ContainSubstring("registrationtoken.accounts.tenant-operator.io/initech-registration")))
		data := secretData("customers", "globex-registration-token")
		Expect(data).To(HaveKey("token"))
		Expect(data).To(HaveKeyWithValue("url", emulatorURL), "the server the agents register with")
		expiresAt, err := time.Parse(time.RFC3339, data["expires_at"])
		Expect(err).NotTo(HaveOccurred(), "expires_at is RFC 3339")
		Expect(time.Until(expiresAt)).To(BeNumerically("~", 720*time.Hour, time.Hour), "the default lifetime")
		globexToken = data["token"]
		Expect(globexToken).NotTo(BeEmpty())
		globexTenantID = strings.TrimSpace(mustKubectl("get", "tenant", "globex", "-n", "customers", "-o", "jsonpath={.status.id}"))
		Expect(mustKubectl("get", "registrationtoken", "globex-registration", "-n", "customers", "-o", "jsonpath={.status.tenantID}")).To(Equal(globexTenantID))
		Expect(emulatorExt().liveTokens(globexTenantID)).To(Equal(1), "one token on the server for the customer")

		By("the release notes say where the token is, and never show it")
		Expect(notes).To(ContainSubstring("Secret globex-registration-token in the namespace customers"))
		Expect(notes).To(ContainSubstring("kubectl -n customers get secret globex-registration-token -o jsonpath='{.data.token}' | base64 -d"))
		Expect(notes).To(ContainSubstring("renews itself"))
		Expect(notes).NotTo(ContainSubstring(globexToken))
		Expect(helm("get", "notes", "globex", "--namespace", "customers")).To(ContainSubstring("globex-registration-token"))

		By("a machine registers its agent with the token")
		code, body := registerAgent(globexToken)
		Expect(code).To(Equal(http.StatusOK), body)
	})

	It("onboards a customer rendered with helm template and applied with kubectl", func() {
		manifest := helm(append([]string{"template", "hooli", "charts/tenant-onboarding", "--namespace", "customers"},
			customerValues("hooli", "Hooli XYZ", "hooli-admin")...)...)
		out, err := kubectlStdin(manifest, "apply", "-n", "customers", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		mustKubectl("wait", "--for=condition=Ready", "tenants/hooli", "users/hooli-admin", "offeringitemquotas/hooli-quotas", "apiclients/hooli-api", "registrationtokens/hooli-registration", "-n", "customers", "--timeout=180s")
		Expect(secretData("customers", "hooli-registration-token")).To(HaveKey("token"))
		Expect(state().liveTenants("Hooli XYZ")).To(Equal(1))
		out, err = kubectlStdin(manifest, "delete", "-n", "customers", "--wait=true", "--timeout=180s", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(state().liveTenants("Hooli XYZ")).To(BeZero(), "deleting the rendered objects deletes the customer on the server")
		Expect(state().liveUsers("hooli-admin")).To(BeZero())
	})

	It("uninstalls one customer and leaves the other untouched", func() {
		before := state()
		helm("uninstall", "globex", "--namespace", "customers", "--wait", "--timeout", "3m")
		Eventually(func() string {
			out, _ := kubectl("get", "tenants,users,offeringitemquotas,apiclients,registrationtokens", "-n", "customers", "-o", "name")
			return out
		}).WithTimeout(3 * time.Minute).ShouldNot(ContainSubstring("globex"))
		Eventually(func() string {
			out, _ := kubectl("get", "secrets", "-n", "customers", "-o", "name")
			return out
		}).WithTimeout(time.Minute).ShouldNot(ContainSubstring("globex-registration-token"), "the token's Secret goes with its RegistrationToken")
		Expect(emulatorExt().liveTokens(globexTenantID)).To(BeZero(), "uninstalling revokes the customer's token on the server")
		code, body := registerAgent(globexToken)
		Expect(code).To(Equal(http.StatusForbidden), "a revoked token registers nothing: %s", body)
		Expect(body).To(ContainSubstring("revoked"))
		st := state()
		Expect(st.liveTenants("Globex Inc")).To(BeZero(), "the uninstalled customer is deleted on the server")
		Expect(st.liveUsers("globex-admin")).To(BeZero())
		Expect(st.liveTenants("Initech LLC")).To(Equal(1), "the other customer stays")
		Expect(st.liveUsers("initech-admin")).To(Equal(1))
		for id, t := range before.Store.Tenants {
			if t.Name == "Initech LLC" {
				Expect(st.Store.Tenants[id].DeletedAt).To(BeNil(), fmt.Sprintf("tenant %s untouched", id))
			}
		}
		mustKubectl("wait", "--for=condition=Ready", "tenants/initech", "registrationtokens/initech-registration", "-n", "customers", "--timeout=60s")
		initechID := strings.TrimSpace(mustKubectl("get", "tenant", "initech", "-n", "customers", "-o", "jsonpath={.status.id}"))
		Expect(emulatorExt().liveTokens(initechID)).To(Equal(1), "the other customer's token stays")
	})

	It("gives a customer quotas on its partner's storage, by the Storage's name", func() {
		// A partner with a location and a storage of its own; the customer
		// goes under it (parent.parentRef) and gets a quota on the storage.
		partner := `apiVersion: accounts.tenant-operator.io/v1alpha1
kind: Tenant
metadata: {name: umbrella, namespace: customers}
spec:
  accountServerRef: {kind: ClusterAccountServer, name: emulator}
  displayName: Umbrella Reseller
  kind: partner
---
apiVersion: accounts.tenant-operator.io/v1alpha1
kind: Location
metadata: {name: umbrella-zurich, namespace: customers}
spec:
  tenantRef: {name: umbrella}
  displayName: Zurich
---
apiVersion: accounts.tenant-operator.io/v1alpha1
kind: Storage
metadata: {name: umbrella-zurich-backup, namespace: customers}
spec:
  tenantRef: {name: umbrella}
  locationRef: {name: umbrella-zurich}
  url: https://storage.umbrella.example
  capabilities: [backup]
`
		out, err := kubectlStdin(partner, "apply", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		helm("install", "wayne", "charts/tenant-onboarding", "--namespace", "customers",
			"--set", "parent.parentRef=umbrella", "--set", "customer.displayName=Wayne Enterprises",
			"--set", "administrator.enabled=false", "--set", "registrationToken.enabled=false",
			"--set", "storageQuotas[0].storage=umbrella-zurich-backup", "--set", "storageQuotas[0].quota.value=1099511627776")
		mustKubectl("wait", "--for=condition=Ready", "tenants/umbrella", "locations/umbrella-zurich", "storages/umbrella-zurich-backup",
			"tenants/wayne", "offeringitemquotas/wayne-storage-quotas", "-n", "customers", "--timeout=180s")
		Expect(mustKubectl("get", "registrationtokens", "-n", "customers", "-o", "name")).NotTo(ContainSubstring("wayne"), "registrationToken.enabled=false")
		storageID := strings.TrimSpace(mustKubectl("get", "storage", "umbrella-zurich-backup", "-n", "customers", "-o", "jsonpath={.status.id}"))
		Expect(storageID).NotTo(BeEmpty())
		Expect(mustKubectl("get", "offeringitemquota", "wayne-storage-quotas", "-n", "customers",
			"-o", "jsonpath={.status.items[0].name} {.status.items[0].infraID} {.status.items[0].enabled} {.status.items[0].value}")).
			To(Equal("storage " + storageID + " true 1099511627776"))
		Expect(emulatorExt().Store.Ext.Infras).To(HaveKey(storageID))
		Expect(state().liveTenants("Wayne Enterprises")).To(Equal(1))

		helm("uninstall", "wayne", "--namespace", "customers", "--wait", "--timeout", "3m")
		out, err = kubectlStdin(partner, "delete", "--wait=true", "--timeout=180s", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		Expect(state().liveTenants("Wayne Enterprises")).To(BeZero())
		Expect(state().liveTenants("Umbrella Reseller")).To(BeZero())
		Expect(emulatorExt().Store.Ext.Infras).NotTo(HaveKey(storageID), "the storage is deleted on the server")
	})
})
