package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ActivationMethod says how a new user gets access: Email, Password or
// None.
// +kubebuilder:validation:MaxLength=32
type ActivationMethod string

// Activation methods.
const (
	// ActivationEmail has the server mail the activation link, once.
	ActivationEmail ActivationMethod = "Email"
	// ActivationPassword sets the password from a Secret.
	ActivationPassword ActivationMethod = "Password"
	// ActivationNone leaves activation to someone else.
	ActivationNone ActivationMethod = "None"
)

// Annotations of a User: the record of its activation email, and a
// person's request to send it once more.
const (
	// AnnotationActivationEmail records the activation email. The operator
	// writes it, under an optimistic lock, before the request leaves
	// (Sending), and then what came of it: Sent (the server confirmed it) or
	// Unconfirmed (the answer was lost: the server may or may not have sent
	// it). An email the server refused for certain leaves it as it was. The
	// email is not sent again while it is there; see
	// AnnotationResendActivationEmail.
	AnnotationActivationEmail = "accounts.tenant-operator.io/activation-email"
	// AnnotationResendActivationEmail set to "true" asks the operator to
	// send the activation email once more (recorded first, as the first
	// one); the operator removes it with that record. Honoured for
	// activation.method Email while the user is not activated; otherwise it
	// is removed and an event says why.
	AnnotationResendActivationEmail = "accounts.tenant-operator.io/resend-activation-email"
)

// ActivationEmailState is what the operator knows of the activation email
// it asked the server to send: Sent or Unconfirmed.
type ActivationEmailState string

// Activation email states.
const (
	// ActivationEmailSent: the server confirmed the request.
	ActivationEmailSent ActivationEmailState = "Sent"
	// ActivationEmailUnconfirmed: the request left, but its answer was
	// lost (the connection broke, a timeout, a 5xx, or the operator stopped
	// before it could record the answer); the server may or may not have
	// sent the email. It is not sent again on its own.
	ActivationEmailUnconfirmed ActivationEmailState = "Unconfirmed"
)

