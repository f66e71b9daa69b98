package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// Name prefixes of the objects of each scenario.
const (
	prefixCustomer = "c-" // cold: Tenant c-00000, User c-00000-admin, OfferingItemQuota c-00000-quotas
	prefixBacklog  = "b-" // interactive: Tenants
	prefixSeeded   = "s-" // seed: adopted Tenants
	prefixUser     = "u-" // memory: adopted Users
)

// firstname is what every tenant's contact says; drift changes it.
const firstname = "Ada"

func connectionRef() *v1.AccountServerReference {
	return &v1.AccountServerReference{Kind: "AccountServer", Name: connectionName}
}

func tenantContact(name string) v1.Contact {
	return v1.Contact{Email: name + "@customers.example", Firstname: firstname, Lastname: name}
}

// customer is what the tenant-onboarding chart makes of one customer: a
// Tenant, its administrator (a role, activated by email) and its quotas.
func customer(m *mode, i int) []client.Object {
	name := fmt.Sprintf("%s%05d", prefixCustomer, i)
	contact := tenantContact(name)
	return []client.Object{
		&v1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: m.ns},
			Spec: v1.TenantSpec{
				ManagedSpec: v1.ManagedSpec{AccountServerRef: connectionRef()},
				Kind:        v1.TenantCustomer,
				Contact:     &contact,
			},
		},
		&v1.User{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-admin", Namespace: m.ns},
			Spec: v1.UserSpec{
				TenantRef:  &v1.LocalReference{Name: name},
				Login:      m.name + "-" + name + "-admin",
				Contact:    v1.Contact{Email: "admin@" + name + ".example", Firstname: firstname, Lastname: "Admin"},
				Roles:      []string{"company_admin"},
				Activation: v1.Activation{Method: v1.ActivationEmail},
			},
		},
		&v1.OfferingItemQuota{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-quotas", Namespace: m.ns},
			Spec: v1.OfferingItemQuotaSpec{
				TenantRef: &v1.LocalReference{Name: name},
				Items: []v1.OfferingItemSpec{{
					Application: "Cyber Protection", Name: "workstations",
					Quota: &v1.QuotaSpec{Value: ptr.To[int64](50), Overage: ptr.To[int64](55)},
				}},
			},
		},
	}
}

// plainTenant is a customer Tenant with nothing else; importID adopts an
// existing one.
func plainTenant(m *mode, name, importID string) *v1.Tenant {
	contact := tenantContact(name)
	return &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: m.ns, Finalizers: seedFinalizers(importID)},
		Spec: v1.TenantSpec{
			ManagedSpec: v1.ManagedSpec{AccountServerRef: connectionRef(), ImportID: importID},
			Kind:        v1.TenantCustomer,
			Contact:     &contact,
		},
	}
}

// seedTenant is the remote twin of plainTenant(m, name, ...): adopting it
// needs no write. It was made (and last changed) at at.
func seedTenant(name string, at time.Time) emulator.SeedTenant {
	c := tenantContact(name)
	return emulator.SeedTenant{Name: name, Kind: emulator.KindCustomer, Contact: emulator.Contact{Email: c.Email, Firstname: c.Firstname, Lastname: c.Lastname}, At: at}
}

// existedBefore is when the seeded objects were made: long before the run,
// as the objects an operator adopts usually are, so that they are not
// changes a remote watch would list.
func existedBefore(start time.Time) time.Time { return start.Add(-24 * time.Hour) }

// adoptedUser is a User adopting an existing, activated user of tenant.
func adoptedUser(m *mode, name, tenant, importID string) *v1.User {
	return &v1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: m.ns, Finalizers: seedFinalizers(importID)},
		Spec: v1.UserSpec{
			ManagedSpec: v1.ManagedSpec{ImportID: importID},
			TenantRef:   &v1.LocalReference{Name: tenant},
			Login:       userLogin(m, name),
			Contact:     v1.Contact{Email: name + "@users.example", Firstname: firstname, Lastname: name},
			Activation:  v1.Activation{Method: v1.ActivationNone},
		},
	}
}

// seedFinalizers: an adopted object is created with the operator's
// finalizer already on, which spares the API server (the bottleneck of
// seeding on a small machine) one write per object; the operator adds the
// same finalizer itself otherwise.
func seedFinalizers(importID string) []string {
	if importID == "" {
		return nil
	}
	return []string{v1.Finalizer}
}

func userLogin(m *mode, name string) string { return m.name + "-" + name }

func seedUser(m *mode, name, tenantID string, at time.Time) emulator.SeedUser {
	return emulator.SeedUser{
		TenantID: tenantID, Login: userLogin(m, name), Activated: true, At: at,
		Contact: emulator.Contact{Email: name + "@users.example", Firstname: firstname, Lastname: name},
	}
}

// createAll creates objs with workers requests in flight; an object that
// exists already is fine (a rerun of a step).
func createAll(ctx context.Context, c client.Client, objs []client.Object, workers int) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(objs) || ctx.Err() != nil {
					return
				}
				if err := c.Create(ctx, objs[i]); err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("creating %T %s: %w", objs[i], objs[i].GetName(), err)
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
