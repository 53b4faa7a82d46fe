package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Parse decodes a policy document. Malformed JSON (with its line and
// column), duplicate or unknown fields, a Version other than "1" and
// elements of the wrong type are reported as an *Error listing every problem
// with its JSON pointer. Parse does not apply the rules of a kind; see
// Validate.
func Parse(data []byte) (*Document, error) {
	topKeys, err := checkSyntax(data)
	if err != nil {
		return nil, err
	}
	var ps problems
	var top map[string]json.RawMessage
	if json.Unmarshal(data, &top) != nil || top == nil {
		ps.add("", "a policy document is a JSON object")
		return nil, ps.err(0)
	}
	d := &Document{versionFirst: slices.Index(topKeys, "Version") < slices.Index(topKeys, "Statement")}
	for key, raw := range top {
		switch key {
		case "Version":
			if json.Unmarshal(raw, &d.Version) != nil {
				ps.add("/Version", `want the string "1"`)
			} else if d.Version != Version {
				ps.add("/Version", `Version must be "1", not %q`, d.Version)
			}
		case "Statement":
			var list []json.RawMessage
			if json.Unmarshal(raw, &list) != nil || list == nil {
				ps.add("/Statement", "want a list of statements")
				continue
			}
			d.Statement = make([]Statement, len(list))
			for i, s := range list {
				d.Statement[i] = parseStatement(s, pointer("/Statement", i), &ps)
			}
		default:
			ps.add(pointer("", key), "unknown field %q (a document has Version and Statement)", key)
		}
	}
	if _, ok := top["Version"]; !ok {
		ps.add("", `missing Version; it must be "1"`)
	}
	if _, ok := top["Statement"]; !ok {
		ps.add("", "missing Statement")
	}
	if len(ps) > 0 {
		sortProblems(ps)
		return nil, ps.err(0)
	}
	return d, nil
}

// MustParse is Parse for literals in code and tests; it panics on error.
func MustParse(s string) *Document {
	d, err := Parse([]byte(s))
	if err != nil {
		panic(err)
	}
	return d
}

// sortProblems orders problems by path, so reports do not depend on map
// iteration order.
func sortProblems(ps problems) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Path < ps[j].Path })
}

func parseStatement(raw json.RawMessage, path string, ps *problems) Statement {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		ps.add(path, "a statement is a JSON object")
		return Statement{}
	}
	var s Statement
	before := len(*ps)
	for key, v := range fields {
		p := pointer(path, key)
		switch key {
		case "Sid":
			if isNull(v) || json.Unmarshal(v, &s.Sid) != nil {
				ps.add(p, "want a string")
			}
		case "Effect":
			var e string
			if json.Unmarshal(v, &e) != nil {
				ps.add(p, `want "Allow" or "Deny"`)
				continue
			}
			s.Effect = Effect(e)
			if s.Effect != Allow && s.Effect != Deny {
				ps.add(p, `Effect must be "Allow" or "Deny", not %q`, e)
			}
		case "Principal":
			s.Principal = parsePrincipal(v, p, ps)
		case "Action":
			s.Action = parseStrings(v, p, ps)
		case "NotAction":
			s.NotAction = parseStrings(v, p, ps)
		case "Resource":
			s.Resource = parseStrings(v, p, ps)
		case "NotResource":
			s.NotResource = parseStrings(v, p, ps)
		case "Condition":
			s.Condition = parseCondition(v, p, ps)
		default:
			ps.add(p, "unknown field %q", key)
		}
	}
	var buf bytes.Buffer
	if len(*ps) == before && json.Compact(&buf, raw) == nil {
		s.raw = buf.Bytes()
		s.canon = s.appendCanonical(nil)
	}
	return s
}

func parsePrincipal(raw json.RawMessage, path string, ps *problems) *Principal {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil || fields == nil {
		ps.add(path, `want an object such as {"RAM": [...]} or {"Service": [...]}`)
		return nil
	}
	p := &Principal{}
	for key, v := range fields {
		switch key {
		case "RAM":
			p.RAM = parseStrings(v, pointer(path, key), ps)
		case "Service":
			p.Service = parseStrings(v, pointer(path, key), ps)
		case "Federated":
			p.Federated = parseStrings(v, pointer(path, key), ps)
		default:
			ps.add(pointer(path, key), "unknown principal type %q (want RAM, Service or Federated)", key)
		}
	}
	return p
}

