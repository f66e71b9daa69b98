package accountserver

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Common role IDs of access policies.
const (
	RolePartnerAdmin    = "partner_admin"
	RoleCompanyAdmin    = "company_admin"
	RoleUnitAdmin       = "unit_admin"
	RoleReadonlyAdmin   = "readonly_admin"
	RoleBackupUser      = "backup_user"
	RoleProtectionAdmin = "protection_admin"
	RoleSyncShareUser   = "sync_share_user"
)

// AccessPolicy is one role of a user in a tenant. PUT /users/{id}/access_policies takes the whole
// list in the shape GET returns it, every item complete: the official schema requires id, version,
// created_at, updated_at, deleted_at, trustee_id, trustee_type, issuer_id, tenant_id and role_id on
// each. NewAccessPolicy makes a complete item for a role that does not exist yet.
type AccessPolicy struct {
	ID                string `json:"id"`
	Version           int64  `json:"version"`
	TrusteeType       string `json:"trustee_type"`
	TrusteeID         string `json:"trustee_id"`
	TenantID          string `json:"tenant_id"`
	IssuerID          string `json:"issuer_id"`
	RoleID            string `json:"role_id"`
	ResourceNamespace string `json:"resource_namespace,omitempty"`
	ResourcePath      string `json:"resource_path,omitempty"`
	ResourceServerID  string `json:"resource_server_id,omitempty"`
	CreatedAt         Time   `json:"created_at"`
	UpdatedAt         Time   `json:"updated_at"`
	DeletedAt         *Time  `json:"deleted_at"`
}

// NilUUID is the all-zero UUID the server takes for "not assigned yet" in a new access policy's
// id and issuer_id.
const NilUUID = "00000000-0000-0000-0000-000000000000"

// NewAccessPolicy is a policy giving a user role in tenantID, as a new list item: id and issuer_id
// are NilUUID and version 0; the server assigns them. Its timestamps are set when it is sent.
func NewAccessPolicy(userID, tenantID, role string) AccessPolicy {
	return AccessPolicy{ID: NilUUID, IssuerID: NilUUID, TrusteeType: "user", TrusteeID: userID, TenantID: tenantID, RoleID: role}
}

// User is the server's user.
type User struct {
	ID               string         `json:"id"`
	Version          int64          `json:"version"`
	TenantID         string         `json:"tenant_id"`
	Login            string         `json:"login"`
	Contact          Contact        `json:"contact"`
	Activated        bool           `json:"activated"`
	Enabled          bool           `json:"enabled"`
	CreatedAt        Time           `json:"created_at"`
	UpdatedAt        Time           `json:"updated_at"`
	DeletedAt        *Time          `json:"deleted_at,omitempty"`
	Language         string         `json:"language,omitempty"`
	IDPID            string         `json:"idp_id,omitempty"`
	ExternalID       *string        `json:"external_id,omitempty"`
	PersonalTenantID *string        `json:"personal_tenant_id,omitempty"`
	BusinessTypes    []string       `json:"business_types,omitempty"`
	Notifications    []string       `json:"notifications,omitempty"`
	MFAStatus        string         `json:"mfa_status,omitempty"`
	AccessPolicies   []AccessPolicy `json:"access_policies,omitempty"`
	OriginID         *string        `json:"origin_id,omitempty"`
	OriginExternalID *string        `json:"origin_external_id,omitempty"`
	DisableAfter     *Time          `json:"disable_after,omitempty"`
	TermsAccepted    bool           `json:"terms_accepted"`
}

// UserCreate is the body of POST /users.
type UserCreate struct {
	TenantID      string   `json:"tenant_id"`
	Login         string   `json:"login"`
	Contact       Contact  `json:"contact"`
	Enabled       *bool    `json:"enabled,omitempty"`
	Language      string   `json:"language,omitempty"`
	BusinessTypes []string `json:"business_types,omitempty"`
	// Notifications, when set, are the user's notifications; a pointer to
	// an empty list turns them all off (nil leaves the server's default).
	Notifications *[]string `json:"notifications,omitempty"`
	ExternalID    string    `json:"external_id,omitempty"`
	IDPID         string    `json:"idp_id,omitempty"`
	DisableAfter  *Time     `json:"disable_after,omitempty"`
}

