package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
	"github.com/kmsshare/kmsshare/share"
)

// parseSpec decodes a spec file strictly (unknown fields refused) and
// validates it with share, saying where malformed JSON goes wrong by line
// and column. Its errors are *share.SpecError.
func parseSpec(data []byte) (*share.Spec, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, specProblem("", "the spec is empty; want a JSON object such as "+
			`{"key": "acs:kms:<region>:<owner-uid>:key/<key-id>", "recipients": [{"account": "<uid>"}]}`, nil)
	}
	var s share.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, specProblem("", "malformed JSON: "+jsonProblem(data, err), err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, specProblem("", "malformed JSON: "+position(data, dec.InputOffset())+": more after the spec's closing brace", nil)
	}
	if err := s.Validate(""); err != nil {
		return nil, err
	}
	return &s, nil
}

func specProblem(field, reason string, err error) *share.SpecError {
	return &share.SpecError{Problems: []share.SpecProblem{{Field: field, Reason: reason, Err: err}}}
}

// jsonProblem describes a JSON decoding error with the line and column it
// happened at, as lint does for policies.
func jsonProblem(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return position(data, syn.Offset-1) + ": " + strings.TrimPrefix(syn.Error(), "json: ")
	case errors.As(err, &typ):
		what := typ.Field
		if what == "" {
			what = "the value"
		}
		return fmt.Sprintf("%s: %s must be %s, not a JSON %s", position(data, typ.Offset), what, typ.Type, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return position(data, int64(len(data))) + ": unexpected end of the JSON (an unclosed brace, bracket or string?)"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if m := unknownField.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(data, []byte(`"`+m[1]+`"`)); i >= 0 {
			return position(data, int64(i)) + ": " + msg
		}
	}
	return msg
}

var unknownField = regexp.MustCompile(`^unknown field "(.*)"$`)

// position renders a byte offset as "line L, column C" (both from 1;
// columns count bytes).
func position(data []byte, offset int64) string {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// checkNames catches what people mistype and share cannot know: a key in a
// region that does not exist, account IDs that are not the 16 digits every
// Alibaba Cloud account has, and a -region that is not the key's.
func (inv *invocation) checkNames() error {
	o := inv.opts
	key := inv.spec.KeyARN()
	var ps []share.SpecProblem
	if p := realcloud.RegionProblem(key.Region); p != "" && !o.allowUnknownRegion {
		ps = append(ps, share.SpecProblem{Field: "key", Value: inv.spec.Key,
			Reason: fmt.Sprintf("region %q: %s (-allow-unknown-region for a region newer than keyshare)", key.Region, p)})
	}
	if !o.allowAnyAccountID {
		for i, r := range inv.spec.Recipients {
			if !accountID.MatchString(r.Account) {
				ps = append(ps, share.SpecProblem{Field: fmt.Sprintf("recipients[%d].account", i), Value: r.Account,
					Reason: fmt.Sprintf("Alibaba Cloud account IDs are 16 digits; this has %d (-allow-any-account-id if it is right)", len(r.Account))})
			}
		}
		if !accountID.MatchString(key.AccountID) {
			ps = append(ps, share.SpecProblem{Field: "key", Value: inv.spec.Key,
				Reason: fmt.Sprintf("the owner account ID %s is not 16 digits (-allow-any-account-id if it is right)", key.AccountID)})
		}
	}
	if len(ps) > 0 {
		return &share.SpecError{Problems: ps}
	}
	if o.region == "" {
		return nil
	}
	if p := realcloud.RegionProblem(o.region); p != "" && !o.allowUnknownRegion {
		return fmt.Errorf("%w: -region %s: %s (-allow-unknown-region for a region newer than keyshare)", errUsage, o.region, p)
	}
	if o.region != key.Region {
		return fmt.Errorf("%w: -region %s is not the key's region %s: a key is reached only in its own region; "+
			"leave -region out (it defaults to the key's) or fix it", errUsage, o.region, key.Region)
	}
	return nil
}

var accountID = regexp.MustCompile(`^[0-9]{16}$`)
