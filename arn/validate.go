package arn

import (
	"strings"
	"unicode/utf8"
)

// globalServices have no region in their ARNs; regionalServices must have one.
func isGlobalService(s string) bool   { return s == "ram" || s == "sts" }
func isRegionalService(s string) bool { return s == "kms" || s == "ecs" }

func (a ARN) check(input string, pattern bool) *Error {
	if !hasSpecial(input) {
		return a.checkPlain(input)
	}
	return a.checkSpecial(input, pattern)
}

// checkSpecial is the slow path of check, for input with special bytes.
func (a ARN) checkSpecial(input string, pattern bool) *Error {
	if err := checkService(input, a.Service, pattern); err != nil {
		return err
	}
	if err := checkRegion(input, a.Service, a.Region, pattern); err != nil {
		return err
	}
	if err := checkAccountID(a.AccountID); err != nil {
		if !pattern || err.kind != ErrWildcard || !isWildcardAccount(a.AccountID) {
			err.Input = input
			return err
		}
	}
	return checkResource(input, a.Service, a.Resource, pattern)
}

// isSpecial reports a byte that needs the slow path: a wildcard, a
// placeholder bracket or '$', a space, a control character or non-ASCII.
// Identifiers almost never contain one.
func isSpecial(c byte) bool {
	return c <= ' ' || c >= 0x7f || strings.IndexByte("*?<>$", c) >= 0
}

// specialByte is isSpecial as a table of 0 and 1, for Parse's one pass
// (which ORs it over the input) and hasSpecial.
var specialByte = func() (t [256]byte) {
	for c := range t {
		if isSpecial(byte(c)) {
			t[c] = 1
		}
	}
	return t
}()

// hasSpecial reports whether s has a special byte (see isSpecial). The
// common case is no special byte at all, so it ORs the table over eight
// bytes at a time and branches once per eight.
func hasSpecial(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := s[i : i+8]
		if specialByte[w[0]]|specialByte[w[1]]|specialByte[w[2]]|specialByte[w[3]]|
			specialByte[w[4]]|specialByte[w[5]]|specialByte[w[6]]|specialByte[w[7]] != 0 {
			return true
		}
	}
	for ; i < len(s); i++ {
		if specialByte[s[i]] != 0 {
			return true
		}
	}
	return false
}

// checkPlain validates an ARN whose input has no special bytes (see hasSpecial),
// so masks, placeholders, wildcards and bad characters cannot occur.
func (a ARN) checkPlain(input string) *Error {
	if err := checkService(input, a.Service, false); err != nil {
		return err
	}
	switch {
	case a.Region == "":
		if isRegionalService(a.Service) {
			return checkRegion(input, a.Service, a.Region, false)
		}
	case isGlobalService(a.Service) || !isRegionID(a.Region):
		return checkRegion(input, a.Service, a.Region, false)
	}
	if err := checkAccountID(a.AccountID); err != nil {
		err.Input = input
		return err
	}
	switch a.Service {
	case "ram", "sts":
		return checkRAMResource(input, a.Service, a.Resource)
	case "kms":
		return checkKMSResource(input, a.Resource)
	}
	if a.Resource == "" {
		return newError(input, "resource", "", "empty; want a resource such as role/<name> or key/<key-id>")
	}
	return nil
}

func checkService(input, s string, pattern bool) *Error {
	if s == "" {
		return newError(input, "service", "", "empty; want a service such as ram or kms")
	}
	if pattern && s == "*" {
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9' && i > 0, c == '-' && i > 0:
		case c >= 'A' && c <= 'Z':
			return newError(input, "service", s, "service names are lower case")
		default:
			return newError(input, "service", s, "want lower-case letters, digits and '-'")
		}
	}
	return nil
}

