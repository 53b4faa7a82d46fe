package share

import (
	"fmt"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/policy"
)

// String renders the plan for people, in the words of the console.
func (p *Plan) String() string {
	var b strings.Builder
	verb := "Share"
	if p.Operation == OpRevoke {
		verb = "Revoke"
	}
	fmt.Fprintf(&b, "%s key %s\n", verb, p.Key.ARN)
	if p.Key.State != "" {
		fmt.Fprintf(&b, "  key: %s, %s, %s", p.Key.State, orDash(p.Key.Spec), orDash(p.Key.Usage))
		if p.Key.InstanceID != "" {
			fmt.Fprintf(&b, ", in KMS instance %s", p.Key.InstanceID)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "Key policy (account %s):\n", p.Key.Owner)
	switch {
	case p.KeyPolicy.Current == nil:
		b.WriteString("  cannot be read\n")
	case !p.KeyPolicy.NeedsWrite():
		b.WriteString("  no change\n")
	default:
		for _, line := range groupChanges(p.KeyPolicy.Changes) {
			fmt.Fprintf(&b, "  %s\n", line)
		}
		if len(p.KeyPolicy.Changes) == 0 {
			b.WriteString("  statements reorganised, no grant changes\n")
		}
	}
	if q := p.Quota; q != nil {
		fmt.Fprintf(&b, "  access management quota of %s: %d of %d used, %d new account(s)", p.Key.InstanceID, q.Used, q.Limit, len(q.NewAccounts))
		if len(q.AlreadyCounted) > 0 {
			fmt.Fprintf(&b, ", %d of them already counted through other keys of the instance", len(q.AlreadyCounted))
		}
		b.WriteString("\n")
	}
	b.WriteString(p.Network.text())
	for _, r := range p.Recipients {
		fmt.Fprintf(&b, "Recipient %s (%s):\n", r.Principal, r.Recipient.kind())
		switch {
		case len(r.Problems) > 0:
			for _, pr := range r.Problems {
				fmt.Fprintf(&b, "  PROBLEM %s\n", pr)
			}
		case len(r.Steps) == 0 && p.Operation == OpShare:
			b.WriteString("  no change: its own RAM policies already allow the actions on the key\n")
		case len(r.Steps) == 0:
			b.WriteString("  no change in the recipient account\n")
		}
		for _, s := range r.Steps {
			fmt.Fprintf(&b, "  %s\n", s)
		}
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		for _, k := range r.Kept {
			fmt.Fprintf(&b, "  KEPT: %s: not kmsshare's statement, so the revoke leaves it; remove it by hand\n", k)
		}
	}
	for _, f := range p.Findings {
		fmt.Fprintf(&b, "Finding: %s\n", f)
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "PROBLEM %s\n", pr)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "WARNING %s\n", w)
	}
	if err := p.Err(); err != nil {
		b.WriteString("This plan cannot be applied until the problems above are fixed.\n")
	} else if !p.Changes() {
		b.WriteString("Nothing to do.\n")
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// String renders the result for people.
func (r *Result) String() string {
	var b strings.Builder
	for _, rr := range r.Recipients {
		state := "granted in the key policy"
		if r.Operation == OpRevoke {
			state = "removed from the key policy"
		}
		if !rr.Done {
			state = "NOT " + state
		}
		fmt.Fprintf(&b, "%s: %s\n", rr.Principal, state)
		for _, s := range rr.Steps {
			line := fmt.Sprintf("  %s: %s", s.Status, s.Step)
			if s.Error != "" {
				line += ": " + s.Error
			}
			b.WriteString(line + "\n")
		}
	}
	kp := r.KeyPolicy
	fmt.Fprintf(&b, "Key policy: %s (%d write(s))", kp.Status, kp.Writes)
	if kp.Error != "" {
		b.WriteString(": " + kp.Error)
	}
	b.WriteString("\n")
	if n := r.Network; n != nil {
		fmt.Fprintf(&b, "VPC bindings: %s (%d write(s))", n.Status, n.Writes)
		if len(n.Bound) > 0 {
			b.WriteString(", bound " + strings.Join(n.Bound, ", "))
		}
		if n.Error != "" {
			b.WriteString(": " + n.Error)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// String renders the report for people.
func (r *VerifyReport) String() string {
	var b strings.Builder
	for _, v := range r.Results {
		fmt.Fprintf(&b, "%s: %s after %d attempt(s), %s", v.Principal, v.Outcome, v.Attempts, v.Elapsed.Round(time.Second))
		if len(v.Checked) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(v.Checked, ", "))
		}
		if v.Detail != "" {
			b.WriteString(": " + v.Detail)
		}
		b.WriteString("\n")
		if len(v.Static) > 0 {
			fmt.Fprintf(&b, "  checked against the policies only, not proof of propagation: %s\n", strings.Join(v.Static, ", "))
		}
	}
	return b.String()
}

// String renders the inventory for people.
func (inv *Inventory) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Key %s (%s)\n", inv.Key.ARN, inv.Key.State)
	for _, a := range inv.Accounts {
		label := "account " + a.Account
		if a.Owner {
			label += " (owner)"
		}
		b.WriteString(label + ":\n")
		for _, p := range a.Principals {
			fmt.Fprintf(&b, "  %s: %s", p.Principal, strings.Join(p.Actions, ", "))
			if len(p.AllActionsExcept) > 0 {
				fmt.Fprintf(&b, "; EVERY action except %s", strings.Join(p.AllActionsExcept, ", "))
			}
			for _, c := range p.Conditional {
				fmt.Fprintf(&b, "; conditionally: %s", c)
			}
			fmt.Fprintf(&b, "; RAM side: %s", p.RAM)
			if len(p.RAMDenied) > 0 && p.RAM != "denied" {
				fmt.Fprintf(&b, " (not %s)", strings.Join(p.RAMDenied, ", "))
			}
			if p.RAMDetail != "" && p.RAM != "not-needed" {
				b.WriteString(" — " + p.RAMDetail)
			}
			b.WriteString("\n")
		}
	}
	for _, g := range inv.Denies {
		fmt.Fprintf(&b, "Deny: %s\n", g)
	}
	if d := inv.Drift; d != nil {
		if d.Empty() {
			b.WriteString("Drift: none; the key policy matches the spec\n")
		}
		for _, line := range groupGrants(d.Missing) {
			fmt.Fprintf(&b, "Drift: missing %s\n", line)
		}
		for _, line := range groupGrants(d.Extra) {
			fmt.Fprintf(&b, "Drift: extra %s\n", line)
		}
	}
	for _, f := range inv.Findings {
		fmt.Fprintf(&b, "Finding: %s\n", f)
	}
	return b.String()
}

// groupChanges renders changes one line per principal and kind of change,
// with the actions listed, instead of one line per action.
func groupChanges(changes []policy.Change) []string {
	var added, removed []policy.Grant
	for _, c := range changes {
		if c.Op == policy.Added {
			added = append(added, c.Grant)
		} else {
			removed = append(removed, c.Grant)
		}
	}
	var out []string
	for _, l := range groupGrants(removed) {
		out = append(out, "- "+l)
	}
	for _, l := range groupGrants(added) {
		out = append(out, "+ "+l)
	}
	return out
}

// groupGrants renders grants that differ only in their action on one line.
func groupGrants(gs []policy.Grant) []string {
	type group struct {
		g       policy.Grant
		actions []string
	}
	var order []string
	groups := map[string]*group{}
	for _, g := range gs {
		action := g.Action
		g.Action, g.Sid = "", ""
		k := g.String()
		if groups[k] == nil {
			groups[k] = &group{g: g}
			order = append(order, k)
		}
		groups[k].actions = append(groups[k].actions, action)
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		gr := groups[k]
		gr.g.Action = strings.Join(gr.actions, ", ")
		out = append(out, gr.g.String())
	}
	return out
}
