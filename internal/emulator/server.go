// Package emulator is an in-process stand-in for the vendor's account server (base path /api/2):
// an http.Handler with an in-memory store that follows docs/reference/account-server.md, plus a fault
// injector and a request log under /_emulator/ so tests can break it and count what a client did.
//
// # How the package is organised (for code that adds endpoints)
//
// Start with routes.go. Its table lists every /api/2 endpoint, grouped by area, with its Go 1.22
// http.ServeMux pattern ("METHOD /api/2/path/{var}"), whether it is public and its handler: a
// new endpoint gets its line there and its handler in the file of its area. New registers the
// table and panics on a pattern the official wire schema (internal/wire) does not have. Every
// route needs a bearer token (the middleware answers 401 and records the request before the
// handler runs) except the public ones, the /idp token endpoints.
//
// A handler is an apiHandler (routes.go), the adapter between the handlers and net/http: it
// writes its answer with reply or replyStatus, or returns an *apiError that the adapter renders
// as the vendor's error body, so a handler stops at the first refusal with `return e`:
//
//	func (s *Server) getPricing(w http.ResponseWriter, r *http.Request) *apiError {
//		s.mu.Lock()
//		defer s.mu.Unlock()
//		t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), false)
//		if e != nil {
//			return e
//		}
//		return reply(w, http.StatusOK, s.pricingOf(t))
//	}
//
// The public token endpoints are plain http.HandlerFuncs because they answer in the OAuth error
// shape (RFC 6749), not in the vendor's.
//
// paging.go reads queries: queryBool, queryVersion, uuidList and csvList for single parameters;
// parseListQuery for what the lists of tenants and users share (limit, lod, updated_since,
// allow_deleted, uuids, id filters); pageQuery, pageLimit and paginate for the opaque `after`
// cursor; and serveBatch answers the GETs that name their objects in a list of ids.
//
// Helpers every handler uses:
//   - s.caller(r) → callerInfo{ClientID, TenantID}: the authenticated API client and its tenant;
//   - s.decodeJSON(r, &v, allowUnknown) *apiError: 415 on a wrong content type, 400 on bad JSON or,
//     unless allowUnknown, on an unknown field;
//   - errBadRequest, errNotFound, errForbidden, errorf (errors.go) build the *apiError to return;
//   - with s.mu held: s.inScope(callerTenantID, targetTenantID), s.lookupTenant(c, id, allowDeleted),
//     s.nextVersion(), s.timestamp(), s.st (the store, see store.go).
//
// Locking: one mutex (s.mu) guards the store; a handler takes it once and keeps it until it has
// decided its answer, so every request is atomic. The fault settings and the request log have
// their own small locks because they are not part of the remote state.
package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/tenant-operator/tenant-operator/internal/wire"
)

// Options configure a Server.
type Options struct {
	// ClientID and ClientSecret are the bootstrap API client's credentials; generated when empty.
	ClientID, ClientSecret string
	// RootTenantID is the root tenant's id; generated when empty.
	RootTenantID string
	// TokenTTL is the lifetime of access tokens; default 2h, the vendor's.
	TokenTTL time.Duration
	// InstantReports makes stored reports appear at once instead of after a few seconds.
	InstantReports bool
	Faults         Faults
	// Now is the clock; default time.Now. Tests move it to expire tokens and cursors.
	Now func() time.Time
	// RequestLogLimit is how many requests the log keeps (oldest dropped first); default 100000.
	RequestLogLimit int
	// CheckResponse, when set, is called with every /api/2 answer checked against the official
	// wire schema of its operation (internal/wire). Tests set it to fail on any answer the real
	// server would not give; nil skips the check.
	CheckResponse func(ResponseReport)
}

// ResponseReport is one answer checked against the official schema.
type ResponseReport struct {
	// Operation is "METHOD /template" as the official document names it.
	Operation string
	Status    int
	// Violation is nil when the answer matches the document (or one of the assumptions the
	// emulator makes where the document is silent, see assumedStatus).
	Violation error
}

