package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// kindPersonal marks the hidden tenant the server makes for each user in a customer or unit. It is
// reachable by id but never listed as a child, searched, or counted as a sibling.
const kindPersonal = "personal"

// allowedChildKinds is the reference's kind rule: which kinds may sit directly under which.
var allowedChildKinds = map[string][]string{
	KindRoot:     {KindPartner, KindFolder, KindCustomer},
	KindPartner:  {KindPartner, KindFolder, KindCustomer},
	KindFolder:   {KindPartner, KindFolder, KindCustomer},
	KindCustomer: {KindUnit},
	KindUnit:     {KindUnit},
}

var customerTypes = []string{"default", "enterprise", "consumer", "small_office", "ti_unified"}

var externalOperationStatuses = []string{"no_operation", "deleting", "recovering"}

func checkKindUnder(parentKind, kind string) *apiError {
	if !slices.Contains(allowedChildKinds[parentKind], kind) {
		return errBadRequest("a tenant of kind %s cannot be placed under a tenant of kind %s", kind, parentKind)
	}
	return nil
}

// newTenantObject fills the defaults a freshly created tenant has on the vendor's server.
func (s *Server) newTenantObject(id, name, parentID, kind string) *Tenant {
	pricing := "trial"
	if kind == KindRoot {
		pricing = "production"
	}
	return &Tenant{
		ID:              id,
		Name:            name,
		CustomerType:    "default",
		ParentID:        parentID,
		Kind:            kind,
		Contacts:        []Contact{},
		Enabled:         true,
		Language:        "en",
		DefaultIDPID:    defaultIDPID,
		AncestralAccess: true,
		MFAStatus:       "disabled",
		PricingMode:     pricing,
	}
}

// insertTenant stamps and stores a new tenant and lets the offering code inherit its items.
// Call with s.mu held.
func (s *Server) insertTenant(t *Tenant) {
	now := s.timestamp()
	t.Version = s.nextVersion()
	t.CreatedAt, t.UpdatedAt = now, now
	s.st.Tenants[t.ID] = t
	s.assignSeq(t.ID)
	s.tenantNumber(t.ID)
	p := &Pricing{Mode: t.PricingMode, Version: s.nextVersion()}
	if t.PricingMode == "production" {
		p.ProductionStartDate = ptr(now)
		t.ProductionStartDate = ptr(now)
	}
	s.st.Pricing[t.ID] = p
	s.onTenantCreated(t)
}

// touchTenant records a change of t. Call with s.mu held.
func (s *Server) touchTenant(t *Tenant) {
	t.Version = s.nextVersion()
	t.UpdatedAt = s.timestamp()
}

// renderTenant copies t for an answer, with the fields derived from the rest of the store.
// Call with s.mu held.
func (s *Server) renderTenant(t *Tenant) Tenant {
	out := *t
	out.Contact = renderContact(t.Contact, "tenant/"+t.ID, t.CreatedAt, t.UpdatedAt)
	out.Contacts = make([]Contact, 0, len(t.Contacts))
	for i, c := range t.Contacts {
		out.Contacts = append(out.Contacts, renderContact(c, fmt.Sprintf("tenant/%s/contacts/%d", t.ID, i), t.CreatedAt, t.UpdatedAt))
	}
	out.HasChildren = len(s.childTenants(t.ID, false)) > 0
	if t.Kind == kindPersonal {
		// The official document has no kind for a user's personal tenant; it shows as a unit, the
		// kind that may sit where personal tenants do (not in the official schema).
		out.Kind = KindUnit
	}
	// brand_uuid names the brand in effect: the tenant's own, the nearest ancestor's, or the
	// platform's. The official document requires it in GET /tenants (lod=full) and gives it no null;
	// which brand it names is not in the official schema.
	out.BrandUUID = ptr(s.effectiveBrandID(t.ID))
	// A state written before external_operation_status was nullable holds no_operation for none.
	if p := t.ExternalOperationStatus; p == nil || *p == "no_operation" || *p == "" {
		out.ExternalOperationStatus = nil
	} else {
		out.ExternalOperationStatus = ptr(*p)
	}
	return out
}

// contactIDSpace derives contact ids: the store keeps none, and an id derived from the contact's
// owner stays the same from answer to answer and across restarts.
var contactIDSpace = uuid.MustParse("0b8f3c52-6d1e-4f0a-9c7b-2e4d5a6f7081")

