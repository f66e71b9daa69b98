package metrics

import (
	"context"
	"regexp"
	"strings"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Names of the offering item gauges.
const (
	OfferingItemUsageMetricName   = "tenant_operator_offering_item_usage"
	OfferingItemQuotaMetricName   = "tenant_operator_offering_item_quota"
	OfferingItemOverageMetricName = "tenant_operator_offering_item_overage"
)

// offeringItemLabels are the labels of the three gauges, in this order:
// the OfferingItemQuota's namespace; the tenant as the object names it (the
// Tenant object's name with tenantRef, else the tenant's UUID); the tenant's
// UUID; the application's UUID and, when the spec names it by name, that
// name; the item; the storage (infraID) of an infra item, else "".
var offeringItemLabels = []string{"namespace", "tenant", "tenant_id", "application", "application_name", "item", "infra"}

var (
	usageDesc = prometheus.NewDesc(OfferingItemUsageMetricName,
		"Usage of each offering item an OfferingItemQuota manages, as its status last read it from the account server (items whose usage was never read are left out).",
		offeringItemLabels, nil)
	quotaDesc = prometheus.NewDesc(OfferingItemQuotaMetricName,
		"Soft quota (value) of each offering item an OfferingItemQuota manages, as the account server has it; items without one (unlimited) are left out.",
		offeringItemLabels, nil)
	overageDesc = prometheus.NewDesc(OfferingItemOverageMetricName,
		"Hard quota (overage) of each offering item an OfferingItemQuota manages, as the account server has it; items without one (unlimited) are left out.",
		offeringItemLabels, nil)
)

// OfferingItemsCollector reports the usage, soft quota and hard quota of
// every enabled item in the status of every OfferingItemQuota. Like
// ObjectsCollector it lists from its Reader (the manager's cache) at scrape
// time: a scrape sends nothing to the account server or the API server, and
// the values are those of the last reconcile (usage: of the last resync
// that read it, status.usageObservedAt).
type OfferingItemsCollector struct {
	cacheReader
}

// NewOfferingItemsCollector returns a collector that lists through reader.
func NewOfferingItemsCollector(reader client.Reader, log logr.Logger) *OfferingItemsCollector {
	return &OfferingItemsCollector{cacheReader{reader: reader, log: log}}
}

// Describe implements prometheus.Collector.
func (c *OfferingItemsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- usageDesc
	ch <- quotaDesc
	ch <- overageDesc
}

// Collect implements prometheus.Collector. A failed list (the cache not
// started yet) reports nothing rather than failing the scrape.
func (c *OfferingItemsCollector) Collect(ch chan<- prometheus.Metric) {
	reader, log := c.current()
	if reader == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
	defer cancel()
	var list v1.OfferingItemQuotaList
	if err := reader.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		log.V(1).Info("cannot list OfferingItemQuotas for metrics", "error", err.Error())
		return
	}
	// Two objects may hold the same item of a tenant for a while (one of
	// them refused with ItemClaimed but still listing it from before): a
	// series is reported once, from the first object.
	seen := map[string]bool{}
	for i := range list.Items {
		q := &list.Items[i]
		names := applicationNames(q)
		for _, it := range q.Status.Items {
			if !it.Enabled {
				continue
			}
			labels := []string{q.Namespace, tenantLabel(q), tenantID(q), it.Application, names[it.Application], it.Name, it.InfraID}
			key := strings.Join(labels, "\x00")
			if seen[key] {
				log.V(1).Info("offering item reported by another OfferingItemQuota already", "namespace", q.Namespace, "name", q.Name, "item", it.Name)
				continue
			}
			seen[key] = true
			for _, m := range []struct {
				desc *prometheus.Desc
				v    *int64
			}{{usageDesc, it.Usage}, {quotaDesc, it.Value}, {overageDesc, it.Overage}} {
				if m.v != nil {
					ch <- prometheus.MustNewConstMetric(m.desc, prometheus.GaugeValue, float64(*m.v), labels...)
				}
			}
		}
	}
}

// tenantLabel is the Tenant object's name when the object names one
// (spec.tenantRef), else the tenant's UUID.
func tenantLabel(q *v1.OfferingItemQuota) string {
	if q.Spec.TenantRef != nil && q.Spec.TenantRef.Name != "" {
		return q.Spec.TenantRef.Name
	}
	return tenantID(q)
}

// tenantID is the tenant's UUID: as the status records it, else as the
// spec gives it.
func tenantID(q *v1.OfferingItemQuota) string {
	if q.Status.TenantID != "" {
		return q.Status.TenantID
	}
	return q.Spec.TenantID
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// applicationNames maps the application UUIDs of q's status to the names
// its spec gives them, read from the object alone (the catalog is the
// account server's, and a scrape asks it nothing). A status item is paired
// with the spec items of the same item name (and storage, when the spec
// gives its UUID): when one of them names the item's application by its
// UUID, the item says nothing; when they name exactly one application by
// name, that is the UUID's name. A UUID paired with two names, or a name
// paired with two UUIDs, is dropped: such an application has no name ("").
func applicationNames(q *v1.OfferingItemQuota) map[string]string {
	names := map[string]string{}
	drop := map[string]bool{}
	for _, st := range q.Status.Items {
		var found string
		ambiguous, byUUID := false, false
		for _, sp := range q.Spec.Items {
			if sp.Name != st.Name || (sp.InfraID != "" && sp.InfraID != st.InfraID) {
				continue
			}
			switch {
			case strings.EqualFold(sp.Application, st.Application):
				byUUID = true
			case uuidRE.MatchString(sp.Application):
				// Another application, by its UUID.
			case found == "":
				found = sp.Application
			case !strings.EqualFold(found, sp.Application):
				ambiguous = true
			}
		}
		if byUUID || ambiguous || found == "" {
			continue
		}
		if prev, ok := names[st.Application]; ok && !strings.EqualFold(prev, found) {
			drop[st.Application] = true
		}
		names[st.Application] = found
	}
	byName := map[string]string{}
	for id, name := range names {
		k := strings.ToLower(name)
		if other, ok := byName[k]; ok && other != id {
			drop[id], drop[other] = true, true
		}
		byName[k] = id
	}
	for id := range drop {
		delete(names, id)
	}
	return names
}
