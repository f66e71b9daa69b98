package emulator

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// Infra is an infrastructure component (a storage) in a location.
type Infra struct {
	ID            string   `json:"id"`
	OwnerTenantID string   `json:"owner_tenant_id"`
	LocationID    string   `json:"location_id"`
	PlatformOwned bool     `json:"platform_owned"`
	Name          string   `json:"name"`
	URL           string   `json:"url"`
	Capabilities  []string `json:"capabilities"`
	// ContentURL and ContentMobileURL are left out when unset: the official document gives them no null.
	ContentURL       *string `json:"content_url,omitempty"`
	ContentMobileURL *string `json:"content_mobile_url,omitempty"`
	BackendType      any     `json:"backend_type"`
	Version          int64   `json:"version"`
	// Readonly is computed per caller, as for locations.
	Readonly bool `json:"readonly"`
}

func (in *Infra) clone() Infra {
	out := *in
	out.Capabilities = slices.Clone(in.Capabilities)
	out.ContentURL = clonePtr(in.ContentURL)
	out.ContentMobileURL = clonePtr(in.ContentMobileURL)
	return out
}

// Infra returns an infrastructure component by id, for tests.
func (s *Server) Infra(id string) (Infra, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	in, ok := s.st.Ext.Infras[id]
	if !ok {
		return Infra{}, false
	}
	return in.clone(), true
}

// urlPattern is the reference's pattern for infrastructure URLs.
var urlPattern = regexp.MustCompile(`^[a-z0-9\+]+:\/\/[^\s\/$.?#].[^\s]*`)

func hostOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, ":/"); i >= 0 {
		u = u[:i]
	}
	return u
}

func (s *Server) renderInfra(c callerInfo, in *Infra) Infra {
	out := in.clone()
	out.Readonly = !s.inScope(c.TenantID, in.OwnerTenantID)
	return out
}

func (s *Server) readInfra(c callerInfo, id string) (*Infra, *apiError) {
	in, ok := s.ext().Infras[id]
	if !ok {
		return nil, errNotFound("infrastructure", id)
	}
	if !s.canSeeOwned(c, in.OwnerTenantID) {
		return nil, errForbidden()
	}
	return in, nil
}

func (s *Server) writeInfra(c callerInfo, id string) (*Infra, *apiError) {
	in, e := s.readInfra(c, id)
	if e != nil {
		return nil, e
	}
	if !s.inScope(c.TenantID, in.OwnerTenantID) {
		return nil, errorf(http.StatusForbidden, codeAccessDenied, "infrastructure %s belongs to a tenant above the caller and is read-only", id)
	}
	return in, nil
}

// InfraRequest is the body of POST /infra and PUT /infra/{id}; absent fields keep their value on PUT.
type InfraRequest struct {
	OwnerTenantID    *string         `json:"owner_tenant_id,omitempty"`
	LocationID       *string         `json:"location_id,omitempty"`
	Name             *string         `json:"name,omitempty"`
	URL              *string         `json:"url,omitempty"`
	Capabilities     []string        `json:"capabilities,omitempty"`
	ContentURL       *string         `json:"content_url,omitempty"`
	ContentMobileURL *string         `json:"content_mobile_url,omitempty"`
	BackendType      json.RawMessage `json:"backend_type,omitempty"`
	Version          *int64          `json:"version,omitempty"`
}

