package emulator

import (
	"math"
	"net/http"
	"slices"
	"time"
)

// usageRecord is what has been reported for one usage name (and infrastructure) of one tenant.
// Values is keyed by resource id; the empty key is usage reported for the tenant as a whole.
type usageRecord struct {
	TenantID  string             `json:"tenant_id"`
	UsageName string             `json:"usage_name"`
	InfraID   string             `json:"infra_id,omitempty"`
	Values    map[string]float64 `json:"values"`
}

func (u *usageRecord) total() float64 {
	var sum float64
	for _, v := range u.Values {
		sum += v
	}
	return sum
}

func usageKey(tenantID, usageName, infraID string) string {
	return tenantID + "/" + usageName + "/" + infraID
}

// Usage is one entry of GET /tenants/{id}/usages (the official usageOutput, a closed object). Value
// counts what is charged to this offering item (usage of the tenant and of the sub-tenants that
// have the same item on); AbsoluteValue is all usage of the usage name in the subtree, whichever
// item it falls under. Both are whole numbers on the wire. TenantID is the tenant's numeric id
// (Server.TenantNumber); its UUID is TenantUUID.
type Usage struct {
	TenantID        int64             `json:"tenant_id"`
	TenantUUID      string            `json:"tenant_uuid"`
	ApplicationID   string            `json:"application_id"`
	Name            string            `json:"name"`
	UsageName       string            `json:"usage_name"`
	Edition         *string           `json:"edition"`
	Type            string            `json:"type"`
	MeasurementUnit string            `json:"measurement_unit"`
	InfraID         *string           `json:"infra_id,omitempty"`
	Value           float64           `json:"value"`
	AbsoluteValue   float64           `json:"absolute_value"`
	RangeStart      string            `json:"range_start"`
	OfferingItem    UsageOfferingItem `json:"offering_item"`
}

// UsageOfferingItem is the state of the item a usage is charged to.
type UsageOfferingItem struct {
	Status int   `json:"status"`
	Quota  Quota `json:"quota"`
}

// SetUsage records a tenant's usage, as the services would report it. infraID is needed for the
// usages of infra items (storage, fc_storage, dr_storage) and ignored otherwise.
func (s *Server) SetUsage(tenantID, usageName, infraID string, value float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setUsage(tenantID, usageName, infraID, "", value)
}

// setUsage records one value. Call with s.mu held.
func (s *Server) setUsage(tenantID, usageName, infraID, resourceID string, value float64) {
	if !isInfraUsage(usageName) {
		infraID = ""
	}
	x := s.ext()
	k := usageKey(tenantID, usageName, infraID)
	u, ok := x.Usages[k]
	if !ok {
		u = &usageRecord{TenantID: tenantID, UsageName: usageName, InfraID: infraID, Values: map[string]float64{}}
		x.Usages[k] = u
	}
	u.Values[resourceID] = value
}

// ownUsage is what a tenant itself reported, without its sub-tenants. Call with s.mu held.
func (s *Server) ownUsage(tenantID, usageName, infraID string) float64 {
	if u, ok := s.ext().Usages[usageKey(tenantID, usageName, infraID)]; ok {
		return u.total()
	}
	return 0
}

// itemUsage is the usage charged to a tenant's item: its own and that of every live sub-tenant
// whose usage of the same name goes to the same item. Call with s.mu held.
func (s *Server) itemUsage(tenantID string, it *OfferingItem) float64 {
	return s.itemUsageIn(s.tenantTree(tenantID, false), tenantID, it)
}

// itemUsageIn is itemUsage with the tenant's subtree (tenantTree) already
// listed: a tenant's usages list it once, not once per item. Call with s.mu
// held.
func (s *Server) itemUsageIn(tree []string, tenantID string, it *OfferingItem) float64 {
	var sum float64
	for _, id := range tree {
		c := s.chargedItem(id, it.UsageName, it.infraID())
		// A tenant's own usage still counts against an item it is about to turn on.
		if (c != nil && c.key() == it.key()) || (c == nil && id == tenantID) {
			sum += s.ownUsage(id, it.UsageName, it.infraID())
		}
	}
	return sum
}

