package e2e

import (
	"net/http"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

var _ = Describe("the manager binary against the devenv control plane", Ordered, func() {
	It("finds the group's CRDs installed", func() {
		out := mustKubectl("get", "crds", "-o", "name")
		Expect(out).To(ContainSubstring("accountservers.accounts.tenant-operator.io"))
		Expect(out).To(ContainSubstring("clusteraccountservers.accounts.tenant-operator.io"))
	})

	It("accepts the real-server connection sample", func() {
		// Server-side dry run: it is validated but never stored, so no
		// manager ever tries to reach that (unreachable) host.
		out := mustKubectl("apply", "--dry-run=server", "-f", "config/samples/accounts_v1alpha1_accountserver.yaml")
		Expect(out).To(ContainSubstring("accountserver.accounts.tenant-operator.io/eu2 created (server dry run)"))
	})

	It("refuses an invalid object with the CEL message", func() {
		bad := `apiVersion: accounts.tenant-operator.io/v1alpha1
kind: AccountServer
metadata: {name: bad, namespace: default}
spec: {url: "eu2-cloud.example.com", credentialsSecretRef: {name: x}}
`
		out, err := kubectlStdin(bad, "apply", "-f", "-")
		Expect(err).To(HaveOccurred())
		Expect(out).To(ContainSubstring("url must be an absolute http or https URL"))
	})

	It("runs bin/manager until it is stopped", func() {
		mgr, probe := startManager()
		Eventually(func() (int, error) {
			resp, err := http.Get("http://" + probe + "/readyz")
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			return resp.StatusCode, nil
		}, time.Minute, 200*time.Millisecond).Should(Equal(http.StatusOK))
		Consistently(mgr, 2*time.Second).ShouldNot(gexec.Exit(), "the manager must keep running")
		mgr.Signal(syscall.SIGTERM)
		Eventually(mgr, 30*time.Second).Should(gexec.Exit(0))
	})
})
