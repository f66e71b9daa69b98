package tenant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/applications"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// This file is the tenant's services (application bindings) and custom
// branding. Both are read and written only when the spec sets them, so a
// tenant without them costs what it did before they existed.

// Condition reasons of a tenant's services and branding.
const (
	ReasonUnknownApplication = applications.ReasonUnknownApplication
	ReasonLogoNotFound       = "LogoNotFound"
	ReasonLogoKeyMissing     = "LogoKeyMissing"
	ReasonInvalidLogo        = "InvalidLogo"
)

// Indexes of Tenants by the ConfigMap or Secret holding their logo.
const (
	LogoConfigMapIndex = ".spec.branding.logo.configMapKeyRef.name"
	LogoSecretIndex    = ".spec.branding.logo.secretKeyRef.name"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

// services is what Resolve found for the applications and the logo, and
// what Update did with the logo.
type services struct {
	// appIDs are the applications the spec lists, as IDs; nil when the
	// bindings are not managed.
	appIDs []string
	// catalog names the applications in status.
	catalog []accountserver.Application
	// logo is nil when no logo is to be managed in this reconcile.
	logo         *logo
	logoUploaded bool
}

// logo is the brand's logo as its ConfigMap or Secret holds it. data and
// sha are empty while the source is the one last uploaded: then the data is
// not read unless the server lost the logo.
type logo struct {
	source string
	sha    string
	data   []byte
}

func managesApplications(t *v1.Tenant) bool { return t.Spec.Applications != nil }

// wantBranding says whether the spec asks for custom branding to be on.
func wantBranding(t *v1.Tenant) bool {
	return t.Spec.Branding != nil && (t.Spec.Branding.Enabled == nil || *t.Spec.Branding.Enabled)
}

func observeOnly(t *v1.Tenant) bool { return t.Spec.ManagementPolicy == v1.ManagementObserveOnly }

// resolveServices turns application names into IDs and finds the logo.
// Nothing is read for a tenant that sets neither, or that is being deleted.
func (e *External) resolveServices(ctx context.Context, req *request, svc *services) error {
	t := req.Object
	if t.DeletionTimestamp != nil {
		return nil
	}
	if managesApplications(t) {
		catalog, err := applications.Catalog(ctx, req.Conn.Client)
		if err != nil {
			return err
		}
		svc.catalog = catalog
		if !observeOnly(t) {
			if svc.appIDs, err = resolveApplications(ctx, req, t.Spec.Applications); err != nil {
				return err
			}
		}
	}
	if wantBranding(t) && t.Spec.Branding.Logo != nil && !observeOnly(t) {
		l, err := e.findLogo(ctx, t)
		if err != nil {
			return err
		}
		svc.logo = l
	}
	return nil
}

// resolveApplications maps names and IDs to IDs, naming every unknown one.
func resolveApplications(ctx context.Context, req *request, refs []string) ([]string, error) {
	ids := []string{}
	var unknown []string
	for _, ref := range refs {
		app, err := applications.Resolve(ctx, req.Conn.Client, ref)
		var nf *applications.NotFoundError
		switch {
		case errors.As(err, &nf):
			unknown = append(unknown, ref)
		case err != nil:
			return nil, err
		case !slices.Contains(ids, app.ID):
			ids = append(ids, app.ID)
		}
	}
	if len(unknown) > 0 {
		return nil, applications.Unknown(ctx, req.Conn.Client, "spec.applications", unknown)
	}
	return ids, nil
}

// logoRef says where the logo is: the object's kind, name and key.
func logoRef(t *v1.Tenant) (kind, name, key string) {
	src := t.Spec.Branding.Logo
	if r := src.ConfigMapKeyRef; r != nil {
		return "ConfigMap", r.Name, r.Key
	}
	return "Secret", src.SecretKeyRef.Name, src.SecretKeyRef.Key
}

func logoSource(kind, name, key, resourceVersion string) string {
	return kind + "/" + name + "/" + key + "@" + resourceVersion
}

// findLogo looks at the logo's object in the cache (metadata only), and
// reads its data only when it is not the one last uploaded.
func (e *External) findLogo(ctx context.Context, t *v1.Tenant) (*logo, error) {
	kind, name, key := logoRef(t)
	l := &logo{}
	uploaded := func(rv string) bool {
		l.source = logoSource(kind, name, key, rv)
		return l.source == t.Status.BrandingLogoSource && t.Status.BrandingLogoSHA256 != ""
	}
	return l, e.loadLogo(ctx, t, l, uploaded)
}

// loadLogo reads the logo's data around the cache, unless uploaded says the
// object is the one last uploaded: ConfigMaps and Secrets are cached by
// metadata only.
func (e *External) loadLogo(ctx context.Context, t *v1.Tenant, l *logo, uploaded func(rv string) bool) error {
	kind, name, key := logoRef(t)
	reader := e.DataReader
	if reader == nil {
		reader = e.Reader
	}
	data, rv, err := managed.ReadIfChanged(ctx, e.Reader, reader, managed.DataSource{Kind: kind, Namespace: t.Namespace, Name: name}, uploaded)
	if err != nil {
		return logoReadError(err, kind, name)
	}
	if data == nil {
		return nil // the one last uploaded
	}
	value := data[key]
	if len(value) == 0 {
		return managed.Stalled(ReasonLogoKeyMissing, "spec.branding.logo: %s %s has no key %s", kind, name, key)
	}
	if !bytes.HasPrefix(value, pngSignature) {
		return managed.Stalled(ReasonInvalidLogo, "spec.branding.logo: key %s of %s %s is not a PNG image", key, kind, name)
	}
	sum := sha256.Sum256(value)
	l.source, l.sha, l.data = logoSource(kind, name, key, rv), hex.EncodeToString(sum[:]), value
	return nil
}

func logoReadError(err error, kind, name string) error {
	if apierrors.IsNotFound(err) {
		return managed.Stalled(ReasonLogoNotFound, "spec.branding.logo: %s %s not found", kind, name)
	}
	return err
}

// observeServices reads the bindings and the brand, each only when the
// spec manages it: the brand only when it is on (the tenant says so), and
// never for ObserveOnly, which mirrors no brand options. A tenant being
// deleted needs neither.
func observeServices(ctx context.Context, req *request, r *remote) error {
	t, c := req.Object, req.Conn.Client
	if t.DeletionTimestamp != nil {
		return nil
	}
	if managesApplications(t) {
		ids, err := c.TenantApplicationIDs(ctx, r.tenant.ID)
		if err != nil {
			return err
		}
		r.bindings, r.bindingsRead = ids, true
	}
	if wantBranding(t) && r.tenant.BrandEnabled && !observeOnly(t) {
		b, err := c.GetBrand(ctx, r.tenant.ID, false)
		switch {
		case accountserver.IsNotFound(err):
			// Turned off since the tenant was read: Update enables it.
		case err != nil:
			return err
		default:
			r.brand = b
		}
	}
	return nil
}

// bindingChanges are the applications to turn on and off.
func bindingChanges(want, got []string) (bind, unbind []string) {
	for _, id := range want {
		if !slices.Contains(got, id) {
			bind = append(bind, id)
		}
	}
	for _, id := range got {
		if !slices.Contains(want, id) {
			unbind = append(unbind, id)
		}
	}
	return bind, unbind
}

// servicesDiff names what differs: applications, branding, branding.logo.
func servicesDiff(t *v1.Tenant, svc *services, r *remote) []string {
	var fields []string
	if svc.appIDs != nil {
		bind, unbind := bindingChanges(svc.appIDs, r.bindings)
		if !r.bindingsRead || len(bind)+len(unbind) > 0 {
			fields = append(fields, "applications")
		}
	}
	if t.Spec.Branding == nil {
		return fields
	}
	want := wantBranding(t)
	switch {
	case want != r.tenant.BrandEnabled:
		fields = append(fields, "branding")
	case want:
		if _, differs := brandUpdate(t.Spec.Branding, r.brand); differs {
			fields = append(fields, "branding")
		}
	}
	if want && logoNeeded(t, svc.logo, r.brand) {
		fields = append(fields, "branding.logo")
	}
	return fields
}

// logoNeeded: the logo's content is not the one last uploaded, or the
// server holds none.
func logoNeeded(t *v1.Tenant, l *logo, brand *accountserver.Brand) bool {
	if l == nil {
		return false
	}
	if l.sha != "" && l.sha != t.Status.BrandingLogoSHA256 {
		return true
	}
	return brand != nil && brand.Logotype == ""
}

// updateServices turns applications on and off and writes the branding.
// It reports whether it wrote anything: brand writes move the tenant's
// version, so the caller reads the tenant again.
func (e *External) updateServices(ctx context.Context, req *request, r *remote) (bool, error) {
	t, c := req.Object, req.Conn.Client
	svc := &req.Resolved.svc
	changed := false
	if svc.appIDs != nil {
		if !r.bindingsRead {
			if err := observeServices(ctx, req, r); err != nil {
				return false, err
			}
		}
		bind, unbind := bindingChanges(svc.appIDs, r.bindings)
		for _, id := range bind {
			if err := c.EnableApplication(ctx, id, r.tenant.ID); err != nil {
				return changed, err
			}
			changed = true
		}
		for _, id := range unbind {
			if err := c.DisableApplication(ctx, id, r.tenant.ID); err != nil {
				return changed, err
			}
			changed = true
		}
	}
	if t.Spec.Branding == nil {
		return changed, nil
	}
	branded, err := e.updateBranding(ctx, req, r, svc)
	return changed || branded, err
}

// updateBranding enables or disables branding, sets the options that
// differ and uploads the logo, each write carrying the tenant version the
// previous one left.
func (e *External) updateBranding(ctx context.Context, req *request, r *remote, svc *services) (bool, error) {
	t, c := req.Object, req.Conn.Client
	id, version := r.tenant.ID, r.tenant.Version
	if !wantBranding(t) {
		if !r.tenant.BrandEnabled {
			return false, nil
		}
		return true, c.DisableBrand(ctx, id, version)
	}
	changed := false
	brand := r.brand
	var err error
	if !r.tenant.BrandEnabled {
		on, err := c.EnableBrand(ctx, id, version)
		if err != nil {
			return changed, err
		}
		changed, version = true, on.Version
		// The answer is the tenant: the new brand's options are read.
		if brand, err = c.GetBrand(ctx, id, false); err != nil {
			return changed, err
		}
	}
	if u, differs := brandUpdate(t.Spec.Branding, brand); differs {
		updated, err := c.UpdateBrand(ctx, id, version, u)
		if err != nil {
			return changed, err
		}
		changed, version = true, updated.Version
		// The options sent are now the brand's; the logo is untouched by
		// an update, so what was known of it still holds.
		brand = mergeBrand(brand, u)
	}
	if l := svc.logo; logoNeeded(t, l, brand) {
		if l.data == nil {
			if err = e.loadLogo(ctx, t, l, nil); err != nil {
				return changed, err
			}
		}
		if _, err = c.UploadBrandLogo(ctx, id, version, l.data); err != nil {
			return changed, err
		}
		svc.logoUploaded, changed = true, true
	}
	return changed, nil
}

// mergeBrand is the brand after an update that sent u: u's options over
// what was read, and the logo as it was.
func mergeBrand(read *accountserver.Brand, u accountserver.Brand) *accountserver.Brand {
	out := u
	if read != nil {
		out.Logotype = read.Logotype
	}
	return &out
}

// setServicesStatus mirrors the bindings and branding, and records the
// logo uploaded (or found unchanged).
func setServicesStatus(req *request, r *remote) {
	t := req.Object
	st := &t.Status
	svc := &req.Resolved.svc
	st.Applications = nil
	if managesApplications(t) && r.bindingsRead {
		var catalog []accountserver.Application
		if svc != nil {
			catalog = svc.catalog
		}
		st.Applications = applicationNames(r.bindings, catalog)
	}
	st.BrandingEnabled = nil
	if t.Spec.Branding != nil {
		st.BrandingEnabled = ptr.To(r.tenant.BrandEnabled)
	}
	if t.Spec.Branding == nil || t.Spec.Branding.Logo == nil {
		st.BrandingLogoSHA256, st.BrandingLogoSource = "", ""
		return
	}
	if svc == nil || svc.logo == nil {
		return
	}
	if l := svc.logo; svc.logoUploaded || (l.sha != "" && l.sha == st.BrandingLogoSHA256) {
		st.BrandingLogoSHA256, st.BrandingLogoSource = l.sha, l.source
	}
}

// applicationNames names the bound applications, in the server's order;
// one the catalog does not know keeps its ID.
func applicationNames(ids []string, catalog []accountserver.Application) []string {
	var names []string
	for _, id := range ids {
		name := id
		if i := slices.IndexFunc(catalog, func(a accountserver.Application) bool { return a.ID == id }); i >= 0 {
			name = catalog[i].Name
		}
		names = append(names, name)
	}
	return names
}

// logoNames are the names of the ConfigMap or Secret a tenant's logo is
// in, for the indexes that wake it when that object changes.
func logoNames(kind string) func(t *v1.Tenant) []string {
	return func(t *v1.Tenant) []string {
		if t.Spec.Branding == nil || t.Spec.Branding.Logo == nil {
			return nil
		}
		if ref := t.Spec.Branding.Logo.ConfigMapKeyRef; kind == "ConfigMap" && ref != nil {
			return []string{ref.Name}
		}
		if ref := t.Spec.Branding.Logo.SecretKeyRef; kind == "Secret" && ref != nil {
			return []string{ref.Name}
		}
		return nil
	}
}

// logoReferences watch the logos' ConfigMaps and Secrets by metadata, and
// wake every tenant naming a changed one: its logo may need uploading.
func logoReferences() []managed.Reference[*v1.Tenant] {
	return []managed.Reference[*v1.Tenant]{
		{Field: LogoConfigMapIndex, Target: &corev1.ConfigMap{}, MetadataOnly: true, WakeAll: true, Names: logoNames("ConfigMap")},
		{Field: LogoSecretIndex, Target: &corev1.Secret{}, MetadataOnly: true, WakeAll: true, Names: logoNames("Secret")},
	}
}
