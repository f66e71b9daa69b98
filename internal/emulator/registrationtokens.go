package emulator

// Registration tokens: what a customer's machines register their backup agents with. The official
// document has only their creation, their listing and their revocation; the registration itself
// belongs to another API, so the emulator stands in for it with POST /_emulator/registrations.
//
// Assumptions (NOT IN THE OFFICIAL SCHEMA), listed in docs/wire.md:
//   - expires_at is created_at plus expires_in;
//   - an expired token can no longer register anything, but is still listed until it is revoked;
//   - a revoked (deleted) token is no longer listed, and DELETE of it answers 404;
//   - the deprecated GET /registration_tokens lists the tokens of every tenant of the caller's
//     subtree; the deprecated POST /registration_tokens makes one in its tenant_id, by default the
//     caller's tenant;
//   - the value is three groups of four upper-case letters and digits, unique among live tokens.

import (
	"crypto/rand"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// maxRegistrationTokenSeconds is one year: "less than or equal to one year", the document says.
const maxRegistrationTokenSeconds = 365 * 24 * 3600

// RegistrationToken is a registration token as the API answers with it (the official
// registrationToken, a closed object: nothing may be added).
type RegistrationToken struct {
	ID         int64    `json:"id"`
	Token      string   `json:"token"`
	CreatedAt  string   `json:"created_at"`
	ExpiresAt  string   `json:"expires_at"`
	TenantID   string   `json:"tenant_id"`
	TenantUUID string   `json:"tenant_uuid"`
	Scopes     []string `json:"scopes"`
}

// RegistrationTokenList is the answer of the listings.
type RegistrationTokenList struct {
	Items []RegistrationToken `json:"items"`
}

// regTokenRecord is a registration token in the store. Revoked tokens stay, marked, so the
// registration stand-in can say why it refuses one.
type regTokenRecord struct {
	ID        int64      `json:"id"`
	Token     string     `json:"token"`
	TenantID  string     `json:"tenant_id"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	Scopes    []string   `json:"scopes"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Registration is one attempt to register an agent with a token, through the stand-in.
type Registration struct {
	Time time.Time `json:"time"`
	// TokenID is the token's id; 0 when the token is unknown.
	TokenID  int64  `json:"token_id"`
	TenantID string `json:"tenant_id,omitempty"`
	Accepted bool   `json:"accepted"`
	// Refusal says why a registration was refused: "unknown", "revoked" or "expired".
	Refusal string `json:"refusal,omitempty"`
}

// RegistrationTokenInfo is what tests read of a token: everything, value included (the admin API
// shows no values).
type RegistrationTokenInfo struct {
	ID        int64
	Token     string
	TenantID  string
	CreatedAt time.Time
	ExpiresAt time.Time
	Scopes    []string
	RevokedAt *time.Time
}

type regTokenCreateRequest struct {
	TenantID  *string  `json:"tenant_id"`
	ExpiresIn *int64   `json:"expires_in"`
	Scopes    []string `json:"scopes"`
}

// renderRegToken is the wire form of a token. Call with s.mu held (the tenant's number).
func (s *Server) renderRegToken(t *regTokenRecord) RegistrationToken {
	return RegistrationToken{
		ID:         t.ID,
		Token:      t.Token,
		CreatedAt:  formatTime(t.CreatedAt),
		ExpiresAt:  formatTime(t.ExpiresAt),
		TenantID:   strconv.FormatInt(s.tenantNumber(t.TenantID), 10),
		TenantUUID: t.TenantID,
		Scopes:     cloneOrEmpty(t.Scopes),
	}
}

const regTokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newRegTokenValue makes a value no live token has. Call with s.mu held.
func (s *Server) newRegTokenValue() string {
	for {
		b := make([]byte, 0, 14)
		for i := range 12 {
			if i > 0 && i%4 == 0 {
				b = append(b, '-')
			}
			n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(regTokenAlphabet))))
			b = append(b, regTokenAlphabet[n.Int64()])
		}
		v := string(b)
		if !slices.ContainsFunc(s.liveRegTokens(), func(t *regTokenRecord) bool { return t.Token == v }) {
			return v
		}
	}
}

// liveRegTokens lists the tokens not revoked, by id. Call with s.mu held.
func (s *Server) liveRegTokens() []*regTokenRecord {
	var out []*regTokenRecord
	for _, t := range s.ext().RegTokens {
		if t.RevokedAt == nil {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *regTokenRecord) int { return int(a.ID - b.ID) })
	return out
}

// makeRegToken checks a create request and stores the token. Call with s.mu held.
func (s *Server) makeRegToken(c callerInfo, tenantID string, req regTokenCreateRequest) (*regTokenRecord, *apiError) {
	t, e := s.lookupTenant(c, tenantID, false)
	if e != nil {
		return nil, e
	}
	if req.ExpiresIn == nil || *req.ExpiresIn < 1 || *req.ExpiresIn > maxRegistrationTokenSeconds {
		return nil, errBadRequest("expires_in must be between 1 and %d seconds (one year)", maxRegistrationTokenSeconds)
	}
	x := s.ext()
	x.LastRegTokenID++
	now := s.now().UTC()
	rec := &regTokenRecord{
		ID:        x.LastRegTokenID,
		Token:     s.newRegTokenValue(),
		TenantID:  t.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(*req.ExpiresIn) * time.Second),
		Scopes:    slices.Clone(req.Scopes),
	}
	x.RegTokens[strconv.FormatInt(rec.ID, 10)] = rec
	return rec, nil
}

