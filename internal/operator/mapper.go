package operator

import (
	"net/http"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// NewRESTMapper is the manager's REST mapper (ctrl.Options.MapperProvider):
// controller-runtime's dynamic mapper, with the mappings it found
// remembered. A cache restricted to some namespaces (--watch-namespaces)
// asks the mapper whether a kind is namespaced on every read from it, and
// the dynamic mapper answers each time by going through every API group
// the server has: at ten thousand objects that was half of all the memory
// the manager allocated. A kind's mapping does not change while it exists;
// what is not found is not remembered, so a kind installed later is still
// found.
func NewRESTMapper(cfg *rest.Config, httpClient *http.Client) (meta.RESTMapper, error) {
	m, err := apiutil.NewDynamicRESTMapper(cfg, httpClient)
	if err != nil {
		return nil, err
	}
	return newRememberingMapper(m), nil
}

// rememberingMapper remembers the RESTMapping answers of its delegate.
type rememberingMapper struct {
	meta.RESTMapper

	mu    sync.RWMutex
	found map[mappingKey]*meta.RESTMapping
}

type mappingKey struct {
	gk       schema.GroupKind
	versions string
}

func newRememberingMapper(delegate meta.RESTMapper) *rememberingMapper {
	return &rememberingMapper{RESTMapper: delegate, found: map[mappingKey]*meta.RESTMapping{}}
}

// RESTMapping implements meta.RESTMapper.
func (m *rememberingMapper) RESTMapping(gk schema.GroupKind, versions ...string) (*meta.RESTMapping, error) {
	key := mappingKey{gk: gk, versions: strings.Join(versions, ",")}
	m.mu.RLock()
	mapping, ok := m.found[key]
	m.mu.RUnlock()
	if ok {
		// A copy: callers may change what they are given.
		c := *mapping
		return &c, nil
	}
	mapping, err := m.RESTMapper.RESTMapping(gk, versions...)
	if err != nil {
		return nil, err
	}
	c := *mapping
	m.mu.Lock()
	m.found[key] = &c
	m.mu.Unlock()
	return mapping, nil
}
