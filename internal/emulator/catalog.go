package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
)

// Well-known ids of the seeded catalog. The application and infrastructure ids are the ones the
// reference's request examples use, so those examples run unchanged against the emulator.
const (
	// CyberProtectionAppID is the "Cyber Protection" application (type backup).
	CyberProtectionAppID = "a9fd8016-0e00-4ade-949e-6efe8672dac0"
	// FileSyncShareAppID is the "File Sync & Share" application (type files_cloud).
	FileSyncShareAppID = "71739a04-177f-4603-84ad-54a326ba76e4"
	// DisasterRecoveryAppID is the "Disaster Recovery" application (type backup: the official
	// document has no disaster_recovery application type), the one the reference's edition switch
	// example targets.
	DisasterRecoveryAppID = "c6ab7fb4-b461-4214-9257-86fbad8efb85"

	// DefaultLocationID is the platform-owned location seeded at start.
	DefaultLocationID = "bfdf24b0-5a72-49a8-a2bd-2fc7c085ff7b"
	// DefaultInfraID is the platform-owned "Default storage" (capabilities backup and disaster_recovery).
	DefaultInfraID = "4a2cbe2d-b7ab-4b17-9cba-10c7eb55de01"
	// DefaultFilesInfraID is the platform-owned "Default files storage" (capability files_cloud).
	DefaultFilesInfraID = "4fff10c4-1378-4bfc-877d-b66a0f8805ed"
)

// Editions of the seeded applications.
const (
	EditionStandard         = "standard"
	EditionAdvanced         = "advanced"
	EditionDisasterRecovery = "disaster_recovery"
)

// Offering item types and measurement units as the reference names them.
const (
	ItemTypeCount   = "count"
	ItemTypeFeature = "feature"
	ItemTypeInfra   = "infra"

	UnitBytes    = "bytes"
	UnitQuantity = "quantity"
	UnitSeconds  = "seconds"
	UnitNA       = "n/a"
)

// Infrastructure capabilities the reference allows.
var infraCapabilities = []string{"backup", "disaster_recovery", "files_cloud", "vcd"}

// Application is the account server's application (service) object.
type Application struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Type       string   `json:"type"`
	Usages     []string `json:"usages"`
	APIBaseURL string   `json:"api_base_url"`
}

// itemSpec describes one offering item of the catalog; infra items exist once per infrastructure
// that has the item's capability.
type itemSpec struct {
	App        string
	Name       string
	Edition    string // empty: the item belongs to no edition and survives every edition filter
	UsageName  string
	Type       string
	Unit       string
	Capability string // infra items only
	// DependsOn names an item of the same application that must be on while this one is on.
	DependsOn string
}

func (sp itemSpec) edition() *string {
	if sp.Edition == "" {
		return nil
	}
	return ptr(sp.Edition)
}

