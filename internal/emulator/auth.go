package emulator

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// randomToken makes an unguessable URL-safe string of n random bytes.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokenResponse is the answer of POST /idp/token.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	ExpiresOn   int64  `json:"expires_on"`
	IDToken     string `json:"id_token"`
}

// clientCredentials are the id and secret a token request carried, and how.
type clientCredentials struct {
	id, secret string
	viaForm    bool
	present    bool
}

// readClientCredentials takes them from Basic auth or from the form; both at once is refused by
// RFC 6749 section 2.3.
func readClientCredentials(r *http.Request, form url.Values) (clientCredentials, *OAuthError) {
	id, secret, basic := r.BasicAuth()
	formID, formSecret := form.Get("client_id"), form.Get("client_secret")
	switch {
	case basic && formSecret != "":
		return clientCredentials{}, &OAuthError{Error: "invalid_request", ErrorDescription: "client credentials were sent both in the Authorization header and in the body"}
	case basic:
		// RFC 6749 section 2.3.1: id and secret are form-encoded inside Basic auth.
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
		return clientCredentials{id: id, secret: secret, present: true}, nil
	case formID != "" || formSecret != "":
		return clientCredentials{id: formID, secret: formSecret, viaForm: true, present: true}, nil
	}
	return clientCredentials{}, nil
}

// claimedClientID is the client id a token request names, unverified: it only picks the
// rate-limit bucket and labels the request log.
func claimedClientID(r *http.Request) string {
	if id, _, ok := r.BasicAuth(); ok {
		if v, err := url.QueryUnescape(id); err == nil {
			return v
		}
		return id
	}
	if requireContentType(r, "application/x-www-form-urlencoded") != nil || r.Body == nil {
		return ""
	}
	// Peek at the form without consuming it: the request check and the handler read the body
	// after this. A read error (a body over the size limit) is handed on to them too.
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("client_id")
}

// errReader returns err, or io.EOF when err is nil, from every read.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}

func readTokenForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if e := requireContentType(r, "application/x-www-form-urlencoded"); e != nil {
		writeJSON(w, http.StatusUnsupportedMediaType, OAuthError{Error: "invalid_request", ErrorDescription: e.Message})
		return nil, false
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the form body cannot be parsed")
		return nil, false
	}
	return r.PostForm, true
}

// authenticateClient checks credentials against the store. Call with s.mu held.
func (s *Server) authenticateClient(creds clientCredentials) (*clientRecord, *OAuthError) {
	if !creds.present {
		return nil, &OAuthError{Error: "invalid_client", ErrorDescription: "client authentication is required"}
	}
	c, ok := s.st.Clients[creds.id]
	if !ok || c.SecretHash != hashSecret(creds.secret) {
		return nil, &OAuthError{Error: "invalid_client", ErrorDescription: "client authentication failed"}
	}
	if c.DeletedAt != nil || c.Status != "enabled" {
		return nil, &OAuthError{Error: "invalid_client", ErrorDescription: "client is disabled or deleted"}
	}
	// The seeded client was not made through POST /clients and takes either style, so whoever
	// starts the emulator can use the credentials it printed however their tool sends them.
	if creds.viaForm && c.TokenEndpointAuthMethod != "client_secret_post" && c.ClientID != s.st.Bootstrap.ClientID {
		return nil, &OAuthError{Error: "invalid_client", ErrorDescription: "client must authenticate with " + c.TokenEndpointAuthMethod}
	}
	if t, ok := s.st.Tenants[c.TenantID]; !ok || t.DeletedAt != nil {
		return nil, &OAuthError{Error: "invalid_client", ErrorDescription: "the client's tenant is deleted"}
	}
	return c, nil
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	form, ok := readTokenForm(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant_type is required")
		return
	default:
		// RFC 6749 would say unsupported_grant_type, but the official document allows only
		// totp_setup_required, totp_required, invalid_totp, access_denied and invalid_request here.
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "grant type "+gt+" is not supported for API clients")
		return
	}
	creds, oerr := readClientCredentials(r, form)
	if oerr != nil {
		writeOAuthError(w, http.StatusBadRequest, oerr.Error, oerr.ErrorDescription)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, oerr := s.authenticateClient(creds)
	if oerr != nil {
		// The official document's token errors have no invalid_client: bad client credentials
		// are access_denied.
		writeOAuthError(w, http.StatusUnauthorized, "access_denied", oerr.ErrorDescription)
		return
	}
	now := s.now()
	c.LastAccessAt = ptr(formatTime(now))
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		c.LastAccessFromIP = ptr(host)
	}
	expires := now.Add(s.opts.TokenTTL)
	for k, t := range s.st.Tokens {
		if !now.Before(t.ExpiresAt) {
			delete(s.st.Tokens, k)
		}
	}
	claims := map[string]any{
		"iss": "account-server-emulator", "sub": c.ClientID, "sub_type": "api_client",
		"tenant_id": c.TenantID, "iat": now.Unix(), "exp": expires.Unix(), "jti": newID(),
	}
	access := fakeJWT(claims)
	s.st.Tokens[access] = &tokenRecord{ClientID: c.ClientID, TenantID: c.TenantID, ExpiresAt: expires}
	writeJSON(w, http.StatusOK, TokenResponse{
		AccessToken: access,
		TokenType:   "bearer",
		ExpiresIn:   int64(s.opts.TokenTTL.Seconds()),
		ExpiresOn:   expires.Unix(),
		IDToken:     fakeJWT(map[string]any{"iss": "account-server-emulator", "sub": c.ClientID, "aud": c.ClientID, "iat": now.Unix(), "exp": expires.Unix()}),
	})
}

