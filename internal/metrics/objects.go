// Package metrics exports the operator's gauges read from the manager's
// cache: how many objects of each kind are Ready, not Ready or not yet
// reconciled, and the usage and quotas of the offering items
// OfferingItemQuotas manage; and the connections' circuit breaker metrics.
// The client's request metrics live in internal/accountserver.
package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// ObjectsMetricName is the name of the per-kind gauge.
const ObjectsMetricName = "tenant_operator_objects"

// Ready label values.
const (
	ReadyTrue    = string(metav1.ConditionTrue)
	ReadyFalse   = string(metav1.ConditionFalse)
	ReadyUnknown = string(metav1.ConditionUnknown)
)

// listTimeout bounds one scrape's reads from the cache.
const listTimeout = 10 * time.Second

var objectsDesc = prometheus.NewDesc(ObjectsMetricName,
	"Objects of each kind the operator manages, by the status of their Ready condition (Unknown: no Ready condition yet).",
	[]string{"kind", "ready"}, nil)

// kind is one counted kind: a fresh list and the conditions of an item.
type kind struct {
	name       string
	newList    func() client.ObjectList
	conditions func(client.Object) []metav1.Condition
}

func managedConditions(o client.Object) []metav1.Condition {
	if m, ok := o.(interface{ ManagedStatus() *v1.ManagedStatus }); ok {
		return m.ManagedStatus().Conditions
	}
	return nil
}

func connectionConditions(o client.Object) []metav1.Condition {
	if c, ok := o.(interface {
		ConnectionStatus() *v1.AccountServerStatus
	}); ok {
		return c.ConnectionStatus().Conditions
	}
	return nil
}

// kinds are every kind the gauge counts, in the order they are reported.
var kinds = []kind{
	{"AccountServer", func() client.ObjectList { return &v1.AccountServerList{} }, connectionConditions},
	{"ClusterAccountServer", func() client.ObjectList { return &v1.ClusterAccountServerList{} }, connectionConditions},
	{"Tenant", func() client.ObjectList { return &v1.TenantList{} }, managedConditions},
	{"User", func() client.ObjectList { return &v1.UserList{} }, managedConditions},
	{"OfferingItemQuota", func() client.ObjectList { return &v1.OfferingItemQuotaList{} }, managedConditions},
	{"UsageReport", func() client.ObjectList { return &v1.UsageReportList{} }, managedConditions},
	{"ApiClient", func() client.ObjectList { return &v1.ApiClientList{} }, managedConditions},
	{"Location", func() client.ObjectList { return &v1.LocationList{} }, managedConditions},
	{"Storage", func() client.ObjectList { return &v1.StorageList{} }, managedConditions},
	{"RegistrationToken", func() client.ObjectList { return &v1.RegistrationTokenList{} }, managedConditions},
}

// ObjectsCollector reports tenant_operator_objects{kind, ready}. It lists
// from its Reader (the manager's cache) at scrape time, so it costs no API
// request and no bookkeeping in the reconcilers. Every kind reports all
// three ready values, zeros included, so queries need no absent().
type ObjectsCollector struct {
	cacheReader
}

// NewObjectsCollector returns a collector that lists through reader.
func NewObjectsCollector(reader client.Reader, log logr.Logger) *ObjectsCollector {
	return &ObjectsCollector{cacheReader{reader: reader, log: log}}
}

// Describe implements prometheus.Collector.
func (c *ObjectsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- objectsDesc }

// Collect implements prometheus.Collector. A kind whose list fails (the
// cache not started yet) is left out of this scrape rather than failing it.
func (c *ObjectsCollector) Collect(ch chan<- prometheus.Metric) {
	reader, log := c.current()
	if reader == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	for _, k := range kinds {
		counts, err := count(ctx, reader, k)
		if err != nil {
			log.V(1).Info("cannot count objects for metrics", "kind", k.name, "error", err.Error())
			continue
		}
		for _, ready := range []string{ReadyTrue, ReadyFalse, ReadyUnknown} {
			ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(counts[ready]), k.name, ready)
		}
	}
}

func count(ctx context.Context, reader client.Reader, k kind) (map[string]int, error) {
	list := k.newList()
	// Read only: the cached objects need not be copied for a count.
	if err := reader.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, item := range items {
		o, ok := item.(client.Object)
		if !ok {
			continue
		}
		counts[readyOf(k.conditions(o))]++
	}
	return counts, nil
}

func readyOf(conds []metav1.Condition) string {
	c := meta.FindStatusCondition(conds, v1.ConditionReady)
	if c == nil {
		return ReadyUnknown
	}
	switch c.Status {
	case metav1.ConditionTrue:
		return ReadyTrue
	case metav1.ConditionFalse:
		return ReadyFalse
	default:
		return ReadyUnknown
	}
}

var (
	registerOnce  sync.Once
	objects       = &ObjectsCollector{}
	offeringItems = &OfferingItemsCollector{}
)

// Register points the process-wide collectors (tenant_operator_objects and
// the offering item gauges) at reader (the manager's cache) and registers
// them with controller-runtime's registry the first time. Later calls (a
// manager restarted in the same process, as tests do) only swap the reader,
// so the collectors are registered exactly once.
func Register(reader client.Reader, log logr.Logger) error {
	objects.SetReader(reader, log)
	offeringItems.SetReader(reader, log)
	var err error
	registerOnce.Do(func() {
		if err = crmetrics.Registry.Register(objects); err == nil {
			err = crmetrics.Registry.Register(offeringItems)
		}
	})
	return err
}