// chargedItem is the item a tenant's usage of a name goes to: the first one that is on, in
// catalog order, so a partner holding two editions does not count the same usage twice.
// Call with s.mu held.
func (s *Server) chargedItem(tenantID, usageName, infraID string) *OfferingItem {
	for _, it := range s.ext().Items[tenantID] {
		if it.DeletedAt == nil && it.Status == 1 && it.UsageName == usageName && it.infraID() == infraID {
			return it
		}
	}
	return nil
}

// absoluteUsage is all usage of a usage name in a subtree (tenantTree). Call
// with s.mu held.
func (s *Server) absoluteUsage(tree []string, usageName, infraID string) float64 {
	var sum float64
	for _, id := range tree {
		sum += s.ownUsage(id, usageName, infraID)
	}
	return sum
}

// usagesOf lists a tenant's usages filtered by usage names and editions (items without an edition
// always pass). Call with s.mu held.
func (s *Server) usagesOf(t *Tenant, usageNames, editions []string) []Usage {
	rangeStart := monthStart(s.now()).Format("2006-01-02T15:04:05")
	f := itemFilter{usageNames: usageNames, editions: editions}
	out := []Usage{}
	// The subtree once: listing it walks the whole store.
	tree := s.tenantTree(t.ID, false)
	for _, it := range s.ext().Items[t.ID] {
		if it.DeletedAt != nil || !f.match(it) {
			continue
		}
		c := it.clone()
		value := 0.0
		if it.Status == 1 {
			value = s.itemUsageIn(tree, t.ID, it)
		}
		out = append(out, Usage{
			TenantID:        s.tenantNumber(t.ID),
			TenantUUID:      t.ID,
			ApplicationID:   c.ApplicationID,
			Name:            c.Name,
			UsageName:       c.UsageName,
			Edition:         c.Edition,
			Type:            c.Type,
			MeasurementUnit: c.MeasurementUnit,
			InfraID:         c.InfraID,
			Value:           math.Round(value),
			AbsoluteValue:   math.Round(s.absoluteUsage(tree, it.UsageName, it.infraID())),
			RangeStart:      rangeStart,
			OfferingItem:    UsageOfferingItem{Status: c.Status, Quota: c.Quota},
		})
	}
	return out
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func (s *Server) getUsages(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("tenant_id"), false)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, map[string]any{"items": s.usagesOf(t, csvList(r, "usage_names"), csvList(r, "editions"))})
}

func (s *Server) batchUsages(w http.ResponseWriter, r *http.Request) *apiError {
	return serveBatch(s, w, r, "tenants", s.readTenant, func(_ callerInfo, t *Tenant) TenantUsages {
		return TenantUsages{Tenant: t.ID, Usages: s.usagesOf(t, csvList(r, "usage_names"), csvList(r, "editions"))}
	})
}

// TenantUsages is one entry of GET /tenants/usages: a requested tenant and its usages.
type TenantUsages struct {
	Tenant string  `json:"tenant"`
	Usages []Usage `json:"usages"`
}

// UsageReportItem is one entry of PUT /tenants/usages.
type UsageReportItem struct {
	TenantID     string   `json:"tenant_id"`
	ResourceID   string   `json:"resource_id"`
	UsageType    string   `json:"usage_type"`
	OfferingItem string   `json:"offering_item"`
	InfraID      string   `json:"infra_id"`
	UsageValue   *float64 `json:"usage_value"`
}

// UsageReportResult echoes an entry with its outcome; Error is set only when it failed, and is the
// whole error body ({"error": {...}}), as the official document gives it.
type UsageReportResult struct {
	UsageReportItem
	Error *ErrorBody `json:"error,omitempty"`
}

