package accountserver

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// Pricing modes. Production is one-way on the server.
const (
	PricingTrial      = "trial"
	PricingProduction = "production"
	PricingSuspended  = "suspended"
)

// Pricing is a tenant's billing mode.
type Pricing struct {
	Mode                string  `json:"mode"`
	Currency            *string `json:"currency,omitempty"`
	Version             int64   `json:"version"`
	ProductionStartDate *Time   `json:"production_start_date,omitempty"`
}

// GetPricing reads a tenant's pricing.
func (c *Client) GetPricing(ctx context.Context, tenantID string) (*Pricing, error) {
	var out Pricing
	if err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/pricing", args: []string{tenantID}, out: &out,
		op: "get pricing of tenant " + tenantID}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdatePricing sets a tenant's pricing; in.Version must be the current one. The server sets
// ProductionStartDate itself.
func (c *Client) UpdatePricing(ctx context.Context, tenantID string, in Pricing) (*Pricing, error) {
	body := struct {
		Mode     string  `json:"mode"`
		Currency *string `json:"currency,omitempty"`
		Version  int64   `json:"version"`
	}{in.Mode, in.Currency, in.Version}
	var out Pricing
	if err := c.do(ctx, &request{method: http.MethodPut, route: "/tenants/{id}/pricing", args: []string{tenantID}, body: body,
		out: &out, op: "update pricing of tenant " + tenantID}); err != nil {
		return nil, err
	}
	return &out, nil
}

// TenantMFAStatus is a tenant's two-factor authentication state.
type TenantMFAStatus struct {
	MFAStatus                 string `json:"mfa_status"`
	UsersCount                int    `json:"users_count"`
	UsersWithTOTPEnabledCount int    `json:"users_with_totp_enabled_count"`
	UpdateAllowed             bool   `json:"update_allowed"`
}

// GetTenantMFA reads a tenant's two-factor authentication state.
func (c *Client) GetTenantMFA(ctx context.Context, tenantID string) (*TenantMFAStatus, error) {
	var out TenantMFAStatus
	if err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/mfa/status", args: []string{tenantID}, out: &out,
		op: "get mfa status of tenant " + tenantID}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetTenantMFA turns two-factor authentication on or off (not on folders and units).
func (c *Client) SetTenantMFA(ctx context.Context, tenantID string, enabled bool) error {
	return c.do(ctx, &request{method: http.MethodPut, route: "/tenants/{id}/mfa/status", args: []string{tenantID},
		body: map[string]bool{"enabled": enabled}, op: "set mfa status of tenant " + tenantID})
}

// Brand is a tenant's branding options. Options the operator does not model are kept in Extra
// on reads; writes send only what is set. SMTPPassword is write-only: the server masks it.
type Brand struct {
	ID                  string                     `json:"id,omitempty"`
	BrandID             *int64                     `json:"brand_id,omitempty"`
	TenantID            string                     `json:"tenant_id,omitempty"`
	Version             int64                      `json:"version,omitempty"`
	CompanyName         string                     `json:"company_name,omitempty"`
	ServiceName         string                     `json:"service_name,omitempty"`
	Color               string                     `json:"color,omitempty"`
	ColorScheme         string                     `json:"color_scheme,omitempty"`
	HomeURL             string                     `json:"home_url,omitempty"`
	SupportURL          string                     `json:"support_url,omitempty"`
	SupportPhone        string                     `json:"support_phone,omitempty"`
	KnowledgebaseURL    string                     `json:"knowledgebase_url,omitempty"`
	HelpURL             string                     `json:"help_url,omitempty"`
	UserGuideURL        string                     `json:"user_guide_url,omitempty"`
	TermsURL            string                     `json:"terms_url,omitempty"`
	PrivacyPolicyURL    string                     `json:"privacy_policy_url,omitempty"`
	PlatformTermsURL    string                     `json:"platform_terms_url,omitempty"`
	UpsellURL           string                     `json:"upsell_url,omitempty"`
	MobileAppAndroidURL string                     `json:"mobile_app_android_download_url,omitempty"`
	MobileAppIOSURL     string                     `json:"mobile_app_ios_download_url,omitempty"`
	Logotype            string                     `json:"logotype,omitempty"`
	WhiteLabeledAgent   *bool                      `json:"white_labeled_agent,omitempty"`
	OwnsCustomLegalDocs *bool                      `json:"owns_custom_legal_docs,omitempty"`
	AccountServerURL    string                     `json:"account_server_url,omitempty"`
	RouterURL           string                     `json:"router_url,omitempty"`
	RegServerURL        string                     `json:"reg_server_url,omitempty"`
	AgentGatewayURL     string                     `json:"agent_gateway_url,omitempty"`
	SMTPOverride        *int                       `json:"smtp_override,omitempty"`
	SMTPServer          string                     `json:"smtp_server,omitempty"`
	SMTPPort            int                        `json:"smtp_port,omitempty"`
	SMTPEncryption      string                     `json:"smtp_encryption,omitempty"`
	SMTPUser            string                     `json:"smtp_user,omitempty"`
	SMTPReplyAddress    string                     `json:"smtp_reply_address,omitempty"`
	SMTPPassword        Secret                     `json:"-"`
	Extra               map[string]json.RawMessage `json:"-"`
}

