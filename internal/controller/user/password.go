package user

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// readPassword reads the password from its Secret, unless that Secret is
// the one whose password was set last.
func (e *External) readPassword(ctx context.Context, u *v1.User, res *resolved) error {
	ref := u.Spec.Activation.PasswordSecretRef
	if ref == nil {
		return managed.Stalled(managed.ReasonInvalidSpec, "spec.activation: method Password needs passwordSecretRef")
	}
	data, rv, err := managed.ReadIfChanged(ctx, e.Reader, e.Direct, managed.DataSource{Kind: "Secret", Namespace: u.Namespace, Name: ref.Name},
		func(rv string) bool { return secretVersion(ref, rv) == u.Status.PasswordSecretVersion })
	switch {
	case apierrors.IsNotFound(err):
		return managed.Stalled(ReasonPasswordSecretMissing, "spec.activation.passwordSecretRef: Secret %s not found", ref.Name)
	case err != nil:
		return err
	case data == nil:
		return nil // set already; the value need not be read
	}
	value, ok := data[ref.Key]
	if !ok || len(value) == 0 {
		return managed.Stalled(ReasonPasswordKeyMissing, "spec.activation.passwordSecretRef: Secret %s has no key %s", ref.Name, ref.Key)
	}
	res.password, res.passwordVersion = string(value), secretVersion(ref, rv)
	return nil
}

// secretVersion names the password last set: which Secret, which key, and
// which resourceVersion of it. A change of any of them sets it again.
func secretVersion(ref *v1.LocalSecretKeySelector, resourceVersion string) string {
	return ref.Name + "/" + ref.Key + "@" + resourceVersion
}
