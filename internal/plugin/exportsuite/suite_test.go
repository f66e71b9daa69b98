// Package exportsuite_test is the acceptance test of `kubectl accounts
// export`: a subtree seeded on the emulator is exported through the
// plugin's command, applied to fresh namespaces of an envtest control
// plane with the operator running, and adopted without one write to the
// account server. EXPORT_SIZE sets how many tenants (default 300, about
// 40 seconds on two cores); EXPORT_OUT names a directory to keep the
// observe-only export and its summary in.
package exportsuite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tenant-operator/tenant-operator/internal/plugin"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx        context.Context
	suite      *testenv.Suite
	kubeconfig string
	size       = 300
)

func TestExport(t *testing.T) {
	if v := os.Getenv("EXPORT_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 {
			t.Fatalf("EXPORT_SIZE=%q: want a number of tenants, at least 20", v)
		}
		size = n
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "kubectl accounts export suite")
}

var _ = BeforeSuite(func() {
	suite, _ = testenv.StartSuite()
	ctx = suite.Ctx
	kubeconfig = writeKubeconfig(GinkgoT().TempDir())
})

// writeKubeconfig writes a kubeconfig for the envtest control plane, as a
// user of the plugin has one.
func writeKubeconfig(dir string) string {
	cfg := suite.Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["envtest"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "envtest", Namespace: "default"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(dir, "kubeconfig")
	Expect(clientcmd.WriteToFile(*kc, path)).To(Succeed())
	return path
}

// run runs `kubectl accounts` with args against the envtest control
// plane, in process, and returns what it wrote to stdout and stderr.
func run(args ...string) (stdout, stderr []byte, err error) {
	var out, errOut bytes.Buffer
	cmd := plugin.NewCommand(plugin.IOStreams{In: &bytes.Buffer{}, Out: &out, ErrOut: &errOut})
	cmd.SetArgs(append([]string{"--kubeconfig", kubeconfig}, args...))
	err = cmd.ExecuteContext(ctx)
	return out.Bytes(), errOut.Bytes(), err
}
