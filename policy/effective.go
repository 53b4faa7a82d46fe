package policy

import (
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// EffectiveKeyPolicy returns what KMS honours of the key policy d of a key
// owned by account owner (corrections.md §3): SetKeyPolicy accepts more
// than takes effect.
//
//   - An Allow grants only actions of the documented administrator and user
//     lists (KeyAdministratorActions, KeyUserActions) and "kms:*"; any other
//     action (a typo, "kms:ReEncrypt*", "kms:Gen*") grants nothing.
//   - Principals of other accounts are only ever key users, and only as RAM
//     users and roles: they get the 11 KeyUserActions that the statement's
//     actions cover, "kms:*" included, and nothing else; a foreign
//     acs:ram::<uid>:* or :root grants nothing (whether SetKeyPolicy refuses
//     it is unverified; the emulator accepts it).
//   - "*" as a RAM principal counts as the owner account only.
//
// Deny statements, Condition, Resource and NotAction are kept as written.
// Each Allow statement becomes at most two: one for the owner's principals
// and one for other accounts' users and roles. Evaluate the result like any
// other document; policy.Evaluate of d itself answers what a document says,
// not what KMS does with it.
func EffectiveKeyPolicy(d *Document, owner string) *Document {
	if d == nil {
		return nil
	}
	out := &Document{Version: d.Version}
	for _, s := range d.Statement {
		if s.Effect != Allow || s.Principal == nil {
			out.Statement = append(out.Statement, s)
			continue
		}
		var own, foreign []string
		for _, p := range s.Principal.RAM.Values {
			switch account, kind := principalAccount(p); {
			case p == "*" || account == owner:
				if p == "*" {
					p = arn.AccountAll(owner).String()
				}
				own = append(own, p)
			case account != "" && (kind == "role" || kind == "user"):
				foreign = append(foreign, p)
			}
		}
		base := Statement{Sid: s.Sid, Effect: Allow, Resource: s.Resource, NotResource: s.NotResource, Condition: s.Condition}
		if len(own) > 0 && (s.NotAction.IsSet() || len(honoured(s.Action.Values)) > 0) {
			st := base
			st.Principal = &Principal{RAM: List(own...), Service: s.Principal.Service}
			if s.NotAction.IsSet() {
				st.NotAction = s.NotAction
			} else {
				st.Action = List(honoured(s.Action.Values)...)
			}
			out.Statement = append(out.Statement, st)
		}
		if acts := userActionsCovered(s); len(foreign) > 0 && len(acts) > 0 {
			st := base
			st.Principal = &Principal{RAM: List(foreign...)}
			st.Action = List(acts...)
			out.Statement = append(out.Statement, st)
		}
	}
	return out
}

// principalAccount splits a RAM principal ARN into its account and the
// type of its resource ("*", "root", "role", "user", ...); "" if it is not
// one.
func principalAccount(p string) (account, kind string) {
	a, err := arn.ParsePattern(p)
	if err != nil || a.Service != "ram" || strings.ContainsAny(a.AccountID, "*?") {
		return "", ""
	}
	return a.AccountID, a.ResourceType()
}

// honoured keeps the actions KMS takes into account in a key policy.
func honoured(actions []string) []string {
	var out []string
	for _, a := range actions {
		if IsKeyPolicyAction(a) || a == "*" {
			out = append(out, a)
		}
	}
	return out
}

// userActionsCovered lists the key user actions a statement's honoured
// actions (or its NotAction) cover.
func userActionsCovered(s Statement) []string {
	var out []string
	for _, ua := range KeyUserActions() {
		switch {
		case s.NotAction.IsSet():
			if !anyMatch(s.NotAction.Values, ua, arn.MatchAction) {
				out = append(out, ua)
			}
		case anyMatch(honoured(s.Action.Values), ua, arn.MatchAction):
			out = append(out, ua)
		}
	}
	return out
}
