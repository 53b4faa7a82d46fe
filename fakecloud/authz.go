package fakecloud

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// Authorization. Every decision goes through policy.Evaluate or
// policy.EvaluateAccess, over the state as of now − PropagationDelay:
//
//   - an account's root key: its identity side allows everything;
//   - a RAM user: the policies attached to it;
//   - a role session: the policies attached to the role, and the session
//     policy (if any) must also allow (the intersection, ram-sts.md §9.2);
//   - a service acting for an account: no identity policies; only trust
//     policies name services.

// arn is the caller's identity as the log and GetCallerIdentity show it.
func (p *principal) arn() string {
	if p.service != "" {
		return arn.ServicePrincipal{AccountID: p.acct.id, Service: p.service}.String()
	}
	return p.policyCaller().ARN.String()
}

// policyCaller is the caller as package policy sees it.
func (p *principal) policyCaller() policy.Caller {
	pc := policy.Caller{Account: p.acct.id, Service: p.service}
	switch {
	case p.service != "":
	case p.user != nil:
		pc.ARN = arn.RAMUser(p.acct.id, p.user.name)
	case p.sess != nil:
		pc.ARN = arn.RoleSession(p.acct.id, p.sess.role.name, p.sess.name)
	default:
		pc.ARN = arn.AccountRoot(p.acct.id)
	}
	return pc
}

// asOf is the instant whose state authorization uses, so also the oldest
// instant a timeline must still answer for.
func (k *call) asOf() time.Time { return k.now.Add(-k.c.PropagationDelay()) }

// identityDocs returns the caller's identity policies in effect at t.
func (k *call) identityDocs(t time.Time) []*policy.Document {
	p := k.who
	var atts []attachment
	switch {
	case p.service != "":
		return nil
	case p.user != nil:
		atts = p.user.attached.at(t)
	case p.sess != nil:
		if p.sess.role.deleted {
			return nil
		}
		atts = p.sess.role.attached.at(t)
	default:
		return []*policy.Document{k.c.admin}
	}
	docs := make([]*policy.Document, 0, len(atts))
	for _, a := range atts {
		docs = append(docs, a.policy.effective.at(t))
	}
	return docs
}

// request builds the policy request for action on resource.
func (k *call) request(action, resource, resourceAccount string) policy.Request {
	ctx := map[string][]string{
		"acs:CurrentTime":     {k.now.UTC().Format(time.RFC3339)},
		"acs:SourceIp":        {k.srcIP},
		"acs:SecureTransport": {boolString(k.secure)},
	}
	k.networkContext(ctx)
	if k.service == "kms" {
		// kms:EncryptionContext:<key> for each pair the request carries
		// (cryptographic calls; Decrypt's ReEncrypt's source context too).
		for _, name := range []string{"EncryptionContext", "SourceEncryptionContext", "DestinationEncryptionContext"} {
			var ec map[string]string
			if raw := k.param(name); raw != "" && json.Unmarshal([]byte(raw), &ec) == nil {
				for ck, cv := range ec {
					ctx["kms:EncryptionContext:"+ck] = append(ctx["kms:EncryptionContext:"+ck], cv)
				}
			}
		}
	}
	return policy.Request{Caller: k.who.policyCaller(), Action: action, Resource: resource,
		ResourceAccount: resourceAccount, Context: ctx}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// sessionAllows applies the session policy of a role session, if any.
func (k *call) sessionAllows(req policy.Request) bool {
	if k.who.sess == nil || k.who.sess.policy == nil {
		return true
	}
	return policy.Evaluate(req, k.who.sess.policy).Decision == policy.Allowed
}

// allowed decides a request on the caller's own resources: identity
// policies only.
func (k *call) allowed(action, resource string) bool {
	req := k.request(action, resource, k.who.acct.id)
	return policy.Evaluate(req, k.identityDocs(k.asOf())...).Decision == policy.Allowed && k.sessionAllows(req)
}

// allowedOnKey decides a request on a key: the key policy and the
// caller's identity policies under the two-sided rule (kms.md §8). Keys
// outside an instance have no key policy.
func (k *call) allowedOnKey(action string, key *key) bool {
	t := k.asOf()
	req := k.request(action, key.arn, key.account.id)
	var kp *policy.Document
	if key.inst != nil {
		// What KMS honours of the policy: documented actions only, other
		// accounts only as users (corrections.md §3).
		kp = policy.EffectiveKeyPolicy(key.policy.at(t), key.account.id)
	}
	return policy.EvaluateAccess(req, kp, k.identityDocs(t)...).Allowed && k.sessionAllows(req)
}

// ramResource is the resource of a RAM operation in the documented form
// acs:ram:*:<account>:<type>/<name> (ram-sts.md §3.4). Role names are
// lower case, as RAM prints them; matching folds their case anyway.
func ramResource(account, typ, name string) string {
	if typ == "role" {
		name = strings.ToLower(name)
	}
	return "acs:ram:*:" + account + ":" + typ + "/" + name
}

// kmsResource is a KMS resource of the caller's account in the request's
// region: "key" (the collection), "keystore/<id>", ….
func (k *call) kmsResource(resource string) string {
	return "acs:kms:" + k.region + ":" + k.who.acct.id + ":" + resource
}
