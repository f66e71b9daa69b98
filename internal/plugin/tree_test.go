package plugin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/operator"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ from the current output")

// sampleObjects reads the objects of the accounts group from config/samples.
func sampleObjects(t *testing.T) []client.Object {
	t.Helper()
	files, err := filepath.Glob("../../config/samples/accounts_v1alpha1_*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("samples: %v (%d files)", err, len(files))
	}
	decode := serializer.NewCodecFactory(operator.NewScheme()).UniversalDeserializer()
	var out []client.Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, gvk, err := decode.Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if gvk.Group != v1.GroupVersion.Group {
				continue
			}
			out = append(out, obj.(client.Object))
		}
	}
	return out
}

// fixedID is a stable remote ID for an object of the samples.
func fixedID(kind, name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("tenant-operator-tree-test/"+kind+"/"+name)).String()
}

func ready(conds *[]metav1.Condition) {
	meta.SetStatusCondition(conds, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Synced", Message: "the remote object matches the spec"})
}

// withStatuses gives the samples the statuses the demo reaches: every object Ready with its
// remote ID, and quotas with usage.
func withStatuses(objs []client.Object) []client.Object {
	cyber := fixedID("Application", "Cyber Protection")
	for _, o := range objs {
		id := fixedID(o.GetObjectKind().GroupVersionKind().Kind, o.GetName())
		switch x := o.(type) {
		case *v1.Tenant:
			x.Status.ID = id
			x.Status.Kind = string(x.Spec.Kind)
			ready(&x.Status.Conditions)
		case *v1.User:
			x.Status.ID = id
			x.Status.Enabled = ptr.To(true)
			ready(&x.Status.Conditions)
		case *v1.OfferingItemQuota:
			ready(&x.Status.Conditions)
			for _, it := range x.Spec.Items {
				st := v1.OfferingItemStatus{Application: cyber, Name: it.Name, Enabled: true, InfraID: it.InfraID}
				if it.InfraRef != nil {
					st.InfraID = fixedID("Storage", it.InfraRef.Name)
				}
				if it.Quota != nil {
					st.Value, st.Overage = it.Quota.Value, it.Quota.Overage
				}
				if x.Name == "acme-quotas" {
					st.Usage = ptr.To(map[string]int64{"workstations": 3, "servers": 1, "storage": 21474836480}[it.Name])
				}
				x.Status.Items = append(x.Status.Items, st)
			}
		case *v1.UsageReport:
			x.Status.ID = id
			ready(&x.Status.Conditions)
		case *v1.ApiClient:
			x.Status.ID, x.Status.ClientID = id, id
			ready(&x.Status.Conditions)
		case *v1.RegistrationToken:
			x.Status.ID = "17"
			ready(&x.Status.Conditions)
		case *v1.Location:
			x.Status.ID = id
			ready(&x.Status.Conditions)
		case *v1.Storage:
			x.Status.ID = id
			ready(&x.Status.Conditions)
		}
	}
	return objs
}

func pluginFakeClient(objs ...client.Object) client.Client {
	return fake.NewClientBuilder().WithScheme(operator.NewScheme()).WithObjects(objs...).Build()
}

// runTree runs `tree` with args against a fake API server holding objs.
func runTree(t *testing.T, objs []client.Object, args ...string) (string, error) {
	t.Helper()
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	var out, errOut bytes.Buffer
	o := &Options{IOStreams: IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}}
	o.once.Do(func() { o.client = pluginFakeClient(objs...) })
	cmd := newTreeCommand(o)
	cmd.PersistentFlags().StringVarP(&o.NamespaceFlag, "namespace", "n", "", "")
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func treeGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/plugin/ -run %s -update to write it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; -update rewrites it):\n%s", path, diff)
	}
}

func TestTreeOfTheSamples(t *testing.T) {
	got, err := runTree(t, withStatuses(sampleObjects(t)), "-n", "default")
	if err != nil {
		t.Fatal(err)
	}
	treeGolden(t, "tree.golden", got)
}

func TestTreeJSONMatchesItsSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	sch, err := c.Compile("testdata/tree.schema.json")
	if err != nil {
		t.Fatalf("compiling the schema: %v", err)
	}
	cases := map[string][]string{
		"samples in one namespace": {"-n", "default", "-o", "json"},
		"every namespace":          {"-A", "-o", "json"},
	}
	objs := append(withStatuses(sampleObjects(t)), edgeObjects()...)
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := runTree(t, objs, args...)
			if err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(strings.NewReader(got))
			if err != nil {
				t.Fatalf("not JSON: %v\n%s", err, got)
			}
			if err := sch.Validate(inst); err != nil {
				t.Fatalf("the output does not match testdata/tree.schema.json: %v\n%s", err, got)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		got, err := runTree(t, nil, "-n", "empty", "-o", "json")
		if err != nil {
			t.Fatal(err)
		}
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(got))
		if err := sch.Validate(inst); err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
	})
	t.Run("the schema refuses what it should", func(t *testing.T) {
		for _, bad := range []string{
			`{"namespace":"x"}`,
			`{"namespace":"x","tenants":[{"kind":"Tenant","namespace":"x","name":"a","ready":"Maybe"}]}`,
			`{"namespace":"x","tenants":[{"kind":"Pod","namespace":"x","name":"a","ready":"True"}]}`,
			`{"namespace":"x","tenants":[],"extra":1}`,
		} {
			inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(bad))
			if sch.Validate(inst) == nil {
				t.Errorf("accepted %s", bad)
			}
		}
	})
}

// edgeObjects are objects in a second namespace that exercise what the samples do not: a tenant
// whose parent is named by UUID, a user naming a Tenant that is not there, a quota naming its
// tenant by UUID only, a parent cycle, and objects with no Ready condition yet or not Ready.
func edgeObjects() []client.Object {
	ns := "edge"
	om := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	root := &v1.Tenant{ObjectMeta: om("root"), Spec: v1.TenantSpec{Kind: "partner"}}
	root.Status.ID = fixedID("Tenant", "edge-root")
	ready(&root.Status.Conditions)
	byID := &v1.Tenant{ObjectMeta: om("by-id"), Spec: v1.TenantSpec{Kind: "customer", ParentID: root.Status.ID}}
	meta.SetStatusCondition(&byID.Status.Conditions, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: "Rejected", Message: "the server refused: name taken"})
	cycleA := &v1.Tenant{ObjectMeta: om("cycle-a"), Spec: v1.TenantSpec{Kind: "folder", ParentRef: &v1.LocalReference{Name: "cycle-b"}}}
	cycleB := &v1.Tenant{ObjectMeta: om("cycle-b"), Spec: v1.TenantSpec{Kind: "folder", ParentRef: &v1.LocalReference{Name: "cycle-a"}}}
	lost := &v1.User{ObjectMeta: om("lost"), Spec: v1.UserSpec{TenantRef: &v1.LocalReference{Name: "gone"}, Login: "lost"}}
	raw := &v1.OfferingItemQuota{ObjectMeta: om("raw"), Spec: v1.OfferingItemQuotaSpec{TenantID: "0f8a6a3e-5f0e-4c7b-9a1d-2b3c4d5e6f70"}}
	raw.Status.Items = []v1.OfferingItemStatus{{Application: "a", Name: "servers", Enabled: false}, {Application: "a", Name: "workstations", Enabled: true}}
	return []client.Object{root, byID, cycleA, cycleB, lost, raw}
}

func TestTreeEdgeCases(t *testing.T) {
	got, err := runTree(t, edgeObjects(), "-n", "edge")
	if err != nil {
		t.Fatal(err)
	}
	treeGolden(t, "tree-edge.golden", got)
	got, err = runTree(t, append(withStatuses(sampleObjects(t)), edgeObjects()...), "-A")
	if err != nil {
		t.Fatal(err)
	}
	treeGolden(t, "tree-all-namespaces.golden", got)
}

func TestTreeRefusesAnUnknownOutput(t *testing.T) {
	if _, err := runTree(t, nil, "-n", "x", "-o", "yaml"); err == nil {
		t.Fatal("-o yaml accepted")
	}
}

func TestTreeEmpty(t *testing.T) {
	got, err := runTree(t, nil, "-n", "nothing")
	if err != nil {
		t.Fatal(err)
	}
	if want := "No Tenants or objects of tenants found in namespace nothing.\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestItemLabel(t *testing.T) {
	cases := map[string]struct {
		item QuotaItem
		want string
	}{
		"used of limit":       {QuotaItem{Name: "servers", Enabled: true, Usage: ptr.To[int64](2), Value: ptr.To[int64](5)}, "servers 2/5"},
		"with overage":        {QuotaItem{Name: "ws", Enabled: true, Usage: ptr.To[int64](0), Value: ptr.To[int64](50), Overage: ptr.To[int64](55)}, "ws 0/50 (overage 55)"},
		"unlimited, not read": {QuotaItem{Name: "ws", Enabled: true}, "ws ?/unlimited"},
		"infra":               {QuotaItem{Name: "storage", InfraID: "4a2cbe2d-b7ab-4b17-9cba-10c7eb55de01", Enabled: true, Usage: ptr.To[int64](1)}, "storage [infra 4a2cbe2d] 1/unlimited"},
		"off":                 {QuotaItem{Name: "servers", Enabled: false, Value: ptr.To[int64](5)}, "servers (off)"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := itemLabel(tc.item); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
