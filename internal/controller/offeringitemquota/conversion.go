package offeringitemquota

import (
	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// This file translates between the spec's items and the server's; nothing
// here talks to the server.

// key identifies an offering item on a tenant: application, name and, for
// infra items, the storage.
type key struct {
	app, name, infra string
}

func keyOf(it accountserver.OfferingItem) key {
	return key{app: it.ApplicationID, name: it.Name, infra: ptr.Deref(it.InfraID, "")}
}

// desired is one spec item with its application resolved to an ID.
type desired struct {
	key
	enabled bool
	value   *int64
	overage *int64
}

func toDesired(appID string, it v1.OfferingItemSpec) desired {
	d := desired{key: key{app: appID, name: it.Name, infra: it.InfraID}, enabled: it.Enabled == nil || *it.Enabled}
	if it.Quota != nil {
		d.value, d.overage = it.Quota.Value, it.Quota.Overage
	}
	return d
}

// find returns the server's item for d: an exact match, or, when the spec
// names no storage, the item of that name (count and feature items have
// none).
func find(items []accountserver.OfferingItem, d desired) (accountserver.OfferingItem, bool) {
	for _, it := range items {
		k := keyOf(it)
		if k.app == d.app && k.name == d.name && (k.infra == d.infra || d.infra == "" && k.infra == "") {
			return it, true
		}
	}
	return accountserver.OfferingItem{}, false
}

func status(enabled bool) int {
	if enabled {
		return accountserver.ItemStatusOn
	}
	return accountserver.ItemStatusOff
}

// differs reports whether the server's item is not as d wants it. A
// disabled item's quota is not compared: it means nothing while off.
func differs(d desired, it accountserver.OfferingItem) bool {
	if it.Status != status(d.enabled) {
		return true
	}
	if !d.enabled {
		return false
	}
	var value, overage *int64
	if it.Quota != nil {
		value, overage = it.Quota.Value, it.Quota.Overage
	}
	return !sameLimit(d.value, value) || !sameLimit(d.overage, overage)
}

func sameLimit(want, got *int64) bool {
	if want == nil || got == nil {
		return want == nil && got == nil
	}
	return *want == *got
}

// change is the PUT entry that makes it as d wants it, carrying the quota
// version read, so a concurrent change is refused (426) instead of lost.
func change(d desired, it accountserver.OfferingItem) accountserver.OfferingItemChange {
	c := accountserver.OfferingItemChange{ApplicationID: d.app, Name: d.name, Status: status(d.enabled), InfraID: it.InfraID}
	if d.enabled {
		q := &accountserver.Quota{Value: d.value, Overage: d.overage}
		if it.Quota != nil {
			q.Version = it.Quota.Version
		}
		c.Quota = q
	}
	return c
}