// Faults make the emulator misbehave the way a real server under load does.
type Faults struct {
	Latency   Duration `json:"latency"`
	Jitter    Duration `json:"jitter"`
	ErrorRate float64  `json:"errorRate"`
	// ErrorStatus is the HTTP status of errorRate's answers: 500 (0 means 500) or 503, as a server
	// that is down answers through its load balancer. An outage is errorRate 1 with 503.
	ErrorStatus int `json:"errorStatus"`
	// ErrorMethods lists the methods errorRate applies to; empty means every method.
	ErrorMethods      []string `json:"errorMethods"`
	ThrottleRate      float64  `json:"throttleRate"`
	RetryAfterSeconds int      `json:"retryAfterSeconds"`
	// RateLimit is requests per second per client id; beyond it 429 with Retry-After. 0 = unlimited.
	RateLimit float64 `json:"rateLimit"`
	// DropAfterCommitRate is the share of committed writes whose answer is never sent: the
	// connection is closed after the store changed, as when a proxy dies mid-response.
	DropAfterCommitRate float64 `json:"dropAfterCommitRate"`
	// DropAfterCommitMethods lists the write methods the drop applies to; empty means POST, PUT, DELETE.
	DropAfterCommitMethods []string `json:"dropAfterCommitMethods"`
	// ReportsNotReady makes POST /reports answer 400 "usage history is not ready", as the server
	// does during its nightly usage processing window.
	ReportsNotReady bool `json:"reportsNotReady"`
}

// Duration is a time.Duration that travels in JSON as a Go duration string ("50ms").
type Duration time.Duration

// MarshalJSON writes the duration as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads "1.5s", or a number of nanoseconds for convenience.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("duration must be a string like \"50ms\": %w", err)
	}
	*d = Duration(n)
	return nil
}

// RequestRecord is one /api/2 request in the request log.
type RequestRecord struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Query is the raw query string (uuids, updated_since, ...); empty when none.
	Query  string `json:"query,omitempty"`
	Status int    `json:"status"`
	// Dropped says the write committed but its answer was never sent (dropAfterCommitRate).
	Dropped bool `json:"dropped,omitempty"`
	// Tenants are, for GET /tenants/offering_items, the tenants whose items the answer held: the
	// request names none, so the log says whom it read.
	Tenants []string `json:"tenants,omitempty"`
}

// Server is the emulated account server. It implements http.Handler.
type Server struct {
	opts             Options
	now              func() time.Time
	mux              *http.ServeMux
	publicRoutes     map[string]bool // patterns that need no bearer token; written only in New
	oauthRoutes      map[string]bool // public patterns answering in the OAuth error shape; written only in New
	patterns         []string        // every pattern registered, in order; written only in New
	explicitClientID bool
	explicitSecret   bool

	spec *wire.Spec

	mu sync.Mutex
	st *store
	// otts are the live one-time tokens by SHA-256 (ott.go): in memory only, never saved.
	otts map[string]ottRecord

	faultMu  sync.Mutex
	faults   Faults
	limiters map[string]*rate.Limiter

	logMu   sync.Mutex
	log     []RequestRecord
	logNext int
}

// providerTenantName is the partner tenant the bootstrap client lives in.
const providerTenantName = "Provider"

// New makes a server with a seeded store: a root tenant, a partner tenant "Provider" under it, and
// the bootstrap API client in Provider.
func New(opts Options) *Server {
	s := &Server{
		opts:             opts,
		now:              opts.Now,
		mux:              http.NewServeMux(),
		publicRoutes:     map[string]bool{},
		oauthRoutes:      map[string]bool{},
		explicitClientID: opts.ClientID != "",
		explicitSecret:   opts.ClientSecret != "",
		limiters:         map[string]*rate.Limiter{},
		faults:           opts.Faults,
		spec:             wire.MustLoad(),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.TokenTTL <= 0 {
		s.opts.TokenTTL = 2 * time.Hour
	}
	if s.opts.RequestLogLimit <= 0 {
		s.opts.RequestLogLimit = 100000
	}
	if s.opts.ClientID == "" {
		s.opts.ClientID = newID()
	}
	if s.opts.ClientSecret == "" {
		s.opts.ClientSecret = randomToken(24)
	}
	if s.opts.RootTenantID == "" {
		s.opts.RootTenantID = newID()
	}
	for _, rt := range s.routeTable() {
		s.mustHaveSchema(rt.pattern)
		if rt.public {
			s.publicRoutes[rt.pattern] = true
		}
		if rt.oauth {
			s.oauthRoutes[rt.pattern] = true
		}
		s.patterns = append(s.patterns, rt.pattern)
		s.mux.Handle(rt.pattern, rt.handler)
	}
	s.mu.Lock()
	s.seed()
	s.mu.Unlock()
	return s
}

// seed makes the root tenant, the Provider partner and the bootstrap client. Call with s.mu held.
func (s *Server) seed() {
	s.st = newStore()
	root := s.newTenantObject(s.opts.RootTenantID, "Root", s.opts.RootTenantID, KindRoot)
	s.insertTenant(root)
	provider := s.newTenantObject(newID(), providerTenantName, root.ID, KindPartner)
	s.insertTenant(provider)
	s.st.Bootstrap = Bootstrap{TenantID: provider.ID, TenantName: provider.Name, RootTenantID: root.ID}
	s.ensureBootstrapClient(s.opts.ClientID, s.opts.ClientSecret)
}

// Bootstrap tells the seeded client's credentials and the tenant it acts in.
func (s *Server) Bootstrap() Bootstrap {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.Bootstrap
}

// SetFaults replaces the fault settings.
func (s *Server) SetFaults(f Faults) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	if f.RateLimit != s.faults.RateLimit {
		s.limiters = map[string]*rate.Limiter{}
	}
	s.faults = f
}