// catalog is fixed: the vendor's applications are not created through the API.
var catalog = struct {
	Apps  []Application
	Items []itemSpec
	// Editions lists each application's editions in the order a new customer prefers them.
	Editions map[string][]string
}{
	Apps: []Application{
		{ID: CyberProtectionAppID, Name: "Cyber Protection", Type: "backup", APIBaseURL: "/api/1"},
		{ID: FileSyncShareAppID, Name: "File Sync & Share", Type: "files_cloud", APIBaseURL: "/fc/api/v1"},
		{ID: DisasterRecoveryAppID, Name: "Disaster Recovery", Type: "backup", APIBaseURL: "/api/dr/v1"},
	},
	Items: []itemSpec{
		{App: CyberProtectionAppID, Name: "workstations", Edition: EditionStandard, UsageName: "workstations", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "servers", Edition: EditionStandard, UsageName: "servers", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "vms", Edition: EditionStandard, UsageName: "vms", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "mobiles", Edition: EditionStandard, UsageName: "mobiles", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "adv_workstations", Edition: EditionAdvanced, UsageName: "workstations", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "adv_servers", Edition: EditionAdvanced, UsageName: "servers", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "adv_vms", Edition: EditionAdvanced, UsageName: "vms", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "adv_mobiles", Edition: EditionAdvanced, UsageName: "mobiles", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: CyberProtectionAppID, Name: "local_backup", UsageName: "local_backup", Type: ItemTypeFeature, Unit: UnitNA},
		{App: CyberProtectionAppID, Name: "storage", UsageName: "storage", Type: ItemTypeInfra, Unit: UnitBytes, Capability: "backup"},

		{App: FileSyncShareAppID, Name: "fc_seats", UsageName: "fc_seats", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: FileSyncShareAppID, Name: "fc_storage", UsageName: "fc_storage", Type: ItemTypeInfra, Unit: UnitBytes, Capability: "files_cloud", DependsOn: "fc_seats"},

		{App: DisasterRecoveryAppID, Name: "dr_cloud_servers", Edition: EditionStandard, UsageName: "cloud_servers", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: DisasterRecoveryAppID, Name: "dr_public_ips", Edition: EditionStandard, UsageName: "public_ips", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: DisasterRecoveryAppID, Name: "cloud_servers", Edition: EditionDisasterRecovery, UsageName: "cloud_servers", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: DisasterRecoveryAppID, Name: "public_ips", Edition: EditionDisasterRecovery, UsageName: "public_ips", Type: ItemTypeCount, Unit: UnitQuantity},
		{App: DisasterRecoveryAppID, Name: "compute_points", Edition: EditionDisasterRecovery, UsageName: "compute_points", Type: ItemTypeCount, Unit: UnitSeconds, DependsOn: "cloud_servers"},
		{App: DisasterRecoveryAppID, Name: "dr_storage", UsageName: "dr_storage", Type: ItemTypeInfra, Unit: UnitBytes, Capability: "disaster_recovery"},
	},
	Editions: map[string][]string{
		CyberProtectionAppID:  {EditionStandard, EditionAdvanced},
		DisasterRecoveryAppID: {EditionStandard, EditionDisasterRecovery},
	},
}

func init() {
	for i := range catalog.Apps {
		app := &catalog.Apps[i]
		app.Usages = []string{}
		for _, sp := range catalog.Items {
			if sp.App == app.ID && !slices.Contains(app.Usages, sp.UsageName) {
				app.Usages = append(app.Usages, sp.UsageName)
			}
		}
	}
}

func findApp(id string) (Application, bool) {
	i := slices.IndexFunc(catalog.Apps, func(a Application) bool { return a.ID == id })
	if i < 0 {
		return Application{}, false
	}
	return cloneApp(catalog.Apps[i]), true
}

func cloneApp(a Application) Application {
	a.Usages = slices.Clone(a.Usages)
	return a
}

func findSpec(appID, name string) (itemSpec, bool) {
	i := slices.IndexFunc(catalog.Items, func(sp itemSpec) bool { return sp.App == appID && sp.Name == name })
	if i < 0 {
		return itemSpec{}, false
	}
	return catalog.Items[i], true
}

// isInfraUsage says whether a usage name is counted per infrastructure.
func isInfraUsage(usageName string) bool {
	return slices.ContainsFunc(catalog.Items, func(sp itemSpec) bool { return sp.UsageName == usageName && sp.Type == ItemTypeInfra })
}

func knownUsage(usageName string) bool {
	return slices.ContainsFunc(catalog.Items, func(sp itemSpec) bool { return sp.UsageName == usageName })
}

func appEditions(appID string) []string { return catalog.Editions[appID] }

// Applications returns the catalog.
func (s *Server) Applications() []Application {
	out := make([]Application, 0, len(catalog.Apps))
	for _, a := range catalog.Apps {
		out = append(out, cloneApp(a))
	}
	return out
}

// Bindings returns the ids of the applications turned on for a tenant, in catalog order.
func (s *Server) Bindings(tenantID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.st.Ext.Bindings[tenantID])
}

func (s *Server) listApplications(w http.ResponseWriter, r *http.Request) *apiError {
	return reply(w, http.StatusOK, map[string]any{"items": s.Applications()})
}

func (s *Server) getApplication(w http.ResponseWriter, r *http.Request) *apiError {
	app, ok := findApp(r.PathValue("application_id"))
	if !ok {
		return errNotFound("application", r.PathValue("application_id"))
	}
	return reply(w, http.StatusOK, app)
}

func (s *Server) listTenantApplications(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, map[string]any{"items": nonNil(s.st.Ext.Bindings[t.ID])})
}

// TenantApplications is one entry of GET /tenants/applications: a requested tenant and the
// applications turned on for it.
type TenantApplications struct {
	TenantID     string   `json:"tenant"`
	Applications []string `json:"applications"`
}

