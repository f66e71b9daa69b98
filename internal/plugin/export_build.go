package plugin

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// This file turns what export read from the server (a snapshot) into the
// objects that adopt it; nothing here talks to a server. Every field an
// object declares is the server's value of a field the operator compares,
// so applying the objects changes nothing on the server.

// snapshot is a subtree as the server has it.
type snapshot struct {
	// ConnTenantID is the tenant the connection acts in.
	ConnTenantID string
	// RootID is the root of the export: the connection's tenant, or the
	// tenant --subtree names.
	RootID string
	// Tenants are the root and every tenant below it (personal tenants and
	// deleted ones left out).
	Tenants []accountserver.Tenant
	// Users are the users of those tenants, with their access policies.
	Users []accountserver.User
	// Items are the offering items (every edition) of each tenant.
	Items map[string][]accountserver.OfferingItem
	// ParentItems are the items of the root's parent when the root is
	// exported as a Tenant: what the root inherits is compared to them.
	ParentItems []accountserver.OfferingItem
	// Apps is the server's application catalog.
	Apps []accountserver.Application
}

// exportOptions say how the objects point at the connection and what
// policies they carry.
type exportOptions struct {
	Connection       v1.AccountServerReference
	ObserveOnly      bool
	DeletionPolicy   v1.DeletionPolicy
	maxItemsPerQuota int
}

// tenantExport is one tenant's directory: its Tenant (nil for the
// connection's own tenant, which cannot be adopted through the
// connection), its quotas and its users.
type tenantExport struct {
	Dir      string
	ID       string
	Tenant   *v1.Tenant
	Quotas   []*v1.OfferingItemQuota
	Users    []*v1.User
	Children []*tenantExport
}

// export is the result: the tenants in hierarchy order (parents before
// children, siblings by name), and what was left out and why.
type export struct {
	Root     *tenantExport
	Ordered  []*tenantExport
	Warnings []string
}

// counts of the objects made, by kind.
func (e *export) counts() (tenants, users, quotas, items int) {
	for _, t := range e.Ordered {
		if t.Tenant != nil {
			tenants++
		}
		users += len(t.Users)
		quotas += len(t.Quotas)
		for _, q := range t.Quotas {
			items += len(q.Spec.Items)
		}
	}
	return
}

const (
	apiVersion = "accounts.tenant-operator.io/v1alpha1"
	// maxNameLength keeps names within a DNS-1123 label, so they also serve
	// as directory names and label values.
	maxNameLength = 63
	// idSuffixLength is how much of a UUID tells two same-named objects
	// apart.
	idSuffixLength = 8
)

var (
	nonName = regexp.MustCompile(`[^a-z0-9]+`)
	// latin spells the accented letters of Western names without their
	// accents, so "Région" is "region", not "r-gion".
	latin = strings.NewReplacer("à", "a", "á", "a", "â", "a", "ã", "a", "ä", "ae", "å", "a", "æ", "ae", "ç", "c",
		"è", "e", "é", "e", "ê", "e", "ë", "e", "ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n",
		"ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "oe", "ø", "o", "ù", "u", "ú", "u", "û", "u", "ü", "ue",
		"ý", "y", "ÿ", "y", "ß", "ss")
	// The CRDs' own patterns: a value that does not match is left out
	// (unmanaged) rather than written into an object the API server
	// refuses.
	languagePattern = regexp.MustCompile(`^[a-z]{2,3}([-_][A-Za-z]{2,4})?$`)
	emailPattern    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	loginPattern    = regexp.MustCompile(`^[^\s]+$`)
	customerTypes   = []string{"default", "enterprise", "consumer", "small_office", "ti_unified"}
	notificationSet = []string{"maintenance", "quota", "reports", "backup_error", "backup_warning", "backup_info", "backup_daily_report",
		"backup_critical", "device_control_warning", "certificate_management_error", "certificate_management_warning", "certificate_management_info"}
	roleSet = []string{"root_admin", "partner_admin", "company_admin", "unit_admin", "readonly_admin", "protection_admin",
		"protection_ro_admin", "restore_operator", "backup_user", "sync_share_admin", "sync_share_user", "sync_share_guest",
		"pds_operator", "pds_support", "notary_admin", "notary_user", "hci_admin", "omnivoice_admin", "omnivoice_user",
		"greathorn_admin", "greathorn_user", "greathorn_analyst", "greathorn_client_manager"}
	tenantKinds = []string{accountserver.KindPartner, accountserver.KindFolder, accountserver.KindCustomer, accountserver.KindUnit}
)

