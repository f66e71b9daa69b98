package offeringitemquota

import (
	"context"
	"iter"
	"time"

	"k8s.io/utils/ptr"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/remotewatch"
)

// itemChange is what the remote watch saw of one offering item: the
// Detail of its Change, whose ID is the item's tenant. It holds values, not
// pointers, so that the same change seen twice compares equal.
type itemChange struct {
	key
	enabled          bool
	value, overage   int64
	limited, hasHard bool
	version          int64
	deleted          bool
}

// ListChanged lists the offering items of the subtree changed since since;
// each change names the item's tenant, the status.id of its
// OfferingItemQuota objects.
func (e *External) ListChanged(ctx context.Context, c *accountserver.Client, root string, since time.Time) iter.Seq2[remotewatch.Change, error] {
	q := accountserver.SubtreeItemQuery{SubtreeRootTenantID: root, UpdatedSince: since, AllowDeleted: true}
	return remotewatch.Changes(c.ListOfferingItems(ctx, q), func(it accountserver.OfferingItem) remotewatch.Change {
		d := itemChange{key: keyOf(it), enabled: it.Status == accountserver.ItemStatusOn, deleted: it.DeletedAt != nil}
		if it.Quota != nil {
			d.version = it.Quota.Version
			d.limited, d.hasHard = it.Quota.Value != nil, it.Quota.Overage != nil
			d.value, d.overage = ptr.Deref(it.Quota.Value, 0), ptr.Deref(it.Quota.Overage, 0)
		}
		return remotewatch.Change{ID: it.TenantID, Version: d.version, Detail: d}
	})
}

// Stale says whether a changed item is one o manages and differs from what
// o's status records. Items o does not list change nothing for it, and
// neither do the operator's own writes, already recorded.
func (e *External) Stale(o *v1.OfferingItemQuota, ch remotewatch.Change) bool {
	d, ok := ch.Detail.(itemChange)
	if !ok {
		return true
	}
	for _, s := range o.Status.Items {
		if s.Application != d.app || s.Name != d.name || s.InfraID != d.infra {
			continue
		}
		return d.deleted || s.Enabled != d.enabled || s.QuotaVersion != d.version ||
			!sameLimit(s.Value, limit(d.limited, d.value)) || !sameLimit(s.Overage, limit(d.hasHard, d.overage))
	}
	return false
}

// limit is a quota as the server has it: nil is unlimited.
func limit(set bool, v int64) *int64 {
	if !set {
		return nil
	}
	return &v
}