func (s *Server) listTenantsApplications(w http.ResponseWriter, r *http.Request) *apiError {
	return serveBatch(s, w, r, "tenants", s.readTenant, func(_ callerInfo, t *Tenant) TenantApplications {
		return TenantApplications{TenantID: t.ID, Applications: nonNil(s.st.Ext.Bindings[t.ID])}
	})
}

// bindApplication turns a service on: the tenant's parent must have it, and the tenant gets the
// items its parent makes available, as the management portal does when a service is ticked.
func (s *Server) bindApplication(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	appID := r.PathValue("application_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	if _, ok := findApp(appID); !ok {
		return errNotFound("application", appID)
	}
	x := s.ext()
	if !s.isTopTenant(t) && !slices.Contains(x.Bindings[t.ParentID], appID) {
		return errorf(http.StatusBadRequest, codeCannotEnableService,
			"application %s cannot be turned on for tenant %s: its parent tenant does not have it", appID, t.ID)
	}
	if !slices.Contains(x.Bindings[t.ID], appID) {
		s.bind(t.ID, appID)
		if !slices.ContainsFunc(x.Items[t.ID], func(it *OfferingItem) bool { return it.ApplicationID == appID && it.Status == 1 && it.DeletedAt == nil }) {
			now := s.timestamp()
			for _, it := range s.inheritedItems(t) {
				if it.ApplicationID != appID || it.Status != 1 {
					continue
				}
				if cur := s.findItem(t.ID, it.key()); cur != nil {
					cur.Status = 1
					cur.UpdatedAt = now
					cur.Quota.Version = s.nextVersion()
				}
			}
		}
	}
	return replyStatus(w, http.StatusNoContent)
}

// unbindApplication turns a service off for the tenant and everything below it.
func (s *Server) unbindApplication(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	appID := r.PathValue("application_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	if _, ok := findApp(appID); !ok {
		return errNotFound("application", appID)
	}
	x := s.ext()
	now := s.timestamp()
	for _, id := range s.tenantTree(t.ID, true) {
		x.Bindings[id] = slices.DeleteFunc(x.Bindings[id], func(a string) bool { return a == appID })
		for _, it := range x.Items[id] {
			if it.ApplicationID == appID && it.Status == 1 {
				it.Status = 0
				it.UpdatedAt = now
				it.Quota.Version = s.nextVersion()
			}
		}
	}
	return replyStatus(w, http.StatusNoContent)
}

// bind records a binding, keeping the catalog's order so answers are stable. Call with s.mu held.
func (s *Server) bind(tenantID, appID string) {
	x := s.ext()
	if slices.Contains(x.Bindings[tenantID], appID) {
		return
	}
	var out []string
	for _, a := range catalog.Apps {
		if a.ID == appID || slices.Contains(x.Bindings[tenantID], a.ID) {
			out = append(out, a.ID)
		}
	}
	x.Bindings[tenantID] = out
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return slices.Clone(v)
}

// appSetting is a tenant's own value of an application setting.
type appSetting struct {
	Value     json.RawMessage `json:"value"`
	Lock      bool            `json:"lock"`
	Exclusive bool            `json:"exclusive"`
}

// AppSetting is the answer of the application settings endpoints, in the official document's
// shape: the tenant's own value (null when it has none) and the value in effect with its owner
// (null when none applies).
type AppSetting struct {
	Name          string            `json:"name"`
	ApplicationID string            `json:"application_id"`
	Own           *OwnSetting       `json:"own"`
	Effective     *EffectiveSetting `json:"effective"`
}

// OwnSetting is a tenant's own value of a setting.
type OwnSetting struct {
	Value     json.RawMessage `json:"value"`
	Lock      bool            `json:"lock"`
	Exclusive bool            `json:"exclusive"`
}

// EffectiveSetting is the value of a setting in effect for a tenant and the tenant it comes from.
type EffectiveSetting struct {
	Owner SettingOwner    `json:"owner"`
	Value json.RawMessage `json:"value"`
	Lock  bool            `json:"lock"`
}

// SettingOwner names where a value comes from; the emulator's settings all belong to tenants.
type SettingOwner struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func settingKey(appID, name string) string { return appID + "/" + name }

