package emulator

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// tree is a small hierarchy under the bootstrap tenant that most tenant tests start from.
type tree struct {
	provider, partner, customer, unit, folder, disabled, customer2 Tenant
}

func buildTree(t *testing.T, env *testEnv) tree {
	t.Helper()
	var tr tree
	tr.provider = env.api.getTenant(env.boot.TenantID)
	tr.partner = env.api.createTenant(tr.provider.ID, "Partner", KindPartner)
	tr.customer = env.api.createTenant(tr.partner.ID, "Customer", KindCustomer)
	tr.unit = env.api.createTenant(tr.customer.ID, "Unit", KindUnit)
	tr.folder = env.api.createTenant(tr.provider.ID, "Folder", KindFolder)
	tr.disabled = env.api.createTenant(tr.provider.ID, "Disabled", KindPartner)
	tr.disabled = env.api.disableTenant(tr.disabled.ID)
	tr.customer2 = env.api.createTenant(tr.provider.ID, "Customer 2", KindCustomer)
	return tr
}

func TestCreateTenant(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	body := func(parent, name, kind string) map[string]any {
		return map[string]any{"name": name, "parent_id": parent, "kind": kind}
	}
	cases := map[string]struct {
		reason string
		body   any
		ct     string
		want   errCode
	}{
		"PartnerUnderPartner":   {"partners nest", body(tr.partner.ID, "P", KindPartner), "", errCode{Status: 201}},
		"FolderUnderPartner":    {"folders sit under partners", body(tr.partner.ID, "F", KindFolder), "", errCode{Status: 201}},
		"CustomerUnderFolder":   {"customers sit under folders", body(tr.folder.ID, "C", KindCustomer), "", errCode{Status: 201}},
		"PartnerUnderFolder":    {"partners sit under folders", body(tr.folder.ID, "P", KindPartner), "", errCode{Status: 201}},
		"UnitUnderCustomer":     {"units sit under customers", body(tr.customer.ID, "U", KindUnit), "", errCode{Status: 201}},
		"UnitUnderUnit":         {"units nest", body(tr.unit.ID, "U", KindUnit), "", errCode{Status: 201}},
		"CustomerUnderCustomer": {"a customer under a customer is refused", body(tr.customer.ID, "C", KindCustomer), "", errCode{400, 400}},
		"UnitUnderPartner":      {"a unit under a partner is refused", body(tr.partner.ID, "U", KindUnit), "", errCode{400, 400}},
		"PartnerUnderCustomer":  {"a partner under a customer is refused", body(tr.customer.ID, "P", KindPartner), "", errCode{400, 400}},
		"FolderUnderUnit":       {"a folder under a unit is refused", body(tr.unit.ID, "F", KindFolder), "", errCode{400, 400}},
		"KindRoot":              {"nobody creates a root", body(tr.partner.ID, "R", KindRoot), "", errCode{400, 400}},
		"KindUnknown":           {"kind must be one of the list", body(tr.partner.ID, "R", "team"), "", errCode{400, 400}},
		"MissingName":           {"name is required", map[string]any{"parent_id": tr.partner.ID, "kind": KindCustomer}, "", errCode{400, 400}},
		"BlankName":             {"name must not be blank", body(tr.partner.ID, "  ", KindCustomer), "", errCode{400, 400}},
		"MissingParent":         {"parent_id is required", map[string]any{"name": "x", "kind": KindCustomer}, "", errCode{400, 400}},
		"MissingKind":           {"kind is required", map[string]any{"name": "x", "parent_id": tr.partner.ID}, "", errCode{400, 400}},
		"BadParentID":           {"parent_id must be a UUID", body("nope", "x", KindCustomer), "", errCode{400, 400}},
		"UnknownField":          {"unknown fields are refused", map[string]any{"name": "x", "parent_id": tr.partner.ID, "kind": KindCustomer, "colour": "red"}, "", errCode{400, 400}},
		"CustomerTypeOnCreate":  {"customer_type is not a create field in the reference", map[string]any{"name": "x", "parent_id": tr.partner.ID, "kind": KindCustomer, "customer_type": "default"}, "", errCode{400, 400}},
		"UnknownContactField":   {"unknown contact fields are refused", map[string]any{"name": "x", "parent_id": tr.partner.ID, "kind": KindCustomer, "contact": map[string]any{"first_name": "A"}}, "", errCode{400, 400}},
		"BadJSON":               {"a broken body is 400", `{"name":`, "", errCode{400, 400}},
		"ParentDisabled":        {"nothing is created under a disabled tenant", body(tr.disabled.ID, "x", KindCustomer), "", errCode{400, codeParentDisabled}},
		"DuplicateName":         {"sibling names are unique", body(tr.partner.ID, "Customer", KindCustomer), "", errCode{409, codeNameConflict}},
		"DuplicateNameCase":     {"sibling names are unique regardless of case", body(tr.partner.ID, "CUSTOMER", KindCustomer), "", errCode{409, codeNameConflict}},
		"SameNameElsewhere":     {"the same name under another parent is fine", body(tr.folder.ID, "Customer", KindCustomer), "", errCode{Status: 201}},
		"ParentMissing":         {"the parent must exist", body("00000000-0000-4000-8000-000000000000", "x", KindCustomer), "", errCode{404, codeTenantNotFound}},
		"ParentOutsideScope":    {"the parent must be in the caller's subtree", body(env.boot.RootTenantID, "x", KindPartner), "", errCode{403, codeAccessDenied}},
		"WrongContentType":      {"a JSON body needs the JSON content type", body(tr.partner.ID, "x", KindCustomer), "text/plain", errCode{415, 415}},
		"NoContentType":         {"a missing content type is 415 too", body(tr.partner.ID, "y", KindCustomer), "-", errCode{415, 415}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := len(env.srv.Tenants())
			ct := tc.ct
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			r := env.api.doCT(http.MethodPost, "/tenants", tc.body, ct)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			after := len(env.srv.Tenants())
			if r.status == http.StatusCreated {
				var got Tenant
				mustUnmarshal(t, r.body, &got)
				stored, ok := env.srv.Tenant(got.ID)
				if !ok || after != before+1 {
					t.Fatalf("created tenant not stored (tenants %d → %d)", before, after)
				}
				if diff := cmp.Diff(stored, got); diff != "" {
					t.Errorf("answer differs from the store -store +answer:\n%s", diff)
				}
				// Clean up so later cases can reuse names.
				env.api.disableTenant(got.ID)
				if r := env.api.do(http.MethodDelete, fmt.Sprintf("/tenants/%s?version=%d", got.ID, env.api.getTenant(got.ID).Version), nil); r.status != 204 {
					t.Fatalf("cleanup: %d %s", r.status, r.body)
				}
			} else if after != before {
				t.Errorf("a refused create changed the store (tenants %d → %d)", before, after)
			}
		})
	}
}