// baseName is a DNS-1123 label made of a server name: lower case, every
// run of other characters a dash, at most maxNameLength characters. An
// empty result (a name of symbols only) is "tenant" or "user".
func baseName(name, fallback string) string {
	n := strings.Trim(nonName.ReplaceAllString(latin.Replace(strings.ToLower(name)), "-"), "-")
	if len(n) > maxNameLength {
		n = strings.TrimRight(n[:maxNameLength], "-")
	}
	if n == "" {
		return fallback
	}
	return n
}

// withSuffix is base with the start of id appended, within maxNameLength.
func withSuffix(base, id string) string {
	suffix := strings.ReplaceAll(id, "-", "")
	if len(suffix) > idSuffixLength {
		suffix = suffix[:idSuffixLength]
	}
	if room := maxNameLength - len(suffix) - 1; len(base) > room {
		base = strings.TrimRight(base[:room], "-")
	}
	return base + "-" + suffix
}

// named is something to name: the server's name and ID.
type named struct{ name, id string }

// assignNames gives each item a distinct name derived from its server
// name. Every member of a group whose names collide gets a suffix of its
// ID, so a name does not depend on which member was listed first; a
// suffixed name that still collides (with a natural name, or a shared ID
// prefix) gets the whole ID.
func assignNames(items []named, fallback string) map[string]string {
	groups := map[string][]named{}
	for _, it := range items {
		b := baseName(it.name, fallback)
		groups[b] = append(groups[b], it)
	}
	out := make(map[string]string, len(items))
	used := map[string]string{}
	var suffixed []named
	for b, g := range groups {
		if len(g) == 1 {
			out[g[0].id], used[b] = b, g[0].id
			continue
		}
		suffixed = append(suffixed, g...)
	}
	slices.SortFunc(suffixed, func(a, b named) int { return strings.Compare(a.id, b.id) })
	for _, it := range suffixed {
		n := withSuffix(baseName(it.name, fallback), it.id)
		if _, taken := used[n]; taken || groups[n] != nil {
			n = fullIDName(baseName(it.name, fallback), it.id)
		}
		out[it.id], used[n] = n, it.id
	}
	return out
}

// fullIDName is base with the whole ID (dashes dropped) appended.
func fullIDName(base, id string) string {
	suffix := strings.ReplaceAll(id, "-", "")
	if room := maxNameLength - len(suffix) - 1; len(base) > room {
		base = strings.TrimRight(base[:max(room, 0)], "-")
	}
	if base == "" {
		return "x" + suffix
	}
	return base + "-" + suffix
}

