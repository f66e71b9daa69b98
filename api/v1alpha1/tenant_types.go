package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TenantKind is the kind of a tenant on the account server: partner,
// folder, customer or unit.
// +kubebuilder:validation:MaxLength=32
type TenantKind string

// Tenant kinds.
const (
	TenantPartner  TenantKind = "partner"
	TenantFolder   TenantKind = "folder"
	TenantCustomer TenantKind = "customer"
	TenantUnit     TenantKind = "unit"
)

// TenantSpec is the desired state of a tenant.
// +kubebuilder:validation:XValidation:rule="!(has(self.parentRef) && has(self.parentID))",message="set at most one of parentRef and parentID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.importID) || (has(self.importID) && self.importID == oldSelf.importID)",message="importID cannot be changed or removed once set"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy != 'ObserveOnly' || has(self.importID)",message="managementPolicy ObserveOnly needs importID: the tenant to observe"
// +kubebuilder:validation:XValidation:rule="!has(self.branding) || !has(self.kind) || !(self.kind in ['customer', 'unit'])",message="branding is available to partners and folders only, not to customers and units"
// +kubebuilder:validation:XValidation:rule="has(self.kind)",message="kind is required: partner, folder, customer or unit",fieldPath=".kind",reason=FieldValueRequired
type TenantSpec struct {
	ManagedSpec `json:",inline"`

	// DisplayName is the tenant's name on the server; defaults to
	// metadata.name. Sibling names are unique on the server.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="displayName must not be empty; leave it out to use metadata.name"
	DisplayName string `json:"displayName,omitempty"`

	// Kind of the tenant (required): partner, folder, customer or unit.
	// Under a partner or folder: partner, folder or customer; under a
	// customer or unit: unit.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self in ['partner', 'folder', 'customer', 'unit']",message="kind must be partner, folder, customer or unit"
	Kind TenantKind `json:"kind"`

	// ParentRef names the parent Tenant object in this namespace; the tenant
	// inherits its connection when accountServerRef is left out.
	// +optional
	ParentRef *LocalReference `json:"parentRef,omitempty"`

	// ParentID is the UUID of an existing parent tenant. With neither
	// parentRef nor parentID the parent is the connection's own tenant.
	// Changing the parent moves the tenant.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="parentID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	ParentID string `json:"parentID,omitempty"`

	// Enabled turns the tenant on or off (default true). A tenant is always
	// disabled before it is deleted.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// Contact is the tenant's primary contact. Only the fields set here are
	// managed.
	// +optional
	Contact *Contact `json:"contact,omitempty"`

	// CustomerID is the provider's own identifier for the tenant (e.g. from a
	// billing system).
	// +optional
	// +kubebuilder:validation:MaxLength=255
	CustomerID string `json:"customerID,omitempty"`

	// Language is the tenant's preferred locale, e.g. en, de or pt-BR.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z]{2,3}([-_][A-Za-z]{2,4})?$')",message="language must be a locale such as en, de or pt-BR"
	Language string `json:"language,omitempty"`

	// CustomerType is the type of customer: default, enterprise, consumer,
	// small_office or ti_unified.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self in ['default', 'enterprise', 'consumer', 'small_office', 'ti_unified']",message="customerType must be default, enterprise, consumer, small_office or ti_unified"
	CustomerType string `json:"customerType,omitempty"`

	// AncestralAccess lets the tenant's indirect ancestors access it.
	// +optional
	AncestralAccess *bool `json:"ancestralAccess,omitempty"`

	// MFA turns two-factor authentication on or off for every user of the
	// tenant. Not available on folders and units.
	// +optional
	MFA *MFASpec `json:"mfa,omitempty"`

	// Pricing is the tenant's pricing mode. Switching to production is
	// one-way on the server: a later switch back to trial is refused
	// (Stalled).
	// +optional
	Pricing *PricingSpec `json:"pricing,omitempty"`

	// Applications are the services turned on for the tenant, each an
	// application's name (e.g. "Cyber Protection") or its UUID. When set,
	// it is the exact set: the applications listed are turned on, every
	// other is turned off (which turns it off below the tenant too). An
	// empty list turns every service off; leaving the field out leaves the
	// services as they are. A service can only be turned on when the
	// parent tenant has it.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=255
	// +kubebuilder:validation:items:XValidation:rule="size(self) > 0",message="applications must not list an empty name"
	Applications []string `json:"applications"` // no omitempty: [] means none, nil (null, dropped by the API server) means unmanaged

	// Branding is the tenant's custom branding: what its customers see
	// instead of the platform's names, colors, links and logo. Partners and
	// folders only. Left out, branding is not managed.
	// +optional
	Branding *BrandingSpec `json:"branding,omitempty"`
}