func TestCreateTenantSeedExampleAndDefaults(t *testing.T) {
	env := startEmulator(t, Options{})
	// The reference's POST /tenants example, with its parent replaced by one of ours.
	body := `{"internal_tag": null, "name": "The Qwerty Tenant", "customer_id": "123asd",
		"parent_id": "` + env.boot.TenantID + `", "contact": {"email": "su@test.com", "address1": "Home", "phone": "123456789"},
		"language": "pt_BR", "kind": "partner", "settings": {"enhanced_security": false}}`
	r := env.api.do(http.MethodPost, "/tenants", body)
	if r.status != http.StatusCreated {
		t.Fatalf("seed example: %d %s", r.status, r.body)
	}
	var got Tenant
	mustUnmarshal(t, r.body, &got)
	now := formatTime(env.clock.Now())
	want := Tenant{
		ID: got.ID, Version: got.Version, Name: "The Qwerty Tenant", CustomerType: "default", ParentID: env.boot.TenantID,
		Kind: KindPartner, Contacts: []Contact{},
		Contact: Contact{ID: got.Contact.ID, CreatedAt: now, UpdatedAt: now, Types: []string{}, Email: "su@test.com", Address1: "Home", Phone: "123456789"},
		Enabled: true, CreatedAt: now, UpdatedAt: now, CustomerID: ptr("123asd"), Language: "pt_BR",
		DefaultIDPID: defaultIDPID, AncestralAccess: true, MFAStatus: "disabled", PricingMode: "trial",
		// No branding anywhere above: the platform's brand is in effect; no external operation is null.
		BrandUUID: ptr(PlatformBrandID), ExternalOperationStatus: nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("created tenant -want +got:\n%s", diff)
	}
	if got.Version < env.clock.Now().UnixMilli() {
		t.Errorf("version %d is not millisecond-like (clock %d)", got.Version, env.clock.Now().UnixMilli())
	}
	if !validUUID(got.ID) {
		t.Errorf("id %q is not a lowercase UUID", got.ID)
	}
	if !validUUID(got.Contact.ID) || got.Contact.ID != env.api.getTenant(got.ID).Contact.ID {
		t.Errorf("contact id %q is not a lowercase UUID that stays the same", got.Contact.ID)
	}
	parent := env.api.getTenant(env.boot.TenantID)
	if !parent.HasChildren {
		t.Errorf("the parent's has_children must be true")
	}
}

func TestRootTenant(t *testing.T) {
	env := startEmulator(t, Options{RootTenantID: "0b5ff8b0-8e0f-4c4e-9e4f-2b2b5cf1c001"})
	root, ok := env.srv.Tenant("0b5ff8b0-8e0f-4c4e-9e4f-2b2b5cf1c001")
	if !ok {
		t.Fatal("the root tenant is missing")
	}
	if diff := cmp.Diff([]string{root.ID, KindRoot}, []string{root.ParentID, root.Kind}); diff != "" {
		t.Errorf("the root's parent_id is its own id and its kind root -want +got:\n%s", diff)
	}
	p := env.api.getTenant(env.boot.TenantID)
	if diff := cmp.Diff([]string{"Provider", KindPartner, root.ID}, []string{p.Name, p.Kind, p.ParentID}); diff != "" {
		t.Errorf("bootstrap tenant -want +got:\n%s", diff)
	}
	if diff := cmp.Diff(errCode{403, codeAccessDenied}, env.api.do(http.MethodGet, "/tenants/"+root.ID, nil).code(t)); diff != "" {
		t.Errorf("the root is outside Provider's subtree\n-want +got:\n%s", diff)
	}
}

