package emulator

// The wire objects of the account server. JSON tags follow the reference (docs/reference/account-server.md)
// and the vendor's examples; nullable fields are pointers so they marshal as null like the vendor's do.

// Contact is the contact block of tenants and users.
//
// ID, CreatedAt, UpdatedAt and Types are what the official document requires of a contact in the
// lod=full items of GET /tenants; answers always fill them (renderContact), and the store leaves
// them empty: a contact's id is derived from its owner and its times from the owner's.
type Contact struct {
	ID               string   `json:"id,omitempty"`
	CreatedAt        string   `json:"created_at,omitempty"`
	UpdatedAt        string   `json:"updated_at,omitempty"`
	Types            []string `json:"types"`
	Email            string   `json:"email"`
	Firstname        string   `json:"firstname"`
	Lastname         string   `json:"lastname"`
	Phone            string   `json:"phone"`
	Address1         string   `json:"address1"`
	Address2         string   `json:"address2"`
	City             string   `json:"city"`
	State            string   `json:"state"`
	Country          string   `json:"country"`
	Zipcode          string   `json:"zipcode"`
	Title            string   `json:"title,omitempty"`
	Website          string   `json:"website,omitempty"`
	Industry         string   `json:"industry,omitempty"`
	OrganizationSize string   `json:"organization_size,omitempty"`
	Fax              string   `json:"fax,omitempty"`
	AAN              string   `json:"aan,omitempty"`
	Language         string   `json:"language,omitempty"`
	TenantID         string   `json:"tenant_id,omitempty"`
	UserID           string   `json:"user_id,omitempty"`
	EmailConfirmed   *bool    `json:"email_confirmed,omitempty"`
}

// UpdateLock is a tenant's update lock.
type UpdateLock struct {
	Enabled bool    `json:"enabled"`
	OwnerID *string `json:"owner_id"`
}

// Tenant is the account server's tenant object.
type Tenant struct {
	ID                      string     `json:"id"`
	Version                 int64      `json:"version"`
	Name                    string     `json:"name"`
	CustomerType            string     `json:"customer_type"`
	ParentID                string     `json:"parent_id"`
	Kind                    string     `json:"kind"`
	Contact                 Contact    `json:"contact"`
	Contacts                []Contact  `json:"contacts"`
	Enabled                 bool       `json:"enabled"`
	CreatedAt               string     `json:"created_at"`
	UpdatedAt               string     `json:"updated_at"`
	DeletedAt               *string    `json:"deleted_at"`
	CustomerID              *string    `json:"customer_id"`
	BrandID                 *int64     `json:"brand_id"`
	BrandUUID               *string    `json:"brand_uuid,omitempty"`
	BrandEnabled            bool       `json:"brand_enabled"`
	InternalTag             *string    `json:"internal_tag"`
	Language                string     `json:"language"`
	OwnerID                 *string    `json:"owner_id"`
	HasChildren             bool       `json:"has_children"`
	DefaultIDPID            string     `json:"default_idp_id"`
	AncestralAccess         bool       `json:"ancestral_access"`
	UpdateLock              UpdateLock `json:"update_lock"`
	MFAStatus               string     `json:"mfa_status"`
	PricingMode             string     `json:"pricing_mode"`
	ProductionStartDate     *string    `json:"production_start_date"`
	ExternalOperationStatus *string    `json:"external_operation_status"`
}

// Tenant kinds.
const (
	KindRoot     = "root"
	KindPartner  = "partner"
	KindFolder   = "folder"
	KindCustomer = "customer"
	KindUnit     = "unit"
)

// AccessPolicy is one role of a user in a tenant.
type AccessPolicy struct {
	ID                string  `json:"id"`
	Version           int64   `json:"version"`
	TrusteeType       string  `json:"trustee_type"`
	TrusteeID         string  `json:"trustee_id"`
	TenantID          string  `json:"tenant_id"`
	IssuerID          string  `json:"issuer_id"`
	RoleID            string  `json:"role_id"`
	ResourceNamespace string  `json:"resource_namespace,omitempty"`
	ResourcePath      string  `json:"resource_path,omitempty"`
	ResourceServerID  string  `json:"resource_server_id,omitempty"`
	CreatedAt         string  `json:"created_at"`
	UpdatedAt         string  `json:"updated_at"`
	DeletedAt         *string `json:"deleted_at"`
}

// User is the account server's user object (seed 003 shows one as the vendor returns it).
type User struct {
	ID               string         `json:"id"`
	Version          int64          `json:"version"`
	TenantID         string         `json:"tenant_id"`
	Login            string         `json:"login"`
	Contact          Contact        `json:"contact"`
	Activated        bool           `json:"activated"`
	Enabled          bool           `json:"enabled"`
	CreatedAt        string         `json:"created_at"`
	UpdatedAt        string         `json:"updated_at"`
	DeletedAt        *string        `json:"deleted_at"`
	Language         string         `json:"language"`
	IDPID            string         `json:"idp_id"`
	ExternalID       *string        `json:"external_id,omitempty"`
	PersonalTenantID *string        `json:"personal_tenant_id"`
	BusinessTypes    []string       `json:"business_types"`
	Notifications    []string       `json:"notifications"`
	MFAStatus        string         `json:"mfa_status"`
	AccessPolicies   []AccessPolicy `json:"access_policies"`
	OriginID         *string        `json:"origin_id,omitempty"`
	OriginExternalID *string        `json:"origin_external_id,omitempty"`
	DisableAfter     *string        `json:"disable_after,omitempty"`
	TermsAccepted    bool           `json:"terms_accepted"`
}

// APIClient is the account server's client object as GET /clients/{id} returns it: never with the secret.
type APIClient struct {
	ClientID string `json:"client_id"`
	Type     string `json:"type"`
	TenantID string `json:"tenant_id"`
	// ClientSecretExpiresAt is 0: the secret never expires (RFC 7591's meaning of 0; the official
	// document only requires an integer).
	ClientSecretExpiresAt   int64          `json:"client_secret_expires_at"`
	Data                    map[string]any `json:"data"`
	TokenEndpointAuthMethod string         `json:"token_endpoint_auth_method"`
	RedirectURIs            []string       `json:"redirect_uris"`
	OriginID                *string        `json:"origin_id,omitempty"`
	Status                  string         `json:"status"`
	CreatedAt               string         `json:"created_at"`
	// CreatedBy is the client that made it (empty for the seeded client): not in the official
	// schema, which only requires a string.
	CreatedBy string `json:"created_by"`
	// LastAccessAt and LastAccessFromIP tell when and from where the client last got a token.
	LastAccessAt     *string `json:"last_access_at"`
	LastAccessFromIP *string `json:"last_access_from_ip"`
	DeletedAt        *string `json:"deleted_at"`
}

// Pricing is a tenant's pricing settings.
type Pricing struct {
	Mode                string  `json:"mode"`
	Currency            *string `json:"currency"`
	Version             int64   `json:"version"`
	ProductionStartDate *string `json:"production_start_date"`
}

// defaultIDPID is the platform identity provider every object points at unless told otherwise (seed 003).
const defaultIDPID = "11111111-1111-1111-1111-111111111111"
