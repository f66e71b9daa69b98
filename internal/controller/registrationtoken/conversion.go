package registrationtoken

import (
	"slices"
	"strconv"
	"strings"
	"time"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// This file translates between the RegistrationToken spec and the account
// server's registration tokens; nothing here talks to the server.

// DefaultExpiresIn is the lifetime of a token whose spec leaves it out.
const DefaultExpiresIn = 720 * time.Hour

// lifetimeTolerance is how far a token's lifetime on the server
// (expires_at - created_at) may be from spec.expiresIn and still count as
// the same: the server may round its timestamps.
const lifetimeTolerance = 2 * time.Second

// markerSkew is how long before the create marker's timestamp a token may
// have been made and still be taken for this object's lost create: the
// marker is written with the operator's clock, created_at with the
// server's.
const markerSkew = time.Minute

// AgentScope is the scope with which machines register backup agents in a
// tenant.
func AgentScope(tenantID string) string {
	return "urn:acronis.com:tenant-id:" + tenantID + ":backup_agent_admin"
}

// wantScopes are the scopes of the token: spec.scopes, or the agent
// registration scope of the tenant. Sorted: the server need not keep the
// order.
func wantScopes(t *v1.RegistrationToken, tenantID string) []string {
	if len(t.Spec.Scopes) == 0 {
		return []string{AgentScope(tenantID)}
	}
	out := slices.Clone(t.Spec.Scopes)
	slices.Sort(out)
	return slices.Compact(out)
}

// sameScopes compares scopes as sets.
func sameScopes(want, got []string) bool {
	g := slices.Clone(got)
	slices.Sort(g)
	return slices.Equal(want, slices.Compact(g))
}

// expiresIn is the token's wanted lifetime.
func expiresIn(t *v1.RegistrationToken) time.Duration {
	if t.Spec.ExpiresIn == nil || t.Spec.ExpiresIn.Duration <= 0 {
		return DefaultExpiresIn
	}
	return t.Spec.ExpiresIn.Duration
}

// renewBefore is how long before its expiry a token is replaced: the
// spec's, or a third of the lifetime.
func renewBefore(t *v1.RegistrationToken) time.Duration {
	if t.Spec.RenewBefore != nil && t.Spec.RenewBefore.Duration > 0 {
		return t.Spec.RenewBefore.Duration
	}
	return expiresIn(t) / 3
}

// renewAt is when a token made at created, expiring at expires, is
// replaced: renewBefore before it expires, but never sooner than a tenth
// of its lifetime after it was made, so a renewBefore close to expiresIn
// cannot make the operator renew without pause.
func renewAt(created, expires time.Time, before time.Duration) time.Time {
	at := expires.Add(-before)
	if floor := created.Add(expires.Sub(created) / 10); at.Before(floor) {
		return floor
	}
	return at
}

// sameLifetime says whether a token lives as long as the spec wants.
func sameLifetime(tok *accountserver.RegistrationToken, want time.Duration) bool {
	d := tok.ExpiresAt.Sub(tok.CreatedAt.Time) - want
	return d <= lifetimeTolerance && d >= -lifetimeTolerance
}

// pick chooses, among a tenant's tokens, the one an interrupted create of
// this object made: made at or after since (less markerSkew), with the
// scopes and lifetime this object asks for, and not held by any
// RegistrationToken (held). Of several, the newest. Nothing on the server
// says which object made a token, so a token with the same scopes and
// lifetime that someone else made in that window would be taken too.
func pick(tokens []accountserver.RegistrationToken, since time.Time, scopes []string, lifetime time.Duration, held map[string]bool) (accountserver.RegistrationToken, bool) {
	var best accountserver.RegistrationToken
	found := false
	for _, tok := range tokens {
		switch {
		case held[idOf(tok.ID)]:
		case !since.IsZero() && tok.CreatedAt.Before(since.Add(-markerSkew)):
		case !sameScopes(scopes, tok.Scopes):
		case !sameLifetime(&tok, lifetime):
		case found && (tok.CreatedAt.Before(best.CreatedAt.Time) || (tok.CreatedAt.Equal(best.CreatedAt.Time) && tok.ID < best.ID)):
		default:
			best, found = tok, true
		}
	}
	return best, found
}

// markerTime reads the create marker's timestamp; zero when absent or
// unreadable (then any time matches).
func markerTime(t *v1.RegistrationToken) time.Time {
	at, err := time.Parse(time.RFC3339Nano, t.GetAnnotations()[v1.AnnotationCreatePending])
	if err != nil {
		return time.Time{}
	}
	return at
}

func idOf(id int64) string { return strconv.FormatInt(id, 10) }

// parseID reads status.id, the token's integer id.
func parseID(id string) (int64, error) { return strconv.ParseInt(id, 10, 64) }

// serverURL is the datacenter URL written to the Secret, as an ApiClient
// writes it: the form an AccountServer's spec.url takes (no /api/2).
func serverURL(apiRoot string) string { return strings.TrimSuffix(apiRoot, "/api/2") }

// expiresAtValue is the Secret's expires_at: RFC 3339 in UTC.
func expiresAtValue(t time.Time) string { return t.UTC().Format(time.RFC3339) }