func TestUpdateTenant(t *testing.T) {
	type want struct {
		errCode
		check func(t *testing.T, env *testEnv, tr tree, got Tenant)
	}
	cases := map[string]struct {
		reason string
		target func(tr tree) Tenant
		body   func(tr tree, cur Tenant) any
		want   want
	}{
		"Rename": {
			reason: "a rename answers the new object with a new version",
			target: func(tr tree) Tenant { return tr.customer },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"name": "Renamed", "version": cur.Version} },
			want: want{errCode{Status: 200}, func(t *testing.T, env *testEnv, tr tree, got Tenant) {
				if got.Name != "Renamed" || got.Version <= tr.customer.Version {
					t.Errorf("got name %q version %d, want Renamed and a version above %d", got.Name, got.Version, tr.customer.Version)
				}
			}},
		},
		"ExternalOperation": {
			reason: "external_operation_status is answered as set; no_operation clears it to null",
			target: func(tr tree) Tenant { return tr.customer },
			body: func(_ tree, cur Tenant) any {
				return map[string]any{"external_operation_status": "deleting", "version": cur.Version}
			},
			want: want{errCode{Status: 200}, func(t *testing.T, env *testEnv, tr tree, got Tenant) {
				if got.ExternalOperationStatus == nil || *got.ExternalOperationStatus != "deleting" {
					t.Fatalf("external_operation_status = %v, want deleting", got.ExternalOperationStatus)
				}
				r := env.api.updateTenant(tr.customer.ID, map[string]any{"external_operation_status": "no_operation"})
				var body map[string]any
				mustUnmarshal(t, r.body, &body)
				if v, ok := body["external_operation_status"]; r.status != 200 || !ok || v != nil {
					t.Errorf("after no_operation: %d, external_operation_status %v (present %v), want null", r.status, v, ok)
				}
			}},
		},
		"SeedExample": {
			reason: "the reference's PUT example is accepted: partner → folder, brand_id ignored, contact merged",
			target: func(tr tree) Tenant { return tr.partner },
			body: func(tr tree, cur Tenant) any {
				return fmt.Sprintf(`{"internal_tag": null, "name": "Renamed Tenant", "customer_id": null, "parent_id": %q, "brand_id": 1111,
					"contact": {"firstname": "New Name"}, "version": %d, "language": "en", "kind": "folder"}`, tr.provider.ID, cur.Version)
			},
			want: want{errCode{Status: 200}, func(t *testing.T, env *testEnv, tr tree, got Tenant) {
				if got.Kind != KindFolder || got.Name != "Renamed Tenant" || got.Contact.Firstname != "New Name" || got.BrandID != nil {
					t.Errorf("got %+v", got)
				}
			}},
		},
		"MissingVersion": {
			reason: "version is required",
			target: func(tr tree) Tenant { return tr.customer },
			body:   func(tree, Tenant) any { return map[string]any{"name": "x"} },
			want:   want{errCode: errCode{400, 400}},
		},
		"StaleVersion": {
			reason: "a stale version is 409 with code 1001",
			target: func(tr tree) Tenant { return tr.customer },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"name": "x", "version": cur.Version - 1} },
			want:   want{errCode: errCode{409, codeVersionMismatch}},
		},
		"UnknownField": {
			reason: "unknown fields are refused",
			target: func(tr tree) Tenant { return tr.customer },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"colour": "red", "version": cur.Version} },
			want:   want{errCode: errCode{400, 400}},
		},
		"RenameToSibling": {
			reason: "renaming onto a sibling's name is 409 with code 1004",
			target: func(tr tree) Tenant { return tr.folder },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"name": "partner", "version": cur.Version} },
			want:   want{errCode: errCode{409, codeNameConflict}},
		},
		"MoveUnderOwnChild": {
			reason: "a tenant cannot move under its own child (1007)",
			target: func(tr tree) Tenant { return tr.partner },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.customer.ID, "version": cur.Version}
			},
			want: want{errCode: errCode{400, codeMoveUnderOwnChild}},
		},
		"MoveUnderItself": {
			reason: "a tenant cannot move under itself (1007)",
			target: func(tr tree) Tenant { return tr.partner },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.partner.ID, "version": cur.Version}
			},
			want: want{errCode: errCode{400, codeMoveUnderOwnChild}},
		},
		"MoveUnitWithinCustomer": {
			reason: "tenants inside a customer do not move (1008)",
			target: func(tr tree) Tenant { return tr.unit },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.customer2.ID, "version": cur.Version}
			},
			want: want{errCode: errCode{400, codeMoveWithinCustomer}},
		},
		"MoveUnderDisabled": {
			reason: "nothing moves under a disabled tenant (1013)",
			target: func(tr tree) Tenant { return tr.customer },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.disabled.ID, "version": cur.Version}
			},
			want: want{errCode: errCode{400, codeMoveUnderDisabled}},
		},
		"MoveCustomerToFolder": {
			reason: "a customer moves between partners and folders with its subtree",
			target: func(tr tree) Tenant { return tr.customer },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.folder.ID, "version": cur.Version}
			},
			want: want{errCode{Status: 200}, func(t *testing.T, env *testEnv, tr tree, got Tenant) {
				if got.ParentID != tr.folder.ID {
					t.Errorf("parent_id = %s, want %s", got.ParentID, tr.folder.ID)
				}
				if u, _ := env.srv.Tenant(tr.unit.ID); u.ParentID != tr.customer.ID {
					t.Errorf("the unit must stay under its customer")
				}
			}},
		},
		"MoveOutsideScope": {
			reason: "a move target outside the caller's subtree is 403",
			target: func(tr tree) Tenant { return tr.customer },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.provider.ParentID, "version": cur.Version}
			},
			want: want{errCode: errCode{403, codeAccessDenied}},
		},
		"MoveOntoSiblingName": {
			reason: "a move that makes two siblings share a name is 409 (1004)",
			target: func(tr tree) Tenant { return tr.customer2 },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.partner.ID, "name": "Customer", "version": cur.Version}
			},
			want: want{errCode: errCode{409, codeNameConflict}},
		},
		"CustomerToPartnerWithUnits": {
			reason: "a kind change that orphans the children's kind rule is refused",
			target: func(tr tree) Tenant { return tr.customer },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"kind": KindPartner, "version": cur.Version} },
			want:   want{errCode: errCode{400, 400}},
		},
		"PartnerToUnit": {
			reason: "a unit cannot sit under a partner",
			target: func(tr tree) Tenant { return tr.folder },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"kind": KindUnit, "version": cur.Version} },
			want:   want{errCode: errCode{400, 400}},
		},
		"KindToRoot": {
			reason: "nothing becomes a root",
			target: func(tr tree) Tenant { return tr.folder },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"kind": KindRoot, "version": cur.Version} },
			want:   want{errCode: errCode{400, 400}},
		},
		"EnableUnderDisabledParent": {
			reason: "a tenant cannot be enabled under a disabled parent (1003)",
			target: func(tr tree) Tenant { return tr.disabled },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"enabled": true, "version": cur.Version} },
			want:   want{errCode: errCode{Status: 200}},
		},
		"BadCustomerType": {
			reason: "customer_type takes the reference's values",
			target: func(tr tree) Tenant { return tr.customer },
			body:   func(_ tree, cur Tenant) any { return map[string]any{"customer_type": "huge", "version": cur.Version} },
			want:   want{errCode: errCode{400, 400}},
		},
		"OwnTenantOutOfReach": {
			reason: "the caller's own tenant can be read and changed but not moved away",
			target: func(tr tree) Tenant { return tr.provider },
			body: func(tr tree, cur Tenant) any {
				return map[string]any{"parent_id": tr.folder.ID, "version": cur.Version}
			},
			want: want{errCode: errCode{400, codeMoveUnderOwnChild}},
		},
		"Fields": {
			reason: "the reference's updatable fields change",
			target: func(tr tree) Tenant { return tr.customer },
			body: func(_ tree, cur Tenant) any {
				return map[string]any{"customer_type": "enterprise", "customer_id": "ext-1", "internal_tag": "tag", "language": "de",
					"ancestral_access": true, "external_operation_status": "no_operation", "enabled": false, "version": cur.Version}
			},
			want: want{errCode{Status: 200}, func(t *testing.T, env *testEnv, tr tree, got Tenant) {
				stored, _ := env.srv.Tenant(tr.customer.ID)
				wantT := tr.customer
				wantT.CustomerType, wantT.CustomerID, wantT.InternalTag, wantT.Language, wantT.Enabled = "enterprise", ptr("ext-1"), ptr("tag"), "de", false
				if diff := cmp.Diff(wantT, stored, cmpopts.IgnoreFields(Tenant{}, "Version", "UpdatedAt", "HasChildren")); diff != "" {
					t.Errorf("stored tenant -want +got:\n%s", diff)
				}
			}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := startEmulator(t, Options{})
			tr := buildTree(t, env)
			if name == "EnableUnderDisabledParent" {
				// Make the parent of a disabled tenant disabled, then try to enable the child.
				child := env.api.createTenant(tr.partner.ID, "Child", KindFolder)
				env.api.disableTenant(child.ID)
				env.api.disableTenant(tr.partner.ID)
				r := env.api.updateTenant(child.ID, map[string]any{"enabled": true})
				if diff := cmp.Diff(errCode{400, codeParentDisabled}, r.code(t)); diff != "" {
					t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
				}
				return
			}
			target := tc.target(tr)
			cur := env.api.getTenant(target.ID)
			r := env.api.do(http.MethodPut, "/tenants/"+target.ID, tc.body(tr, cur))
			if diff := cmp.Diff(tc.want.errCode, r.code(t)); diff != "" {
				t.Fatalf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			after, _ := env.srv.Tenant(target.ID)
			if r.status != http.StatusOK {
				if diff := cmp.Diff(cur, after); diff != "" {
					t.Errorf("a refused update changed the tenant:\n%s", diff)
				}
				return
			}
			var got Tenant
			mustUnmarshal(t, r.body, &got)
			if diff := cmp.Diff(after, got); diff != "" {
				t.Errorf("answer differs from the store:\n%s", diff)
			}
			if got.Version <= cur.Version {
				t.Errorf("version %d did not grow past %d", got.Version, cur.Version)
			}
			if tc.want.check != nil {
				tc.want.check(t, env, tr, got)
			}
		})
	}
}

