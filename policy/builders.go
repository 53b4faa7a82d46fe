package policy

import (
	"slices"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

// KeyPermission returns a RAM permission policy allowing actions on the given
// keys only (least privilege), plus "kms:List*" on each key's collection ARN
// (acs:kms:<region>:<owner>:key), which the console needs to show the keys.
// actions nil means KeyUserActions. Keys must be concrete key ARNs; another
// account's keys are named by ARN, as cross-account callers must.
func KeyPermission(actions []string, keys ...arn.ARN) (*Document, error) {
	if len(keys) == 0 {
		return nil, &GrantError{Reason: "no keys given"}
	}
	if actions == nil {
		actions = KeyUserActions()
	}
	if len(actions) == 0 {
		return nil, &GrantError{Reason: "no actions to grant"}
	}
	for _, a := range actions {
		if !hasPrefixFold(a, "kms:") {
			return nil, &GrantError{Action: a, Reason: "not a kms: action"}
		}
	}
	var keyARNs, collections []string
	for _, k := range keys {
		if err := k.Validate(); err != nil {
			return nil, &GrantError{Principal: k.String(), Reason: "invalid key ARN", Err: err}
		}
		if k.Service != "kms" || k.ResourceType() != "key" || k.ResourceName() == "" {
			return nil, &GrantError{Principal: k.String(), Reason: "want a key ARN acs:kms:<region>:<account>:key/<key-id>"}
		}
		keyARNs = appendUnique(keyARNs, k.String())
		collections = appendUnique(collections, arn.KMSKeyCollection(k.Region, k.AccountID).String())
	}
	return &Document{Version: Version, Statement: []Statement{
		{Effect: Allow, Action: List("kms:List*"), Resource: List(collections...)},
		{Effect: Allow, Action: List(slices.Clone(actions)...), Resource: List(keyARNs...)},
	}}, nil
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// AssumeRolePermission returns a RAM permission policy allowing
// sts:AssumeRole on the given roles, in the resource form RAM documents
// (acs:ram:*:<account>:role/<name>).
func AssumeRolePermission(roles ...arn.ARN) (*Document, error) {
	if len(roles) == 0 {
		return nil, &GrantError{Reason: "no roles given"}
	}
	var res []string
	for _, r := range roles {
		if err := r.Validate(); err != nil || !r.IsRole() {
			return nil, &GrantError{Principal: r.String(), Reason: "want a role ARN acs:ram::<uid>:role/<name>", Err: err}
		}
		p := r.Canonical()
		p.Region = "*"
		res = appendUnique(res, p.String())
	}
	return &Document{Version: Version, Statement: []Statement{
		{Effect: Allow, Action: List("sts:AssumeRole"), Resource: List(res...)},
	}}, nil
}

// TrustRAM returns a trust policy admitting RAM principals: accounts
// (arn.AccountRoot: any identity of the account that is allowed
// sts:AssumeRole by its own account), roles or users.
func TrustRAM(principals ...arn.ARN) (*Document, error) {
	if len(principals) == 0 {
		return nil, &GrantError{Reason: "no principals given"}
	}
	var ps []string
	for _, p := range principals {
		if err := p.Validate(); err != nil {
			return nil, &GrantError{Principal: p.String(), Reason: "invalid ARN", Err: err}
		}
		if p.Service != "ram" || !(p.Resource == "root" || p.IsRole() || p.IsUser()) {
			return nil, &GrantError{Principal: p.String(), Reason: "want an account (acs:ram::<uid>:root), a role or a user"}
		}
		ps = appendUnique(ps, p.Canonical().String())
	}
	return trust(Principal{RAM: List(ps...)}, nil), nil
}

// TrustService returns a trust policy admitting services:
// "ecs.aliyuncs.com" (the service acting for the role's own account) or
// "<uid>@ecs.aliyuncs.com" (acting for another account, as sharing across
// accounts needs: a plain service name there makes ECS fail with
// AssumeRoleError).
func TrustService(services ...arn.ServicePrincipal) (*Document, error) {
	if len(services) == 0 {
		return nil, &GrantError{Reason: "no services given"}
	}
	var ps []string
	for _, s := range services {
		if err := s.Validate(); err != nil {
			return nil, &GrantError{Principal: s.String(), Reason: "invalid service principal", Err: err}
		}
		if s.AccountID == arn.AnyAccount {
			return nil, &GrantError{Principal: s.String(), Reason: "a service acting for any account needs a Resource Directory condition; use TrustServiceInResourceDirectory or TrustServiceInFolder"}
		}
		ps = appendUnique(ps, s.String())
	}
	return trust(Principal{Service: List(ps...)}, nil), nil
}

// TrustServiceInResourceDirectory returns a trust policy admitting service
// (e.g. "ecs.aliyuncs.com") acting for any account of the resource directory
// rdID: Service "*@<service>" with StringEquals sts:ServiceOwnerRDId.
// The condition key and the "*@" principal come from Alibaba's published
// template and are unverified against a console-generated policy
// (ram-sts.md §11.3).
func TrustServiceInResourceDirectory(service, rdID string) (*Document, error) {
	sp, err := anyAccountService(service)
	if err != nil {
		return nil, err
	}
	if err := ValidateResourceDirectoryID(rdID); err != nil {
		return nil, err
	}
	return trust(Principal{Service: Scalar(sp)}, Condition{
		"StringEquals": {"sts:ServiceOwnerRDId": Scalar(rdID)},
	}), nil
}

// TrustServiceInFolder returns a trust policy admitting service acting for
// any account in the resource directory folder at path
// ("rd-xxx/r-xxx/fd-xxx", as ResourceDirectoryPath reports it) and in the
// folders below it: StringLike sts:ServiceOwnerRDPath "<path>*". Like
// Alibaba's template, the pattern is the folder path followed directly by
// "*"; folder IDs are random and fixed-length, so it does not match a sibling
// folder in practice. Unverified like TrustServiceInResourceDirectory.
func TrustServiceInFolder(service, path string) (*Document, error) {
	sp, err := anyAccountService(service)
	if err != nil {
		return nil, err
	}
	if err := ValidateResourceDirectoryPath(path); err != nil {
		return nil, err
	}
	return trust(Principal{Service: Scalar(sp)}, Condition{
		"StringLike": {"sts:ServiceOwnerRDPath": Scalar(strings.TrimSuffix(path, "/") + "*")},
	}), nil
}

func anyAccountService(service string) (string, error) {
	sp, err := arn.ParseServicePrincipal(service)
	if err != nil {
		return "", &GrantError{Principal: service, Reason: "invalid service", Err: err}
	}
	if sp.AccountID != "" {
		return "", &GrantError{Principal: service, Reason: `want the bare service host, e.g. "ecs.aliyuncs.com"`}
	}
	sp.AccountID = arn.AnyAccount
	return sp.String(), nil
}

func trust(p Principal, c Condition) *Document {
	return &Document{Version: Version, Statement: []Statement{{
		Effect:    Allow,
		Principal: &p,
		Action:    Scalar("sts:AssumeRole"),
		Condition: c,
	}}}
}

// WithExternalID returns a copy of the trust policy d in which every Allow
// statement also requires StringEquals sts:ExternalId = id, the guard against
// the confused-deputy problem. id has 2 to 1224 characters of letters,
// digits and =,.@:/-_ (ram-sts.md §4.2).
func WithExternalID(d *Document, id string) (*Document, error) {
	if err := ValidateExternalID(id); err != nil {
		return nil, err
	}
	out := d.Clone()
	for i := range out.Statement {
		s := &out.Statement[i]
		if s.Effect != Allow {
			continue
		}
		if s.Condition == nil {
			s.Condition = Condition{}
		}
		if s.Condition["StringEquals"] == nil {
			s.Condition["StringEquals"] = map[string]Strings{}
		}
		s.Condition["StringEquals"]["sts:ExternalId"] = Scalar(id)
	}
	return out, nil
}

// ValidateExternalID checks an STS ExternalId: 2 to 1224 characters of
// letters, digits and =,.@:/-_ .
func ValidateExternalID(id string) error {
	if len(id) < 2 || len(id) > 1224 {
		return &GrantError{Reason: "an ExternalId has 2 to 1224 characters"}
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isWordByte(c) && strings.IndexByte("=,.@:/-+", c) < 0 {
			return &GrantError{Reason: "an ExternalId uses letters, digits and =,.@:/-_ only"}
		}
	}
	return nil
}

// ValidateResourceDirectoryID checks a resource directory ID: "rd-" and
// letters and digits.
func ValidateResourceDirectoryID(id string) error {
	if err := checkRDSegment(id, "rd-"); err != nil {
		return &GrantError{Reason: "invalid resource directory ID", Err: err}
	}
	return nil
}

// ValidateResourceDirectoryPath checks a folder path as Resource Directory
// reports it: "<rd-id>/<root-folder-id>" followed by any number of
// "/<folder-id>" ("rd-xxx/r-xxx/fd-xxx/...").
func ValidateResourceDirectoryPath(path string) error {
	parts := strings.Split(strings.TrimSuffix(path, "/"), "/")
	bad := func(err error) error {
		return &GrantError{Reason: `invalid resource directory folder path "` + path + `" (want "rd-xxx/r-xxx/fd-xxx/...")`, Err: err}
	}
	if len(parts) < 2 {
		return bad(&segmentError{msg: "too short"})
	}
	if err := checkRDSegment(parts[0], "rd-"); err != nil {
		return bad(err)
	}
	if err := checkRDSegment(parts[1], "r-"); err != nil {
		return bad(err)
	}
	for _, p := range parts[2:] {
		if err := checkRDSegment(p, "fd-"); err != nil {
			return bad(err)
		}
	}
	return nil
}

// segmentError is a malformed Resource Directory ID. Like *arn.Error, it
// matches arn.ErrMasked or arn.ErrPlaceholder when the ID was copied from
// documentation unfilled.
type segmentError struct {
	msg  string
	kind error
}

func (e *segmentError) Error() string { return e.msg }
func (e *segmentError) Unwrap() error { return e.kind }

func checkRDSegment(s, prefix string) error {
	switch kind := arn.Pasted(s); kind {
	case arn.ErrMasked:
		return &segmentError{`"` + s + `" is masked; documentation masks IDs with "****"`, kind}
	case arn.ErrPlaceholder:
		return &segmentError{`"` + s + `" is an unfilled placeholder`, kind}
	}
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" {
		return &segmentError{msg: `"` + s + `" does not start with "` + prefix + `"`}
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !isWordByte(c) || c == '_' {
			return &segmentError{msg: `"` + s + `" has characters other than letters and digits after "` + prefix + `"`}
		}
	}
	return nil
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