// createTenantRegToken is POST /tenants/{tenant_id}/registration_tokens: 200, not 201.
func (s *Server) createTenantRegToken(w http.ResponseWriter, r *http.Request) *apiError {
	var req regTokenCreateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req.TenantID != nil {
		// The schema refuses it first; the handler must not take it from this body either.
		return errBadRequest("tenant_id is not a field of this request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.makeRegToken(s.caller(r), r.PathValue("tenant_id"), req)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.renderRegToken(rec))
}

// listTenantRegTokens is GET /tenants/{tenant_id}/registration_tokens: the tenant's own live
// tokens, expired ones included, oldest first.
func (s *Server) listTenantRegTokens(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	out := RegistrationTokenList{Items: []RegistrationToken{}}
	for _, rec := range s.liveRegTokens() {
		if rec.TenantID == t.ID {
			out.Items = append(out.Items, s.renderRegToken(rec))
		}
	}
	return reply(w, http.StatusOK, out)
}

// createRegToken is the deprecated POST /registration_tokens: 201, in tenant_id or the caller's
// tenant.
func (s *Server) createRegToken(w http.ResponseWriter, r *http.Request) *apiError {
	var req regTokenCreateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	c := s.caller(r)
	tenantID := c.TenantID
	if req.TenantID != nil {
		tenantID = *req.TenantID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, e := s.makeRegToken(c, tenantID, req)
	if e != nil {
		return e
	}
	return reply(w, http.StatusCreated, s.renderRegToken(rec))
}

// listRegTokens is the deprecated GET /registration_tokens: the live tokens of the caller's
// subtree.
func (s *Server) listRegTokens(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := RegistrationTokenList{Items: []RegistrationToken{}}
	for _, rec := range s.liveRegTokens() {
		if s.inScope(c.TenantID, rec.TenantID) {
			out.Items = append(out.Items, s.renderRegToken(rec))
		}
	}
	return reply(w, http.StatusOK, out)
}

// deleteRegToken is DELETE /registration_tokens/{token_id}: the token is revoked at once. The id
// is the token's integer (internal/wire corrects the document, which calls it a UUID).
func (s *Server) deleteRegToken(w http.ResponseWriter, r *http.Request) *apiError {
	id := r.PathValue("token_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.ext().RegTokens[id]
	if !ok || rec.RevokedAt != nil {
		return errNotFound("registration token", id)
	}
	if !s.inScope(s.caller(r).TenantID, rec.TenantID) {
		return errForbidden()
	}
	now := s.now().UTC()
	rec.RevokedAt = &now
	return replyStatus(w, http.StatusNoContent)
}

// RegisterAgent stands in for a machine registering its agent with a registration token, which
// is not part of the Account Management API: it accepts a known token that is neither revoked nor
// expired, and records every attempt.
func (s *Server) RegisterAgent(token string) Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.ext()
	now := s.now().UTC()
	reg := Registration{Time: now, Refusal: "unknown"}
	for _, rec := range x.RegTokens {
		if rec.Token != token {
			continue
		}
		// A revoked token's value may have been handed out again; a live one wins.
		if reg.TokenID != 0 && rec.RevokedAt != nil {
			continue
		}
		reg.TokenID, reg.TenantID = rec.ID, rec.TenantID
		switch {
		case rec.RevokedAt != nil:
			reg.Refusal = "revoked"
		case !now.Before(rec.ExpiresAt):
			reg.Refusal = "expired"
		default:
			reg.Refusal = ""
		}
	}
	reg.Accepted = reg.Refusal == ""
	x.Registrations = append(x.Registrations, reg)
	return reg
}

// Registrations lists every registration attempt, oldest first.
func (s *Server) Registrations() []Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ext().Registrations)
}

// RegistrationTokens lists the registration tokens of a tenant, revoked ones included, by id;
// "" lists every tenant's.
func (s *Server) RegistrationTokens(tenantID string) []RegistrationTokenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []RegistrationTokenInfo
	for _, rec := range s.ext().RegTokens {
		if tenantID != "" && rec.TenantID != tenantID {
			continue
		}
		info := RegistrationTokenInfo{ID: rec.ID, Token: rec.Token, TenantID: rec.TenantID, CreatedAt: rec.CreatedAt,
			ExpiresAt: rec.ExpiresAt, Scopes: slices.Clone(rec.Scopes)}
		if rec.RevokedAt != nil {
			info.RevokedAt = ptr(*rec.RevokedAt)
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b RegistrationTokenInfo) int { return int(a.ID - b.ID) })
	return out
}

// AdminRegistration is the body of POST /_emulator/registrations.
type AdminRegistration struct {
	Token string `json:"token"`
}

// serveAdminRegistrations is the registration stand-in: POST registers with a token (200 when
// accepted, 403 when refused), GET lists the attempts. Token values never appear in either answer.
func (s *Server) serveAdminRegistrations(w http.ResponseWriter, r *http.Request) *apiError {
	switch r.Method {
	case http.MethodGet:
		regs := s.Registrations()
		if regs == nil {
			regs = []Registration{}
		}
		return reply(w, http.StatusOK, map[string]any{"registrations": regs})
	case http.MethodPost:
		var req AdminRegistration
		if e := decodeBody(r, &req, false); e != nil {
			return e
		}
		if req.Token == "" {
			return errBadRequest("token is required")
		}
		reg := s.RegisterAgent(req.Token)
		if !reg.Accepted {
			e := errorf(http.StatusForbidden, codeAccessDenied, "registration refused: the token is %s", reg.Refusal)
			e.Context = map[string]any{"refusal": reg.Refusal}
			return e
		}
		return reply(w, http.StatusOK, reg)
	}
	return methodNotAllowed(w, "GET, POST")
}
