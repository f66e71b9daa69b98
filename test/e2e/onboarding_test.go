package e2e

import (
	"fmt"
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

// onboard installs one customer with the onboarding chart.
func onboard(release, displayName, login string) {
	helm(append([]string{"install", release, "charts/tenant-onboarding", "--namespace", "customers", "--create-namespace"},
		customerValues(release, displayName, login)...)...)
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

	It("onboards two customers from two releases", func() {
		onboard("globex", "Globex Inc", "globex-admin")
		onboard("initech", "Initech LLC", "initech-admin")
		mustKubectl("wait", "--for=condition=Ready", "tenants,users,offeringitemquotas,apiclients", "--all", "-n", "customers", "--timeout=180s")
		st := state()
		Expect(st.liveTenants("Globex Inc")).To(Equal(1))
		Expect(st.liveTenants("Initech LLC")).To(Equal(1))
		Expect(st.liveUsers("globex-admin")).To(Equal(1))
		Expect(st.liveUsers("initech-admin")).To(Equal(1))
		out := mustKubectl("get", "secrets", "-n", "customers", "-o", "name")
		Expect(out).To(ContainSubstring("secret/globex-api-credentials"), "the API client's credentials")
	})

	It("onboards a customer rendered with helm template and applied with kubectl", func() {
		manifest := helm(append([]string{"template", "hooli", "charts/tenant-onboarding", "--namespace", "customers"},
			customerValues("hooli", "Hooli XYZ", "hooli-admin")...)...)
		out, err := kubectlStdin(manifest, "apply", "-n", "customers", "-f", "-")
		Expect(err).NotTo(HaveOccurred(), out)
		mustKubectl("wait", "--for=condition=Ready", "tenants/hooli", "users/hooli-admin", "offeringitemquotas/hooli-quotas", "apiclients/hooli-api", "-n", "customers", "--timeout=180s")
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
			out, _ := kubectl("get", "tenants,users,offeringitemquotas,apiclients", "-n", "customers", "-o", "name")
			return out
		}).WithTimeout(3 * time.Minute).ShouldNot(ContainSubstring("globex"))
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
		mustKubectl("wait", "--for=condition=Ready", "tenants/initech", "-n", "customers", "--timeout=60s")
	})
})
