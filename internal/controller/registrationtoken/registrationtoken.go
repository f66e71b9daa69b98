// Package registrationtoken says how a RegistrationToken object talks to
// the account server: a registration token of a tenant, kept in a Secret
// the object owns and renewed before it expires. The generic loop in
// internal/managed does everything else: renewal, a lost or changed
// Secret, and a change of scopes or lifetime all replace the token through
// its crash-safe replacement (the new token is made and written to the
// Secret, then the old one revoked).
//
// The token's value is a secret: it is written to the Secret and nowhere
// else, never to status, a condition, an event, a log line or an error.
package registrationtoken

import (
	"context"
	"time"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// SecretIndex indexes RegistrationTokens by the Secret they write.
const SecretIndex = ".spec.secretName"

// resolved is what Resolve found for one reconcile.
type resolved struct {
	tenantID string
}

type request = managed.Request[*v1.RegistrationToken, resolved]

// External talks to the account server about registration tokens.
type External struct {
	tenant.Scope[*v1.RegistrationToken]
	// now is the clock renewal is decided on; nil is time.Now.
	now func() time.Time
}

func (e *External) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// Resolve finds the tenant's UUID.
func (e *External) Resolve(ctx context.Context, req *request) (resolved, error) {
	tenantID, err := e.TenantID(ctx, req.Conn, req.Object)
	return resolved{tenantID: tenantID}, err
}

// tenantOf is the tenant whose tokens are listed: the one Resolve found,
// else the one status recorded.
func tenantOf(req *request) string {
	if id := req.Resolved.tenantID; id != "" {
		return id
	}
	if id := req.Object.Status.TenantID; id != "" {
		return id
	}
	return req.Object.Spec.TenantID
}

// Observe finds this object's token in its tenant's listing and checks its
// Secret. Only the current token is looked for: another ID (a token being
// revoked) and any ID while the object is deleted are revoked without a
// look, and a revocation that finds nothing is done. The current token,
// no longer listed, is returned as gone, to be replaced.
func (e *External) Observe(ctx context.Context, req *request, id string) (*remote, error) {
	obj := req.Object
	if obj.DeletionTimestamp != nil || id != obj.Status.ID {
		return &remote{id: id}, nil
	}
	tokens, err := req.Conn.Client.ListRegistrationTokens(ctx, tenantOf(req))
	if err != nil {
		return nil, tenant.MissingTenant(err, tenantOf(req))
	}
	for i := range tokens {
		if idOf(tokens[i].ID) == id {
			return e.withSecret(ctx, req, &tokens[i], false)
		}
	}
	return &remote{id: id, gone: true}, nil
}

// Find looks, after an interrupted create, for the token that create made
// (see pick), and writes it to the Secret at once: adopting it must not
// leave the Secret with a token about to be revoked.
func (e *External) Find(ctx context.Context, req *request) (*remote, bool, error) {
	obj := req.Object
	tokens, err := req.Conn.Client.ListRegistrationTokens(ctx, tenantOf(req))
	if err != nil {
		return nil, false, tenant.MissingTenant(err, tenantOf(req))
	}
	held, err := e.held(ctx, obj)
	if err != nil {
		return nil, false, err
	}
	tok, found := pick(tokens, markerTime(obj), wantScopes(obj, tenantOf(req)), expiresIn(obj), held)
	if !found {
		return nil, false, nil
	}
	if obj.DeletionTimestamp != nil {
		return remoteOf(&tok), true, nil
	}
	r, err := e.withSecret(ctx, req, &tok, true)
	return r, err == nil, err
}

// held lists the token IDs RegistrationTokens hold: every object's
// status.id and the token it is replacing, this object's included (its
// current token is not the one its create made).
func (e *External) held(ctx context.Context, obj *v1.RegistrationToken) (map[string]bool, error) {
	var all v1.RegistrationTokenList
	if err := e.Reader.List(ctx, &all); err != nil {
		return nil, err
	}
	out := map[string]bool{}
	add := func(o *v1.RegistrationToken) {
		if id := o.Status.ID; id != "" {
			out[id] = true
		}
		if id := o.GetAnnotations()[v1.AnnotationReplacing]; id != "" {
			out[id] = true
		}
	}
	add(obj)
	for i := range all.Items {
		if o := &all.Items[i]; o.UID != obj.UID {
			add(o)
		}
	}
	return out, nil
}

// CanAdopt refuses a token of another tenant: tokens do not move.
func (e *External) CanAdopt(_ context.Context, req *request, r *remote) error {
	if want := req.Resolved.tenantID; r.token != nil && r.token.TenantUUID != "" && want != "" && r.token.TenantUUID != want {
		return tenant.Mismatch("RegistrationToken", r.id, r.token.TenantUUID, want)
	}
	return nil
}

// Create makes a token in the tenant and writes it to the Secret at once.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	if err := e.CheckTenant(ctx, req.Conn, req.Object, req.Resolved.tenantID); err != nil {
		return nil, err
	}
	return e.createWithSecret(ctx, req)
}

