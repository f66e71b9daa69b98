package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

var notificationKinds = []string{
	"maintenance", "quota", "reports", "backup_error", "backup_warning", "backup_info", "backup_daily_report",
	"backup_critical", "device_control_warning", "certificate_management_error", "certificate_management_warning",
	"certificate_management_info",
}

// defaultNotifications are what seed 003's freshly made user carries.
var defaultNotifications = []string{"quota", "reports", "backup_daily_report"}

var businessTypes = []string{"buyer"}

// Role ids the emulator accepts in access policies: the role_id enum of the official schema.
var roleIDs = []string{
	"root_admin", "partner_admin", "company_admin", "unit_admin", "readonly_admin", "protection_admin",
	"protection_ro_admin", "restore_operator", "backup_user", "sync_share_admin", "sync_share_user",
	"sync_share_guest", "pds_operator", "pds_support", "notary_admin", "notary_user", "hci_admin",
	"omnivoice_admin", "omnivoice_user", "greathorn_admin", "greathorn_user", "greathorn_analyst",
	"greathorn_client_manager",
}

// loginPattern is deliberately loose: the vendor publishes no login rules beyond "unique".
var loginPattern = regexp.MustCompile(`^[^\s/\\]{1,255}$`)

var disableAfterPattern = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+\-]\d{2}:\d{2}|Z)?$`)

// touchUser records a change of u. Call with s.mu held.
func (s *Server) touchUser(u *User) {
	u.Version = s.nextVersion()
	u.UpdatedAt = s.timestamp()
}

// loginTaken says whether a live user other than exceptID has login (case-insensitive).
// Call with s.mu held.
func (s *Server) loginTaken(login, exceptID string) bool {
	for _, u := range s.st.Users {
		if u.ID != exceptID && u.DeletedAt == nil && strings.EqualFold(u.Login, login) {
			return true
		}
	}
	return false
}

func errLoginTaken(login string) *apiError {
	return errorf(http.StatusConflict, codeNameConflict, "login %q is already taken", login)
}

// restoredLogin is the login a deleted user comes back with: its own while no live user took it,
// else (with force) the first "login_N" that no live user has and that is not in reserved.
// Call with s.mu held.
func (s *Server) restoredLogin(u *User, force bool, reserved []string) (string, *apiError) {
	if !s.loginTaken(u.Login, u.ID) {
		return u.Login, nil
	}
	if !force {
		return "", errLoginTaken(u.Login)
	}
	login := u.Login
	for i := 1; s.loginTaken(login, u.ID) || slices.Contains(reserved, login); i++ {
		login = fmt.Sprintf("%s_%d", u.Login, i)
	}
	return login, nil
}

// usersWhere lists users matching keep, sorted by creation. Call with s.mu held.
func (s *Server) usersWhere(keep func(*User) bool, allowDeleted bool) []*User {
	var out []*User
	for _, u := range s.st.Users {
		if (allowDeleted || u.DeletedAt == nil) && keep(u) {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *User) int {
		return strings.Compare(s.createdKey(a.CreatedAt, a.ID), s.createdKey(b.CreatedAt, b.ID))
	})
	return out
}

// renderUser copies u for an answer. Call with s.mu held.
func renderUser(u *User) User {
	out := *u
	out.Contact = renderContact(u.Contact, "user/"+u.ID, u.CreatedAt, u.UpdatedAt)
	out.BusinessTypes = cloneOrEmpty(u.BusinessTypes)
	out.Notifications = cloneOrEmpty(u.Notifications)
	out.AccessPolicies = slices.Clone(u.AccessPolicies)
	if out.AccessPolicies == nil {
		out.AccessPolicies = []AccessPolicy{}
	}
	return out
}

func cloneOrEmpty(v []string) []string {
	if v == nil {
		return []string{}
	}
	return slices.Clone(v)
}

// lookupUser finds a user the caller may see: 404 when missing (or deleted unless allowDeleted),
// 403 when the user's tenant is outside the caller's subtree. Call with s.mu held.
func (s *Server) lookupUser(c callerInfo, id string, allowDeleted bool) (*User, *apiError) {
	u, ok := s.st.Users[id]
	if !ok || (u.DeletedAt != nil && !allowDeleted) {
		return nil, errNotFound("user", id)
	}
	if !s.inScope(c.TenantID, u.TenantID) {
		return nil, errForbidden()
	}
	return u, nil
}

func checkStrings(field string, got, allowed []string) *apiError {
	for _, v := range got {
		if !slices.Contains(allowed, v) {
			return errBadRequest("%s: %q is not one of %s", field, v, strings.Join(allowed, ", "))
		}
	}
	return nil
}

type userCreateRequest struct {
	TenantID            *string         `json:"tenant_id"`
	Login               *string         `json:"login"`
	ExternalID          *string         `json:"external_id"`
	IDPID               *string         `json:"idp_id"`
	Contact             json.RawMessage `json:"contact"`
	Enabled             *bool           `json:"enabled"`
	Language            *string         `json:"language"`
	BusinessTypes       []string        `json:"business_types"`
	Notifications       []string        `json:"notifications"`
	UseExistingIdentity *bool           `json:"use_existing_identity"`
	OriginID            *string         `json:"origin_id"`
	OriginExternalID    *string         `json:"origin_external_id"`
	DisableAfter        *string         `json:"disable_after"`
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) *apiError {
	var req userCreateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	u, e := s.createUserLocked(s.caller(r), req)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, u)
}

func (s *Server) createUserLocked(c callerInfo, req userCreateRequest) (User, *apiError) {
	switch {
	case req.TenantID == nil || *req.TenantID == "":
		return User{}, errBadRequest("tenant_id is required")
	case req.Login == nil || *req.Login == "":
		return User{}, errBadRequest("login is required")
	case !loginPattern.MatchString(*req.Login):
		return User{}, errBadRequest("login %q is not valid", *req.Login)
	case req.IDPID != nil && !validUUID(*req.IDPID):
		return User{}, errBadRequest("idp_id must be a lowercase UUID")
	case req.DisableAfter != nil && !disableAfterPattern.MatchString(*req.DisableAfter):
		return User{}, errBadRequest("disable_after must be an RFC 3339 timestamp")
	}
	if e := checkStrings("notifications", req.Notifications, notificationKinds); e != nil {
		return User{}, e
	}
	if e := checkStrings("business_types", req.BusinessTypes, businessTypes); e != nil {
		return User{}, e
	}
	contact, e := decodeContact(req.Contact, Contact{})
	if e != nil {
		return User{}, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.lookupTenant(c, *req.TenantID, false)
	if e != nil {
		return User{}, e
	}
	if t.Kind == kindPersonal {
		return User{}, errBadRequest("users cannot be created in a personal tenant")
	}
	if s.loginTaken(*req.Login, "") {
		return User{}, errLoginTaken(*req.Login)
	}
	now := s.timestamp()
	u := &User{
		ID:               newID(),
		TenantID:         t.ID,
		Login:            *req.Login,
		Contact:          contact,
		Enabled:          true,
		CreatedAt:        now,
		UpdatedAt:        now,
		Language:         "en",
		IDPID:            defaultIDPID,
		ExternalID:       req.ExternalID,
		BusinessTypes:    cloneOrEmpty(req.BusinessTypes),
		Notifications:    slices.Clone(defaultNotifications),
		MFAStatus:        "disabled",
		AccessPolicies:   []AccessPolicy{},
		OriginID:         req.OriginID,
		OriginExternalID: req.OriginExternalID,
		DisableAfter:     req.DisableAfter,
	}
	if req.Notifications != nil {
		u.Notifications = slices.Clone(req.Notifications)
	}
	setIf(&u.Enabled, req.Enabled)
	setIf(&u.Language, req.Language)
	setIf(&u.IDPID, req.IDPID)
	if t.MFAStatus == "enabled" {
		u.MFAStatus = "enabled"
	}
	u.Version = s.nextVersion()
	if t.Kind == KindCustomer || t.Kind == KindUnit {
		// The vendor makes a personal tenant for users in customers and below; it holds the user's
		// own resources and is deleted and restored with the user.
		pt := s.newTenantObject(newID(), u.Login, t.ID, kindPersonal)
		pt.Enabled = u.Enabled
		s.insertTenant(pt)
		u.PersonalTenantID = &pt.ID
	}
	s.st.Users[u.ID] = u
	s.assignSeq(u.ID)
	return renderUser(u), nil
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) *apiError {
	allowDeleted, e := queryBool(r, "allow_deleted")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), allowDeleted)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, renderUser(u))
}

var userStampFields = []string{"id", "version", "tenant_id", "created_at", "updated_at", "deleted_at", "access_policies", "origin_id", "origin_external_id", "disable_after"}
var userBasicFields = append(slices.Clone(userStampFields), "personal_tenant_id", "login", "enabled")

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) *apiError {
	q, last, e := pageQuery(r)
	if e != nil {
		return e
	}
	for _, set := range [][]string{{"uuids", "tenant_id"}, {"uuids", "subtree_root_tenant_id"}, {"uuids", "external_ids"}, {"subtree_root_tenant_id", "tenant_id"}, {"subtree_root_tenant_id", "external_ids"}} {
		if e := exclusive(q, set...); e != nil {
			return e
		}
	}
	if q.Get("external_ids") != "" && q.Get("tenant_id") == "" {
		return errBadRequest("external_ids requires tenant_id")
	}
	lq, e := parseListQuery(q, 2000, userStampFields, userBasicFields, "tenant_id", "subtree_root_tenant_id")
	if e != nil {
		return e
	}
	limit, fields, since, allowDeleted, uuids := lq.limit, lq.fields, lq.since, lq.allowDeleted, lq.uuids
	var externalIDs []string
	if v := q.Get("external_ids"); v != "" {
		externalIDs = strings.Split(v, ",")
		if len(externalIDs) > 100 {
			return errBadRequest("external_ids takes at most 100 ids")
		}
	}
	originID := q.Get("origin_id")
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	var keep func(*User) bool
	switch {
	case uuids != nil:
		for _, id := range uuids {
			if u, ok := s.st.Users[id]; ok && !s.inScope(c.TenantID, u.TenantID) {
				return errForbidden()
			}
		}
		keep = func(u *User) bool { return slices.Contains(uuids, u.ID) }
	case q.Get("tenant_id") != "":
		t, e := s.lookupTenant(c, q.Get("tenant_id"), allowDeleted)
		if e != nil {
			return e
		}
		keep = func(u *User) bool {
			return u.TenantID == t.ID && (externalIDs == nil || (u.ExternalID != nil && slices.Contains(externalIDs, *u.ExternalID)))
		}
	default:
		rootID := q.Get("subtree_root_tenant_id")
		if rootID == "" {
			rootID = c.TenantID
		}
		root, e := s.lookupTenant(c, rootID, allowDeleted)
		if e != nil {
			return e
		}
		ids := map[string]bool{}
		for _, t := range s.subtree(root.ID, allowDeleted) {
			ids[t.ID] = true
		}
		keep = func(u *User) bool { return ids[u.TenantID] }
	}
	users := s.usersWhere(func(u *User) bool {
		return keep(u) && updatedSince(u.UpdatedAt, since) && (originID == "" || (u.OriginID != nil && *u.OriginID == originID))
	}, allowDeleted)
	key := func(u *User) string { return s.createdKey(u.CreatedAt, u.ID) }
	page, paging := paginate(users, key, q, last, limit)
	out := TenantList{Timestamp: s.timestamp(), Items: []map[string]any{}, Paging: paging}
	for _, u := range page {
		item := project(renderUser(u), fields)
		// Single users leave these out when unset (the document gives them no null there), but
		// every level of detail of GET /users requires them, nullable.
		for _, k := range []string{"origin_id", "origin_external_id", "disable_after"} {
			if _, ok := item[k]; !ok {
				item[k] = nil
			}
		}
		out.Items = append(out.Items, item)
	}
	return reply(w, http.StatusOK, out)
}

func (s *Server) checkLogin(w http.ResponseWriter, r *http.Request) *apiError {
	login := r.URL.Query().Get("username")
	if login == "" || !loginPattern.MatchString(login) {
		return errorf(http.StatusNotAcceptable, 0, "username is required and must be a valid login")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loginTaken(login, "") {
		return errLoginTaken(login)
	}
	return replyStatus(w, http.StatusNoContent)
}

type userUpdateRequest struct {
	Login         *string         `json:"login"`
	ExternalID    optString       `json:"external_id"`
	IDPID         *string         `json:"idp_id"`
	Contact       json.RawMessage `json:"contact"`
	Enabled       *bool           `json:"enabled"`
	Language      *string         `json:"language"`
	Notifications []string        `json:"notifications"`
	Version       *int64          `json:"version"`
	DisableAfter  optString       `json:"disable_after"`
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) *apiError {
	var req userUpdateRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	switch {
	case req.Version == nil:
		return errBadRequest("version is required")
	case req.Login != nil && !loginPattern.MatchString(*req.Login):
		return errBadRequest("login %q is not valid", *req.Login)
	case req.IDPID != nil && !validUUID(*req.IDPID):
		return errBadRequest("idp_id must be a lowercase UUID")
	case req.DisableAfter.Value != nil && !disableAfterPattern.MatchString(*req.DisableAfter.Value):
		return errBadRequest("disable_after must be an RFC 3339 timestamp")
	}
	if e := checkStrings("notifications", req.Notifications, notificationKinds); e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	if e := checkVersion(u.Version, *req.Version); e != nil {
		return e
	}
	contact, e := decodeContact(req.Contact, u.Contact)
	if e != nil {
		return e
	}
	if req.Login != nil && !strings.EqualFold(*req.Login, u.Login) && s.loginTaken(*req.Login, u.ID) {
		return errLoginTaken(*req.Login)
	}
	u.Contact = contact
	setIf(&u.Login, req.Login)
	req.ExternalID.apply(&u.ExternalID)
	setIf(&u.IDPID, req.IDPID)
	setIf(&u.Enabled, req.Enabled)
	setIf(&u.Language, req.Language)
	if req.Notifications != nil {
		u.Notifications = slices.Clone(req.Notifications)
	}
	req.DisableAfter.apply(&u.DisableAfter)
	s.touchUser(u)
	return reply(w, http.StatusOK, renderUser(u))
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) *apiError {
	version, e := queryVersion(r)
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	if e := checkVersion(u.Version, version); e != nil {
		return e
	}
	now := s.timestamp()
	u.DeletedAt = ptr(now)
	s.touchUser(u)
	if u.PersonalTenantID != nil {
		if pt := s.st.Tenants[*u.PersonalTenantID]; pt != nil && pt.DeletedAt == nil {
			pt.DeletedAt = ptr(now)
			s.touchTenant(pt)
		}
	}
	return replyStatus(w, http.StatusNoContent)
}

func (s *Server) restoreUser(w http.ResponseWriter, r *http.Request) *apiError {
	force, e := queryBool(r, "force")
	if e != nil {
		return e
	}
	enable, e := queryBool(r, "enable")
	if e != nil {
		return e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), true)
	if e != nil {
		return e
	}
	if u.DeletedAt == nil {
		return errBadRequest("user %s is not deleted", u.ID)
	}
	if t := s.st.Tenants[u.TenantID]; t == nil || t.DeletedAt != nil {
		return errBadRequest("user %s cannot be restored while its tenant is deleted; restore the tenant", u.ID)
	}
	login, e := s.restoredLogin(u, force, nil)
	if e != nil {
		return e
	}
	u.Login = login
	u.DeletedAt = nil
	if enable {
		u.Enabled = true
	}
	s.touchUser(u)
	if u.PersonalTenantID != nil {
		if pt := s.st.Tenants[*u.PersonalTenantID]; pt != nil && pt.DeletedAt != nil {
			pt.DeletedAt = nil
			s.touchTenant(pt)
		}
	}
	return replyStatus(w, http.StatusNoContent)
}

// AccessPolicyList is the body of GET and PUT /users/{id}/access_policies.
type AccessPolicyList struct {
	Timestamp string         `json:"timestamp"`
	Items     []AccessPolicy `json:"items"`
	Paging    Paging         `json:"paging"`
}

func (s *Server) getAccessPolicies(w http.ResponseWriter, r *http.Request) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	return reply(w, http.StatusOK, AccessPolicyList{Timestamp: s.timestamp(), Items: renderUser(u).AccessPolicies})
}

// accessPolicyInput is one item of a PUT: what the client says, plus the fields of a GET answer so
// a client can send back what it read.
type accessPolicyInput struct {
	ID                *string `json:"id"`
	Version           *int64  `json:"version"`
	TrusteeType       string  `json:"trustee_type"`
	TrusteeID         string  `json:"trustee_id"`
	TenantID          string  `json:"tenant_id"`
	IssuerID          *string `json:"issuer_id"`
	RoleID            string  `json:"role_id"`
	ResourceNamespace string  `json:"resource_namespace"`
	ResourcePath      string  `json:"resource_path"`
	ResourceServerID  string  `json:"resource_server_id"`
	CreatedAt         *string `json:"created_at"`
	UpdatedAt         *string `json:"updated_at"`
	DeletedAt         *string `json:"deleted_at"`
}

type accessPolicyPut struct {
	Timestamp *string             `json:"timestamp"`
	Paging    json.RawMessage     `json:"paging"`
	Items     []accessPolicyInput `json:"items"`
}

// putAccessPolicies rewrites the user's roles. A policy that survives the rewrite (same tenant,
// role and resource) keeps its id, version and created_at, so a no-op PUT changes nothing; any
// other item is a new policy and gets a new id, whatever id it was sent with (clients send new
// policies with the zero UUID as id and issuer_id, and version 0). The official body and its items
// are open, so fields the emulator does not know are ignored.
func (s *Server) putAccessPolicies(w http.ResponseWriter, r *http.Request) *apiError {
	var req accessPolicyPut
	if e := s.decodeJSON(r, &req, true); e != nil {
		return e
	}
	if req.Items == nil {
		return errBadRequest("items is required")
	}
	c := s.caller(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(c, r.PathValue("id"), false)
	if e != nil {
		return e
	}
	type policyKey struct{ tenant, role, ns, path string }
	existing := map[policyKey]AccessPolicy{}
	for _, p := range u.AccessPolicies {
		existing[policyKey{p.TenantID, p.RoleID, p.ResourceNamespace, p.ResourcePath}] = p
	}
	seen := map[policyKey]bool{}
	now := s.timestamp()
	var out []AccessPolicy
	for i, in := range req.Items {
		switch {
		case in.TrusteeType != "user":
			return errBadRequest("items[%d].trustee_type must be user", i)
		case in.TrusteeID != u.ID:
			return errBadRequest("items[%d].trustee_id must be the user's id %s", i, u.ID)
		case !slices.Contains(roleIDs, in.RoleID):
			return errBadRequest("items[%d].role_id %q is not a known role (%s)", i, in.RoleID, strings.Join(roleIDs, ", "))
		case !validUUID(in.TenantID):
			return errBadRequest("items[%d].tenant_id must be a lowercase UUID", i)
		}
		if _, e := s.lookupTenant(c, in.TenantID, false); e != nil {
			return e
		}
		if in.TenantID != u.TenantID && !s.isDescendant(in.TenantID, u.TenantID) {
			return errBadRequest("items[%d].tenant_id %s is outside the user's tenant", i, in.TenantID)
		}
		k := policyKey{in.TenantID, in.RoleID, in.ResourceNamespace, in.ResourcePath}
		if seen[k] {
			continue
		}
		seen[k] = true
		if p, ok := existing[k]; ok {
			out = append(out, p)
			continue
		}
		out = append(out, AccessPolicy{
			ID: newID(), Version: s.nextVersion(), TrusteeType: "user", TrusteeID: u.ID, TenantID: in.TenantID,
			IssuerID: c.TenantID, RoleID: in.RoleID, ResourceNamespace: in.ResourceNamespace,
			ResourcePath: in.ResourcePath, ResourceServerID: in.ResourceServerID, CreatedAt: now, UpdatedAt: now,
		})
	}
	if out == nil {
		out = []AccessPolicy{}
	}
	u.AccessPolicies = out
	return reply(w, http.StatusOK, AccessPolicyList{Timestamp: now, Items: slices.Clone(out)})
}

type passwordRequest struct {
	Password *string `json:"password"`
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) *apiError {
	var req passwordRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req.Password == nil || *req.Password == "" {
		return errBadRequest("password is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	s.st.Passwords[u.ID] = *req.Password
	if !u.Activated {
		u.Activated = true
		s.touchUser(u)
	}
	return replyStatus(w, http.StatusNoContent)
}

// sendActivationEmail counts the mails instead of sending them, so tests can assert on them.
func (s *Server) sendActivationEmail(w http.ResponseWriter, r *http.Request) *apiError {
	if r.ContentLength > 0 {
		var body map[string]any
		if e := s.decodeJSON(r, &body, true); e != nil {
			return e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	if u.Activated {
		return errBadRequest("user %s is already activated", u.ID)
	}
	if u.Contact.Email == "" {
		return errBadRequest("user %s has no email address to send the activation link to", u.ID)
	}
	s.st.ActivationEmails[u.ID]++
	return replyStatus(w, http.StatusNoContent)
}

func (s *Server) updateUserMFA(w http.ResponseWriter, r *http.Request) *apiError {
	var req mfaRequest
	if e := s.decodeJSON(r, &req, false); e != nil {
		return e
	}
	if req.Enabled == nil {
		return errBadRequest("enabled is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, e := s.lookupUser(s.caller(r), r.PathValue("id"), false)
	if e != nil {
		return e
	}
	status := "disabled"
	if *req.Enabled {
		status = "enabled"
	}
	if !*req.Enabled {
		if t := s.st.Tenants[u.TenantID]; t != nil && t.MFAStatus == "enabled" {
			return errBadRequest("MFA cannot be turned off for a user while the tenant enforces it")
		}
	}
	if u.MFAStatus != status {
		u.MFAStatus = status
		s.touchUser(u)
	}
	// The official document answers 200 with no body.
	return replyStatus(w, http.StatusOK)
}
