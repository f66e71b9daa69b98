package operator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// countingMapper counts the RESTMapping calls that reach the delegate.
type countingMapper struct {
	*meta.DefaultRESTMapper
	calls int
}

func (c *countingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	c.calls++
	return c.DefaultRESTMapper.RESTMapping(gk, versions...)
}

// TestRememberingMapper: a mapping found is asked of the delegate once; a
// kind not found is asked again each time (it may be installed later); a
// caller that changes its answer does not change the next one.
func TestRememberingMapper(t *testing.T) {
	gv := schema.GroupVersion{Group: "accounts.tenant-operator.io", Version: "v1alpha1"}
	delegate := &countingMapper{DefaultRESTMapper: meta.NewDefaultRESTMapper([]schema.GroupVersion{gv})}
	tenant := gv.WithKind("Tenant")
	delegate.Add(tenant, meta.RESTScopeNamespace)
	m := newRememberingMapper(delegate)

	for range 3 {
		got, err := m.RESTMapping(tenant.GroupKind(), gv.Version)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(meta.RESTScopeNameNamespace, got.Scope.Name()); diff != "" {
			t.Errorf("scope: -want +got:\n%s", diff)
		}
		got.Resource.Resource = "changed-by-a-caller"
	}
	if delegate.calls != 1 {
		t.Errorf("the delegate was asked %d times for a known kind, want 1", delegate.calls)
	}
	got, _ := m.RESTMapping(tenant.GroupKind(), gv.Version)
	if got.Resource.Resource != "tenants" {
		t.Errorf("resource = %q, want tenants: a caller's change leaked into the remembered mapping", got.Resource.Resource)
	}

	delegate.calls = 0
	storage := gv.WithKind("Storage")
	for range 2 {
		if _, err := m.RESTMapping(storage.GroupKind(), gv.Version); !meta.IsNoMatchError(err) {
			t.Fatalf("unknown kind: error %v, want a no-match error", err)
		}
	}
	delegate.Add(storage, meta.RESTScopeNamespace)
	if _, err := m.RESTMapping(storage.GroupKind(), gv.Version); err != nil {
		t.Fatalf("a kind installed later: %v", err)
	}
	if delegate.calls != 3 {
		t.Errorf("the delegate was asked %d times for a kind not found twice then installed, want 3", delegate.calls)
	}
}
