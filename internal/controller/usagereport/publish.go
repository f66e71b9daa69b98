package usagereport

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/managed"
)

// Publish copies the newest saved file of each format into the output
// ConfigMap, when the ConfigMap does not hold them yet. Files that would
// not fit are named in status.output.tooLarge instead.
func (e *External) Publish(ctx context.Context, req *request, r *remote) error {
	obj := req.Object
	out := obj.Spec.Output
	if out == nil {
		obj.Status.Output = nil
		return nil
	}
	limit := e.MaxOutputBytes
	if limit <= 0 {
		limit = DefaultMaxOutputBytes
	}
	fit, tooLarge := selectOutput(formats(obj), r.stored, limit)
	if len(fit) == 0 && len(tooLarge) == 0 {
		return nil // nothing saved yet
	}
	ids := make([]string, 0, len(fit))
	for _, s := range fit {
		ids = append(ids, s.ID)
	}
	status := &v1.UsageReportOutputStatus{ConfigMapName: out.ConfigMapName, StoredReportIDs: ids}
	for _, s := range tooLarge {
		status.TooLarge = append(status.TooLarge, toStored(s))
	}

	key := client.ObjectKey{Namespace: obj.Namespace, Name: out.ConfigMapName}
	current := &metav1.PartialObjectMetadata{}
	current.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	err := e.Reader.Get(ctx, key, current)
	switch {
	case err == nil && metav1.IsControlledBy(current, obj) &&
		current.Annotations[AnnotationStoredReports] == strings.Join(ids, ",") && current.Annotations[AnnotationReportID] == r.report.ID:
		obj.Status.Output = status
		return nil
	case err != nil && !apierrors.IsNotFound(err):
		return err
	}

	data := map[string][]byte{}
	for _, s := range fit {
		b, err := req.Conn.Client.DownloadStoredReport(ctx, r.report.ID, s.ID)
		if err != nil {
			return err
		}
		data[s.ReportFormat] = b
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
	changed, err := managed.WriteOwned(ctx, e.Writer, e.Direct, obj, cm, func() error {
		setOutput(cm, r.report.ID, ids, data)
		return nil
	})
	if err != nil {
		return err
	}
	obj.Status.Output = status
	if changed {
		logf.FromContext(ctx).Info("report copied to ConfigMap", "configMap", key.Name, "report", r.report.ID, "storedReports", strings.Join(ids, ","))
		if e.Recorder != nil {
			e.Recorder.Eventf(obj, nil, corev1.EventTypeNormal, "Published", "Publish", "Copied %d saved file(s) of report %s to ConfigMap %s", len(fit), r.report.ID, key.Name)
		}
	}
	return nil
}

// setOutput makes cm hold exactly the given files, under their format
// names: text as data, anything else as binaryData.
func setOutput(cm *corev1.ConfigMap, reportID string, ids []string, files map[string][]byte) {
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations[AnnotationReportID] = reportID
	cm.Annotations[AnnotationStoredReports] = strings.Join(ids, ",")
	if cm.Labels == nil {
		cm.Labels = map[string]string{}
	}
	cm.Labels["app.kubernetes.io/managed-by"] = "tenant-operator"
	cm.Data, cm.BinaryData = nil, nil
	names := make([]string, 0, len(files))
	for f := range files {
		names = append(names, f)
	}
	slices.Sort(names)
	for _, f := range names {
		b := files[f]
		if utf8.Valid(b) {
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[f] = string(b)
			continue
		}
		if cm.BinaryData == nil {
			cm.BinaryData = map[string][]byte{}
		}
		cm.BinaryData[f] = b
	}
}
