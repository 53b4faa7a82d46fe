package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

const testARN = "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"

func sampleHeader() *Header {
	h := &Header{
		SegmentSize: 4096,
		Context:     []Pair{{"purpose", "envelope"}, {"tenant", "a b*c~"}},
		Keys: []EncryptedKey{
			{ARN: testARN, Blob: []byte("blob-one")},
			{ARN: "acs:kms:cn-shanghai:1192853035118460:key/key-sh", Blob: []byte("blob-two")},
		},
	}
	for i := range h.Salt {
		h.Salt[i] = byte(i)
		h.Commitment[i] = byte(0xa0 + i)
		h.Tag[i] = byte(0x50 + i)
	}
	return h
}

func marshal(h *Header) []byte {
	b := h.AppendFixed(nil)
	b = AppendPad(h.AppendKeys(b))
	return append(b, h.Tag[:]...)
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	h := sampleHeader()
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	raw := marshal(h)
	body := []byte("the body follows")
	msg := append(bytes.Clone(raw), body...)

	readers := map[string]func() ([]byte, *Parsed, error){
		"bytes": func() ([]byte, *Parsed, error) {
			p, n, err := ParseBytes(msg, 0)
			if err != nil {
				return nil, nil, err
			}
			return msg[n:], p, nil
		},
		"reader": func() ([]byte, *Parsed, error) {
			r := bytes.NewReader(msg)
			p, rest, err := Read(r, 0)
			if err != nil {
				return nil, nil, err
			}
			tail := make([]byte, r.Len())
			r.Read(tail)
			return append(rest, tail...), p, nil
		},
		"one-byte": func() ([]byte, *Parsed, error) {
			r := iotest.OneByteReader(bytes.NewReader(msg))
			p, rest, err := Read(r, 0)
			if err != nil {
				return nil, nil, err
			}
			var tail bytes.Buffer
			tail.ReadFrom(r)
			return append(rest, tail.Bytes()...), p, nil
		},
	}
	for name, read := range readers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			gotBody, p, err := read()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*h, p.Header); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if !bytes.Equal(gotBody, body) {
				t.Errorf("body = %q, want %q", gotBody, body)
			}
			if !bytes.Equal(p.Fixed, h.AppendFixed(nil)) {
				t.Error("Fixed is not the fixed part")
			}
			if !bytes.Equal(p.Authd, raw[:len(raw)-stream.HeaderTagSize]) {
				t.Error("Authd is not fixed ‖ keys")
			}
		})
	}
}

func TestPadding(t *testing.T) {
	t.Parallel()
	for n := 0; n < 200; n++ {
		p := PadLen(n)
		if p < 0 || p >= HeaderAlign || (n+p+stream.HeaderTagSize)%HeaderAlign != 0 {
			t.Fatalf("PadLen(%d) = %d", n, p)
		}
	}
	raw := marshal(sampleHeader())
	if len(raw)%HeaderAlign != 0 {
		t.Errorf("header is %d bytes, not a multiple of %d", len(raw), HeaderAlign)
	}
	h := sampleHeader()
	keysEnd := len(h.AppendKeys(h.AppendFixed(nil)))
	if PadLen(keysEnd) == 0 {
		t.Fatal("sample header needs no padding; the test below would test nothing")
	}
	bad := bytes.Clone(raw)
	bad[keysEnd] = 1
	if _, _, err := ParseBytes(bad, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("non-zero padding: %v", err)
	}
}

func TestLayout(t *testing.T) {
	t.Parallel()
	// The first bytes are pinned by FORMAT.md §2.
	h := sampleHeader()
	b := h.AppendFixed(nil)
	want := []byte{'K', 'M', 'S', 'E', 0x01, 0x00, 0x01, 0x00, 0x00, 0x10, 0x00}
	if !bytes.Equal(b[:len(want)], want) {
		t.Errorf("prefix = % x, want % x", b[:len(want)], want)
	}
	wantLen := 4 + 1 + 2 + 4 + 32 + 2 + (4 + 7 + 8) + (4 + 6 + 6) + 32
	if len(b) != wantLen {
		t.Errorf("fixed part is %d bytes, want %d", len(b), wantLen)
	}
}

