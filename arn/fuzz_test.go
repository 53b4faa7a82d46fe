package arn

import (
	"errors"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7",
		"acs:ram::1192853035118460:role/ECSAdmin",
		"acs:ram::1192853035118460:assumed-role/app/s1",
		"acs:ram::119285303511****:root",
		"acs:kms:*:*:*/*",
		"acs:ecs:cn-hangzhou:1:instance/a:b:c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, parse := range []func(string) (ARN, error){Parse, ParsePattern} {
			a, err := parse(s)
			if err != nil {
				var ae *Error
				if !errors.As(err, &ae) || !errors.Is(err, ErrInvalid) || ae.Input != s {
					t.Fatalf("parse(%q) returned an untyped error %v", s, err)
				}
				continue
			}
			if a.String() != s {
				t.Fatalf("parse(%q).String() = %q", s, a.String())
			}
			b, err := parse(a.String())
			if err != nil || b != a {
				t.Fatalf("round trip of %q: %+v, %v; want %+v", s, b, err, a)
			}
		}
		if a, err := Parse(s); err == nil {
			if _, err := ParsePattern(s); err != nil {
				t.Fatalf("Parse accepts %q but ParsePattern rejects it: %v", s, err)
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("Parse accepts %q but Validate rejects it: %v", s, err)
			}
		}
	})
}

func FuzzParseServicePrincipal(f *testing.F) {
	for _, s := range []string{"ecs.aliyuncs.com", "1192853035118460@ecs.aliyuncs.com", "*@ecs.aliyuncs.com", "<UID>@ecs.aliyuncs.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseServicePrincipal(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("round trip of %q gave %q", s, p.String())
		}
	})
}
