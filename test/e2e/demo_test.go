package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"
)

// proc is one process as /proc shows it.
type proc struct {
	pid, ppid int
	comm      string
	state     string
}

func readProc(pid int) (proc, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return proc{}, false
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return proc{}, false
	}
	f := strings.Fields(s[closing+1:])
	if len(f) < 2 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	return proc{pid: pid, ppid: ppid, comm: s[open+1 : closing], state: f[0]}, true
}

// descendants lists the processes below pid.
func descendants(pid int) []proc {
	entries, err := os.ReadDir("/proc")
	Expect(err).NotTo(HaveOccurred())
	children := map[int][]proc{}
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(n); ok {
			children[p.ppid] = append(children[p.ppid], p)
		}
	}
	var out []proc
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c.pid)
		}
	}
	walk(pid)
	return out
}

// living returns the processes of ps still running (a zombie is not: it
// has exited and only waits to be reaped).
func living(ps []proc) []string {
	var out []string
	for _, p := range ps {
		if now, ok := readProc(p.pid); ok && now.state != "Z" && now.comm == p.comm {
			out = append(out, p.comm+"/"+strconv.Itoa(p.pid))
		}
	}
	return out
}

// startDemo runs `make demo` as a user would, in the background, with the
// control plane only, and returns the make session, devenv's process and
// every process below make once the demo runs.
func startDemo(kubeconfigPath string) (*gexec.Session, proc, []proc) {
	cmd := exec.Command("make", "demo",
		"ARGS=--samples none --manager=false --emulator-addr 127.0.0.1:0 --kubeconfig "+kubeconfigPath)
	cmd.Dir = repoRoot
	s, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { s.Kill() })
	Eventually(s, 5*time.Minute).Should(gbytes.Say("devenv: running"))
	Expect(kubeconfigPath).To(BeAnExistingFile())

	tree := descendants(s.Command.Process.Pid)
	var dev proc
	names := map[string]int{}
	for _, p := range tree {
		names[p.comm]++
		if p.comm == "devenv" && p.ppid == s.Command.Process.Pid {
			dev = p
		}
	}
	Expect(dev.pid).NotTo(BeZero(), "devenv runs as make's own child (exec), not under a shell or go run: %v", tree)
	for _, want := range []string{"etcd", "kube-apiserver", "kube-controller"} {
		found := false
		for name := range names {
			found = found || strings.HasPrefix(name, want)
		}
		Expect(found).To(BeTrue(), "no %s below make: %v", want, names)
	}
	Expect(names["devenv"]).To(Equal(2), "devenv and its guard")
	return s, dev, tree
}

var _ = Describe("make demo's lifecycle", func() {
	It("stops everything and removes the kubeconfig when only make is killed", func() {
		kc := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		s, _, tree := startDemo(kc)

		Expect(syscall.Kill(s.Command.Process.Pid, syscall.SIGKILL)).To(Succeed())
		Eventually(func() []string { return living(tree) }).WithTimeout(10*time.Second).WithPolling(200*time.Millisecond).
			Should(BeEmpty(), "devenv and the control plane must stop when make dies")
		Expect(kc).NotTo(BeAnExistingFile(), "the kubeconfig must be removed")
	})

	It("leaves no control plane behind when devenv itself is killed with SIGKILL", func() {
		kc := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		s, dev, tree := startDemo(kc)

		Expect(syscall.Kill(dev.pid, syscall.SIGKILL)).To(Succeed())
		Eventually(func() []string { return living(tree) }).WithTimeout(10*time.Second).WithPolling(200*time.Millisecond).
			Should(BeEmpty(), "the guard must kill etcd, kube-apiserver and kube-controller-manager")
		Expect(kc).NotTo(BeAnExistingFile(), "the guard removes the kubeconfig too")
		Eventually(s, 10*time.Second).Should(gexec.Exit())
	})
})