// Faults returns the fault settings.
func (s *Server) Faults() Faults {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f := s.faults
	f.DropAfterCommitMethods = slices.Clone(f.DropAfterCommitMethods)
	f.ErrorMethods = slices.Clone(f.ErrorMethods)
	return f
}

// Requests returns the request log, oldest first.
func (s *Server) Requests() []RequestRecord {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(s.log) < s.opts.RequestLogLimit {
		return slices.Clone(s.log)
	}
	out := make([]RequestRecord, 0, len(s.log))
	out = append(out, s.log[s.logNext:]...)
	return append(out, s.log[:s.logNext]...)
}

// ResetRequests empties the request log; the store is untouched.
func (s *Server) ResetRequests() {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.log = nil
	s.logNext = 0
}

func (s *Server) record(rec RequestRecord) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(s.log) < s.opts.RequestLogLimit {
		s.log = append(s.log, rec)
		return
	}
	s.log[s.logNext] = rec
	s.logNext = (s.logNext + 1) % len(s.log)
}

// routes lists every pattern the server serves ("METHOD /api/2/path/{var}"), in registration order.
func (s *Server) routes() []string { return slices.Clone(s.patterns) }

// mustHaveSchema refuses to serve an /api/2 route that the official document does not have: the
// emulator must never accept what the real server would not know.
func (s *Server) mustHaveSchema(pattern string) {
	method, p, _ := strings.Cut(pattern, " ")
	if op, _ := s.spec.Match(method, strings.TrimPrefix(p, "/api/2")); op == nil {
		panic(fmt.Sprintf("emulator: route %q has no official wire schema in internal/wire/schemas", pattern))
	}
}

type ctxKey int

const (
	callerKey ctxKey = iota
	// recordKey holds the request's *RequestRecord, for handlers that add to it.
	recordKey
)

// recordOf returns the log entry of a request, or nil.
func recordOf(r *http.Request) *RequestRecord {
	rec, _ := r.Context().Value(recordKey).(*RequestRecord)
	return rec
}

// callerInfo is who is calling: the API client the token was issued to and that client's tenant.
type callerInfo struct {
	ClientID string
	TenantID string
}

// caller returns the authenticated API client of an /api/2 request.
func (s *Server) caller(r *http.Request) callerInfo {
	if c, ok := r.Context().Value(callerKey).(*callerInfo); ok {
		return *c
	}
	return callerInfo{}
}

const apiPrefix = "/api/2/"

// ServeHTTP routes /_emulator/ to the admin API and everything else through the emulated server's
// middleware: request log, latency, auth, rate limit, injected errors, drop after commit.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		apiHandler(s.serveAdmin).ServeHTTP(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, apiPrefix) {
		// Not part of the emulated API, so neither faulted nor logged.
		writeError(w, http.StatusNotFound, 0, fmt.Sprintf("path %s not found; the API is under %s", r.URL.Path, apiPrefix))
		return
	}
	rec := RequestRecord{Time: s.now(), Method: r.Method, Path: r.URL.Path, Query: redactedQuery(r.URL)}
	bw := &bufferedWriter{header: http.Header{}}
	// The official operation of the request, found once: its schemas check
	// the request and, in tests, the answer.
	op, params := s.spec.Match(r.Method, strings.TrimPrefix(r.URL.Path, "/api/2"))
	dropped := s.serveAPI(bw, r, &rec, op, params)
	rec.Status = bw.statusCode()
	if op != nil {
		s.checkResponse(op, bw)
	}
	if dropped {
		rec.Dropped = true
		s.record(rec)
		abortConnection(w)
		return
	}
	s.record(rec)
	bw.flushTo(w)
}

