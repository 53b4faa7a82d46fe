package arn

import (
	"strings"
)

// ARN is an Alibaba Cloud Resource Name: acs:<service>:<region>:<account>:<resource>.
// The partition is always "acs". ARN is a comparable value; use Equal to
// compare ARNs the way RAM does (role and user names case-insensitively).
type ARN struct {
	Service   string // "ram", "kms", "sts", ...
	Region    string // "cn-hangzhou"; empty for global services (ram, sts)
	AccountID string // the owning account's UID, all digits
	Resource  string // "role/app", "key/key-abc", "key", "root", "*", ...
}

const prefix = "acs:"

// ResourceDirectoryAccessRoleName is the role that Resource Directory creates
// in every member account, trusted by the management account.
const ResourceDirectoryAccessRoleName = "ResourceDirectoryAccountAccessRole"

// Parse parses a concrete ARN and validates every field strictly: account IDs
// are digits (masked IDs such as "119285303511****" and placeholders such as
// "<UID>" are rejected with a message saying so), region IDs look like
// "cn-hangzhou" and are empty for global services, and RAM and KMS resources
// follow their documented shapes. Wildcards are rejected; use ParsePattern for
// policy resources such as "acs:kms:*:*:key/*".
//
// The resource keeps any further colons and the spelling it was given, so a
// display name like "role/ECSAdmin" survives Parse(s).String().
func Parse(s string) (ARN, error) {
	return parse(s, false)
}

// ParsePattern is like Parse but allows the RAM wildcards "*" and "?" in the
// region, account and resource, as policy Resource elements use them. Masked
// IDs and placeholders are still rejected.
func ParsePattern(s string) (ARN, error) {
	return parse(s, true)
}

