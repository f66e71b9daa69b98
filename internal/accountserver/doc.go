// Package accountserver is the typed client of the account server API (/api/2). Every controller
// of the operator talks to the server through it, so it carries the manners that keep the
// operator safe against a provider's real account:
//
//   - one request budget (golang.org/x/time/rate) per connection, shared by every caller;
//   - a 429 pauses the whole connection until Retry-After has passed;
//   - retries with exponential backoff and jitter for reads and version-guarded writes, never a
//     blind re-send of a POST that may have reached the server;
//   - one cached client-credentials token, refreshed before expiry by a single fetch, replaced
//     once on a 401;
//   - typed errors (IsNotFound, IsConflict, IsStaleVersion, IsForbidden, IsInvalid, IsUnauthorized,
//     IsUnavailable, RetryAfter) whose text never holds a credential, a token or a password.
//
// All waiting happens on an injectable clock (k8s.io/utils/clock), so tests run on fake time.
// The wire types live here; the CRD types in api/ never mention them.
package accountserver
