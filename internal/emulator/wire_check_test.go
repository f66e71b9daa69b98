package emulator

import (
	"sync"
	"testing"
)

// checkResponses is the emulator tests' response check: every answer any test provokes must match
// the official schema of its operation (or one of the emulator's marked assumptions); the test
// fails at its end otherwise.
func checkResponses(t testing.TB) func(ResponseReport) {
	var mu sync.Mutex
	var violations []error
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, v := range violations {
			t.Errorf("answer does not match the official wire schema: %v", v)
		}
	})
	return func(r ResponseReport) {
		if r.Violation == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		violations = append(violations, r.Violation)
	}
}
