package share

import (
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/policy"
)

// String renders the plan for people: the accounts with their folders,
// each key's change, each principal's steps, the quota per instance, and
// the problems.
func (p *OrgPlan) String() string {
	var b strings.Builder
	prune := "no"
	if p.Prune {
		prune = "yes"
	}
	dir := p.Directory
	if dir == "" {
		dir = "not read"
	}
	fmt.Fprintf(&b, "Manifest plan (resource directory %s, prune: %s)\n", dir, prune)
	fmt.Fprintf(&b, "Accounts (%d):\n", len(p.Accounts))
	for _, a := range p.Accounts {
		where := a.Folder
		if where == "" {
			where = a.FolderID
		}
		if where == "" {
			where = "(not in the directory)"
		}
		fmt.Fprintf(&b, "  %s %-12s %s  %d key(s)\n", a.Account, a.Name, where, len(a.Keys))
	}
	fmt.Fprintf(&b, "Keys (%d):\n", len(p.Keys))
	for _, k := range p.Keys {
		state := k.Key.State
		if k.Key.InstanceID != "" {
			state += ", instance " + k.Key.InstanceID
		}
		change := "no change"
		if k.KeyPolicy.NeedsWrite() {
			change = "one key-policy write: " + summarize(k.KeyPolicy.Changes)
		}
		fmt.Fprintf(&b, "  %s [%s] %d recipient(s): %s", k.Key.ARN, state, len(k.Recipients), change)
		if k.Bytes > 0 {
			fmt.Fprintf(&b, " (%d bytes)", k.Bytes)
		}
		b.WriteString("\n")
		for _, s := range k.Pruned {
			fmt.Fprintf(&b, "    prune %s\n", s)
		}
		for _, s := range k.Stale {
			fmt.Fprintf(&b, "    kept (no longer selected; apply with prune to remove) %s\n", s)
		}
		for _, f := range k.Findings {
			if f.Severity != policy.SeveritySuggestion {
				fmt.Fprintf(&b, "    lint: %s\n", f)
			}
		}
		for _, pr := range k.Problems {
			fmt.Fprintf(&b, "    PROBLEM %s\n", pr)
		}
	}
	changed := 0
	for _, pr := range p.Principals {
		if len(pr.Steps) > 0 || len(pr.Problems) > 0 {
			changed++
		}
	}
	fmt.Fprintf(&b, "Recipient side (%d principal(s), %d with changes):\n", len(p.Principals), changed)
	for _, pr := range p.Principals {
		if len(pr.Steps) == 0 && len(pr.Problems) == 0 {
			continue
		}
		what := fmt.Sprintf("%d key(s)", len(pr.Keys))
		if pr.Cleanup {
			what = "no longer granted"
		}
		fmt.Fprintf(&b, "  %s (%s):\n", pr.Principal, what)
		for _, st := range pr.Steps {
			fmt.Fprintf(&b, "    %s\n", st)
		}
		for _, pb := range pr.Problems {
			fmt.Fprintf(&b, "    PROBLEM %s\n", pb)
		}
	}
	for _, ip := range p.Instances {
		if ip.Limit == 0 && len(ip.New) == 0 {
			fmt.Fprintf(&b, "Instance %s: %d key(s), no new account\n", ip.ID, len(ip.Keys))
			continue
		}
		fmt.Fprintf(&b, "Instance %s: %d key(s), quota %d, used %d, %d new account(s), %d fit\n",
			ip.ID, len(ip.Keys), ip.Limit, ip.Used, len(ip.New)-len(ip.Counts), ip.Fits)
	}
	for _, pr := range p.Problems {
		fmt.Fprintf(&b, "PROBLEM %s\n", pr)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "WARNING %s\n", w)
	}
	return b.String()
}

// String renders the result for people.
func (r *OrgResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Key policies (%d key-policy write(s)):\n", r.Writes())
	for _, k := range r.Keys {
		fmt.Fprintf(&b, "  %s: %s", k.Key, k.KeyPolicy.Status)
		if k.KeyPolicy.Writes > 0 {
			fmt.Fprintf(&b, " (%d write(s))", k.KeyPolicy.Writes)
		}
		if len(k.Granted) > 0 || len(k.Removed) > 0 {
			fmt.Fprintf(&b, ", %d principal(s) granted, %d removed", len(k.Granted), len(k.Removed))
		}
		if k.KeyPolicy.Error != "" {
			fmt.Fprintf(&b, ": %s", k.KeyPolicy.Error)
		}
		b.WriteString("\n")
		for _, h := range k.HeldBack {
			fmt.Fprintf(&b, "    held back (its own side failed): %s\n", h)
		}
	}
	steps := 0
	for _, p := range r.Principals {
		steps += len(p.Steps)
	}
	fmt.Fprintf(&b, "Recipient side (%d step(s)):\n", steps)
	for _, p := range r.Principals {
		for _, s := range p.Steps {
			fmt.Fprintf(&b, "  %s: %s: %s", p.Principal, s.Step, s.Status)
			if s.Error != "" {
				fmt.Fprintf(&b, ": %s", s.Error)
			}
			b.WriteString("\n")
		}
		if p.Error != "" && len(p.Steps) == 0 {
			fmt.Fprintf(&b, "  %s: %s\n", p.Principal, p.Error)
		}
	}
	return b.String()
}

// String renders the onboarding for people.
func (r *OnboardResult) String() string {
	var b strings.Builder
	where := r.Account.Folder
	if where == "" {
		where = r.Account.FolderID
	}
	if where == "" {
		where = "not in the directory"
	}
	fmt.Fprintf(&b, "Account %s (%s) gets %d key(s)\n", r.Account.Account, where, len(r.Account.Keys))
	for _, k := range r.Account.Keys {
		fmt.Fprintf(&b, "  %s\n", k)
	}
	if r.Result != nil {
		b.WriteString(r.Result.String())
	}
	return b.String()
}

// String renders the inventory for people: a line per key, then the drift
// of the keys that drifted.
func (o *OrgInventory) String() string {
	var b strings.Builder
	drifted := 0
	for _, s := range o.Summary {
		if len(s.Missing) > 0 || len(s.Extra) > 0 {
			drifted++
		}
	}
	fmt.Fprintf(&b, "Organisation inventory: %d key(s), %d with drift\n", len(o.Summary), drifted)
	for _, s := range o.Summary {
		state := "matches the manifest"
		if len(s.Missing) > 0 || len(s.Extra) > 0 {
			state = fmt.Sprintf("DRIFT: %d principal(s) missing, %d extra", len(s.Missing), len(s.Extra))
		}
		fmt.Fprintf(&b, "  %s: %d account(s) with access; %s\n", s.Key, s.Accounts, state)
		for _, p := range s.Missing {
			fmt.Fprintf(&b, "    missing %s\n", p)
		}
		for _, p := range s.Extra {
			fmt.Fprintf(&b, "    extra %s\n", p)
		}
	}
	return b.String()
}