// MustReplace says why the token must be replaced by a new one (made and
// written to the Secret first, the old one revoked after): it is due for
// renewal, its Secret no longer holds it, it is gone from the server, or
// a changed spec asks for other scopes or another lifetime, which a token
// cannot change. Scopes and lifetime are compared only when the spec
// changed since it was last handled: a server that rounds or caps what it
// was asked for then gets one replacement, not one on every reconcile.
func (e *External) MustReplace(req *request, r *remote) []string {
	if r.gone {
		return []string{"the token is no longer on the server"}
	}
	if r.token == nil {
		return nil
	}
	var why []string
	switch r.secret {
	case secretMissing:
		why = append(why, "the Secret is missing")
	case secretStale:
		why = append(why, "the Secret does not hold the current token")
	}
	obj := req.Object
	if specChanged := obj.Status.ObservedGeneration != obj.Generation; specChanged {
		if !sameScopes(wantScopes(obj, tenantOf(req)), r.token.Scopes) {
			why = append(why, "spec.scopes changed")
		}
		if !sameLifetime(r.token, expiresIn(obj)) {
			why = append(why, "spec.expiresIn changed")
		}
	}
	if len(why) == 0 && !e.clock().Before(renewAt(r.token.CreatedAt.Time, r.token.ExpiresAt.Time, renewBefore(obj))) {
		why = append(why, "the token is due for renewal")
	}
	return why
}

// Diff names what can be repaired in place: the Secret holds the token,
// but not the right expires_at or url.
func (e *External) Diff(_ *request, r *remote) ([]string, error) {
	if r.keysDiffer {
		return []string{"secret expires_at, url"}, nil
	}
	return nil, nil
}

// Update writes the Secret's keys anew, with the same token.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	out := *r
	rv, err := e.writeSecret(ctx, req, r.token)
	if err != nil {
		return nil, err
	}
	out.keysDiffer, out.secretVersion, out.written = false, rv, e.writtenAt()
	return &out, nil
}

// Delete revokes the token; one already gone is fine. The Secret is owned
// by the object and goes with it.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	if r.gone {
		return nil
	}
	id, err := parseID(r.id)
	if err != nil {
		// Not a token's id: nothing this operator made, nothing to revoke.
		return nil
	}
	return req.Conn.Client.DeleteRegistrationToken(ctx, id)
}

// SetStatus mirrors the token into status (never its value), and records
// the Secret version found to hold it or written.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	if tok := r.token; tok != nil {
		st.TenantID = tok.TenantUUID
		if st.TenantID == "" {
			st.TenantID = tenantOf(req)
		}
		expires := tok.ExpiresAt.UTC().Truncate(time.Second)
		at := renewAt(tok.CreatedAt.Time, tok.ExpiresAt.Time, renewBefore(req.Object)).UTC().Truncate(time.Second)
		if st.ExpiresAt == nil || !st.ExpiresAt.Time.Equal(expires) {
			st.ExpiresAt = newTime(expires)
		}
		if st.RenewAt == nil || !st.RenewAt.Time.Equal(at) {
			st.RenewAt = newTime(at)
		}
	}
	if r.secretVersion != "" {
		st.SecretResourceVersion = r.secretVersion
	}
	if r.written != nil {
		st.SecretWrittenAt = r.written
	}
}

// PollAfter wakes the object when its token is due for renewal, so
// renewal does not wait for the resync. The wake reads the listing and
// writes nothing until then.
func (e *External) PollAfter(req *request, r *remote) time.Duration {
	if r.token == nil {
		return 0
	}
	d := renewAt(r.token.CreatedAt.Time, r.token.ExpiresAt.Time, renewBefore(req.Object)).Sub(e.clock())
	return max(d, time.Second)
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=registrationtokens,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=registrationtokens/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=registrationtokens/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch
