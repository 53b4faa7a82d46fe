package fakecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// A strict JSON reader for world files. encoding/json reports an unknown
// field without its place and silently keeps the last of two equal keys, so
// the file is first read into a tree of values that remember their byte
// offsets, then copied into the schema's structs field by field. Every
// mistake becomes a *WorldError naming the line, column and field path.

// jvalue is one JSON value and where it starts.
type jvalue struct {
	off    int    // byte offset of the value's first byte
	end    int    // byte offset just past the value
	kind   byte   // '{', '[', '"', '0' (number), 'b' (bool), 'z' (null)
	str    string // string, or the number's text
	b      bool
	fields []jfield  // objects, in file order
	elems  []*jvalue // arrays
	src    []byte    // the whole file, for raw documents
}

type jfield struct {
	name string
	off  int // offset of the key
	val  *jvalue
}

// jreader reads a jvalue tree with encoding/json's tokenizer.
type jreader struct {
	data []byte
	dec  *json.Decoder
	last int // offset just past the previous token
}

func parseJSONTree(data []byte) (*jvalue, error) {
	r := &jreader{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	r.dec.UseNumber()
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	if _, err := r.dec.Token(); err != io.EOF {
		return nil, &posError{off: r.skip(r.last), err: errors.New("extra data after the top-level object")}
	}
	return v, nil
}

// posError is an error at a byte offset, before the field path is known.
type posError struct {
	off int
	err error
}

func (e *posError) Error() string { return e.err.Error() }

// skip returns the offset of the next token after off: past white space,
// ':' and ','.
func (r *jreader) skip(off int) int {
	for off < len(r.data) {
		switch r.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
		default:
			return off
		}
	}
	return off
}

func (r *jreader) token() (json.Token, int, error) {
	start := r.skip(r.last)
	tok, err := r.dec.Token()
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, int(se.Offset), &posError{off: max(int(se.Offset)-1, 0), err: fmt.Errorf("JSON syntax: %s", se.Error())}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, len(r.data), &posError{off: len(r.data), err: errors.New("unexpected end of file")}
		}
		return nil, start, &posError{off: start, err: err}
	}
	r.last = int(r.dec.InputOffset())
	return tok, start, nil
}

func (r *jreader) value() (*jvalue, error) {
	tok, start, err := r.token()
	if err != nil {
		return nil, err
	}
	v := &jvalue{off: start, src: r.data}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			v.kind = '{'
			seen := map[string]int{}
			for r.dec.More() {
				ktok, koff, err := r.token()
				if err != nil {
					return nil, err
				}
				name, _ := ktok.(string)
				if first, dup := seen[name]; dup {
					return nil, &posError{off: koff, err: fmt.Errorf("field %q given twice (first at %s)", name, lineCol(r.data, first))}
				}
				seen[name] = koff
				fv, err := r.value()
				if err != nil {
					return nil, err
				}
				v.fields = append(v.fields, jfield{name: name, off: koff, val: fv})
			}
		case '[':
			v.kind = '['
			for r.dec.More() {
				ev, err := r.value()
				if err != nil {
					return nil, err
				}
				v.elems = append(v.elems, ev)
			}
		default:
			return nil, &posError{off: start, err: fmt.Errorf("unexpected %q", t)}
		}
		if _, _, err := r.token(); err != nil { // the closing delimiter
			return nil, err
		}
	case string:
		v.kind, v.str = '"', t
	case json.Number:
		v.kind, v.str = '0', t.String()
	case bool:
		v.kind, v.b = 'b', t
	case nil:
		v.kind = 'z'
	}
	v.end = r.last
	return v, nil
}

// lineCol formats a byte offset as "line L, column C" (both from 1).
func lineCol(data []byte, off int) string {
	l, c := position(data, off)
	return fmt.Sprintf("line %d, column %d", l, c)
}

func position(data []byte, off int) (line, col int) {
	off = min(off, len(data))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = off - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// ---- decoding the tree into the schema ----

// jsonDuration is a duration written as a Go duration string ("90s", "5m").
type jsonDuration time.Duration

// jsonDoc is a policy document written either as a JSON object or as a
// string holding the document's text.
type jsonDoc struct {
	text string
	set  bool
}

var (
	durationType = reflect.TypeOf(jsonDuration(0))
	docType      = reflect.TypeOf(jsonDoc{})
	vpcType      = reflect.TypeOf(worldVPC{})
)

// decoder copies a tree into tagged structs and records where every value
// sits, by path, for the checks that run after decoding.
type decoder struct {
	places map[string]int // path → offset of the value
}

func kindName(k byte) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case '0':
		return "a number"
	case 'b':
		return "true or false"
	}
	return "null"
}

