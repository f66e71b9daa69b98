package v1alpha1

// TenantReference says which tenant a User names: a Tenant object
// (tenantRef) or a remote tenant by UUID (tenantID).
func (u *User) TenantReference() (*LocalReference, string) { return u.Spec.TenantRef, u.Spec.TenantID }

// TenantReference says which tenant an OfferingItemQuota names.
func (q *OfferingItemQuota) TenantReference() (*LocalReference, string) {
	return q.Spec.TenantRef, q.Spec.TenantID
}

// TenantReference says which tenant a UsageReport names.
func (r *UsageReport) TenantReference() (*LocalReference, string) {
	return r.Spec.TenantRef, r.Spec.TenantID
}

// TenantReference says which tenant an ApiClient names.
func (c *ApiClient) TenantReference() (*LocalReference, string) {
	return c.Spec.TenantRef, c.Spec.TenantID
}
