package fakecloud

import (
	"strconv"
	"strings"
	"time"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/policy"
)

// STS 2015-04-01: AssumeRole and GetCallerIdentity, plus the Go-level
// AssumeRole of a service acting for an account (services do not call the
// public STS API).

const (
	defaultSessionSeconds = 3600
	minSessionSeconds     = 900
	maxSessionPolicyBytes = 2048
	// expiredSessionGrace is how long expired sessions are kept, so that
	// their keys are reported as expired rather than unknown.
	expiredSessionGrace = 24 * time.Hour
)

// assumeRequest is an AssumeRole after parameter checks.
type assumeRequest struct {
	roleARN    arn.ARN
	session    string
	seconds    int64 // 0: default
	externalID string
	policy     *policy.Document
}

// assume decides an AssumeRole and issues the session. RAM callers need
// the role's trust policy (decision B) and their own identity policies
// (decision A) to allow (ram-sts.md §9.3); a service caller has no
// identity policies and needs only the trust policy.
func (k *call) assume(req assumeRequest) (*session, *role, *Error) {
	c := k.c
	owner := c.accounts[req.roleARN.AccountID]
	var r *role
	if owner != nil {
		r = owner.roles[strings.ToLower(req.roleARN.ResourceName())]
	}
	if r == nil || k.now.Before(r.visibleFrom) {
		// A role created less than VisibilityDelay ago is not seen yet.
		return nil, nil, k.fail("EntityNotExist.Role", req.roleARN.String())
	}
	k.target = owner.id
	t := k.asOf()
	preq := k.request("sts:AssumeRole", ramResource(owner.id, "role", r.name), owner.id)
	if req.externalID != "" {
		preq.Context["sts:ExternalId"] = []string{req.externalID}
	}
	if k.who.service != "" {
		if rd := k.who.acct.rd(); rd != nil {
			preq.Context["sts:ServiceOwnerRDId"] = []string{rd.id}
			preq.Context["sts:ServiceOwnerRDPath"] = []string{k.who.acct.rdPath()}
		}
		if policy.Evaluate(preq, r.trust.at(t)).Decision != policy.Allowed {
			return nil, nil, k.fail("NoPermission", "the trust policy of "+r.name+" does not admit "+k.who.arn())
		}
	} else {
		acc := policy.EvaluateAccess(preq, r.trust.at(t), k.identityDocs(t)...)
		switch {
		case acc.Resource.Decision != policy.Allowed:
			return nil, nil, k.fail("NoPermission", "the trust policy of "+r.name+" does not admit the caller")
		case acc.Identity.Decision != policy.Allowed || !k.sessionAllows(preq):
			return nil, nil, k.fail("NoPermission", "the caller's policies do not allow sts:AssumeRole on "+r.name)
		}
	}
	seconds := req.seconds
	if seconds == 0 {
		seconds = defaultSessionSeconds
	}
	if seconds < minSessionSeconds || seconds > r.maxSession {
		return nil, nil, k.fail("InvalidParameter.DurationSeconds", "")
	}
	s := &session{id: "STS." + secret(mixedAlnum, 28), secret: secret(mixedAlnum, 44), token: "CAIS" + secret(mixedAlnum, 220),
		account: owner, role: r, name: req.session, policy: req.policy,
		expires: k.now.Add(time.Duration(seconds) * time.Second)}
	for id, old := range c.sessions {
		if k.now.After(old.expires.Add(expiredSessionGrace)) {
			delete(c.sessions, id)
		}
	}
	c.sessions[s.id] = s
	return s, r, nil
}

func (s *session) credentials() Credentials {
	return Credentials{AccessKeyID: s.id, secret: s.secret, token: s.token, Expiration: s.expires}
}

func (k *call) stsAssumeRole() (any, *Error) {
	if k.who.isRoot() {
		e := k.fail("NoPermission", "")
		e.Message = rootAssumeRoleMessage
		return nil, e
	}
	raw, e := k.required("RoleArn")
	if e != nil {
		return nil, e
	}
	var req assumeRequest
	if req.session, e = k.required("RoleSessionName"); e != nil {
		return nil, e
	}
	if req.roleARN, e = k.assumeParams(raw, req.session); e != nil {
		return nil, e
	}
	if v := k.param("DurationSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < minSessionSeconds {
			return nil, k.fail("InvalidParameter.DurationSeconds", "")
		}
		req.seconds = n
	}
	if v, ok := k.params["ExternalId"]; ok {
		if policy.ValidateExternalID(v) != nil {
			return nil, k.fail("InvalidParameter.ExternalId", "")
		}
		req.externalID = v
	}
	if v := k.param("Policy"); v != "" {
		if len(v) > maxSessionPolicyBytes {
			return nil, k.fail("InvalidParameter.PolicySize", "")
		}
		doc, err := parseDoc(v, policy.Permission)
		if err != nil {
			return nil, k.fail("InvalidParameter.PolicyGrammar", err.Error())
		}
		req.policy = doc
	}
	s, r, e := k.assume(req)
	if e != nil {
		return nil, e
	}
	body := &sts.AssumeRoleResponseBody{RequestId: k.requestID(),
		AssumedRoleUser: &sts.AssumeRoleResponseBodyAssumedRoleUser{
			Arn:           tea.String(arn.RAMRole(r.account.id, r.name).String() + "/" + s.name),
			AssumedRoleId: tea.String(r.id + ":" + s.name)},
		Credentials: &sts.AssumeRoleResponseBodyCredentials{AccessKeyId: tea.String(s.id), AccessKeySecret: tea.String(s.secret),
			SecurityToken: tea.String(s.token), Expiration: tea.String(s.expires.UTC().Format(dateFormat))}}
	if v := k.param("SourceIdentity"); v != "" {
		body.SourceIdentity = tea.String(v)
	}
	return body, nil
}

