package policy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"maps"

	"fmt"
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// Sids of the key policy statements this library owns. The key policy edits
// change only statements whose Sid starts with OwnedSidPrefix; every other
// statement is left exactly as it was.
const (
	OwnedSidPrefix        = "kmsshare/"
	SidKeyAdministrators  = "kmsshare/administrators"
	SidKeyUsers           = "kmsshare/users"
	SidCrossAccountUsers  = "kmsshare/cross-account-users"
	sidCrossAccountPrefix = SidCrossAccountUsers + "/"
)

// GrantError reports builder input that would make a wrong or unsafe policy:
// an administrator action for another account, a principal of the wrong
// account, an invalid ARN. It matches ErrInvalid, and arn.ErrInvalid when
// the ARN itself is malformed.
type GrantError struct {
	Principal string // the principal concerned, if any
	Action    string // the action concerned, if any
	Reason    string
	Err       error // the underlying error, e.g. an *arn.Error
}

func (e *GrantError) Error() string {
	msg := "policy: "
	if e.Principal != "" {
		msg += "principal " + e.Principal + ": "
	}
	if e.Action != "" {
		msg += "action " + e.Action + ": "
	}
	msg += e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrInvalid.
func (e *GrantError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the underlying error.
func (e *GrantError) Unwrap() error { return e.Err }

// DefaultKeyPolicy returns the policy KMS gives a key when none is chosen:
// every identity of the owner account may do everything with the key.
//
//	{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::<owner>:*"]},"Resource":["*"],"Sid":"kms default key policy"}],"Version":"1"}
func DefaultKeyPolicy(owner string) (*Document, error) {
	if err := arn.ValidateAccountID(owner); err != nil {
		return nil, &GrantError{Reason: "invalid owner account", Err: err}
	}
	return &Document{Version: Version, Statement: []Statement{ownerStatement(owner)}}, nil
}

func ownerStatement(owner string) Statement {
	return Statement{
		Sid:       DefaultKeyPolicySid,
		Effect:    Allow,
		Principal: &Principal{RAM: List(arn.AccountAll(owner).String())},
		Action:    List("kms:*"),
		Resource:  List("*"),
	}
}

// AddKeyAdministrators grants the administrator actions (management only) to
// RAM users or roles of the owner account, in the statement
// SidKeyAdministrators. It returns a new document; d is not modified.
func AddKeyAdministrators(d *Document, owner string, principals ...arn.ARN) (*Document, error) {
	ps, err := sameAccountPrincipals(owner, principals)
	if err != nil {
		return nil, err
	}
	return editOwned(d, SidKeyAdministrators, KeyAdministratorActions(), ps, nil), nil
}

// RemoveKeyAdministrators removes principals from SidKeyAdministrators.
func RemoveKeyAdministrators(d *Document, owner string, principals ...arn.ARN) (*Document, error) {
	ps, err := sameAccountPrincipals(owner, principals)
	if err != nil {
		return nil, err
	}
	return editOwned(d, SidKeyAdministrators, KeyAdministratorActions(), nil, ps), nil
}

// AddKeyUsers grants the user actions (cryptographic operations) to RAM
// users or roles of the owner account, in the statement SidKeyUsers.
func AddKeyUsers(d *Document, owner string, principals ...arn.ARN) (*Document, error) {
	ps, err := sameAccountPrincipals(owner, principals)
	if err != nil {
		return nil, err
	}
	return editOwned(d, SidKeyUsers, KeyUserActions(), ps, nil), nil
}

// RemoveKeyUsers removes principals from SidKeyUsers.
func RemoveKeyUsers(d *Document, owner string, principals ...arn.ARN) (*Document, error) {
	ps, err := sameAccountPrincipals(owner, principals)
	if err != nil {
		return nil, err
	}
	return editOwned(d, SidKeyUsers, KeyUserActions(), nil, ps), nil
}

// SetCrossAccountUsers makes the key policy grant exactly actions to each of
// principals, RAM users or roles of other accounts. actions must be a subset
// of CrossAccountUserActions; nil means all of them. Principals with the same
// action set share one statement: SidCrossAccountUsers for the full set,
// SidCrossAccountUsers+"/<actions>" for a narrower one. A principal already
// granted a different set through these statements is moved. The edit is
// idempotent and leaves statements the library does not own untouched.
func SetCrossAccountUsers(d *Document, owner string, actions []string, principals ...arn.ARN) (*Document, error) {
	ps, err := crossAccountPrincipals(owner, principals)
	if err != nil {
		return nil, err
	}
	acts, err := CrossAccountActionSet(actions)
	if err != nil {
		return nil, err
	}
	sid := CrossAccountSid(acts)
	out := d
	for _, s := range d.Statement {
		if s.Sid != sid && isCrossAccountSid(s.Sid) {
			out = editOwned(out, s.Sid, nil, nil, ps)
		}
	}
	return editOwned(out, sid, acts, ps, nil), nil
}

// RemoveCrossAccountUsers removes principals from every cross-account
// statement the library owns. Grants in other statements are not touched.
func RemoveCrossAccountUsers(d *Document, owner string, principals ...arn.ARN) (*Document, error) {
	ps, err := crossAccountPrincipals(owner, principals)
	if err != nil {
		return nil, err
	}
	out := d
	for _, s := range d.Statement {
		if isCrossAccountSid(s.Sid) {
			out = editOwned(out, s.Sid, nil, nil, ps)
		}
	}
	return out, nil
}

// CrossAccountActionSet validates a set of actions for another account and
// returns it in documented order without duplicates; nil means all
// CrossAccountUserActions. Administrator actions, "kms:*" and anything not
// on the user list are refused: other accounts can never administer a key.
func CrossAccountActionSet(actions []string) ([]string, error) {
	all := CrossAccountUserActions()
	if actions == nil {
		return all, nil
	}
	if len(actions) == 0 {
		return nil, &GrantError{Reason: "no actions to grant"}
	}
	var out []string
	for _, a := range actions {
		if !IsCrossAccountAction(a) {
			reason := "not a key user action; other accounts may be granted only " + strings.Join(all, ", ")
			if isAdministrative(a) {
				reason = "administrator actions are never granted to other accounts"
			}
			return nil, &GrantError{Action: a, Reason: reason}
		}
	}
	for _, a := range all {
		if containsFold(actions, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// isAdministrative reports whether an action is, or covers, key
// administration: one of the administrator patterns matches it ("kms:Set*"
// matches "kms:SetKeyPolicy"), or it is itself a wildcard.
func isAdministrative(action string) bool {
	if strings.ContainsAny(action, "*?") {
		return true
	}
	for _, p := range KeyAdministratorActions() {
		if arn.MatchAction(p, action) {
			return true
		}
	}
	return false
}

// CrossAccountSid returns the Sid of the library-owned statement holding the
// cross-account principals granted exactly actions (as returned by
// CrossAccountActionSet).
func CrossAccountSid(actions []string) string {
	if len(actions) == len(CrossAccountUserActions()) {
		return SidCrossAccountUsers
	}
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = strings.TrimPrefix(a, "kms:")
	}
	sid := sidCrossAccountPrefix + strings.Join(names, "+")
	if len(sid) > MaxSidLen {
		sum := sha256.Sum256([]byte(strings.ToLower(strings.Join(actions, ","))))
		sid = sidCrossAccountPrefix + hex.EncodeToString(sum[:8])
	}
	return sid
}

func isCrossAccountSid(sid string) bool {
	return sid == SidCrossAccountUsers || strings.HasPrefix(sid, sidCrossAccountPrefix)
}

// editOwned returns a copy of d in which the owned statement sid grants its
// action set to its current principals plus add minus remove. actions nil
// means the set the Sid stands for (ownedActions). Statements that share the
// Sid are merged into the first; the statement is created at the end if
// needed, dropped when it has no principals left, and left exactly as it was
// when it already says what it should. Anything else in it (other actions, a
// Condition, other resources) is put back into the library's shape, so an
// owned statement can never grant more than its Sid says.
//
// One exception keeps a repair from widening a grant: in a cross-account
// statement narrowed by hand (it grants only some of its Sid's actions), the
// principals keep what they had, moved to the statement for that narrower
// set, unless this edit adds or removes them.
func editOwned(d *Document, sid string, actions, add, remove []string) *Document {
	out := d.Clone()
	var idx []int
	for i, s := range out.Statement {
		if s.Sid == sid {
			idx = append(idx, i)
		}
	}
	if actions == nil {
		var existing []string
		if len(idx) > 0 {
			existing = out.Statement[idx[0]].Action.Values
		}
		actions = ownedActions(sid, existing)
	}
	set := newPrincipalSet()
	narrowed := map[string][]string{} // narrower Sid: principals that move there
	narrowSets := map[string][]string{}
	for _, i := range idx {
		s := &out.Statement[i]
		if s.Principal == nil {
			continue
		}
		if !isCrossAccountSid(sid) {
			set.add(s.Principal.RAM.Values...)
			continue
		}
		var kept []string // the Sid's actions this statement still grants
		if s.Action.IsSet() {
			for _, a := range actions {
				if anyMatch(s.Action.Values, a, arn.MatchAction) {
					kept = append(kept, a)
				}
			}
		}
		switch {
		case len(kept) == len(actions):
			set.add(s.Principal.RAM.Values...)
		case len(kept) > 0:
			n := CrossAccountSid(kept)
			narrowed[n] = append(narrowed[n], s.Principal.RAM.Values...)
			narrowSets[n] = kept
		}
		// kept empty: none of the Sid's actions; nothing to keep.
	}
	set.add(add...)
	set.remove(remove...)
	principals := set.sorted()
	want := Statement{Sid: sid, Effect: Allow, Principal: &Principal{RAM: List(principals...)},
		Action: List(slices.Clone(actions)...), Resource: List("*")}
	if len(idx) == 1 && len(principals) > 0 && len(actions) > 0 &&
		bytes.Equal(out.Statement[idx[0]].appendCanonical(nil), want.appendCanonical(nil)) {
		return out // already right: keep the statement byte for byte
	}
	var stmts []Statement
	placed := false
	for i, s := range out.Statement {
		if !slices.Contains(idx, i) {
			stmts = append(stmts, s)
			continue
		}
		if !placed && len(principals) > 0 && len(actions) > 0 {
			stmts = append(stmts, want)
		}
		placed = true
	}
	if !placed && len(principals) > 0 && len(actions) > 0 {
		stmts = append(stmts, want)
	}
	out.Statement = stmts
	if out.Version == "" {
		out.Version = Version
	}
	for _, n := range slices.Sorted(maps.Keys(narrowed)) {
		move := newPrincipalSet()
		move.add(narrowed[n]...)
		move.remove(add...)
		move.remove(remove...)
		move.remove(principals...)
		if m := move.sorted(); len(m) > 0 {
			out = editOwned(out, n, narrowSets[n], m, nil)
		}
	}
	return out
}

// ownedActions is the action set an owned Sid stands for. A narrower
// cross-account Sid names its actions ("kmsshare/cross-account-users/
// Decrypt+GenerateDataKey"); for the rare digest-named one, the statement's
// own actions are kept as far as other accounts may have them.
func ownedActions(sid string, existing []string) []string {
	switch sid {
	case SidKeyAdministrators:
		return KeyAdministratorActions()
	case SidKeyUsers:
		return KeyUserActions()
	case SidCrossAccountUsers:
		return CrossAccountUserActions()
	}
	if names, ok := strings.CutPrefix(sid, sidCrossAccountPrefix); ok {
		var acts []string
		for _, n := range strings.Split(names, "+") {
			acts = append(acts, "kms:"+n)
		}
		if set, err := CrossAccountActionSet(acts); err == nil && CrossAccountSid(set) == sid {
			return set
		}
	}
	var safe []string
	for _, a := range existing {
		if IsCrossAccountAction(a) {
			safe = append(safe, a)
		}
	}
	if len(safe) == 0 {
		return nil
	}
	set, _ := CrossAccountActionSet(safe)
	return set
}

// principalSet is a set of principal ARNs in which role and user names
// compare case-insensitively, as RAM treats them; it keeps role ARNs in
// lower case and user ARNs as first written.
type principalSet map[string]string

func newPrincipalSet() principalSet { return principalSet{} }

// principalEntry parses p once and returns its key in the set (role and
// user names folded) and the form the set keeps (canonicalResource: role
// ARNs in lower case, anything else as written).
func principalEntry(p string) (key, value string) {
	a, err := arn.ParsePattern(p)
	if err != nil || a.Service != "ram" {
		return p, p
	}
	switch a.ResourceType() {
	case "role":
		c := a.Canonical().String()
		return c, c
	case "user":
		return strings.ToLower(p), p
	}
	return p, p
}

func (s principalSet) add(ps ...string) {
	for _, p := range ps {
		if k, v := principalEntry(p); s[k] == "" {
			s[k] = v
		}
	}
}

func (s principalSet) remove(ps ...string) {
	for _, p := range ps {
		k, _ := principalEntry(p)
		delete(s, k)
	}
}

func (s principalSet) sorted() []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// sameAccountPrincipals checks administrators and users: RAM users or roles
// of the owner account.
func sameAccountPrincipals(owner string, principals []arn.ARN) ([]string, error) {
	return checkPrincipals(owner, principals, true)
}

// crossAccountPrincipals checks cross-account users: RAM users or roles of
// any account but the owner's.
func crossAccountPrincipals(owner string, principals []arn.ARN) ([]string, error) {
	return checkPrincipals(owner, principals, false)
}

func checkPrincipals(owner string, principals []arn.ARN, sameAccount bool) ([]string, error) {
	if err := arn.ValidateAccountID(owner); err != nil {
		return nil, &GrantError{Reason: "invalid owner account", Err: err}
	}
	if len(principals) == 0 {
		return nil, &GrantError{Reason: "no principals given"}
	}
	out := make([]string, len(principals))
	for i, p := range principals {
		if err := p.Validate(); err != nil {
			return nil, &GrantError{Principal: p.String(), Reason: "invalid ARN", Err: err}
		}
		if !p.IsRole() && !p.IsUser() {
			return nil, &GrantError{Principal: p.String(), Reason: "want a RAM user (acs:ram::<uid>:user/<name>) or role (acs:ram::<uid>:role/<name>)"}
		}
		switch {
		case sameAccount && p.AccountID != owner:
			return nil, &GrantError{Principal: p.String(), Reason: fmt.Sprintf(
				"administrators and users must belong to the key's account %s; other accounts can only be cross-account users", owner)}
		case !sameAccount && p.AccountID == owner:
			return nil, &GrantError{Principal: p.String(), Reason: fmt.Sprintf(
				"belongs to the key's own account %s; grant it as a key user instead", owner)}
		}
		out[i] = p.Canonical().String()
	}
	return out, nil
}
