package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/arn"
)

// operator is a condition operator. Negated operators hold when no pair of
// policy and request values matches, including when the request lacks the key.
type operator struct {
	name    string // canonical spelling
	test    opTest
	negated bool
}

type opTest uint8

const (
	testEquals opTest = iota
	testEqualsFold
	testLike
	testNumEq
	testNumLT
	testNumLE
	testNumGT
	testNumGE
	testDateEq
	testDateLT
	testDateLE
	testDateGT
	testDateGE
	testBool
	testIP
)

// operators are the condition operators RAM documents (ram-sts.md §8.2).
// A read-only table.
var operators = [...]operator{
	{"StringEquals", testEquals, false},
	{"StringNotEquals", testEquals, true},
	{"StringEqualsIgnoreCase", testEqualsFold, false},
	{"StringNotEqualsIgnoreCase", testEqualsFold, true},
	{"StringLike", testLike, false},
	{"StringNotLike", testLike, true},
	{"NumericEquals", testNumEq, false},
	{"NumericNotEquals", testNumEq, true},
	{"NumericLessThan", testNumLT, false},
	{"NumericLessThanEquals", testNumLE, false},
	{"NumericGreaterThan", testNumGT, false},
	{"NumericGreaterThanEquals", testNumGE, false},
	{"DateEquals", testDateEq, false},
	{"DateNotEquals", testDateEq, true},
	{"DateLessThan", testDateLT, false},
	{"DateLessThanEquals", testDateLE, false},
	{"DateGreaterThan", testDateGT, false},
	{"DateGreaterThanEquals", testDateGE, false},
	{"Bool", testBool, false},
	{"IpAddress", testIP, false},
	{"NotIpAddress", testIP, true},
}

// conditionOperator returns the operator named name (case-insensitively),
// or nil.
func conditionOperator(name string) *operator {
	for i := range operators {
		if operators[i].name == name {
			return &operators[i]
		}
	}
	for i := range operators {
		if strings.EqualFold(operators[i].name, name) {
			return &operators[i]
		}
	}
	return nil
}

// match reports whether request value v satisfies policy value p.
func (o *operator) match(p, v string) bool {
	switch o.test {
	case testEquals:
		return p == v
	case testEqualsFold:
		return strings.EqualFold(p, v)
	case testLike:
		return arn.Match(p, v)
	case testNumEq, testNumLT, testNumLE, testNumGT, testNumGE:
		pf, err1 := strconv.ParseFloat(strings.TrimSpace(p), 64)
		vf, err2 := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err1 != nil || err2 != nil {
			return false
		}
		switch o.test {
		case testNumEq:
			return vf == pf
		case testNumLT:
			return vf < pf
		case testNumLE:
			return vf <= pf
		case testNumGT:
			return vf > pf
		}
		return vf >= pf
	case testDateEq, testDateLT, testDateLE, testDateGT, testDateGE:
		pt, ok1 := parseTime(p)
		vt, ok2 := parseTime(v)
		if !ok1 || !ok2 {
			return false
		}
		switch o.test {
		case testDateEq:
			return vt.Equal(pt)
		case testDateLT:
			return vt.Before(pt)
		case testDateLE:
			return !vt.After(pt)
		case testDateGT:
			return vt.After(pt)
		}
		return !vt.Before(pt)
	case testBool:
		return boolean(p, v)
	case testIP:
		return ipInRange(p, v)
	}
	return false
}

// parseTime accepts the ISO 8601 forms RAM documents ("2012-11-11T23:59:59Z",
// with or without fractional seconds or an offset), a bare date, and Unix
// seconds.
func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func boolean(p, v string) bool {
	pb, err1 := strconv.ParseBool(strings.ToLower(strings.TrimSpace(p)))
	vb, err2 := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v)))
	return err1 == nil && err2 == nil && pb == vb
}

// ipInRange reports whether request address v lies in the policy's address
// or CIDR block p.
func ipInRange(p, v string) bool {
	addr, err := netip.ParseAddr(strings.TrimSpace(v))
	if err != nil {
		return false
	}
	p = strings.TrimSpace(p)
	if strings.Contains(p, "/") {
		prefix, err := netip.ParsePrefix(p)
		return err == nil && prefix.Contains(addr.Unmap())
	}
	pa, err := netip.ParseAddr(p)
	return err == nil && pa.Unmap() == addr.Unmap()
}

// holds evaluates a statement's Condition block against the request context:
// operators and keys are ANDed, the values of one key ORed, and a key missing
// from the request fails a positive operator and satisfies a negated one.
// known is false when the block has an operator this package does not know
// (Validate rejects those); the caller then fails closed.
func (c Condition) holds(ctx map[string][]string) (ok, known bool) {
	for opName, keys := range c {
		op := conditionOperator(opName)
		if op == nil {
			return false, false
		}
		for key, want := range keys {
			got := lookupContext(ctx, key)
			matched := false
			for _, v := range got {
				for _, p := range want.Values {
					if op.match(p, v) {
						matched = true
						break
					}
				}
				if matched {
					break
				}
			}
			if matched == op.negated {
				return false, true
			}
		}
	}
	return true, true
}

// lookupContext finds a condition key; keys are case-insensitive.
func lookupContext(ctx map[string][]string, key string) []string {
	if v, ok := ctx[key]; ok {
		return v
	}
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}