// UserUpdate is the body of PUT /users/{id}; nil fields are left as they are. A pointer to an
// empty slice clears Notifications.
type UserUpdate struct {
	Version       int64     `json:"version"`
	Contact       *Contact  `json:"contact,omitempty"`
	Enabled       *bool     `json:"enabled,omitempty"`
	Language      *string   `json:"language,omitempty"`
	Notifications *[]string `json:"notifications,omitempty"`
	DisableAfter  *Time     `json:"disable_after,omitempty"`
}

// UserQuery selects users for ListUsers.
type UserQuery struct {
	SubtreeRootTenantID string
	UpdatedSince        time.Time
	Lod                 string
	Limit               int
	WithAccessPolicies  bool
	AllowDeleted        bool
}

// CreateUser creates a user (200). Like every POST it is not re-sent once it may have reached the
// server; on IsUnavailable look the login up (FindUserByLogin) before creating again.
func (c *Client) CreateUser(ctx context.Context, in UserCreate) (*User, error) {
	var u User
	err := c.do(ctx, &request{method: http.MethodPost, route: "/users", body: in, out: &u,
		op: "create user " + strconv.Quote(in.Login) + " in tenant " + in.TenantID})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUser reads one user.
func (c *Client) GetUser(ctx context.Context, id string, opts ...ReadOption) (*User, error) {
	var u User
	err := c.do(ctx, &request{method: http.MethodGet, route: "/users/{id}", args: []string{id}, query: readQuery(opts),
		out: &u, op: "get user " + id})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// GetUsers reads users by ID, MaxBatch per request; unknown IDs are absent.
func (c *Client) GetUsers(ctx context.Context, ids []string, opts ...ReadOption) ([]User, error) {
	return byIDs[User](ctx, c, "/users", ids, opts, "get users")
}

// ListUsers yields the users q selects, following the paging cursor.
func (c *Client) ListUsers(ctx context.Context, q UserQuery) iter.Seq2[User, error] {
	v := url.Values{}
	set(v, "subtree_root_tenant_id", q.SubtreeRootTenantID)
	if !q.UpdatedSince.IsZero() {
		v.Set("updated_since", q.UpdatedSince.UTC().Format(time.RFC3339))
	}
	set(v, "lod", q.Lod)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.WithAccessPolicies {
		v.Set("with_access_policies", "true")
	}
	if q.AllowDeleted {
		v.Set("allow_deleted", "true")
	}
	return pagesOf[User](ctx, c, "/users", nil, v, "list users")
}

// ListTenantUsers reads the users of one tenant (its user IDs, then the users in batches).
func (c *Client) ListTenantUsers(ctx context.Context, tenantID string) ([]User, error) {
	ids, err := c.TenantUserIDs(ctx, tenantID)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return c.GetUsers(ctx, ids)
}

// FindUserByLogin returns the user of tenantID with this login, or an error for which IsNotFound
// holds. It recovers a create whose answer was lost.
func (c *Client) FindUserByLogin(ctx context.Context, tenantID, login string) (*User, error) {
	users, err := c.ListTenantUsers(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for i := range users {
		if strings.EqualFold(users[i].Login, login) {
			return &users[i], nil
		}
	}
	op := "find user " + strconv.Quote(login) + " in tenant " + tenantID
	return nil, newLocalError(op, kindNotFound, "no such user", c.redactor())
}

// UpdateUser changes a user; in.Version must be the current version.
func (c *Client) UpdateUser(ctx context.Context, id string, in UserUpdate) (*User, error) {
	var u User
	err := c.do(ctx, &request{method: http.MethodPut, route: "/users/{id}", args: []string{id}, body: in, out: &u,
		op: "update user " + id})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteUser soft-deletes a user.
func (c *Client) DeleteUser(ctx context.Context, id string, version int64) error {
	return c.do(ctx, &request{method: http.MethodDelete, route: "/users/{id}", args: []string{id},
		query: versionQuery(version), op: "delete user " + id})
}

// RestoreUser brings back a soft-deleted user.
func (c *Client) RestoreUser(ctx context.Context, id string, force, enable bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "true")
	}
	if enable {
		q.Set("enable", "true")
	}
	return c.do(ctx, &request{method: http.MethodPost, route: "/users/{id}/restore", args: []string{id}, query: q,
		op: "restore user " + id})
}

// CheckLogin reports whether a login is free (204) rather than taken (409). Logins are unique
// across the whole server.
func (c *Client) CheckLogin(ctx context.Context, login string) (bool, error) {
	err := c.do(ctx, &request{method: http.MethodGet, route: "/users/check_login", query: url.Values{"username": {login}},
		op: "check login " + strconv.Quote(login)})
	switch {
	case err == nil:
		return true, nil
	case IsConflict(err):
		return false, nil
	}
	return false, err
}

// GetAccessPolicies reads a user's roles.
func (c *Client) GetAccessPolicies(ctx context.Context, userID string) ([]AccessPolicy, error) {
	var out items[AccessPolicy]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/users/{id}/access_policies", args: []string{userID}, out: &out,
		op: "get access policies of user " + userID})
	return out.Items, err
}