// fakeJWT shapes a token like the vendor's JWTs (three base64url parts) so clients that peek at
// the claims work; the signature part is random because nothing verifies it but this server.
func fakeJWT(claims map[string]any) string {
	header, _ := json.Marshal(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "emulator"})
	body, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(body) + "." + randomToken(32)
}

// revokeToken follows RFC 7009: an unknown token is not an error, so the answer is 200 either way.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	form, ok := readTokenForm(w, r)
	if !ok {
		return
	}
	token := form.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	creds, oerr := readClientCredentials(r, form)
	if oerr != nil {
		writeOAuthError(w, http.StatusBadRequest, oerr.Error, oerr.ErrorDescription)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, oerr := s.authenticateClient(creds)
	if oerr != nil {
		writeOAuthError(w, http.StatusUnauthorized, oerr.Error, oerr.ErrorDescription)
		return
	}
	if t, ok := s.st.Tokens[token]; ok && t.ClientID == c.ClientID {
		delete(s.st.Tokens, token)
	}
	w.WriteHeader(http.StatusOK)
}

// authenticate resolves the bearer token of an /api/2 request to its client.
func (s *Server) authenticate(r *http.Request) (*callerInfo, *apiError) {
	token := ""
	fromHeader := false
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, value, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(value) == "" {
			return nil, errorf(http.StatusUnauthorized, 0, "the Authorization header must carry a bearer token")
		}
		token = strings.TrimSpace(value)
		fromHeader = true
	}
	if q := r.URL.Query().Get("access_token"); q != "" {
		if fromHeader {
			return nil, errBadRequest("send the access token either in the Authorization header or as access_token, not both")
		}
		token = q
	}
	if token == "" {
		return nil, errorf(http.StatusUnauthorized, 0, "a bearer access token is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.Tokens[token]
	if !ok {
		return nil, errorf(http.StatusUnauthorized, 0, "the access token is invalid")
	}
	if !s.now().Before(t.ExpiresAt) {
		delete(s.st.Tokens, token)
		return nil, errorf(http.StatusUnauthorized, 0, "the access token has expired")
	}
	c, ok := s.st.Clients[t.ClientID]
	if !ok || c.DeletedAt != nil || c.Status != "enabled" {
		return nil, errorf(http.StatusUnauthorized, 0, "the access token's client is disabled or deleted")
	}
	if t, ok := s.st.Tenants[c.TenantID]; !ok || t.DeletedAt != nil {
		return nil, errorf(http.StatusUnauthorized, 0, "the access token's tenant is deleted")
	}
	return &callerInfo{ClientID: t.ClientID, TenantID: c.TenantID}, nil
}
