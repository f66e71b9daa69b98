package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// One-time tokens (POST /idp/ott) and what accepts them: POST /idp/ott/login and the browser page
// GET /idp/external-login.
//
// Assumptions, NOT IN THE OFFICIAL SCHEMA (which gives the shapes, not the rules):
//   - a token lives OTTLifetime on the emulator's clock and is accepted once, by either endpoint;
//   - an unknown, used or expired token is refused with 401 and the vendor's error body (declared
//     for POST /idp/ott/login; for GET /idp/external-login the document declares only its 200 page);
//   - the page itself takes the token: the vendor's page is a static script that posts the token
//     to /idp/ott/login from the browser, which the emulator cannot run, so it does that step;
//   - POST /idp/ott refuses a disabled user (403), a user outside the caller's subtree (403) and a
//     purpose other than user_login (400), and names the user by exactly one of user_id, login
//     and external_id.
//
// Tokens are kept in memory only, by their SHA-256: never in the saved state, never in
// GET /_emulator/state, and an ott query parameter is redacted in the request log.

// OTTLifetime is how long a one-time token is accepted. Our assumption: the document gives none.
const OTTLifetime = 5 * time.Minute

// ottRecord is a live one-time token.
type ottRecord struct {
	UserID    string
	ExpiresAt time.Time
}

// ottCreateRequest is the body of POST /idp/ott (the schema has checked it: closed, purpose set).
type ottCreateRequest struct {
	Purpose    string  `json:"purpose"`
	Login      *string `json:"login"`
	ExternalID *string `json:"external_id"`
	UserID     *string `json:"user_id"`
	AuditData  *string `json:"audit_data"`
}

// newOTT makes a token in the vendor's look: standard base64, so it holds characters ('+', '/',
// '=') a link must URL-encode.
func newOTT() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "OTT" + base64.StdEncoding.EncodeToString(b)
}

func (s *Server) createOTT(w http.ResponseWriter, r *http.Request) *apiError {
	var req ottCreateRequest
	if e := decodeBody(r, &req, false); e != nil {
		return e
	}
	if req.Purpose != "user_login" {
		return errBadRequest("purpose %q: the emulator issues one-time tokens for user_login only", req.Purpose)
	}
	named := 0
	for _, p := range []*string{req.UserID, req.Login, req.ExternalID} {
		if p != nil {
			named++
		}
	}
	if named != 1 {
		return errBadRequest("name the user by exactly one of user_id, login and external_id")
	}
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var u *User
	switch {
	case req.UserID != nil:
		found, e := s.lookupUser(c, *req.UserID, false)
		if e != nil {
			return e
		}
		u = found
	default:
		for _, cand := range s.st.Users {
			if cand.DeletedAt != nil {
				continue
			}
			if (req.Login != nil && strings.EqualFold(cand.Login, *req.Login)) ||
				(req.ExternalID != nil && cand.ExternalID != nil && *cand.ExternalID == *req.ExternalID) {
				u = cand
				break
			}
		}
		if u == nil {
			return errorf(http.StatusNotFound, 0, "user not found")
		}
		if !s.inScope(c.TenantID, u.TenantID) {
			return errForbidden()
		}
	}
	if !u.Enabled {
		return errorf(http.StatusForbidden, codeAccessDenied, "user %s is disabled: no one-time token is issued for it", u.ID)
	}
	ott := newOTT()
	if s.otts == nil {
		s.otts = map[string]ottRecord{}
	}
	now := s.now()
	for k, o := range s.otts {
		if !now.Before(o.ExpiresAt) {
			delete(s.otts, k)
		}
	}
	s.otts[hashSecret(ott)] = ottRecord{UserID: u.ID, ExpiresAt: now.Add(OTTLifetime)}
	return reply(w, http.StatusOK, map[string]string{"ott": ott})
}

// errOTTRefused never names the token.
func errOTTRefused() *apiError {
	return errorf(http.StatusUnauthorized, http.StatusUnauthorized, "the one-time token is unknown, expired or already used")
}

// takeOTT accepts a token once: it is gone whatever the outcome. Call with s.mu held.
func (s *Server) takeOTT(ott string) (*User, *apiError) {
	key := hashSecret(ott)
	rec, ok := s.otts[key]
	delete(s.otts, key)
	if !ok || !s.now().Before(rec.ExpiresAt) {
		return nil, errOTTRefused()
	}
	u, ok := s.st.Users[rec.UserID]
	if !ok || u.DeletedAt != nil || !u.Enabled {
		return nil, errOTTRefused()
	}
	return u, nil
}

func (s *Server) ottLogin(w http.ResponseWriter, r *http.Request) *apiError {
	var req struct {
		OTT string `json:"ott"`
	}
	if e := decodeBody(r, &req, false); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.takeOTT(req.OTT)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, renderUser(u))
}

func (s *Server) externalLogin(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	target := q.Get("targetURI")
	if !q.Has("ott") {
		// The legacy form carries the token in the URL fragment, which never reaches a server:
		// only a browser's script could read it.
		return writePage(w, "No one-time token in the query", "<p>This link carries no <code>ott</code> query parameter. "+
			"The emulator reads the token from the query only (the legacy URL fragment form needs the vendor's page script).</p>")
	}
	s.mu.Lock()
	u, e := s.takeOTT(q.Get("ott"))
	var login string
	if u != nil {
		login = u.Login
	}
	s.mu.Unlock()
	if e != nil {
		return e
	}
	body := fmt.Sprintf("<p>Logged in as <strong>%s</strong>.</p>", html.EscapeString(login))
	if target != "" {
		if t, err := url.Parse(target); err == nil && (t.Scheme == "http" || t.Scheme == "https") {
			body += fmt.Sprintf(`<p>Continue to <a href="%s">%s</a>.</p>`, html.EscapeString(target), html.EscapeString(target))
		}
	}
	return writePage(w, "Logged in", body)
}

func writePage(w http.ResponseWriter, title, body string) *apiError {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprintf(w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"UTF-8\"><title>%s</title></head>\n<body>\n<h5>%s</h5>\n%s\n</body>\n</html>\n",
		html.EscapeString(title), html.EscapeString(title), body)
	return nil
}

// redactedQuery is a request's raw query for the request log, with any ott value replaced: a
// one-time token is a credential, and the log is served by GET /_emulator/requests.
func redactedQuery(u *url.URL) string {
	if !strings.Contains(u.RawQuery, "ott") {
		return u.RawQuery
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "<unparsable query redacted>"
	}
	if !q.Has("ott") {
		return u.RawQuery
	}
	for i := range q["ott"] {
		q["ott"][i] = "REDACTED"
	}
	return q.Encode()
}
