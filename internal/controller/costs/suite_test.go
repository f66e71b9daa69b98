// Package costs_test counts what the operator sends to the account server
// for whole customers (a Tenant with its administrator and its quotas), so
// a change that adds a request to a common path fails here, with the
// operation named.
package costs_test

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

func TestCosts(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Request costs suite")
}

var _ = BeforeSuite(func() {
	suite, _ = testenv.StartSuite()
	ctx = suite.Ctx
})
