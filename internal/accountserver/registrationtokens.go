package accountserver

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// MaxRegistrationTokenLifetime is the longest expires_in the server takes: one year.
const MaxRegistrationTokenLifetime = 365 * 24 * time.Hour

// RegistrationToken is a registration token as the server shows it: in every answer, with its
// value. Token prints, logs and marshals as "[REDACTED]"; string(Token) is the value.
type RegistrationToken struct {
	// ID is the token's integer id, the only name the server gives it.
	ID        int64  `json:"id"`
	Token     Secret `json:"token"`
	CreatedAt Time   `json:"created_at"`
	ExpiresAt Time   `json:"expires_at"`
	// TenantID is the tenant's legacy numeric id (a decimal string); TenantUUID its UUID.
	TenantID   string   `json:"tenant_id"`
	TenantUUID string   `json:"tenant_uuid,omitempty"`
	Scopes     []string `json:"scopes"`
}

// registrationTokenCreate is the (closed) body of POST /tenants/{id}/registration_tokens.
type registrationTokenCreate struct {
	ExpiresIn int64    `json:"expires_in"`
	Scopes    []string `json:"scopes"`
}

// CreateRegistrationToken makes a registration token of a tenant, valid for expiresIn (whole
// seconds, at most a year), with the given scopes. The answer (200) carries the token's value.
// Not re-sent once it may have reached the server.
func (c *Client) CreateRegistrationToken(ctx context.Context, tenantID string, expiresIn time.Duration, scopes []string) (*RegistrationToken, error) {
	op := "create registration token in tenant " + tenantID
	secs := int64(expiresIn / time.Second)
	if secs < 1 || expiresIn > MaxRegistrationTokenLifetime {
		return nil, newLocalError(op, kindInvalid, "expires_in must be between 1 second and one year, got "+expiresIn.String(), c.redactor())
	}
	body := registrationTokenCreate{ExpiresIn: secs, Scopes: scopes}
	if body.Scopes == nil {
		body.Scopes = []string{}
	}
	var out RegistrationToken
	if err := c.do(ctx, &request{method: http.MethodPost, route: "/tenants/{id}/registration_tokens", args: []string{tenantID},
		body: body, out: &out, op: op}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListRegistrationTokens lists the registration tokens of a tenant, with their values.
func (c *Client) ListRegistrationTokens(ctx context.Context, tenantID string) ([]RegistrationToken, error) {
	var out items[RegistrationToken]
	err := c.do(ctx, &request{method: http.MethodGet, route: "/tenants/{id}/registration_tokens", args: []string{tenantID}, out: &out,
		op: "list registration tokens of tenant " + tenantID})
	return out.Items, err
}

// DeleteRegistrationToken revokes a registration token. The path takes the token's integer id:
// the official document calls it a UUID, but a token has no other id (see internal/wire's
// corrections).
func (c *Client) DeleteRegistrationToken(ctx context.Context, id int64) error {
	s := strconv.FormatInt(id, 10)
	return c.do(ctx, &request{method: http.MethodDelete, route: "/registration_tokens/{id}", args: []string{s},
		op: "delete registration token " + s})
}
