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

package tenant_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/operator"
	"github.com/tenant-operator/tenant-operator/internal/testenv"
)

var (
	ctx  context.Context
	env  *testenv.Env
	k8s  client.Client
	emu  *emulator.Server
	boot emulator.Bootstrap
	// admin talks to the emulator as the bootstrap client, to make and
	// change things out of band.
	admin *accountserver.Client
	logs  *gbytes.Buffer

	mgrMu     sync.Mutex
	mgrCancel context.CancelFunc
	mgrDone   <-chan error
)

func TestTenant(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Tenant controller suite")
}

var _ = BeforeSuite(func() {
	logs = gbytes.NewBuffer()
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(GinkgoWriter, logs)), zap.UseDevMode(true)))
	var cancel context.CancelFunc
	ctx, cancel = context.WithCancel(context.Background())
	DeferCleanup(cancel)

	var err error
	env, err = testenv.Start(emulator.Options{})
	Expect(err).NotTo(HaveOccurred(), "envtest needs KUBEBUILDER_ASSETS: run through `make test`")
	DeferCleanup(env.Stop)
	k8s, emu, boot = env.K8s, env.Emulator, env.Emulator.Bootstrap()
	admin, err = accountserver.New(accountserver.Config{URL: env.URL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, RequestsPerSecond: 1000, Burst: 1000})
	Expect(err).NotTo(HaveOccurred())

	startManager(operator.Options{})
	DeferCleanup(stopManager)
})

// startManager runs the operator until stopManager.
func startManager(opts operator.Options) {
	mgrMu.Lock()
	defer mgrMu.Unlock()
	mctx, cancel := context.WithCancel(ctx)
	done, err := env.StartManager(mctx, opts)
	Expect(err).NotTo(HaveOccurred())
	mgrCancel, mgrDone = cancel, done
}

func stopManager() {
	mgrMu.Lock()
	defer mgrMu.Unlock()
	mgrCancel()
	Eventually(mgrDone).WithTimeout(time.Minute).Should(Receive())
}

var seq int

func uniq(prefix string) string {
	seq++
	return fmt.Sprintf("%s-%d", prefix, seq)
}

// connection makes an API client of its own in the Provider tenant, so the
// emulator's request log tells this connection's requests apart, and a
// ClusterAccountServer for it; it returns the connection's name and the
// client's ID.
func connection(mutate func(*v1.ClusterAccountServer)) (name, clientID string) {
	created, err := admin.CreateClient(ctx, accountserver.ClientCreate{
		Type: "api_client", TenantID: boot.TenantID, TokenEndpointAuthMethod: "client_secret_basic",
		Data: accountserver.ClientData{ClientName: uniq("test-client")},
	})
	Expect(err).NotTo(HaveOccurred())
	name = uniq("conn")
	cas, err := env.Connection(ctx, name, created.ClientID, string(created.ClientSecret), mutate)
	Expect(err).NotTo(HaveOccurred())
	Eventually(func(g Gomega) {
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(cas), cas)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(cas.Status.Conditions, v1.ConditionReady)).To(BeTrue())
	}).WithTimeout(30 * time.Second).Should(Succeed())
	return name, created.ClientID
}

func tenantOn(conn, name string, kind v1.TenantKind, mutate func(*v1.Tenant)) *v1.Tenant {
	t := &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1.TenantSpec{
			ManagedSpec: v1.ManagedSpec{AccountServerRef: &v1.AccountServerReference{Kind: "ClusterAccountServer", Name: conn}},
			Kind:        kind,
		},
	}
	if mutate != nil {
		mutate(t)
	}
	return t
}

func get(t *v1.Tenant) func(Gomega) *v1.Tenant {
	return func(g Gomega) *v1.Tenant {
		got := &v1.Tenant{}
		g.Expect(k8s.Get(ctx, client.ObjectKeyFromObject(t), got)).To(Succeed())
		return got
	}
}

func condition(t *v1.Tenant, condType string) func(Gomega) *metav1.Condition {
	return func(g Gomega) *metav1.Condition {
		got := get(t)(g)
		return meta.FindStatusCondition(got.Status.Conditions, condType)
	}
}

// expectReady waits for t to be Ready for its current generation and
// returns it.
func expectReady(t *v1.Tenant) *v1.Tenant {
	var got *v1.Tenant
	EventuallyWithOffset(1, func(g Gomega) {
		got = get(t)(g)
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "Ready: %s %s", c.Reason, c.Message)
		g.Expect(got.Status.ObservedGeneration).To(Equal(got.Generation))
	}).WithTimeout(time.Minute).Should(Succeed())
	return got
}

func expectStalled(t *v1.Tenant, reason string) *metav1.Condition {
	var c *metav1.Condition
	EventuallyWithOffset(1, func(g Gomega) {
		c = condition(t, v1.ConditionStalled)(g)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(reason), c.Message)
	}).WithTimeout(time.Minute).Should(Succeed())
	return c
}

// requestsBy returns the emulator's log of what clientID sent, token
// requests aside.
func requestsBy(clientID string) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range emu.Requests() {
		if r.Client == clientID && !strings.HasSuffix(r.Path, "/idp/token") {
			out = append(out, r)
		}
	}
	return out
}

func writesBy(clientID string) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range requestsBy(clientID) {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

// remoteTenant reads a tenant as the emulator holds it.
func remoteTenant(id string) emulator.Tenant {
	t, ok := emu.Tenant(id)
	ExpectWithOffset(1, ok).To(BeTrue(), "tenant %s is not on the server", id)
	return t
}

// namedOnServer counts the tenants (deleted ones aside) of that name.
func namedOnServer(name string) int {
	n := 0
	for _, t := range emu.Tenants() {
		if t.Name == name && t.DeletedAt == nil {
			n++
		}
	}
	return n
}

func apierrorsIsNotFound(err error) bool { return apierrors.IsNotFound(err) }

// modify applies change to the newest t and updates it, again if someone
// (the controller) wrote in between.
func modify(t *v1.Tenant, change func(*v1.Tenant)) {
	EventuallyWithOffset(1, func(g Gomega) {
		got := get(t)(g)
		change(got)
		g.Expect(k8s.Update(ctx, got)).To(Succeed())
	}).Should(Succeed())
}

// settled waits until counter has not moved for quiet.
func settled(counter func() int64, quiet time.Duration, lastWrite func() string) {
	last, since := counter(), time.Now()
	EventuallyWithOffset(1, func() time.Duration {
		if now := counter(); now != last {
			last, since = now, time.Now()
		}
		return time.Since(since)
	}).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).Should(BeNumerically(">=", quiet), func() string { return "still writing, last: " + lastWrite() })
}