// renderContact fills what every answer's contact carries (the official document requires id,
// created_at, updated_at and types in GET /tenants, lod=full): an id derived from owner, the
// owner's times unless the contact has its own, and a types list that is never null.
func renderContact(c Contact, owner, createdAt, updatedAt string) Contact {
	out := c
	out.Types = cloneOrEmpty(c.Types)
	if out.ID == "" {
		out.ID = uuid.NewSHA1(contactIDSpace, []byte(owner)).String()
	}
	if out.CreatedAt == "" {
		out.CreatedAt = createdAt
	}
	if out.UpdatedAt == "" {
		out.UpdatedAt = updatedAt
	}
	return out
}

// childTenants lists the visible (non-personal) children of id, sorted by creation. Call with s.mu held.
func (s *Server) childTenants(id string, allowDeleted bool) []*Tenant {
	var out []*Tenant
	for _, t := range s.st.Tenants {
		if t.ParentID == id && t.ID != id && t.Kind != kindPersonal && (allowDeleted || t.DeletedAt == nil) {
			out = append(out, t)
		}
	}
	s.sortTenants(out)
	return out
}

// sortTenants orders by creation. Call with s.mu held.
func (s *Server) sortTenants(ts []*Tenant) {
	slices.SortFunc(ts, func(a, b *Tenant) int {
		return strings.Compare(s.createdKey(a.CreatedAt, a.ID), s.createdKey(b.CreatedAt, b.ID))
	})
}

// subtree lists root and every visible tenant below it, level by level. Call with s.mu held.
func (s *Server) subtree(rootID string, allowDeleted bool) []*Tenant {
	root, ok := s.st.Tenants[rootID]
	if !ok {
		return nil
	}
	// Children by parent, in one pass: asking childTenants per tenant
	// scans the store once per tenant, seconds at ten thousand.
	children := map[string][]*Tenant{}
	for _, t := range s.st.Tenants {
		if t.ParentID != t.ID && t.Kind != kindPersonal && (allowDeleted || t.DeletedAt == nil) {
			children[t.ParentID] = append(children[t.ParentID], t)
		}
	}
	out := []*Tenant{root}
	level := []*Tenant{root}
	for len(level) > 0 {
		var next []*Tenant
		for _, t := range level {
			kids := children[t.ID]
			s.sortTenants(kids)
			next = append(next, kids...)
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// isDescendant says whether id is below ancestorID (not equal to it). Call with s.mu held.
func (s *Server) isDescendant(id, ancestorID string) bool {
	for range 1000 {
		t, ok := s.st.Tenants[id]
		if !ok || t.ParentID == t.ID {
			return false
		}
		if t.ParentID == ancestorID {
			return true
		}
		id = t.ParentID
	}
	return false
}

// depth is the number of ancestors of id. Call with s.mu held.
func (s *Server) depth(id string) int {
	d := 0
	for range 1000 {
		t, ok := s.st.Tenants[id]
		if !ok || t.ParentID == t.ID {
			return d
		}
		d++
		id = t.ParentID
	}
	return d
}

// siblingNameTaken says whether a live sibling under parentID other than exceptID has this name,
// compared case-insensitively. Call with s.mu held.
func (s *Server) siblingNameTaken(parentID, name, exceptID string) bool {
	for _, t := range s.childTenants(parentID, false) {
		if t.ID != exceptID && strings.EqualFold(t.Name, name) {
			return true
		}
	}
	return false
}

func errNameTaken(name string) *apiError {
	return errorf(http.StatusConflict, codeNameConflict, "a tenant named %q already exists under this parent", name)
}

// optString is a JSON field that can be absent, null or a string, as customer_id and internal_tag are.
type optString struct {
	Set   bool
	Value *string
}

func (o *optString) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Value = nil
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("must be a string or null")
	}
	o.Value = &v
	return nil
}

// apply sets *dst to the field's value, null included, when the request had the field.
func (o optString) apply(dst **string) {
	if o.Set {
		*dst = o.Value
	}
}

type tenantCreateRequest struct {
	Name                  *string         `json:"name"`
	ParentID              *string         `json:"parent_id"`
	Kind                  *string         `json:"kind"`
	Contact               json.RawMessage `json:"contact"`
	CompanyBillingContact json.RawMessage `json:"company_billing_contact"`
	Enabled               *bool           `json:"enabled"`
	CustomerID            optString       `json:"customer_id"`
	InternalTag           optString       `json:"internal_tag"`
	Language              *string         `json:"language"`
	DefaultIDPID          *string         `json:"default_idp_id"`
	UpdateLock            *UpdateLock     `json:"update_lock"`
	AncestralAccess       *bool           `json:"ancestral_access"`
	Settings              map[string]any  `json:"settings"`
}

// decodeContact reads a contact block onto base: fields the block leaves out keep base's values.
// Which fields a contact may carry is the official schema's business, checked before any handler
// runs: the contact of POST /users is open, so fields a contact does not have are ignored here, and
// the read-only id and times are never taken from a request.
func decodeContact(raw json.RawMessage, base Contact) (Contact, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return base, nil
	}
	id, created, updated := base.ID, base.CreatedAt, base.UpdatedAt
	if err := json.Unmarshal(raw, &base); err != nil {
		return Contact{}, errBadRequest("invalid contact: %v", err)
	}
	base.ID, base.CreatedAt, base.UpdatedAt = id, created, updated
	return base, nil
}

