package ecsroles

import (
	"testing"

	"github.com/kmsshare/kmsshare/arn"
)

// The builders run once per plan, so these only guard against a gross
// regression (DiskEncrypt parses the embedded policy on every call).
func BenchmarkDiskEncrypt(b *testing.B) {
	for _, bb := range []struct {
		name string
		keys []arn.ARN
	}{
		{"published", nil},
		{"two-keys", []arn.ARN{gKey(), gRecipientKey()}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DiskEncrypt(bb.keys...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkShareEncryptImage(b *testing.B) {
	for _, bb := range []struct {
		name  string
		trust Trusted
	}{
		{"accounts", Accounts(gUID1, gUID2)},
		{"folder", Folder(gFolder)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ShareEncryptImage(gOwner, bb.trust, gKey()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