// isNull reports a JSON null, which encoding/json would silently decode as
// an empty value: "Action": null must not become [""].
func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

func parseStrings(raw json.RawMessage, path string, ps *problems) Strings {
	if isNull(raw) {
		ps.add(path, "null is not allowed; want a string or a list of strings")
		return Strings{}
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return Scalar(one)
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && list != nil {
		return List(list...)
	}
	ps.add(path, "want a string or a list of strings")
	return Strings{}
}

// parseCondition accepts strings, numbers and booleans as condition values
// (RAM's examples write numbers and booleans both bare and quoted) and keeps
// them as strings.
func parseCondition(raw json.RawMessage, path string, ps *problems) Condition {
	var ops map[string]map[string]json.RawMessage
	if json.Unmarshal(raw, &ops) != nil || ops == nil {
		ps.add(path, `want an object such as {"StringEquals": {"sts:ExternalId": "..."}}`)
		return nil
	}
	c := make(Condition, len(ops))
	for op, keys := range ops {
		if keys == nil {
			ps.add(pointer(path, op), "want an object of condition keys and values, not null")
			continue
		}
		m := make(map[string]Strings, len(keys))
		for key, v := range keys {
			vals, ok := conditionValues(v)
			if !ok {
				ps.add(pointer(pointer(path, op), key), "want a string, number or boolean, or a list of them")
				continue
			}
			m[key] = vals
		}
		c[op] = m
	}
	return c
}

func conditionValues(raw json.RawMessage) (Strings, bool) {
	if isNull(raw) {
		return Strings{}, false
	}
	if v, ok := scalarText(raw); ok {
		return Scalar(v), true
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil || list == nil {
		return Strings{}, false
	}
	out := make([]string, len(list))
	for i, item := range list {
		v, ok := scalarText(item)
		if !ok {
			return Strings{}, false
		}
		out[i] = v
	}
	return List(out...), true
}

func scalarText(raw json.RawMessage) (string, bool) {
	if isNull(raw) {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "", false
	}
	switch x := v.(type) {
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// checkSyntax walks the JSON tokens once to report syntax errors with their
// line and column, and duplicate object keys (which encoding/json would
// silently resolve to the last one: "Effect" twice is a trap). It returns the
// keys of the top-level object in order.
func checkSyntax(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		keys   map[string]bool
		path   string
		index  int
		key    string // pending key, for values
	}
	var stack []*frame
	var ps problems
	var topKeys []string
	values := 0 // top-level values seen
	childPath := func() string {
		if len(stack) == 0 {
			return ""
		}
		f := stack[len(stack)-1]
		if f.object {
			return pointer(f.path, f.key)
		}
		return pointer(f.path, f.index)
	}
	afterValue := func() {
		if len(stack) == 0 {
			values++
			return
		}
		f := stack[len(stack)-1]
		if f.object {
			f.key = ""
		} else {
			f.index++
		}
	}
	for {
		offset := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF && len(stack) > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err == io.EOF {
			break
		}
		if err == nil && values > 0 {
			ps.add("", "extra data after the document")
			return nil, ps.err(0)
		}
		if err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				offset = se.Offset
			} else if err == io.ErrUnexpectedEOF {
				offset = int64(len(data))
			}
			msg := trimJSONPrefix(err.Error())
			if err == io.ErrUnexpectedEOF {
				msg = "unexpected end of JSON input"
			}
			line, col := position(data, offset)
			return nil, &Error{Line: line, Column: col, Problems: []Problem{{Message: msg}}}
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', keys: map[string]bool{}, path: childPath()})
			case '}', ']':
				stack = stack[:len(stack)-1]
				afterValue()
			}
		case string:
			if f := stack; len(f) > 0 && f[len(f)-1].object && f[len(f)-1].key == "" {
				top := f[len(f)-1]
				if top.keys[t] {
					ps.add(pointer(top.path, t), "duplicate field %q", t)
				}
				if len(f) == 1 {
					topKeys = append(topKeys, t)
				}
				top.keys[t] = true
				top.key = t
				continue
			}
			afterValue()
		default:
			afterValue()
		}
	}
	return topKeys, ps.err(0)
}

