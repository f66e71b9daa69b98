package user

import (
	"slices"

	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/controller/tenant"
)

// This file translates between the User spec and the account server's user;
// nothing here talks to the server.

func wantEnabled(u *v1.User) bool { return u.Spec.Enabled == nil || *u.Spec.Enabled }

func toCreate(u *v1.User, tenantID string) accountserver.UserCreate {
	c := accountserver.UserCreate{
		TenantID:      tenantID,
		Login:         u.Spec.Login,
		Contact:       tenant.ToContact(u.Spec.Contact),
		Enabled:       ptr.To(wantEnabled(u)),
		Language:      u.Spec.Language,
		BusinessTypes: u.Spec.BusinessTypes,
		Notifications: notifications(u.Spec.Notifications),
	}
	if u.Spec.DisableAfter != nil {
		c.DisableAfter = ptr.To(accountserver.NewTime(u.Spec.DisableAfter.UTC()))
	}
	return c
}

// userUpdate returns the PUT body for the user fields that differ, and their
// names; an empty list means the user object itself is up to date.
func userUpdate(u *v1.User, got *accountserver.User) (accountserver.UserUpdate, []string) {
	up := accountserver.UserUpdate{Version: got.Version}
	var fields []string
	if tenant.ContactDiffers(u.Spec.Contact, got.Contact) {
		c := tenant.ToContact(u.Spec.Contact)
		up.Contact, fields = &c, append(fields, "contact")
	}
	if wantEnabled(u) != got.Enabled {
		up.Enabled, fields = ptr.To(wantEnabled(u)), append(fields, "enabled")
	}
	if u.Spec.Language != "" && u.Spec.Language != got.Language {
		up.Language, fields = ptr.To(u.Spec.Language), append(fields, "language")
	}
	if u.Spec.Notifications != nil && !sameSet(u.Spec.Notifications, got.Notifications) {
		up.Notifications, fields = ptr.To(slices.Clone(u.Spec.Notifications)), append(fields, "notifications")
	}
	if d := u.Spec.DisableAfter; d != nil && (got.DisableAfter == nil || !got.DisableAfter.Equal(d.UTC())) {
		up.DisableAfter, fields = ptr.To(accountserver.NewTime(d.UTC())), append(fields, "disableAfter")
	}
	return up, fields
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// desiredPolicies returns the access policies the user should have: the
// ones the operator did not make, as they are, plus one per role of the spec
// on the user's tenant. changed says whether that differs from current.
func desiredPolicies(u *v1.User, userID, tenantID string, current []accountserver.AccessPolicy) (want []accountserver.AccessPolicy, changed bool) {
	managedBefore := u.Status.ManagedRoles
	have := map[string]bool{}
	for _, p := range current {
		ours := p.TenantID == tenantID && slices.Contains(managedBefore, p.RoleID)
		if ours && !slices.Contains(u.Spec.Roles, p.RoleID) {
			changed = true // the operator made it and the spec dropped it
			continue
		}
		want = append(want, p)
		if p.TenantID == tenantID {
			have[p.RoleID] = true
		}
	}
	for _, role := range u.Spec.Roles {
		if !have[role] {
			want = append(want, accountserver.NewAccessPolicy(userID, tenantID, role))
			changed = true
		}
	}
	return want, changed
}

const mfaEnabled = "enabled"

func mfaDiffers(u *v1.User, got *accountserver.User) bool {
	return u.Spec.MFA != nil && u.Spec.MFA.Enabled != (got.MFAStatus == mfaEnabled)
}

// notifications is what a create sends for the spec's notifications: nil
// (the server's default) when the spec sets none, else the list, an empty
// one included.
func notifications(spec []string) *[]string {
	if spec == nil {
		return nil
	}
	return ptr.To(slices.Clone(spec))
}
