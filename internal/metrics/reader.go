package metrics

import (
	"sync"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// cacheReader is what a collector that lists at scrape time holds: the
// manager's cache and a logger, replaced when a new manager starts in the
// same process (the collector stays registered once).
type cacheReader struct {
	mu     sync.RWMutex
	reader client.Reader
	log    logr.Logger
}

// SetReader replaces the reader (a new manager in the same process).
func (c *cacheReader) SetReader(reader client.Reader, log logr.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reader, c.log = reader, log
}

// current is the reader and logger a scrape uses.
func (c *cacheReader) current() (client.Reader, logr.Logger) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.reader, c.log
}
