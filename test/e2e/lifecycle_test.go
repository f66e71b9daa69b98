package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gexec"
)

// serverState is the part of the emulator's store dump the suite reads.
type serverState struct {
	Store storeState `json:"store"`
}

type storeState struct {
	Tenants map[string]struct {
		Name      string  `json:"name"`
		Kind      string  `json:"kind"`
		ParentID  string  `json:"parent_id"`
		DeletedAt *string `json:"deleted_at"`
	} `json:"tenants"`
	Users map[string]struct {
		Login     string  `json:"login"`
		DeletedAt *string `json:"deleted_at"`
	} `json:"users"`
}

func state() serverState {
	resp, err := http.Get(emulatorURL + "/_emulator/state")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	var st serverState
	Expect(json.NewDecoder(resp.Body).Decode(&st)).To(Succeed())
	return st
}

// liveTenants counts the tenants named name that are not deleted.
func (st serverState) liveTenants(name string) int {
	n := 0
	for _, t := range st.Store.Tenants {
		if t.Name == name && t.DeletedAt == nil {
			n++
		}
	}
	return n
}

func (st serverState) liveUsers(login string) int {
	n := 0
	for _, u := range st.Store.Users {
		if u.Login == login && u.DeletedAt == nil {
			n++
		}
	}
	return n
}

// The kinds the samples hold, for kubectl wait and delete.
const sampleKinds = "tenants,users,locations,storages,offeringitemquotas,usagereports,apiclients,registrationtokens"

var sampleTenants = []string{"Northwind Reseller", "Small business", "Acme Corp", "Engineering"}

var _ = Describe("the samples, end to end", Ordered, func() {
	var mgr *gexec.Session

	AfterAll(func() {
		if mgr != nil {
			mgr.Signal(syscall.SIGTERM)
			Eventually(mgr, 30*time.Second).Should(gexec.Exit())
		}
	})

	It("converges the samples, with the manager killed and restarted in the middle", func() {
		mgr, _ = startManager()
		mustKubectl("apply", "-k", "config/samples")

		// Kill it as soon as the first remote object exists: creates are in flight.
		Eventually(func() int { return state().liveTenants("Northwind Reseller") }).WithTimeout(time.Minute).Should(Equal(1))
		mgr.Kill()
		Eventually(mgr, 30*time.Second).Should(gexec.Exit())
		mgr, _ = startManager()

		mustKubectl("wait", "--for=condition=Ready", sampleKinds, "--all", "-n", "default", "--timeout=180s")
		st := state()
		for _, name := range sampleTenants {
			Expect(st.liveTenants(name)).To(Equal(1), "tenant %q must exist exactly once", name)
		}
		Expect(st.liveUsers("acme-admin")).To(Equal(1))
		Expect(st.liveUsers("northwind-auditor")).To(Equal(1))
		Expect(mustKubectl("get", "accounts", "-A")).To(ContainSubstring("acme-quotas"))
	})

	It("deletes everything and leaves the server clean", func() {
		mustKubectl("delete", "-k", "config/samples", "--wait=true", "--timeout=180s")
		Eventually(func() string {
			out, _ := kubectl("get", sampleKinds, "-n", "default", "-o", "name")
			return strings.TrimSpace(out)
		}).WithTimeout(3 * time.Minute).Should(BeEmpty())
		st := state()
		for _, name := range sampleTenants {
			Expect(st.liveTenants(name)).To(BeZero(), "tenant %q must be deleted on the server", name)
		}
		Expect(st.liveUsers("acme-admin")).To(BeZero())
		Expect(st.liveUsers("northwind-auditor")).To(BeZero())
	})
})
