package harness

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Sample is what the harness reads of a manager's metrics.
type Sample struct {
	// KubeWrites is controller-runtime's rest_client_requests_total for
	// POST, PUT, PATCH and DELETE: the writes to the Kubernetes API server.
	KubeWrites int64
	// Queued is every controller's workqueue_depth; Active is
	// controller_runtime_active_workers: both 0 when nothing is to do.
	Queued, Active float64
	// ServerRequests counts what the process sent to account servers:
	// tenant_operator_accountserver_requests_total (every answer, and
	// "error" when none came) plus the token requests
	// (tenant_operator_accountserver_token_refreshes_total).
	ServerRequests int64
}

// ParseSample reads a Prometheus text exposition.
func ParseSample(r io.Reader) (Sample, error) {
	var out Sample
	var writes, server float64
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
			switch LabelValue(labels, "method") {
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
			out.Queued += v
		case "controller_runtime_active_workers":
			if err := parse(); err != nil {
				return out, err
			}
			out.Active += v
		case "tenant_operator_accountserver_requests_total", "tenant_operator_accountserver_token_refreshes_total":
			if err := parse(); err != nil {
				return out, err
			}
			server += v
		}
	}
	out.KubeWrites = int64(writes)
	out.ServerRequests = int64(server)
	return out, sc.Err()
}

// LabelValue finds one label's value in the labels of a metric line.
func LabelValue(labels, name string) string {
	for kv := range strings.SplitSeq(labels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == name {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// MemoryFromStatus reads VmHWM and VmRSS of a /proc/PID/status, in bytes.
func MemoryFromStatus(r io.Reader) (peak, current int64, err error) {
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
