// Package harness runs the real manager binary as a child process for the
// programs that measure it from outside (cmd/bench, test/chaos): start,
// SIGKILL, stop, readiness, its Prometheus metrics and its memory.
package harness

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Manager is one bin/manager child process. Each start writes a new log
// file; a restart is a new process with the same identity.
type Manager struct {
	Name       string // names its log files: LogDir/manager-<Name>-<start>.log
	Bin        string
	Kubeconfig string
	LogDir     string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	exitErr  error
	metrics  string // host:port
	probe    string
	logs     []string // every log file, oldest first
	startNum int
}

// Start runs the binary with args plus the addresses it must bind (metrics
// over plain http, the health probes), and waits until its readiness probe
// answers.
func (m *Manager) Start(ctx context.Context, args []string) error {
	if err := m.Launch(args); err != nil {
		return err
	}
	return m.WaitReady(ctx)
}

// Launch starts the process and returns at once.
func (m *Manager) Launch(args []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd != nil && !m.exitedLocked() {
		return fmt.Errorf("manager %s is already running", m.Name)
	}
	metrics, err := FreeAddr()
	if err != nil {
		return err
	}
	probe, err := FreeAddr()
	if err != nil {
		return err
	}
	m.startNum++
	logPath := fmt.Sprintf("%s/manager-%s-%d.log", m.LogDir, m.Name, m.startNum)
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	full := append([]string{
		"--metrics-bind-address=" + metrics, "--metrics-secure=false",
		"--health-probe-bind-address=" + probe,
	}, args...)
	fmt.Fprintf(logFile, "# %s %s\n", m.Bin, strings.Join(full, " "))
	cmd := exec.Command(m.Bin, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+m.Kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so a kill takes anything it started; and
	// killed with this process even if the cleanup never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return fmt.Errorf("starting %s: %w", m.Bin, err)
	}
	done := make(chan struct{})
	m.cmd, m.done, m.exitErr = cmd, done, nil
	m.metrics, m.probe = metrics, probe
	m.logs = append(m.logs, logPath)
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		m.mu.Lock()
		m.exitErr = err
		m.mu.Unlock()
		close(done)
	}()
	return nil
}

func (m *Manager) exitedLocked() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// Alive fails when the process has exited: every wait of a measurement
// checks it, so a crashed manager ends the run at once.
func (m *Manager) Alive() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return fmt.Errorf("manager %s is not running", m.Name)
	}
	if m.exitedLocked() {
		return fmt.Errorf("manager %s exited: %v (log: %s)", m.Name, m.exitErr, m.logs[len(m.logs)-1])
	}
	return nil
}

// WaitReady waits up to a minute for the readiness probe.
func (m *Manager) WaitReady(ctx context.Context) error {
	m.mu.Lock()
	url := "http://" + m.probe + "/readyz"
	m.mu.Unlock()
	return Poll(ctx, 100*time.Millisecond, time.Minute, func() (bool, error) {
		if err := m.Alive(); err != nil {
			return false, err
		}
		resp, err := http.Get(url) //nolint:noctx // a local probe with its own timeout loop
		if err != nil {
			return false, nil
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// Kill sends SIGKILL to the manager's process group and waits for it.
func (m *Manager) Kill() { m.signal(syscall.SIGKILL, 0) }

// Stop asks the manager to stop and kills it after a grace period.
func (m *Manager) Stop() { m.signal(syscall.SIGTERM, 10*time.Second) }

func (m *Manager) signal(sig syscall.Signal, grace time.Duration) {
	m.mu.Lock()
	cmd, done := m.cmd, m.done
	m.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}
	<-done
}

// PID is the running process's id.
func (m *Manager) PID() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// Logs lists the log file of every start, oldest first.
func (m *Manager) Logs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.logs...)
}

// Sample reads the manager's metrics.
func (m *Manager) Sample(ctx context.Context) (Sample, error) {
	m.mu.Lock()
	addr := m.metrics
	m.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return Sample{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Sample{}, fmt.Errorf("reading the metrics of manager %s: %w", m.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Sample{}, fmt.Errorf("reading the metrics of manager %s: %s", m.Name, resp.Status)
	}
	return ParseSample(resp.Body)
}

// KubeWrites is Sample's KubeWrites.
func (m *Manager) KubeWrites(ctx context.Context) (int64, error) {
	s, err := m.Sample(ctx)
	return s.KubeWrites, err
}

// Memory returns the manager's peak and current resident set (VmHWM and
// VmRSS of /proc/PID/status), in bytes.
func (m *Manager) Memory() (peak, current int64, err error) {
	pid := m.PID()
	if pid == 0 {
		return 0, 0, fmt.Errorf("manager %s is not running", m.Name)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return MemoryFromStatus(f)
}

// Tail returns the path of the manager's latest log and its last n lines.
func (m *Manager) Tail(n int) (string, string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.logs) == 0 {
		return "", ""
	}
	path := m.logs[len(m.logs)-1]
	data, err := os.ReadFile(path)
	if err != nil {
		return path, err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return path, strings.Join(lines, "\n")
}

// FreeAddr returns a local address nothing listens on right now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Poll calls cond every interval until it is true, fails, or timeout
// passes.
func Poll(ctx context.Context, interval, timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still waiting after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