func (s *Server) createTenant(w http.ResponseWriter, r *http.Request) *apiError {
	var req tenantCreateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	t, e := s.createTenantLocked(s.caller(r), req)
	if e != nil {
		return e
	}
	return reply(w, http.StatusCreated, t)
}

func (s *Server) createTenantLocked(c callerInfo, req tenantCreateRequest) (Tenant, *apiError) {
	switch {
	case req.Name == nil || strings.TrimSpace(*req.Name) == "":
		return Tenant{}, errBadRequest("name is required")
	case req.ParentID == nil || *req.ParentID == "":
		return Tenant{}, errBadRequest("parent_id is required")
	case !validUUID(*req.ParentID):
		return Tenant{}, errBadRequest("parent_id must be a lowercase UUID")
	case req.Kind == nil || *req.Kind == "":
		return Tenant{}, errBadRequest("kind is required")
	case *req.Kind == KindRoot || allowedChildKinds[*req.Kind] == nil:
		return Tenant{}, errBadRequest("kind %q cannot be created; use partner, folder, customer or unit", *req.Kind)
	case req.DefaultIDPID != nil && !validUUID(*req.DefaultIDPID):
		return Tenant{}, errBadRequest("default_idp_id must be a lowercase UUID")
	}
	contact, e := decodeContact(req.Contact, Contact{})
	if e != nil {
		return Tenant{}, e
	}
	var billing *Contact
	if len(req.CompanyBillingContact) > 0 && string(req.CompanyBillingContact) != "null" {
		b, e := decodeContact(req.CompanyBillingContact, Contact{})
		if e != nil {
			return Tenant{}, e
		}
		billing = &b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parent, e := s.lookupTenant(c, *req.ParentID, false)
	if e != nil {
		return Tenant{}, e
	}
	if e := checkKindUnder(parent.Kind, *req.Kind); e != nil {
		return Tenant{}, e
	}
	if !parent.Enabled {
		return Tenant{}, errorf(http.StatusBadRequest, codeParentDisabled, "parent tenant %s is disabled", parent.ID)
	}
	name := strings.TrimSpace(*req.Name)
	if s.siblingNameTaken(parent.ID, name, "") {
		return Tenant{}, errNameTaken(name)
	}
	t := s.newTenantObject(newID(), name, parent.ID, *req.Kind)
	t.Contact = contact
	if billing != nil {
		t.Contacts = append(t.Contacts, *billing)
	}
	setIf(&t.Enabled, req.Enabled)
	t.CustomerID = req.CustomerID.Value
	t.InternalTag = req.InternalTag.Value
	setIf(&t.Language, req.Language)
	setIf(&t.DefaultIDPID, req.DefaultIDPID)
	setIf(&t.UpdateLock, req.UpdateLock)
	setIf(&t.AncestralAccess, req.AncestralAccess)
	s.insertTenant(t)
	return s.renderTenant(t), nil
}

func (s *Server) getTenant(w http.ResponseWriter, r *http.Request) *apiError {
	allowDeleted, e := queryBool(r, "allow_deleted")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), allowDeleted)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.renderTenant(t))
}

