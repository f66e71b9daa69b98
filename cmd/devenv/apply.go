package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// applyDir server-side applies the manifests of dir, creating the namespaces
// they name, and returns what it applied. With a kustomization.yaml, the
// files its resources list, in that order (as `kubectl apply -k` would);
// otherwise every *.yaml in file-name order.
func applyDir(ctx context.Context, k8s client.Client, dir string, out io.Writer) ([]client.Object, error) {
	files, err := manifestFiles(dir)
	if err != nil {
		return nil, err
	}
	var applied []client.Object
	for _, f := range files {
		objs, err := readManifests(f)
		if err != nil {
			return applied, err
		}
		for _, u := range objs {
			if ns := u.GetNamespace(); ns != "" {
				if err := ensureNamespace(ctx, k8s, ns); err != nil {
					return applied, err
				}
			}
			if err := k8s.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("devenv"), client.ForceOwnership); err != nil {
				return applied, fmt.Errorf("applying %s %s from %s: %w", u.GetKind(), u.GetName(), f, err)
			}
			fmt.Fprintf(out, "devenv: applied %s %s\n", u.GetKind(), objectName(u))
			applied = append(applied, u)
		}
	}
	return applied, nil
}

func manifestFiles(dir string) ([]string, error) {
	kust, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no manifests (*.yaml) in %s", dir)
		}
		sort.Strings(files)
		return files, nil
	}
	if err != nil {
		return nil, err
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := utilyaml.Unmarshal(kust, &k); err != nil {
		return nil, fmt.Errorf("parsing %s/kustomization.yaml: %w", dir, err)
	}
	files := make([]string, 0, len(k.Resources))
	for _, r := range k.Resources {
		files = append(files, filepath.Join(dir, r))
	}
	return files, nil
}

func readManifests(path string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		if len(strings.TrimSpace(string(doc))) == 0 {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
			return nil, fmt.Errorf("parsing %s: %w", path, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		objs = append(objs, u)
	}
}

func objectName(o client.Object) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}