// buildExport makes the objects of a snapshot.
func buildExport(s *snapshot, o exportOptions) (*export, error) {
	if o.maxItemsPerQuota == 0 {
		o.maxItemsPerQuota = 200
	}
	byID := map[string]*accountserver.Tenant{}
	for i := range s.Tenants {
		byID[s.Tenants[i].ID] = &s.Tenants[i]
	}
	root, ok := byID[s.RootID]
	if !ok {
		return nil, fmt.Errorf("tenant %s is not in what the server listed", s.RootID)
	}
	ex := &export{}
	warn := func(format string, args ...any) { ex.Warnings = append(ex.Warnings, fmt.Sprintf(format, args...)) }

	var toName []named
	for _, t := range s.Tenants {
		toName = append(toName, named{t.Name, t.ID})
	}
	tenantNames := assignNames(toName, "tenant")

	nodes := map[string]*tenantExport{}
	for _, t := range s.Tenants {
		nodes[t.ID] = &tenantExport{Dir: tenantNames[t.ID], ID: t.ID}
	}
	ex.Root = nodes[root.ID]
	for _, t := range s.Tenants {
		if t.ID == root.ID {
			continue
		}
		parent, ok := nodes[t.ParentID]
		if !ok {
			warn("tenant %s (%s): its parent %s was not listed; left out", t.Name, t.ID, t.ParentID)
			continue
		}
		parent.Children = append(parent.Children, nodes[t.ID])
	}
	var walk func(n *tenantExport)
	walk = func(n *tenantExport) {
		ex.Ordered = append(ex.Ordered, n)
		slices.SortFunc(n.Children, func(a, b *tenantExport) int { return strings.Compare(a.Dir, b.Dir) })
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(ex.Root)

	appRef := applicationRefs(s.Apps)
	for _, n := range ex.Ordered {
		t := byID[n.ID]
		if n.ID == s.ConnTenantID {
			continue // the connection's own tenant: see tenantObject
		}
		if !slices.Contains(tenantKinds, t.Kind) {
			warn("tenant %s (%s): kind %q cannot be declared; left out with everything below it", t.Name, t.ID, t.Kind)
			continue
		}
		if n != ex.Root && nodes[t.ParentID].Tenant == nil && t.ParentID != s.ConnTenantID {
			continue // below a tenant left out
		}
		n.Tenant = tenantObject(t, n, nodes, s, o, warn)
		parentItems := s.ParentItems
		if n != ex.Root {
			parentItems = s.Items[t.ParentID]
		}
		n.Quotas = quotaObjects(t, n, s.Items[t.ID], parentItems, appRef, o)
	}

	var users []named
	for _, u := range s.Users {
		users = append(users, named{u.Login, u.ID})
	}
	userNames := assignNames(users, "user")
	for i := range s.Users {
		u := &s.Users[i]
		n, ok := nodes[u.TenantID]
		if !ok || (n.Tenant == nil && n.ID != s.ConnTenantID) {
			warn("user %s (%s): its tenant %s is not exported; left out", u.Login, u.ID, u.TenantID)
			continue
		}
		if obj := userObject(u, userNames[u.ID], n, o, warn); obj != nil {
			n.Users = append(n.Users, obj)
		}
	}
	for _, n := range ex.Ordered {
		slices.SortFunc(n.Users, func(a, b *v1.User) int { return strings.Compare(a.Name, b.Name) })
	}
	return ex, nil
}

func objectMeta(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Name: name} }

func managedSpec(importID string, o exportOptions, deletion bool) v1.ManagedSpec {
	m := v1.ManagedSpec{AccountServerRef: ptr.To(o.Connection), ImportID: importID}
	if o.ObserveOnly {
		m.ManagementPolicy = v1.ManagementObserveOnly
	}
	if deletion {
		m.DeletionPolicy = o.DeletionPolicy
	}
	return m
}

