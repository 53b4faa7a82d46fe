package aliesdk

import (
	"fmt"
)

// DER tags of the format.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagSequence    = 0x30
	tagSet         = 0x31
)

// derReader reads strict DER: definite, minimal lengths that fit the input.
// It returns slices of the input, never copies.
type derReader struct {
	b []byte
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("aliesdk: "+format+": %w", append(args, ErrFormat)...)
}

func (r *derReader) empty() bool { return len(r.b) == 0 }

// next reads one element with the given tag and returns its contents.
func (r *derReader) next(tag byte, what string) ([]byte, error) {
	b := r.b
	if len(b) < 2 {
		return nil, formatErr("%s: truncated", what)
	}
	if b[0] != tag {
		return nil, formatErr("%s: tag 0x%02x, want 0x%02x", what, b[0], tag)
	}
	n, hdr := int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 {
			return nil, formatErr("%s: unsupported length form", what)
		}
		if len(b) < 2+k {
			return nil, formatErr("%s: truncated length", what)
		}
		if b[2] == 0 {
			return nil, formatErr("%s: non-minimal length", what)
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		if n < 0x80 {
			return nil, formatErr("%s: non-minimal length", what)
		}
		hdr += k
	}
	if n > len(b)-hdr {
		return nil, formatErr("%s: length %d beyond the input", what, n)
	}
	r.b = b[hdr+n:]
	return b[hdr : hdr+n], nil
}

// uint32 reads a non-negative INTEGER that fits in 32 bits.
func (r *derReader) uint32(what string) (uint32, error) {
	c, err := r.next(tagInteger, what)
	if err != nil {
		return 0, err
	}
	switch {
	case len(c) == 0:
		return 0, formatErr("%s: empty INTEGER", what)
	case c[0]&0x80 != 0:
		return 0, formatErr("%s: negative", what)
	case len(c) > 1 && c[0] == 0 && c[1]&0x80 == 0:
		return 0, formatErr("%s: non-minimal INTEGER", what)
	case len(c) > 5 || len(c) == 5 && c[0] != 0:
		return 0, formatErr("%s: out of range", what)
	}
	var v uint32
	for _, x := range c {
		v = v<<8 | uint32(x)
	}
	return v, nil
}

// derLenSize is the size of the length octets for a content of n bytes.
func derLenSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 1<<8:
		return 2
	case n < 1<<16:
		return 3
	case n < 1<<24:
		return 4
	default:
		return 5
	}
}

// derSize is the size of a whole element with n content bytes.
func derSize(n int) int { return 1 + derLenSize(n) + n }

func appendHeader(dst []byte, tag byte, n int) []byte {
	dst = append(dst, tag)
	switch k := derLenSize(n); k {
	case 1:
		return append(dst, byte(n))
	default:
		dst = append(dst, 0x80|byte(k-1))
		for i := k - 2; i >= 0; i-- {
			dst = append(dst, byte(n>>(8*i)))
		}
		return dst
	}
}

func appendTLV(dst []byte, tag byte, content []byte) []byte {
	return append(appendHeader(dst, tag, len(content)), content...)
}

func appendUint(dst []byte, v uint32) []byte {
	var c []byte
	for i := 24; i >= 0; i -= 8 {
		if b := byte(v >> i); len(c) > 0 || b != 0 {
			if len(c) == 0 && b&0x80 != 0 {
				c = append(c, 0)
			}
			c = append(c, b)
		}
	}
	if len(c) == 0 {
		c = []byte{0}
	}
	return appendTLV(dst, tagInteger, c)
}
