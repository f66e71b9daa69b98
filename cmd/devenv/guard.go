package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The control plane must not outlive devenv. Three ways it could:
//
//   - the process that started devenv dies (`make demo` killed on its own):
//     devenv notices it was reparented and stops as on Ctrl-C (watchParent);
//   - devenv is killed with SIGKILL and cleans nothing up: a guard process,
//     devenv's own binary started with guardEnv set, holds the other end of
//     a pipe. devenv tells it every child's process group and every file to
//     remove; when the pipe breaks without devenv having said "done", the
//     guard kills those process groups and removes those files;
//   - a child started by devenv itself (the kube-controller-manager) also
//     gets Pdeathsig, so the kernel kills it with its parent thread.
//
// envtest starts etcd and kube-apiserver in process groups of their own, so
// the guard kills whole groups.

// guardEnv, set in the environment, makes devenv's binary run as the guard.
const guardEnv = "TENANT_OPERATOR_DEVENV_GUARD"

// guard is devenv's side of the pipe to its guard process.
type guard struct {
	mu  sync.Mutex
	w   io.WriteCloser
	cmd *exec.Cmd
}

// startGuard starts the guard process. A guard that cannot start is not
// fatal: devenv still cleans up on every exit but SIGKILL.
func startGuard() (*guard, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), guardEnv+"=1")
	// Its own process group: Ctrl-C in a terminal reaches devenv (which
	// stops everything in order), not the guard.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &guard{w: w, cmd: cmd}, nil
}

func (g *guard) send(line string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	_, _ = io.WriteString(g.w, line+"\n")
}

// killGroup asks the guard to kill pid's process group should devenv die.
func (g *guard) killGroup(pid int) { g.send("group " + strconv.Itoa(pid)) }

// remove asks the guard to remove path (a file or a directory tree).
func (g *guard) remove(path string) { g.send("remove " + path) }

// done tells the guard devenv cleaned up itself, and waits for it to exit.
func (g *guard) done() {
	if g == nil {
		return
	}
	g.send("done")
	_ = g.w.Close()
	_ = g.cmd.Wait()
}

// runGuard is the guard process: it reads instructions until its input
// ends, and cleans up unless the last one was "done".
func runGuard(in io.Reader) {
	// Signals meant for devenv's terminal or process group are not meant
	// for the guard: it leaves when its input ends.
	signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var groups []int
	var paths []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		verb, arg, _ := strings.Cut(sc.Text(), " ")
		switch verb {
		case "group":
			if pid, err := strconv.Atoi(arg); err == nil && pid > 1 {
				groups = append(groups, pid)
			}
		case "remove":
			paths = append(paths, arg)
		case "done":
			return
		}
	}
	for _, pid := range groups {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	for _, p := range paths {
		_ = os.RemoveAll(p)
	}
	fmt.Fprintf(os.Stderr, "devenv guard: devenv died; killed %d process group(s) and removed %d path(s)\n", len(groups), len(paths))
}

// childrenOf returns the PIDs of the processes whose parent is pid, read
// from /proc.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if parentOf(child) == pid {
			out = append(out, child)
		}
	}
	return out
}

// parentOf reads a process's parent PID from /proc/PID/stat (0 if unknown).
func parentOf(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields start after
	// the last ')'. They are: state, ppid, ...
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// watchParent cancels stop when the process that started devenv is gone:
// devenv is then reparented (to init or a subreaper) and its parent PID
// changes. Polling works for any parent (a multi-threaded one too, where a
// parent-death signal would fire when the starting thread ends).
func watchParent(ctx context.Context, stop context.CancelCauseFunc, interval time.Duration) {
	ppid := os.Getppid()
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if os.Getppid() != ppid {
					stop(errParentGone)
					return
				}
			}
		}
	}()
}

var errParentGone = errors.New("the process that started devenv is gone")
