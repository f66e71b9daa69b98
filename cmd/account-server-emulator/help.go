package main

import (
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/tenant-operator/tenant-operator/internal/emulator"
)

// faultHelp says, by JSON name, what each field of emulator.Faults does: the flag that sets it
// at start (none: only through PUT /_emulator/faults), the values it takes and its effect.
// help lists the fields of emulator.Faults in their order; a field without an entry here fails
// TestHelp.
var faultHelp = map[string]struct{ flag, values, effect string }{
	"latency": {"--latency", "a Go duration >= 0, e.g. 50ms",
		"waited before every /api/2 request is answered"},
	"jitter": {"--jitter", "a Go duration >= 0",
		"a random extra wait between 0 and this, on top of latency"},
	"errorRate": {"--fail-rate", "0 to 1",
		`the share of /api/2 requests answered 500 "internal error (injected)" before the handler runs, so nothing changes`},
	"errorStatus": {"", "500 or 503; 0 = 500",
		"the status errorRate answers with: 503 makes an outage, as a server that is down answers through its load balancer"},
	"errorMethods": {"", "a list of GET, POST, PUT, DELETE, PATCH; empty = every method",
		"the methods errorRate applies to, e.g. [\"DELETE\"] fails only deletions"},
	"throttleRate": {"--throttle-rate", "0 to 1",
		"the share of /api/2 requests answered 429 with Retry-After: retryAfterSeconds"},
	"retryAfterSeconds": {"--retry-after", "whole seconds >= 0 (at least 1 is sent)",
		"the Retry-After of the 429s of throttleRate"},
	"rateLimit": {"--rate-limit", "requests per second >= 0; 0 = no limit",
		"a token bucket per API client (burst: the rate, rounded up); a request beyond it gets 429 with Retry-After the seconds to wait"},
	"dropAfterCommitRate": {"--drop-after-commit-rate", "0 to 1",
		"the share of successful writes whose answer is never sent: the store has changed, then the connection is closed, as when a proxy dies mid-answer (token requests are never dropped)"},
	"dropAfterCommitMethods": {"", "a list of POST, PUT, DELETE, PATCH; empty = POST, PUT, DELETE",
		"the write methods dropAfterCommitRate applies to"},
	"reportsNotReady": {"--reports-not-ready", "true or false",
		`POST /api/2/reports answers 400 "usage history is not ready", as the server does in its nightly usage window`},
}

// adminHelp describes the control endpoints under /_emulator/ (internal/emulator/admin.go);
// TestHelp checks it against the routes the emulator serves.
var adminHelp = []struct{ method, path, what string }{
	{"GET", "/_emulator/faults", "the fault settings as JSON, with the fields above"},
	{"PUT", "/_emulator/faults", "replaces all fault settings with the JSON body and answers the new ones; a field left out goes back to zero, an unknown field or a value out of range is refused (400)"},
	{"GET", "/_emulator/requests", `every /api/2 request so far (the last 100000), oldest first: {"requests":[{"time","client","method","path","query","status","dropped","tenants"}]}`},
	{"DELETE", "/_emulator/requests", "empties the request log; the store is left alone"},
	{"GET", "/_emulator/state", "the whole store as JSON, without passwords, the bootstrap client's secret or registration token values"},
	{"PUT", "/_emulator/usages", `sets a tenant's usage of one usage name: {"tenant_id":"<uuid>","usage_name":"workstations","value":3} -> 204; a usage counted per storage (e.g. storage) needs "infra_id" too`},
	{"POST", "/_emulator/registrations", `stands in for a machine registering its backup agent with a registration token (not part of the account server's API): {"token":"ABCD-EFGH-JK12"} -> 200 {"time","token_id","tenant_id","accepted":true} for a live token; 403 for a revoked, expired or unknown one`},
	{"GET", "/_emulator/registrations", `every registration attempt so far, oldest first, without token values: {"registrations":[{"time","token_id","tenant_id","accepted","refusal"}]}`},
	{"GET", "/_emulator/bootstrap", "the bootstrap API client's id, its tenant's id and name and the root tenant's id (not the secret)"},
}

// help writes the --help text: what the emulator is, its flags, its faults, its control
// endpoints and an example.
func help(w io.Writer, fs *flag.FlagSet) {
	p := func(format string, a ...any) { _, _ = fmt.Fprintf(w, format, a...) }
	p(`account-server-emulator: an in-memory account server that speaks the same API as the
vendor's Account Management API v2 (under /api/2), as strictly as its official schema, for
tests, benchmarks and the demo. It is not for production: it keeps everything in memory
(and in the --state file, if given), starts with one bootstrap API client and can be told to
misbehave.

Usage:
  account-server-emulator [flags]

At start it prints its url, the bootstrap client's client_id and client_secret, the tenant
that client acts in (tenant_id) and the root tenant (root_tenant_id); it serves until
interrupted (SIGINT, SIGTERM), then saves --state if given.

Flags:
`)
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if kind != "" {
			name += " " + kind
		}
		def := ""
		if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" && f.DefValue != "0s" {
			def = fmt.Sprintf(" (default %s)", f.DefValue)
		}
		p("  %-32s %s%s\n", name, usage, def)
	})
	p(`
Faults: they make /api/2 misbehave as a loaded server does; /_emulator/ is never faulted.
In a request's life: latency and jitter, then authentication, rateLimit, throttleRate,
errorRate, the schema check and the handler, then dropAfterCommitRate. Set them at start
with the flags, or at any time with PUT /_emulator/faults (JSON name below):
`)
	ft := reflect.TypeFor[emulator.Faults]()
	for i := range ft.NumField() {
		name, _, _ := strings.Cut(ft.Field(i).Tag.Get("json"), ",")
		h := faultHelp[name]
		set := h.flag
		if set == "" {
			set = "(PUT only)"
		}
		p("  %-24s %-26s %s\n  %-24s %-26s %s\n", name, set, h.values, "", "", h.effect)
	}
	p(`
Control endpoints (no token needed; not faulted, not in the request log):
`)
	for _, e := range adminHelp {
		p("  %-6s %-22s %s\n", e.method, e.path, e.what)
	}
	p(`
Example:
  account-server-emulator --addr 127.0.0.1:8080 --latency 50ms --jitter 20ms --rate-limit 10 --fail-rate 0.05
  curl -s -X PUT http://127.0.0.1:8080/_emulator/faults -H 'Content-Type: application/json' \
       -d '{"throttleRate":0.1,"retryAfterSeconds":2,"dropAfterCommitRate":0.05}'
  curl -s http://127.0.0.1:8080/_emulator/requests
  curl -s -u "$CLIENT_ID:$CLIENT_SECRET" -d grant_type=client_credentials http://127.0.0.1:8080/api/2/idp/token
`)
}
