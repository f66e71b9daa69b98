// Package events_test shows the events an object's failures and deletion
// leave: one Warning per change of failing reason, never one per
// reconcile, and no event that claims a deletion that did not happen.
package events_test

import (
	"context"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx   context.Context
	suite *testenv.Suite
)

func TestEvents(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Events suite")
}

var _ = BeforeSuite(func() {
	suite, _ = testenv.StartSuite()
	ctx = suite.Ctx
})

// namespace creates a namespace of its own for a spec.
func namespace(prefix string) string { return suite.Namespace(prefix) }
