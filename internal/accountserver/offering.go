package accountserver

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Offering item types and statuses.
const (
	ItemTypeCount   = "count"
	ItemTypeFeature = "feature"
	ItemTypeInfra   = "infra"

	ItemStatusOff = 0
	ItemStatusOn  = 1

	// AllEditions asks for the items of every edition.
	AllEditions = "*"
)

// Quota of an offering item. Value is the soft quota, Overage the hard one; nil is unlimited.
// The official schema makes both nullable integers (≥ 0), so they travel as int64 end to end:
// a byte count past 2^53 would not survive a float64. The object is closed and all three fields
// are required, so null values and version 0 are sent, never omitted. Version guards quota
// changes: a stale one fails with IsStaleVersion (426).
type Quota struct {
	Value   *int64 `json:"value"`
	Overage *int64 `json:"overage"`
	Version int64  `json:"version"`
}

// OfferingItem is a service feature, counter or storage of a tenant, with its state and quota.
type OfferingItem struct {
	ApplicationID   string  `json:"application_id"`
	Name            string  `json:"name"`
	Edition         string  `json:"edition,omitempty"`
	UsageName       string  `json:"usage_name,omitempty"`
	TenantID        string  `json:"tenant_id,omitempty"`
	UpdatedAt       *Time   `json:"updated_at,omitempty"`
	DeletedAt       *Time   `json:"deleted_at,omitempty"`
	Status          int     `json:"status"`
	Locked          bool    `json:"locked,omitempty"`
	Type            string  `json:"type,omitempty"`
	MeasurementUnit string  `json:"measurement_unit,omitempty"`
	InfraID         *string `json:"infra_id,omitempty"`
	Quota           *Quota  `json:"quota,omitempty"`
}

// OfferingItemChange is one item of PUT /tenants/{id}/offering_items.
type OfferingItemChange struct {
	ApplicationID string  `json:"application_id"`
	Name          string  `json:"name"`
	Status        int     `json:"status"`
	InfraID       *string `json:"infra_id,omitempty"`
	Quota         *Quota  `json:"quota,omitempty"`
}

// OfferingItemQuery filters GetOfferingItems. An empty Edition is the server's default (standard).
type OfferingItemQuery struct {
	Edition    string
	UsageNames []string
	Status     *int
	Type       string
	InfraID    string
}

// GetOfferingItems reads a tenant's offering items.
func (c *Client) GetOfferingItems(ctx context.Context, tenantID string, q OfferingItemQuery) ([]OfferingItem, error) {
	v := url.Values{}
	set(v, "edition", q.Edition)
	set(v, "usage_names", strings.Join(q.UsageNames, ","))
	if q.Status != nil {
		v.Set("status", strconv.Itoa(*q.Status))
	}
	set(v, "type", q.Type)
	set(v, "infra_uuid", q.InfraID)
	var out items[OfferingItem]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/offering_items", args: []string{tenantID}, query: v,
		out: &out, op: "get offering items of tenant " + tenantID})
	return out.Items, err
}

// SubtreeItemQuery selects offering items across a subtree for ListOfferingItems.
type SubtreeItemQuery struct {
	// SubtreeRootTenantID is the subtree's root (required).
	SubtreeRootTenantID string
	// Names keeps only the offering items of these names (offering_items).
	Names        []string
	UpdatedSince time.Time
	Limit        int
	AllowDeleted bool
}

// ListOfferingItems yields the offering items of every tenant in a subtree (GET
// /tenants/offering_items), following the paging cursor: with UpdatedSince, those changed since.
func (c *Client) ListOfferingItems(ctx context.Context, q SubtreeItemQuery) iter.Seq2[OfferingItem, error] {
	v := url.Values{}
	v.Set("subtree_root_tenant_id", q.SubtreeRootTenantID)
	set(v, "offering_items", strings.Join(q.Names, ","))
	if !q.UpdatedSince.IsZero() {
		v.Set("updated_since", q.UpdatedSince.UTC().Format(time.RFC3339))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.AllowDeleted {
		v.Set("allow_deleted", "true")
	}
	return pagesOf[OfferingItem](ctx, c, "/tenants/offering_items", nil, v, "list offering items of subtree "+q.SubtreeRootTenantID)
}

// PutOfferingItems sets the state and quota of the listed items; other items are untouched.
// checkUsage refuses to turn off an item in use.
func (c *Client) PutOfferingItems(ctx context.Context, tenantID string, changes []OfferingItemChange, checkUsage bool) ([]OfferingItem, error) {
	body := struct {
		OfferingItems []OfferingItemChange `json:"offering_items"`
		CheckUsage    bool                 `json:"check_usage"`
	}{changes, checkUsage}
	var out items[OfferingItem]
	err := c.do(ctx, &request{method: http.MethodPut, route: "/tenants/{id}/offering_items", args: []string{tenantID}, body: body,
		out: &out, op: "put offering items of tenant " + tenantID})
	return out.Items, err
}

// AvailableForChild lists what a hypothetical child of the given kind could have enabled.
func (c *Client) AvailableForChild(ctx context.Context, tenantID, kind, edition string) ([]OfferingItem, error) {
	v := url.Values{}
	set(v, "kind", kind)
	set(v, "edition", edition)
	var out items[OfferingItem]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/offering_items/available_for_child", args: []string{tenantID},
		query: v, out: &out, op: "get offering items available for a child of tenant " + tenantID})
	return out.Items, err
}

