package wire

// corrections replace, for one operation, the schema of a path parameter where the official
// document contradicts itself. Each is NOT IN THE OFFICIAL SCHEMA: the request would be refused
// by the document as written, and no client could send a valid one. docs/wire.md lists them.
//
//   - DELETE /registration_tokens/{token_id}: the document declares token_id a UUID, but every
//     registration token it answers with (GET and POST of /registration_tokens and
//     /tenants/{tenant_id}/registration_tokens, a closed schema) has an integer id and nothing
//     else that could name it. The only id a client ever learns is that integer, so the path
//     takes its decimal form.
var corrections = map[string]map[string]map[string]any{
	"DELETE /registration_tokens/{token_id}": {
		"token_id": {"type": "string", "pattern": "^[0-9]{1,19}$", "required": true},
	},
}

// corrected returns the path parameters of an operation with its corrections applied.
func corrected(method, path string, params map[string]map[string]any) map[string]map[string]any {
	fix, ok := corrections[method+" "+path]
	if !ok {
		return params
	}
	out := make(map[string]map[string]any, len(params))
	for name, p := range params {
		out[name] = p
		if c, ok := fix[name]; ok {
			out[name] = c
		}
	}
	return out
}

// Corrected lists the operations whose path parameters differ from the official document
// because it contradicts itself, as "METHOD /path".
func Corrected() []string {
	out := make([]string, 0, len(corrections))
	for op := range corrections {
		out = append(out, op)
	}
	return out
}
