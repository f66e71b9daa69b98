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

// Tenant kinds.
const (
	KindRoot     = "root"
	KindPartner  = "partner"
	KindFolder   = "folder"
	KindCustomer = "customer"
	KindUnit     = "unit"
)

// MaxBatch is how many UUIDs one `uuids=` query may carry.
const MaxBatch = 100

// Contact is the contact block of tenants and users.
type Contact struct {
	Email     string `json:"email,omitempty"`
	Firstname string `json:"firstname,omitempty"`
	Lastname  string `json:"lastname,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Address1  string `json:"address1,omitempty"`
	Address2  string `json:"address2,omitempty"`
	City      string `json:"city,omitempty"`
	State     string `json:"state,omitempty"`
	Zipcode   string `json:"zipcode,omitempty"`
	Country   string `json:"country,omitempty"`
	Title     string `json:"title,omitempty"`
	Website   string `json:"website,omitempty"`
	Industry  string `json:"industry,omitempty"`
	Fax       string `json:"fax,omitempty"`
}

// UpdateLock is a tenant's update lock.
type UpdateLock struct {
	Enabled bool    `json:"enabled"`
	OwnerID *string `json:"owner_id,omitempty"`
}

// Tenant is the server's tenant. The root tenant's ParentID is its own ID.
type Tenant struct {
	ID                      string      `json:"id"`
	Version                 int64       `json:"version"`
	Name                    string      `json:"name"`
	CustomerType            string      `json:"customer_type,omitempty"`
	ParentID                string      `json:"parent_id"`
	Kind                    string      `json:"kind"`
	Contact                 Contact     `json:"contact"`
	Contacts                []Contact   `json:"contacts,omitempty"`
	Enabled                 bool        `json:"enabled"`
	CreatedAt               Time        `json:"created_at"`
	UpdatedAt               Time        `json:"updated_at"`
	DeletedAt               *Time       `json:"deleted_at,omitempty"`
	CustomerID              *string     `json:"customer_id,omitempty"`
	BrandID                 *int64      `json:"brand_id,omitempty"`
	BrandUUID               *string     `json:"brand_uuid,omitempty"`
	BrandEnabled            bool        `json:"brand_enabled"`
	InternalTag             *string     `json:"internal_tag,omitempty"`
	Language                string      `json:"language,omitempty"`
	OwnerID                 *string     `json:"owner_id,omitempty"`
	HasChildren             bool        `json:"has_children"`
	DefaultIDPID            string      `json:"default_idp_id,omitempty"`
	AncestralAccess         bool        `json:"ancestral_access"`
	UpdateLock              *UpdateLock `json:"update_lock,omitempty"`
	MFAStatus               string      `json:"mfa_status,omitempty"`
	PricingMode             string      `json:"pricing_mode,omitempty"`
	ProductionStartDate     *Time       `json:"production_start_date,omitempty"`
	ExternalOperationStatus string      `json:"external_operation_status,omitempty"`
}

// TenantCreate is the body of POST /tenants. Unknown fields are refused by the server, so only
// these are sent.
type TenantCreate struct {
	Name            string      `json:"name"`
	ParentID        string      `json:"parent_id"`
	Kind            string      `json:"kind"`
	Contact         *Contact    `json:"contact,omitempty"`
	Enabled         *bool       `json:"enabled,omitempty"`
	CustomerID      string      `json:"customer_id,omitempty"`
	InternalTag     string      `json:"internal_tag,omitempty"`
	Language        string      `json:"language,omitempty"`
	DefaultIDPID    string      `json:"default_idp_id,omitempty"`
	UpdateLock      *UpdateLock `json:"update_lock,omitempty"`
	AncestralAccess *bool       `json:"ancestral_access,omitempty"`
}

// TenantUpdate is the body of PUT /tenants/{id}; nil fields are left as they are. Version is
// the version last read: a stale one fails with IsStaleVersion.
type TenantUpdate struct {
	Version         int64       `json:"version"`
	Name            *string     `json:"name,omitempty"`
	Kind            *string     `json:"kind,omitempty"`
	ParentID        *string     `json:"parent_id,omitempty"`
	Contact         *Contact    `json:"contact,omitempty"`
	Enabled         *bool       `json:"enabled,omitempty"`
	CustomerID      *string     `json:"customer_id,omitempty"`
	CustomerType    *string     `json:"customer_type,omitempty"`
	InternalTag     *string     `json:"internal_tag,omitempty"`
	Language        *string     `json:"language,omitempty"`
	DefaultIDPID    *string     `json:"default_idp_id,omitempty"`
	AncestralAccess *bool       `json:"ancestral_access,omitempty"`
	UpdateLock      *UpdateLock `json:"update_lock,omitempty"`
}

// TenantQuery selects tenants for ListTenants. ParentID and SubtreeRootID are mutually exclusive.
type TenantQuery struct {
	ParentID      string
	SubtreeRootID string
	UpdatedSince  time.Time
	// Lod is the level of detail: stamps, basic or full (the server's default).
	Lod          string
	Limit        int
	AllowDeleted bool
}

// ReadOption changes how an object is read.
type ReadOption func(url.Values)

// WithDeleted also returns soft-deleted objects (allow_deleted=true).
func WithDeleted() ReadOption { return func(q url.Values) { q.Set("allow_deleted", "true") } }

// WithAccessPolicies returns users with their roles (with_access_policies=true, lists of users
// only), so reading a hundred users and their roles is one request.
func WithAccessPolicies() ReadOption {
	return func(q url.Values) { q.Set("with_access_policies", "true") }
}

func readQuery(opts []ReadOption) url.Values {
	q := url.Values{}
	for _, o := range opts {
		o(q)
	}
	return q
}

// GetTenant reads one tenant.
func (c *Client) GetTenant(ctx context.Context, id string, opts ...ReadOption) (*Tenant, error) {
	var t Tenant
	err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}", args: []string{id}, query: readQuery(opts),
		out: &t, op: "get tenant " + id})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// GetTenants reads tenants by ID, MaxBatch per request. Unknown or hidden IDs are simply absent.
func (c *Client) GetTenants(ctx context.Context, ids []string, opts ...ReadOption) ([]Tenant, error) {
	return byIDs[Tenant](ctx, c, "/tenants", ids, opts, "get tenants")
}

// byIDs reads the objects of a paged list route by ID (uuids=), MaxBatch
// per request, following each answer's paging cursor.
func byIDs[T any](ctx context.Context, c *Client, route string, ids []string, opts []ReadOption, op string) ([]T, error) {
	var out []T
	for chunk := range batches(ids) {
		q := readQuery(opts)
		q.Set("uuids", strings.Join(chunk, ","))
		if err := collect(pagesOf[T](ctx, c, route, nil, q, op), func(v T) { out = append(out, v) }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ListTenants yields the tenants q selects, following the paging cursor. Stop ranging to stop fetching.
func (c *Client) ListTenants(ctx context.Context, q TenantQuery) iter.Seq2[Tenant, error] {
	v := url.Values{}
	set(v, "parent_id", q.ParentID)
	set(v, "subtree_root_id", q.SubtreeRootID)
	if !q.UpdatedSince.IsZero() {
		v.Set("updated_since", q.UpdatedSince.UTC().Format(time.RFC3339))
	}
	set(v, "lod", q.Lod)
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.AllowDeleted {
		v.Set("allow_deleted", "true")
	}
	return pagesOf[Tenant](ctx, c, "/tenants", nil, v, "list tenants")
}

// ListAllTenants collects ListTenants.
func (c *Client) ListAllTenants(ctx context.Context, q TenantQuery) ([]Tenant, error) {
	return All(c.ListTenants(ctx, q))
}

// FindTenantByName returns the child of parentID named name (names are unique among siblings),
// or an error for which IsNotFound holds. It recovers a create whose answer was lost.
func (c *Client) FindTenantByName(ctx context.Context, parentID, name string) (*Tenant, error) {
	for t, err := range c.ListTenants(ctx, TenantQuery{ParentID: parentID}) {
		if err != nil {
			return nil, err
		}
		if t.Name == name && t.ID != parentID {
			return &t, nil
		}
	}
	op := "find tenant " + strconv.Quote(name) + " under " + parentID
	return nil, newLocalError(op, kindNotFound, "no such tenant", c.redactor())
}

// TenantChildren lists the IDs of a tenant's children.
func (c *Client) TenantChildren(ctx context.Context, id string) ([]string, error) {
	return c.idList(ctx, "/tenants/{id}/children", id, "list children of tenant "+id)
}

// TenantUserIDs lists the IDs of a tenant's users.
func (c *Client) TenantUserIDs(ctx context.Context, id string) ([]string, error) {
	return c.idList(ctx, "/tenants/{id}/users", id, "list users of tenant "+id)
}

// TenantApplicationIDs lists the IDs of the applications turned on for a tenant.
func (c *Client) TenantApplicationIDs(ctx context.Context, id string) ([]string, error) {
	return c.idList(ctx, "/tenants/{id}/applications", id, "list applications of tenant "+id)
}

// TenantReportIDs lists the IDs of the reports available to a tenant.
func (c *Client) TenantReportIDs(ctx context.Context, id string) ([]string, error) {
	return c.idList(ctx, "/tenants/{id}/reports", id, "list reports of tenant "+id)
}

// CreateTenant creates a tenant (201). It is never re-sent after it may have reached the
// server: on IsUnavailable, look the tenant up with FindTenantByName before creating again.
func (c *Client) CreateTenant(ctx context.Context, in TenantCreate) (*Tenant, error) {
	var t Tenant
	err := c.do(ctx, &request{method: http.MethodPost, route: "/tenants", body: in, out: &t,
		op: "create tenant " + strconv.Quote(in.Name) + " under " + in.ParentID})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// UpdateTenant changes a tenant; in.Version must be the current version.
func (c *Client) UpdateTenant(ctx context.Context, id string, in TenantUpdate) (*Tenant, error) {
	var t Tenant
	err := c.do(ctx, &request{method: http.MethodPut, route: "/tenants/{id}", args: []string{id}, body: in, out: &t,
		op: "update tenant " + id})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteTenant soft-deletes a disabled tenant and its subtree.
func (c *Client) DeleteTenant(ctx context.Context, id string, version int64) error {
	return c.do(ctx, &request{method: http.MethodDelete, route: "/tenants/{id}", args: []string{id},
		query: versionQuery(version), op: "delete tenant " + id})
}

// RestoreTenant brings back a soft-deleted tenant; force renames it on a name clash.
func (c *Client) RestoreTenant(ctx context.Context, id string, force bool) error {
	q := url.Values{}
	if force {
		q.Set("force", "true")
	}
	return c.do(ctx, &request{method: http.MethodPost, route: "/tenants/{id}/restore", args: []string{id}, query: q,
		op: "restore tenant " + id})
}

// cursorCompanions are query parameters an operation requires on every request, so pages after
// the first send them beside the cursor.
var cursorCompanions = map[string][]string{"/tenants/offering_items": {"subtree_root_tenant_id"}}

// pages yields the items of a cursor-paged list. Pages after the first send the cursor, which
// encodes the filters, and only what the operation requires besides (cursorCompanions).
func pagesOf[T any](ctx context.Context, c *Client, route string, args []string, first url.Values, op string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		q := first
		seen := map[string]bool{}
		for {
			var p page[T]
			if err := c.do(ctx, &request{method: http.MethodGet, route: route, args: args, query: q, out: &p, op: op}); err != nil {
				yield(zero, err)
				return
			}
			for _, it := range p.Items {
				if !yield(it, nil) {
					return
				}
			}
			after := p.Paging.Cursors.After
			if after == "" || len(p.Items) == 0 {
				return
			}
			if seen[after] {
				yield(zero, newLocalError(op, kindOther, "the server repeated a paging cursor", c.redactor()))
				return
			}
			seen[after] = true
			next := url.Values{"after": {after}}
			for _, k := range cursorCompanions[route] {
				next[k] = first[k]
			}
			q = next
		}
	}
}

// All collects a sequence, stopping at the first error.
func All[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func collect[T any](seq iter.Seq2[T, error], f func(T)) error {
	for v, err := range seq {
		if err != nil {
			return err
		}
		f(v)
	}
	return nil
}

// batches splits ids into chunks of at most MaxBatch, dropping duplicates.
func batches(ids []string) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		seen := make(map[string]bool, len(ids))
		chunk := make([]string, 0, MaxBatch)
		for _, id := range ids {
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			chunk = append(chunk, id)
			if len(chunk) == MaxBatch {
				if !yield(chunk) {
					return
				}
				chunk = make([]string, 0, MaxBatch)
			}
		}
		if len(chunk) > 0 {
			yield(chunk)
		}
	}
}

// idList reads an {"items":["uuid",…]} answer, following a cursor if the server sends one.
func (c *Client) idList(ctx context.Context, route, id, op string) ([]string, error) {
	return All(pagesOf[string](ctx, c, route, []string{id}, nil, op))
}

func versionQuery(v int64) url.Values {
	return url.Values{"version": {strconv.FormatInt(v, 10)}}
}

func set(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}
