package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// brandRecord is a tenant's custom branding. It is kept when branding is disabled so that enabling
// it again brings the old options back.
type brandRecord struct {
	ID      string                     `json:"id"`
	BrandID int64                      `json:"brand_id"`
	Enabled bool                       `json:"enabled"`
	Options map[string]json.RawMessage `json:"options"`
	Logo    []byte                     `json:"logo,omitempty"`
}

// Brand is a tenant's branding as tests see it. Version is the tenant's version: branding is part
// of the tenant object (brand_enabled, brand_uuid), so every brand write moves it and every brand
// write is guarded by it.
type Brand struct {
	ID       string
	TenantID string
	Version  int64
	Enabled  bool
	Options  map[string]any
	Logo     []byte
}

// brandOptionKinds lists the options PUT stores (the official body's properties but the read-only
// id) and their JSON kinds.
var brandOptionKinds = map[string]string{
	"account_server_url": "string", "agent_gateway_url": "string", "backup_console_url": "string", "color": "string", "color_scheme": "string",
	"company_name": "string", "help_url": "string", "home_url": "string", "knowledgebase_url": "string",
	"logotype": "string", "mobile_app_android_download_url": "string", "mobile_app_ios_download_url": "string",
	"owns_custom_legal_docs": "bool", "platform_terms_url": "string", "privacy_policy_url": "string",
	"reg_server_url": "string", "router_url": "string", "service_name": "string", "smtp_encryption": "string",
	"smtp_override": "number", "smtp_password": "string", "smtp_port": "number", "smtp_reply_address": "string",
	"smtp_server": "string", "smtp_user": "string", "support_phone": "string", "support_url": "string",
	"terms_url": "string", "upsell_url": "string", "user_guide_url": "string", "white_labeled_agent": "bool",
}

// PlatformBrandID is the id of the platform's own brand, the effective brand of every tenant
// without custom branding above it.
const PlatformBrandID = "5b7c0e1a-3f2d-4c6e-9a8b-0d1e2f3a4b5c"

// platformBrand is what the root's brand looks like: the emulator's product, not a partner's.
var platformBrand = &brandRecord{
	ID: PlatformBrandID, BrandID: 1, Enabled: true,
	Options: map[string]json.RawMessage{
		"service_name":        json.RawMessage(`"Cyber Protect Cloud"`),
		"company_name":        json.RawMessage(`"Account Server Emulator"`),
		"color_scheme":        json.RawMessage(`"default"`),
		"white_labeled_agent": json.RawMessage(`false`),
	},
}

// maskedSecret is what answers show instead of the SMTP password; sending it back keeps the password.
const maskedSecret = "**********"

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// Brand returns a tenant's branding, enabled or not, for tests.
func (s *Server) Brand(tenantID string) (Brand, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.st.Ext.Brands[tenantID]
	t, tok := s.st.Tenants[tenantID]
	if !ok || !tok {
		return Brand{}, false
	}
	opts := map[string]any{}
	for k, v := range b.Options {
		var val any
		_ = json.Unmarshal(v, &val)
		opts[k] = val
	}
	return Brand{ID: b.ID, TenantID: tenantID, Version: t.Version, Enabled: b.Enabled, Options: opts, Logo: bytes.Clone(b.Logo)}, true
}

// effectiveBrandID is the brand in effect for a tenant: its own enabled branding, else the nearest
// ancestor's, else the platform's. Call with s.mu held.
func (s *Server) effectiveBrandID(tenantID string) string {
	for _, id := range s.tenantAncestry(tenantID) {
		if b := s.st.Ext.Brands[id]; b != nil && b.Enabled {
			return b.ID
		}
	}
	return PlatformBrandID
}

// renderBrand is the wire form: the options flattened next to id, tenant_id and version.
func renderBrand(t *Tenant, b *brandRecord) map[string]any {
	out := map[string]any{}
	for k, v := range b.Options {
		out[k] = v
	}
	if _, ok := b.Options["smtp_password"]; ok {
		out["smtp_password"] = maskedSecret
	}
	out["id"] = b.ID
	out["brand_id"] = b.BrandID
	out["tenant_id"] = t.ID
	out["version"] = t.Version
	return out
}

// brandWrite looks up the tenant, checks the version query parameter against the tenant's version
// and, with needEnabled, that branding is on. Call with s.mu held.
func (s *Server) brandWrite(c callerInfo, r *http.Request, needEnabled bool) (*Tenant, *brandRecord, *apiError) {
	version, e := queryVersion(r)
	if e != nil {
		return nil, nil, e
	}
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return nil, nil, e
	}
	if t.Kind != KindPartner && t.Kind != KindFolder {
		return nil, nil, errBadRequest("custom branding is available to partner and folder tenants only, not to a %s", t.Kind)
	}
	if e := checkVersion(t.Version, version); e != nil {
		return nil, nil, e
	}
	b := s.ext().Brands[t.ID]
	if needEnabled && (b == nil || !b.Enabled) {
		return nil, nil, errBadRequest("custom branding is not enabled for tenant %s", t.ID)
	}
	return t, b, nil
}

