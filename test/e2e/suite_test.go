// Package e2e drives the real binaries: cmd/devenv as the control plane and
// bin/manager as the operator, with the machine's kubectl.
package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

var (
	repoRoot   string
	workDir    string
	kubeconfig string
	devenv     *gexec.Session
	// emulatorURL is where devenv's account server emulator listens.
	emulatorURL string
	// emulatorClientID and emulatorClientSecret are the emulator's root
	// API client, for connection objects of the suite's own.
	emulatorClientID, emulatorClientSecret string
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "end-to-end suite")
}

var _ = BeforeSuite(func() {
	Expect(os.Getenv("KUBEBUILDER_ASSETS")).NotTo(BeEmpty(), "run through `make test-e2e`")
	var err error
	repoRoot, err = filepath.Abs(filepath.Join("..", ".."))
	Expect(err).NotTo(HaveOccurred())
	Expect(filepath.Join(repoRoot, "bin", "manager")).To(BeAnExistingFile(), "run through `make test-e2e`, which builds bin/manager")
	_, err = exec.LookPath("kubectl")
	Expect(err).NotTo(HaveOccurred(), "the end-to-end suite drives the real kubectl")

	workDir = GinkgoT().TempDir()
	kubeconfig = filepath.Join(workDir, "kubeconfig")

	devenvBin, err := gexec.Build("github.com/tenant-operator/tenant-operator/cmd/devenv")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(gexec.CleanupBuildArtifacts)

	cmd := exec.Command(devenvBin, "--manager=false", "--samples", "none", "--kubeconfig", kubeconfig, "--emulator-addr", "127.0.0.1:0")
	cmd.Dir = repoRoot
	devenv, err = gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	Eventually(devenv, 2*time.Minute).Should(gbytes.Say("manager left out"))
	m := regexp.MustCompile(`account server emulator at (http://\S+)`).FindSubmatch(devenv.Out.Contents())
	Expect(m).NotTo(BeNil(), "devenv prints the emulator's URL")
	emulatorURL = string(m[1])
	c := regexp.MustCompile(`client_id: (\S+)\s+client_secret: (\S+)`).FindSubmatch(devenv.Out.Contents())
	Expect(c).NotTo(BeNil(), "devenv prints the emulator's credentials")
	emulatorClientID, emulatorClientSecret = string(c[1]), string(c[2])
})

// A failed spec leaves the state of every object of this API in its report:
// conditions and status say why something never became Ready.
var _ = JustAfterEach(func() {
	if !CurrentSpecReport().Failed() || kubeconfig == "" {
		return
	}
	out, _ := kubectl("get", "accountservers,clusteraccountservers,"+sampleKinds, "-A", "-o", "yaml")
	AddReportEntry("objects at failure", out)
})

var _ = AfterSuite(func() {
	if devenv != nil {
		devenv.Signal(syscall.SIGINT)
		Eventually(devenv, time.Minute).Should(gexec.Exit(0), "devenv must shut down cleanly on Ctrl-C")
	}
})

// kubectl runs the real kubectl against the devenv control plane.
func kubectl(args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = repoRoot
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// kubectlStdin runs kubectl with stdin as its standard input.
func kubectlStdin(stdin string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Dir = repoRoot
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startManager runs bin/manager against the devenv control plane and returns
// the session and its health probe address.
func startManager() (*gexec.Session, string) {
	probe := freeAddr()
	cmd := exec.Command(filepath.Join(repoRoot, "bin", "manager"),
		"--kubeconfig", kubeconfig, "--metrics-bind-address", "0", "--health-probe-bind-address", probe)
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	return s, probe
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer l.Close()
	return l.Addr().String()
}

func mustKubectl(args ...string) string {
	out, err := kubectl(args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %s: %s", strings.Join(args, " "), out)
	return out
}
