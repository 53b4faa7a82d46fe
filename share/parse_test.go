package share_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/kmsshare/kmsshare/share"
)

// TestParseRefusesTrailingData: ParseSpec and ParseManifest read one JSON
// value; anything after it (but white space) is a *SpecError saying where.
func TestParseRefusesTrailingData(t *testing.T) {
	t.Parallel()
	spec := `{"key":"acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7","recipients":[{"account":"2222222222222222"}]}`
	manifest := `{"version":1,"grants":[{"keys":["acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"],"recipients":{"accounts":["2222222222222222"]}}]}`
	parsers := map[string]func(string) error{
		"spec":               func(s string) error { _, err := share.ParseSpec([]byte(s), ""); return err },
		"manifest":           func(s string) error { _, err := share.ParseManifest([]byte(s)); return err },
		"manifest of a spec": func(s string) error { _, err := share.ParseManifest([]byte(s)); return err },
	}
	docs := map[string]string{"spec": spec, "manifest": manifest, "manifest of a spec": spec}
	for name, parse := range parsers {
		doc := docs[name]
		if err := parse(doc + " \n\t"); err != nil {
			t.Errorf("%s with trailing white space: %v", name, err)
		}
		for _, tail := range []string{"x", "{}", `{"key":"other"}`, ",", "]"} {
			err := parse(doc + "\n " + tail)
			var se *share.SpecError
			if !errors.As(err, &se) || !errors.Is(err, share.ErrInvalidSpec) {
				t.Errorf("%s followed by %q: %v, want a *SpecError", name, tail, err)
				continue
			}
			if want := "at byte " + strconv.Itoa(len(doc)+2); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "data after") {
				t.Errorf("%s followed by %q: %v does not say where (%s)", name, tail, err, want)
			}
		}
	}
}

// TestInventoryValidatesItsKey: Inventory without a spec checks the key ARN
// itself, before any call, and reads a valid key's policy.
func TestInventoryValidatesItsKey(t *testing.T) {
	t.Parallel()
	lz := newLandingZone(t, lzOptions{members: 1})
	c := lz.client(t)
	ctx := context.Background()
	seq := lz.lastSeq()
	for _, key := range []string{"", "key-abc", "acs:kms:cn-shanghai:1192853035118460:key/key-abc", "acs:ram::1192853035118460:role/app"} {
		var se *share.SpecError
		if _, err := c.Inventory(ctx, key, nil); !errors.As(err, &se) || se.Problems[0].Field != "key" {
			t.Errorf("Inventory(%q): %v, want a *SpecError about the key", key, err)
		}
	}
	other := lz.spec(lz.members...)
	other.Key = "acs:kms:cn-hangzhou:1192853035118460:key/key-other"
	if _, err := c.Inventory(ctx, lz.key.ARN, other); !errors.Is(err, share.ErrInvalidSpec) {
		t.Errorf("Inventory with the spec of another key: %v", err)
	}
	if n := lz.lastSeq() - seq; n != 0 {
		t.Errorf("bad input reached the cloud: %d requests", n)
	}
	inv, err := c.Inventory(ctx, lz.key.ARN, nil)
	if err != nil || inv.Key.ARN != lz.key.ARN || inv.Drift != nil {
		t.Fatalf("Inventory = %+v, %v", inv, err)
	}
}