func TestDeleteAndRestoreTenant(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	user := env.api.createUser(tr.unit.ID, "unit.user")
	cust := env.api.getTenant(tr.customer.ID)

	for name, tc := range map[string]struct {
		reason string
		path   string
		want   errCode
	}{
		"StillEnabled":   {"an enabled tenant cannot be deleted (1006)", fmt.Sprintf("/tenants/%s?version=%d", cust.ID, cust.Version), errCode{400, codeTenantEnabled}},
		"MissingVersion": {"version is required", "/tenants/" + cust.ID, errCode{400, 400}},
		"BadVersion":     {"version is an integer", "/tenants/" + cust.ID + "?version=abc", errCode{400, 400}},
		"Missing":        {"an unknown tenant is 404", "/tenants/00000000-0000-4000-8000-000000000000?version=1", errCode{404, codeTenantNotFound}},
		"OwnTenant":      {"a client cannot delete its own tenant", fmt.Sprintf("/tenants/%s?version=%d", tr.provider.ID, tr.provider.Version), errCode{403, codeAccessDenied}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, env.api.do(http.MethodDelete, tc.path, nil).code(t)); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
		})
	}

	cust = env.api.disableTenant(cust.ID)
	if diff := cmp.Diff(errCode{409, codeVersionMismatch}, env.api.do(http.MethodDelete, fmt.Sprintf("/tenants/%s?version=%d", cust.ID, cust.Version-1), nil).code(t)); diff != "" {
		t.Errorf("a stale delete is 409 (1001)\n-want +got:\n%s", diff)
	}
	if r := env.api.do(http.MethodDelete, fmt.Sprintf("/tenants/%s?version=%d", cust.ID, cust.Version), nil); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}

	// The delete cascades and hides everything below.
	for _, id := range []string{cust.ID, tr.unit.ID} {
		if st, _ := env.srv.Tenant(id); st.DeletedAt == nil {
			t.Errorf("tenant %s was not soft-deleted", id)
		}
		if diff := cmp.Diff(errCode{404, codeTenantNotFound}, env.api.do(http.MethodGet, "/tenants/"+id, nil).code(t)); diff != "" {
			t.Errorf("a deleted tenant is 404 without allow_deleted\n-want +got:\n%s", diff)
		}
		if r := env.api.do(http.MethodGet, "/tenants/"+id+"?allow_deleted=true", nil); r.status != http.StatusOK {
			t.Errorf("allow_deleted must show a deleted tenant: %d", r.status)
		}
	}
	if u, _ := env.srv.User(user.ID); u.DeletedAt == nil {
		t.Error("the unit's user was not soft-deleted")
	}
	if diff := cmp.Diff(errCode{404, 404}, env.api.do(http.MethodGet, "/users/"+user.ID, nil).code(t)); diff != "" {
		t.Errorf("a deleted user is 404\n-want +got:\n%s", diff)
	}
	var children IDList
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.partner.ID+"/children", nil).body, &children)
	if diff := cmp.Diff([]string{}, children.Items); diff != "" {
		t.Errorf("children without allow_deleted -want +got:\n%s", diff)
	}
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.partner.ID+"/children?allow_deleted=true", nil).body, &children)
	if diff := cmp.Diff([]string{cust.ID}, children.Items); diff != "" {
		t.Errorf("children with allow_deleted -want +got:\n%s", diff)
	}

	// A new tenant takes the name; restore then clashes unless forced.
	env.api.createTenant(tr.partner.ID, "Customer", KindCustomer)
	if diff := cmp.Diff(errCode{409, codeNameConflict}, env.api.do(http.MethodPost, "/tenants/"+cust.ID+"/restore", nil).code(t)); diff != "" {
		t.Errorf("restore onto a taken name\n-want +got:\n%s", diff)
	}
	if r := env.api.do(http.MethodPost, "/tenants/"+cust.ID+"/restore?force=true", nil); r.status != http.StatusNoContent {
		t.Fatalf("forced restore: %d %s", r.status, r.body)
	}
	got := env.api.getTenant(cust.ID)
	if got.DeletedAt != nil || got.Name == "Customer" || !strings.HasPrefix(got.Name, "Customer") || got.Enabled {
		t.Errorf("restored tenant = name %q deleted_at %v enabled %v; want a postfixed name, not deleted, still disabled", got.Name, got.DeletedAt, got.Enabled)
	}
	if u, _ := env.srv.User(user.ID); u.DeletedAt != nil {
		t.Error("restore must bring back the users deleted with the tenant")
	}
	if un, _ := env.srv.Tenant(tr.unit.ID); un.DeletedAt != nil {
		t.Error("restore must bring back the sub-tenants deleted with the tenant")
	}
	if diff := cmp.Diff(errCode{400, 400}, env.api.do(http.MethodPost, "/tenants/"+cust.ID+"/restore", nil).code(t)); diff != "" {
		t.Errorf("restoring a live tenant\n-want +got:\n%s", diff)
	}
}

