package applications

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// TestCatalogIsReadOnceByConcurrentCallers holds the server's answer to the
// first read of the catalog while more callers ask: they must wait for that
// read, not send their own.
func TestCatalogIsReadOnceByConcurrentCallers(t *testing.T) {
	emu := emulator.New(emulator.Options{})
	var reads atomic.Int32
	release := make(chan struct{})
	var releaseOnce sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/2/applications" {
			reads.Add(1)
			<-release
		}
		emu.ServeHTTP(w, r)
	}))
	defer srv.Close()
	// A failed assertion ends the test early: the held answers must go
	// first, or closing the server waits for them forever.
	defer releaseOnce.Do(func() { close(release) })
	boot := emu.Bootstrap()
	c, err := accountserver.New(accountserver.Config{URL: srv.URL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, RequestsPerSecond: 1000, Burst: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Token(ctx); err != nil {
		t.Fatal(err)
	}

	const callers = 8
	var started, done sync.WaitGroup
	got := make([]int, callers)
	errs := make([]error, callers)
	for i := range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			apps, err := Catalog(ctx, c)
			got[i], errs[i] = len(apps), err
		}()
	}
	started.Wait()
	// Without sharing, every caller's request reaches the server while the
	// first one is held.
	NewWithT(t).Consistently(reads.Load).WithTimeout(300 * time.Millisecond).Should(BeNumerically("<=", 1))
	releaseOnce.Do(func() { close(release) })
	done.Wait()

	if n := reads.Load(); n != 1 {
		t.Errorf("%d callers read the catalog %d times, want once", callers, n)
	}
	for i := range callers {
		if errs[i] != nil || got[i] == 0 {
			t.Errorf("caller %d: %d applications, error %v", i, got[i], errs[i])
		}
	}
}

// TestUnknownIsOneMessageForEveryKind: the refusal names the field, the
// unknown refs and every application the server knows, with reason
// UnknownApplication, whichever kind asks.
func TestUnknownIsOneMessageForEveryKind(t *testing.T) {
	g := NewWithT(t)
	emu := emulator.New(emulator.Options{})
	srv := httptest.NewServer(emu)
	defer srv.Close()
	boot := emu.Bootstrap()
	c, err := accountserver.New(accountserver.Config{URL: srv.URL, ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, RequestsPerSecond: 1000, Burst: 1000})
	g.Expect(err).NotTo(HaveOccurred())
	ctx := context.Background()

	_, err = Resolve(ctx, c, "Tape Robot")
	var nf *NotFoundError
	g.Expect(errors.As(err, &nf)).To(BeTrue(), "an unknown name is a NotFoundError, got %v", err)

	err = Unknown(ctx, c, "spec.items[].application", []string{"Tape Robot", "Punch Cards"})
	var stalled *managed.StalledError
	g.Expect(errors.As(err, &stalled)).To(BeTrue(), "want a Stalled error, got %v", err)
	g.Expect(stalled.Reason).To(Equal(ReasonUnknownApplication))
	g.Expect(stalled.Message).To(Equal("spec.items[].application: no application is named or has the ID Tape Robot, Punch Cards on the server; " +
		"it knows Cyber Protection, File Sync & Share, Disaster Recovery"))
}