// brandReadOnly are the fields of a brand answer that a PUT must not send back.
var brandReadOnly = []string{"id", "brand_id", "tenant_id", "version"}

// GetBrand reads a tenant's branding; effective returns the inherited brand when the tenant has none.
func (c *Client) GetBrand(ctx context.Context, tenantID string, effective bool) (*Brand, error) {
	q := url.Values{}
	if effective {
		q.Set("effective", "1")
	}
	op := "get brand of tenant " + tenantID
	var raw json.RawMessage
	if err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/brand", args: []string{tenantID}, query: q,
		out: &raw, op: op}); err != nil {
		return nil, err
	}
	return c.decodeBrand(op, raw)
}

// EnableBrand turns custom branding on (partners and folders only); version is the tenant's. The
// server answers with the tenant, whose version has moved.
func (c *Client) EnableBrand(ctx context.Context, tenantID string, version int64) (*Tenant, error) {
	var t Tenant
	if err := c.do(ctx, &request{method: http.MethodPost, route: "/tenants/{id}/brand", args: []string{tenantID},
		query: versionQuery(version), out: &t, op: "enable brand of tenant " + tenantID}); err != nil {
		return nil, err
	}
	return &t, nil
}

// UpdateBrand sets branding options; version is the tenant's. The server answers with the tenant,
// whose version has moved; the brand itself is read with GetBrand.
func (c *Client) UpdateBrand(ctx context.Context, tenantID string, version int64, in Brand) (*Tenant, error) {
	op := "update brand of tenant " + tenantID
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, newLocalError(op, kindInvalid, err.Error(), c.redactor())
	}
	body := map[string]any{}
	_ = json.Unmarshal(raw, &body)
	for _, k := range brandReadOnly {
		delete(body, k)
	}
	var secrets []string
	if in.SMTPPassword != "" {
		body["smtp_password"] = string(in.SMTPPassword)
		secrets = append(secrets, string(in.SMTPPassword))
	}
	var t Tenant
	if err := c.do(ctx, &request{method: http.MethodPut, route: "/tenants/{id}/brand", args: []string{tenantID},
		query: versionQuery(version), body: body, secrets: secrets, out: &t, op: op}); err != nil {
		return nil, err
	}
	return &t, nil
}

// DisableBrand turns custom branding off.
func (c *Client) DisableBrand(ctx context.Context, tenantID string, version int64) error {
	return c.do(ctx, &request{method: http.MethodDelete, route: "/tenants/{id}/brand", args: []string{tenantID},
		query: versionQuery(version), op: "disable brand of tenant " + tenantID})
}

// UploadBrandLogo replaces the brand's logo with png (a PNG image); version is the tenant's. The
// server answers with the tenant, whose version has moved.
func (c *Client) UploadBrandLogo(ctx context.Context, tenantID string, version int64, png []byte) (*Tenant, error) {
	var t Tenant
	if err := c.do(ctx, &request{method: http.MethodPost, route: "/tenants/{id}/brand/logo", args: []string{tenantID},
		query: versionQuery(version), body: png, contentType: "image/png", out: &t, op: "upload brand logo of tenant " + tenantID}); err != nil {
		return nil, err
	}
	return &t, nil
}

func (c *Client) decodeBrand(op string, raw json.RawMessage) (*Brand, error) {
	var b Brand
	if len(raw) == 0 {
		return &b, nil
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, newLocalError(op, kindOther, "cannot decode the answer: "+err.Error(), c.redactor())
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(raw, &all) == nil {
		for k := range all {
			if knownBrandField[k] {
				delete(all, k)
			}
		}
		if len(all) > 0 {
			b.Extra = all
		}
	}
	return &b, nil
}

// knownBrandField lists the JSON names Brand models (smtp_password is masked on reads, so dropped).
var knownBrandField = func() map[string]bool {
	m := map[string]bool{"smtp_password": true}
	t := reflect.TypeOf(Brand{})
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = true
		}
	}
	return m
}()

// SearchResult is one hit of a search: a tenant or a user.
type SearchResult struct {
	ObjType  string   `json:"obj_type"`
	ID       string   `json:"id"`
	ParentID string   `json:"parent_id,omitempty"`
	TenantID string   `json:"tenant_id,omitempty"`
	Path     []string `json:"path,omitempty"`
	Name     string   `json:"name,omitempty"`
	Login    string   `json:"login,omitempty"`
	Kind     string   `json:"kind,omitempty"`
	Email    string   `json:"email,omitempty"`
	Enabled  bool     `json:"enabled"`
}

// Search looks for tenants and users under tenantID by name, login, email or contact names
// (case-insensitive). limit 0 is the server's default (10).
func (c *Client) Search(ctx context.Context, tenantID, text string, limit int) ([]SearchResult, error) {
	q := url.Values{"tenant": {tenantID}, "text": {text}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out items[SearchResult]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/search", query: q, out: &out,
		op: "search in tenant " + tenantID})
	return out.Items, err
}
