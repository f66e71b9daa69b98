package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// kcmControllers are the controllers of kube-controller-manager a real
// cluster runs for the objects of this operator: namespace deletion,
// garbage collection of owned objects (an ApiClient's Secret, a
// UsageReport's ConfigMap), and service accounts with their tokens.
var kcmControllers = []string{"namespace-controller", "garbage-collector-controller", "serviceaccount-controller", "serviceaccount-token-controller"}

// controllerManager is a kube-controller-manager running beside the envtest
// API server, so the local control plane deletes namespaces and collects
// garbage as a real one does (envtest alone runs no controllers).
type controllerManager struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// startControllerManager runs $KUBEBUILDER_ASSETS/kube-controller-manager
// against env, as an administrator whose kubeconfig is written into dir. Its
// logs go to logOut.
func startControllerManager(env *envtest.Environment, dir string, logOut io.Writer) (*controllerManager, error) {
	bin := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kube-controller-manager")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no kube-controller-manager in KUBEBUILDER_ASSETS (hack/setup-envtest.sh builds it): %w", err)
	}
	user, err := env.AddUser(envtest.User{Name: "system:kube-controller-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("adding the controller manager's user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	kubeconfigPath := filepath.Join(dir, "kube-controller-manager.kubeconfig")
	caPath := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(caPath, env.Config.CAData, 0o600); err != nil {
		return nil, err
	}
	api := env.ControlPlane.GetAPIServer()
	cmd := exec.Command(bin,
		"--kubeconfig="+kubeconfigPath,
		"--controllers="+strings.Join(kcmControllers, ","),
		"--service-account-private-key-file="+filepath.Join(api.CertDir, "sa-signer.key"),
		"--root-ca-file="+caPath,
		"--use-service-account-credentials=false",
		"--leader-elect=false",
		// No serving endpoint: nothing scrapes it here, and no port to clash.
		"--secure-port=0",
		// A namespace's emptiness is checked again soon after content remains.
		"--concurrent-namespace-syncs=5",
		"--concurrent-gc-syncs=20",
	)
	cmd.Stdout, cmd.Stderr = logOut, logOut
	// Killed by the kernel when devenv's thread that started it ends, and in
	// a process group of its own, like envtest's etcd and kube-apiserver.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting kube-controller-manager: %w", err)
	}
	cm := &controllerManager{cmd: cmd, exited: make(chan struct{})}
	go func() {
		cm.err = cmd.Wait()
		close(cm.exited)
	}()
	return cm, nil
}

// pid is the controller manager's process (and process group) ID.
func (cm *controllerManager) pid() int { return cm.cmd.Process.Pid }

// running reports an early exit (bad flags, say) as an error.
func (cm *controllerManager) running() error {
	select {
	case <-cm.exited:
		return fmt.Errorf("kube-controller-manager exited: %v", cm.err)
	default:
		return nil
	}
}

// stop asks the controller manager to stop, and kills it after a grace
// period.
func (cm *controllerManager) stop() error {
	_ = cm.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-cm.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-cm.pid(), syscall.SIGKILL)
		<-cm.exited
	}
	var exit *exec.ExitError
	if cm.err != nil && !errors.As(cm.err, &exit) {
		return cm.err
	}
	return nil
}
