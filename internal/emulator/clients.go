package emulator

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

var clientTypes = []string{"api_client", "managed_client"}

var tokenAuthMethods = []string{"client_secret_basic", "client_secret_post", "none"}

// CreatedClient is the answer of POST /clients (the official clientPostResult): the only time the
// secret is ever shown. clientPostResult does not declare last_access_at and last_access_from_ip
// but is open, so the client object's null ones may stay.
type CreatedClient struct {
	APIClient
	ClientSecret string `json:"client_secret"`
	// RegistrationAccessToken is required by the official document; the emulator has no client
	// registration management to use it for, so it is a random string nobody checks (not in the
	// official schema).
	RegistrationAccessToken string `json:"registration_access_token"`
}

// ClientList is the answer of GET /clients.
type ClientList struct {
	Items []APIClient `json:"items"`
}

type clientCreateRequest struct {
	Type                    *string        `json:"type"`
	TenantID                *string        `json:"tenant_id"`
	Data                    map[string]any `json:"data"`
	TokenEndpointAuthMethod *string        `json:"token_endpoint_auth_method"`
	RedirectURIs            []string       `json:"redirect_uris"`
	OriginID                *string        `json:"origin_id"`
}

func renderClient(c *clientRecord) APIClient {
	out := c.APIClient
	out.Data = maps.Clone(c.Data)
	if out.Data == nil {
		out.Data = map[string]any{}
	}
	out.RedirectURIs = cloneOrEmpty(c.RedirectURIs)
	return out
}

// lookupClient finds a client the caller may see: 404 when missing or deleted (unless
// allowDeleted), 403 when its tenant is outside the caller's subtree. Call with s.mu held.
func (s *Server) lookupClient(c callerInfo, id string, allowDeleted bool) (*clientRecord, *apiError) {
	cl, ok := s.st.Clients[id]
	if !ok || (cl.DeletedAt != nil && !allowDeleted) {
		return nil, errNotFound("client", id)
	}
	if !s.inScope(c.TenantID, cl.TenantID) {
		return nil, errForbidden()
	}
	return cl, nil
}

// dropTokens makes a client's issued tokens stop working at once. Call with s.mu held.
func (s *Server) dropTokens(clientID string) {
	for k, t := range s.st.Tokens {
		if t.ClientID == clientID {
			delete(s.st.Tokens, k)
		}
	}
}

func (s *Server) createClient(w http.ResponseWriter, r *http.Request) *apiError {
	var req clientCreateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	c := s.caller(r)
	typ := "api_client"
	if req.Type != nil {
		typ = *req.Type
	}
	method := "client_secret_basic"
	if req.TokenEndpointAuthMethod != nil {
		method = *req.TokenEndpointAuthMethod
	}
	tenantID := c.TenantID
	if req.TenantID != nil {
		tenantID = *req.TenantID
	}
	switch {
	case !slices.Contains(clientTypes, typ):
		return errBadRequest("type must be one of %s", strings.Join(clientTypes, ", "))
	case !slices.Contains(tokenAuthMethods, method):
		return errBadRequest("token_endpoint_auth_method must be one of %s", strings.Join(tokenAuthMethods, ", "))
	case !validUUID(tenantID):
		return errBadRequest("tenant_id must be a lowercase UUID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, tenantID, false)
	if e != nil {
		return e
	}
	if t.Kind == kindPersonal {
		return errBadRequest("API clients cannot be created in a personal tenant")
	}
	cl := &clientRecord{APIClient: APIClient{
		ClientID:                newID(),
		Type:                    typ,
		TenantID:                t.ID,
		Data:                    maps.Clone(req.Data),
		TokenEndpointAuthMethod: method,
		RedirectURIs:            cloneOrEmpty(req.RedirectURIs),
		OriginID:                req.OriginID,
		Status:                  "enabled",
		CreatedAt:               s.timestamp(),
		CreatedBy:               c.ClientID,
	}}
	secret := ""
	if method != "none" {
		secret = randomToken(24)
		cl.SecretHash = hashSecret(secret)
	}
	s.st.Clients[cl.ClientID] = cl
	s.assignSeq(cl.ClientID)
	return reply(w, http.StatusCreated, CreatedClient{APIClient: renderClient(cl), ClientSecret: secret, RegistrationAccessToken: randomToken(24)})
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	cl, e := s.lookupClient(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, renderClient(cl))
}

func (s *Server) listClients(w http.ResponseWriter, r *http.Request) *apiError {
	q := r.URL.Query()
	allowDeleted, e := queryBool(r, "allow_deleted")
	if e != nil {
		return e
	}
	var uuids []string
	if v := q.Get("uuids"); v != "" {
		if uuids, e = splitIDs("uuids", v); e != nil {
			return e
		}
	}
	originID := q.Get("origin_id")
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var list []*clientRecord
	for _, cl := range s.st.Clients {
		switch {
		case cl.DeletedAt != nil && !allowDeleted:
		case uuids != nil && !slices.Contains(uuids, cl.ClientID):
		case originID != "" && (cl.OriginID == nil || *cl.OriginID != originID):
		case !s.inScope(c.TenantID, cl.TenantID):
		default:
			list = append(list, cl)
		}
	}
	slices.SortFunc(list, func(a, b *clientRecord) int {
		return strings.Compare(s.createdKey(a.CreatedAt, a.ClientID), s.createdKey(b.CreatedAt, b.ClientID))
	})
	out := ClientList{Items: []APIClient{}}
	for _, cl := range list {
		out.Items = append(out.Items, renderClient(cl))
	}
	return reply(w, http.StatusOK, out)
}

type clientUpdateRequest struct {
	Data         map[string]any `json:"data"`
	Status       *string        `json:"status"`
	RedirectURIs []string       `json:"redirect_uris"`
	OriginID     optString      `json:"origin_id"`
}

func (s *Server) updateClient(w http.ResponseWriter, r *http.Request) *apiError {
	var req clientUpdateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req.Status != nil && *req.Status != "enabled" && *req.Status != "disabled" {
		return errBadRequest("status must be enabled or disabled")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cl, e := s.lookupClient(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	if req.Data != nil {
		cl.Data = maps.Clone(req.Data)
	}
	if req.RedirectURIs != nil {
		cl.RedirectURIs = slices.Clone(req.RedirectURIs)
	}
	req.OriginID.apply(&cl.OriginID)
	if req.Status != nil {
		cl.Status = *req.Status
		if cl.Status == "disabled" {
			s.dropTokens(cl.ClientID)
		}
	}
	return reply(w, http.StatusOK, renderClient(cl))
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	cl, e := s.lookupClient(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	cl.DeletedAt = ptr(s.timestamp())
	s.dropTokens(cl.ClientID)
	return replyStatus(w, http.StatusNoContent)
}

// copyData deep-copies client metadata so snapshots handed to tests cannot alias the store.
func copyData(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	data, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	return out
}
