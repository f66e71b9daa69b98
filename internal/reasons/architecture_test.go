package reasons

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestArchitecturePathsExist fails when docs/architecture.md names a file
// or folder of the repository that does not exist: its checklist for
// adding a kind must point at real files (the hypothetical kind's own new
// files, "widget", aside).
func TestArchitecturePathsExist(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	path := regexp.MustCompile("`((?:api|internal|cmd|config|docs|hack|charts|test)/[A-Za-z0-9_./-]*|README\\.md)`")
	checked := 0
	for _, m := range path.FindAllStringSubmatch(string(doc), -1) {
		p := strings.TrimSuffix(m[1], "/")
		if strings.Contains(p, "widget") {
			continue
		}
		checked++
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("docs/architecture.md names %s, which does not exist", p)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d paths found in docs/architecture.md; is the pattern still right?", checked)
	}
}
