package lesson

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/share"
)

// newTestFlags is a flag set like the examples': -key, a list, -region,
// -apply, -revoke, and an emulator flag.
func newTestFlags(stderr *bytes.Buffer) (*Flags, *[]string, *int) {
	f := NewFlags("demo", "Workflow W0: a demonstration.\n", stderr)
	var members []string
	var n int
	f.KeyFlag("the key")
	f.ListFlag(&members, "members", "member UIDs")
	f.WriteFlags("write", "unwrite")
	f.IntVar(&n, "n", 1, "emulator: a number")
	return f, &members, &n
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string // "" for none; "help" for flag.ErrHelp
		members []string
	}{
		{"emulator", []string{"-n", "3"}, "", nil},
		{"help", []string{"-h"}, "help", nil},
		{"unknown flag", []string{"-x"}, "usage: flag provided but not defined: -x", nil},
		{"arguments", []string{"-n", "2", "a"}, `usage: unexpected arguments ["a"]`, nil},
		{"real-only flag", []string{"-apply"}, "usage: -key, -members, -region, -apply and -revoke are for -real; the emulator knows", nil},
		{"real without needs", []string{"-real", "-key", "k"}, "usage: -real needs -key and -members", nil},
		{"real", []string{"-real", "-key", "k", "-members", " a, ,b", "-apply"}, "", []string{"a", "b"}},
		{"last list wins", []string{"-real", "-key", "k", "-members", "a", "-members", "c"}, "", []string{"c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			f, members, _ := newTestFlags(&stderr)
			err := f.Parse(tc.args, "the emulator knows", "key", "members")
			switch {
			case tc.wantErr == "help":
				if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr.String(), "usage: demo [flags]\n\nWorkflow W0: a demonstration.\n\nFlags:\n") {
					t.Errorf("err %v, usage:\n%s", err, stderr.String())
				}
			case tc.wantErr == "":
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(*members) != fmt.Sprint(tc.members) {
					t.Errorf("members %q, want %q", *members, tc.members)
				}
			default:
				if err == nil || err.Error() != tc.wantErr || !errors.Is(err, ErrUsage) {
					t.Errorf("err %v, want %q matching ErrUsage", err, tc.wantErr)
				}
			}
		})
	}
}

func TestExit(t *testing.T) {
	t.Parallel()
	other := errors.New("other")
	for _, tc := range []struct {
		err    error
		usage  []error
		code   int
		stderr string
	}{
		{nil, nil, 0, ""},
		{flag.ErrHelp, nil, 0, ""},
		{Usagef("bad %s", "flag"), nil, 2, "demo: usage: bad flag\n"},
		{fmt.Errorf("wrapped: %w", other), []error{other}, 2, "demo: wrapped: other\n"},
		{other, nil, 1, "demo: other\n"},
		{errors.New("demo: already prefixed"), nil, 1, "demo: already prefixed\n"},
	} {
		var stderr bytes.Buffer
		if code := Exit("demo", &stderr, tc.err, tc.usage...); code != tc.code || stderr.String() != tc.stderr {
			t.Errorf("Exit(%v) = %d, %q; want %d, %q", tc.err, code, stderr.String(), tc.code, tc.stderr)
		}
	}
}

// TestRealClient: a bad spec is refused before credentials are looked
// for; without credentials nothing is printed.
func TestRealClient(t *testing.T) {
	t.Parallel()
	var stderr, out bytes.Buffer
	f, _, _ := newTestFlags(&stderr)
	home := t.TempDir()
	noCreds := func(k string) string {
		if k == "HOME" {
			return home
		}
		return ""
	}
	p := narrate.New(&out)
	bad := &share.Spec{Key: "acs:kms:cn-hangzhou:119285303511****:key/key-x", Recipients: []share.Recipient{{Account: "2222222222222222"}}}
	if _, err := f.RealClient(p, noCreds, "W0", bad); !errors.Is(err, share.ErrInvalidSpec) {
		t.Errorf("masked key: %v", err)
	}
	good := &share.Spec{Key: "acs:kms:cn-hangzhou:1192853035118460:key/key-x", Recipients: []share.Recipient{{Account: "2222222222222222"}}}
	if _, err := f.RealClient(p, noCreds, "W0", good); !errors.Is(err, ErrNoCredentials) {
		t.Errorf("no credentials: %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("printed before failing:\n%s", out.String())
	}
}

func TestNarration(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	p := narrate.New(&out)
	f := &Flags{}
	f.ReadOnlyNote(p)
	End(p, false, "share it")
	End(p, true, "share it")
	boom := errors.New("boom")
	if err := Planned(p, nil, boom); err != boom {
		t.Errorf("Planned passed on %v", err)
	}
	if err := Applied(p, nil, boom); err != boom {
		t.Errorf("Applied passed on %v", err)
	}
	want := "Read-only: only the plan is made (-apply and -revoke write).\n" +
		"\nNothing was changed. Run again with -apply to share it.\n" +
		"\nDone.\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}
