package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// Location is an infrastructure location.
type Location struct {
	ID            string `json:"id"`
	OwnerTenantID string `json:"owner_tenant_id"`
	PlatformOwned bool   `json:"platform_owned"`
	Name          string `json:"name"`
	Version       int64  `json:"version"`
	// Readonly is computed per caller: true when the caller may see but not change the location.
	Readonly bool `json:"readonly"`
}

// Location returns a location by id, for tests.
func (s *Server) Location(id string) (Location, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.st.Ext.Locations[id]
	if !ok {
		return Location{}, false
	}
	return *l, true
}

// canSeeOwned says whether a caller may read an object owned by ownerID: objects of the caller's
// subtree and those of its ancestors (platform locations and storages offered from above).
// Call with s.mu held.
func (s *Server) canSeeOwned(c callerInfo, ownerID string) bool {
	return s.inScope(c.TenantID, ownerID) || slices.Contains(s.tenantAncestry(c.TenantID), ownerID)
}

// renderLocation copies a location with the caller's readonly flag. Call with s.mu held.
func (s *Server) renderLocation(c callerInfo, l *Location) Location {
	out := *l
	out.Readonly = !s.inScope(c.TenantID, l.OwnerTenantID)
	return out
}

// readLocation finds a location the caller may see. Call with s.mu held.
func (s *Server) readLocation(c callerInfo, id string) (*Location, *apiError) {
	l, ok := s.ext().Locations[id]
	if !ok {
		return nil, errNotFound("location", id)
	}
	if !s.canSeeOwned(c, l.OwnerTenantID) {
		return nil, errForbidden()
	}
	return l, nil
}

// writeLocation finds a location the caller may change. Call with s.mu held.
func (s *Server) writeLocation(c callerInfo, id string) (*Location, *apiError) {
	l, e := s.readLocation(c, id)
	if e != nil {
		return nil, e
	}
	if !s.inScope(c.TenantID, l.OwnerTenantID) {
		return nil, errorf(http.StatusForbidden, codeAccessDenied, "location %s belongs to a tenant above the caller and is read-only", id)
	}
	return l, nil
}

// locationNameTaken says whether the owner already has another location with this name; the
// reference's location conflict (1031) covers it. Call with s.mu held.
func (s *Server) locationNameTaken(ownerID, name, exceptID string) bool {
	for _, l := range s.ext().Locations {
		if l.ID != exceptID && l.OwnerTenantID == ownerID && strings.EqualFold(l.Name, name) {
			return true
		}
	}
	return false
}

func errLocationConflict(format string, args ...any) *apiError {
	return errorf(http.StatusConflict, codeLocationConflict, format, args...)
}

// CreateLocationRequest is the body of POST /locations.
type CreateLocationRequest struct {
	OwnerTenantID string `json:"owner_tenant_id"`
	Name          string `json:"name"`
}

func (s *Server) createLocation(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req CreateLocationRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if strings.TrimSpace(req.Name) == "" {
		return errBadRequest("name is required")
	}
	if req.OwnerTenantID == "" {
		req.OwnerTenantID = c.TenantID
	}
	if !validUUID(req.OwnerTenantID) {
		return errBadRequest("owner_tenant_id must be a lowercase UUID")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	owner, e := s.lookupTenant(c, req.OwnerTenantID, false)
	if e != nil {
		return e
	}
	if s.locationNameTaken(owner.ID, req.Name, "") {
		return errLocationConflict("tenant %s already has a location named %q", owner.ID, req.Name)
	}
	l := &Location{
		ID:            newID(),
		OwnerTenantID: owner.ID,
		PlatformOwned: owner.Kind == KindRoot,
		Name:          req.Name,
		Version:       s.nextVersion(),
	}
	s.ext().Locations[l.ID] = l
	return reply(w, http.StatusCreated, s.renderLocation(c, l))
}

func (s *Server) listLocations(w http.ResponseWriter, r *http.Request) *apiError {
	return serveBatch(s, w, r, "uuids", s.readLocation, s.renderLocation)
}

func (s *Server) getLocation(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.readLocation(c, r.PathValue("location_id"))
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.renderLocation(c, l))
}

// UpdateLocationRequest is the body of PUT /locations/{id}.
type UpdateLocationRequest struct {
	Name    string `json:"name"`
	Version *int64 `json:"version"`
}

func (s *Server) updateLocation(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req UpdateLocationRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if strings.TrimSpace(req.Name) == "" || req.Version == nil {
		return errBadRequest("name and version are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.writeLocation(c, r.PathValue("location_id"))
	if e != nil {
		return e
	}
	if e := checkVersion(l.Version, *req.Version); e != nil {
		return e
	}
	if s.locationNameTaken(l.OwnerTenantID, req.Name, l.ID) {
		return errLocationConflict("tenant %s already has a location named %q", l.OwnerTenantID, req.Name)
	}
	if l.Name != req.Name {
		l.Name = req.Name
		l.Version = s.nextVersion()
	}
	return reply(w, http.StatusOK, s.renderLocation(c, l))
}

func (s *Server) deleteLocation(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	version, e := queryVersion(r)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.writeLocation(c, r.PathValue("location_id"))
	if e != nil {
		return e
	}
	if e := checkVersion(l.Version, version); e != nil {
		return e
	}
	if ids := s.infrasIn(l.ID); len(ids) > 0 {
		e := errLocationConflict("location %s still holds infrastructure; move or delete it first", l.ID)
		e.Context = map[string]any{"infras": ids}
		return e
	}
	delete(s.ext().Locations, l.ID)
	return replyStatus(w, http.StatusNoContent)
}

// infrasIn lists the infrastructures of a location, sorted. Call with s.mu held.
func (s *Server) infrasIn(locationID string) []string {
	ids := []string{}
	for id, in := range s.ext().Infras {
		if in.LocationID == locationID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (s *Server) locationInfras(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	l, e := s.readLocation(c, r.PathValue("location_id"))
	if e != nil {
		return e
	}
	ids := []string{}
	for _, id := range s.infrasIn(l.ID) {
		if s.canSeeOwned(c, s.ext().Infras[id].OwnerTenantID) {
			ids = append(ids, id)
		}
	}
	return reply(w, http.StatusOK, map[string]any{"infras": ids})
}

// tenantLocations lists the locations the tenant owns, as the reference describes the endpoint.
func (s *Server) tenantLocations(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	ids := []string{}
	for id, l := range s.ext().Locations {
		if l.OwnerTenantID == t.ID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return reply(w, http.StatusOK, map[string]any{"locations": ids})
}
