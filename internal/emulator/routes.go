package emulator

import "net/http"

// apiHandler is the shape of an /api/2 handler: it writes its answer itself but returns a failure
// instead of writing it, so a handler stops at the first refusal with `return e` and every error
// body is rendered in one place. The error is written after the handler has returned, and so
// after it released s.mu: an error's Context must not share memory with the store.
type apiHandler func(w http.ResponseWriter, r *http.Request) *apiError

func (h apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := h(w, r); e != nil {
		writeAPIError(w, e)
	}
}

// reply answers with v as JSON. It returns nil so that a handler can end with `return reply(...)`.
func reply(w http.ResponseWriter, code int, v any) *apiError {
	writeJSON(w, code, v)
	return nil
}

// replyStatus answers with a status and no body.
func replyStatus(w http.ResponseWriter, code int) *apiError {
	w.WriteHeader(code)
	return nil
}

// route is one endpoint of the emulated API.
type route struct {
	pattern string // a ServeMux pattern, "METHOD /api/2/path/{var}"
	public  bool   // served without a bearer token
	oauth   bool   // refused requests answer in the OAuth error shape, not the vendor's
	handler http.Handler
}

// routeTable lists every endpoint the emulator serves. New registers them in this order and
// panics on a pattern the official document does not have (mustHaveSchema).
func (s *Server) routeTable() []route {
	api := func(pattern string, h apiHandler) route {
		return route{pattern: pattern, handler: h}
	}
	// The OAuth endpoints authenticate the client from the request itself and answer in the
	// RFC 6749 error shape, not in the vendor's error body, so they are plain handlers.
	public := func(pattern string, h http.HandlerFunc) route {
		return route{pattern: pattern, public: true, oauth: true, handler: h}
	}
	// The one-time token's login endpoints take the token instead of a bearer token, and answer in
	// the vendor's error body (ott.go).
	publicAPI := func(pattern string, h apiHandler) route {
		return route{pattern: pattern, public: true, handler: h}
	}
	return []route{
		// Auth.
		public("POST /api/2/idp/token", s.issueToken),
		public("POST /api/2/idp/revoke_token", s.revokeToken),

		// One-time login tokens.
		api("POST /api/2/idp/ott", s.createOTT),
		publicAPI("POST /api/2/idp/ott/login", s.ottLogin),
		publicAPI("GET /api/2/idp/external-login", s.externalLogin),

		// Tenants.
		api("POST /api/2/tenants", s.createTenant),
		api("GET /api/2/tenants", s.listTenants),
		api("GET /api/2/tenants/{id}", s.getTenant),
		api("PUT /api/2/tenants/{id}", s.updateTenant),
		api("DELETE /api/2/tenants/{id}", s.deleteTenant),
		api("POST /api/2/tenants/{id}/restore", s.restoreTenant),
		api("GET /api/2/tenants/{id}/children", s.tenantChildren),
		api("GET /api/2/tenants/{id}/users", s.tenantUsers),
		api("GET /api/2/tenants/{id}/pricing", s.getPricing),
		api("PUT /api/2/tenants/{id}/pricing", s.updatePricing),
		api("GET /api/2/tenants/{id}/mfa/status", s.getTenantMFA),
		api("PUT /api/2/tenants/{id}/mfa/status", s.updateTenantMFA),
		api("PUT /api/2/tenants/{id}/default_idp", s.updateDefaultIDP),

		// Users.
		api("POST /api/2/users", s.createUser),
		api("GET /api/2/users", s.listUsers),
		api("GET /api/2/users/check_login", s.checkLogin),
		api("GET /api/2/users/{id}", s.getUser),
		api("PUT /api/2/users/{id}", s.updateUser),
		api("DELETE /api/2/users/{id}", s.deleteUser),
		api("POST /api/2/users/{id}/restore", s.restoreUser),
		api("GET /api/2/users/{id}/access_policies", s.getAccessPolicies),
		api("PUT /api/2/users/{id}/access_policies", s.putAccessPolicies),
		api("POST /api/2/users/{id}/password", s.setPassword),
		api("POST /api/2/users/{id}/send-activation-email", s.sendActivationEmail),
		api("PUT /api/2/users/{id}/mfa/status", s.updateUserMFA),

		// Offering items, editions and item prices.
		api("GET /api/2/tenants/{tenant_id}/offering_items", s.getOfferingItems),
		api("PUT /api/2/tenants/{tenant_id}/offering_items", s.putOfferingItems),
		api("GET /api/2/tenants/{tenant_id}/offering_items/available_for_child", s.availableForChild),
		api("GET /api/2/tenants/offering_items", s.batchOfferingItems),
		api("GET /api/2/tenants/{tenant_id}/edition", s.checkEdition),
		api("PUT /api/2/tenants/{tenant_id}/edition", s.switchEdition),
		api("GET /api/2/tenants/{tenant_id}/offering_items/pricing", s.getItemPrices),
		api("PUT /api/2/tenants/{tenant_id}/offering_items/pricing", s.putItemPrices),

		// Applications: the catalog, bindings to tenants and per-tenant settings.
		api("GET /api/2/applications", s.listApplications),
		api("GET /api/2/applications/{application_id}", s.getApplication),
		api("POST /api/2/applications/{application_id}/bindings/tenants/{tenant_id}", s.bindApplication),
		api("DELETE /api/2/applications/{application_id}/bindings/tenants/{tenant_id}", s.unbindApplication),
		api("GET /api/2/tenants/{tenant_id}/applications", s.listTenantApplications),
		api("GET /api/2/tenants/applications", s.listTenantsApplications),
		api("GET /api/2/applications/{application_id}/settings/tenants/{tenant_id}/{setting_name}", s.getAppSetting),
		api("PUT /api/2/applications/{application_id}/settings/tenants/{tenant_id}/{setting_name}", s.putAppSetting),
		api("DELETE /api/2/applications/{application_id}/settings/tenants/{tenant_id}/{setting_name}", s.deleteAppSetting),

		// Usages.
		api("GET /api/2/tenants/{tenant_id}/usages", s.getUsages),
		api("GET /api/2/tenants/usages", s.batchUsages),
		api("PUT /api/2/tenants/usages", s.reportUsages),

		// Usage reports.
		api("POST /api/2/reports", s.createReport),
		api("GET /api/2/reports/{report_id}", s.getReport),
		api("PUT /api/2/reports/{report_id}", s.updateReport),
		api("DELETE /api/2/reports/{report_id}", s.deleteReport),
		api("GET /api/2/reports/{report_id}/stored", s.listStoredReports),
		api("GET /api/2/reports/{report_id}/stored/{stored_report_id}", s.downloadStoredReport),
		api("GET /api/2/tenants/{tenant_id}/reports", s.tenantReports),

		// API clients.
		api("POST /api/2/clients", s.createClient),
		api("GET /api/2/clients", s.listClients),
		api("GET /api/2/clients/{id}", s.getClient),
		api("PUT /api/2/clients/{id}", s.updateClient),
		api("DELETE /api/2/clients/{id}", s.deleteClient),

		// Registration tokens.
		api("POST /api/2/tenants/{tenant_id}/registration_tokens", s.createTenantRegToken),
		api("GET /api/2/tenants/{tenant_id}/registration_tokens", s.listTenantRegTokens),
		api("POST /api/2/registration_tokens", s.createRegToken),
		api("GET /api/2/registration_tokens", s.listRegTokens),
		api("DELETE /api/2/registration_tokens/{token_id}", s.deleteRegToken),

		// Locations.
		api("POST /api/2/locations", s.createLocation),
		api("GET /api/2/locations", s.listLocations),
		api("GET /api/2/locations/{location_id}", s.getLocation),
		api("PUT /api/2/locations/{location_id}", s.updateLocation),
		api("DELETE /api/2/locations/{location_id}", s.deleteLocation),
		api("GET /api/2/locations/{location_id}/infra", s.locationInfras),
		api("GET /api/2/tenants/{tenant_id}/locations", s.tenantLocations),

		// Infrastructure (storages).
		api("POST /api/2/infra", s.createInfra),
		api("GET /api/2/infra", s.listInfras),
		api("GET /api/2/infra/{infra_id}", s.getInfra),
		api("PUT /api/2/infra/{infra_id}", s.updateInfra),
		api("DELETE /api/2/infra/{infra_id}", s.deleteInfra),

		// Branding.
		api("GET /api/2/tenants/{tenant_id}/brand", s.getBrand),
		api("POST /api/2/tenants/{tenant_id}/brand", s.enableBrand),
		api("PUT /api/2/tenants/{tenant_id}/brand", s.updateBrand),
		api("DELETE /api/2/tenants/{tenant_id}/brand", s.disableBrand),
		api("POST /api/2/tenants/{tenant_id}/brand/logo", s.uploadBrandLogo),

		// Search.
		api("GET /api/2/search", s.search),
	}
}
