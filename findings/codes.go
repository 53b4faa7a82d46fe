package findings

// rule describes one finding code: its severity and what it means. The
// codes are stable: pipelines and accepted-findings files name them.
type rule struct {
	Code     string
	Severity Severity
	Title    string
}

// rules is the read-only table of every code, in the order of the package
// documentation.
var rules = [...]rule{
	{"outside-directory", SeveritySecurityWarning, "A key is shared with an account outside the Resource Directory"},
	{"outside-trust-zone", SeveritySecurityWarning, "A key is shared with an account outside the trusted folder"},
	{"dangling-account", SeverityError, "A key is shared with the access role of an account that left the Resource Directory"},
	{"dangling-principal", SeverityError, "A key is shared with a RAM role or user that no longer exists"},
	{"half-grant", SeverityWarning, "The key policy grants a principal actions its own RAM policies do not allow"},
	{"ram-only-grant", SeverityWarning, "A RAM policy names a key whose key policy does not grant the principal"},
	{"cross-account-admin", SeveritySecurityWarning, "Administrator actions are granted to another account"},
	{"wildcard-principal", SeveritySecurityWarning, "A key policy principal admits any account"},
	{"ineffective-action", SeverityWarning, "Actions granted to another account take no effect"},
	{"no-deletion-protection", SeverityWarning, "A shared key has no deletion protection"},
	{"shared-key-pending-deletion", SeverityError, "A shared key is scheduled for deletion"},
	{"shared-key-disabled", SeverityWarning, "A shared key is disabled"},
	{"rotation-off", SeveritySuggestion, "A shared key that can rotate does not rotate automatically"},
	{"cannot-rotate", SeveritySuggestion, "A shared key cannot rotate automatically (external, BYOK or asymmetric)"},
	{"owner-can-reshare", SeverityWarning, "An identity of the owner account may change the policy of a shared key"},
	{"quota-nearly-used", SeverityWarning, "A KMS instance's access management quota is nearly used"},
}

// Codes lists every finding code.
func Codes() []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = r.Code
	}
	return out
}

func ruleOf(code string) rule {
	for _, r := range rules {
		if r.Code == code {
			return r
		}
	}
	return rule{Code: code, Severity: SeverityWarning}
}
