package tenant

import (
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// This file translates between the Tenant spec and the account server's
// tenant; nothing here talks to the server.

// remoteName is the tenant's name on the server.
func remoteName(t *v1.Tenant) string {
	if t.Spec.DisplayName != "" {
		return t.Spec.DisplayName
	}
	return t.Name
}

func wantEnabled(t *v1.Tenant) bool { return t.Spec.Enabled == nil || *t.Spec.Enabled }

// toContact returns the contact fields the spec sets, or nil when it sets
// no contact; the server keeps the rest.
func toContact(c *v1.Contact) *accountserver.Contact {
	if c == nil {
		return nil
	}
	out := ToContact(*c)
	return &out
}

// ToContact is the server's contact for a spec's contact (a Tenant's or a
// User's): the fields the spec models, the others left empty.
func ToContact(c v1.Contact) accountserver.Contact {
	return accountserver.Contact{
		Email: c.Email, Firstname: c.Firstname, Lastname: c.Lastname, Phone: c.Phone,
		Address1: c.Address1, Address2: c.Address2, City: c.City, State: c.State, Zipcode: c.Zipcode, Country: c.Country,
	}
}

// contactDiffers reports whether a field the spec sets differs on the
// server; a spec without a contact manages none.
func contactDiffers(want *v1.Contact, got accountserver.Contact) bool {
	return want != nil && ContactDiffers(*want, got)
}

// ContactDiffers reports whether a field the spec's contact sets differs on
// the server; the fields it leaves empty are the server's.
func ContactDiffers(want v1.Contact, got accountserver.Contact) bool {
	pairs := [][2]string{
		{want.Email, got.Email}, {want.Firstname, got.Firstname}, {want.Lastname, got.Lastname}, {want.Phone, got.Phone},
		{want.Address1, got.Address1}, {want.Address2, got.Address2}, {want.City, got.City}, {want.State, got.State},
		{want.Zipcode, got.Zipcode}, {want.Country, got.Country},
	}
	for _, p := range pairs {
		if p[0] != "" && p[0] != p[1] {
			return true
		}
	}
	return false
}

func toCreate(t *v1.Tenant, parentID string) accountserver.TenantCreate {
	return accountserver.TenantCreate{
		Name:            remoteName(t),
		ParentID:        parentID,
		Kind:            string(t.Spec.Kind),
		Contact:         toContact(t.Spec.Contact),
		Enabled:         ptr.To(wantEnabled(t)),
		CustomerID:      t.Spec.CustomerID,
		Language:        t.Spec.Language,
		AncestralAccess: t.Spec.AncestralAccess,
	}
}

// tenantUpdate returns the PUT body for the tenant fields that differ, and
// their names; an empty list means the tenant object itself is up to date.
func tenantUpdate(t *v1.Tenant, parentID string, got *accountserver.Tenant) (accountserver.TenantUpdate, []string) {
	u := accountserver.TenantUpdate{Version: got.Version}
	var fields []string
	if name := remoteName(t); name != got.Name {
		u.Name, fields = ptr.To(name), append(fields, "name")
	}
	if string(t.Spec.Kind) != got.Kind {
		u.Kind, fields = ptr.To(string(t.Spec.Kind)), append(fields, "kind")
	}
	if parentID != got.ParentID {
		u.ParentID, fields = ptr.To(parentID), append(fields, "parent")
	}
	if wantEnabled(t) != got.Enabled {
		u.Enabled, fields = ptr.To(wantEnabled(t)), append(fields, "enabled")
	}
	if contactDiffers(t.Spec.Contact, got.Contact) {
		u.Contact, fields = toContact(t.Spec.Contact), append(fields, "contact")
	}
	if t.Spec.CustomerID != "" && t.Spec.CustomerID != ptr.Deref(got.CustomerID, "") {
		u.CustomerID, fields = ptr.To(t.Spec.CustomerID), append(fields, "customerID")
	}
	if t.Spec.Language != "" && t.Spec.Language != got.Language {
		u.Language, fields = ptr.To(t.Spec.Language), append(fields, "language")
	}
	if t.Spec.CustomerType != "" && t.Spec.CustomerType != got.CustomerType {
		u.CustomerType, fields = ptr.To(t.Spec.CustomerType), append(fields, "customerType")
	}
	if t.Spec.AncestralAccess != nil && *t.Spec.AncestralAccess != got.AncestralAccess {
		u.AncestralAccess, fields = t.Spec.AncestralAccess, append(fields, "ancestralAccess")
	}
	return u, fields
}

const (
	mfaEnabled  = "enabled"
	mfaDisabled = "disabled"
)

// mfaDiffers reports whether the spec asks for an MFA state the tenant is
// not in.
func mfaDiffers(t *v1.Tenant, got *accountserver.Tenant) bool {
	if t.Spec.MFA == nil {
		return false
	}
	return t.Spec.MFA.Enabled != (got.MFAStatus == mfaEnabled)
}

// brandUpdate returns the branding options the spec sets, and whether any
// differs from got (nil: a brand with no options yet). Options the spec
// leaves out are the server's.
func brandUpdate(b *v1.BrandingSpec, got *accountserver.Brand) (accountserver.Brand, bool) {
	if got == nil {
		got = &accountserver.Brand{}
	}
	u := accountserver.Brand{
		CompanyName: b.CompanyName, ServiceName: b.ServiceName, Color: b.Color, ColorScheme: b.ColorScheme,
		HomeURL: b.HomeURL, SupportURL: b.SupportURL, SupportPhone: b.SupportPhone, KnowledgebaseURL: b.KnowledgeBaseURL,
		HelpURL: b.HelpURL, UserGuideURL: b.UserGuideURL, TermsURL: b.TermsURL, PrivacyPolicyURL: b.PrivacyPolicyURL,
		UpsellURL: b.BuyURL,
	}
	pairs := [][2]string{
		{u.CompanyName, got.CompanyName}, {u.ServiceName, got.ServiceName}, {u.Color, got.Color}, {u.ColorScheme, got.ColorScheme},
		{u.HomeURL, got.HomeURL}, {u.SupportURL, got.SupportURL}, {u.SupportPhone, got.SupportPhone},
		{u.KnowledgebaseURL, got.KnowledgebaseURL}, {u.HelpURL, got.HelpURL}, {u.UserGuideURL, got.UserGuideURL},
		{u.TermsURL, got.TermsURL}, {u.PrivacyPolicyURL, got.PrivacyPolicyURL}, {u.UpsellURL, got.UpsellURL},
	}
	for _, p := range pairs {
		if p[0] != "" && p[0] != p[1] {
			return u, true
		}
	}
	return u, false
}
