package harness

import "strings"

// PeekProfile finds -profile (or --profile, with = or a space) among a
// program's arguments before its other flags are defined, since the
// profile sets their defaults; "full" when there is none.
func PeekProfile(args []string) string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "profile" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return "full"
}