// validate checks the fields' formats; create says whether the required ones must be there.
func (req *InfraRequest) validate(create bool) *apiError {
	if create {
		if req.Name == nil || req.URL == nil || req.Capabilities == nil {
			return errBadRequest("name, url and capabilities are required")
		}
		if req.Version != nil {
			return errBadRequest("version is set by the server")
		}
	} else if req.OwnerTenantID != nil {
		return errBadRequest("owner_tenant_id cannot be changed")
	}
	if req.Name != nil && strings.TrimSpace(*req.Name) == "" {
		return errBadRequest("name must not be empty")
	}
	for field, v := range map[string]*string{"url": req.URL, "content_url": req.ContentURL, "content_mobile_url": req.ContentMobileURL} {
		if v != nil && !urlPattern.MatchString(*v) {
			return errBadRequest("%s %q does not match %s", field, *v, urlPattern)
		}
	}
	for field, v := range map[string]*string{"owner_tenant_id": req.OwnerTenantID, "location_id": req.LocationID} {
		if v != nil && !validUUID(*v) {
			return errBadRequest("%s must be a lowercase UUID", field)
		}
	}
	if req.Capabilities != nil {
		if len(req.Capabilities) == 0 {
			return errBadRequest("capabilities must not be empty")
		}
		for i, cap := range req.Capabilities {
			if !slices.Contains(infraCapabilities, cap) {
				return errBadRequest("capabilities[%d]: %q is not one of %s", i, cap, strings.Join(infraCapabilities, ", "))
			}
			if slices.Contains(req.Capabilities[:i], cap) {
				return errBadRequest("capabilities[%d]: %q is listed twice", i, cap)
			}
		}
	}
	return nil
}

// checkInfraLocation applies the location rule: a storage sits in a location of its owner or of
// one of the owner's ancestors, else it is a location conflict (1031). Call with s.mu held.
func (s *Server) checkInfraLocation(ownerID, locationID string) *apiError {
	l, ok := s.ext().Locations[locationID]
	if !ok {
		return errNotFound("location", locationID)
	}
	if !slices.Contains(s.tenantAncestry(ownerID), l.OwnerTenantID) {
		e := errLocationConflict("location %s belongs to tenant %s, which is neither the storage's owner %s nor above it", l.ID, l.OwnerTenantID, ownerID)
		e.Context = map[string]any{"location_id": l.ID, "owner_tenant_id": ownerID}
		return e
	}
	return nil
}

