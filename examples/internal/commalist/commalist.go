// Package commalist reads the examples' comma-separated flag values, such
// as -members and -accounts.
package commalist

import "strings"

// Split returns the comma-separated items of s, trimmed of spaces, leaving
// out empty ones: "a, b,,c" gives a, b and c; "" gives none.
func Split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
