package accountserver

import (
	"context"
	"net/http"
	"strconv"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// API client types, auth methods and statuses.
const (
	ClientTypeAPI         = "api_client"
	AuthMethodSecretBasic = "client_secret_basic"
	ClientStatusEnabled   = "enabled"
	ClientStatusDisabled  = "disabled"
)

// ClientData is an API client's metadata.
type ClientData struct {
	ClientName string `json:"client_name,omitempty"`
}

// APIClient is an API client as the server shows it: never with its secret.
type APIClient struct {
	ClientID                string     `json:"client_id"`
	Type                    string     `json:"type"`
	TenantID                string     `json:"tenant_id"`
	Data                    ClientData `json:"data"`
	TokenEndpointAuthMethod string     `json:"token_endpoint_auth_method,omitempty"`
	RedirectURIs            []string   `json:"redirect_uris,omitempty"`
	OriginID                *string    `json:"origin_id,omitempty"`
	Status                  string     `json:"status,omitempty"`
	CreatedAt               *Time      `json:"created_at,omitempty"`
	DeletedAt               *Time      `json:"deleted_at,omitempty"`
}

// CreatedClient is the answer to creating an API client: the only time the secret is shown.
// ClientSecret prints as "[REDACTED]"; string(ClientSecret) is the value.
type CreatedClient struct {
	APIClient
	ClientSecret Secret `json:"client_secret"`
}

// ClientCreate is the body of POST /clients.
type ClientCreate struct {
	Type                    string     `json:"type"`
	TenantID                string     `json:"tenant_id"`
	TokenEndpointAuthMethod string     `json:"token_endpoint_auth_method,omitempty"`
	Data                    ClientData `json:"data"`
	RedirectURIs            []string   `json:"redirect_uris,omitempty"`
}

// ClientUpdate is the body of PUT /clients/{id}; nil fields are left as they are.
type ClientUpdate struct {
	Data         *ClientData `json:"data,omitempty"`
	Status       string      `json:"status,omitempty"`
	RedirectURIs []string    `json:"redirect_uris,omitempty"`
}

// CreateClient creates an API client (201) and returns its secret, which the server never shows
// again. Not re-sent once it may have reached the server.
func (c *Client) CreateClient(ctx context.Context, in ClientCreate) (*CreatedClient, error) {
	if in.Type == "" {
		in.Type = ClientTypeAPI
	}
	if in.TokenEndpointAuthMethod == "" {
		in.TokenEndpointAuthMethod = AuthMethodSecretBasic
	}
	var out CreatedClient
	err := c.do(ctx, &request{method: http.MethodPost, route: "/clients", body: in, out: &out,
		op: "create api client " + strconv.Quote(in.Data.ClientName) + " in tenant " + in.TenantID})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetClient reads an API client.
func (c *Client) GetClient(ctx context.Context, id string) (*APIClient, error) {
	var out APIClient
	if err := c.do(ctx, &request{method: http.MethodGet, route: "/clients/{id}", args: []string{id}, out: &out,
		op: "get api client " + id}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListClients lists the API clients the credentials can see.
func (c *Client) ListClients(ctx context.Context) ([]APIClient, error) {
	var out items[APIClient]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/clients", out: &out, op: "list api clients"})
	return out.Items, err
}

// UpdateClient changes an API client.
func (c *Client) UpdateClient(ctx context.Context, id string, in ClientUpdate) (*APIClient, error) {
	var out APIClient
	if err := c.do(ctx, &request{method: http.MethodPut, route: "/clients/{id}", args: []string{id}, body: in, out: &out,
		op: "update api client " + id}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteClient deletes an API client.
func (c *Client) DeleteClient(ctx context.Context, id string) error {
	return c.do(ctx, &request{method: http.MethodDelete, route: "/clients/{id}", args: []string{id}, op: "delete api client " + id})
}

// CheckCredentials asks the token endpoint for a token with another API client's credentials
// (Basic auth), through this connection's transport and request budget, and discards it. nil
// means they work; IsUnauthorized means the server refused them (a wrong or replaced secret, a
// disabled or deleted client). The secret never appears in an error.
func (c *Client) CheckCredentials(ctx context.Context, clientID string, secret Secret) error {
	if clientID == "" || secret == "" {
		return newLocalError("check credentials", kindUnauthorized, "client ID and secret are required", nil)
	}
	tokenURL := *c.base
	tokenURL.Path += "/idp/token"
	probe := &tokenCache{
		c: c,
		conf: clientcredentials.Config{
			ClientID:     clientID,
			ClientSecret: string(secret),
			TokenURL:     tokenURL.String(),
			AuthStyle:    oauth2.AuthStyleInHeader,
		},
		hc: c.auth.hc,
	}
	if err := c.wait(ctx); err != nil {
		return err
	}
	_, _, err := probe.retrieve(ctx)
	return err
}
