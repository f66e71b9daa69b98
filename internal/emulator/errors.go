package emulator

import (
	"fmt"
	"net/http"
)

// Platform codes from the reference's list; the emulator answers with the ones its rules can provoke.
const (
	codeInternal            = 1000
	codeVersionMismatch     = 1001
	codeAccessDenied        = 1002
	codeParentDisabled      = 1003
	codeNameConflict        = 1004
	codeTenantNotFound      = 1005
	codeTenantEnabled       = 1006
	codeMoveUnderOwnChild   = 1007
	codeMoveWithinCustomer  = 1008
	codeTenantLocked        = 1012
	codeMoveUnderDisabled   = 1013
	codeMoveItemsNotAvail   = 1014
	codeStorageInUse        = 1016
	codeDefaultStorage      = 1017
	codeItemNotAvailable    = 1021
	codeHardQuotaExceeded   = 1022
	codeItemDependency      = 1023
	codeCannotEnableService = 1026
	codeBusinessRules       = 1027
	codeLocationConflict    = 1031
)

// errorDomain is what the vendor puts in every error body.
const errorDomain = "PlatformAccountServer"

// ErrorBody is the wire shape of every non-token error.
type ErrorBody struct {
	Error ErrorObject `json:"error"`
}

// ErrorObject is the inner object of ErrorBody. Code is a platform code or, when none applies, the HTTP status.
type ErrorObject struct {
	Code    int            `json:"code"`
	Message string         `json:"message"`
	Details ErrorDetails   `json:"details"`
	Context map[string]any `json:"context"`
	Domain  string         `json:"domain"`
}

// ErrorDetails carries the human hint of an error.
type ErrorDetails struct {
	Info string `json:"info"`
}

// apiError lets validation helpers and handlers return a ready answer instead of writing it
// themselves, so a handler stops at the first failure with `return e` (see apiHandler).
type apiError struct {
	Status  int
	Code    int // platform code; 0 means "use Status"
	Message string
	Info    string
	Context map[string]any
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d/%d: %s", e.Status, e.code(), e.Message)
}

func (e *apiError) code() int {
	if e.Code == 0 {
		return e.Status
	}
	return e.Code
}

// errorf builds an apiError; code 0 means the HTTP status doubles as the code.
func errorf(status, code int, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errBadRequest(format string, args ...any) *apiError {
	return errorf(http.StatusBadRequest, 0, format, args...)
}

func errNotFound(what, id string) *apiError {
	return errorf(http.StatusNotFound, 0, "%s %s not found", what, id)
}

func errForbidden() *apiError {
	return errorf(http.StatusForbidden, codeAccessDenied, "access denied: the object is outside the caller's tenant subtree")
}

func errStaleVersion(have, got int64) *apiError {
	e := errorf(http.StatusConflict, codeVersionMismatch, "version mismatch: current version is %d, request has %d", have, got)
	e.Context = map[string]any{"current_version": have}
	return e
}

// writeError answers with the reference's error body. platformCode 0 means the HTTP status is the code.
func writeError(w http.ResponseWriter, httpStatus, platformCode int, message string) {
	writeAPIError(w, &apiError{Status: httpStatus, Code: platformCode, Message: message})
}

// writeAPIError answers with e rendered as the reference's error body.
func writeAPIError(w http.ResponseWriter, e *apiError) {
	info := e.Info
	if info == "" {
		info = e.Message
	}
	ctx := e.Context
	if ctx == nil {
		ctx = map[string]any{}
	}
	writeJSON(w, e.Status, ErrorBody{Error: ErrorObject{
		Code:    e.code(),
		Message: e.Message,
		Details: ErrorDetails{Info: info},
		Context: ctx,
		Domain:  errorDomain,
	}})
}

// OAuthError is the body of token endpoint errors (RFC 6749 section 5.2), which differs from ErrorBody.
type OAuthError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="account-server"`)
	}
	writeJSON(w, status, OAuthError{Error: code, ErrorDescription: description})
}
