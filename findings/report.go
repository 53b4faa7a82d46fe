package findings

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kmsshare/kmsshare/policy"
)

// ErrInvalid marks bad input: a target, option or accepted-findings file
// that is refused before any API call.
var ErrInvalid = errors.New("findings: invalid input")

// Report is the result of a scan: what was read, and the findings.
type Report struct {
	Directory   string   `json:"directory"`  // rd-…
	RootFolder  string   `json:"rootFolder"` // r-…
	TrustFolder string   `json:"trustFolder,omitempty"`
	Accounts    []string `json:"accounts"` // the accounts scanned
	Regions     []string `json:"regions"`

	Keys       []Key       `json:"keys"`       // every key in a KMS instance, by ARN
	Instances  []Instance  `json:"instances"`  // their instances, by ID
	Recipients []Recipient `json:"recipients"` // accounts other than a key's owner named in key policies
	Principals []Principal `json:"principals"` // recipient roles and users whose RAM side the scan read
	Folders    []Folder    `json:"folders"`    // every folder of the directory

	Findings []Finding `json:"findings"`           // findings nobody accepted, most serious first
	Accepted []Finding `json:"accepted,omitempty"` // findings suppressed by an Acceptance
	// UnusedAcceptances matched no finding: the accepted risk is gone.
	UnusedAcceptances []Acceptance `json:"unusedAcceptances,omitempty"`
	// Problems lists what could not be read; the findings cover the rest.
	Problems []Problem `json:"problems,omitempty"`
}

// Key is one scanned key.
type Key struct {
	ARN                string  `json:"arn"`
	Account            string  `json:"account"`
	Region             string  `json:"region"`
	Instance           string  `json:"instance"`
	State              string  `json:"state"`
	Spec               string  `json:"spec"`
	Origin             string  `json:"origin"`
	AutomaticRotation  string  `json:"automaticRotation"`
	DeletionProtection string  `json:"deletionProtection"`
	Grants             []Grant `json:"grants,omitempty"` // Allow grants to other accounts

	policy *policy.Document
}

// Shared reports whether the key policy allows another account anything.
func (k *Key) Shared() bool { return len(k.Grants) > 0 }

// Grant is one principal of another account in an Allow statement of a key
// policy.
type Grant struct {
	Principal string    `json:"principal"`
	Account   string    `json:"account"` // "*" for a wildcard principal
	Actions   []string  `json:"actions"` // the statement's Action, or "every action but …"
	Statement Statement `json:"statement"`
}

// Instance is a KMS instance holding scanned keys.
type Instance struct {
	ID          string `json:"id"`
	Account     string `json:"account"`
	Region      string `json:"region"`
	Status      string `json:"status"`
	AccessQuota int64  `json:"accessQuota"`
	BoundVPCs   int    `json:"boundVpcs"`
	// ForeignAccounts counts the distinct other accounts its keys are
	// shared with; with BoundVPCs it uses the access management quota.
	ForeignAccounts int `json:"foreignAccounts"`
}

// Recipient is an account a key is shared with, and its place in the
// Resource Directory.
type Recipient struct {
	Account     string `json:"account"`
	Name        string `json:"name,omitempty"`
	InDirectory bool   `json:"inDirectory"`
	Folder      string `json:"folder,omitempty"`
	Path        string `json:"path,omitempty"` // ResourceDirectoryPath
	InTrustZone bool   `json:"inTrustZone"`
}

// Principal is a recipient role or user and what the scan learnt of its
// RAM side.
type Principal struct {
	ARN     string `json:"arn"`
	Account string `json:"account"`
	// Checked is false when the scan could not read the account's RAM
	// (Reason says why); the half-grant checks then say nothing.
	Checked  bool     `json:"checked"`
	Exists   bool     `json:"exists"`
	Policies []string `json:"policies,omitempty"` // attached, as "<Type>/<name>"
	Reason   string   `json:"reason,omitempty"`

	docs []namedDoc
}

type namedDoc struct {
	name string // "<Type>/<name>"
	doc  *policy.Document
}

// Folder is a folder of the directory.
type Folder struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// Problem is something the scan could not read.
type Problem struct {
	Subject string `json:"subject"` // a key ARN, an account, a principal
	Error   string `json:"error"`
}

// IncompleteError is returned with a report when parts of the scan
// failed: the report covers everything but Problems.
type IncompleteError struct {
	Problems []Problem
}

func (e *IncompleteError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Subject + ": " + p.Error
	}
	return fmt.Sprintf("findings: scan incomplete, %d part(s) not read: %s", len(e.Problems), strings.Join(parts, "; "))
}

// folderName returns the folder's name, or its ID if unknown.
func (r *Report) folderName(id string) string {
	for _, f := range r.Folders {
		if f.ID == id {
			if f.Parent == "" {
				return "Root"
			}
			return f.Name
		}
	}
	return id
}

func (r *Report) recipient(account string) (Recipient, bool) {
	for _, rc := range r.Recipients {
		if rc.Account == account {
			return rc, true
		}
	}
	return Recipient{}, false
}
