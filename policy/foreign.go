package policy

import (
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// ForeignAccounts lists, sorted and without duplicates, the accounts other
// than owner that a key policy names as RAM principals of its Allow
// statements: the accounts that count against the KMS instance's access
// management quota (kms.md §9, workflows.md W2).
//
// An account counts whatever the principal's form: a foreign
// acs:ram::<uid>:* or :root counts too, although it grants nothing
// (EffectiveKeyPolicy drops it; corrections.md §3; whether SetKeyPolicy
// refuses it is unverified). A principal whose account is a wildcard names
// no account and does not count; neither does a Deny statement, which
// grants nothing, nor a service principal. Actions do not matter: a
// statement whose actions KMS ignores still names its accounts (unverified;
// the documentation counts accounts shared with, not grants).
func ForeignAccounts(d *Document, owner string) []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, s := range d.Statement {
		if s.Principal == nil || s.Effect != Allow {
			continue
		}
		for _, p := range s.Principal.RAM.Values {
			a, err := arn.ParsePattern(p)
			if err != nil || a.AccountID == "" || a.AccountID == owner || strings.ContainsAny(a.AccountID, "*?") {
				continue
			}
			out = append(out, a.AccountID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
