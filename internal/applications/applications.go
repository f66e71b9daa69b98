// Package applications resolves the account server's applications by name
// or ID. The catalog hardly ever changes, so each connection's is read once
// and kept for a few minutes: a steady reconcile does not list it again.
package applications

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
)

// TTL is how long a connection's catalog is kept.
const TTL = 5 * time.Minute

type entry struct {
	apps    []accountserver.Application
	fetched time.Time
}

var (
	mu    sync.Mutex
	cache = map[*accountserver.Client]entry{}
)

// NotFoundError says no application has that name or ID.
type NotFoundError struct{ Ref string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no application is named or has the ID %q", e.Ref)
}

// Catalog returns the connection's applications, from the cache when fresh.
func Catalog(ctx context.Context, c *accountserver.Client) ([]accountserver.Application, error) {
	mu.Lock()
	e, ok := cache[c]
	mu.Unlock()
	if ok && time.Since(e.fetched) < TTL {
		return e.apps, nil
	}
	apps, err := c.ListApplications(ctx)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	// Clients are replaced when a connection changes: forget stale ones.
	for k, old := range cache {
		if time.Since(old.fetched) >= TTL {
			delete(cache, k)
		}
	}
	cache[c] = entry{apps: apps, fetched: time.Now()}
	mu.Unlock()
	return apps, nil
}

// Resolve finds an application by ID or (case-insensitively) by name.
func Resolve(ctx context.Context, c *accountserver.Client, ref string) (accountserver.Application, error) {
	apps, err := Catalog(ctx, c)
	if err != nil {
		return accountserver.Application{}, err
	}
	for _, a := range apps {
		if a.ID == ref || strings.EqualFold(a.Name, ref) {
			return a, nil
		}
	}
	return accountserver.Application{}, &NotFoundError{Ref: ref}
}