// tenantObject declares tenant t as the server has it. Its parent is the
// parent's Tenant object (parentRef) when that is exported; the root of a
// --subtree export names its parent by UUID (parentID), or by nothing when
// the parent is the connection's own tenant (neither field means that
// tenant).
func tenantObject(t *accountserver.Tenant, n *tenantExport, nodes map[string]*tenantExport, s *snapshot, o exportOptions, warn func(string, ...any)) *v1.Tenant {
	obj := &v1.Tenant{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: "Tenant"},
		ObjectMeta: objectMeta(n.Dir),
		Spec: v1.TenantSpec{
			ManagedSpec:     managedSpec(t.ID, o, true),
			DisplayName:     t.Name,
			Kind:            v1.TenantKind(t.Kind),
			Enabled:         ptr.To(t.Enabled),
			AncestralAccess: ptr.To(t.AncestralAccess),
		},
	}
	what := fmt.Sprintf("tenant %s (%s)", t.Name, t.ID)
	switch p := nodes[t.ParentID]; {
	case t.ParentID == s.ConnTenantID:
	case p != nil && p.Tenant != nil:
		obj.Spec.ParentRef = &v1.LocalReference{Name: p.Tenant.Name}
	default:
		obj.Spec.ParentID = t.ParentID
	}
	obj.Spec.Contact = contactSpec(t.Contact, what, warn)
	if id := ptr.Deref(t.CustomerID, ""); id != "" && len(id) <= 255 {
		obj.Spec.CustomerID = id
	}
	if languagePattern.MatchString(t.Language) && len(t.Language) <= 16 {
		obj.Spec.Language = t.Language
	} else if t.Language != "" {
		warn("%s: language %q is not a locale the Tenant kind accepts; left unmanaged", what, t.Language)
	}
	if slices.Contains(customerTypes, t.CustomerType) {
		obj.Spec.CustomerType = t.CustomerType
	}
	// MFA is a setting of partners and customers only (the server refuses
	// it on folders and units).
	if (t.Kind == accountserver.KindPartner || t.Kind == accountserver.KindCustomer) && (t.MFAStatus == "enabled" || t.MFAStatus == "disabled") {
		obj.Spec.MFA = &v1.MFASpec{Enabled: t.MFAStatus == "enabled"}
	}
	if m := v1.PricingMode(t.PricingMode); m == v1.PricingTrial || m == v1.PricingProduction {
		obj.Spec.Pricing = &v1.PricingSpec{Mode: m}
	}
	return obj
}

// contactSpec is the contact's fields the CRD can hold; nil when none is
// set. A field the CRD would refuse is left out (unmanaged), with a
// warning.
func contactSpec(c accountserver.Contact, what string, warn func(string, ...any)) *v1.Contact {
	out := v1.Contact{}
	fields := []struct {
		name string
		from string
		to   *string
		max  int
	}{
		{"email", c.Email, &out.Email, 254}, {"firstname", c.Firstname, &out.Firstname, 255}, {"lastname", c.Lastname, &out.Lastname, 255},
		{"phone", c.Phone, &out.Phone, 64}, {"address1", c.Address1, &out.Address1, 255}, {"address2", c.Address2, &out.Address2, 255},
		{"city", c.City, &out.City, 255}, {"state", c.State, &out.State, 255}, {"zipcode", c.Zipcode, &out.Zipcode, 32},
		{"country", c.Country, &out.Country, 64},
	}
	for _, f := range fields {
		switch {
		case f.from == "":
		case len(f.from) > f.max:
			warn("%s: contact.%s is longer than %d characters; left unmanaged", what, f.name, f.max)
		case f.name == "email" && !emailPattern.MatchString(f.from):
			warn("%s: contact.email %q is not an address the CRD accepts; left unmanaged", what, f.from)
		default:
			*f.to = f.from
		}
	}
	if out == (v1.Contact{}) {
		return nil
	}
	return &out
}

