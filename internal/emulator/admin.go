package emulator

import (
	"encoding/json"
	"net/http"
	"strings"
)

// adminPrefix is the emulator's own control API. It is never under /api/2, needs no token, and is
// neither faulted nor logged, so tests can always reach it.
const adminPrefix = "/_emulator/"

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) *apiError {
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, adminPrefix), "/")
	switch path {
	case "faults":
		switch r.Method {
		case http.MethodGet:
			return reply(w, http.StatusOK, faultsForWire(s.Faults()))
		case http.MethodPut:
			var f Faults
			if e := decodeBody(r, &f, false); e != nil {
				return e
			}
			if e := validateFaults(f); e != nil {
				return e
			}
			s.SetFaults(f)
			return reply(w, http.StatusOK, faultsForWire(s.Faults()))
		}
		return methodNotAllowed(w, "GET, PUT")
	case "requests":
		switch r.Method {
		case http.MethodGet:
			reqs := s.Requests()
			if reqs == nil {
				reqs = []RequestRecord{}
			}
			return reply(w, http.StatusOK, map[string]any{"requests": reqs})
		case http.MethodDelete:
			s.ResetRequests()
			return replyStatus(w, http.StatusNoContent)
		}
		return methodNotAllowed(w, "GET, DELETE")
	case "state":
		if r.Method != http.MethodGet {
			return methodNotAllowed(w, "GET")
		}
		data, err := s.redactedState()
		if err != nil {
			return errorf(http.StatusInternalServerError, codeInternal, "encoding the state failed: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(json.RawMessage(append(data, '\n')))
		return nil
	case "usages":
		return s.serveAdminUsages(w, r)
	case "registrations":
		return s.serveAdminRegistrations(w, r)
	case "bootstrap":
		if r.Method != http.MethodGet {
			return methodNotAllowed(w, "GET")
		}
		b := s.Bootstrap()
		b.ClientSecret = ""
		return reply(w, http.StatusOK, map[string]string{"client_id": b.ClientID, "tenant_id": b.TenantID, "tenant_name": b.TenantName, "root_tenant_id": b.RootTenantID})
	}
	return errorf(http.StatusNotFound, 0, "unknown emulator admin path %s", r.URL.Path)
}

// methodNotAllowed refuses the request's method and names the allowed ones in the Allow header.
func methodNotAllowed(w http.ResponseWriter, allow string) *apiError {
	w.Header().Set("Allow", allow)
	return errorf(http.StatusMethodNotAllowed, 0, "method not allowed; allowed: %s", allow)
}

func validateFaults(f Faults) *apiError {
	for name, v := range map[string]float64{"errorRate": f.ErrorRate, "throttleRate": f.ThrottleRate, "dropAfterCommitRate": f.DropAfterCommitRate} {
		if v < 0 || v > 1 {
			return errBadRequest("%s must be between 0 and 1", name)
		}
	}
	if f.ErrorStatus != 0 && f.ErrorStatus != http.StatusInternalServerError && f.ErrorStatus != http.StatusServiceUnavailable {
		return errBadRequest("errorStatus must be 500 or 503 (0 means 500)")
	}
	if f.Latency < 0 || f.Jitter < 0 {
		return errBadRequest("latency and jitter must not be negative")
	}
	if f.RateLimit < 0 || f.RetryAfterSeconds < 0 {
		return errBadRequest("rateLimit and retryAfterSeconds must not be negative")
	}
	for _, m := range f.ErrorMethods {
		switch strings.ToUpper(m) {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch:
		default:
			return errBadRequest("errorMethods: %q is not a method of the API", m)
		}
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
	if f.ErrorMethods == nil {
		f.ErrorMethods = []string{}
	}
	return f
}
