// Package reasons holds only a test: every condition reason a controller
// can set is documented in docs/troubleshooting.md.
package reasons