func checkRegion(input, service, r string, pattern bool) *Error {
	if r == "" {
		if isRegionalService(service) {
			return newError(input, "region", "", service+" ARNs need a region ID such as cn-hangzhou")
		}
		return nil
	}
	if hasSpecial(r) {
		if pe := checkPasted(input, "region", r); pe != nil {
			return pe
		}
	}
	if strings.ContainsAny(r, "*?") {
		return checkChars(input, "region", r, pattern)
	}
	if isGlobalService(service) {
		return newError(input, "region", r, service+" is a global service; its ARNs have an empty region (acs:"+service+"::...)")
	}
	if !isRegionID(r) {
		return newError(input, "region", r, "want a region ID such as cn-hangzhou (lower-case letters, digits and '-')")
	}
	return nil
}

// isRegionID matches [a-z]{2}-[a-z0-9-]+ .
func isRegionID(r string) bool {
	if len(r) < 4 || !isLower(r[0]) || !isLower(r[1]) || r[2] != '-' {
		return false
	}
	for i := 3; i < len(r); i++ {
		c := r[i]
		if !isLower(c) && !isDigit(c) && c != '-' {
			return false
		}
	}
	return true
}

// ValidateAccountID validates an Alibaba Cloud account UID: 1 to 20 ASCII
// digits (real UIDs have 16). Masked IDs and placeholders copied from
// documentation get an error that says so.
func ValidateAccountID(id string) error {
	if err := checkAccountID(id); err != nil {
		return err
	}
	return nil
}

func checkAccountID(id string) *Error {
	if id == "" {
		return newError(id, "account", "", "empty; want the account UID (digits)")
	}
	if len(id) <= 20 && allDigits(id) {
		return nil // the common case, checked first: one scan
	}
	if hasSpecial(id) {
		if pe := checkPasted(id, "account", id); pe != nil {
			return pe
		}
	}
	if len(id) > 20 {
		return newError(id, "account", id, "too long for an account UID (at most 20 digits)")
	}
	for i := 0; i < len(id); i++ {
		if !isDigit(id[i]) {
			if id[i] == '*' || id[i] == '?' {
				return wildcardError(id, "account", id)
			}
			return newError(id, "account", id, "account UIDs are digits only")
		}
	}
	return nil
}

// isWildcardAccount accepts the account forms a policy pattern may use: "*"
// or digits mixed with "?" and "*". Masks were already rejected.
func isWildcardAccount(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isDigit(c) && c != '*' && c != '?' {
			return false
		}
	}
	return true
}

func checkResource(input, service, r string, pattern bool) *Error {
	if r == "" {
		return newError(input, "resource", "", "empty; want a resource such as role/<name> or key/<key-id>")
	}
	if pe := checkPasted(input, "resource", r); pe != nil {
		return pe
	}
	if r == "*" && service == "ram" {
		return nil // acs:ram::<uid>:* is a concrete principal: every identity of the account
	}
	if err := checkChars(input, "resource", r, pattern); err != nil {
		return err
	}
	if pattern && strings.ContainsAny(r, "*?") {
		return nil // a pattern's shape is whatever it matches
	}
	switch service {
	case "ram", "sts":
		return checkRAMResource(input, service, r)
	case "kms":
		return checkKMSResource(input, r)
	}
	return nil
}

// checkChars allows printable ASCII without spaces; "*" and "?" only in patterns.
func checkChars(input, field, s string, pattern bool) *Error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return newError(input, field, s, "non-ASCII character; ARNs are ASCII only")
		case c <= ' ' || c == 0x7f:
			return newError(input, field, s, "space or control character")
		case (c == '*' || c == '?') && !pattern:
			return wildcardError(input, field, s)
		}
	}
	return nil
}