// CheckEdition asks whether a tenant can switch an application to targetEdition. A refusal is an
// error for which IsInvalid holds; its Context lists the blocking items.
func (c *Client) CheckEdition(ctx context.Context, tenantID, applicationID, targetEdition string) error {
	v := url.Values{"target_edition": {targetEdition}, "application_id": {applicationID}}
	return c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/edition", args: []string{tenantID}, query: v,
		op: "check edition switch of tenant " + tenantID})
}

// SwitchEdition switches a tenant's application to targetEdition.
func (c *Client) SwitchEdition(ctx context.Context, tenantID, applicationID, targetEdition string) error {
	body := map[string]string{"target_edition": targetEdition, "application_id": applicationID}
	return c.do(ctx, &request{method: http.MethodPut, route: "/tenants/{id}/edition", args: []string{tenantID}, body: body,
		op: "switch edition of tenant " + tenantID})
}

// Application is a platform service.
type Application struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Type       string   `json:"type,omitempty"`
	Usages     []string `json:"usages,omitempty"`
	APIBaseURL string   `json:"api_base_url,omitempty"`
}

// ListApplications lists the platform's services.
func (c *Client) ListApplications(ctx context.Context) ([]Application, error) {
	var out items[Application]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/applications", out: &out, op: "list applications"})
	return out.Items, err
}

// EnableApplication turns a service on for a tenant.
func (c *Client) EnableApplication(ctx context.Context, applicationID, tenantID string) error {
	return c.do(ctx, &request{method: http.MethodPost, route: "/applications/{app}/bindings/tenants/{tenant}",
		args: []string{applicationID, tenantID}, op: "enable application " + applicationID + " for tenant " + tenantID})
}

// DisableApplication turns a service off for a tenant.
func (c *Client) DisableApplication(ctx context.Context, applicationID, tenantID string) error {
	return c.do(ctx, &request{method: http.MethodDelete, route: "/applications/{app}/bindings/tenants/{tenant}",
		args: []string{applicationID, tenantID}, op: "disable application " + applicationID + " for tenant " + tenantID})
}

// UsageOfferingItem is the offering item state a usage is measured against.
type UsageOfferingItem struct {
	Status int    `json:"status"`
	Quota  *Quota `json:"quota,omitempty"`
}

// Usage is one usage metric of a tenant. The official schema gives the tenant as an integer
// (tenant_id, a legacy numeric ID) and as a UUID (tenant_uuid).
type Usage struct {
	TenantID        int64              `json:"tenant_id,omitempty"`
	TenantUUID      string             `json:"tenant_uuid,omitempty"`
	ApplicationID   string             `json:"application_id,omitempty"`
	Name            string             `json:"name,omitempty"`
	UsageName       string             `json:"usage_name"`
	Edition         string             `json:"edition,omitempty"`
	Type            string             `json:"type,omitempty"`
	InfraID         *string            `json:"infra_id,omitempty"`
	MeasurementUnit string             `json:"measurement_unit,omitempty"`
	Value           int64              `json:"value"`
	AbsoluteValue   int64              `json:"absolute_value"`
	RangeStart      *Time              `json:"range_start,omitempty"`
	OfferingItem    *UsageOfferingItem `json:"offering_item,omitempty"`
}

// GetManyUsages reads the usage of up to MaxBatch tenants in one request
// (GET /tenants/usages), by tenant ID.
func (c *Client) GetManyUsages(ctx context.Context, tenantIDs []string) (map[string][]Usage, error) {
	if len(tenantIDs) > MaxBatch {
		return nil, fmt.Errorf("get usages of %d tenants: at most %d per request", len(tenantIDs), MaxBatch)
	}
	v := url.Values{}
	v.Set("tenants", strings.Join(tenantIDs, ","))
	var out items[struct {
		Tenant string  `json:"tenant"`
		Usages []Usage `json:"usages"`
	}]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/usages", query: v,
		out: &out, op: fmt.Sprintf("get usages of %d tenants", len(tenantIDs))})
	if err != nil {
		return nil, err
	}
	m := make(map[string][]Usage, len(out.Items))
	for _, it := range out.Items {
		m[it.Tenant] = it.Usages
	}
	return m, nil
}

// GetUsages reads a tenant's usage, optionally only the named usages.
func (c *Client) GetUsages(ctx context.Context, tenantID string, usageNames ...string) ([]Usage, error) {
	v := url.Values{}
	set(v, "usage_names", strings.Join(usageNames, ","))
	var out items[Usage]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/usages", args: []string{tenantID}, query: v,
		out: &out, op: "get usages of tenant " + tenantID})
	return out.Items, err
}
