package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// features are the flags of the manager binary this run uses: the new
// ones exist only once the remote watch is in.
type features struct {
	driftDetection bool // --drift-detection=watch|poll
	kubeQPS        bool // --kube-api-qps, --kube-api-burst
}

// probeFeatures reads the binary's -help.
func probeFeatures(ctx context.Context, bin string) (features, error) {
	cmd := exec.CommandContext(ctx, bin, "-help")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return features{}, fmt.Errorf("running %s -help: %w", bin, err)
	}
	help := out.String()
	if !strings.Contains(help, "-metrics-bind-address") {
		return features{}, fmt.Errorf("%s -help does not look like the manager's:\n%s", bin, help)
	}
	return features{
		driftDetection: strings.Contains(help, "-drift-detection"),
		kubeQPS:        strings.Contains(help, "-kube-api-qps"),
	}, nil
}

// manager is one bin/manager child process. Each start writes a new log
// file; a restart is a new process with the same identity.
type manager struct {
	name       string // the mode
	bin        string
	kubeconfig string
	logDir     string

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	exitErr  error
	metrics  string // host:port
	probe    string
	logs     []string // every log file, oldest first
	startNum int
}

// start runs the binary with args plus the addresses it must bind, and
// waits until its readiness probe answers.
func (m *manager) start(ctx context.Context, args []string) error {
	m.mu.Lock()
	if m.cmd != nil && !m.exitedLocked() {
		m.mu.Unlock()
		return fmt.Errorf("manager %s is already running", m.name)
	}
	metrics, err := freeAddr()
	if err != nil {
		m.mu.Unlock()
		return err
	}
	probe, err := freeAddr()
	if err != nil {
		m.mu.Unlock()
		return err
	}
	m.startNum++
	logPath := fmt.Sprintf("%s/manager-%s-%d.log", m.logDir, m.name, m.startNum)
	logFile, err := os.Create(logPath)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	full := append([]string{
		"--metrics-bind-address=" + metrics, "--metrics-secure=false",
		"--health-probe-bind-address=" + probe, "--leader-elect=false",
	}, args...)
	fmt.Fprintf(logFile, "# %s %s\n", m.bin, strings.Join(full, " "))
	cmd := exec.Command(m.bin, full...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+m.kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so a kill takes anything it started; and
	// killed with this process even if the cleanup never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		m.mu.Unlock()
		return fmt.Errorf("starting %s: %w", m.bin, err)
	}
	done := make(chan struct{})
	m.cmd, m.done, m.exitErr = cmd, done, nil
	m.metrics, m.probe = metrics, probe
	m.logs = append(m.logs, logPath)
	m.mu.Unlock()
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		m.mu.Lock()
		m.exitErr = err
		m.mu.Unlock()
		close(done)
	}()
	return m.waitReady(ctx)
}

func (m *manager) exitedLocked() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// alive fails when the process has exited: every wait of the benchmark
// checks it, so a crashed manager ends the run at once.
func (m *manager) alive() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil {
		return fmt.Errorf("manager %s is not running", m.name)
	}
	if m.exitedLocked() {
		return fmt.Errorf("manager %s exited: %v (log: %s)", m.name, m.exitErr, m.logs[len(m.logs)-1])
	}
	return nil
}

func (m *manager) waitReady(ctx context.Context) error {
	url := "http://" + m.probe + "/readyz"
	return poll(ctx, 100*time.Millisecond, time.Minute, func() (bool, error) {
		if err := m.alive(); err != nil {
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

// kill sends SIGKILL to the manager's process group and waits for it.
func (m *manager) kill() { m.signal(syscall.SIGKILL, 0) }

// stop asks the manager to stop and kills it after a grace period.
func (m *manager) stop() { m.signal(syscall.SIGTERM, 10*time.Second) }

func (m *manager) signal(sig syscall.Signal, grace time.Duration) {
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

// pid is the running process's id.
func (m *manager) pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// sample is what the benchmark reads of a manager's metrics.
type sample struct {
	// kubeWrites is controller-runtime's rest_client_requests_total for
	// POST, PUT, PATCH and DELETE: the writes to the Kubernetes API server.
	kubeWrites int64
	// queued is every controller's workqueue_depth; active is
	// controller_runtime_active_workers: both 0 when nothing is to do.
	queued, active float64
}

func (m *manager) sample(ctx context.Context) (sample, error) {
	m.mu.Lock()
	addr := m.metrics
	m.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return sample{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sample{}, fmt.Errorf("reading the metrics of manager %s: %w", m.name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("reading the metrics of manager %s: %s", m.name, resp.Status)
	}
	return parseSample(resp.Body)
}

func (m *manager) kubeWrites(ctx context.Context) (int64, error) {
	s, err := m.sample(ctx)
	return s.kubeWrites, err
}

// parseSample reads a Prometheus text exposition.
func parseSample(r io.Reader) (sample, error) {
	var out sample
	var writes float64
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		end := strings.LastIndex(rest, "}")
		if end < 0 {
			continue
		}
		labels, value := rest[:end], strings.Fields(rest[end+1:])
		if len(value) == 0 {
			continue
		}
		var v float64
		parse := func() error {
			var err error
			if v, err = strconv.ParseFloat(value[0], 64); err != nil {
				return fmt.Errorf("metric line %q: %w", line, err)
			}
			return nil
		}
		switch name {
		case "rest_client_requests_total":
			switch labelValue(labels, "method") {
			case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
				if err := parse(); err != nil {
					return out, err
				}
				writes += v
			}
		case "workqueue_depth":
			if err := parse(); err != nil {
				return out, err
			}
			out.queued += v
		case "controller_runtime_active_workers":
			if err := parse(); err != nil {
				return out, err
			}
			out.active += v
		}
	}
	out.kubeWrites = int64(writes)
	return out, sc.Err()
}

func labelValue(labels, name string) string {
	for _, kv := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// memory returns the manager's peak and current resident set (VmHWM and
// VmRSS of /proc/PID/status), in bytes.
func (m *manager) memory() (peak, current int64, err error) {
	pid := m.pid()
	if pid == 0 {
		return 0, 0, fmt.Errorf("manager %s is not running", m.name)
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return memoryFromStatus(f)
}

func memoryFromStatus(r io.Reader) (peak, current int64, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmHWM" && k != "VmRSS") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("unexpected %s line %q", k, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if k == "VmHWM" {
			peak = n << 10
		} else {
			current = n << 10
		}
	}
	if peak == 0 {
		return 0, 0, errors.New("no VmHWM in the process status")
	}
	return peak, current, sc.Err()
}

// tail returns the last n lines of the manager's latest log.
func (m *manager) tail(n int) (string, string) {
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

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// poll calls cond every interval until it is true, fails, or timeout
// passes.
func poll(ctx context.Context, interval, timeout time.Duration, cond func() (bool, error)) error {
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