// settingTarget resolves the path of a settings request. Call with s.mu held.
func (s *Server) settingTarget(r *http.Request) (*Tenant, string, *apiError) {
	appID := r.PathValue("application_id")
	t, e := s.lookupTenant(s.caller(r), r.PathValue("tenant_id"), false)
	if e != nil {
		return nil, "", e
	}
	if _, ok := findApp(appID); !ok {
		return nil, "", errNotFound("application", appID)
	}
	return t, settingKey(appID, r.PathValue("setting_name")), nil
}

// effectiveSetting walks up from the tenant: its own value, else the nearest ancestor's, skipping
// exclusive values set above the tenant (they apply to their owner only). Call with s.mu held.
func (s *Server) effectiveSetting(t *Tenant, key string) (*appSetting, string) {
	for i, id := range s.tenantAncestry(t.ID) {
		if v, ok := s.ext().Settings[id][key]; ok && (i == 0 || !v.Exclusive) {
			return v, id
		}
	}
	return nil, ""
}

// lockedAbove says which ancestor, if any, locked the setting against overrides. Call with s.mu held.
func (s *Server) lockedAbove(t *Tenant, key string) string {
	for _, id := range s.tenantAncestry(t.ID)[1:] {
		if v, ok := s.ext().Settings[id][key]; ok && v.Lock {
			return id
		}
	}
	return ""
}

// renderSetting answers a setting of t: its own value, if any, and the value in effect.
// Call with s.mu held.
func (s *Server) renderSetting(r *http.Request, t *Tenant, key string) AppSetting {
	out := AppSetting{Name: r.PathValue("setting_name"), ApplicationID: r.PathValue("application_id")}
	if own, ok := s.ext().Settings[t.ID][key]; ok {
		out.Own = &OwnSetting{Value: bytes.Clone(own.Value), Lock: own.Lock, Exclusive: own.Exclusive}
	}
	if v, from := s.effectiveSetting(t, key); v != nil {
		out.Effective = &EffectiveSetting{Owner: SettingOwner{Type: "tenant", ID: from}, Value: bytes.Clone(v.Value), Lock: v.Lock}
	}
	return out
}

func (s *Server) getAppSetting(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, key, e := s.settingTarget(r)
	if e != nil {
		return e
	}
	if v, _ := s.effectiveSetting(t, key); v == nil {
		return errNotFound("setting", r.PathValue("setting_name"))
	}
	return reply(w, http.StatusOK, s.renderSetting(r, t, key))
}

// AppSettingRequest is the body of PUT /applications/{app}/settings/tenants/{tenant}/{name}.
type AppSettingRequest struct {
	Value     json.RawMessage `json:"value"`
	Lock      bool            `json:"lock"`
	Exclusive bool            `json:"exclusive"`
}

func (s *Server) putAppSetting(w http.ResponseWriter, r *http.Request) *apiError {
	var req AppSettingRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, key, e := s.settingTarget(r)
	if e != nil {
		return e
	}
	if by := s.lockedAbove(t, key); by != "" {
		return errorf(http.StatusForbidden, codeAccessDenied, "setting %s is locked by tenant %s", r.PathValue("setting_name"), by)
	}
	x := s.ext()
	if x.Settings[t.ID] == nil {
		x.Settings[t.ID] = map[string]*appSetting{}
	}
	value := bytes.Clone(req.Value)
	if len(value) == 0 {
		// value is optional in the official body: without it only lock and exclusive change, and
		// the tenant's own value stays (null when it has none; assumed).
		value = json.RawMessage("null")
		if old, ok := x.Settings[t.ID][key]; ok {
			value = old.Value
		}
	}
	v := &appSetting{Value: value, Lock: req.Lock, Exclusive: req.Exclusive}
	x.Settings[t.ID][key] = v
	return reply(w, http.StatusOK, s.renderSetting(r, t, key))
}

func (s *Server) deleteAppSetting(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, key, e := s.settingTarget(r)
	if e != nil {
		return e
	}
	if _, ok := s.ext().Settings[t.ID][key]; !ok {
		return errorf(http.StatusNotFound, 0, "tenant %s has no own value of setting %s", t.ID, r.PathValue("setting_name"))
	}
	delete(s.ext().Settings[t.ID], key)
	return replyStatus(w, http.StatusNoContent)
}
