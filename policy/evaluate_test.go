package policy

import (
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

const (
	owner  = "1111111111111111" // owns the key / the role
	other  = "2222222222222222" // a recipient account
	third  = "3333333333333333"
	region = "cn-hangzhou"
)

var (
	keyARN    = arn.KMSKey(region, owner, "key-abc").String()
	otherKey  = arn.KMSKey(region, owner, "key-xyz").String()
	ownerUser = Caller{Account: owner, ARN: arn.RAMUser(owner, "alice")}
	ownerRoot = Caller{Account: owner, ARN: arn.AccountRoot(owner)}
	ownerRole = Caller{Account: owner, ARN: arn.MustParse("acs:ram::" + owner + ":assumed-role/KeyAdmin/s1")}
	otherRole = Caller{Account: other, ARN: arn.MustParse("acs:ram::" + other + ":assumed-role/App/s1")}
	otherUser = Caller{Account: other, ARN: arn.RAMUser(other, "bob")}
	thirdRole = Caller{Account: third, ARN: arn.MustParse("acs:ram::" + third + ":assumed-role/App/s1")}
	ecsOwner  = Caller{Account: owner, Service: "ecs.aliyuncs.com"}
	ecsOther  = Caller{Account: other, Service: "ecs.aliyuncs.com"}
	ossOther  = Caller{Account: other, Service: "oss.aliyuncs.com"}
)

func kmsReq(c Caller, action string) Request {
	return Request{Caller: c, Action: action, Resource: keyARN, ResourceAccount: owner}
}

func withCtx(r Request, kv ...string) Request {
	r.Context = map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Context[kv[i]] = append(r.Context[kv[i]], kv[i+1])
	}
	return r
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	defaultKeyPolicy := MustParse(`{"Statement":[{"Action":["kms:*"],"Effect":"Allow","Principal":{"RAM":["acs:ram::` + owner + `:*"]},"Resource":["*"],"Sid":"kms default key policy"}],"Version":"1"}`)
	sharedKeyPolicy := MustParse(`{"Version":"1","Statement":[
		{"Sid":"kms default key policy","Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"kms:*","Resource":"*"},
		{"Sid":"xacct","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/APP","acs:ram::` + other + `:user/bob"]},
		 "Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey","kms:DescribeKey"],"Resource":["*"]}]}`)
	denyDecrypt := MustParse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Action":"kms:*","Resource":"*"},
		{"Sid":"no-decrypt","Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)
	keyScoped := MustParse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Action":["kms:GenerateDataKey","kms:Decrypt","kms:DescribeKey"],"Resource":"acs:kms:*:` + owner + `:key/key-abc"},
		{"Effect":"Allow","Action":"kms:List*","Resource":"acs:kms:` + region + `:` + owner + `:key"}]}`)
	notAction := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","NotAction":["kms:Delete*","kms:ScheduleKeyDeletion"],"Resource":"*"}]}`)
	notResource := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","NotResource":"acs:kms:*:*:key/key-abc"}]}`)
	wildcard := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Generate*","Resource":"acs:kms:cn-*:` + owner + `:key/key-???"}]}`)
	cond := func(op, key, val string) *Document {
		return MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"` + op + `":{"` + key + `":` + val + `}}}]}`)
	}
	denyUnlessVPC := MustParse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"acs:SourceVpc":"vpc-1"}}}]}`)
	andCond := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{
		"StringEquals":{"kms:tag/Project":["Apollo","Gemini"],"acs:SourceVpc":"vpc-1"},"Bool":{"acs:SecureTransport":true}}}]}`)

	trustAccount := MustParse(`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:root"]}}],"Version":"1"}`)
	trustRole := MustParse(`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":"acs:ram::` + other + `:role/Pipeline"}}],"Version":"1"}`)
	trustExtID := MustParse(`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:root"]},"Condition":{"StringEquals":{"sts:ExternalId":"abc-123"}}}],"Version":"1"}`)
	trustECS := MustParse(`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}`)
	trustECSOther := MustParse(`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["` + other + `@ecs.aliyuncs.com"]}}],"Version":"1"}`)
	trustRD := MustParse(`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"StringEquals":{"sts:ServiceOwnerRDId":"rd-abc"}}}],"Version":"1"}`)
	trustFolder := MustParse(`{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"*@ecs.aliyuncs.com"},"Condition":{"StringLike":{"sts:ServiceOwnerRDPath":"rd-abc/r-root/fd-apps*"}}}],"Version":"1"}`)
	roleRes := arn.RAMRole(owner, "AliyunECSShareEncryptImageDefaultRole").String()
	assume := func(c Caller) Request {
		return Request{Caller: c, Action: "sts:AssumeRole", Resource: roleRes, ResourceAccount: owner}
	}

	tests := []struct {
		name string
		req  Request
		docs []*Document
		want Decision
		stmt int // expected deciding statement (in the last doc that decides), -1 for none
	}{
		// Key policies: principals.
		{"default policy admits owner user", kmsReq(ownerUser, "kms:Decrypt"), []*Document{defaultKeyPolicy}, Allowed, 0},
		{"default policy admits owner root", kmsReq(ownerRoot, "kms:ScheduleKeyDeletion"), []*Document{defaultKeyPolicy}, Allowed, 0},
		{"default policy admits owner role session", kmsReq(ownerRole, "kms:GenerateDataKey"), []*Document{defaultKeyPolicy}, Allowed, 0},
		{"default policy ignores other account", kmsReq(otherRole, "kms:Decrypt"), []*Document{defaultKeyPolicy}, ImplicitDeny, -1},
		{"role principal matches session case-insensitively", kmsReq(otherRole, "kms:Decrypt"), []*Document{sharedKeyPolicy}, Allowed, 1},
		{"user principal matches user", kmsReq(otherUser, "kms:GenerateDataKey"), []*Document{sharedKeyPolicy}, Allowed, 1},
		{"shared statement limits actions", kmsReq(otherRole, "kms:ScheduleKeyDeletion"), []*Document{sharedKeyPolicy}, ImplicitDeny, -1},
		{"third account not in policy", kmsReq(thirdRole, "kms:Decrypt"), []*Document{sharedKeyPolicy}, ImplicitDeny, -1},
		{"action names case-insensitive", kmsReq(otherRole, "kms:generatedatakey"), []*Document{sharedKeyPolicy}, Allowed, 1},
		{"service caller never matches RAM principal", kmsReq(ecsOwner, "kms:Decrypt"), []*Document{defaultKeyPolicy}, ImplicitDeny, -1},

		// Identity policies: actions, resources, Not*.
		{"identity allow on key ARN", kmsReq(otherRole, "kms:Decrypt"), []*Document{keyScoped}, Allowed, 0},
		{"identity allow other key denied", Request{Caller: otherRole, Action: "kms:Decrypt", Resource: otherKey}, []*Document{keyScoped}, ImplicitDeny, -1},
		{"List on collection", Request{Caller: otherRole, Action: "kms:ListKeys", Resource: arn.KMSKeyCollection(region, owner).String()}, []*Document{keyScoped}, Allowed, 1},
		{"List not on key", kmsReq(otherRole, "kms:ListKeys"), []*Document{keyScoped}, ImplicitDeny, -1},
		{"NotAction allows others", kmsReq(ownerUser, "kms:Encrypt"), []*Document{notAction}, Allowed, 0},
		{"NotAction excludes listed", kmsReq(ownerUser, "kms:DeleteKeyMaterial"), []*Document{notAction}, ImplicitDeny, -1},
		{"NotAction excludes exact", kmsReq(ownerUser, "kms:ScheduleKeyDeletion"), []*Document{notAction}, ImplicitDeny, -1},
		{"NotResource excludes key", kmsReq(ownerUser, "kms:Encrypt"), []*Document{notResource}, ImplicitDeny, -1},
		{"NotResource allows other key", Request{Caller: ownerUser, Action: "kms:Encrypt", Resource: otherKey}, []*Document{notResource}, Allowed, 0},
		{"wildcards * and ?", kmsReq(ownerUser, "kms:GenerateDataKey"), []*Document{wildcard}, Allowed, 0},
		{"? needs exactly one char", Request{Caller: ownerUser, Action: "kms:GenerateDataKey", Resource: arn.KMSKey(region, owner, "key-abcd").String()}, []*Document{wildcard}, ImplicitDeny, -1},
		{"no docs", kmsReq(ownerUser, "kms:Encrypt"), nil, ImplicitDeny, -1},
		{"nil doc skipped", kmsReq(ownerUser, "kms:Encrypt"), []*Document{nil, keyScoped}, ImplicitDeny, -1},

		// Explicit deny.
		{"deny wins over allow", kmsReq(ownerUser, "kms:Decrypt"), []*Document{denyDecrypt}, ExplicitDeny, 1},
		{"deny only where it applies", kmsReq(ownerUser, "kms:Encrypt"), []*Document{denyDecrypt}, Allowed, 0},
		{"deny in second doc wins over first doc allow", kmsReq(ownerUser, "kms:Decrypt"), []*Document{defaultKeyPolicy, denyDecrypt}, ExplicitDeny, 1},
		{"deny with negated condition, key missing", kmsReq(ownerUser, "kms:Encrypt"), []*Document{denyUnlessVPC}, ExplicitDeny, 1},
		{"deny with negated condition, key matches", withCtx(kmsReq(ownerUser, "kms:Encrypt"), "acs:SourceVpc", "vpc-1"), []*Document{denyUnlessVPC}, Allowed, 0},
		{"deny with negated condition, other vpc", withCtx(kmsReq(ownerUser, "kms:Encrypt"), "acs:SourceVpc", "vpc-2"), []*Document{denyUnlessVPC}, ExplicitDeny, 1},

		// Every condition operator, with a matching and a failing case.
		{"StringEquals match", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Apollo"), []*Document{cond("StringEquals", "kms:tag/Project", `"Apollo"`)}, Allowed, 0},
		{"StringEquals case-sensitive", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "apollo"), []*Document{cond("StringEquals", "kms:tag/Project", `"Apollo"`)}, ImplicitDeny, -1},
		{"StringEquals missing key fails", kmsReq(ownerUser, "kms:Decrypt"), []*Document{cond("StringEquals", "kms:tag/Project", `"Apollo"`)}, ImplicitDeny, -1},
		{"StringEquals values ORed", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Gemini"), []*Document{cond("StringEquals", "kms:tag/Project", `["Apollo","Gemini"]`)}, Allowed, 0},
		{"condition keys case-insensitive", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "KMS:TAG/PROJECT", "Apollo"), []*Document{cond("StringEquals", "kms:tag/Project", `"Apollo"`)}, Allowed, 0},
		{"StringNotEquals differs", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Gemini"), []*Document{cond("StringNotEquals", "kms:tag/Project", `"Apollo"`)}, Allowed, 0},
		{"StringNotEquals same", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Apollo"), []*Document{cond("StringNotEquals", "kms:tag/Project", `"Apollo"`)}, ImplicitDeny, -1},
		{"StringEqualsIgnoreCase", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "APOLLO"), []*Document{cond("StringEqualsIgnoreCase", "kms:tag/Project", `["Apollo"]`)}, Allowed, 0},
		{"StringEqualsIgnoreCase differs", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "APOLLO-2"), []*Document{cond("StringEqualsIgnoreCase", "kms:tag/Project", `["Apollo"]`)}, ImplicitDeny, -1},
		{"StringNotEqualsIgnoreCase", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "apollo"), []*Document{cond("StringNotEqualsIgnoreCase", "kms:tag/Project", `"Apollo"`)}, ImplicitDeny, -1},
		{"StringNotEqualsIgnoreCase differs", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "zeus"), []*Document{cond("StringNotEqualsIgnoreCase", "kms:tag/Project", `"Apollo"`)}, Allowed, 0},
		{"StringLike", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Apollo-11"), []*Document{cond("StringLike", "kms:tag/Project", `"Apollo-*"`)}, Allowed, 0},
		{"StringLike no match", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Gemini"), []*Document{cond("StringLike", "kms:tag/Project", `"Apollo-*"`)}, ImplicitDeny, -1},
		{"StringNotLike", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Gemini"), []*Document{cond("StringNotLike", "kms:tag/Project", `"Apollo-*"`)}, Allowed, 0},
		{"StringNotLike matches", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Apollo-13"), []*Document{cond("StringNotLike", "kms:tag/Project", `"Apollo-*"`)}, ImplicitDeny, -1},
		{"NumericEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "10"), []*Document{cond("NumericEquals", "n", `10`)}, Allowed, 0},
		{"NumericEquals differs", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "10.5"), []*Document{cond("NumericEquals", "n", `"10"`)}, ImplicitDeny, -1},
		{"NumericNotEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "11"), []*Document{cond("NumericNotEquals", "n", `10`)}, Allowed, 0},
		{"NumericLessThan", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "9"), []*Document{cond("NumericLessThan", "n", `10`)}, Allowed, 0},
		{"NumericLessThan equal fails", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "10"), []*Document{cond("NumericLessThan", "n", `10`)}, ImplicitDeny, -1},
		{"NumericLessThanEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "10"), []*Document{cond("NumericLessThanEquals", "n", `10`)}, Allowed, 0},
		{"NumericGreaterThan", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "10"), []*Document{cond("NumericGreaterThan", "n", `10`)}, ImplicitDeny, -1},
		{"NumericGreaterThanEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "10"), []*Document{cond("NumericGreaterThanEquals", "n", `10`)}, Allowed, 0},
		{"Numeric garbage fails", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "ten"), []*Document{cond("NumericGreaterThanEquals", "n", `10`)}, ImplicitDeny, -1},
		{"DateLessThan", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:CurrentTime", "2026-01-01T00:00:00Z"), []*Document{cond("DateLessThan", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`)}, Allowed, 0},
		{"DateLessThan after", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:CurrentTime", "2028-01-01T00:00:00Z"), []*Document{cond("DateLessThan", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`)}, ImplicitDeny, -1},
		{"DateLessThanEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:CurrentTime", "2027-01-01T08:00:00+08:00"), []*Document{cond("DateLessThanEquals", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`)}, Allowed, 0},
		{"DateGreaterThan", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:CurrentTime", "2028-01-01T00:00:00Z"), []*Document{cond("DateGreaterThan", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`)}, Allowed, 0},
		{"DateGreaterThanEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:CurrentTime", "2026-12-31T23:59:59Z"), []*Document{cond("DateGreaterThanEquals", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`)}, ImplicitDeny, -1},
		{"DateEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:CurrentTime", "2027-01-01T00:00:00.000Z"), []*Document{cond("DateEquals", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`)}, Allowed, 0},
		{"DateNotEquals", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:CurrentTime", "2027-01-01T00:00:00Z"), []*Document{cond("DateNotEquals", "acs:CurrentTime", `"2027-01-01T00:00:00Z"`)}, ImplicitDeny, -1},
		{"Bool true", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SecureTransport", "true"), []*Document{cond("Bool", "acs:SecureTransport", `true`)}, Allowed, 0},
		{"Bool quoted and case", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SecureTransport", "TRUE"), []*Document{cond("Bool", "acs:SecureTransport", `"true"`)}, Allowed, 0},
		{"Bool false", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SecureTransport", "false"), []*Document{cond("Bool", "acs:SecureTransport", `true`)}, ImplicitDeny, -1},
		{"IpAddress CIDR", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SourceIp", "192.168.1.20"), []*Document{cond("IpAddress", "acs:SourceIp", `["10.0.0.0/8","192.168.1.0/24"]`)}, Allowed, 0},
		{"IpAddress single IP", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SourceIp", "203.0.113.7"), []*Document{cond("IpAddress", "acs:SourceIp", `"203.0.113.7"`)}, Allowed, 0},
		{"IpAddress outside", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SourceIp", "172.16.0.1"), []*Document{cond("IpAddress", "acs:SourceIp", `["10.0.0.0/8"]`)}, ImplicitDeny, -1},
		{"IpAddress IPv6", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SourceIp", "2001:db8::1"), []*Document{cond("IpAddress", "acs:SourceIp", `"2001:db8::/32"`)}, Allowed, 0},
		{"NotIpAddress outside", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SourceIp", "172.16.0.1"), []*Document{cond("NotIpAddress", "acs:SourceIp", `["10.0.0.0/8"]`)}, Allowed, 0},
		{"NotIpAddress inside", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "acs:SourceIp", "10.1.2.3"), []*Document{cond("NotIpAddress", "acs:SourceIp", `["10.0.0.0/8"]`)}, ImplicitDeny, -1},
		{"operators lower case", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "n", "3"), []*Document{cond("numericlessthan", "n", `10`)}, Allowed, 0},
		{"keys and operators ANDed: all hold", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Gemini", "acs:SourceVpc", "vpc-1", "acs:SecureTransport", "true"), []*Document{andCond}, Allowed, 0},
		{"keys ANDed: one key missing", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Gemini", "acs:SecureTransport", "true"), []*Document{andCond}, ImplicitDeny, -1},
		{"operators ANDed: Bool fails", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Gemini", "acs:SourceVpc", "vpc-1", "acs:SecureTransport", "false"), []*Document{andCond}, ImplicitDeny, -1},
		{"multi-valued request key", withCtx(kmsReq(ownerUser, "kms:Decrypt"), "kms:tag/Project", "Zeus", "kms:tag/Project", "Apollo"), []*Document{cond("StringEquals", "kms:tag/Project", `"Apollo"`)}, Allowed, 0},

		// Trust policies.
		{"trust root admits user of account", assume(otherUser), []*Document{trustAccount}, Allowed, 0},
		{"trust root admits role session of account", assume(otherRole), []*Document{trustAccount}, Allowed, 0},
		{"trust root rejects other account", assume(thirdRole), []*Document{trustAccount}, ImplicitDeny, -1},
		{"trust role admits only that role", assume(otherRole), []*Document{trustRole}, ImplicitDeny, -1},
		{"trust role admits its session", assume(Caller{Account: other, ARN: arn.MustParse("acs:ram::" + other + ":assumed-role/pipeline/run-7")}), []*Document{trustRole}, Allowed, 0},
		{"ExternalId required", assume(otherUser), []*Document{trustExtID}, ImplicitDeny, -1},
		{"ExternalId wrong", withCtx(assume(otherUser), "sts:ExternalId", "abc-124"), []*Document{trustExtID}, ImplicitDeny, -1},
		{"ExternalId right", withCtx(assume(otherUser), "sts:ExternalId", "abc-123"), []*Document{trustExtID}, Allowed, 0},
		{"service same account", assume(ecsOwner), []*Document{trustECS}, Allowed, 0},
		{"plain service principal rejects other account (AssumeRoleError)", assume(ecsOther), []*Document{trustECS}, ImplicitDeny, -1},
		{"uid@service admits that account", assume(ecsOther), []*Document{trustECSOther}, Allowed, 0},
		{"uid@service rejects own account", assume(ecsOwner), []*Document{trustECSOther}, ImplicitDeny, -1},
		{"uid@service rejects other service", assume(ossOther), []*Document{trustECSOther}, ImplicitDeny, -1},
		{"RAM identity never matches service principal", assume(otherRole), []*Document{trustECSOther}, ImplicitDeny, -1},
		{"*@ecs with RD id", withCtx(assume(ecsOther), "sts:ServiceOwnerRDId", "rd-abc"), []*Document{trustRD}, Allowed, 0},
		{"*@ecs other RD", withCtx(assume(ecsOther), "sts:ServiceOwnerRDId", "rd-xyz"), []*Document{trustRD}, ImplicitDeny, -1},
		{"*@ecs not in any RD", assume(ecsOther), []*Document{trustRD}, ImplicitDeny, -1},
		{"folder path below", withCtx(assume(ecsOther), "sts:ServiceOwnerRDPath", "rd-abc/r-root/fd-apps/fd-team/"+other), []*Document{trustFolder}, Allowed, 0},
		{"folder path itself", withCtx(assume(ecsOther), "sts:ServiceOwnerRDPath", "rd-abc/r-root/fd-apps/"+other), []*Document{trustFolder}, Allowed, 0},
		{"folder path sibling", withCtx(assume(ecsOther), "sts:ServiceOwnerRDPath", "rd-abc/r-root/fd-ops/"+other), []*Document{trustFolder}, ImplicitDeny, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate(tt.req, tt.docs...)
			if got.Decision != tt.want || got.Statement != tt.stmt {
				t.Errorf("Evaluate = %+v, want %v decided by statement %d", got, tt.want, tt.stmt)
			}
			if (got.Document == -1) != (got.Statement == -1) {
				t.Errorf("inconsistent result %+v", got)
			}
		})
	}
}

// TestUnknownOperatorFailsClosed: a document that skipped Validate and has
// an operator nobody can evaluate never allows, and its Deny still denies.
func TestUnknownOperatorFailsClosed(t *testing.T) {
	t.Parallel()
	d := MustParse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"k":"v"}}},
		{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"StringMaybe":{"k":"v"}}}]}`)
	if got := Evaluate(kmsReq(ownerUser, "kms:Decrypt"), d); got.Decision != ExplicitDeny || got.Statement != 1 {
		t.Errorf("Decrypt: %+v, want the Deny to apply", got)
	}
	if got := Evaluate(kmsReq(ownerUser, "kms:Encrypt"), d); got.Decision != Allowed || got.Statement != 0 {
		t.Errorf("Encrypt: %+v, want the plain Allow (not the unknown-operator one)", got)
	}
}

func TestEvaluateAccess(t *testing.T) {
	t.Parallel()
	keyPolicy := MustParse(`{"Version":"1","Statement":[
		{"Sid":"kms default key policy","Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"kms:*","Resource":"*"},
		{"Sid":"xacct","Effect":"Allow","Principal":{"RAM":["acs:ram::` + other + `:role/app"]},"Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*"}]}`)
	ownerOnly := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:user/admin"},"Action":"kms:*","Resource":"*"}]}`)
	ramAllow := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"` + keyARN + `"}]}`)
	ramOtherKey := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"` + otherKey + `"}]}`)
	ramDeny := MustParse(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}`)
	keyDenyOther := MustParse(`{"Version":"1","Statement":[
		{"Effect":"Allow","Principal":{"RAM":"acs:ram::` + owner + `:*"},"Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Principal":{"RAM":"acs:ram::` + owner + `:user/alice"},"Action":"kms:Decrypt","Resource":"*"}]}`)

	tests := []struct {
		name            string
		req             Request
		key             *Document
		ram             []*Document
		allowed         bool
		resource, ident Decision
	}{
		{"same account: key policy alone", kmsReq(ownerUser, "kms:Decrypt"), keyPolicy, nil, true, Allowed, ImplicitDeny},
		{"same account: RAM policy alone", kmsReq(ownerUser, "kms:Decrypt"), ownerOnly, []*Document{ramAllow}, true, ImplicitDeny, Allowed},
		{"same account: neither", kmsReq(ownerUser, "kms:Decrypt"), ownerOnly, []*Document{ramOtherKey}, false, ImplicitDeny, ImplicitDeny},
		{"same account: key policy Deny beats RAM Allow", kmsReq(ownerUser, "kms:Decrypt"), keyDenyOther, []*Document{ramAllow}, false, ExplicitDeny, Allowed},
		{"same account: RAM Deny beats key policy Allow", kmsReq(ownerUser, "kms:Decrypt"), keyPolicy, []*Document{ramDeny}, false, Allowed, ExplicitDeny},
		{"cross account: both sides allow", kmsReq(otherRole, "kms:Decrypt"), keyPolicy, []*Document{ramAllow}, true, Allowed, Allowed},
		{"cross account: key policy only", kmsReq(otherRole, "kms:Decrypt"), keyPolicy, nil, false, Allowed, ImplicitDeny},
		{"cross account: RAM policy only", kmsReq(otherRole, "kms:Decrypt"), ownerOnly, []*Document{ramAllow}, false, ImplicitDeny, Allowed},
		{"cross account: RAM allows another key", kmsReq(otherRole, "kms:Decrypt"), keyPolicy, []*Document{ramOtherKey}, false, Allowed, ImplicitDeny},
		{"cross account: action outside key grant", kmsReq(otherRole, "kms:Encrypt"), keyPolicy, []*Document{ramDeny}, false, ImplicitDeny, Allowed},
		{"cross account: RAM Deny", kmsReq(otherRole, "kms:Decrypt"), keyPolicy, []*Document{ramDeny}, false, Allowed, ExplicitDeny},
		{"cross account: other account's RAM user not granted", kmsReq(otherUser, "kms:Decrypt"), keyPolicy, []*Document{ramAllow}, false, ImplicitDeny, Allowed},
		{"account taken from the ARN when not given", kmsReq(Caller{ARN: ownerUser.ARN}, "kms:Decrypt"), keyPolicy, nil, true, Allowed, ImplicitDeny},
		{"cross account from the ARN alone", kmsReq(Caller{ARN: otherRole.ARN}, "kms:Decrypt"), keyPolicy, nil, false, Allowed, ImplicitDeny},
		{"Account and ARN disagree: no principal admits it", kmsReq(Caller{Account: owner, ARN: otherUser.ARN}, "kms:Decrypt"), keyPolicy, []*Document{ramAllow}, false, ImplicitDeny, Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := EvaluateAccess(tt.req, tt.key, tt.ram...)
			if got.Allowed != tt.allowed || got.Resource.Decision != tt.resource || got.Identity.Decision != tt.ident {
				t.Errorf("EvaluateAccess = %+v; want allowed=%v resource=%v identity=%v", got, tt.allowed, tt.resource, tt.ident)
			}
		})
	}
}
