package testenv

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega" //nolint:revive // the Gomega idiom
	"github.com/onsi/gomega/gbytes"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
	"github.com/tenant-operator/tenant-operator/internal/operator"
)

// Suite is what a controller suite shares: the environment, an
// administrator's client of the emulator, and the running manager.
type Suite struct {
	*Env
	Ctx  context.Context
	Boot emulator.Bootstrap
	// Admin talks to the emulator as the bootstrap client, to make and
	// change things out of band.
	Admin *accountserver.Client

	mu     sync.Mutex
	cancel context.CancelFunc
	done   <-chan error
}

// NewSuite starts an environment; call StartManager next.
func NewSuite(ctx context.Context) (*Suite, error) {
	env, err := Start(emulator.Options{})
	if err != nil {
		return nil, err
	}
	s := &Suite{Env: env, Ctx: ctx, Boot: env.Emulator.Bootstrap()}
	s.Admin, err = accountserver.New(accountserver.Config{URL: env.URL, ClientID: s.Boot.ClientID, ClientSecret: s.Boot.ClientSecret, RequestsPerSecond: 1000, Burst: 1000})
	return s, err
}

// StartManager runs the operator until StopManager or Crash.
func (s *Suite) StartManager(opts operator.Options) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx, cancel := context.WithCancel(s.Ctx)
	done, err := s.Env.StartManager(ctx, opts)
	Expect(err).NotTo(HaveOccurred())
	s.cancel, s.done = cancel, done
}

// StopManager stops the running manager and waits until it has.
func (s *Suite) StopManager() {
	s.Crash()
	s.mu.Lock()
	defer s.mu.Unlock()
	Eventually(s.done).WithTimeout(time.Minute).Should(Receive())
}

// Crash tells the running manager to stop, without waiting.
func (s *Suite) Crash() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancel()
}

var seq atomic.Int64

// Namespace creates a namespace of its own for a spec, named after prefix.
func (s *Suite) Namespace(prefix string) string {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: Uniq(prefix)}}
	ExpectWithOffset(1, s.K8s.Create(s.Ctx, ns)).To(Succeed())
	return ns.Name
}

// Uniq returns a name no other test of the process uses.
func Uniq(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// Connection makes an API client of its own in the Provider tenant, so the
// emulator's request log tells this connection's requests apart, and a
// ClusterAccountServer for it; it returns the connection's name and the
// client's ID once the connection is Ready.
func (s *Suite) Connection(mutate func(*v1.ClusterAccountServer)) (name, clientID string) {
	created, err := s.Admin.CreateClient(s.Ctx, accountserver.ClientCreate{
		Type: "api_client", TenantID: s.Boot.TenantID, TokenEndpointAuthMethod: "client_secret_basic",
		Data: accountserver.ClientData{ClientName: Uniq("test-client")},
	})
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	name = Uniq("conn")
	cas, err := s.Env.Connection(s.Ctx, name, created.ClientID, string(created.ClientSecret), mutate)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	EventuallyWithOffset(1, func(g Gomega) {
		g.Expect(s.K8s.Get(s.Ctx, client.ObjectKeyFromObject(cas), cas)).To(Succeed())
		g.Expect(meta.IsStatusConditionTrue(cas.Status.Conditions, v1.ConditionReady)).To(BeTrue())
	}).WithTimeout(30 * time.Second).Should(Succeed())
	return name, created.ClientID
}

// ConnectionRef refers to a ClusterAccountServer.
func ConnectionRef(name string) *v1.AccountServerReference {
	return &v1.AccountServerReference{Kind: "ClusterAccountServer", Name: name}
}

// RequestsBy is the emulator's log of what clientID sent, token requests
// aside.
func (s *Suite) RequestsBy(clientID string) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range s.Emulator.Requests() {
		if r.Client == clientID && !strings.HasSuffix(r.Path, "/idp/token") {
			out = append(out, r)
		}
	}
	return out
}

