package policy

import (
	"crypto/sha256"
	"encoding/hex"

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

// editOwned returns a copy of d in which the owned statement sid grants
// actions to its current principals plus add minus remove. The statement is
// created at the end if needed, dropped when it has no principals left, and
// left exactly as it was when its principal set does not change.
func editOwned(d *Document, sid string, actions, add, remove []string) *Document {
	out := d.Clone()
	idx := slices.IndexFunc(out.Statement, func(s Statement) bool { return s.Sid == sid })
	var current []string
	if idx >= 0 && out.Statement[idx].Principal != nil {
		current = out.Statement[idx].Principal.RAM.Values
	}
	set := principalSet(current)
	for _, p := range add {
		set[canonicalResource(p)] = true
	}
	for _, p := range remove {
		delete(set, canonicalResource(p))
	}
	next := make([]string, 0, len(set))
	for p := range set {
		next = append(next, p)
	}
	slices.Sort(next)
	if idx >= 0 && slices.Equal(next, sortedCanonical(current)) {
		return out // no change: keep the statement byte for byte
	}
	switch {
	case len(next) == 0 && idx >= 0:
		out.Statement = slices.Delete(out.Statement, idx, idx+1)
	case len(next) == 0:
	default:
		if actions == nil && idx >= 0 {
			actions = out.Statement[idx].Action.Values
		}
		s := Statement{
			Sid:       sid,
			Effect:    Allow,
			Principal: &Principal{RAM: List(next...)},
			Action:    List(slices.Clone(actions)...),
			Resource:  List("*"),
		}
		if idx >= 0 {
			out.Statement[idx] = s
		} else {
			out.Statement = append(out.Statement, s)
		}
	}
	if out.Version == "" {
		out.Version = Version
	}
	return out
}

func principalSet(values []string) map[string]bool {
	set := make(map[string]bool, len(values))
	for _, v := range values {
		set[canonicalResource(v)] = true
	}
	return set
}

func sortedCanonical(values []string) []string {
	out := make([]string, 0, len(values))
	for v := range principalSet(values) {
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
