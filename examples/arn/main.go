// Command arn checks identifiers before they go into a policy: Alibaba Cloud
// ARNs (acs:...) and service principals (<uid>@ecs.aliyuncs.com). It explains
// what each one names, or why it would fail later in the cloud: a masked ID
// copied from the documentation, an unfilled <placeholder>, a role name RAM
// would refuse.
//
// Usage:
//
//	go run ./examples/arn [identifier ...]
//
// With no arguments it checks a few typical pastes, good and bad. The exit
// status is 1 if any identifier is invalid.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kmsshare/kmsshare/arn"
)

var demo = []string{
	"acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7",
	"acs:ram::1192853035118460:role/ResourceDirectoryAccountAccessRole",
	"acs:ram::1192853035118460:assumed-role/AppRole/pipeline-42",
	"1192853035118460@ecs.aliyuncs.com",
	"acs:ram::119285303511****:role/AliyunECSDiskEncryptDefaultRole",
	"acs:kms:<key-region-id>:<key-owner-uid>:key/<key-id>",
	"acs:ram:cn-hangzhou:1192853035118460:role/app",
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: arn [identifier ...]\n\n"+
			"Checks Alibaba Cloud ARNs and service principals and explains each one.\n"+
			"With no arguments, checks a few typical examples.\n")
	}
	flag.Parse()
	ids := flag.Args()
	if len(ids) == 0 {
		ids = demo
	}
	if !check(os.Stdout, ids) && flag.NArg() > 0 {
		os.Exit(1)
	}
}

// check describes each identifier and reports whether all were valid.
func check(w io.Writer, ids []string) bool {
	ok := true
	for _, id := range ids {
		desc, err := describe(id)
		if err != nil {
			ok = false
			fmt.Fprintf(w, "INVALID  %s\n         %v\n", id, err)
			continue
		}
		fmt.Fprintf(w, "ok       %s\n         %s\n", id, desc)
	}
	return ok
}

func describe(id string) (string, error) {
	if !strings.HasPrefix(id, "acs:") && strings.HasSuffix(id, ".aliyuncs.com") {
		p, err := arn.ParseServicePrincipal(id)
		if err != nil {
			return "", err
		}
		switch p.AccountID {
		case "":
			return fmt.Sprintf("the %s service acting for the role's own account", p.Name()), nil
		case arn.AnyAccount:
			return fmt.Sprintf("the %s service acting for any account", p.Name()), nil
		}
		return fmt.Sprintf("the %s service acting for account %s", p.Name(), p.AccountID), nil
	}
	a, err := arn.Parse(id)
	if err != nil {
		return "", err
	}
	if role, session, ok := a.AssumedRole(); ok {
		return fmt.Sprintf("session %q of role %s", session, role), nil
	}
	switch {
	case a.Service == "kms" && a.ResourceType() == "key" && a.ResourceName() != "":
		return fmt.Sprintf("KMS key %s in %s, owned by account %s", a.ResourceName(), a.Region, a.AccountID), nil
	case a.IsRole():
		return fmt.Sprintf("RAM role %q of account %s (canonical ARN %s)", a.ResourceName(), a.AccountID, a.Canonical()), nil
	case a.IsUser():
		return fmt.Sprintf("RAM user %q of account %s", a.ResourceName(), a.AccountID), nil
	case a.Service == "ram" && a.Resource == "root":
		return fmt.Sprintf("account %s itself", a.AccountID), nil
	case a.Service == "ram" && a.Resource == "*":
		return fmt.Sprintf("every identity of account %s", a.AccountID), nil
	}
	return fmt.Sprintf("%s resource %q in account %s", a.Service, a.Resource, a.AccountID), nil
}