func TestListTenants(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	ids := func(r response) []string {
		t.Helper()
		var l struct {
			Timestamp string           `json:"timestamp"`
			Items     []map[string]any `json:"items"`
			Paging    Paging           `json:"paging"`
		}
		mustUnmarshal(t, r.body, &l)
		if l.Timestamp == "" {
			t.Errorf("timestamp missing: %s", r.body)
		}
		out := []string{}
		for _, it := range l.Items {
			out = append(out, it["id"].(string))
		}
		return out
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	cases := map[string]struct {
		reason string
		query  string
		want   errCode
		ids    []string
	}{
		"UUIDs":        {"uuids fetches those tenants", "uuids=" + tr.unit.ID + "," + tr.partner.ID, errCode{Status: 200}, []string{tr.partner.ID, tr.unit.ID}},
		"ParentID":     {"parent_id fetches the children", "parent_id=" + tr.partner.ID, errCode{Status: 200}, []string{tr.customer.ID}},
		"SubtreeRoot":  {"subtree_root_id includes the root, level by level", "subtree_root_id=" + tr.partner.ID, errCode{Status: 200}, []string{tr.partner.ID, tr.customer.ID, tr.unit.ID}},
		"TooManyUUIDs": {"uuids takes at most 100", "uuids=" + strings.Join(many, ","), errCode{400, 400}, nil},
		"Exclusive":    {"uuids and parent_id are mutually exclusive", "uuids=" + tr.unit.ID + "&parent_id=" + tr.partner.ID, errCode{400, 400}, nil},
		"Exclusive2":   {"parent_id and subtree_root_id are mutually exclusive", "subtree_root_id=" + tr.unit.ID + "&parent_id=" + tr.partner.ID, errCode{400, 400}, nil},
		"BadLod":       {"lod takes stamps, basic or full", "lod=everything", errCode{400, 400}, nil},
		"BadLimit":     {"limit is at least 1", "limit=0", errCode{400, 400}, nil},
		"BadCursor":    {"a broken cursor is 400", "after=bm90LWpzb24", errCode{400, 400}, nil},
		"BadSince":     {"updated_since must be a timestamp", "updated_since=yesterday", errCode{400, 400}, nil},
		"OutsideScope": {"a parent outside the subtree is 403", "parent_id=" + env.boot.RootTenantID, errCode{403, codeAccessDenied}, nil},
		"UUIDOutside":  {"a uuid outside the subtree is 403", "uuids=" + env.boot.RootTenantID, errCode{403, codeAccessDenied}, nil},
		"Since":        {"updated_since keeps later changes", "subtree_root_id=" + tr.provider.ID + "&updated_since=2099-01-01T00:00:00Z", errCode{Status: 200}, []string{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := env.api.do(http.MethodGet, "/tenants?"+tc.query, nil)
			if diff := cmp.Diff(tc.want, r.code(t)); diff != "" {
				t.Fatalf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			if tc.ids != nil {
				if diff := cmp.Diff(tc.ids, ids(r)); diff != "" {
					t.Errorf("%s -want +got:\n%s", tc.reason, diff)
				}
			}
		})
	}

	t.Run("Lod", func(t *testing.T) {
		for lod, want := range map[string][]string{
			"stamps": {"contacts", "created_at", "deleted_at", "id", "offering_items", "parent_id", "updated_at", "version"},
			"basic":  {"contacts", "created_at", "deleted_at", "enabled", "id", "kind", "name", "offering_items", "parent_id", "updated_at", "version"},
		} {
			var l TenantList
			mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants?lod="+lod+"&uuids="+tr.unit.ID, nil).body, &l)
			var keys []string
			for k := range l.Items[0] {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if diff := cmp.Diff(want, keys); diff != "" {
				t.Errorf("lod=%s keys -want +got:\n%s", lod, diff)
			}
		}
		// lod=full (the default) carries what the official document requires of it beyond a
		// single tenant: barrier, brand_uuid and offering_items.
		var l TenantList
		mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants?uuids="+tr.unit.ID, nil).body, &l)
		full := l.Items[0]
		if full["barrier"] != float64(0) || full["brand_uuid"] != PlatformBrandID || !reflect.DeepEqual(full["offering_items"], []any{}) {
			t.Errorf("lod=full item: barrier %v, brand_uuid %v, offering_items %v", full["barrier"], full["brand_uuid"], full["offering_items"])
		}
		// with_offering_items fills offering_items with the tenant's items, infra ones left out.
		mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants?with_offering_items=true&uuids="+tr.unit.ID, nil).body, &l)
		items, _ := l.Items[0]["offering_items"].([]any)
		if len(items) == 0 {
			t.Fatalf("with_offering_items=true: no offering items in %v", l.Items[0])
		}
		for _, it := range items {
			if m := it.(map[string]any); m["tenant_id"] != tr.unit.ID || m["type"] == ItemTypeInfra {
				t.Errorf("with_offering_items=true listed %v", m)
			}
		}
	})

	t.Run("CursorPaging", func(t *testing.T) {
		all := ids(env.api.do(http.MethodGet, "/tenants?subtree_root_id="+tr.provider.ID, nil))
		var paged []string
		r := env.api.do(http.MethodGet, "/tenants?subtree_root_id="+tr.provider.ID+"&limit=2&lod=stamps", nil)
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			var l TenantList
			mustUnmarshal(t, r.body, &l)
			if len(l.Items) > 2 {
				t.Fatalf("page of %d items with limit 2", len(l.Items))
			}
			for _, it := range l.Items {
				paged = append(paged, it["id"].(string))
				if _, hasName := it["name"]; hasName {
					t.Fatal("the cursor must keep lod=stamps")
				}
			}
			if l.Paging.Cursors.After == "" {
				break
			}
			r = env.api.do(http.MethodGet, "/tenants?after="+l.Paging.Cursors.After, nil)
		}
		if diff := cmp.Diff(all, paged); diff != "" {
			t.Errorf("pages joined -want +got:\n%s", diff)
		}
		if len(all) != 7 {
			t.Errorf("subtree has %d tenants, want 7", len(all))
		}
	})

	t.Run("UpdatedSince", func(t *testing.T) {
		env.clock.Advance(time.Minute)
		since := formatTime(env.clock.Now())
		env.api.updateTenant(tr.folder.ID, map[string]any{"name": "Folder 2"})
		got := ids(env.api.do(http.MethodGet, "/tenants?subtree_root_id="+tr.provider.ID+"&updated_since="+since, nil))
		if diff := cmp.Diff([]string{tr.folder.ID}, got); diff != "" {
			t.Errorf("-want +got:\n%s", diff)
		}
	})
}

func TestTenantUsersAndChildren(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	b := env.api.createUser(tr.customer.ID, "bob")
	a := env.api.createUser(tr.customer.ID, "alice")
	u := env.api.createUser(tr.unit.ID, "unit-user")
	var l IDList
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.customer.ID+"/users", nil).body, &l)
	if diff := cmp.Diff([]string{a.ID, b.ID}, l.Items); diff != "" {
		t.Errorf("users ordered by name -want +got:\n%s", diff)
	}
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.customer.ID+"/users?include_grand_children=true", nil).body, &l)
	if diff := cmp.Diff([]string{a.ID, b.ID, u.ID}, l.Items); diff != "" {
		t.Errorf("include_grand_children adds the units' users -want +got:\n%s", diff)
	}
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.provider.ID+"/children", nil).body, &l)
	if diff := cmp.Diff([]string{tr.customer2.ID, tr.disabled.ID, tr.folder.ID, tr.partner.ID}, l.Items); diff != "" {
		t.Errorf("children ordered by name, personal tenants hidden -want +got:\n%s", diff)
	}
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.customer.ID+"/children", nil).body, &l)
	if diff := cmp.Diff([]string{tr.unit.ID}, l.Items); diff != "" {
		t.Errorf("personal tenants are not children -want +got:\n%s", diff)
	}
}

