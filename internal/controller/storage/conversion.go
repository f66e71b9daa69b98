package storage

import (
	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// This file translates between the Storage spec and the account server's
// infrastructure component; nothing here talks to the server.

// Name is the storage's name on the server: spec.displayName, or
// metadata.name.
func Name(s *v1.Storage) string {
	if s.Spec.DisplayName != "" {
		return s.Spec.DisplayName
	}
	return s.Name
}

func capabilities(s *v1.Storage) []string {
	out := make([]string, 0, len(s.Spec.Capabilities))
	for _, c := range s.Spec.Capabilities {
		out = append(out, string(c))
	}
	return out
}

// toCreate is the POST body: the optional fields only when the spec sets
// them.
func toCreate(s *v1.Storage, tenantID, locationID string) accountserver.InfraSpec {
	return accountserver.InfraSpec{
		OwnerTenantID:    tenantID,
		LocationID:       locationID,
		Name:             Name(s),
		URL:              s.Spec.URL,
		Capabilities:     capabilities(s),
		BackendType:      s.Spec.BackendType,
		ContentURL:       s.Spec.ContentURL,
		ContentMobileURL: s.Spec.ContentMobileURL,
	}
}

// backendType is the server's backend_type as a string; "" when it has
// none (or one that is not a string).
func backendType(in *accountserver.Infra) string {
	s, _ := in.BackendType.(string)
	return s
}

// infraUpdate returns the PUT body (without version) for the fields the
// spec sets that differ on the server, and their names. Capabilities are
// compared as sets; fields the spec leaves out are the server's.
func infraUpdate(s *v1.Storage, locationID string, got *accountserver.Infra) (accountserver.InfraSpec, []string) {
	var up accountserver.InfraSpec
	var fields []string
	if name := Name(s); got.Name != name {
		up.Name, fields = name, append(fields, "displayName")
	}
	if locationID != "" && got.LocationID != locationID {
		up.LocationID, fields = locationID, append(fields, "location")
	}
	if s.Spec.URL != "" && got.URL != s.Spec.URL {
		up.URL, fields = s.Spec.URL, append(fields, "url")
	}
	if want := capabilities(s); len(want) > 0 && !sameSet(want, got.Capabilities) {
		up.Capabilities, fields = want, append(fields, "capabilities")
	}
	if b := s.Spec.BackendType; b != "" && backendType(got) != b {
		up.BackendType, fields = b, append(fields, "backendType")
	}
	if u := s.Spec.ContentURL; u != "" && got.ContentURL != u {
		up.ContentURL, fields = u, append(fields, "contentURL")
	}
	if u := s.Spec.ContentMobileURL; u != "" && got.ContentMobileURL != u {
		up.ContentMobileURL, fields = u, append(fields, "contentMobileURL")
	}
	return up, fields
}