// stsGetCallerIdentity needs no permission. The ARN of a role session is
// acs:ram::<uid>:assumed-role/<role>/<session>; that form is unverified
// (ram-sts.md §4.1).
func (k *call) stsGetCallerIdentity() (any, *Error) {
	p := k.who
	k.target = p.acct.id
	body := &sts.GetCallerIdentityResponseBody{RequestId: k.requestID(), AccountId: tea.String(p.acct.id), Arn: tea.String(p.arn())}
	switch {
	case p.user != nil:
		body.IdentityType, body.UserId, body.PrincipalId = tea.String("RAMUser"), tea.String(p.user.id), tea.String(p.user.id)
	case p.sess != nil:
		roleID := ""
		if p.sess.role != nil {
			roleID = p.sess.role.id
		}
		body.IdentityType, body.RoleId = tea.String("AssumedRoleUser"), tea.String(roleID)
		body.PrincipalId = tea.String(roleID + ":" + p.sess.name)
	default:
		body.IdentityType, body.UserId, body.PrincipalId = tea.String("Account"), tea.String(p.acct.id), tea.String(p.acct.id)
	}
	return body, nil
}

// Service is an Alibaba Cloud service acting for an account, such as ECS
// acting for account B when B creates a disk encrypted with a shared key
// (workflows.md W2, W4). It exists only in Go: services do not call the
// public STS API.
type Service struct {
	Host    string // "ecs.aliyuncs.com"
	Account *Account
}

// Service returns the service host (e.g. "ecs.aliyuncs.com") acting for a.
func (a *Account) Service(host string) *Service {
	return &Service{Host: host, Account: a}
}

// AssumeRole assumes roleARN as the service acting for its account and
// returns STS credentials usable with the real SDK clients. The role's
// trust policy decides, through policy.Evaluate with a service caller:
// Principal.Service "ecs.aliyuncs.com" admits ECS acting for the role's
// own account, "<uid>@ecs.aliyuncs.com" ECS acting for <uid>, and
// "*@ecs.aliyuncs.com" any account, narrowed by conditions on
// sts:ServiceOwnerRDId and sts:ServiceOwnerRDPath, which hold the acting
// account's Resource Directory ID and member path (the keys are
// unverified, ram-sts.md §8.3). duration 0 means one hour. Refusals are
// *Error values with the codes AssumeRole uses; each call is logged.
func (s *Service) AssumeRole(roleARN, sessionName string, duration time.Duration) (Credentials, error) {
	if s == nil || s.Account == nil || s.Account.c == nil {
		return Credentials{}, errForeign
	}
	c := s.Account.c
	k := &call{c: c, service: "sts", action: "AssumeRole", rid: c.newRequestID(), srcIP: "127.0.0.1", secure: true}
	c.mu.Lock()
	acct := c.accounts[s.Account.ID]
	if acct == nil {
		c.mu.Unlock()
		return Credentials{}, errForeign
	}
	k.now = c.clock.Now()
	k.who = &principal{acct: acct, service: s.Host}
	sess, e := s.assume(k, roleARN, sessionName, duration)
	c.mu.Unlock()
	entry := Entry{Service: "sts", Action: "AssumeRole", CallerAccount: s.Account.ID, Caller: k.who.arn(), TargetAccount: k.target}
	if e != nil {
		entry.Status, entry.Code = e.Status, e.Code
		c.record(k, &entry)
		return Credentials{}, e
	}
	entry.Status = 200
	c.record(k, &entry)
	return sess.credentials(), nil
}

// assumeParams checks AssumeRole's RoleArn and RoleSessionName.
func (k *call) assumeParams(roleARN, session string) (arn.ARN, *Error) {
	a, err := arn.Parse(roleARN)
	if err != nil || !a.IsRole() {
		return arn.ARN{}, k.fail("InvalidParameter.RoleArn", "")
	}
	if arn.ValidateSessionName(session) != nil {
		return arn.ARN{}, k.fail("InvalidParameter.RoleSessionName", "")
	}
	return a, nil
}

func (s *Service) assume(k *call, roleARN, sessionName string, duration time.Duration) (*session, *Error) {
	if _, err := arn.ParseServicePrincipal(s.Host); err != nil || strings.Contains(s.Host, "@") {
		return nil, k.fail("InvalidParameter", "service host "+s.Host)
	}
	a, e := k.assumeParams(roleARN, sessionName)
	if e != nil {
		return nil, e
	}
	sess, _, e := k.assume(assumeRequest{roleARN: a, session: sessionName, seconds: int64(duration / time.Second)})
	return sess, e
}