// WritesBy is what clientID sent that was not a GET, token requests aside.
func (s *Suite) WritesBy(clientID string) []emulator.RequestRecord {
	var out []emulator.RequestRecord
	for _, r := range s.RequestsBy(clientID) {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

// IsWatchPoll says whether r is a list of a connection's remote watch:
// tenants, users or offering items changed since a watermark.
func IsWatchPoll(r emulator.RequestRecord) bool {
	if r.Method != "GET" || !strings.Contains(r.Query, "updated_since=") {
		return false
	}
	for _, list := range []string{"/api/2/tenants", "/api/2/users", "/api/2/tenants/offering_items"} {
		if r.Path == list {
			return true
		}
	}
	return false
}

// ExpectWatchRate checks the remote watch's cost in steady state: among
// requests, sent over window by a connection polled every interval, at
// most one list per kind (three kinds) per interval begun.
func ExpectWatchRate(requests []emulator.RequestRecord, window, interval time.Duration) {
	polls := 0
	for _, r := range requests {
		if IsWatchPoll(r) {
			polls++
		}
	}
	limit := 3 * (int(window/interval) + 1)
	ExpectWithOffset(1, polls).To(BeNumerically("<=", limit), "the remote watch lists each kind once per drift interval")
}

// Fresh reads the newest o from the API server.
func Fresh[O client.Object](s *Suite, g Gomega, o O) O {
	got := o.DeepCopyObject().(O)
	g.Expect(s.K8s.Get(s.Ctx, client.ObjectKeyFromObject(o), got)).To(Succeed())
	return got
}

// Condition reads o's condition of type t.
func Condition[O managed.Object](s *Suite, o O, t string) func(Gomega) *metav1.Condition {
	return func(g Gomega) *metav1.Condition {
		return meta.FindStatusCondition(Fresh(s, g, o).ManagedStatus().Conditions, t)
	}
}

// ExpectReady waits until o is Ready for its current generation and
// returns it.
func ExpectReady[O managed.Object](s *Suite, o O) O {
	var got O
	EventuallyWithOffset(1, func(g Gomega) {
		got = Fresh(s, g, o)
		c := meta.FindStatusCondition(got.ManagedStatus().Conditions, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "Ready: %s %s", c.Reason, c.Message)
		g.Expect(got.ManagedStatus().ObservedGeneration).To(Equal(got.GetGeneration()))
	}).WithTimeout(time.Minute).Should(Succeed())
	return got
}

// ExpectStalled waits until o is Stalled for reason and returns the
// condition.
func ExpectStalled[O managed.Object](s *Suite, o O, reason string) *metav1.Condition {
	var c *metav1.Condition
	EventuallyWithOffset(1, func(g Gomega) {
		c = Condition(s, o, v1.ConditionStalled)(g)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Status).To(Equal(metav1.ConditionTrue))
		g.Expect(c.Reason).To(Equal(reason), c.Message)
	}).WithTimeout(time.Minute).Should(Succeed())
	return c
}

// ExpectGone waits until o no longer exists.
func ExpectGone[O client.Object](s *Suite, o O) {
	EventuallyWithOffset(1, func() error {
		return s.K8s.Get(s.Ctx, client.ObjectKeyFromObject(o), o.DeepCopyObject().(O))
	}).WithTimeout(time.Minute).Should(Satisfy(isNotFound))
}

// Modify applies change to the newest o and updates it, again if someone
// (the controller) wrote in between.
func Modify[O client.Object](s *Suite, o O, change func(O)) {
	EventuallyWithOffset(1, func(g Gomega) {
		got := Fresh(s, g, o)
		change(got)
		g.Expect(s.K8s.Update(s.Ctx, got)).To(Succeed())
	}).Should(Succeed())
}

// Settled waits until the managers have not written to the API server for
// quiet (events and the last status patches land a little after Ready).
func (s *Suite) Settled(quiet time.Duration) {
	last, since := s.APIWrites(), time.Now()
	EventuallyWithOffset(1, func() time.Duration {
		if now := s.APIWrites(); now != last {
			last, since = now, time.Now()
		}
		return time.Since(since)
	}).WithTimeout(2*time.Minute).WithPolling(250*time.Millisecond).Should(BeNumerically(">=", quiet),
		func() string { return "still writing, last: " + s.LastAPIWrite() })
}

// StartSuite is a controller suite's BeforeSuite: it sends the logs to the
// Ginkgo writer and to the returned buffer (to prove no secret is in them),
// starts the environment and a manager, and registers their teardown.
func StartSuite() (*Suite, *gbytes.Buffer) {
	logs := gbytes.NewBuffer()
	logf.SetLogger(zap.New(zap.WriteTo(io.MultiWriter(ginkgo.GinkgoWriter, logs)), zap.UseDevMode(true)))
	ctx, cancel := context.WithCancel(context.Background())
	ginkgo.DeferCleanup(cancel)
	s, err := NewSuite(ctx)
	ExpectWithOffset(1, err).NotTo(HaveOccurred(), "envtest needs KUBEBUILDER_ASSETS: run through `make test`")
	ginkgo.DeferCleanup(s.Stop)
	ginkgo.DeferCleanup(func() {
		ExpectWithOffset(1, s.WireViolations()).To(BeEmpty(), "the emulator answered outside the official wire schema")
	})
	s.StartManager(operator.Options{})
	// Runs before Stop: the API server stops only once nobody watches.
	ginkgo.DeferCleanup(s.StopManager)
	return s, logs
}
