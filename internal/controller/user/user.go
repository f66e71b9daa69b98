// Package user says how a User object talks to the account server: the
// account, its roles (access policies), its activation and MFA. The generic
// loop in internal/managed does everything else.
package user

import (
	"context"
	"iter"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/connection"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// Condition reasons of the User kind.
const (
	ReasonLoginTaken            = "LoginTaken"
	ReasonPasswordSecretMissing = "PasswordSecretNotFound"
	ReasonPasswordKeyMissing    = "PasswordKeyMissing"
	ReasonTenantMismatch        = tenant.ReasonTenantMismatch
)

// Event reasons of the activation email (the user stays Ready).
const (
	// ReasonActivationEmailUnconfirmed: the answer to the activation email
	// was lost; it is not sent again on its own (Warning).
	ReasonActivationEmailUnconfirmed = "ActivationEmailUnconfirmed"
	// ReasonActivationEmailNotResent: a request to send it again was
	// dropped, as the user does not take activation emails (Normal).
	ReasonActivationEmailNotResent = "ActivationEmailNotResent"
)

// PasswordSecretIndex indexes Users by the Secret holding their password.
const PasswordSecretIndex = ".spec.activation.passwordSecretRef.name"

// remote is a user as read from the server, with its access policies when
// the spec manages roles.
type remote struct {
	user     *accountserver.User
	policies []accountserver.AccessPolicy
}

func (r *remote) RemoteID() string     { return r.user.ID }
func (r *remote) RemoteVersion() int64 { return r.user.Version }

type request = managed.Request[*v1.User, resolved]

// resolved is what Resolve found, and what Update did, in one reconcile.
type resolved struct {
	tenantID string
	// password and passwordVersion come from the password Secret, read only
	// when its resourceVersion is newer than the one last set. The value is
	// kept in memory for this reconcile only.
	password        string
	passwordVersion string

	// emailSentAt is when this reconcile asked the server for the
	// activation email.
	emailSentAt  *metav1.Time
	passwordSet  string
	managedRoles *[]string
}

// External talks to the account server about users.
type External struct {
	tenant.Scope[*v1.User]
}

// Resolve finds the tenant's UUID and, when the password must be set, the
// password; it settles an activation email whose outcome was never
// recorded.
func (e *External) Resolve(ctx context.Context, req *request) (res resolved, err error) {
	u := req.Object
	if res.tenantID, err = e.TenantID(ctx, req.Conn, u); err != nil {
		return res, err
	}
	if u.Spec.Activation.Method == v1.ActivationPassword {
		err = e.readPassword(ctx, u, &res)
	}
	if err == nil && u.GetDeletionTimestamp() == nil && u.Spec.ManagementPolicy != v1.ManagementObserveOnly {
		err = e.settleEmail(ctx, u)
	}
	return res, err
}

// managesRoles says whether access policies need reading: when the spec
// names roles, or the operator made some that may have to go.
func managesRoles(u *v1.User) bool { return u.Spec.Roles != nil || len(u.Status.ManagedRoles) > 0 }

// Observe reads the user, and its access policies when roles are managed.
func (e *External) Observe(ctx context.Context, req *request, id string) (*remote, error) {
	usr, err := req.Conn.Client.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &remote{user: usr}
	if managesRoles(req.Object) {
		if r.policies, err = req.Conn.Client.GetAccessPolicies(ctx, id); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Find looks the login up in the user's tenant.
func (e *External) Find(ctx context.Context, req *request) (*remote, bool, error) {
	usr, err := req.Conn.Client.FindUserByLogin(ctx, req.Resolved.tenantID, req.Object.Spec.Login)
	if accountserver.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &remote{user: usr}, true, nil
}

// CanAdopt refuses a user of another tenant: users do not move.
func (e *External) CanAdopt(_ context.Context, req *request, r *remote) error {
	if want := req.Resolved.tenantID; r.user.TenantID != want {
		return tenant.Mismatch("User", r.user.ID, r.user.TenantID, want)
	}
	return nil
}

// Create creates the user in its tenant. A login taken anywhere on the
// server is LoginTaken: logins are unique server-wide.
func (e *External) Create(ctx context.Context, req *request) (*remote, error) {
	res := &req.Resolved
	if err := e.CheckTenant(ctx, req.Conn, req.Object, res.tenantID); err != nil {
		return nil, err
	}
	usr, err := req.Conn.Client.CreateUser(ctx, toCreate(req.Object, res.tenantID))
	if accountserver.IsConflict(err) {
		return nil, managed.Stalled(ReasonLoginTaken, "login %s is taken on the server; choose another, or set importID to adopt that user", req.Object.Spec.Login)
	}
	if err != nil {
		return nil, tenant.MissingTenant(err, res.tenantID)
	}
	return &remote{user: usr}, nil
}

// Diff names what differs: the user's fields, roles, MFA and activation.
func (e *External) Diff(req *request, r *remote) ([]string, error) {
	u, res := req.Object, &req.Resolved
	_, fields := userUpdate(u, r.user)
	if managesRoles(u) {
		if _, changed := desiredPolicies(u, r.user.ID, r.user.TenantID, r.policies); changed {
			fields = append(fields, "roles")
		}
	}
	if mfaDiffers(u, r.user) {
		fields = append(fields, "mfa")
	}
	if needsEmail(u, r.user) {
		fields = append(fields, "activation email")
	}
	if res.passwordVersion != "" {
		fields = append(fields, "password")
	}
	return fields, nil
}

// needsEmail: the activation email goes to a user not activated yet, once
// (no record of it: see email.go), or once more when a person asks.
func needsEmail(u *v1.User, got *accountserver.User) bool {
	if u.Spec.Activation.Method != v1.ActivationEmail || got.Activated {
		return false
	}
	return resendAsked(u) || (!emailRecorded(u) && u.Status.ActivationEmailSentAt == nil)
}

// Update sends the user's own fields in one versioned PUT, then the
// activation email, roles, MFA and the password through their endpoints,
// and reads the user again if those changed it.
func (e *External) Update(ctx context.Context, req *request, r *remote) (*remote, error) {
	u, c, res := req.Object, req.Conn.Client, &req.Resolved
	out := &remote{user: r.user, policies: r.policies}
	if up, fields := userUpdate(u, r.user); len(fields) > 0 {
		updated, err := c.UpdateUser(ctx, r.user.ID, up)
		if err != nil {
			return nil, err
		}
		out.user = updated
	}
	if needsEmail(u, out.user) {
		// Before roles and MFA: a record refused for a lagging cache then
		// leaves nothing else done that the status would have to show.
		if err := e.sendEmail(ctx, req, r.user.ID); err != nil {
			return nil, err
		}
	}
	reread := false
	if managesRoles(u) {
		if want, changed := desiredPolicies(u, r.user.ID, r.user.TenantID, out.policies); changed {
			policies, err := c.PutAccessPolicies(ctx, r.user.ID, want)
			if err != nil {
				return nil, err
			}
			out.policies = policies
			roles := ownRoles(u, r.policies)
			res.managedRoles = &roles
		}
	}
	if mfaDiffers(u, out.user) {
		if err := c.SetUserMFA(ctx, r.user.ID, u.Spec.MFA.Enabled); err != nil {
			return nil, err
		}
		reread = true
	}
	if res.passwordVersion != "" {
		if err := c.SetPassword(ctx, r.user.ID, res.password); err != nil {
			return nil, err
		}
		res.passwordSet, res.password = res.passwordVersion, ""
		reread = true
	}
	if reread {
		usr, err := c.GetUser(ctx, r.user.ID)
		if err != nil {
			return nil, err
		}
		out.user = usr
	}
	return out, nil
}

// ownRoles are the roles the operator holds after writing the spec's: those
// it made before and still wants, and those it just added.
func ownRoles(u *v1.User, before []accountserver.AccessPolicy) []string {
	var own []string
	for _, role := range u.Spec.Roles {
		existed := slices.ContainsFunc(before, func(p accountserver.AccessPolicy) bool { return p.RoleID == role })
		if !existed || slices.Contains(u.Status.ManagedRoles, role) {
			own = append(own, role)
		}
	}
	slices.Sort(own)
	return own
}

// Delete disables the user, then deletes it with the version the disable
// left, as the vendor's guide does: a user that cannot be deleted (the
// server refuses, the operator stops) is at least no longer able to log in.
func (e *External) Delete(ctx context.Context, req *request, r *remote) error {
	c, id := req.Conn.Client, r.user.ID
	disable := func(version int64) (int64, error) {
		off, err := c.UpdateUser(ctx, id, accountserver.UserUpdate{Version: version, Enabled: ptr.To(false)})
		if err != nil {
			return 0, err
		}
		return off.Version, nil
	}
	return tenant.DisableThenDelete(r.user.Enabled, r.user.Version, disable, func(version int64) error { return c.DeleteUser(ctx, id, version) })
}

// SetStatus mirrors the remote user into status, and records what this
// reconcile did.
func (e *External) SetStatus(req *request, r *remote) {
	st := &req.Object.Status
	usr := r.user
	st.TenantID, st.Enabled, st.Activated, st.MFAStatus = usr.TenantID, ptr.To(usr.Enabled), usr.Activated, usr.MFAStatus
	st.PersonalTenantID = ptr.Deref(usr.PersonalTenantID, "")
	res := req.Resolved
	if res.emailSentAt != nil {
		st.ActivationEmailSentAt = res.emailSentAt
	}
	st.ActivationEmail = emailState(req.Object)
	if res.passwordSet != "" {
		st.PasswordSecretVersion = res.passwordSet
	}
	if res.managedRoles != nil {
		st.ManagedRoles = *res.managedRoles
	}
}

// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=users,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=users/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=accounts.tenant-operator.io,resources=users/finalizers,verbs=update

// Kind registers Users with the loop.
var Kind = tenant.Kind[*v1.User, *remote, resolved]{
	Name: "User",
	External: func(s tenant.Scope[*v1.User]) managed.External[*v1.User, *remote, resolved] {
		return &External{Scope: s}
	},
	References: []managed.Reference[*v1.User]{{Field: PasswordSecretIndex, Target: &corev1.Secret{}, MetadataOnly: true, WakeAll: true,
		Names: func(u *v1.User) []string {
			if ref := u.Spec.Activation.PasswordSecretRef; ref != nil && u.Spec.Activation.Method == v1.ActivationPassword {
				return []string{ref.Name}
			}
			return nil
		}}},
}

// ObserveMany reads users with their roles by ID, a hundred per request
// (where Observe needs two requests per user).
func (e *External) ObserveMany(ctx context.Context, c *connection.Connection, ids []string) (map[string]*remote, error) {
	us, err := c.Client.GetUsers(ctx, ids, accountserver.WithAccessPolicies())
	if err != nil {
		return nil, err
	}
	out := make(map[string]*remote, len(us))
	for i := range us {
		out[us[i].ID] = &remote{user: &us[i], policies: us[i].AccessPolicies}
	}
	return out, nil
}

// Complete keeps the roles only when the spec manages them, as Observe
// reads them only then.
func (e *External) Complete(_ context.Context, req *request, r *remote) (*remote, error) {
	if !managesRoles(req.Object) {
		r.policies = nil
	}
	return r, nil
}

// ListChanged lists the users of the subtree changed since since, by their
// stamps (ID, version, deletion) only.
func (e *External) ListChanged(ctx context.Context, c *accountserver.Client, root string, since time.Time) iter.Seq2[remotewatch.Change, error] {
	q := accountserver.UserQuery{SubtreeRootTenantID: root, UpdatedSince: since, Lod: "stamps", AllowDeleted: true}
	return remotewatch.Changes(c.ListUsers(ctx, q), func(u accountserver.User) remotewatch.Change {
		return remotewatch.Change{ID: u.ID, Version: u.Version, Deleted: u.DeletedAt != nil}
	})
}