type tenantUpdateRequest struct {
	Name                    *string         `json:"name"`
	CustomerType            *string         `json:"customer_type"`
	ParentID                *string         `json:"parent_id"`
	Kind                    *string         `json:"kind"`
	Contact                 json.RawMessage `json:"contact"`
	Enabled                 *bool           `json:"enabled"`
	CustomerID              optString       `json:"customer_id"`
	Version                 *int64          `json:"version"`
	BrandID                 json.RawMessage `json:"brand_id"` // deprecated by the vendor: accepted, never applied
	InternalTag             optString       `json:"internal_tag"`
	Language                *string         `json:"language"`
	DefaultIDPID            *string         `json:"default_idp_id"`
	UpdateLock              *UpdateLock     `json:"update_lock"`
	AncestralAccess         *bool           `json:"ancestral_access"`
	ExternalOperationStatus *string         `json:"external_operation_status"`
}

func (s *Server) updateTenant(w http.ResponseWriter, r *http.Request) *apiError {
	var req tenantUpdateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req.Version == nil {
		return errBadRequest("version is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.updateTenantLocked(s.caller(r), r.PathValue("id"), req)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.renderTenant(t))
}

// updateTenantLocked validates the whole request before changing anything, so a refused update
// leaves the tenant as it was. Call with s.mu held.
func (s *Server) updateTenantLocked(c callerInfo, id string, req tenantUpdateRequest) (*Tenant, *apiError) {
	t, e := s.lookupTenant(c, id, false)
	if e != nil {
		return nil, e
	}
	if t.Kind == kindPersonal {
		return nil, errorf(http.StatusForbidden, codeAccessDenied, "a user's personal tenant cannot be changed")
	}
	if e := checkVersion(t.Version, *req.Version); e != nil {
		return nil, e
	}
	if t.UpdateLock.Enabled && req.UpdateLock == nil && (t.UpdateLock.OwnerID == nil || *t.UpdateLock.OwnerID != c.ClientID) {
		return nil, errorf(http.StatusBadRequest, codeTenantLocked, "tenant %s is locked for updates", t.ID)
	}
	next := *t
	if req.Name != nil {
		if strings.TrimSpace(*req.Name) == "" {
			return nil, errBadRequest("name must not be empty")
		}
		next.Name = strings.TrimSpace(*req.Name)
	}
	if req.CustomerType != nil {
		if !slices.Contains(customerTypes, *req.CustomerType) {
			return nil, errBadRequest("customer_type must be one of %s", strings.Join(customerTypes, ", "))
		}
		next.CustomerType = *req.CustomerType
	}
	if req.ExternalOperationStatus != nil {
		if !slices.Contains(externalOperationStatuses, *req.ExternalOperationStatus) {
			return nil, errBadRequest("external_operation_status must be one of %s", strings.Join(externalOperationStatuses, ", "))
		}
		// Answers give null, deleting or recovering: no_operation clears the status.
		next.ExternalOperationStatus = nil
		if *req.ExternalOperationStatus != "no_operation" {
			next.ExternalOperationStatus = ptr(*req.ExternalOperationStatus)
		}
	}
	if req.DefaultIDPID != nil {
		if !validUUID(*req.DefaultIDPID) {
			return nil, errBadRequest("default_idp_id must be a lowercase UUID")
		}
		next.DefaultIDPID = *req.DefaultIDPID
	}
	contact, e := decodeContact(req.Contact, t.Contact)
	if e != nil {
		return nil, e
	}
	next.Contact = contact
	req.CustomerID.apply(&next.CustomerID)
	req.InternalTag.apply(&next.InternalTag)
	setIf(&next.Language, req.Language)
	setIf(&next.UpdateLock, req.UpdateLock)
	setIf(&next.AncestralAccess, req.AncestralAccess)
	setIf(&next.Enabled, req.Enabled)
	if req.Kind != nil {
		if t.Kind == KindRoot || *req.Kind == KindRoot || allowedChildKinds[*req.Kind] == nil {
			return nil, errBadRequest("kind cannot be changed from %s to %s", t.Kind, *req.Kind)
		}
		next.Kind = *req.Kind
	}
	if req.ParentID != nil && *req.ParentID != t.ParentID {
		if t.Kind == KindRoot {
			return nil, errBadRequest("the root tenant cannot be moved")
		}
		if e := s.checkMove(c, t, *req.ParentID); e != nil {
			return nil, e
		}
		next.ParentID = *req.ParentID
	}
	parent := s.st.Tenants[next.ParentID]
	if t.Kind != KindRoot {
		if e := checkKindUnder(parent.Kind, next.Kind); e != nil {
			return nil, e
		}
		for _, child := range s.childTenants(t.ID, false) {
			if e := checkKindUnder(next.Kind, child.Kind); e != nil {
				return nil, errBadRequest("kind %s cannot hold the existing child %s of kind %s", next.Kind, child.ID, child.Kind)
			}
		}
	}
	if next.Enabled && !t.Enabled && t.Kind != KindRoot && !parent.Enabled {
		return nil, errorf(http.StatusBadRequest, codeParentDisabled, "tenant %s cannot be enabled while its parent %s is disabled", t.ID, parent.ID)
	}
	if (next.Name != t.Name || next.ParentID != t.ParentID) && t.Kind != KindRoot && s.siblingNameTaken(next.ParentID, next.Name, t.ID) {
		return nil, errNameTaken(next.Name)
	}
	*t = next
	s.touchTenant(t)
	return t, nil
}

// checkMove applies the move rules of the vendor's list (1007, 1008, 1013). Call with s.mu held.
func (s *Server) checkMove(c callerInfo, t *Tenant, newParentID string) *apiError {
	if !validUUID(newParentID) {
		return errBadRequest("parent_id must be a lowercase UUID")
	}
	if newParentID == t.ID || s.isDescendant(newParentID, t.ID) {
		return errorf(http.StatusBadRequest, codeMoveUnderOwnChild, "tenant %s cannot be moved under itself or its own child", t.ID)
	}
	if t.ID == c.TenantID {
		return errForbidden()
	}
	newParent, e := s.lookupTenant(c, newParentID, false)
	if e != nil {
		return e
	}
	oldParent := s.st.Tenants[t.ParentID]
	if t.Kind == KindUnit || newParent.Kind == KindCustomer || newParent.Kind == KindUnit || newParent.Kind == kindPersonal ||
		(oldParent != nil && (oldParent.Kind == KindCustomer || oldParent.Kind == KindUnit)) {
		return errorf(http.StatusBadRequest, codeMoveWithinCustomer, "tenants inside a customer cannot be moved")
	}
	if !newParent.Enabled {
		return errorf(http.StatusBadRequest, codeMoveUnderDisabled, "tenant %s cannot be moved under the disabled tenant %s", t.ID, newParent.ID)
	}
	return nil
}

func (s *Server) deleteTenant(w http.ResponseWriter, r *http.Request) *apiError {
	version, e := queryVersion(r)
	if e != nil {
		return e
	}
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("id"), false)
	if e != nil {
		return e
	}
	if t.ID == c.TenantID || t.Kind == KindRoot || t.Kind == kindPersonal {
		return errorf(http.StatusForbidden, codeAccessDenied, "tenant %s cannot be deleted by this client", t.ID)
	}
	if e := checkVersion(t.Version, version); e != nil {
		return e
	}
	if t.Enabled {
		return errorf(http.StatusBadRequest, codeTenantEnabled, "tenant %s must be disabled before it is deleted", t.ID)
	}
	s.softDeleteTenant(t)
	return replyStatus(w, http.StatusNoContent)
}

// softDeleteTenant marks t, its sub-tenants (personal ones too) and their users deleted with one
// shared timestamp, which restore uses to bring back exactly what this delete took away.
// Call with s.mu held.
func (s *Server) softDeleteTenant(t *Tenant) {
	now := s.timestamp()
	ids := map[string]bool{}
	for _, st := range s.subtree(t.ID, false) {
		ids[st.ID] = true
	}
	for _, u := range s.st.Users {
		if ids[u.TenantID] && u.PersonalTenantID != nil {
			ids[*u.PersonalTenantID] = true
		}
	}
	for id := range ids {
		if x := s.st.Tenants[id]; x != nil && x.DeletedAt == nil {
			x.DeletedAt = ptr(now)
			s.touchTenant(x)
		}
	}
	for _, u := range s.st.Users {
		if ids[u.TenantID] && u.DeletedAt == nil {
			u.DeletedAt = ptr(now)
			s.touchUser(u)
		}
	}
}

func (s *Server) restoreTenant(w http.ResponseWriter, r *http.Request) *apiError {
	force, e := queryBool(r, "force")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), true)
	if e != nil {
		return e
	}
	if t.DeletedAt == nil {
		return errBadRequest("tenant %s is not deleted", t.ID)
	}
	if p := s.st.Tenants[t.ParentID]; p == nil || p.DeletedAt != nil {
		return errBadRequest("tenant %s cannot be restored while its parent is deleted", t.ID)
	}
	stamp := *t.DeletedAt
	var tenants []*Tenant
	for _, x := range s.st.Tenants {
		if x.DeletedAt != nil && *x.DeletedAt == stamp && (x.ID == t.ID || s.isDescendant(x.ID, t.ID)) {
			tenants = append(tenants, x)
		}
	}
	ids := map[string]bool{}
	for _, x := range tenants {
		ids[x.ID] = true
	}
	var users []*User
	for _, u := range s.st.Users {
		if u.DeletedAt != nil && *u.DeletedAt == stamp && ids[u.TenantID] {
			users = append(users, u)
		}
	}
	// Only the restored tenant can clash: its descendants come back under parents that were deleted with them.
	newName := t.Name
	if s.siblingNameTaken(t.ParentID, t.Name, t.ID) {
		if !force {
			return errNameTaken(t.Name)
		}
		for i := 1; s.siblingNameTaken(t.ParentID, newName, t.ID); i++ {
			newName = fmt.Sprintf("%s (%d)", t.Name, i)
		}
	}
	newLogins := map[string]string{}
	for _, u := range users {
		login, e := s.restoredLogin(u, force, mapValues(newLogins))
		if e != nil {
			return e
		}
		if login != u.Login {
			newLogins[u.ID] = login
		}
	}
	t.Name = newName
	for _, x := range tenants {
		x.DeletedAt = nil
		s.touchTenant(x)
	}
	for _, u := range users {
		if l, ok := newLogins[u.ID]; ok {
			u.Login = l
		}
		u.DeletedAt = nil
		s.touchUser(u)
	}
	return replyStatus(w, http.StatusNoContent)
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// IDList is the answer of the sub-collection endpoints (/children, /users): bare ids.
type IDList struct {
	Items []string `json:"items"`
}

