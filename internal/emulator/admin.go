package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
)

// adminPrefix is the emulator's own control API. It is never under /api/2, needs no token, and is
// neither faulted nor logged, so tests can always reach it.
const adminPrefix = "/_emulator/"

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	switch path {
	case "faults":
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, http.StatusOK, faultsForWire(s.Faults()))
		case http.MethodPut:
			var f Faults
			if e := decodeBody(r, &f, false); e != nil {
				writeAPIError(w, e)
				return
			}
			if e := validateFaults(f); e != nil {
				writeAPIError(w, e)
				return
			}
			s.SetFaults(f)
			writeJSON(w, http.StatusOK, faultsForWire(s.Faults()))
		default:
			methodNotAllowed(w, "GET, PUT")
		}
	case "requests":
		switch r.Method {
		case http.MethodGet:
			reqs := s.Requests()
			if reqs == nil {
				reqs = []RequestRecord{}
			}
			writeJSON(w, http.StatusOK, map[string]any{"requests": reqs})
		case http.MethodDelete:
			s.ResetRequests()
			w.WriteHeader(http.StatusNoContent)
		default:
			methodNotAllowed(w, "GET, DELETE")
		}
	case "state":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		data, err := s.redactedState()
		if err != nil {
			writeError(w, http.StatusInternalServerError, codeInternal, "encoding the state failed: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(json.RawMessage(append(data, '\n')))
	case "usages":
		s.serveAdminUsages(w, r)
	case "bootstrap":
		if r.Method != http.MethodGet {
			methodNotAllowed(w, "GET")
			return
		}
		b := s.Bootstrap()
		b.ClientSecret = ""
		writeJSON(w, http.StatusOK, map[string]string{"client_id": b.ClientID, "tenant_id": b.TenantID, "tenant_name": b.TenantName, "root_tenant_id": b.RootTenantID})
	default:
		writeError(w, http.StatusNotFound, 0, "unknown emulator admin path "+r.URL.Path)
	}
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, 0, "method not allowed; allowed: "+allow)
}

func validateFaults(f Faults) *apiError {
	for name, v := range map[string]float64{"errorRate": f.ErrorRate, "throttleRate": f.ThrottleRate, "dropAfterCommitRate": f.DropAfterCommitRate} {
		if v < 0 || v > 1 {
			return errBadRequest("%s must be between 0 and 1", name)
		}
	}
	if f.Latency < 0 || f.Jitter < 0 {
		return errBadRequest("latency and jitter must not be negative")
	}
	if f.RateLimit < 0 || f.RetryAfterSeconds < 0 {
		return errBadRequest("rateLimit and retryAfterSeconds must not be negative")
	}
	for _, m := range f.DropAfterCommitMethods {
		switch strings.ToUpper(m) {
		case http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		default:
			return errBadRequest("dropAfterCommitMethods: %q is not a write method", m)
		}
	}
	return nil
}

// faultsForWire shows an unset method list as [] rather than null, so the answer can be sent back as is.
func faultsForWire(f Faults) Faults {
	if f.DropAfterCommitMethods == nil {
		f.DropAfterCommitMethods = []string{}
	}
	return f
}
