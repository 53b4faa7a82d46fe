package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kmsshare/kmsshare/share"
)

// message is err as keyshare prints it: one prefix ("keyshare: ", added by
// the caller), so the library's own "share: " goes, and a spec's problems
// read "invalid spec: <field> <value>: <reason>; ...".
func message(err error) string {
	var se *share.SpecError
	if errors.As(err, &se) && error(se) == err {
		parts := make([]string, len(se.Problems))
		for i, p := range se.Problems {
			parts[i] = p.String()
			if p.Field == "" {
				parts[i] = p.Reason
			}
		}
		return "invalid spec: " + strings.Join(parts, "; ")
	}
	return strings.TrimPrefix(err.Error(), "share: ")
}

// renderJSON is -output json: the library's own JSON for v, indented, with
// two changes that hold for every command: the top-level object starts
// with "simulated", and durations (share's "elapsed", a time.Duration that
// encoding/json writes in nanoseconds) are written in seconds as
// "elapsedSeconds".
func renderJSON(v any, simulated bool) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var b bytes.Buffer
	if err := rewrite(dec, &b, &simulated); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// durationFields are the JSON fields of share's results that hold a
// time.Duration, and their names in seconds.
var durationFields = map[string]string{"elapsed": "elapsedSeconds"}

// rewrite copies one JSON value from dec to b. simulated, if not nil, is
// written first into the value if it is an object (the top level only).
func rewrite(dec *json.Decoder, b *bytes.Buffer, simulated *bool) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			b.WriteByte('{')
			n := 0
			if simulated != nil {
				fmt.Fprintf(b, `"simulated":%t`, *simulated)
				n++
			}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				if n > 0 {
					b.WriteByte(',')
				}
				n++
				if secs, ok := durationFields[key]; ok {
					v, err := dec.Token()
					if err != nil {
						return err
					}
					if num, ok := v.(json.Number); ok {
						ns, err := num.Int64()
						if err != nil {
							return err
						}
						writeString(b, secs)
						b.WriteString(":" + strconv.FormatFloat(float64(ns)/1e9, 'f', -1, 64))
						continue
					}
					return fmt.Errorf("field %q is not a number", key)
				}
				writeString(b, key)
				b.WriteByte(':')
				if err := rewrite(dec, b, nil); err != nil {
					return err
				}
			}
			_, err := dec.Token() // }
			b.WriteByte('}')
			return err
		case '[':
			b.WriteByte('[')
			for n := 0; dec.More(); n++ {
				if n > 0 {
					b.WriteByte(',')
				}
				if err := rewrite(dec, b, nil); err != nil {
					return err
				}
			}
			_, err := dec.Token() // ]
			b.WriteByte(']')
			return err
		}
	case string:
		writeString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	}
	return nil
}

func writeString(b *bytes.Buffer, s string) {
	data, _ := json.Marshal(s)
	b.Write(data)
}

// writeJSON prints v with renderJSON.
func writeJSON(w io.Writer, v any, simulated bool) {
	data, err := renderJSON(v, simulated)
	if err != nil {
		fmt.Fprintf(w, "{\"simulated\": %t, \"error\": %q}\n", simulated, err.Error())
		return
	}
	w.Write(data)
}
