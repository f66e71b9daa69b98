package emulator

import (
	"slices"
)

// stateExt is the part of the persisted state owned by the catalog, offering item, usage, report,
// location, infrastructure and brand code. Its zero value is usable: ext() fills the maps.
type stateExt struct {
	// Items holds each tenant's offering items, one per catalog item (and infrastructure for infra items).
	Items map[string][]*OfferingItem `json:"items"`
	// Bindings holds the application ids turned on for each tenant.
	Bindings map[string][]string `json:"bindings"`
	// Usages is keyed by usageKey(tenant, usage name, infra).
	Usages    map[string]*usageRecord  `json:"usages"`
	Reports   map[string]*reportRecord `json:"reports"`
	Locations map[string]*Location     `json:"locations"`
	Infras    map[string]*Infra        `json:"infras"`
	Brands    map[string]*brandRecord  `json:"brands"`
	// Settings holds each tenant's own application settings, keyed by settingKey.
	Settings map[string]map[string]*appSetting `json:"settings"`
	// Prices holds each tenant's offering item prices, keyed by item key.
	Prices map[string]map[string]*ItemPrice `json:"prices"`
	// LastBrandID numbers brands: the tenant object carries a legacy integer brand_id next to brand_uuid.
	LastBrandID int64 `json:"last_brand_id"`
	// RegTokens holds the registration tokens by decimal id, revoked ones included
	// (registrationtokens.go); LastRegTokenID numbers them.
	RegTokens      map[string]*regTokenRecord `json:"registration_tokens"`
	LastRegTokenID int64                      `json:"last_registration_token_id"`
	// Registrations records every attempt at the registration stand-in, oldest first.
	Registrations []Registration `json:"registrations"`
	// AllOn marks the tenants that hold every offering item whatever their parent has: the root and
	// the seeded Provider partner, so the bootstrap client starts with the whole catalog to hand out.
	AllOn map[string]bool `json:"all_on"`
}

// ext returns the extension state with its maps allocated. Call with s.mu held.
func (s *Server) ext() *stateExt {
	x := &s.st.Ext
	if x.Items == nil {
		x.Items = map[string][]*OfferingItem{}
	}
	if x.Bindings == nil {
		x.Bindings = map[string][]string{}
	}
	if x.Usages == nil {
		x.Usages = map[string]*usageRecord{}
	}
	if x.Reports == nil {
		x.Reports = map[string]*reportRecord{}
	}
	if x.Locations == nil {
		x.Locations = map[string]*Location{}
	}
	if x.Infras == nil {
		x.Infras = map[string]*Infra{}
	}
	if x.Brands == nil {
		x.Brands = map[string]*brandRecord{}
	}
	if x.Settings == nil {
		x.Settings = map[string]map[string]*appSetting{}
	}
	if x.Prices == nil {
		x.Prices = map[string]map[string]*ItemPrice{}
	}
	if x.RegTokens == nil {
		x.RegTokens = map[string]*regTokenRecord{}
	}
	if x.AllOn == nil {
		x.AllOn = map[string]bool{}
	}
	return x
}

// onTenantCreated is called with the store lock held after a tenant is inserted: the new tenant
// inherits its parent's services and offering items, with unlimited quotas.
func (s *Server) onTenantCreated(t *Tenant) {
	x := s.ext()
	if s.isTopTenant(t) {
		s.seedInfrastructure(t.ID)
		x.AllOn[t.ID] = true
	} else if s.st.Bootstrap.TenantID == "" && t.Kind == KindPartner && t.Name == providerTenantName {
		// Bootstrap is filled only after the seed's tenants exist, so an empty one means this is the
		// seeded Provider partner and not a later tenant that happens to share its name.
		x.AllOn[t.ID] = true
	}
	if x.AllOn[t.ID] {
		for _, a := range catalog.Apps {
			s.bind(t.ID, a.ID)
		}
	} else {
		x.Bindings[t.ID] = slices.Clone(x.Bindings[t.ParentID])
	}
	x.Items[t.ID] = s.inheritedItems(t)
}

// isTopTenant says whether t has no parent to inherit from.
func (s *Server) isTopTenant(t *Tenant) bool {
	return t.Kind == KindRoot || t.ParentID == t.ID || t.ParentID == ""
}