// UserSpec is the desired state of a user.
// +kubebuilder:validation:XValidation:rule="has(self.tenantRef) != has(self.tenantID)",message="set exactly one of tenantRef and tenantID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.importID) || (has(self.importID) && self.importID == oldSelf.importID)",message="importID cannot be changed or removed once set"
// +kubebuilder:validation:XValidation:rule="!has(self.managementPolicy) || self.managementPolicy != 'ObserveOnly' || has(self.importID)",message="managementPolicy ObserveOnly needs importID: the user to observe"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.businessTypes) && !has(self.businessTypes) || has(oldSelf.businessTypes) && has(self.businessTypes) && self.businessTypes == oldSelf.businessTypes",message="businessTypes are set when the user is created; the server cannot change them later"
// +kubebuilder:validation:XValidation:rule="has(self.login)",message="login is required: the user's login, unique across the server",fieldPath=".login",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.contact) && has(self.contact.email)",message="contact.email is required: the server mails the user there",fieldPath=".contact.email",reason=FieldValueRequired
type UserSpec struct {
	ManagedSpec `json:",inline"`

	// TenantRef names the Tenant object (same namespace) the user belongs
	// to; the user inherits its connection when accountServerRef is left
	// out.
	// +optional
	TenantRef *LocalReference `json:"tenantRef,omitempty"`

	// TenantID is the UUID of an existing tenant the user belongs to.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$')",message="tenantID must be a lowercase UUID, e.g. 0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	TenantID string `json:"tenantID,omitempty"`

	// Login is the user's login (required), unique across the whole
	// server, without whitespace. It cannot be changed.
	// +optional
	// +kubebuilder:validation:MaxLength=255
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^\\\\s]+$')",message="login must not be empty or contain whitespace"
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="login cannot be changed"
	Login string `json:"login"`

	// Contact of the user (required); email is required. Only the fields
	// set are managed.
	// +optional
	Contact Contact `json:"contact"`

	// Enabled turns the user on or off (default true).
	// +optional
	// +kubebuilder:default=true
	Enabled *bool `json:"enabled,omitempty"`

	// Language is the user's preferred locale, e.g. en, de or pt-BR.
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z]{2,3}([-_][A-Za-z]{2,4})?$')",message="language must be a locale such as en, de or pt-BR"
	Language string `json:"language,omitempty"`

	// Notifications the user receives: maintenance, quota, reports,
	// backup_error, backup_warning, backup_info, backup_daily_report,
	// backup_critical, device_control_warning,
	// certificate_management_error, certificate_management_warning,
	// certificate_management_info (the server's list). Managed when set; an
	// empty list turns all of them off, also on create.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=12
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:XValidation:rule="self in ['maintenance', 'quota', 'reports', 'backup_error', 'backup_warning', 'backup_info', 'backup_daily_report', 'backup_critical', 'device_control_warning', 'certificate_management_error', 'certificate_management_warning', 'certificate_management_info']",message="notifications must be ones the server knows: maintenance, quota, reports, backup_error, backup_warning, backup_info, backup_daily_report, backup_critical, device_control_warning, certificate_management_error, certificate_management_warning, certificate_management_info"
	Notifications []string `json:"notifications,omitempty"`

	// BusinessTypes of the user: buyer is the only one the server knows.
	// Set when the user is created; the server cannot change them later.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=1
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:XValidation:rule="self in ['buyer']",message="businessTypes can only be buyer, the one business type the server knows"
	BusinessTypes []string `json:"businessTypes,omitempty"`

	// DisableAfter disables the user at this time.
	// +optional
	DisableAfter *metav1.Time `json:"disableAfter,omitempty"`

	// Roles the user holds in its tenant, written as access policies: each
	// one of the server's role ids: root_admin, partner_admin,
	// company_admin, unit_admin, readonly_admin, protection_admin,
	// protection_ro_admin, restore_operator, backup_user, sync_share_admin,
	// sync_share_user, sync_share_guest, pds_operator, pds_support,
	// notary_admin, notary_user, hci_admin, omnivoice_admin, omnivoice_user,
	// greathorn_admin, greathorn_user, greathorn_analyst,
	// greathorn_client_manager. Policies the operator did not make are left
	// alone.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=23
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:XValidation:rule="self in ['root_admin', 'partner_admin', 'company_admin', 'unit_admin', 'readonly_admin', 'protection_admin', 'protection_ro_admin', 'restore_operator', 'backup_user', 'sync_share_admin', 'sync_share_user', 'sync_share_guest', 'pds_operator', 'pds_support', 'notary_admin', 'notary_user', 'hci_admin', 'omnivoice_admin', 'omnivoice_user', 'greathorn_admin', 'greathorn_user', 'greathorn_analyst', 'greathorn_client_manager']",message="roles must be role ids the server knows: root_admin, partner_admin, company_admin, unit_admin, readonly_admin, protection_admin, protection_ro_admin, restore_operator, backup_user, sync_share_admin, sync_share_user, sync_share_guest, pds_operator, pds_support, notary_admin, notary_user, hci_admin, omnivoice_admin, omnivoice_user, greathorn_admin, greathorn_user, greathorn_analyst, greathorn_client_manager"
	Roles []string `json:"roles,omitempty"`

	// Activation says how the user gets access (default Email).
	// +optional
	// +kubebuilder:default={method: Email}
	Activation Activation `json:"activation,omitzero"`

	// MFA turns two-factor authentication on or off for the user.
	// +optional
	MFA *MFASpec `json:"mfa,omitempty"`
}

// Activation of a new user.
// +kubebuilder:validation:XValidation:rule="self.method != 'Password' || has(self.passwordSecretRef)",message="activation.method Password needs passwordSecretRef"
type Activation struct {
	// Method: Email (the server mails the activation link, once), Password
	// (set from passwordSecretRef; a changed Secret sets the new password)
	// or None.
	// +optional
	// +kubebuilder:default=Email
	// +kubebuilder:validation:XValidation:rule="self in ['Email', 'Password', 'None']",message="activation.method must be Email, Password or None"
	Method ActivationMethod `json:"method,omitempty"`

	// PasswordSecretRef names the Secret key (same namespace) holding the
	// password. The password is never read from the spec.
	// +optional
	PasswordSecretRef *LocalSecretKeySelector `json:"passwordSecretRef,omitempty"`
}