func trimJSONPrefix(s string) string {
	if len(s) > 6 && s[:6] == "json: " {
		return s[6:]
	}
	return s
}

func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	line, col = 1, 1
	for _, c := range data[:offset] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// UnmarshalJSON implements json.Unmarshaler with the rules of Parse.
func (d *Document) UnmarshalJSON(data []byte) error {
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*d = *p
	return nil
}

// MarshalJSON implements json.Marshaler; see Marshal.
func (d *Document) MarshalJSON() ([]byte, error) { return d.Marshal() }

// String returns the document's compact JSON.
func (d *Document) String() string {
	b, _ := d.Marshal()
	return string(b)
}

// Marshal encodes the document as compact JSON with fields in a fixed
// (alphabetical) order, the order KMS itself returns key policies in, so the
// output is byte-stable: Marshal(Parse(Marshal(d))) == Marshal(d). A parsed
// document keeps the order of Version and Statement it was read with, and a
// parsed statement that still says what it said when parsed is written back
// exactly as it was read (compacted), whatever its field order and forms.
func (d *Document) Marshal() ([]byte, error) {
	b := []byte{'{'}
	if d.versionFirst {
		b = append(b, `"Version":`...)
		b = appendString(b, d.Version)
		b = append(b, ',')
	}
	b = append(b, `"Statement":[`...)
	for i := range d.Statement {
		if i > 0 {
			b = append(b, ',')
		}
		b = d.Statement[i].appendJSON(b)
	}
	b = append(b, ']')
	if !d.versionFirst {
		b = append(b, `,"Version":`...)
		b = appendString(b, d.Version)
	}
	return append(b, '}'), nil
}

// appendJSON appends the statement's canonical form, or its JSON as parsed
// while it still encodes the same as when it was parsed.
func (s *Statement) appendJSON(b []byte) []byte {
	n := len(b)
	b = s.appendCanonical(b)
	if s.raw != nil && bytes.Equal(b[n:], s.canon) {
		return append(b[:n], s.raw...)
	}
	return b
}

func (s *Statement) appendCanonical(b []byte) []byte {
	b = append(b, '{')
	first := true
	field := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, name)
		b = append(b, ':')
	}
	if s.Action.IsSet() {
		field("Action")
		b = s.Action.appendJSON(b)
	}
	if len(s.Condition) > 0 {
		field("Condition")
		b = s.Condition.appendJSON(b)
	}
	field("Effect")
	b = appendString(b, string(s.Effect))
	if s.NotAction.IsSet() {
		field("NotAction")
		b = s.NotAction.appendJSON(b)
	}
	if s.NotResource.IsSet() {
		field("NotResource")
		b = s.NotResource.appendJSON(b)
	}
	if s.Principal != nil {
		field("Principal")
		b = s.Principal.appendJSON(b)
	}
	if s.Resource.IsSet() {
		field("Resource")
		b = s.Resource.appendJSON(b)
	}
	if s.Sid != "" {
		field("Sid")
		b = appendString(b, s.Sid)
	}
	return append(b, '}')
}

func (p *Principal) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for _, f := range []struct {
		name string
		v    Strings
	}{{"Federated", p.Federated}, {"RAM", p.RAM}, {"Service", p.Service}} {
		if !f.v.IsSet() {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendString(b, f.name)
		b = append(b, ':')
		b = f.v.appendJSON(b)
	}
	return append(b, '}')
}

func (c Condition) appendJSON(b []byte) []byte {
	b = append(b, '{')
	ops := make([]string, 0, len(c))
	for op := range c {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	for i, op := range ops {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, op)
		b = append(b, ':', '{')
		keys := make([]string, 0, len(c[op]))
		for k := range c[op] {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for j, k := range keys {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = c[op][k].appendJSON(b)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func (s Strings) appendJSON(b []byte) []byte {
	if s.Scalar && len(s.Values) == 1 {
		return appendString(b, s.Values[0])
	}
	b = append(b, '[')
	for i, v := range s.Values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

// MarshalJSON implements json.Marshaler in the form the value was read in.
func (s Strings) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

// appendString appends s as a JSON string without escaping HTML characters,
// as Alibaba's SDK serialises JSON.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+n]...)
		}
		i += n
	}
	return append(b, '"')
}