// BrandingSpec is a tenant's custom branding. Only the options set here
// are managed; the server keeps the others as they are.
type BrandingSpec struct {
	// Enabled turns custom branding on (default) or off. Turning it off
	// keeps the options on the server, so turning it on again brings them
	// back; the options below are not applied while it is off.
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// CompanyName is the company named in the console, emails and agents.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	CompanyName string `json:"companyName,omitempty"`

	// ServiceName is the name of the service shown instead of the
	// platform's.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	ServiceName string `json:"serviceName,omitempty"`

	// Color is the primary color, six hexadecimal digits without '#', e.g.
	// 0A5FAA.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9A-Fa-f]{6}$')",message="branding.color must be six hexadecimal digits without '#', e.g. 0A5FAA"
	Color string `json:"color,omitempty"`

	// ColorScheme is the name of the console's color scheme, e.g. default.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ColorScheme string `json:"colorScheme,omitempty"`

	// HomeURL is the provider's home page.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	HomeURL string `json:"homeURL,omitempty"`

	// SupportURL is where customers ask for support.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	SupportURL string `json:"supportURL,omitempty"`

	// SupportPhone is the support phone number.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	SupportPhone string `json:"supportPhone,omitempty"`

	// KnowledgeBaseURL is the knowledge base's address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	KnowledgeBaseURL string `json:"knowledgeBaseURL,omitempty"`

	// HelpURL is the online help's address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	HelpURL string `json:"helpURL,omitempty"`

	// UserGuideURL is the user guide's address.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	UserGuideURL string `json:"userGuideURL,omitempty"`

	// TermsURL is the address of the terms of use.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	TermsURL string `json:"termsURL,omitempty"`

	// PrivacyPolicyURL is the address of the privacy policy.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	PrivacyPolicyURL string `json:"privacyPolicyURL,omitempty"`

	// BuyURL is where customers buy more (the server's upsell URL).
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	BuyURL string `json:"buyURL,omitempty"`

	// Logo is the brand's logo: a PNG image in a ConfigMap or a Secret of
	// the tenant's namespace. It is uploaded again whenever its content
	// changes.
	// +optional
	Logo *LogoSource `json:"logo,omitempty"`
}

// LogoSource names the key holding a PNG image: exactly one of
// configMapKeyRef and secretKeyRef.
// +kubebuilder:validation:XValidation:rule="has(self.configMapKeyRef) != has(self.secretKeyRef)",message="set exactly one of configMapKeyRef and secretKeyRef"
type LogoSource struct {
	// ConfigMapKeyRef names a key of a ConfigMap in the tenant's namespace,
	// in its binaryData (or data).
	// +optional
	ConfigMapKeyRef *LocalConfigMapKeySelector `json:"configMapKeyRef,omitempty"`

	// SecretKeyRef names a key of a Secret in the tenant's namespace.
	// +optional
	SecretKeyRef *LocalSecretKeySelector `json:"secretKeyRef,omitempty"`
}

// LocalConfigMapKeySelector names one key of a ConfigMap in the referring
// object's namespace.
// +kubebuilder:validation:XValidation:rule="has(self.name)",message="name is required: the name of the ConfigMap",fieldPath=".name",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.key)",message="key is required: the key in the ConfigMap",fieldPath=".key",reason=FieldValueRequired
type LocalConfigMapKeySelector struct {
	// Name of the ConfigMap (required).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="the ConfigMap's name must not be empty"
	Name string `json:"name"`
	// Key in the ConfigMap's binaryData or data (required).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="the ConfigMap's key must not be empty"
	Key string `json:"key"`
}

// Contact is a person to reach. Only the fields set are managed.
type Contact struct {
	// Email address.
	// +optional
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$')",message="contact.email must be an email address, e.g. admin@example.com"
	Email string `json:"email,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Firstname string `json:"firstname,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Lastname string `json:"lastname,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Phone string `json:"phone,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Address1 string `json:"address1,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	Address2 string `json:"address2,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	City string `json:"city,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=255
	State string `json:"state,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Zipcode string `json:"zipcode,omitempty"`
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Country string `json:"country,omitempty"`
}

