package plugin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// This file writes an export: one YAML stream, or a directory per tenant
// with a kustomization.yaml each and one at the top. The same objects
// always give the same bytes: keys are sorted, objects ordered, and
// nothing carries a time of its own making.

// manifest is one object as YAML: what the typed object says, without
// status, creationTimestamp or null fields.
func manifest(obj runtime.Object) ([]byte, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	return yaml.Marshal(prune(m))
}

// prune drops null values and the maps they leave empty.
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if p := prune(val); p == nil {
				delete(t, k)
			} else {
				t[k] = p
			}
		}
		if len(t) == 0 {
			return nil
		}
		return t
	case []any:
		for i := range t {
			t[i] = prune(t[i])
		}
		return t
	}
	return v
}

// documents joins manifests into one YAML stream.
func documents(objs []runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	for _, o := range objs {
		b, err := manifest(o)
		if err != nil {
			return nil, err
		}
		buf.WriteString("---\n")
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// files of one tenant's directory, in the order they are listed.
const (
	tenantFile = "tenant.yaml"
	quotaFile  = "offeringitemquota.yaml"
	usersFile  = "users.yaml"
	kustomFile = "kustomization.yaml"
)

// tenantFiles are the files of one tenant's directory, those with objects
// only.
func tenantFiles(t *tenantExport) ([][2]string, error) {
	var out [][2]string
	add := func(name string, objs []runtime.Object) error {
		if len(objs) == 0 {
			return nil
		}
		b, err := documents(objs)
		if err != nil {
			return err
		}
		out = append(out, [2]string{name, string(b)})
		return nil
	}
	if t.Tenant != nil {
		if err := add(tenantFile, []runtime.Object{t.Tenant}); err != nil {
			return nil, err
		}
	}
	var quotas, users []runtime.Object
	for _, q := range t.Quotas {
		quotas = append(quotas, q)
	}
	for _, u := range t.Users {
		users = append(users, u)
	}
	if err := add(quotaFile, quotas); err != nil {
		return nil, err
	}
	if err := add(usersFile, users); err != nil {
		return nil, err
	}
	return out, nil
}

func kustomization(resources []string) string {
	var b bytes.Buffer
	b.WriteString("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
	for _, r := range resources {
		fmt.Fprintf(&b, "- %s\n", r)
	}
	return b.String()
}

// writeStream writes every object as one YAML stream: tenant by tenant,
// parents first, each Tenant followed by its quotas and its users.
func writeStream(w io.Writer, ex *export) error {
	for _, t := range ex.Ordered {
		files, err := tenantFiles(t)
		if err != nil {
			return err
		}
		for _, f := range files {
			if _, err := io.WriteString(w, f[1]); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeDir writes the flat layout: DIR/<tenant>/ per tenant with objects,
// each with a kustomization.yaml, and DIR/kustomization.yaml listing the
// tenant directories, parents first. DIR must be empty or not exist: files
// of an earlier export left beside the new ones would be applied too.
func writeDir(dir string, ex *export) (files int, err error) {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("output directory %s is not empty: export into a new one (or empty it), then compare", dir)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	write := func(path, content string) error {
		files++
		return os.WriteFile(path, []byte(content), 0o644)
	}
	var dirs []string
	for _, t := range ex.Ordered {
		fs, err := tenantFiles(t)
		if err != nil {
			return files, err
		}
		if len(fs) == 0 {
			continue
		}
		sub := filepath.Join(dir, t.Dir)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return files, err
		}
		var names []string
		for _, f := range fs {
			if err := write(filepath.Join(sub, f[0]), f[1]); err != nil {
				return files, err
			}
			names = append(names, f[0])
		}
		if err := write(filepath.Join(sub, kustomFile), kustomization(names)); err != nil {
			return files, err
		}
		dirs = append(dirs, t.Dir)
	}
	return files, write(filepath.Join(dir, kustomFile), kustomization(dirs))
}