func checkRAMResource(input, service, r string) *Error {
	typ, name, hasName := cutSlash(r)
	switch typ {
	case "root", "*":
		if hasName {
			return newError(input, "resource", r, "\""+typ+"\" takes no name")
		}
		if service == "sts" {
			return newError(input, "resource", r, "sts ARNs name assumed-role sessions only")
		}
		return nil
	case "role":
		if service == "sts" {
			break
		}
		role, session, isSession := cutSlash(name)
		if err := checkRoleName(role); err != nil {
			err.Input = input
			return err
		}
		if isSession {
			return checkSessionName(input, session)
		}
		return nil
	case "assumed-role":
		role, session, ok := cutSlash(name)
		if !ok {
			return newError(input, "resource", r, "want assumed-role/<role>/<session>")
		}
		if err := checkRoleName(role); err != nil {
			err.Input = input
			return err
		}
		return checkSessionName(input, session)
	case "user":
		if service == "sts" {
			break
		}
		return checkUserName(input, name)
	case "group", "policy", "saml-provider", "oidc-provider":
		if service == "sts" {
			break
		}
		if name == "" {
			return newError(input, "resource", r, "want "+typ+"/<name>")
		}
		return nil
	}
	if service == "sts" {
		return newError(input, "resource", r, "want assumed-role/<role>/<session>")
	}
	return newError(input, "resource", r, "unknown RAM resource type "+quote(typ)+"; want role/<name>, user/<name>, root or *")
}

func checkKMSResource(input, r string) *Error {
	typ, name, hasName := cutSlash(r)
	switch typ {
	case "key", "alias", "secret", "keystore", "certificate":
		if !hasName {
			return nil // the collection, e.g. acs:kms:<r>:<uid>:key for kms:List*
		}
		if name == "" {
			return newError(input, "resource", r, "empty "+typ+" name")
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !isAlnum(c) && c != '-' && c != '_' && !(typ != "key" && typ != "keystore" && c == '/') {
				return newError(input, "resource", r, "unexpected "+quote(string(c))+" in "+typ+" name")
			}
		}
		return nil
	}
	return newError(input, "resource", r, "unknown KMS resource type "+quote(typ)+"; want key/<key-id>, key, alias/<name> or secret/<name>")
}

// ValidateRoleName validates a RAM role name: 1 to 64 letters, digits, '.'
// and '-'.
func ValidateRoleName(name string) error {
	if err := checkRoleName(name); err != nil {
		return err
	}
	return nil
}

func checkRoleName(name string) *Error {
	if name == "" {
		return newError(name, "role name", "", "empty")
	}
	if hasSpecial(name) {
		if pe := checkPasted(name, "role name", name); pe != nil {
			return pe
		}
	}
	if len(name) > 64 {
		return newError(name, "role name", name, "longer than 64 characters")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != '-' {
			if c == '*' || c == '?' {
				return wildcardError(name, "role name", name)
			}
			return newError(name, "role name", name, "role names use letters, digits, '.' and '-' only")
		}
	}
	return nil
}

// ValidateUserName validates a RAM user name: 1 to 64 letters, digits,
// '.', '-', '_' and '@'.
func ValidateUserName(name string) error {
	if err := checkUserName(name, name); err != nil {
		return err
	}
	return nil
}

func checkUserName(input, name string) *Error {
	if name == "" || len(name) > 64 {
		return newError(input, "user name", name, "want 1 to 64 characters")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isAlnum(c) && c != '.' && c != '-' && c != '_' && c != '@' {
			return newError(input, "user name", name, "user names use letters, digits, '.', '-', '_' and '@' only")
		}
	}
	return nil
}

// ValidateSessionName validates an STS RoleSessionName: 2 to 64 letters,
// digits, '.', '@', '_' and '-'.
func ValidateSessionName(s string) error {
	if err := checkSessionName(s, s); err != nil {
		return err
	}
	return nil
}

// checkSessionName applies the RoleSessionName rule: 2 to 64 of [A-Za-z0-9.@_-].
func checkSessionName(input, s string) *Error {
	if len(s) < 2 || len(s) > 64 {
		return newError(input, "session name", s, "want 2 to 64 characters")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '@' && c != '_' && c != '-' {
			return newError(input, "session name", s, "session names use letters, digits, '.', '@', '_' and '-' only")
		}
	}
	return nil
}

// cutSlash is strings.Cut(s, "/"); a plain loop is faster for the short
// strings of an ARN, and Parse is on the hot path (see BenchmarkParseKeyARN).
func cutSlash(s string) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func quote(s string) string { return `"` + s + `"` }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlnum(c byte) bool { return isDigit(c) || isLower(c) || (c >= 'A' && c <= 'Z') }
