package share

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// ParseSpec decodes a JSON spec strictly and validates it (region ""
// skips the region check): it returns a valid spec or a *SpecError, which
// says where the JSON goes wrong for an unknown field, a value of the wrong
// type, or anything after the spec's one JSON value.
func ParseSpec(data []byte, region string) (*Spec, error) {
	var s Spec
	if err := decodeStrict(data, &s, "spec"); err != nil {
		return nil, err
	}
	if err := s.Validate(region); err != nil {
		return nil, err
	}
	return &s, nil
}

// decodeStrict decodes data, one JSON value, into v with unknown fields
// refused; what names the document in errors ("spec", "manifest").
func decodeStrict(data []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &SpecError{Problems: []SpecProblem{{Field: what, Reason: "not a valid JSON " + what + ": " + err.Error(), Err: err}}}
	}
	end := dec.InputOffset()
	if _, err := dec.Token(); err != io.EOF {
		off := end + int64(len(data[end:])-len(bytes.TrimLeft(data[end:], " \t\r\n")))
		return &SpecError{Problems: []SpecProblem{{Field: what, Value: excerpt(data[off:]),
			Reason: fmt.Sprintf("data after the %s's JSON value, at byte %d; a %s is one JSON object", what, off, what)}}}
	}
	return nil
}

// excerpt is the start of b, for an error message.
func excerpt(b []byte) string {
	r := []rune(string(bytes.TrimSpace(b)))
	if len(r) > 20 {
		return string(r[:20]) + "…"
	}
	return string(r)
}

// ParseManifest decodes a manifest, or a single-key Spec (an object with a
// "key" field and no "version"), strictly: an unknown field anywhere is an
// error naming its place, and so is anything after the one JSON value. It
// returns a valid manifest (region "": no region check) or a *SpecError.
func ParseManifest(data []byte) (*Manifest, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		raw = data // json.Unmarshal below says what is wrong, as it always has
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, &SpecError{Problems: []SpecProblem{{Field: "manifest", Reason: "not a JSON object: " + err.Error(), Err: err}}}
	}
	if err := decodeStrict(data, new(json.RawMessage), "manifest"); err != nil {
		return nil, err // data after the manifest
	}
	if _, isSpec := probe["key"]; isSpec {
		if _, versioned := probe["version"]; !versioned {
			s, err := ParseSpec(data, "")
			if err != nil {
				return nil, err
			}
			return manifestFromSpec(s), nil
		}
	}
	var ps []SpecProblem
	var generic any
	if err := json.Unmarshal(raw, &generic); err == nil {
		checkFields(generic, "manifest", "", &ps)
	}
	if len(ps) > 0 {
		return nil, &SpecError{Problems: ps}
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, &SpecError{Problems: []SpecProblem{{Field: "manifest", Reason: "not a valid manifest: " + err.Error(), Err: err}}}
	}
	if err := m.validate(""); err != nil {
		return nil, err
	}
	return &m, nil
}

// checkFields reports the fields of v (an object of the given kind at
// path) that the format does not have, and descends into the known ones.
func checkFields(v any, kind, path string, ps *[]SpecProblem) {
	obj, ok := v.(map[string]any)
	if !ok {
		return // the typed decode reports wrong types
	}
	at := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !slices.Contains(manifestFields[kind], name) {
			*ps = append(*ps, SpecProblem{Field: at(name), Reason: fmt.Sprintf("unknown field (the fields of a %s object are %s)", kind, strings.Join(manifestFields[kind], ", "))})
			continue
		}
		child := obj[name]
		list := func(kind string) {
			if items, ok := child.([]any); ok {
				for i, it := range items {
					checkFields(it, kind, fmt.Sprintf("%s[%d]", at(name), i), ps)
				}
			}
		}
		switch {
		case kind == "manifest" && name == "grants":
			list("grant")
		case kind == "grant" && name == "recipients":
			checkFields(child, "selector", at(name), ps)
		case (kind == "selector" || kind == "exclusion") && name == "folders":
			list("folder")
		case kind == "selector" && name == "exclude":
			checkFields(child, "exclusion", at(name), ps)
		}
	}
}

// manifestFields are the JSON fields each object of a manifest may have,
// by the kind of object; ParseManifest names the place of any other.
var manifestFields = map[string][]string{
	"manifest":  {"version", "grants"},
	"grant":     {"keys", "recipients", "principal", "name", "actions", "accessRole"},
	"selector":  {"accounts", "folders", "directory", "exclude"},
	"folder":    {"folder", "subfolders"},
	"exclusion": {"accounts", "folders"},
}
