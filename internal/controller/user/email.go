package user

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// The activation email is a side effect a repeat would repeat: it is sent
// at most once per ask (managed.Once). The record is the annotation
// v1.AnnotationActivationEmail, written under an optimistic lock before the
// request leaves; status.activationEmail mirrors its outcome.

// once is the record of u's activation email; it consumes a request to
// resend.
func (e *External) once(u *v1.User) managed.Once {
	return managed.Once{Client: e.Writer, Object: u, Key: v1.AnnotationActivationEmail, Consumes: v1.AnnotationResendActivationEmail}
}

// RequestAnnotations: asking for the activation email again wakes the
// user.
func (e *External) RequestAnnotations() []string {
	return []string{v1.AnnotationResendActivationEmail}
}

// resendAsked says whether a person asked to send the activation email
// once more.
func resendAsked(u *v1.User) bool {
	return u.GetAnnotations()[v1.AnnotationResendActivationEmail] == "true"
}

// emailRecorded says whether an activation email was asked for (whatever
// came of it).
func emailRecorded(u *v1.User) bool {
	_, ok := u.GetAnnotations()[v1.AnnotationActivationEmail]
	return ok
}

// emailState is what status.activationEmail shows: the record's outcome;
// Sent for a user whose email an earlier version of the operator recorded
// in status.activationEmailSentAt alone.
func emailState(u *v1.User) v1.ActivationEmailState {
	switch a := u.GetAnnotations()[v1.AnnotationActivationEmail]; {
	case a == managed.OnceSent:
		return v1.ActivationEmailSent
	case a == managed.OnceUnconfirmed:
		return v1.ActivationEmailUnconfirmed
	case a == "" && !emailRecorded(u) && u.Status.ActivationEmailSentAt != nil:
		return v1.ActivationEmailSent
	}
	return u.Status.ActivationEmail
}

// settleEmail turns an activation email recorded as being sent, whose
// outcome never was (the operator stopped, or could not write it, after
// the request may have left), into Unconfirmed, with a Warning; and drops a
// request to resend that cannot be honoured.
func (e *External) settleEmail(ctx context.Context, u *v1.User) error {
	settled, err := e.once(u).Settle(ctx)
	if err != nil {
		return err
	}
	if settled {
		e.warnUnconfirmed(ctx, u, "the operator stopped, or could not record the server's answer, after it asked for it")
	}
	if !resendAsked(u) {
		return nil
	}
	why := ""
	switch {
	case u.Spec.Activation.Method != v1.ActivationEmail:
		why = "spec.activation.method is " + string(u.Spec.Activation.Method) + ", not Email"
	case u.Status.Activated:
		why = "the user is activated already"
	default:
		return nil
	}
	base := u.DeepCopy()
	a := u.GetAnnotations()
	delete(a, v1.AnnotationResendActivationEmail)
	u.SetAnnotations(a)
	if err := e.Writer.Patch(ctx, u, client.MergeFrom(base)); err != nil {
		return client.IgnoreNotFound(err)
	}
	e.event(u, corev1.EventTypeNormal, ReasonActivationEmailNotResent, "Removed annotation %s without sending the activation email: %s", v1.AnnotationResendActivationEmail, why)
	return nil
}

// sendEmail asks the server to mail the activation link to user id,
// recorded first. An unknown outcome is no error: the user is as the spec
// asks, and a Warning says the email is unconfirmed.
func (e *External) sendEmail(ctx context.Context, req *request, id string) error {
	u := req.Object
	at := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	outcome, err := e.once(u).Send(ctx, func(ctx context.Context) error { return req.Conn.Client.SendActivationEmail(ctx, id) })
	if err != nil {
		return err
	}
	req.Resolved.emailSentAt = &at
	if outcome == managed.OnceUnconfirmed {
		e.warnUnconfirmed(ctx, u, "the server's answer was lost")
	}
	return nil
}

// warnUnconfirmed says that the activation email of u may or may not have
// gone, and how to send it again.
func (e *External) warnUnconfirmed(ctx context.Context, u *v1.User, why string) {
	logf.FromContext(ctx).Info("activation email unconfirmed", "why", why)
	e.event(u, corev1.EventTypeWarning, ReasonActivationEmailUnconfirmed,
		"The activation email may or may not have been sent: %s. It is not sent again on its own; to send it once more, annotate the User with %s=true",
		why, v1.AnnotationResendActivationEmail)
}

func (e *External) event(u *v1.User, eventType, reason, format string, a ...any) {
	if e.Recorder != nil {
		e.Recorder.Eventf(u, nil, eventType, reason, "SendActivationEmail", format, a...)
	}
}
