package harness

import "testing"

func TestPeekProfile(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string
	}{
		"None":        {args: []string{"-manager", "bin/manager"}, want: "full"},
		"Equals":      {args: []string{"-profile=short"}, want: "short"},
		"Space":       {args: []string{"-v", "--profile", "short"}, want: "short"},
		"Last":        {args: []string{"-profile"}, want: "full"},
		"OtherPrefix": {args: []string{"-profiles=short"}, want: "full"},
		"NotAFlag":    {args: []string{"profile=short"}, want: "full"},
		"FirstOfTwo":  {args: []string{"-profile=short", "-profile=full"}, want: "short"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := PeekProfile(tc.args); got != tc.want {
				t.Errorf("PeekProfile(%q) = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
}
