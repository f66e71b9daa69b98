package offeringitemquota

import "fmt"

// ReleaseMessage says what deleting an OfferingItemQuota did: nothing on
// the server. Its remote ID is the tenant's, which no deletion touches.
func (e *External) ReleaseMessage(tenantID string) string {
	return fmt.Sprintf("Released the offering items of tenant %s; they stay on the server as they are (no item was turned off, no quota changed)", tenantID)
}