// reportUsages is the services' usage feed. The reference restricts it to clients registered in the
// root tenant; every entry succeeds or fails on its own.
func (s *Server) reportUsages(w http.ResponseWriter, r *http.Request) *apiError {
	c := s.caller(r)
	var req struct {
		Items []UsageReportItem `json:"items"`
	}
	// The official body and its items are open: keys the emulator does not know are ignored.
	if e := s.decodeJSON(r, &req, true); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.TenantID != s.st.Bootstrap.RootTenantID {
		return errorf(http.StatusForbidden, codeAccessDenied, "usages can be reported only by clients of the root tenant")
	}
	out := make([]UsageReportResult, 0, len(req.Items))
	for _, it := range req.Items {
		res := UsageReportResult{UsageReportItem: it}
		if e := s.applyUsageReport(c, it); e != nil {
			res.Error = &ErrorBody{Error: ErrorObject{Code: e.code(), Message: e.Message, Details: ErrorDetails{Info: e.Message}, Context: map[string]any{}, Domain: errorDomain}}
		}
		out = append(out, res)
	}
	return reply(w, http.StatusOK, map[string]any{"items": out})
}

// applyUsageReport validates and records one usage entry. Call with s.mu held.
func (s *Server) applyUsageReport(c callerInfo, it UsageReportItem) *apiError {
	t, e := s.lookupTenant(c, it.TenantID, false)
	if e != nil {
		return e
	}
	usageName := it.UsageType
	if it.OfferingItem != "" {
		i := slices.IndexFunc(catalog.Items, func(sp itemSpec) bool { return sp.Name == it.OfferingItem })
		if i < 0 {
			return errBadRequest("unknown offering item %q", it.OfferingItem)
		}
		if usageName != "" && usageName != catalog.Items[i].UsageName {
			return errBadRequest("offering item %s counts usage %s, not %s", it.OfferingItem, catalog.Items[i].UsageName, usageName)
		}
		usageName = catalog.Items[i].UsageName
	}
	if e := s.validateUsage(usageName, it.InfraID); e != nil {
		return e
	}
	if it.UsageValue == nil || *it.UsageValue < 0 {
		return errBadRequest("usage_value is required and must not be negative")
	}
	s.setUsage(t.ID, usageName, it.InfraID, it.ResourceID, *it.UsageValue)
	return nil
}

// validateUsage checks a usage name and, for infra usages, the infrastructure. Call with s.mu held.
func (s *Server) validateUsage(usageName, infraID string) *apiError {
	if usageName == "" {
		return errBadRequest("usage_type or offering_item is required")
	}
	if !knownUsage(usageName) {
		return errBadRequest("unknown usage name %q", usageName)
	}
	if isInfraUsage(usageName) {
		if infraID == "" {
			return errBadRequest("usage %s is counted per infrastructure: infra_id is required", usageName)
		}
		if _, ok := s.ext().Infras[infraID]; !ok {
			return errNotFound("infrastructure", infraID)
		}
	}
	return nil
}

// AdminUsage is the body of PUT /_emulator/usages.
type AdminUsage struct {
	TenantID  string   `json:"tenant_id"`
	UsageName string   `json:"usage_name"`
	InfraID   string   `json:"infra_id,omitempty"`
	Value     *float64 `json:"value"`
}

// serveAdminUsages lets tests create usage without a root client: PUT /_emulator/usages.
func (s *Server) serveAdminUsages(w http.ResponseWriter, r *http.Request) *apiError {
	if r.Method != http.MethodPut {
		return methodNotAllowed(w, "PUT")
	}
	var req AdminUsage
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.st.Tenants[req.TenantID]
	if !ok || t.DeletedAt != nil {
		return errNotFound("tenant", req.TenantID)
	}
	if e := s.validateUsage(req.UsageName, req.InfraID); e != nil {
		return e
	}
	if req.Value == nil || *req.Value < 0 {
		return errBadRequest("value is required and must not be negative")
	}
	s.setUsage(t.ID, req.UsageName, req.InfraID, "", *req.Value)
	return replyStatus(w, http.StatusNoContent)
}
