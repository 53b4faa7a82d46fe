package findings

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Severity grades a finding as IAM Access Analyzer's policy checks do.
type Severity string

// Severities, most serious first.
const (
	SeverityError           Severity = "error"            // access is broken or about to be lost
	SeveritySecurityWarning Severity = "security-warning" // someone outside the intended zone can use a key
	SeverityWarning         Severity = "warning"          // almost certainly not what was meant
	SeveritySuggestion      Severity = "suggestion"       // works, but could be safer
)

// Severities lists every severity, most serious first.
func Severities() []Severity {
	return []Severity{SeverityError, SeveritySecurityWarning, SeverityWarning, SeveritySuggestion}
}

func (s Severity) rank() int {
	if i := slices.Index(Severities(), s); i >= 0 {
		return i
	}
	return len(Severities())
}

// AtLeast reports whether s is as serious as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.rank() <= min.rank() }

// ParseSeverity reads a severity by name.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range Severities() {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: severity %q: want one of error, security-warning, warning, suggestion", ErrInvalid, s)
}

// Statement locates a finding in a policy document.
type Statement struct {
	Index   int    `json:"index"`
	Sid     string `json:"sid,omitempty"`
	Pointer string `json:"pointer"` // JSON pointer into the document, e.g. /Statement/1/Principal/RAM/0
}

// Finding is one result of a scan.
type Finding struct {
	// ID fingerprints the finding (code, key or instance, principal,
	// document and pointer): it is the same in every scan that finds the
	// same thing, so accepted findings can name it.
	ID       string   `json:"id"`
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	Key      string   `json:"key,omitempty"`      // the key's ARN
	Instance string   `json:"instance,omitempty"` // the KMS instance (kst-…)
	// Account is the account whose document or resource the finding is
	// about: the key's owner, or the member holding a RAM policy.
	Account   string `json:"account"`
	Principal string `json:"principal,omitempty"`
	// Document is "key policy", "RAM policy <Type>/<name>", "key" or
	// "instance".
	Document  string     `json:"document"`
	Statement *Statement `json:"statement,omitempty"`
	Message   string     `json:"message"`
	Fix       string     `json:"fix"`
	// AcceptedBecause is the reason given when the finding was accepted.
	AcceptedBecause string `json:"acceptedBecause,omitempty"`
}

// Location renders where the finding is: key or instance, and pointer.
func (f Finding) Location() string {
	where := f.Key
	if where == "" {
		where = f.Instance
	}
	if f.Document != "key policy" && f.Document != "key" && f.Document != "instance" {
		where += " (" + f.Document + " in " + f.Account + ")"
	}
	if f.Statement != nil {
		where += " " + f.Statement.Pointer
		if f.Statement.Sid != "" {
			where += " (Sid " + f.Statement.Sid + ")"
		}
	}
	return where
}

func (f *Finding) fingerprint() {
	ptr := ""
	if f.Statement != nil {
		ptr = f.Statement.Pointer
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Code, f.Key, f.Instance, f.Account, f.Principal, f.Document, ptr}, "\x00")))
	f.ID = hex.EncodeToString(sum[:6])
}

// Acceptance suppresses the findings it selects, with a reason: a pipeline
// then fails only on findings nobody accepted. Empty selectors match
// anything, but at least one of ID and Code must be set.
type Acceptance struct {
	ID        string `json:"id,omitempty"`
	Code      string `json:"code,omitempty"`
	Key       string `json:"key,omitempty"`
	Principal string `json:"principal,omitempty"`
	Reason    string `json:"reason"`
}

func (a Acceptance) matches(f Finding) bool {
	return (a.ID == "" || a.ID == f.ID) && (a.Code == "" || a.Code == f.Code) &&
		(a.Key == "" || a.Key == f.Key) && (a.Principal == "" || a.Principal == f.Principal)
}

// ReadAcceptances reads an accepted-findings file:
//
//	{"accept": [{"code": "outside-directory", "principal": "acs:ram::…:role/x", "reason": "partner, ticket 42"}]}
//
// Unknown fields are errors, and every entry needs a reason and an id or
// code.
func ReadAcceptances(r io.Reader) ([]Acceptance, error) {
	var file struct {
		Accept []Acceptance `json:"accept"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("%w: accepted findings: %v", ErrInvalid, err)
	}
	for i, a := range file.Accept {
		if err := a.validate(); err != nil {
			return nil, fmt.Errorf("%w: accepted findings: entry %d: %v", ErrInvalid, i, err)
		}
	}
	return file.Accept, nil
}

func (a Acceptance) validate() error {
	switch {
	case strings.TrimSpace(a.Reason) == "":
		return errors.New("no reason")
	case a.ID == "" && a.Code == "":
		return errors.New("neither id nor code")
	case a.Code != "" && !slices.Contains(Codes(), a.Code):
		return fmt.Errorf("unknown code %q", a.Code)
	}
	return nil
}

// accept splits fs into new findings and accepted ones, and returns the
// acceptances that matched nothing (stale entries worth deleting).
func accept(fs []Finding, as []Acceptance) (fresh, accepted []Finding, unused []Acceptance) {
	used := make([]bool, len(as))
	for _, f := range fs {
		i := slices.IndexFunc(as, func(a Acceptance) bool { return a.matches(f) })
		if i < 0 {
			fresh = append(fresh, f)
			continue
		}
		used[i] = true
		f.AcceptedBecause = as[i].Reason
		accepted = append(accepted, f)
	}
	for i, a := range as {
		if !used[i] {
			unused = append(unused, a)
		}
	}
	return fresh, accepted, unused
}

// sortFindings orders findings most serious first, then by place.
func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if d := a.Severity.rank() - b.Severity.rank(); d != 0 {
			return d
		}
		for _, c := range [][2]string{{a.Key, b.Key}, {a.Instance, b.Instance}, {a.Document, b.Document},
			{pointerOf(a), pointerOf(b)}, {a.Code, b.Code}, {a.Principal, b.Principal}} {
			if d := strings.Compare(c[0], c[1]); d != 0 {
				return d
			}
		}
		return 0
	})
}

func pointerOf(f Finding) string {
	if f.Statement == nil {
		return ""
	}
	return f.Statement.Pointer
}

// Fails reports whether a finding nobody accepted is at least min serious.
func (r *Report) Fails(min Severity) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Severity.AtLeast(min) })
}
