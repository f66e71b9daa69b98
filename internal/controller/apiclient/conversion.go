package apiclient

import (
	"strings"

	corev1 "k8s.io/api/core/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// This file translates between the ApiClient spec and the account server's
// API client; nothing here talks to the server.

func wantEnabled(c *v1.ApiClient) bool { return c.Spec.Enabled == nil || *c.Spec.Enabled }

func wantStatus(c *v1.ApiClient) string {
	if wantEnabled(c) {
		return accountserver.ClientStatusEnabled
	}
	return accountserver.ClientStatusDisabled
}

// marker ends the name of every client this object makes. The UID tells
// this object's clients from any other's, whatever the display name, so a
// client whose create answer was lost can be found again.
func marker(c *v1.ApiClient) string { return " [" + string(c.UID) + "]" }

// clientName is the client's name on the server: the display name (default
// <namespace>/<name>) and the marker.
func clientName(c *v1.ApiClient) string {
	name := c.Spec.DisplayName
	if name == "" {
		name = c.Namespace + "/" + c.Name
	}
	return name + marker(c)
}

// ours says whether a client on the server was made by this object.
func ours(c *v1.ApiClient, tenantID string, got accountserver.APIClient) bool {
	return got.TenantID == tenantID && got.DeletedAt == nil && strings.HasSuffix(got.Data.ClientName, marker(c))
}

// serverURL is the datacenter URL written to the Secret: the form an
// AccountServer's spec.url and the vendor's tools take (no /api/2).
func serverURL(apiRoot string) string { return strings.TrimSuffix(apiRoot, "/api/2") }

// setCredentials makes s hold a client's credentials.
func setCredentials(s *corev1.Secret, clientID string, secret accountserver.Secret, url string) {
	if s.Labels == nil {
		s.Labels = map[string]string{}
	}
	s.Labels["app.kubernetes.io/managed-by"] = "tenant-operator"
	s.Type = corev1.SecretTypeOpaque
	s.Data = map[string][]byte{
		v1.APIClientSecretKeyID:     []byte(clientID),
		v1.APIClientSecretKeySecret: []byte(string(secret)),
		v1.APIClientSecretKeyURL:    []byte(url),
	}
}

// clientUpdate returns the PUT body for what differs, and its field names.
func clientUpdate(c *v1.ApiClient, got *accountserver.APIClient) (accountserver.ClientUpdate, []string) {
	var up accountserver.ClientUpdate
	var fields []string
	if name := clientName(c); got.Data.ClientName != name {
		up.Data, fields = &accountserver.ClientData{ClientName: name}, append(fields, "displayName")
	}
	if want := wantStatus(c); got.Status != want {
		up.Status, fields = want, append(fields, "enabled")
	}
	return up, fields
}
