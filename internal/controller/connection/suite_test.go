/*
Copyright 2026 The tenant-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package connection_test

import (
	"context"
	"io"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/operator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

const operatorNamespace = testenv.OperatorNamespace

var (
	ctx    context.Context
	k8s    client.Client
	emu    *emulator.Server
	emuURL string
	// logs holds everything the manager logged, to prove no secret is in it.
	logs *gbytes.Buffer
)

func TestConnection(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "connection controllers suite")
}

var _ = BeforeSuite(func() {
	logs = gbytes.NewBuffer()
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, logs)), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())

	env, err := testenv.Start(emulator.Options{})
	Expect(err).NotTo(HaveOccurred(), "envtest needs KUBEBUILDER_ASSETS: run through `make test`")
	DeferCleanup(env.Stop)
	k8s, emu, emuURL = env.K8s, env.Emulator, env.URL

	done, err := env.StartManager(ctx, operator.Options{})
	Expect(err).NotTo(HaveOccurred())
	// Runs before env.Stop: the API server stops only once nobody watches.
	DeferCleanup(func() {
		cancel()
		Eventually(done).WithTimeout(time.Minute).Should(Receive())
	})
})