func TestContextPairs(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 2100)
	tests := []struct {
		name string
		in   map[string]string
		want []Pair
		err  error
	}{
		{"nil", nil, []Pair{}, nil},
		{"sorted", map[string]string{"b": "2", "a": "1", "B": ""}, []Pair{{"B", ""}, {"a", "1"}, {"b", "2"}}, nil},
		{"empty key", map[string]string{"": "x"}, nil, ErrFormat},
		{"bad utf-8 key", map[string]string{"\xff": "x"}, nil, ErrFormat},
		{"bad utf-8 value", map[string]string{"k": "\xc3"}, nil, ErrFormat},
		{"too big", map[string]string{"a": big, "b": big}, nil, ErrLimit},
		{"too many", manyPairs(MaxContextPairs + 1), nil, ErrLimit},
		{"max pairs", manyPairs(MaxContextPairs), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ContextPairs(tt.in)
			if !errors.Is(err, tt.err) || (err != nil) != (tt.err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if err == nil && tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func manyPairs(n int) map[string]string {
	m := make(map[string]string, n)
	for i := 0; i < n; i++ {
		m[string(rune('A'+i/26))+string(rune('a'+i%26))] = "v"
	}
	return m
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(h *Header)
		want   error
	}{
		{"ok", func(*Header) {}, nil},
		{"segment too small", func(h *Header) { h.SegmentSize = MinSegmentSize - 1 }, ErrLimit},
		{"segment too big", func(h *Header) { h.SegmentSize = MaxSegmentSize + 1 }, ErrLimit},
		{"no keys", func(h *Header) { h.Keys = nil }, ErrLimit},
		{"too many keys", func(h *Header) {
			for i := 0; i < MaxKeys; i++ {
				h.Keys = append(h.Keys, EncryptedKey{ARN: testARN + string(rune('a'+i)), Blob: []byte("b")})
			}
		}, ErrLimit},
		{"duplicate key", func(h *Header) { h.Keys[1].ARN = h.Keys[0].ARN }, ErrFormat},
		{"empty blob", func(h *Header) { h.Keys[0].Blob = nil }, ErrLimit},
		{"blob too big", func(h *Header) { h.Keys[0].Blob = make([]byte, MaxBlobLen+1) }, ErrLimit},
		{"ARN too long", func(h *Header) { h.Keys[0].ARN = strings.Repeat("a", MaxARNLen+1) }, ErrLimit},
		{"unsorted context", func(h *Header) { h.Context[0], h.Context[1] = h.Context[1], h.Context[0] }, ErrFormat},
		{"duplicate context key", func(h *Header) { h.Context[1].Key = h.Context[0].Key }, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := sampleHeader()
			tt.mutate(h)
			err := h.Validate()
			if !errors.Is(err, tt.want) || (err != nil) != (tt.want != nil) {
				t.Errorf("Validate() = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestParseRejects edits a valid header at the byte level and checks the
// error class for each kind of damage.
func TestParseRejects(t *testing.T) {
	t.Parallel()
	raw := marshal(sampleHeader())
	fixedLen := len(sampleHeader().AppendFixed(nil))
	ctxStart := 4 + 1 + 2 + 4 + 32
	tests := []struct {
		name    string
		edit    func(b []byte) []byte
		maxKeys int
		want    []error
	}{
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, 0, []error{ErrFormat}},
		{"version 2", func(b []byte) []byte { b[4] = 2; return b }, 0, []error{ErrFormat, ErrUnsupported}},
		{"suite 2", func(b []byte) []byte { b[6] = 2; return b }, 0, []error{ErrFormat, ErrUnsupported}},
		{"segment size 0", func(b []byte) []byte { binary.BigEndian.PutUint32(b[7:], 0); return b }, 0, []error{ErrFormat, ErrLimit}},
		{"segment size huge", func(b []byte) []byte { binary.BigEndian.PutUint32(b[7:], 1<<31); return b }, 0, []error{ErrFormat, ErrLimit}},
		{"too many pairs", func(b []byte) []byte { binary.BigEndian.PutUint16(b[ctxStart:], 65); return b }, 0, []error{ErrFormat, ErrLimit}},
		{"context key too long", func(b []byte) []byte { binary.BigEndian.PutUint16(b[ctxStart+2:], 5000); return b }, 0, []error{ErrFormat, ErrLimit}},
		{"context out of order", func(b []byte) []byte {
			// "purpose" becomes "vurpose", after "tenant".
			b[ctxStart+4] = 'v'
			return b
		}, 0, []error{ErrFormat}},
		{"empty context key", func(b []byte) []byte {
			// Shrink the first key to zero bytes and shift the rest of the header.
			out := append([]byte{}, b[:ctxStart+2]...)
			out = append(out, 0, 0)
			return append(out, b[ctxStart+4+7:]...)
		}, 0, []error{ErrFormat}},
		{"no keys", func(b []byte) []byte { binary.BigEndian.PutUint16(b[fixedLen:], 0); return b }, 0, []error{ErrFormat}},
		{"too many keys", func(b []byte) []byte { binary.BigEndian.PutUint16(b[fixedLen:], MaxKeys+1); return b }, 0, []error{ErrFormat, ErrLimit}},
		{"over caller's key cap", func(b []byte) []byte { return b }, 1, []error{ErrFormat, ErrLimit}},
		{"ARN too long", func(b []byte) []byte { binary.BigEndian.PutUint16(b[fixedLen+2:], MaxARNLen+1); return b }, 0, []error{ErrFormat, ErrLimit}},
		{"duplicate ARN", func(b []byte) []byte {
			h := sampleHeader()
			h.Keys[1].ARN = h.Keys[0].ARN
			return marshal(h)
		}, 0, []error{ErrFormat}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := tt.edit(bytes.Clone(raw))
			_, _, err := ParseBytes(b, tt.maxKeys)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("err = %v, does not match %v", err, want)
				}
			}
			if strings.Count(err.Error(), "envelope:") != 1 {
				t.Errorf("message %q should name the package once", err)
			}
		})
	}
}

func TestTruncatedHeader(t *testing.T) {
	t.Parallel()
	raw := marshal(sampleHeader())
	for n := 0; n < len(raw); n++ {
		if _, _, err := ParseBytes(raw[:n], 0); !errors.Is(err, ErrFormat) {
			t.Fatalf("header cut to %d bytes: err = %v", n, err)
		}
		if _, _, err := Read(iotest.HalfReader(bytes.NewReader(raw[:n])), 0); !errors.Is(err, ErrFormat) {
			t.Fatalf("streamed header cut to %d bytes: err = %v", n, err)
		}
	}
}

func TestReadPassesOnReaderErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	raw := marshal(sampleHeader())
	for _, n := range []int{0, 10, len(raw) - 1} {
		_, _, err := Read(io.MultiReader(bytes.NewReader(raw[:n]), iotest.ErrReader(boom)), 0)
		if !errors.Is(err, boom) || errors.Is(err, ErrFormat) {
			t.Errorf("after %d bytes: err = %v, want only the reader's error", n, err)
		}
	}
	// An error that arrives with the last header bytes does not matter.
	if _, _, err := Read(iotest.DataErrReader(bytes.NewReader(raw)), 0); err != nil {
		t.Errorf("data with io.EOF: %v", err)
	}
}

// stalled returns no bytes and no error forever.
type stalled struct{}

func (stalled) Read([]byte) (int, error) { return 0, nil }

// TestReadSlowSources: a source that trickles one byte per Read costs no
// more allocations than a fast one (the parser reuses its read buffer), and
// one that never makes progress ends with io.ErrNoProgress, not a hang.
func TestReadSlowSources(t *testing.T) {
	raw := marshal(sampleHeader())
	fast := testing.AllocsPerRun(20, func() {
		if _, _, err := Read(bytes.NewReader(raw), 0); err != nil {
			t.Fatal(err)
		}
	})
	slow := testing.AllocsPerRun(20, func() {
		if _, _, err := Read(iotest.OneByteReader(bytes.NewReader(raw)), 0); err != nil {
			t.Fatal(err)
		}
	})
	// Appending one byte at a time regrows the byte slices a few times more
	// (logarithmically); a buffer per Read would cost len(raw) allocations.
	if slow > fast+40 || slow >= float64(len(raw)) {
		t.Errorf("%v allocations per header read one byte at a time, %v in one go (header of %d bytes)", slow, fast, len(raw))
	}
	if _, _, err := Read(io.MultiReader(bytes.NewReader(raw[:10]), stalled{}), 0); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("stalled source: err = %v, want io.ErrNoProgress", err)
	}
}

func TestContextMap(t *testing.T) {
	t.Parallel()
	if ContextMap(nil) != nil {
		t.Error("empty context should be a nil map")
	}
	m := ContextMap([]Pair{{"a", "1"}, {"b", ""}})
	if diff := cmp.Diff(map[string]string{"a": "1", "b": ""}, m); diff != "" {
		t.Error(diff)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(marshal(sampleHeader()))
	f.Add([]byte("KMSE\x01\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := ParseBytes(b, 0)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not match ErrFormat", err)
			}
			return
		}
		// What parses re-encodes to the same bytes: the encoding is canonical.
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed header does not validate: %v", err)
		}
		if got := marshal(&p.Header); !bytes.Equal(got, b[:n]) {
			t.Fatalf("re-encoding differs:\n got % x\nwant % x", got, b[:n])
		}
		q, rest, err := Read(iotest.OneByteReader(bytes.NewReader(b)), 0)
		if err != nil || !bytes.Equal(marshal(&q.Header), b[:n]) || len(rest) > len(b)-n {
			t.Fatalf("Read disagrees with ParseBytes: %v", err)
		}
	})
}