// serveAPI answers into bw and reports whether the answer must be dropped.
func (s *Server) serveAPI(bw *bufferedWriter, r *http.Request, rec *RequestRecord, op *wire.Operation, params map[string]string) (drop bool) {
	faults := s.Faults()
	if !delay(r.Context(), faults) {
		writeError(bw, http.StatusServiceUnavailable, 0, "request cancelled while delayed")
		return false
	}
	_, pattern := s.mux.Handler(r)
	if pattern == "" {
		s.answerUnrouted(bw, r)
		return false
	}
	r.Body = http.MaxBytesReader(bw, r.Body, maxBodyBytes)
	clientID := ""
	if s.publicRoutes[pattern] {
		clientID = claimedClientID(r)
		rec.Client = clientID
	} else {
		c, err := s.authenticate(r)
		if err != nil {
			writeAPIError(bw, err)
			return false
		}
		clientID = c.ClientID
		rec.Client = c.ClientID
		r = r.WithContext(context.WithValue(r.Context(), callerKey, c))
	}
	if retry, limited := s.rateLimited(clientID, faults); limited {
		bw.Header().Set("Retry-After", strconv.Itoa(retry))
		writeError(bw, http.StatusTooManyRequests, http.StatusTooManyRequests, "rate limit exceeded")
		return false
	}
	if faults.ThrottleRate > 0 && rand.Float64() < faults.ThrottleRate {
		bw.Header().Set("Retry-After", strconv.Itoa(max(faults.RetryAfterSeconds, 1)))
		writeError(bw, http.StatusTooManyRequests, http.StatusTooManyRequests, "too many requests (injected)")
		return false
	}
	if faults.ErrorRate > 0 && methodIn(faults.ErrorMethods, r.Method) && rand.Float64() < faults.ErrorRate {
		if faults.ErrorStatus != 0 && faults.ErrorStatus != http.StatusInternalServerError {
			writeError(bw, faults.ErrorStatus, faults.ErrorStatus, strings.ToLower(http.StatusText(faults.ErrorStatus))+" (injected)")
			return false
		}
		writeError(bw, http.StatusInternalServerError, codeInternal, "internal error (injected)")
		return false
	}
	if !s.validRequest(bw, r, op, params, s.oauthRoutes[pattern]) {
		return false
	}
	s.mux.ServeHTTP(bw, r.WithContext(context.WithValue(r.Context(), recordKey, rec)))
	status := bw.statusCode()
	committed := status >= 200 && status < 300
	// Token calls change nothing a client could observe later, so losing their answer tests nothing.
	if !committed || s.publicRoutes[pattern] || faults.DropAfterCommitRate <= 0 {
		return false
	}
	methods := faults.DropAfterCommitMethods
	if len(methods) == 0 {
		methods = []string{http.MethodPost, http.MethodPut, http.MethodDelete}
	}
	if !slices.ContainsFunc(methods, func(m string) bool { return strings.EqualFold(m, r.Method) }) {
		return false
	}
	return rand.Float64() < faults.DropAfterCommitRate
}

const maxBodyBytes = 16 << 20

// methodIn says whether a fault limited to methods (none: every method) applies to method.
func methodIn(methods []string, method string) bool {
	return len(methods) == 0 || slices.ContainsFunc(methods, func(m string) bool { return strings.EqualFold(m, method) })
}

// answerUnrouted gives 404/405 the vendor's error body instead of ServeMux's plain text.
func (s *Server) answerUnrouted(w http.ResponseWriter, r *http.Request) {
	h, _ := s.mux.Handler(r)
	probe := &bufferedWriter{header: http.Header{}}
	h.ServeHTTP(probe, r)
	status := probe.statusCode()
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch status {
	case http.StatusMethodNotAllowed:
		writeError(w, status, 0, fmt.Sprintf("method %s is not allowed on %s", r.Method, r.URL.Path))
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		for k, v := range probe.header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
	default:
		writeError(w, http.StatusNotFound, 0, fmt.Sprintf("path %s not found", r.URL.Path))
	}
}

// delay sleeps for the configured latency; false means the client went away first.
func delay(ctx context.Context, f Faults) bool {
	d := time.Duration(f.Latency)
	if f.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(f.Jitter) + 1))
	}
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// rateLimited runs the per-client token bucket on the injected clock and tells how long to wait.
func (s *Server) rateLimited(clientID string, f Faults) (retryAfter int, limited bool) {
	if f.RateLimit <= 0 {
		return 0, false
	}
	s.faultMu.Lock()
	lim, ok := s.limiters[clientID]
	if !ok {
		lim = rate.NewLimiter(rate.Limit(f.RateLimit), max(1, int(math.Ceil(f.RateLimit))))
		s.limiters[clientID] = lim
	}
	s.faultMu.Unlock()
	now := s.now()
	if lim.AllowN(now, 1) {
		return 0, false
	}
	res := lim.ReserveN(now, 1)
	wait := res.DelayFrom(now)
	res.CancelAt(now)
	return max(1, int(math.Ceil(wait.Seconds()))), true
}