func (d *decoder) fail(v *jvalue, path, format string, args ...any) error {
	return &pathError{off: v.off, path: path, err: fmt.Errorf(format, args...)}
}

// pathError is an error at a byte offset and field path.
type pathError struct {
	off  int
	path string
	err  error
}

func (e *pathError) Error() string { return e.path + ": " + e.err.Error() }
func (e *pathError) Unwrap() error { return e.err }

func (d *decoder) decode(v *jvalue, path string, dst reflect.Value) error {
	d.places[path] = v.off
	t := dst.Type()
	switch {
	case t == durationType:
		if v.kind != '"' {
			return d.fail(v, path, "want a duration such as \"90s\" or \"5m\", found %s", kindName(v.kind))
		}
		dur, err := time.ParseDuration(v.str)
		if err != nil || dur < 0 {
			return d.fail(v, path, "want a duration such as \"90s\" or \"5m\", found %q", v.str)
		}
		dst.SetInt(int64(dur))
		return nil
	case t == vpcType && v.kind == '"':
		// A bound VPC given by its ID alone.
		dst.Set(reflect.ValueOf(worldVPC{ID: v.str}))
		return nil
	case t == vpcType && v.kind != '{':
		return d.fail(v, path, "want a VPC ID or an object with id, vSwitch, region and account, found %s", kindName(v.kind))
	case t == docType:
		switch v.kind {
		case '{':
			dst.Set(reflect.ValueOf(jsonDoc{text: string(v.src[v.off:v.end]), set: true}))
		case '"':
			dst.Set(reflect.ValueOf(jsonDoc{text: v.str, set: true}))
		default:
			return d.fail(v, path, "want a policy document (an object, or a string holding one), found %s", kindName(v.kind))
		}
		return nil
	}
	switch t.Kind() {
	case reflect.String:
		if v.kind != '"' {
			return d.fail(v, path, "want a string, found %s", kindName(v.kind))
		}
		dst.SetString(v.str)
	case reflect.Bool:
		if v.kind != 'b' {
			return d.fail(v, path, "want true or false, found %s", kindName(v.kind))
		}
		dst.SetBool(v.b)
	case reflect.Int, reflect.Uint64:
		if v.kind != '0' {
			return d.fail(v, path, "want a whole number, found %s", kindName(v.kind))
		}
		if t.Kind() == reflect.Uint64 {
			n, err := strconv.ParseUint(v.str, 10, 64)
			if err != nil {
				return d.fail(v, path, "want a whole number ≥ 0, found %s", v.str)
			}
			dst.SetUint(n)
			return nil
		}
		n, err := strconv.ParseInt(v.str, 10, 32)
		if err != nil || n < 0 {
			return d.fail(v, path, "want a whole number ≥ 0, found %s", v.str)
		}
		dst.SetInt(n)
	case reflect.Float64:
		if v.kind != '0' {
			return d.fail(v, path, "want a number, found %s", kindName(v.kind))
		}
		f, err := strconv.ParseFloat(v.str, 64)
		if err != nil {
			return d.fail(v, path, "want a number, found %s", v.str)
		}
		dst.SetFloat(f)
	case reflect.Slice:
		if v.kind != '[' {
			return d.fail(v, path, "want a list, found %s", kindName(v.kind))
		}
		s := reflect.MakeSlice(t, len(v.elems), len(v.elems))
		for i, e := range v.elems {
			if err := d.decode(e, fmt.Sprintf("%s[%d]", path, i), s.Index(i)); err != nil {
				return err
			}
		}
		dst.Set(s)
	case reflect.Pointer:
		if v.kind == 'z' {
			return nil
		}
		p := reflect.New(t.Elem())
		if err := d.decode(v, path, p.Elem()); err != nil {
			return err
		}
		dst.Set(p)
	case reflect.Struct:
		if v.kind != '{' {
			return d.fail(v, path, "want an object, found %s", kindName(v.kind))
		}
		for _, f := range v.fields {
			i, ok := fieldIndex(t, f.name)
			if !ok {
				return &pathError{off: f.off, path: joinPath(path, f.name),
					err: fmt.Errorf("unknown field %q (known: %s)", f.name, strings.Join(fieldNames(t), ", "))}
			}
			if err := d.decode(f.val, joinPath(path, f.name), dst.Field(i)); err != nil {
				return err
			}
		}
	default:
		panic("fakecloud: world schema field of unsupported type " + t.String())
	}
	return nil
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func fieldIndex(t reflect.Type, name string) (int, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag == name && tag != "" && tag != "-" {
			return i, true
		}
	}
	return 0, false
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); tag != "" && tag != "-" {
			names = append(names, tag)
		}
	}
	return names
}

// reflectValue returns the value ptr points to, settable.
func reflectValue(ptr any) reflect.Value { return reflect.ValueOf(ptr).Elem() }