func (s *Server) getBrand(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	effective := false
	if v := r.URL.Query().Get("effective"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b, berr := strconv.ParseBool(v)
			if berr != nil {
				return errBadRequest("query parameter effective must be 0 or 1, got %q", v)
			}
			n = map[bool]int{true: 1}[b]
		}
		effective = n != 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	ids := []string{t.ID}
	if effective {
		ids = s.tenantAncestry(t.ID)
	}
	for _, id := range ids {
		if b := s.ext().Brands[id]; b != nil && b.Enabled {
			return reply(w, http.StatusOK, renderBrand(s.st.Tenants[id], b))
		}
	}
	if root, ok := s.st.Tenants[s.st.Bootstrap.RootTenantID]; effective && ok {
		return reply(w, http.StatusOK, renderBrand(root, platformBrand))
	}
	return errorf(http.StatusNotFound, 0, "custom branding is not enabled for tenant %s", t.ID)
}

func (s *Server) enableBrand(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, b, e := s.brandWrite(c, r, false)
	if e != nil {
		return e
	}
	if b != nil && b.Enabled {
		return errorf(http.StatusConflict, 0, "custom branding is already enabled for tenant %s", t.ID)
	}
	x := s.ext()
	if b == nil {
		x.LastBrandID = max(x.LastBrandID, platformBrand.BrandID) + 1
		b = &brandRecord{ID: newID(), BrandID: x.LastBrandID, Options: map[string]json.RawMessage{}}
		x.Brands[t.ID] = b
	}
	b.Enabled = true
	t.BrandEnabled = true
	t.BrandUUID = ptr(b.ID)
	t.BrandID = ptr(b.BrandID)
	s.touchTenant(t)
	// The official document answers brand writes with the tenant object, not the brand.
	return reply(w, http.StatusCreated, s.renderTenant(t))
}

func (s *Server) disableBrand(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, b, e := s.brandWrite(c, r, true)
	if e != nil {
		return e
	}
	b.Enabled = false
	t.BrandEnabled = false
	t.BrandUUID = nil
	t.BrandID = nil
	s.touchTenant(t)
	// The official document declares 204 with the tenant object as a JSON body. HTTP allows no body
	// in a 204, so net/http drops it on the way out: the client gets 204 with the JSON content type
	// and no body, and the emulator's response check sees the body the document declares.
	return reply(w, http.StatusNoContent, s.renderTenant(t))
}

func (s *Server) updateBrand(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req map[string]json.RawMessage
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req == nil {
		return errBadRequest("the request body must be a JSON object of branding options")
	}
	for _, k := range slices.Sorted(maps.Keys(req)) {
		if _, option := brandOptionKinds[k]; !option {
			// The official body is open and also carries the brand's read-only id: what is not an
			// option is ignored, so a client may send back what it read.
			delete(req, k)
			continue
		}
		if e := checkBrandOption(k, req[k]); e != nil {
			return e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, b, e := s.brandWrite(c, r, true)
	if e != nil {
		return e
	}
	changed := false
	for k, v := range req {
		if k == "smtp_password" && string(v) == strconv.Quote(maskedSecret) {
			continue
		}
		old, had := b.Options[k]
		if string(v) == "null" {
			if had {
				delete(b.Options, k)
				changed = true
			}
			continue
		}
		if !had || !bytes.Equal(old, v) {
			b.Options[k] = bytes.Clone(v)
			changed = true
		}
	}
	if changed {
		s.touchTenant(t)
	}
	return reply(w, http.StatusOK, s.renderTenant(t))
}

// checkBrandOption refuses unknown options and values of the wrong JSON kind; null clears an option.
func checkBrandOption(key string, raw json.RawMessage) *apiError {
	kind, ok := brandOptionKinds[key]
	if !ok {
		return errBadRequest("unknown branding option %q", key)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return errBadRequest("branding option %s: %v", key, err)
	}
	good := false
	switch v.(type) {
	case nil:
		good = true
	case string:
		good = kind == "string"
	case bool:
		good = kind == "bool"
	case float64:
		good = kind == "number"
	}
	if !good {
		return errBadRequest("branding option %s must be a %s", key, kind)
	}
	return nil
}

func (s *Server) uploadBrandLogo(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	if e := requireContentType(r, "image/png"); e != nil {
		return e
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return errBadRequest("reading the logo failed: %v", err)
	}
	if !bytes.HasPrefix(data, pngSignature) {
		return errBadRequest("the logo is not a PNG image")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, b, e := s.brandWrite(c, r, true)
	if e != nil {
		return e
	}
	b.Logo = data
	b.Options["logotype"] = json.RawMessage(strconv.Quote(newID()))
	s.touchTenant(t)
	return reply(w, http.StatusCreated, s.renderTenant(t))
}
