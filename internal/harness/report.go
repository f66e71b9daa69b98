package harness

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// MachineInfo says where a run happened, for the results of make bench and make chaos.
type MachineInfo struct {
	CPUs, CPUModel, GoVersion, Commit, Date string
}

// Machine reads it off this machine and repository.
func Machine() MachineInfo {
	cmd := func(name string, args ...string) string {
		out, err := exec.Command(name, args...).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	m := MachineInfo{
		CPUs:      cmd("nproc"),
		GoVersion: cmd("go", "version"),
		Commit:    cmd("git", "rev-parse", "--short", "HEAD"),
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
	}
	if m.CPUs == "" {
		m.CPUs = fmt.Sprint(runtime.NumCPU())
	}
	if m.GoVersion == "" {
		m.GoVersion = runtime.Version()
	}
	if m.Commit == "" {
		m.Commit = "unknown"
	} else if cmd("git", "status", "--porcelain", "--untracked-files=no") != "" {
		m.Commit += " with uncommitted changes"
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		_ = f.Close()
	}
	return m
}

// OperationPath turns a request path into its route: /api/2 dropped, ids
// replaced by {id}.
func OperationPath(p string) string {
	segs := strings.Split(strings.TrimPrefix(p, "/api/2"), "/")
	for i, s := range segs {
		if LooksLikeID(s) {
			segs[i] = "{id}"
		}
	}
	return strings.Join(segs, "/")
}

// LooksLikeID says whether s is a lowercase UUID.
func LooksLikeID(s string) bool {
	if len(s) != 36 || strings.Count(s, "-") != 4 {
		return false
	}
	for _, c := range s {
		if c != '-' && (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// FmtInt writes 10000 as 10,000.
func FmtInt(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	out = append([]string{s}, out...)
	if neg {
		return "-" + strings.Join(out, ",")
	}
	return strings.Join(out, ",")
}