// MFASpec turns two-factor authentication on or off.
// +kubebuilder:validation:XValidation:rule="has(self.enabled)",message="mfa.enabled is required: true or false",fieldPath=".enabled",reason=FieldValueRequired
type MFASpec struct {
	// Enabled requires two-factor authentication (required).
	// +optional
	Enabled bool `json:"enabled"`
}

// PricingMode of a tenant: trial or production.
// +kubebuilder:validation:MaxLength=32
type PricingMode string

// Pricing modes.
const (
	PricingTrial      PricingMode = "trial"
	PricingProduction PricingMode = "production"
)

// PricingSpec is a tenant's pricing.
// +kubebuilder:validation:XValidation:rule="has(self.mode)",message="pricing.mode is required: trial or production",fieldPath=".mode",reason=FieldValueRequired
type PricingSpec struct {
	// Mode (required): trial or production. production is one-way.
	// +optional
	// +kubebuilder:validation:XValidation:rule="self in ['trial', 'production']",message="pricing.mode must be trial or production"
	Mode PricingMode `json:"mode"`
	// Currency, three capital letters, e.g. EUR.
	// +optional
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:XValidation:rule="self.matches('^[A-Z]{3}$')",message="pricing.currency must be three capital letters, e.g. EUR"
	Currency string `json:"currency,omitempty"`
}

// TenantStatus is the observed state of a tenant.
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.id) || (has(self.id) && self.id == oldSelf.id)",message="status.id never changes once set"
type TenantStatus struct {
	ManagedStatus `json:",inline"`

	// ParentID is the UUID of the parent tenant.
	// +optional
	ParentID string `json:"parentID,omitempty"`
	// Kind as the server reports it.
	// +optional
	Kind string `json:"kind,omitempty"`
	// Enabled as the server reports it.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// MFAStatus as the server reports it.
	// +optional
	MFAStatus string `json:"mfaStatus,omitempty"`
	// PricingMode as the server reports it.
	// +optional
	PricingMode string `json:"pricingMode,omitempty"`
	// ProductionStartDate is when the tenant went to production pricing.
	// +optional
	ProductionStartDate *metav1.Time `json:"productionStartDate,omitempty"`
	// Path is the names of the tenants from the connection's tenant down to
	// this one.
	// +optional
	Path []string `json:"path,omitempty"`
	// Applications are the names of the services turned on for the tenant,
	// as the server reports them; only when spec.applications is set.
	// +optional
	// +listType=atomic
	Applications []string `json:"applications,omitempty"`
	// BrandingEnabled says whether custom branding is on, as the server
	// reports it; only when spec.branding is set.
	// +optional
	BrandingEnabled *bool `json:"brandingEnabled,omitempty"`
	// BrandingLogoSHA256 is the SHA-256 (hex) of the logo last uploaded:
	// the logo is uploaded again only when its content differs.
	// +optional
	BrandingLogoSHA256 string `json:"brandingLogoSHA256,omitempty"`
	// BrandingLogoSource names the logo last read, as
	// <ConfigMap|Secret>/<name>/<key>@<resourceVersion>; while it is
	// unchanged the logo's data is not read again.
	// +optional
	BrandingLogoSource string `json:"brandingLogoSource,omitempty"`
}

// Tenant is a tenant of an account server: a partner, folder, customer or
// unit.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=tnt,categories=accounts
// +kubebuilder:printcolumn:name="Kind",type=string,JSONPath=`.spec.kind`
// +kubebuilder:printcolumn:name="Parent",type=string,JSONPath=`.spec.parentRef.name`,description="The parent Tenant object (empty when spec.parentID names the parent, or the parent is the connection's tenant)"
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Parent ID",type=string,JSONPath=`.status.parentID`,priority=1
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`,priority=1
// +kubebuilder:printcolumn:name="Version",type=integer,JSONPath=`.status.version`,priority=1
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type Tenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   TenantSpec   `json:"spec"`
	Status TenantStatus `json:"status,omitempty"`
}

// TenantList contains a list of Tenant.
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tenant `json:"items"`
}

// Managed returns the shared part of the spec.
func (t *Tenant) Managed() *ManagedSpec { return &t.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (t *Tenant) ManagedStatus() *ManagedStatus { return &t.Status.ManagedStatus }

func init() {
	register(&Tenant{}, &TenantList{})
}