// MustParse is Parse for literals in code and tests; it panics on error.
func MustParse(s string) ARN {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// IsARN reports whether Parse(s) would succeed.
func IsARN(s string) bool {
	_, err := parse(s, false)
	return err == nil
}

func parse(s string, pattern bool) (ARN, error) {
	if !strings.HasPrefix(s, prefix) {
		reason := `an ARN starts with "acs:"`
		if strings.HasPrefix(s, "arn:") {
			reason = `this looks like an AWS ARN; Alibaba Cloud ARNs start with "acs:"`
		}
		return ARN{}, newError(s, "prefix", "", reason)
	}
	// One pass finds the three colons after the prefix (the resource keeps
	// any further colons) and notes any byte that needs the slow checks.
	var cut [3]int
	n := 0
	var special byte
	for i := len(prefix); i < len(s); i++ {
		c := s[i]
		special |= specialByte[c]
		if c == ':' && n < 3 {
			cut[n] = i
			n++
		}
	}
	if n < 3 {
		return ARN{}, newError(s, "format", "", "want acs:<service>:<region>:<account>:<resource>")
	}
	a := ARN{
		Service:   s[len(prefix):cut[0]],
		Region:    s[cut[0]+1 : cut[1]],
		AccountID: s[cut[1]+1 : cut[2]],
		Resource:  s[cut[2]+1:],
	}
	if special == 0 {
		if err := a.checkPlain(s); err != nil {
			return ARN{}, err
		}
		return a, nil
	}
	if err := a.checkSpecial(s, pattern); err != nil {
		return ARN{}, err
	}
	return a, nil
}

// Validate checks a constructed ARN with the rules of Parse.
func (a ARN) Validate() error {
	if err := a.check(a.String(), false); err != nil {
		return err
	}
	return nil
}

// String formats the ARN as acs:<service>:<region>:<account>:<resource>.
func (a ARN) String() string {
	return prefix + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// ResourceType returns the part of the resource before the first "/":
// "role" for "role/app", "key" for "key/key-abc" and for the key collection
// "key", "root" for "root".
func (a ARN) ResourceType() string {
	if i := strings.IndexByte(a.Resource, '/'); i >= 0 {
		return a.Resource[:i]
	}
	return a.Resource
}

// ResourceName returns the part of the resource after the first "/", or ""
// when there is none: "app" for "role/app", "key-abc" for "key/key-abc",
// "app/session" for "assumed-role/app/session".
func (a ARN) ResourceName() string {
	if i := strings.IndexByte(a.Resource, '/'); i >= 0 {
		return a.Resource[i+1:]
	}
	return ""
}

// IsRole reports whether a names a RAM role (not an assumed-role session).
func (a ARN) IsRole() bool {
	return a.Service == "ram" && a.ResourceType() == "role" && !strings.Contains(a.ResourceName(), "/")
}

// IsUser reports whether a names a RAM user.
func (a ARN) IsUser() bool {
	return a.Service == "ram" && a.ResourceType() == "user"
}

// IsPattern reports whether any field contains a "*" or "?" wildcard.
func (a ARN) IsPattern() bool {
	return strings.ContainsAny(a.Region, "*?") || strings.ContainsAny(a.AccountID, "*?") ||
		strings.ContainsAny(a.Resource, "*?") || strings.ContainsAny(a.Service, "*?")
}

// AssumedRole reports whether a is the identity of an STS role session and,
// if so, returns the role it came from and the session name. All forms seen
// in the wild are accepted: acs:ram::<uid>:role/<role>/<session> (AssumeRole
// responses) and acs:ram|sts::<uid>:assumed-role/<role>/<session>.
func (a ARN) AssumedRole() (role ARN, session string, ok bool) {
	if a.Service != "ram" && a.Service != "sts" {
		return ARN{}, "", false
	}
	typ, name := a.ResourceType(), a.ResourceName()
	if typ != "assumed-role" && (typ != "role" || a.Service != "ram") {
		return ARN{}, "", false
	}
	i := strings.IndexByte(name, '/')
	if i <= 0 || i == len(name)-1 {
		return ARN{}, "", false
	}
	return RAMRole(a.AccountID, name[:i]), name[i+1:], true
}

// Equal reports whether a and b name the same thing. RAM role and user names
// are compared case-insensitively, as RAM treats them; everything else must
// match exactly.
func (a ARN) Equal(b ARN) bool {
	if a.Service != b.Service || a.Region != b.Region || a.AccountID != b.AccountID {
		return false
	}
	if a.Service == "ram" || a.Service == "sts" {
		switch a.ResourceType() {
		case "role", "user", "assumed-role":
			return strings.EqualFold(a.Resource, b.Resource)
		}
	}
	return a.Resource == b.Resource
}

// Canonical returns a with a RAM role name in lower case, the form RAM itself
// prints in ARNs. Other ARNs are returned unchanged.
func (a ARN) Canonical() ARN {
	if a.Service == "ram" && a.ResourceType() == "role" {
		a.Resource = strings.ToLower(a.Resource)
	}
	return a
}

// RAMRole returns acs:ram::<account>:role/<name> with the role name in lower
// case, as RAM prints it. Keep the display name yourself where you need it
// (for example for CreateRole).
func RAMRole(account, name string) ARN {
	return ARN{Service: "ram", AccountID: account, Resource: "role/" + strings.ToLower(name)}
}

// RoleSession returns acs:ram::<account>:assumed-role/<role>/<session>, the
// identity of an STS session of a role as policies see it. The role name is
// lowercased as in RAMRole; the session name is kept as given. (Alibaba
// documents this form for GetCallerIdentity; AssumedRole reads it back.)
func RoleSession(account, role, session string) ARN {
	return ARN{Service: "ram", AccountID: account, Resource: "assumed-role/" + strings.ToLower(role) + "/" + session}
}

// RAMUser returns acs:ram::<account>:user/<name>.
func RAMUser(account, name string) ARN {
	return ARN{Service: "ram", AccountID: account, Resource: "user/" + name}
}

// AccountRoot returns acs:ram::<account>:root, the account itself.
func AccountRoot(account string) ARN {
	return ARN{Service: "ram", AccountID: account, Resource: "root"}
}

// AccountAll returns acs:ram::<account>:*, every identity of the account, the
// principal of the default key policy.
func AccountAll(account string) ARN {
	return ARN{Service: "ram", AccountID: account, Resource: "*"}
}

// KMSKey returns acs:kms:<region>:<account>:key/<keyID>, the form other
// accounts must use to name a shared key.
func KMSKey(region, account, keyID string) ARN {
	return ARN{Service: "kms", Region: region, AccountID: account, Resource: "key/" + keyID}
}

// KMSKeyCollection returns acs:kms:<region>:<account>:key, the resource that
// kms:List* actions are granted on.
func KMSKeyCollection(region, account string) ARN {
	return ARN{Service: "kms", Region: region, AccountID: account, Resource: "key"}
}

// ResourceDirectoryAccessRole returns the ARN of the access role that
// Resource Directory creates in a member account:
// acs:ram::<member>:role/resourcedirectoryaccountaccessrole.
func ResourceDirectoryAccessRole(member string) ARN {
	return RAMRole(member, ResourceDirectoryAccessRoleName)
}