func TestPricing(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	get := func() Pricing {
		var p Pricing
		mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.customer.ID+"/pricing", nil).body, &p)
		return p
	}
	p := get()
	if diff := cmp.Diff(Pricing{Mode: "trial", Version: p.Version}, p); diff != "" {
		t.Errorf("a new customer is on trial -want +got:\n%s", diff)
	}
	put := func(body any) response {
		return env.api.do(http.MethodPut, "/tenants/"+tr.customer.ID+"/pricing", body)
	}

	for name, tc := range map[string]struct {
		body any
		want errCode
	}{
		"MissingVersion": {map[string]any{"mode": "production"}, errCode{400, 400}},
		"StaleVersion":   {map[string]any{"mode": "production", "version": p.Version - 1}, errCode{409, codeVersionMismatch}},
		"BadMode":        {map[string]any{"mode": "free", "version": p.Version}, errCode{400, 400}},
		"UnknownField":   {map[string]any{"mode": "trial", "version": p.Version, "plan": "x"}, errCode{400, 400}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, put(tc.body).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}

	env.clock.Advance(time.Hour)
	// The reference's example body with the current version.
	r := put(fmt.Sprintf(`{"version": %d, "mode": "production", "currency": "USD"}`, p.Version))
	if r.status != 200 {
		t.Fatalf("to production: %d %s", r.status, r.body)
	}
	p = get()
	start := formatTime(env.clock.Now())
	if diff := cmp.Diff(Pricing{Mode: "production", Currency: ptr("USD"), Version: p.Version, ProductionStartDate: &start}, p); diff != "" {
		t.Errorf("switching to production sets the start date -want +got:\n%s", diff)
	}
	if got := env.api.getTenant(tr.customer.ID); got.PricingMode != "production" || got.ProductionStartDate == nil || *got.ProductionStartDate != start {
		t.Errorf("tenant pricing_mode %q production_start_date %v, want production and %s", got.PricingMode, got.ProductionStartDate, start)
	}
	if diff := cmp.Diff(errCode{400, 400}, put(map[string]any{"mode": "trial", "version": p.Version}).code(t)); diff != "" {
		t.Errorf("production → trial is refused\n-want +got:\n%s", diff)
	}
}

