package storage

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

const (
	testTenant    = "0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"
	testLocation  = "1f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f71"
	otherLocation = "2f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f72"
)

// testStorage is a backup Storage object named ci/backup.
func testStorage(mutate func(*v1.Storage)) *v1.Storage {
	s := &v1.Storage{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ci", Name: "backup"},
		Spec: v1.StorageSpec{TenantID: testTenant, LocationID: testLocation, URL: "https://storage.example.com",
			Capabilities: []v1.StorageCapability{v1.StorageBackup, v1.StorageDisasterRecovery}},
	}
	if mutate != nil {
		mutate(s)
	}
	return s
}

// testInfra is the server's copy of testStorage(nil).
func testInfra(mutate func(*accountserver.Infra)) *accountserver.Infra {
	in := &accountserver.Infra{ID: "i-1", OwnerTenantID: testTenant, LocationID: testLocation, Name: "backup",
		URL: "https://storage.example.com", Capabilities: []string{"backup", "disaster_recovery"}, Version: 7}
	if mutate != nil {
		mutate(in)
	}
	return in
}

func TestToCreate(t *testing.T) {
	cases := map[string]struct {
		reason  string
		storage *v1.Storage
		want    accountserver.InfraSpec
	}{
		"Minimal": {"the name defaults to metadata.name; optional fields are left out",
			testStorage(nil),
			accountserver.InfraSpec{OwnerTenantID: testTenant, LocationID: testLocation, Name: "backup", URL: "https://storage.example.com",
				Capabilities: []string{"backup", "disaster_recovery"}}},
		"Full": {"every field the spec sets is sent",
			testStorage(func(s *v1.Storage) {
				s.Spec.DisplayName, s.Spec.BackendType = "Backup", "ceph"
				s.Spec.ContentURL, s.Spec.ContentMobileURL = "https://c.example.com", "https://m.example.com"
			}),
			accountserver.InfraSpec{OwnerTenantID: testTenant, LocationID: testLocation, Name: "Backup", URL: "https://storage.example.com",
				Capabilities: []string{"backup", "disaster_recovery"}, BackendType: "ceph",
				ContentURL: "https://c.example.com", ContentMobileURL: "https://m.example.com"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := toCreate(tc.storage, testTenant, testLocation)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\ntoCreate(...): -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestInfraUpdate(t *testing.T) {
	type want struct {
		up     accountserver.InfraSpec
		fields []string
	}
	cases := map[string]struct {
		reason   string
		storage  *v1.Storage
		location string
		got      *accountserver.Infra
		want     want
	}{
		"Same": {"nothing differs: nothing is sent",
			testStorage(nil), testLocation, testInfra(nil), want{}},
		"CapabilitiesReordered": {"capabilities are compared as sets",
			testStorage(nil), testLocation, testInfra(func(in *accountserver.Infra) { in.Capabilities = []string{"disaster_recovery", "backup"} }), want{}},
		"LeftOut": {"fields the spec leaves out are the server's",
			testStorage(nil), testLocation, testInfra(func(in *accountserver.Infra) {
				in.BackendType, in.ContentURL, in.ContentMobileURL = "azure", "https://c.example.com", "https://m.example.com"
			}), want{}},
		"Capabilities": {"a capability added is sent with the rest",
			testStorage(func(s *v1.Storage) { s.Spec.Capabilities = append(s.Spec.Capabilities, v1.StorageVCD) }), testLocation, testInfra(nil),
			want{accountserver.InfraSpec{Capabilities: []string{"backup", "disaster_recovery", "vcd"}}, []string{"capabilities"}}},
		"Moved": {"another location moves the storage",
			testStorage(nil), otherLocation, testInfra(nil),
			want{accountserver.InfraSpec{LocationID: otherLocation}, []string{"location"}}},
		"Everything": {"every differing field the spec sets, in one body",
			testStorage(func(s *v1.Storage) {
				s.Spec.DisplayName, s.Spec.URL, s.Spec.BackendType = "Backup", "https://storage2.example.com", "ceph"
				s.Spec.ContentURL, s.Spec.ContentMobileURL = "https://c.example.com", "https://m.example.com"
			}), testLocation, testInfra(func(in *accountserver.Infra) { in.BackendType = "azure" }),
			want{accountserver.InfraSpec{Name: "Backup", URL: "https://storage2.example.com", BackendType: "ceph",
				ContentURL: "https://c.example.com", ContentMobileURL: "https://m.example.com"},
				[]string{"displayName", "url", "backendType", "contentURL", "contentMobileURL"}}},
		"BackendTypeNull": {"a server without a backend type differs from one the spec sets",
			testStorage(func(s *v1.Storage) { s.Spec.BackendType = "ceph" }), testLocation, testInfra(nil),
			want{accountserver.InfraSpec{BackendType: "ceph"}, []string{"backendType"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			up, fields := infraUpdate(tc.storage, tc.location, tc.got)
			if diff := cmp.Diff(tc.want, want{up, fields}, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("%s\ninfraUpdate(...): -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