// bufferedWriter holds the whole answer so the middleware can still decide to drop it.
type bufferedWriter struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	b.body = append(b.body, p...)
	return len(p), nil
}

func (b *bufferedWriter) statusCode() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

func (b *bufferedWriter) flushTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.statusCode())
	_, _ = w.Write(b.body)
}

// abortConnection closes the connection without an answer. HTTP/2 cannot be hijacked; there the
// stream is reset instead, which a client sees the same way.
func abortConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		conn, buf, err := hj.Hijack()
		if err == nil {
			if buf != nil {
				_ = buf.Flush()
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(`{"error":{"code":1000,"message":"encoding the answer failed","details":{"info":""},"context":{},"domain":"PlatformAccountServer"}}`)
		code = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
	_, _ = w.Write([]byte("\n"))
}

// decodeJSON reads a JSON request body into v. allowUnknown=false refuses unknown fields as the
// vendor's server does on create and update bodies.
func (s *Server) decodeJSON(r *http.Request, v any, allowUnknown bool) *apiError {
	if e := requireContentType(r, "application/json"); e != nil {
		return e
	}
	return decodeBody(r, v, allowUnknown)
}

// decodeBody is decodeJSON without the content type check, for the admin API that curl users
// drive without headers.
func decodeBody(r *http.Request, v any, allowUnknown bool) *apiError {
	dec := json.NewDecoder(r.Body)
	if !allowUnknown {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return errorf(http.StatusRequestEntityTooLarge, 0, "request body is larger than %d bytes", tooBig.Limit)
		case errors.Is(err, io.EOF):
			return errBadRequest("request body is empty")
		default:
			return errBadRequest("invalid request body: %v", err)
		}
	}
	if dec.More() {
		return errBadRequest("invalid request body: more than one JSON value")
	}
	return nil
}

// requireContentType answers 415 unless the request body has the given media type.
func requireContentType(r *http.Request, want string) *apiError {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || !strings.EqualFold(mt, want) {
		return errorf(http.StatusUnsupportedMediaType, 0, "unsupported content type %q, expected %s", ct, want)
	}
	return nil
}

// inScope says whether an API client of callerTenantID may act on targetTenantID: the target must be
// the caller's tenant or below it, and a tenant with ancestral_access=false is visible only to itself
// and its direct parent. Call with s.mu held.
func (s *Server) inScope(callerTenantID, targetTenantID string) bool {
	id := targetTenantID
	// The depth bound only protects against a corrupt state file with a parent cycle.
	for range 1000 {
		if id == callerTenantID {
			return true
		}
		t, ok := s.st.Tenants[id]
		if !ok || t.ParentID == t.ID {
			return false
		}
		if !t.AncestralAccess && t.ParentID != callerTenantID {
			return false
		}
		id = t.ParentID
	}
	return false
}

// lookupTenant finds a tenant the caller may see: 404 when missing (or soft-deleted unless
// allowDeleted), 403 when outside the caller's subtree. Call with s.mu held.
func (s *Server) lookupTenant(c callerInfo, id string, allowDeleted bool) (*Tenant, *apiError) {
	t, ok := s.st.Tenants[id]
	if !ok || (t.DeletedAt != nil && !allowDeleted) {
		e := errNotFound("tenant", id)
		e.Code = codeTenantNotFound
		return nil, e
	}
	if !s.inScope(c.TenantID, id) {
		return nil, errForbidden()
	}
	return t, nil
}

// readTenant finds a live tenant the caller may see, for serveBatch. Call with s.mu held.
func (s *Server) readTenant(c callerInfo, id string) (*Tenant, *apiError) {
	return s.lookupTenant(c, id, false)
}

// checkVersion answers 409 (1001) when a client wrote with a version other than the current one.
func checkVersion(have, got int64) *apiError {
	if have != got {
		return errStaleVersion(have, got)
	}
	return nil
}

// validUUID says whether v is a lowercase UUID as the vendor's patterns require.
func validUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	_, err := uuid.Parse(v)
	return err == nil && strings.ToLower(v) == v
}