func TestTenantMFA(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	env.api.createUser(tr.customer.ID, "mfa-user")
	for name, tc := range map[string]struct {
		id   string
		body any
		want errCode
	}{
		"Customer":     {tr.customer.ID, map[string]any{"enabled": true}, errCode{Status: 200}},
		"Partner":      {tr.partner.ID, `{"enabled": true}`, errCode{Status: 200}},
		"Folder":       {tr.folder.ID, map[string]any{"enabled": true}, errCode{400, 400}},
		"Unit":         {tr.unit.ID, map[string]any{"enabled": true}, errCode{400, 400}},
		"Missing":      {tr.customer.ID, map[string]any{}, errCode{400, 400}},
		"UnknownField": {tr.customer.ID, map[string]any{"enabled": true, "x": 1}, errCode{400, 400}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, env.api.do(http.MethodPut, "/tenants/"+tc.id+"/mfa/status", tc.body).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	var got TenantMFAStatus
	mustUnmarshal(t, env.api.do(http.MethodGet, "/tenants/"+tr.customer.ID+"/mfa/status", nil).body, &got)
	if diff := cmp.Diff(TenantMFAStatus{MFAStatus: "enabled", UsersCount: 1, UpdateAllowed: true}, got); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
	if tn, _ := env.srv.Tenant(tr.customer.ID); tn.MFAStatus != "enabled" {
		t.Errorf("stored mfa_status = %q", tn.MFAStatus)
	}
}

func TestScopeAndAncestralAccess(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	id, secret := env.api.createClient(tr.partner.ID)
	asPartner := env.as(id, secret)
	for name, tc := range map[string]struct {
		path string
		want errCode
	}{
		"Own":         {"/tenants/" + tr.partner.ID, errCode{Status: 200}},
		"Below":       {"/tenants/" + tr.unit.ID, errCode{Status: 200}},
		"Parent":      {"/tenants/" + tr.provider.ID, errCode{403, codeAccessDenied}},
		"Sibling":     {"/tenants/" + tr.folder.ID, errCode{403, codeAccessDenied}},
		"SiblingList": {"/tenants?parent_id=" + tr.folder.ID, errCode{403, codeAccessDenied}},
		"Search":      {"/search?tenant=" + tr.folder.ID + "&text=x", errCode{403, codeAccessDenied}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, asPartner.do(http.MethodGet, tc.path, nil).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	// ancestral_access=false hides the unit from everyone above its direct parent.
	if r := asPartner.updateTenant(tr.unit.ID, map[string]any{"ancestral_access": false}); r.status != 200 {
		t.Fatalf("ancestral_access: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(errCode{403, codeAccessDenied}, asPartner.do(http.MethodGet, "/tenants/"+tr.unit.ID, nil).code(t)); diff != "" {
		t.Errorf("an indirect ancestor loses access\n-want +got:\n%s", diff)
	}
	custID, custSecret := env.api.createClient(tr.customer.ID)
	if diff := cmp.Diff(errCode{Status: 200}, env.as(custID, custSecret).do(http.MethodGet, "/tenants/"+tr.unit.ID, nil).code(t)); diff != "" {
		t.Errorf("the direct parent keeps access\n-want +got:\n%s", diff)
	}
}

func TestUpdateLock(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	owner := "00000000-0000-4000-8000-0000000000aa"
	if r := env.api.updateTenant(tr.customer.ID, map[string]any{"update_lock": map[string]any{"enabled": true, "owner_id": owner}}); r.status != 200 {
		t.Fatalf("lock: %d %s", r.status, r.body)
	}
	if diff := cmp.Diff(errCode{400, codeTenantLocked}, env.api.updateTenant(tr.customer.ID, map[string]any{"name": "x"}).code(t)); diff != "" {
		t.Errorf("a locked tenant refuses updates (1012)\n-want +got:\n%s", diff)
	}
	if r := env.api.updateTenant(tr.customer.ID, map[string]any{"update_lock": map[string]any{"enabled": false}, "name": "Unlocked"}); r.status != 200 {
		t.Errorf("an update that lifts the lock goes through: %d %s", r.status, r.body)
	}
}

func TestDefaultIDP(t *testing.T) {
	env := startEmulator(t, Options{})
	tr := buildTree(t, env)
	idp := "c4878582-6e14-451e-9bda-3ff899b3f700"
	cur := env.api.getTenant(tr.partner.ID)
	for name, tc := range map[string]struct {
		body any
		want errCode
	}{
		"Stale":   {map[string]any{"version": cur.Version - 1, "idp_id": idp, "apply_to_children": false}, errCode{409, codeVersionMismatch}},
		"NoIDP":   {map[string]any{"version": cur.Version}, errCode{400, 400}},
		"NoVers":  {map[string]any{"idp_id": idp}, errCode{400, 400}},
		"Unknown": {map[string]any{"version": cur.Version, "idp_id": idp, "x": 1}, errCode{400, 400}},
	} {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, env.api.do(http.MethodPut, "/tenants/"+tr.partner.ID+"/default_idp", tc.body).code(t)); diff != "" {
				t.Errorf("-want +got:\n%s", diff)
			}
		})
	}
	// The reference's example body.
	r := env.api.do(http.MethodPut, "/tenants/"+tr.partner.ID+"/default_idp", fmt.Sprintf(`{"version": %d, "idp_id": %q, "apply_to_children": true}`, cur.Version, idp))
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, id := range []string{tr.partner.ID, tr.customer.ID, tr.unit.ID} {
		if got, _ := env.srv.Tenant(id); got.DefaultIDPID != idp {
			t.Errorf("tenant %s default_idp_id = %s", id, got.DefaultIDPID)
		}
	}
	if got, _ := env.srv.Tenant(tr.folder.ID); got.DefaultIDPID != defaultIDPID {
		t.Error("a tenant outside the subtree changed")
	}
}
