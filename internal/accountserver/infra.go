package accountserver

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Location is an infrastructure location.
type Location struct {
	ID            string `json:"id"`
	OwnerTenantID string `json:"owner_tenant_id"`
	PlatformOwned bool   `json:"platform_owned"`
	Name          string `json:"name"`
	Version       int64  `json:"version"`
	Readonly      bool   `json:"readonly"`
}

// Infra is an infrastructure component (a storage).
type Infra struct {
	ID               string   `json:"id"`
	OwnerTenantID    string   `json:"owner_tenant_id"`
	LocationID       string   `json:"location_id"`
	PlatformOwned    bool     `json:"platform_owned"`
	Name             string   `json:"name"`
	URL              string   `json:"url"`
	Capabilities     []string `json:"capabilities"`
	ContentURL       string   `json:"content_url,omitempty"`
	ContentMobileURL string   `json:"content_mobile_url,omitempty"`
	// BackendType is typed "any" by the reference: usually a string such as "azure".
	BackendType any   `json:"backend_type,omitempty"`
	Version     int64 `json:"version"`
	Readonly    bool  `json:"readonly"`
}

// InfraSpec is the writable part of an infrastructure component (POST /infra, PUT /infra/{id}).
type InfraSpec struct {
	OwnerTenantID    string   `json:"owner_tenant_id,omitempty"`
	LocationID       string   `json:"location_id,omitempty"`
	Name             string   `json:"name,omitempty"`
	URL              string   `json:"url,omitempty"`
	Capabilities     []string `json:"capabilities,omitempty"`
	ContentURL       string   `json:"content_url,omitempty"`
	ContentMobileURL string   `json:"content_mobile_url,omitempty"`
	BackendType      string   `json:"backend_type,omitempty"`
	// Version is required by updates and ignored by creation.
	Version int64 `json:"version,omitempty"`
}

// CreateLocation creates a location (201). Not re-sent once it may have reached the server.
func (c *Client) CreateLocation(ctx context.Context, ownerTenantID, name string) (*Location, error) {
	var out Location
	body := map[string]string{"owner_tenant_id": ownerTenantID, "name": name}
	if err := c.do(ctx, &request{method: http.MethodPost, route: "/locations", body: body, out: &out,
		op: "create location " + strconv.Quote(name) + " of tenant " + ownerTenantID}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetLocation reads a location.
func (c *Client) GetLocation(ctx context.Context, id string) (*Location, error) {
	var out Location
	if err := c.do(ctx, &request{method: http.MethodGet, route: "/locations/{id}", args: []string{id}, out: &out,
		op: "get location " + id}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetLocations reads locations by ID, MaxBatch per request.
func (c *Client) GetLocations(ctx context.Context, ids []string) ([]Location, error) {
	var all []Location
	for chunk := range batches(ids) {
		var out items[Location]
		if err := c.do(ctx, &request{method: http.MethodGet, route: "/locations", query: url.Values{"uuids": {strings.Join(chunk, ",")}},
			out: &out, op: "get locations"}); err != nil {
			return nil, err
		}
		all = append(all, out.Items...)
	}
	return all, nil
}

// TenantLocationIDs lists the IDs of the locations a tenant owns.
func (c *Client) TenantLocationIDs(ctx context.Context, tenantID string) ([]string, error) {
	var out struct {
		Locations []string `json:"locations"`
		Items     []string `json:"items"`
	}
	err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/locations", args: []string{tenantID}, out: &out,
		op: "list locations of tenant " + tenantID})
	return append(out.Locations, out.Items...), err
}

// UpdateLocation renames a location; version must be the current one.
func (c *Client) UpdateLocation(ctx context.Context, id, name string, version int64) (*Location, error) {
	var out Location
	body := struct {
		Name    string `json:"name"`
		Version int64  `json:"version"`
	}{name, version}
	if err := c.do(ctx, &request{method: http.MethodPut, route: "/locations/{id}", args: []string{id}, body: body, out: &out,
		op: "update location " + id}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteLocation deletes a location.
func (c *Client) DeleteLocation(ctx context.Context, id string, version int64) error {
	return c.do(ctx, &request{method: http.MethodDelete, route: "/locations/{id}", args: []string{id},
		query: versionQuery(version), op: "delete location " + id})
}

// CreateInfra registers an infrastructure component (201). Not re-sent once it may have reached the server.
func (c *Client) CreateInfra(ctx context.Context, in InfraSpec) (*Infra, error) {
	in.Version = 0
	var out Infra
	if err := c.do(ctx, &request{method: http.MethodPost, route: "/infra", body: in, out: &out,
		op: "create infra " + strconv.Quote(in.Name) + " of tenant " + in.OwnerTenantID}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetInfra reads an infrastructure component.
func (c *Client) GetInfra(ctx context.Context, id string) (*Infra, error) {
	var out Infra
	if err := c.do(ctx, &request{method: http.MethodGet, route: "/infra/{id}", args: []string{id}, out: &out,
		op: "get infra " + id}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetInfras reads infrastructure components by ID, MaxBatch per request.
func (c *Client) GetInfras(ctx context.Context, ids []string) ([]Infra, error) {
	var all []Infra
	for chunk := range batches(ids) {
		var out items[Infra]
		if err := c.do(ctx, &request{method: http.MethodGet, route: "/infra", query: url.Values{"uuids": {strings.Join(chunk, ",")}},
			out: &out, op: "get infras"}); err != nil {
			return nil, err
		}
		all = append(all, out.Items...)
	}
	return all, nil
}

// LocationInfraIDs lists the IDs of a location's infrastructure components.
func (c *Client) LocationInfraIDs(ctx context.Context, locationID string) ([]string, error) {
	var out struct {
		Infras []string `json:"infras"`
		Items  []string `json:"items"`
	}
	err := c.do(ctx, &request{method: http.MethodGet, route: "/locations/{id}/infra", args: []string{locationID}, out: &out,
		op: "list infras of location " + locationID})
	return append(out.Infras, out.Items...), err
}

// UpdateInfra changes an infrastructure component; in.Version must be the current one.
func (c *Client) UpdateInfra(ctx context.Context, id string, in InfraSpec) (*Infra, error) {
	in.OwnerTenantID = ""
	var out Infra
	if err := c.do(ctx, &request{method: http.MethodPut, route: "/infra/{id}", args: []string{id}, body: in, out: &out,
		op: "update infra " + id}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteInfra unregisters an infrastructure component; force ignores leftover usage.
func (c *Client) DeleteInfra(ctx context.Context, id string, version int64, force bool) error {
	q := versionQuery(version)
	if force {
		q.Set("force", "true")
	}
	return c.do(ctx, &request{method: http.MethodDelete, route: "/infra/{id}", args: []string{id}, query: q,
		op: "delete infra " + id})
}
