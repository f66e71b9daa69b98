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
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// TTL is how long a connection's catalog is kept.
const TTL = 5 * time.Minute

type entry struct {
	apps    []accountserver.Application
	fetched time.Time
}

// fetch is a read of one connection's catalog in flight; done is closed
// when apps and err are set.
type fetch struct {
	done chan struct{}
	apps []accountserver.Application
	err  error
}

var (
	mu       sync.Mutex
	cache    = map[*accountserver.Client]entry{}
	inflight = map[*accountserver.Client]*fetch{}
)

// ReasonUnknownApplication stalls an object whose spec names an application
// the server does not have, in every kind that names applications.
const ReasonUnknownApplication = "UnknownApplication"

// NotFoundError says no application has that name or ID.
type NotFoundError struct{ Ref string }

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("no application is named or has the ID %s", e.Ref)
}

// Unknown is the refusal of refs, the names or IDs in field that no
// application has: a Stalled error with reason UnknownApplication and one
// message in every kind, which names the field, the refs and the
// applications the server knows, e.g. "spec.applications: no application
// is named or has the ID Cyber Protektion on the server; it knows Cyber
// Protection, File Sync & Share".
func Unknown(ctx context.Context, c *accountserver.Client, field string, refs []string) error {
	catalog, err := Catalog(ctx, c)
	if err != nil {
		return err
	}
	known := make([]string, 0, len(catalog))
	for _, a := range catalog {
		known = append(known, a.Name)
	}
	return managed.Stalled(ReasonUnknownApplication, "%s: no application is named or has the ID %s on the server; it knows %s",
		field, strings.Join(refs, ", "), strings.Join(known, ", "))
}

// Catalog returns the connection's applications, from the cache when fresh.
// Callers that find it stale together share one read: after a start or a
// TTL, every reconcile that resolves an application asks at once.
func Catalog(ctx context.Context, c *accountserver.Client) ([]accountserver.Application, error) {
	mu.Lock()
	if e, ok := cache[c]; ok && time.Since(e.fetched) < TTL {
		mu.Unlock()
		return e.apps, nil
	}
	if f, ok := inflight[c]; ok {
		mu.Unlock()
		select {
		case <-f.done:
			return f.apps, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &fetch{done: make(chan struct{})}
	inflight[c] = f
	mu.Unlock()

	f.apps, f.err = c.ListApplications(ctx)
	mu.Lock()
	delete(inflight, c)
	if f.err == nil {
		// Clients are replaced when a connection changes: forget stale ones.
		for k, old := range cache {
			if time.Since(old.fetched) >= TTL {
				delete(cache, k)
			}
		}
		cache[c] = entry{apps: f.apps, fetched: time.Now()}
	}
	mu.Unlock()
	close(f.done)
	return f.apps, f.err
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