var update = flag.Bool("update", false, "rewrite the FuzzParse seed corpus")

// TestFuzzSeedCorpus writes testdata/fuzz/FuzzParse under -update and
// otherwise checks that it holds the current sample header.
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	seeds := map[string][]byte{
		"sample":      marshal(sampleHeader()),
		"no-context":  func() []byte { h := sampleHeader(); h.Context = nil; return marshal(h) }(),
		"prefix-only": []byte("KMSE\x01\x00\x01"),
		"bad-magic":   []byte("KMSX\x01\x00\x01\x00\x01\x00\x00"),
	}
	if *update {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range seeds {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Contains(got, []byte(fmt.Sprintf("%q", b))) {
			t.Errorf("seed %s missing or stale (go test -run TestFuzzSeedCorpus -update): %v", name, err)
		}
	}
}

// TestParseBytesKnown: an EDK whose ARN is one of the known strings gets
// that string (no copy); any other gets its own copy; the header is the same
// either way.
func TestParseBytesKnown(t *testing.T) {
	t.Parallel()
	want := sampleHeader()
	raw := marshal(want)
	first := want.Keys[0].ARN
	known := []string{"acs:kms:cn-beijing:1:key/other", strings.Clone(first)}
	h, n, err := ParseBytesKnown(raw, 0, known)
	if err != nil {
		t.Fatal(err)
	}
	plain, pn, err := ParseBytes(raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(plain.Header, h.Header); n != pn || d != "" {
		t.Fatalf("ParseBytesKnown took %d bytes, ParseBytes %d; headers differ (-ParseBytes +ParseBytesKnown):\n%s", n, pn, d)
	}
	if unsafe.StringData(h.Keys[0].ARN) != unsafe.StringData(known[1]) {
		t.Error("a known ARN was copied")
	}
	for _, k := range h.Keys[1:] {
		for _, s := range known {
			if unsafe.StringData(k.ARN) == unsafe.StringData(s) {
				t.Errorf("%s was given the known string %s", k.ARN, s)
			}
		}
	}
}
