package policy

// Kind is the kind of a policy document. Each kind has its own rules.
type Kind int

const (
	// Permission is a RAM identity policy, attached to a user or role:
	// no Principal; Action and Resource; at most 6144 characters.
	Permission Kind = iota + 1
	// Trust is a RAM role's trust policy: who may assume the role.
	// Principal required; the action is sts:AssumeRole.
	Trust
	// KeyPolicy is a KMS key policy: Principal.RAM required; Resource only
	// "*" (this key); kms: actions only; at most 32768 bytes.
	KeyPolicy
)

func (k Kind) String() string {
	switch k {
	case Permission:
		return "permission policy"
	case Trust:
		return "trust policy"
	case KeyPolicy:
		return "key policy"
	}
	return "policy"
}

// Effect is Allow or Deny.
type Effect string

// The two effects a statement can have.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Version is the only policy language version RAM and KMS accept.
const Version = "1"

// Document is a policy document: a RAM permission policy, a trust policy or
// a KMS key policy.
type Document struct {
	Version   string
	Statement []Statement

	versionFirst bool // parsed with "Version" before "Statement"; Marshal keeps the order
}

// Statement is one statement of a document. Empty fields are absent from
// the JSON form.
type Statement struct {
	Sid         string
	Effect      Effect
	Principal   *Principal
	Action      Strings
	NotAction   Strings
	Resource    Strings
	NotResource Strings
	Condition   Condition

	// raw is the statement's compact JSON as parsed. Marshal writes it back
	// unchanged while the statement still says the same thing, so statements
	// this library does not own keep their exact form through an edit.
	raw []byte
	// canon is the canonical encoding (appendCanonical) of the statement as
	// parsed; the statement is unedited while it still encodes to canon.
	canon []byte
}

// Principal names who a resource-based policy (key or trust policy) applies
// to.
type Principal struct {
	RAM       Strings // acs:ram::<uid>:*, :root, :user/<name>, :role/<name>
	Service   Strings // ecs.aliyuncs.com, <uid>@ecs.aliyuncs.com, *@ecs.aliyuncs.com
	Federated Strings // acs:ram::<uid>:saml-provider/<name>, :oidc-provider/<name>
}

// Condition maps an operator ("StringEquals") to condition keys
// ("sts:ExternalId") and their values.
type Condition map[string]map[string]Strings

// Strings is a JSON element that is either one string or a list of strings.
// It remembers which form it was read in, so a parsed document marshals back
// in the same form; Equivalent ignores the form.
type Strings struct {
	Values []string
	Scalar bool // written as a bare string (when it holds exactly one value)
}

// List returns a Strings written as a JSON list.
func List(values ...string) Strings {
	if values == nil {
		values = []string{}
	}
	return Strings{Values: values}
}

// Scalar returns a Strings written as a bare JSON string.
func Scalar(value string) Strings {
	return Strings{Values: []string{value}, Scalar: true}
}

// IsSet reports whether the element is present (possibly as an empty list).
func (s Strings) IsSet() bool { return s.Values != nil }

// Contains reports whether v is one of the values, exactly.
func (s Strings) Contains(v string) bool {
	for _, x := range s.Values {
		if x == v {
			return true
		}
	}
	return false
}

// Clone returns a deep copy of d.
func (d *Document) Clone() *Document {
	if d == nil {
		return nil
	}
	c := &Document{Version: d.Version, Statement: make([]Statement, len(d.Statement)), versionFirst: d.versionFirst}
	for i, s := range d.Statement {
		c.Statement[i] = s.clone()
	}
	return c
}

func (s Statement) clone() Statement {
	c := s
	if s.Principal != nil {
		p := Principal{RAM: s.Principal.RAM.clone(), Service: s.Principal.Service.clone(), Federated: s.Principal.Federated.clone()}
		c.Principal = &p
	}
	c.Action, c.NotAction = s.Action.clone(), s.NotAction.clone()
	c.Resource, c.NotResource = s.Resource.clone(), s.NotResource.clone()
	if s.Condition != nil {
		c.Condition = make(Condition, len(s.Condition))
		for op, keys := range s.Condition {
			m := make(map[string]Strings, len(keys))
			for k, v := range keys {
				m[k] = v.clone()
			}
			c.Condition[op] = m
		}
	}
	return c
}

func (s Strings) clone() Strings {
	if s.Values == nil {
		return s
	}
	return Strings{Values: append([]string{}, s.Values...), Scalar: s.Scalar}
}