// userObject declares user u as the server has it, or nil (with a
// warning) when it cannot be declared.
func userObject(u *accountserver.User, name string, n *tenantExport, o exportOptions, warn func(string, ...any)) *v1.User {
	what := fmt.Sprintf("user %s (%s)", u.Login, u.ID)
	if !loginPattern.MatchString(u.Login) || len(u.Login) > 255 {
		warn("%s: the login is not one the User kind accepts; left out", what)
		return nil
	}
	contact := contactSpec(u.Contact, what, warn)
	if contact == nil || contact.Email == "" {
		warn("%s: no contact email the User kind accepts (it is required); left out", what)
		return nil
	}
	obj := &v1.User{
		TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: "User"},
		ObjectMeta: objectMeta(name),
		Spec: v1.UserSpec{
			ManagedSpec: managedSpec(u.ID, o, true),
			Login:       u.Login,
			Contact:     *contact,
			Enabled:     ptr.To(u.Enabled),
			// The user exists: its activation is done or under way. The
			// default (Email) would mail a user not activated yet once
			// more.
			Activation: v1.Activation{Method: v1.ActivationNone},
		},
	}
	if n.Tenant != nil {
		obj.Spec.TenantRef = &v1.LocalReference{Name: n.Tenant.Name}
	} else {
		obj.Spec.TenantID = u.TenantID
	}
	if languagePattern.MatchString(u.Language) && len(u.Language) <= 16 {
		obj.Spec.Language = u.Language
	} else if u.Language != "" {
		warn("%s: language %q is not a locale the User kind accepts; left unmanaged", what, u.Language)
	}
	if len(u.Notifications) > 0 {
		if all(u.Notifications, notificationSet) {
			obj.Spec.Notifications = sortedSet(u.Notifications)
		} else {
			warn("%s: notifications %v include some the User kind does not know; left unmanaged", what, u.Notifications)
		}
	}
	if len(u.BusinessTypes) > 0 && all(u.BusinessTypes, []string{"buyer"}) {
		obj.Spec.BusinessTypes = sortedSet(u.BusinessTypes)
	}
	if d := u.DisableAfter; d != nil && !d.IsZero() {
		if d.Nanosecond() == 0 {
			obj.Spec.DisableAfter = ptr.To(metav1.NewTime(d.UTC()))
		} else {
			warn("%s: disableAfter %s has fractions of a second a manifest cannot carry; left unmanaged", what, d.UTC())
		}
	}
	if u.MFAStatus == "enabled" || u.MFAStatus == "disabled" {
		obj.Spec.MFA = &v1.MFASpec{Enabled: u.MFAStatus == "enabled"}
	}
	obj.Spec.Roles = rolesOf(u, what, warn)
	return obj
}

// rolesOf are the roles the user holds in its own tenant: the operator
// writes spec.roles as policies there, and leaves every other policy (a
// role in another tenant) alone, so those need no declaring.
func rolesOf(u *accountserver.User, what string, warn func(string, ...any)) []string {
	var roles []string
	for _, p := range u.AccessPolicies {
		if p.TenantID != u.TenantID || p.DeletedAt != nil {
			continue
		}
		if !slices.Contains(roleSet, p.RoleID) {
			warn("%s: role %q is not one the User kind knows; left as it is", what, p.RoleID)
			continue
		}
		roles = append(roles, p.RoleID)
	}
	if len(roles) == 0 {
		return nil
	}
	return sortedSet(roles)
}

func all(values, allowed []string) bool {
	for _, v := range values {
		if !slices.Contains(allowed, v) {
			return false
		}
	}
	return true
}

func sortedSet(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	return slices.Compact(out)
}

// applicationRefs names each application as a spec names it: by name when
// that resolves to it alone (the operator matches names case-insensitively
// and IDs exactly, first match wins), else by ID.
func applicationRefs(apps []accountserver.Application) func(id string) string {
	names := map[string]string{}
	for _, a := range apps {
		unique := a.Name != ""
		for _, b := range apps {
			if b.ID != a.ID && (strings.EqualFold(b.Name, a.Name) || b.ID == a.Name) {
				unique = false
			}
		}
		if unique {
			names[a.ID] = a.Name
		}
	}
	return func(id string) string { return cmp.Or(names[id], id) }
}

// itemKey identifies an offering item on a tenant, as the operator does.
type itemKey struct{ app, name, infra string }

func keyOf(it accountserver.OfferingItem) itemKey {
	return itemKey{it.ApplicationID, it.Name, ptr.Deref(it.InfraID, "")}
}

// holdsOneEdition: customers and units have one edition of an application
// on at a time.
func holdsOneEdition(kind string) bool {
	return kind == accountserver.KindCustomer || kind == accountserver.KindUnit
}

