package main

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
)

// Names every stage's objects use.
const (
	connectionName = "emulator"
	secretName     = "emulator-credentials"
)

func connectionRef() *v1.AccountServerReference {
	return &v1.AccountServerReference{Kind: "AccountServer", Name: connectionName}
}

func customerName(i int) string { return fmt.Sprintf("c-%05d", i) }

// customer is what the tenant-onboarding chart makes of one customer (as in
// cmd/bench): a Tenant, its administrator (a role, activated by email) and
// its quotas.
func customer(st *stage, i int) []client.Object {
	name := customerName(i)
	return []client.Object{
		tenant(st, name),
		&v1.User{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-admin", Namespace: st.ns},
			Spec: v1.UserSpec{
				TenantRef:  &v1.LocalReference{Name: name},
				Login:      st.name + "-" + name + "-admin",
				Contact:    v1.Contact{Email: "admin@" + name + ".example", Firstname: "Ada", Lastname: "Admin"},
				Roles:      []string{"company_admin"},
				Activation: v1.Activation{Method: v1.ActivationEmail},
			},
		},
		&v1.OfferingItemQuota{
			ObjectMeta: metav1.ObjectMeta{Name: name + "-quotas", Namespace: st.ns},
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

func customers(st *stage, n int) []client.Object {
	var objs []client.Object
	for i := range n {
		objs = append(objs, customer(st, i)...)
	}
	return objs
}

// tenant is a customer Tenant with a contact.
func tenant(st *stage, name string) *v1.Tenant {
	return &v1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: st.ns},
		Spec: v1.TenantSpec{
			ManagedSpec: v1.ManagedSpec{AccountServerRef: connectionRef()},
			Kind:        v1.TenantCustomer,
			Contact:     &v1.Contact{Email: name + "@customers.example", Firstname: "Ada", Lastname: name},
		},
	}
}

// user is a User of the Tenant named tenantName.
func user(st *stage, name, tenantName string, activation v1.ActivationMethod) *v1.User {
	return &v1.User{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: st.ns},
		Spec: v1.UserSpec{
			TenantRef:  &v1.LocalReference{Name: tenantName},
			Login:      st.name + "-" + name,
			Contact:    v1.Contact{Email: name + "@users.example", Firstname: "Ada", Lastname: name},
			Activation: v1.Activation{Method: activation},
		},
	}
}

// createAll creates objs, 16 requests in flight; an object that exists
// already is fine.
func createAll(ctx context.Context, c client.Client, objs []client.Object) error {
	return forAll(ctx, objs, 16, func(o client.Object) error {
		if err := c.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		return nil
	})
}