// LocalSecretKeySelector names a key of a Secret in the same namespace.
// +kubebuilder:validation:XValidation:rule="has(self.name)",message="name is required: the name of the Secret",fieldPath=".name",reason=FieldValueRequired
// +kubebuilder:validation:XValidation:rule="has(self.key)",message="key is required: the key in the Secret's data",fieldPath=".key",reason=FieldValueRequired
type LocalSecretKeySelector struct {
	// Name of the Secret (required).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="the Secret's name must not be empty"
	Name string `json:"name"`
	// Key in the Secret's data (required).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="size(self) > 0",message="the Secret's key must not be empty"
	Key string `json:"key"`
}

// UserStatus is the observed state of a user.
type UserStatus struct {
	ManagedStatus `json:",inline"`

	// TenantID is the tenant the user belongs to.
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// Enabled as the server reports it.
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// Activated is true once the user has set a password.
	// +optional
	Activated bool `json:"activated,omitempty"`
	// PersonalTenantID is the personal tenant the server made for a user of
	// a customer or unit.
	// +optional
	PersonalTenantID string `json:"personalTenantID,omitempty"`
	// MFAStatus as the server reports it.
	// +optional
	MFAStatus string `json:"mfaStatus,omitempty"`
	// ManagedRoles are the roles whose access policies the operator made;
	// only those are ever removed.
	// +optional
	// +listType=set
	ManagedRoles []string `json:"managedRoles,omitempty"`
	// ActivationEmailSentAt is when the operator last asked the server to
	// send the activation email (confirmed or not, see activationEmail).
	// +optional
	ActivationEmailSentAt *metav1.Time `json:"activationEmailSentAt,omitempty"`
	// ActivationEmail says whether the server confirmed the activation
	// email: Sent, or Unconfirmed when the answer was lost (the email may
	// or may not have gone, and is not sent again on its own: set the
	// annotation accounts.tenant-operator.io/resend-activation-email=true
	// to send it once more). Empty while none was sent.
	// +optional
	// +kubebuilder:validation:Enum=Sent;Unconfirmed
	ActivationEmail ActivationEmailState `json:"activationEmail,omitempty"`
	// PasswordSecretVersion names the password last set, as
	// <secret>/<key>@<resourceVersion>; a changed Secret or reference sets
	// the password again.
	// +optional
	PasswordSecretVersion string `json:"passwordSecretVersion,omitempty"`
}

// User is a user of an account server tenant.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=accounts
// +kubebuilder:printcolumn:name="Login",type=string,JSONPath=`.spec.login`
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenantRef.name`,description="The Tenant object the user belongs to (empty when spec.tenantID names the tenant)"
// +kubebuilder:printcolumn:name="Activated",type=boolean,JSONPath=`.status.activated`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Enabled",type=boolean,JSONPath=`.status.enabled`,priority=1
// +kubebuilder:printcolumn:name="Tenant ID",type=string,JSONPath=`.status.tenantID`,priority=1
// +kubebuilder:printcolumn:name="ID",type=string,JSONPath=`.status.id`,priority=1
// +kubebuilder:printcolumn:name="Version",type=integer,JSONPath=`.status.version`,priority=1
// +kubebuilder:printcolumn:name="Activation Email",type=string,JSONPath=`.status.activationEmail`,priority=1,description="Sent, or Unconfirmed when the server's answer was lost (see status.activationEmail)"
// +kubebuilder:validation:XValidation:rule="has(self.spec)",message="spec is required",fieldPath=".spec",reason=FieldValueRequired
type User struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec   UserSpec   `json:"spec"`
	Status UserStatus `json:"status,omitempty"`
}

// UserList contains a list of User.
// +kubebuilder:object:root=true
type UserList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []User `json:"items"`
}

// Managed returns the shared part of the spec.
func (u *User) Managed() *ManagedSpec { return &u.Spec.ManagedSpec }

// ManagedStatus returns the shared part of the status.
func (u *User) ManagedStatus() *ManagedStatus { return &u.Status.ManagedStatus }

func init() {
	register(&User{}, &UserList{})
}