// seedInfrastructure makes the platform's default location and storages. Call with s.mu held.
func (s *Server) seedInfrastructure(rootID string) {
	x := s.ext()
	if _, ok := x.Locations[DefaultLocationID]; !ok {
		x.Locations[DefaultLocationID] = &Location{
			ID: DefaultLocationID, OwnerTenantID: rootID, PlatformOwned: true,
			Name: "Default location", Version: s.nextVersion(),
		}
	}
	seeds := []Infra{
		{ID: DefaultInfraID, Name: "Default storage", URL: "acronis+fes://storage.emulator.invalid:44445",
			Capabilities: []string{"backup", "disaster_recovery"}},
		{ID: DefaultFilesInfraID, Name: "Default files storage", URL: "acronis+fes://files.emulator.invalid:44445",
			Capabilities: []string{"files_cloud"}},
	}
	for _, in := range seeds {
		if _, ok := x.Infras[in.ID]; ok {
			continue
		}
		in.OwnerTenantID = rootID
		in.LocationID = DefaultLocationID
		in.PlatformOwned = true
		in.ContentURL = ptr("https://browse." + hostOf(in.URL) + "/")
		in.ContentMobileURL = ptr("https://browse." + hostOf(in.URL) + "/mobile/")
		in.BackendType = "acronis"
		in.Version = s.nextVersion()
		x.Infras[in.ID] = &in
	}
}

// inheritedItems builds the offering items a tenant starts with: everything its parent has on (all
// of the catalog for the root and Provider), limited to one edition per application for customers
// and units, with unlimited quotas. Call with s.mu held.
func (s *Server) inheritedItems(t *Tenant) []*OfferingItem {
	x := s.ext()
	now := s.timestamp()
	var out []*OfferingItem
	for _, sp := range catalog.Items {
		for _, infraID := range s.infrasFor(t.ID, sp) {
			on := x.AllOn[t.ID]
			if infraID != "" && x.Infras[infraID].OwnerTenantID == t.ID {
				on = true
			}
			if !on && !s.isTopTenant(t) {
				if p := s.findItem(t.ParentID, itemKey(sp.App, sp.Name, infraID)); p != nil && p.Status == 1 {
					on = true
				}
			}
			out = append(out, s.newItem(t.ID, sp, infraID, on, now))
		}
	}
	if holdsOneEdition(t) {
		for appID, editions := range catalog.Editions {
			keep := ""
			for _, ed := range editions {
				if slices.ContainsFunc(out, func(it *OfferingItem) bool {
					return it.ApplicationID == appID && it.Status == 1 && it.editionName() == ed
				}) {
					keep = ed
					break
				}
			}
			for _, it := range out {
				if it.ApplicationID == appID && it.editionName() != "" && it.editionName() != keep {
					it.Status = 0
				}
			}
		}
	}
	return out
}

func (s *Server) newItem(tenantID string, sp itemSpec, infraID string, on bool, now string) *OfferingItem {
	it := &OfferingItem{
		ApplicationID:   sp.App,
		Name:            sp.Name,
		Edition:         sp.edition(),
		UsageName:       sp.UsageName,
		TenantID:        tenantID,
		UpdatedAt:       now,
		Type:            sp.Type,
		MeasurementUnit: sp.Unit,
		Quota:           Quota{Version: s.nextVersion()},
	}
	if on {
		it.Status = 1
	}
	if infraID != "" {
		it.InfraID = ptr(infraID)
	}
	return it
}

// infrasFor lists the infrastructures a tenant may hold an item of sp on: those with the item's
// capability owned by the tenant or one of its ancestors. Non-infra items get one empty entry.
func (s *Server) infrasFor(tenantID string, sp itemSpec) []string {
	if sp.Type != ItemTypeInfra {
		return []string{""}
	}
	x := s.ext()
	owners := s.tenantAncestry(tenantID)
	var ids []string
	for id, in := range x.Infras {
		if slices.Contains(in.Capabilities, sp.Capability) && slices.Contains(owners, in.OwnerTenantID) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// tenantAncestry lists a tenant and its ancestors up to the root. Call with s.mu held.
func (s *Server) tenantAncestry(tenantID string) []string {
	var out []string
	id := tenantID
	for range 1000 {
		t, ok := s.st.Tenants[id]
		if !ok {
			break
		}
		out = append(out, id)
		if s.isTopTenant(t) {
			break
		}
		id = t.ParentID
	}
	return out
}

// tenantTree lists a tenant and its descendants, parents before children. Soft-deleted tenants are
// included only with withDeleted. Call with s.mu held.
func (s *Server) tenantTree(rootID string, withDeleted bool) []string {
	children := map[string][]string{}
	for id, t := range s.st.Tenants {
		if t.ParentID != id && (withDeleted || t.DeletedAt == nil) {
			children[t.ParentID] = append(children[t.ParentID], id)
		}
	}
	out := []string{rootID}
	for i := 0; i < len(out); i++ {
		kids := children[out[i]]
		slices.Sort(kids)
		out = append(out, kids...)
	}
	return out
}

// findItem finds a tenant's live offering item by key. Call with s.mu held.
func (s *Server) findItem(tenantID, key string) *OfferingItem {
	for _, it := range s.ext().Items[tenantID] {
		if it.DeletedAt == nil && it.key() == key {
			return it
		}
	}
	return nil
}
