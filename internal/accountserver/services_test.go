package accountserver_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

func findItem(items []accountserver.OfferingItem, name string) *accountserver.OfferingItem {
	for i := range items {
		if items[i].Name == name {
			return &items[i]
		}
	}
	return nil
}

func TestOfferingItemsAndQuotas(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	cust := e.mustCreateTenant(t, e.boot.TenantID, "Acme", accountserver.KindCustomer)

	apps, err := e.client.ListApplications(ctx)
	if err != nil {
		t.Fatalf("ListApplications: %v", err)
	}
	if !slices.ContainsFunc(apps, func(a accountserver.Application) bool { return a.ID == emulator.CyberProtectionAppID }) {
		t.Fatalf("applications %+v lack Cyber Protection", apps)
	}
	if err := e.client.EnableApplication(ctx, emulator.CyberProtectionAppID, cust.ID); err != nil {
		t.Fatalf("EnableApplication: %v", err)
	}
	bound, err := e.client.TenantApplicationIDs(ctx, cust.ID)
	if err != nil || !slices.Contains(bound, emulator.CyberProtectionAppID) {
		t.Errorf("TenantApplicationIDs = %v, %v", bound, err)
	}

	avail, err := e.client.AvailableForChild(ctx, e.boot.TenantID, accountserver.KindCustomer, "")
	if err != nil {
		t.Fatalf("AvailableForChild: %v", err)
	}
	if findItem(avail, "vms") == nil {
		t.Errorf("vms not available for a child of Provider: %+v", avail)
	}

	items, err := e.client.GetOfferingItems(ctx, cust.ID, accountserver.OfferingItemQuery{})
	if err != nil {
		t.Fatalf("GetOfferingItems: %v", err)
	}
	vms := findItem(items, "vms")
	if vms == nil {
		t.Fatalf("no vms item in %+v", items)
	}
	ten, twenty := int64(10), int64(20)
	out, err := e.client.PutOfferingItems(ctx, cust.ID, []accountserver.OfferingItemChange{{
		ApplicationID: vms.ApplicationID, Name: "vms", Status: accountserver.ItemStatusOn,
		Quota: &accountserver.Quota{Value: &ten, Overage: &twenty, Version: vms.Quota.Version},
	}}, true)
	if err != nil {
		t.Fatalf("PutOfferingItems: %v", err)
	}
	after := findItem(out, "vms")
	if after == nil || after.Quota == nil || after.Quota.Value == nil || *after.Quota.Value != 10 || after.Status != accountserver.ItemStatusOn {
		t.Fatalf("vms after the change = %+v", after)
	}

	// The same change with the quota version read before it: 426, a stale version.
	e.tr.mu.Lock()
	n := len(e.tr.reqs)
	e.tr.mu.Unlock()
	_, err = e.client.PutOfferingItems(ctx, cust.ID, []accountserver.OfferingItemChange{{
		ApplicationID: vms.ApplicationID, Name: "vms", Status: accountserver.ItemStatusOn,
		Quota: &accountserver.Quota{Value: &twenty, Overage: &twenty, Version: vms.Quota.Version},
	}}, true)
	if diff := cmp.Diff(verdict{StaleVersion: true, Status: http.StatusUpgradeRequired, Code: "1001"}, judge(err)); diff != "" {
		t.Errorf("stale quota version (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(1, len(e.tr.sent())-n); diff != "" {
		t.Errorf("a stale version is for the caller to resolve, not retried (-want +got):\n%s", diff)
	}

	usages, err := e.client.GetUsages(ctx, cust.ID, "vms")
	if err != nil {
		t.Fatalf("GetUsages: %v", err)
	}
	for _, u := range usages {
		if u.UsageName != "vms" {
			t.Errorf("usage %q returned for a vms filter", u.UsageName)
		}
	}

	if err := e.client.CheckEdition(ctx, cust.ID, emulator.CyberProtectionAppID, emulator.EditionAdvanced); err != nil && !accountserver.IsInvalid(err) {
		t.Errorf("CheckEdition: %v", err)
	}
	if err := e.client.CheckEdition(ctx, cust.ID, emulator.CyberProtectionAppID, "no-such-edition"); err == nil {
		t.Errorf("CheckEdition of an unknown edition succeeded")
	}
}

func TestReports(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	enabled := true
	rep, err := e.client.CreateReport(ctx, accountserver.ReportSpec{
		ResultAction: "save",
		Parameters: accountserver.ReportParameters{TenantID: e.boot.TenantID, Level: "accounts", Kind: "usage_summary",
			Formats: []string{"csv", "json_v2_0"}, Period: &accountserver.ReportPeriod{Start: "2029-12-01", End: "2029-12-31"}},
		Schedule: accountserver.ReportSchedule{Type: "once", Enabled: &enabled},
	})
	if err != nil {
		t.Fatalf("CreateReport: %v", err)
	}
	got, err := e.client.GetReport(ctx, rep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rep, got); diff != "" {
		t.Errorf("GetReport (-want +got):\n%s", diff)
	}
	ids, err := e.client.TenantReportIDs(ctx, e.boot.TenantID)
	if err != nil || !slices.Contains(ids, rep.ID) {
		t.Errorf("TenantReportIDs = %v, %v", ids, err)
	}
	stored, err := e.client.ListStoredReports(ctx, rep.ID)
	if err != nil {
		t.Fatalf("ListStoredReports: %v", err)
	}
	if len(stored) != 2 {
		t.Fatalf("stored reports = %+v, want one per format", stored)
	}
	for _, s := range stored {
		if s.Status != accountserver.StoredReportSaved || s.CreatedAt.IsZero() {
			t.Errorf("stored report %+v not saved", s)
		}
		data, err := e.client.DownloadStoredReport(ctx, rep.ID, s.ID)
		if err != nil {
			t.Fatalf("DownloadStoredReport: %v", err)
		}
		if int64(len(data)) != s.Size || len(data) == 0 {
			t.Errorf("downloaded %d bytes of %s, stored size %d", len(data), s.ReportFormat, s.Size)
		}
	}
	// Only scheduled reports can be updated.
	monthly, err := e.client.CreateReport(ctx, accountserver.ReportSpec{
		ResultAction: "save",
		Parameters:   accountserver.ReportParameters{TenantID: e.boot.TenantID, Level: "accounts", Kind: "usage_summary", Formats: []string{"csv"}},
		Schedule:     accountserver.ReportSchedule{Type: "monthly", Enabled: &enabled},
	})
	if err != nil {
		t.Fatalf("CreateReport(monthly): %v", err)
	}
	params := &accountserver.ReportUpdateParameters{Level: "accounts", Kind: "usage_summary", HideZeroUsage: true}
	upd, err := e.client.UpdateReport(ctx, monthly.ID, accountserver.ReportUpdate{Parameters: params, Schedule: &accountserver.ReportUpdateSchedule{Enabled: true}})
	if err != nil || !upd.Parameters.HideZeroUsage || upd.Version == monthly.Version || !slices.Equal(upd.Parameters.Formats, []string{"csv"}) {
		t.Fatalf("UpdateReport = %+v, %v", upd, err)
	}
	if _, err := e.client.UpdateReport(ctx, rep.ID, accountserver.ReportUpdate{Parameters: params}); !accountserver.IsInvalid(err) {
		t.Errorf("updating a once report: IsInvalid(%v) = false", err)
	}
	if err := e.client.DeleteReport(ctx, rep.ID, rep.Version); err != nil {
		t.Fatalf("DeleteReport: %v", err)
	}
	if _, err := e.client.GetReport(ctx, rep.ID); !accountserver.IsNotFound(err) {
		t.Errorf("deleted report: IsNotFound(%v) = false", err)
	}
}

func TestLocationsAndInfra(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	loc, err := e.client.CreateLocation(ctx, e.boot.TenantID, "Boston")
	if err != nil {
		t.Fatalf("CreateLocation: %v", err)
	}
	ids, err := e.client.TenantLocationIDs(ctx, e.boot.TenantID)
	if err != nil || !slices.Contains(ids, loc.ID) {
		t.Errorf("TenantLocationIDs = %v, %v", ids, err)
	}
	in, err := e.client.CreateInfra(ctx, accountserver.InfraSpec{OwnerTenantID: e.boot.TenantID, LocationID: loc.ID, Name: "Storage 1",
		URL: "acronis+fes://storage1.example.com:44445", Capabilities: []string{"backup"}, BackendType: "azure"})
	if err != nil {
		t.Fatalf("CreateInfra: %v", err)
	}
	infraIDs, err := e.client.LocationInfraIDs(ctx, loc.ID)
	if err != nil || !slices.Contains(infraIDs, in.ID) {
		t.Errorf("LocationInfraIDs = %v, %v", infraIDs, err)
	}
	infras, err := e.client.GetInfras(ctx, []string{in.ID})
	if err != nil || len(infras) != 1 || infras[0].Name != "Storage 1" {
		t.Errorf("GetInfras = %+v, %v", infras, err)
	}
	in2, err := e.client.UpdateInfra(ctx, in.ID, accountserver.InfraSpec{Name: "Storage One", Version: in.Version})
	if err != nil || in2.Name != "Storage One" {
		t.Fatalf("UpdateInfra = %+v, %v", in2, err)
	}
	if err := e.client.DeleteInfra(ctx, in.ID, in2.Version, false); err != nil {
		t.Fatalf("DeleteInfra: %v", err)
	}
	loc2, err := e.client.UpdateLocation(ctx, loc.ID, "Boston 2", loc.Version)
	if err != nil || loc2.Name != "Boston 2" {
		t.Fatalf("UpdateLocation = %+v, %v", loc2, err)
	}
	if _, err := e.client.UpdateLocation(ctx, loc.ID, "Boston 3", loc.Version); !accountserver.IsStaleVersion(err) {
		t.Errorf("stale location update: IsStaleVersion(%v) = false", err)
	}
	locs, err := e.client.GetLocations(ctx, []string{loc.ID})
	if err != nil || len(locs) != 1 {
		t.Errorf("GetLocations = %+v, %v", locs, err)
	}
	if err := e.client.DeleteLocation(ctx, loc.ID, loc2.Version); err != nil {
		t.Fatalf("DeleteLocation: %v", err)
	}
	if _, err := e.client.GetLocation(ctx, loc.ID); !accountserver.IsNotFound(err) {
		t.Errorf("deleted location: IsNotFound(%v) = false", err)
	}
}

func TestBrand(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	partner := e.mustCreateTenant(t, e.boot.TenantID, "Reseller", accountserver.KindPartner)
	b, err := e.client.EnableBrand(ctx, partner.ID, partner.Version)
	if err != nil {
		t.Fatalf("EnableBrand: %v", err)
	}
	if b.ID != partner.ID || !b.BrandEnabled || b.Version == partner.Version {
		t.Errorf("EnableBrand answered %+v; want the tenant, branded, at a new version", b)
	}
	t2, err := e.client.UpdateBrand(ctx, partner.ID, b.Version, accountserver.Brand{CompanyName: "Reseller Inc", Color: "FFFFFF",
		SMTPPassword: accountserver.Secret(password)})
	if err != nil {
		t.Fatalf("UpdateBrand: %v", err)
	}
	if t2.ID != partner.ID || t2.Version == b.Version {
		t.Errorf("UpdateBrand answered %+v; want the tenant at a new version", t2)
	}
	got, err := e.client.GetBrand(ctx, partner.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.CompanyName != "Reseller Inc" || got.Color != "FFFFFF" {
		t.Errorf("brand = %+v", got)
	}
	if l := leaks(e.logs.String(), nil); len(l) > 0 {
		t.Errorf("the SMTP password leaked into the log")
	}
	if err := e.client.DisableBrand(ctx, partner.ID, t2.Version); err != nil {
		t.Fatalf("DisableBrand: %v", err)
	}
}

func TestUploadBrandLogo(t *testing.T) {
	e := newEnv(t)
	ctx := ctxFor(t)
	partner := e.mustCreateTenant(t, e.boot.TenantID, "Logo Reseller", accountserver.KindPartner)
	b, err := e.client.EnableBrand(ctx, partner.ID, partner.Version)
	if err != nil {
		t.Fatalf("EnableBrand: %v", err)
	}
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-a-tiny-logo")
	after, err := e.client.UploadBrandLogo(ctx, partner.ID, b.Version, png)
	if err != nil {
		t.Fatalf("UploadBrandLogo: %v", err)
	}
	if after.ID != partner.ID || after.Version == b.Version {
		t.Errorf("UploadBrandLogo answered %+v; want the tenant at a new version", after)
	}
	got, ok := e.srv.Brand(partner.ID)
	if !ok {
		t.Fatalf("no brand on the server")
	}
	if diff := cmp.Diff(png, got.Logo); diff != "" {
		t.Errorf("logo on the server (-want +got):\n%s", diff)
	}
	if got.Version == b.Version {
		t.Errorf("an upload must move the tenant's version")
	}
	brand, err := e.client.GetBrand(ctx, partner.ID, false)
	if err != nil || brand.Logotype == "" {
		t.Errorf("GetBrand after upload = %+v, %v; want a logotype", brand, err)
	}
	sent := e.emulatorRequests(http.MethodPost, "/api/2/tenants/"+partner.ID+"/brand/logo")
	if len(sent) != 1 {
		t.Errorf("logo uploads sent = %d, want 1", len(sent))
	}

	if _, err := e.client.UploadBrandLogo(ctx, partner.ID, b.Version, png); !accountserver.IsStaleVersion(err) {
		t.Errorf("upload with a stale version: IsStaleVersion(%v) = false", err)
	}
	if _, err := e.client.UploadBrandLogo(ctx, partner.ID, got.Version, []byte("GIF89a")); !accountserver.IsInvalid(err) {
		t.Errorf("upload of a GIF: IsInvalid(%v) = false", err)
	}
	if got, _ := e.srv.Brand(partner.ID); !bytes.Equal(got.Logo, png) {
		t.Errorf("a refused upload changed the logo")
	}
}
