// Package reasons holds only tests that check the docs against the code:
// every condition reason a controller can set is documented in
// docs/troubleshooting.md, the paths docs/architecture.md names exist, and
// every field path README.md and docs/*.md name exists in the CRD schemas.
package reasons
