package policy

import (
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

// benchDoc is a 10-statement key policy with conditions, the shape of a
// Security account key shared with several members.
func benchDoc(b *testing.B) *Document {
	d, err := Parse([]byte(`{"Version":"1","Statement":[
	{"Sid":"kms default key policy","Effect":"Allow","Principal":{"RAM":["acs:ram::1111111111111111:*"]},"Action":["kms:*"],"Resource":["*"]},
	{"Sid":"admins","Effect":"Allow","Principal":{"RAM":["acs:ram::1111111111111111:user/admin","acs:ram::1111111111111111:role/keyadmins"]},"Action":["kms:List*","kms:Describe*","kms:Create*","kms:Enable*","kms:Disable*","kms:Get*","kms:Set*","kms:Update*","kms:Delete*","kms:Cancel*","kms:TagResource","kms:UntagResource","kms:ImportKeyMaterial","kms:ScheduleKeyDeletion"],"Resource":["*"]},
	{"Sid":"app1","Effect":"Allow","Principal":{"RAM":["acs:ram::2000000000000001:role/resourcedirectoryaccountaccessrole"]},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Resource":["*"],"Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","172.16.0.0/12"]}}},
	{"Sid":"app2","Effect":"Allow","Principal":{"RAM":["acs:ram::2000000000000002:role/resourcedirectoryaccountaccessrole"]},"Action":["kms:Encrypt","kms:Decrypt","kms:GenerateDataKey"],"Resource":["*"],"Condition":{"StringEquals":{"acs:SourceVpc":["vpc-a","vpc-b"]}}},
	{"Sid":"app3","Effect":"Allow","Principal":{"RAM":["acs:ram::2000000000000003:role/app"]},"Action":["kms:Decrypt"],"Resource":["*"],"Condition":{"Bool":{"acs:SecureTransport":"true"}}},
	{"Sid":"app4","Effect":"Allow","Principal":{"RAM":["acs:ram::2000000000000004:role/app","acs:ram::2000000000000004:user/svc"]},"Action":["kms:GenerateDataKey","kms:DescribeKey"],"Resource":["*"]},
	{"Sid":"expiring","Effect":"Allow","Principal":{"RAM":["acs:ram::2000000000000005:role/contractor"]},"Action":["kms:Decrypt"],"Resource":["*"],"Condition":{"DateLessThan":{"acs:CurrentTime":"2027-06-30T00:00:00Z"}}},
	{"Sid":"deny-delete","Effect":"Deny","Principal":{"RAM":["acs:ram::1111111111111111:*"]},"Action":["kms:ScheduleKeyDeletion","kms:DeleteKeyMaterial"],"Resource":["*"],"Condition":{"Bool":{"acs:MFAPresent":"false"}}},
	{"Sid":"deny-outside","Effect":"Deny","Principal":{"RAM":["acs:ram::2000000000000001:*","acs:ram::2000000000000002:*"]},"Action":["kms:*"],"Resource":["*"],"Condition":{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","172.16.0.0/12"]}}},
	{"Sid":"tagged","Effect":"Allow","Principal":{"RAM":["acs:ram::2000000000000006:role/app"]},"Action":["kms:Encrypt"],"Resource":["*"],"Condition":{"StringLike":{"kms:tag/Project":"Apollo-*"}}}
	]}`))
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func BenchmarkEvaluate(b *testing.B) {
	d := benchDoc(b)
	req := Request{
		Caller:          Caller{Account: "2000000000000002", ARN: arn.MustParse("acs:ram::2000000000000002:assumed-role/ResourceDirectoryAccountAccessRole/verify")},
		Action:          "kms:GenerateDataKey",
		Resource:        "acs:kms:cn-hangzhou:1111111111111111:key/key-hzz6801a1b2c3d4e5f6g7",
		ResourceAccount: "1111111111111111",
		Context: map[string][]string{
			"acs:SourceIp":        {"10.1.2.3"},
			"acs:SourceVpc":       {"vpc-b"},
			"acs:SecureTransport": {"true"},
			"acs:CurrentTime":     {"2026-11-23T08:00:00Z"},
		},
	}
	if r := Evaluate(req, d); r.Decision != Allowed || r.Sid != "app2" {
		b.Fatalf("unexpected decision %+v", r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if Evaluate(req, d).Decision != Allowed {
			b.Fatal("decision changed")
		}
	}
}

func BenchmarkParseKeyPolicy(b *testing.B) {
	data, _ := benchDoc(b).Marshal()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshal(b *testing.B) {
	d := benchDoc(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := d.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDiff(b *testing.B) {
	old := benchDoc(b)
	new := benchDoc(b)
	new.Statement = new.Statement[1:]
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(Diff(old, new)) == 0 {
			b.Fatal("no changes")
		}
	}
}