func (s *Server) tenantChildren(w http.ResponseWriter, r *http.Request) *apiError {
	allowDeleted, e := queryBool(r, "allow_deleted")
	if e != nil {
		return e
	}
	order := r.URL.Query().Get("order")
	if order == "" {
		order = "name"
	}
	if !slices.Contains([]string{"as_is", "name", "-name", "status", "-status"}, order) {
		return errBadRequest("order must be one of as_is, name, status (optionally prefixed with -)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	children := s.childTenants(t.ID, allowDeleted)
	switch strings.TrimPrefix(order, "-") {
	case "name":
		slices.SortStableFunc(children, func(a, b *Tenant) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	case "status":
		slices.SortStableFunc(children, func(a, b *Tenant) int { return boolOrder(a.Enabled, b.Enabled) })
	}
	if strings.HasPrefix(order, "-") {
		slices.Reverse(children)
	}
	ids := []string{}
	for _, c := range children {
		ids = append(ids, c.ID)
	}
	return reply(w, http.StatusOK, IDList{Items: ids})
}

// boolOrder sorts enabled objects first.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func (s *Server) tenantUsers(w http.ResponseWriter, r *http.Request) *apiError {
	allowDeleted, e := queryBool(r, "allow_deleted")
	if e != nil {
		return e
	}
	grand, e := queryBool(r, "include_grand_children")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	tenantIDs := map[string]bool{t.ID: true}
	if grand {
		// For a customer the nested units count; for anything else the nested folders do.
		nested := KindFolder
		if t.Kind == KindCustomer {
			nested = KindUnit
		}
		for _, x := range s.subtree(t.ID, allowDeleted)[1:] {
			if x.Kind == nested && tenantIDs[x.ParentID] {
				tenantIDs[x.ID] = true
			}
		}
	}
	users := s.usersWhere(func(u *User) bool { return tenantIDs[u.TenantID] }, allowDeleted)
	slices.SortStableFunc(users, func(a, b *User) int { return strings.Compare(userSortName(a), userSortName(b)) })
	ids := []string{}
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return reply(w, http.StatusOK, IDList{Items: ids})
}

// userSortName is the vendor's default order: first and last name, or the login without names.
func userSortName(u *User) string {
	n := strings.TrimSpace(u.Contact.Firstname + " " + u.Contact.Lastname)
	if n == "" {
		n = u.Login
	}
	return strings.ToLower(n)
}

// TenantList is the answer of GET /tenants and GET /users.
type TenantList struct {
	Timestamp string           `json:"timestamp"`
	Items     []map[string]any `json:"items"`
	Paging    Paging           `json:"paging"`
}

var tenantStampFields = []string{"id", "parent_id", "version", "created_at", "updated_at", "deleted_at", "contacts", "offering_items"}
var tenantBasicFields = append(slices.Clone(tenantStampFields), "name", "kind", "enabled")

func (s *Server) listTenants(w http.ResponseWriter, r *http.Request) *apiError {
	q, last, e := pageQuery(r)
	if e != nil {
		return e
	}
	if e := exclusive(q, "uuids", "parent_id", "subtree_root_id"); e != nil {
		return e
	}
	lq, e := parseListQuery(q, 5000, tenantStampFields, tenantBasicFields, "parent_id", "subtree_root_id")
	if e != nil {
		return e
	}
	limit, fields, since, allowDeleted, uuids := lq.limit, lq.fields, lq.since, lq.allowDeleted, lq.uuids
	withItems, e := boolParam(q, "with_offering_items")
	if e != nil {
		return e
	}
	withInfraItems, e := boolParam(q, "with_infra_offering_items")
	if e != nil {
		return e
	}
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var candidates []*Tenant
	byLevel := false
	switch {
	case uuids != nil:
		for _, id := range uuids {
			t, ok := s.st.Tenants[id]
			if !ok || (t.DeletedAt != nil && !allowDeleted) || slices.Contains(candidates, t) {
				continue
			}
			if !s.inScope(c.TenantID, id) {
				return errForbidden()
			}
			candidates = append(candidates, t)
		}
		s.sortTenants(candidates)
	case q.Get("parent_id") != "":
		p, e := s.lookupTenant(c, q.Get("parent_id"), allowDeleted)
		if e != nil {
			return e
		}
		candidates = s.childTenants(p.ID, allowDeleted)
	default:
		rootID := q.Get("subtree_root_id")
		if rootID == "" {
			rootID = c.TenantID
		}
		root, e := s.lookupTenant(c, rootID, allowDeleted)
		if e != nil {
			return e
		}
		candidates = s.subtree(root.ID, allowDeleted)
		byLevel = true
	}
	type keyed struct {
		key string
		t   *Tenant
	}
	var items []keyed
	for _, t := range candidates {
		if !updatedSince(t.UpdatedAt, since) {
			continue
		}
		k := s.createdKey(t.CreatedAt, t.ID)
		if byLevel {
			k = fmt.Sprintf("%04d|%s", s.depth(t.ID), k)
		}
		items = append(items, keyed{k, t})
	}
	slices.SortStableFunc(items, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	page, paging := paginate(items, func(k keyed) string { return k.key }, q, last, limit)
	out := TenantList{Timestamp: s.timestamp(), Items: []map[string]any{}, Paging: paging}
	for _, k := range page {
		item := project(s.renderTenant(k.t), fields)
		item["offering_items"] = s.listedItems(k.t.ID, withItems, withInfraItems)
		if fields == nil {
			// The official document requires barrier in lod=full items but says nothing of its
			// meaning: 0 is not in the official schema.
			item["barrier"] = 0
		}
		out.Items = append(out.Items, item)
	}
	return reply(w, http.StatusOK, out)
}

// listedItems is the offering_items of a GET /tenants item. The official document requires the key
// in every level of detail; that it is empty unless with_offering_items (infra items:
// with_infra_offering_items) asks for the tenant's live items is not in the official schema.
// Call with s.mu held.
func (s *Server) listedItems(tenantID string, withItems, withInfraItems bool) []OfferingItem {
	out := []OfferingItem{}
	for _, it := range s.st.Ext.Items[tenantID] {
		if it.DeletedAt != nil {
			continue
		}
		if it.Type == ItemTypeInfra && withInfraItems || it.Type != ItemTypeInfra && withItems {
			out = append(out, it.clone())
		}
	}
	return out
}

func (s *Server) getPricing(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.pricingOf(t))
}

// pricingOf returns t's pricing, making it for tenants from a state file that predates it.
// Call with s.mu held.
func (s *Server) pricingOf(t *Tenant) *Pricing {
	p, ok := s.st.Pricing[t.ID]
	if !ok {
		p = &Pricing{Mode: t.PricingMode, Version: s.nextVersion(), ProductionStartDate: t.ProductionStartDate}
		s.st.Pricing[t.ID] = p
	}
	return p
}

type pricingRequest struct {
	Mode     *string   `json:"mode"`
	Currency optString `json:"currency"`
	Version  *int64    `json:"version"`
}

var pricingModes = []string{"trial", "production", "suspended"}

func (s *Server) updatePricing(w http.ResponseWriter, r *http.Request) *apiError {
	var req pricingRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req.Version == nil {
		return errBadRequest("version is required")
	}
	if req.Mode != nil && !slices.Contains(pricingModes, *req.Mode) {
		return errBadRequest("mode must be one of %s", strings.Join(pricingModes, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	p := s.pricingOf(t)
	if e := checkVersion(p.Version, *req.Version); e != nil {
		return e
	}
	next := *p
	if req.Mode != nil && *req.Mode != p.Mode {
		switch {
		case *req.Mode == "trial" && p.ProductionStartDate != nil:
			return errBadRequest("a tenant in production cannot go back to trial")
		case *req.Mode == "production" && p.ProductionStartDate == nil:
			next.ProductionStartDate = ptr(s.timestamp())
		}
		next.Mode = *req.Mode
	}
	req.Currency.apply(&next.Currency)
	next.Version = s.nextVersion()
	*p = next
	t.PricingMode = p.Mode
	t.ProductionStartDate = p.ProductionStartDate
	return reply(w, http.StatusOK, p)
}

// TenantMFAStatus is the answer of GET /tenants/{id}/mfa/status.
type TenantMFAStatus struct {
	MFAStatus                 string `json:"mfa_status"`
	UsersCount                int    `json:"users_count"`
	UsersWithTOTPEnabledCount int    `json:"users_with_totp_enabled_count"`
	UpdateAllowed             bool   `json:"update_allowed"`
}

func mfaUpdateAllowed(kind string) bool {
	return kind != KindFolder && kind != KindUnit && kind != kindPersonal
}

// mfaStatusOf counts the users of t and of the units below it. Call with s.mu held.
func (s *Server) mfaStatusOf(t *Tenant) TenantMFAStatus {
	ids := map[string]bool{}
	for _, x := range s.subtree(t.ID, false) {
		if x.ID == t.ID || x.Kind == KindUnit {
			ids[x.ID] = true
		}
	}
	out := TenantMFAStatus{MFAStatus: t.MFAStatus, UpdateAllowed: mfaUpdateAllowed(t.Kind)}
	for _, u := range s.usersWhere(func(u *User) bool { return ids[u.TenantID] }, false) {
		out.UsersCount++
		if u.MFAStatus == "enabled" {
			out.UsersWithTOTPEnabledCount++
		}
	}
	return out
}

func (s *Server) getTenantMFA(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, s.mfaStatusOf(t))
}

type mfaRequest struct {
	Enabled *bool `json:"enabled"`
}

func (s *Server) updateTenantMFA(w http.ResponseWriter, r *http.Request) *apiError {
	var req mfaRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req.Enabled == nil {
		return errBadRequest("enabled is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	if !mfaUpdateAllowed(t.Kind) {
		return errBadRequest("MFA cannot be toggled on a %s tenant", t.Kind)
	}
	status := "disabled"
	if *req.Enabled {
		status = "enabled"
	}
	if t.MFAStatus != status {
		t.MFAStatus = status
		s.touchTenant(t)
	}
	return reply(w, http.StatusOK, s.mfaStatusOf(t))
}

type defaultIDPRequest struct {
	Version         *int64  `json:"version"`
	IDPID           *string `json:"idp_id"`
	ApplyToChildren bool    `json:"apply_to_children"`
}

func (s *Server) updateDefaultIDP(w http.ResponseWriter, r *http.Request) *apiError {
	var req defaultIDPRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	switch {
	case req.Version == nil:
		return errBadRequest("version is required")
	case req.IDPID == nil || !validUUID(*req.IDPID):
		return errBadRequest("idp_id is required and must be a lowercase UUID")
	}
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, r.PathValue("id"), false)
	if e != nil {
		return e
	}
	if e := checkVersion(t.Version, *req.Version); e != nil {
		return e
	}
	targets := []*Tenant{t}
	if req.ApplyToChildren {
		targets = s.subtree(t.ID, false)
	}
	for _, x := range targets {
		// A tenant hidden from the caller by ancestral_access keeps its own provider.
		if x.DefaultIDPID != *req.IDPID && s.inScope(c.TenantID, x.ID) {
			x.DefaultIDPID = *req.IDPID
			s.touchTenant(x)
		}
	}
	return reply(w, http.StatusOK, s.renderTenant(t))
}