func (s *Server) createInfra(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req InfraRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if e := req.validate(true); e != nil {
		return e
	}
	ownerID := c.TenantID
	if req.OwnerTenantID != nil {
		ownerID = *req.OwnerTenantID
	}
	if req.LocationID == nil {
		// location_id is optional in the official body; a storage without one is placed in the
		// platform's default location (assumed).
		req.LocationID = ptr(DefaultLocationID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, e := s.lookupTenant(c, ownerID, false)
	if e != nil {
		return e
	}
	if e := s.checkInfraLocation(owner.ID, *req.LocationID); e != nil {
		return e
	}
	in := &Infra{
		ID:               newID(),
		OwnerTenantID:    owner.ID,
		LocationID:       *req.LocationID,
		PlatformOwned:    owner.Kind == KindRoot,
		Name:             *req.Name,
		URL:              *req.URL,
		Capabilities:     slices.Clone(req.Capabilities),
		ContentURL:       clonePtr(req.ContentURL),
		ContentMobileURL: clonePtr(req.ContentMobileURL),
		BackendType:      rawToAny(req.BackendType),
		Version:          s.nextVersion(),
	}
	s.ext().Infras[in.ID] = in
	s.addInfraItems(in, in.Capabilities)
	return reply(w, http.StatusCreated, s.renderInfra(c, in))
}

func rawToAny(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// addInfraItems gives every tenant of the owner's subtree the infra items of new capabilities: on
// for the owner (and the all-on tenants), off for the rest until someone hands them down.
// Call with s.mu held.
func (s *Server) addInfraItems(in *Infra, caps []string) {
	x := s.ext()
	now := s.timestamp()
	for _, id := range s.tenantTree(in.OwnerTenantID, true) {
		for _, sp := range catalog.Items {
			if sp.Type != ItemTypeInfra || !slices.Contains(caps, sp.Capability) {
				continue
			}
			key := itemKey(sp.App, sp.Name, in.ID)
			if s.findItem(id, key) != nil {
				continue
			}
			x.Items[id] = append(x.Items[id], s.newItem(id, sp, in.ID, id == in.OwnerTenantID || x.AllOn[id], now))
		}
	}
}

// infraInUse finds what keeps a storage's items from going away: a customer (or unit) that has
// one on, or (unless force) any recorded usage. Call with s.mu held.
func (s *Server) infraInUse(infraID string, caps []string, force bool) *apiError {
	x := s.ext()
	for tenantID, items := range x.Items {
		t, ok := s.st.Tenants[tenantID]
		if !ok || t.DeletedAt != nil {
			continue
		}
		for _, it := range items {
			if it.DeletedAt != nil || it.infraID() != infraID || !slices.Contains(caps, it.spec().Capability) {
				continue
			}
			if it.Status == 1 && holdsOneEdition(t) {
				e := errorf(http.StatusConflict, codeStorageInUse, "storage %s is turned on for customer tenant %s", infraID, tenantID)
				e.Context = it.ref()
				return e
			}
			if !force && s.ownUsage(tenantID, it.UsageName, infraID) > 0 {
				e := errorf(http.StatusConflict, codeStorageInUse, "storage %s holds usage of tenant %s", infraID, tenantID)
				e.Context = it.ref()
				return e
			}
		}
	}
	return nil
}

// dropInfraItems soft-deletes the items of a storage's capabilities. Call with s.mu held.
func (s *Server) dropInfraItems(infraID string, caps []string) {
	now := s.timestamp()
	for _, items := range s.ext().Items {
		for _, it := range items {
			if it.DeletedAt == nil && it.infraID() == infraID && slices.Contains(caps, it.spec().Capability) {
				it.Status = 0
				it.DeletedAt = ptr(now)
				it.UpdatedAt = now
				it.Quota.Version = s.nextVersion()
			}
		}
	}
}

func (s *Server) listInfras(w http.ResponseWriter, r *http.Request) *apiError {
	return serveBatch(s, w, r, "uuids", s.readInfra, s.renderInfra)
}

func (s *Server) getInfra(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	in, e := s.readInfra(c, r.PathValue("infra_id"))
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.renderInfra(c, in))
}

func (s *Server) updateInfra(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req InfraRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if e := req.validate(false); e != nil {
		return e
	}
	if req.Version == nil {
		return errBadRequest("version is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, e := s.writeInfra(c, r.PathValue("infra_id"))
	if e != nil {
		return e
	}
	if e := checkVersion(in.Version, *req.Version); e != nil {
		return e
	}
	if req.LocationID != nil && *req.LocationID != in.LocationID {
		if e := s.checkInfraLocation(in.OwnerTenantID, *req.LocationID); e != nil {
			return e
		}
	}
	var added, removed []string
	if req.Capabilities != nil {
		for _, cap := range req.Capabilities {
			if !slices.Contains(in.Capabilities, cap) {
				added = append(added, cap)
			}
		}
		for _, cap := range in.Capabilities {
			if !slices.Contains(req.Capabilities, cap) {
				removed = append(removed, cap)
			}
		}
		if len(removed) > 0 {
			if e := s.infraInUse(in.ID, removed, false); e != nil {
				return e
			}
		}
	}
	before := in.clone()
	setIf(&in.LocationID, req.LocationID)
	setIf(&in.Name, req.Name)
	setIf(&in.URL, req.URL)
	if req.Capabilities != nil {
		in.Capabilities = slices.Clone(req.Capabilities)
	}
	if req.ContentURL != nil {
		in.ContentURL = clonePtr(req.ContentURL)
	}
	if req.ContentMobileURL != nil {
		in.ContentMobileURL = clonePtr(req.ContentMobileURL)
	}
	if len(req.BackendType) > 0 {
		in.BackendType = rawToAny(req.BackendType)
	}
	s.dropInfraItems(in.ID, removed)
	s.addInfraItems(in, added)
	after, _ := json.Marshal(in.clone())
	old, _ := json.Marshal(before)
	if string(after) != string(old) {
		in.Version = s.nextVersion()
	}
	return reply(w, http.StatusOK, s.renderInfra(c, in))
}

func (s *Server) deleteInfra(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	version, e := queryVersion(r)
	if e != nil {
		return e
	}
	force, e := queryBool(r, "force")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in, e := s.writeInfra(c, r.PathValue("infra_id"))
	if e != nil {
		return e
	}
	if e := checkVersion(in.Version, version); e != nil {
		return e
	}
	if e := s.infraInUse(in.ID, in.Capabilities, force); e != nil {
		return e
	}
	s.dropInfraItems(in.ID, in.Capabilities)
	delete(s.ext().Infras, in.ID)
	return replyStatus(w, http.StatusNoContent)
}