// accessPolicyList is the body of PUT /users/{id}/access_policies: the list shape with its
// timestamp, as GET returns it.
type accessPolicyList struct {
	Timestamp Time           `json:"timestamp"`
	Items     []AccessPolicy `json:"items"`
}

// PutAccessPolicies replaces a user's roles with policies, each complete (use NewAccessPolicy for
// a new role). Items without timestamps get the time of the request.
func (c *Client) PutAccessPolicies(ctx context.Context, userID string, policies []AccessPolicy) ([]AccessPolicy, error) {
	now := NewTime(c.clock.Now().UTC().Truncate(time.Second))
	body := accessPolicyList{Timestamp: now, Items: make([]AccessPolicy, 0, len(policies))}
	for _, p := range policies {
		if p.ID == "" {
			p.ID = NilUUID
		}
		if p.IssuerID == "" {
			p.IssuerID = NilUUID
		}
		if p.CreatedAt.IsZero() {
			p.CreatedAt = now
		}
		if p.UpdatedAt.IsZero() {
			p.UpdatedAt = now
		}
		body.Items = append(body.Items, p)
	}
	var out items[AccessPolicy]
	err := c.do(ctx, &request{method: http.MethodPut, route: "/users/{id}/access_policies", args: []string{userID},
		body: body, out: &out, op: "put access policies of user " + userID})
	return out.Items, err
}

// SetPassword sets a user's password, which activates the user (204). The password never
// appears in an error or a log line, even if the server quotes it.
func (c *Client) SetPassword(ctx context.Context, userID, password string) error {
	return c.do(ctx, &request{method: http.MethodPost, route: "/users/{id}/password", args: []string{userID},
		body: map[string]string{"password": password}, secrets: []string{password}, op: "set password of user " + userID})
}

// SendActivationEmail asks the server to mail the activation link. Not re-sent on a lost answer,
// to avoid a second mail.
func (c *Client) SendActivationEmail(ctx context.Context, userID string) error {
	return c.do(ctx, &request{method: http.MethodPost, route: "/users/{id}/send-activation-email", args: []string{userID},
		op: "send activation email to user " + userID})
}

// SetUserMFA turns two-factor authentication on or off for a user.
func (c *Client) SetUserMFA(ctx context.Context, userID string, enabled bool) error {
	return c.do(ctx, &request{method: http.MethodPut, route: "/users/{id}/mfa/status", args: []string{userID},
		body: map[string]bool{"enabled": enabled}, op: "set mfa of user " + userID})
}