// customItems are the items of a tenant that differ from what a tenant
// gets by default: on when its parent has the item on (for customers and
// units, in one edition per application), off otherwise, with no quota.
// The others need no declaring: declaring them would make the object
// manage items nobody changed.
func customItems(kind string, items, parentItems []accountserver.OfferingItem) []accountserver.OfferingItem {
	parentOn := map[itemKey]bool{}
	for _, it := range parentItems {
		if it.Status == accountserver.ItemStatusOn {
			parentOn[keyOf(it)] = true
		}
	}
	edition := map[string]string{}
	if holdsOneEdition(kind) {
		edition = inheritedEditions(items, parentItems)
	}
	var out []accountserver.OfferingItem
	for _, it := range items {
		if it.DeletedAt != nil {
			continue
		}
		want := parentOn[keyOf(it)]
		if ed, ok := edition[it.ApplicationID]; ok && it.Edition != "" && it.Edition != ed {
			want = false
		}
		on := it.Status == accountserver.ItemStatusOn
		limited := it.Quota != nil && (it.Quota.Value != nil || it.Quota.Overage != nil)
		if on != want || (on && limited) {
			out = append(out, it)
		}
	}
	slices.SortFunc(out, func(a, b accountserver.OfferingItem) int {
		ka, kb := keyOf(a), keyOf(b)
		return cmp.Or(strings.Compare(ka.app, kb.app), strings.Compare(ka.name, kb.name), strings.Compare(ka.infra, kb.infra))
	})
	return out
}

// inheritedEditions is, per application, the edition a customer or unit
// holds: the one whose items are on, else (all off) the one it would get
// from its parent: standard when the parent has it, else the first by
// name.
func inheritedEditions(items, parentItems []accountserver.OfferingItem) map[string]string {
	out := map[string]string{}
	for _, it := range items {
		if it.Edition != "" && it.Status == accountserver.ItemStatusOn {
			if cur, ok := out[it.ApplicationID]; !ok || it.Edition < cur {
				out[it.ApplicationID] = it.Edition
			}
		}
	}
	offered := map[string][]string{}
	for _, it := range parentItems {
		if it.Edition != "" && it.Status == accountserver.ItemStatusOn {
			offered[it.ApplicationID] = append(offered[it.ApplicationID], it.Edition)
		}
	}
	for app, eds := range offered {
		if _, ok := out[app]; ok {
			continue
		}
		if slices.Contains(eds, "standard") {
			out[app] = "standard"
		} else {
			out[app] = slices.Min(eds)
		}
	}
	return out
}

// quotaObjects declares the tenant's custom items: one OfferingItemQuota
// named as the Tenant, more (-2, -3, ...) past the CRD's 200 items.
func quotaObjects(t *accountserver.Tenant, n *tenantExport, items, parentItems []accountserver.OfferingItem, appRef func(string) string, o exportOptions) []*v1.OfferingItemQuota {
	custom := customItems(t.Kind, items, parentItems)
	var out []*v1.OfferingItemQuota
	for i := 0; i < len(custom); i += o.maxItemsPerQuota {
		chunk := custom[i:min(i+o.maxItemsPerQuota, len(custom))]
		name := n.Dir
		if i > 0 {
			name = fmt.Sprintf("%s-%d", n.Dir, i/o.maxItemsPerQuota+1)
		}
		q := &v1.OfferingItemQuota{
			TypeMeta:   metav1.TypeMeta{APIVersion: apiVersion, Kind: "OfferingItemQuota"},
			ObjectMeta: objectMeta(name),
			Spec: v1.OfferingItemQuotaSpec{
				// The items belong to the tenant: importID names it, and
				// ObserveOnly needs it. Deleting the object never changes
				// an item, so no deletionPolicy.
				ManagedSpec: managedSpec(t.ID, o, false),
				TenantRef:   &v1.LocalReference{Name: n.Tenant.Name},
			},
		}
		for _, it := range chunk {
			on := it.Status == accountserver.ItemStatusOn
			spec := v1.OfferingItemSpec{Application: appRef(it.ApplicationID), Name: it.Name, Enabled: ptr.To(on), InfraID: ptr.Deref(it.InfraID, "")}
			if on && it.Quota != nil && (it.Quota.Value != nil || it.Quota.Overage != nil) {
				spec.Quota = &v1.QuotaSpec{Value: it.Quota.Value, Overage: it.Quota.Overage}
			}
			q.Spec.Items = append(q.Spec.Items, spec)
		}
		out = append(out, q)
	}
	return out
}
