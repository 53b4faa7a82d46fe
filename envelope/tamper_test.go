package envelope

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"testing/iotest"

	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
	"github.com/kmsshare/kmsshare/envelope/internal/format"
	"github.com/kmsshare/kmsshare/envelope/internal/stream"
)

const tamperSeg = 64

// tamperFixture is a small message worth attacking: two master keys, a
// context, and three segments (64 + 64 + 22 bytes).
type tamperFixture struct {
	f       *fixture
	pt      []byte
	msg     []byte
	bodyOff int
	encCtx  map[string]string
}

func newTamperFixture(t testing.TB) *tamperFixture {
	f := newFixture(t)
	f.enc.Keys = []MasterKey{f.key(arnMain), f.key(arnDR)}
	f.enc.SegmentSize = tamperSeg
	tf := &tamperFixture{f: f, pt: pattern(150), encCtx: map[string]string{"tenant": "acme"}}
	tf.msg = mustEncrypt(t, f.enc, tf.pt, tf.encCtx)
	_, n, err := format.ParseBytes(tf.msg, 0)
	if err != nil {
		t.Fatal(err)
	}
	tf.bodyOff = n
	return tf
}

// segment returns the index of the segment holding byte i of the message, or
// -1 for a header byte.
func (tf *tamperFixture) segment(i int) int {
	if i < tf.bodyOff {
		return -1
	}
	return (i - tf.bodyOff) / (tamperSeg + segmentOverhead)
}

// rejected decrypts msg every way there is and fails the test if any way
// accepts it, or if a Reader releases plaintext it should not have.
// verified is the number of leading segments that are still intact (a
// Reader may release those); -1 means none may be released.
func (tf *tamperFixture) rejected(t *testing.T, what string, msg []byte, verified int) {
	t.Helper()
	for _, conc := range []int{1, 2} {
		d := &Decryptor{Keys: tf.f.dec.Keys, Concurrency: conc}
		got, err := d.Decrypt(context.Background(), msg, tf.encCtx)
		if err == nil || got != nil {
			t.Fatalf("%s: Decrypt accepted it (Concurrency %d)", what, conc)
		}
		if !errors.Is(err, ErrNotAuthentic) && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrNoKey) {
			t.Fatalf("%s: unexpected error class: %v", what, err)
		}
		// Read sizes, or 0 for WriteTo, from a stream and at offsets.
		for _, way := range []struct {
			at bool
			rs int
		}{{false, 1}, {false, 1000}, {false, 0}, {true, 1}, {true, 1000}, {true, 0}} {
			var out []byte
			var err error
			switch {
			case way.at:
				out, err = atDecrypt(d, msg, int64(len(msg)), tf.encCtx, way.rs)
			case way.rs == 0:
				out, err = copyDecrypt(d, msg, tf.encCtx)
			default:
				out, err = streamDecrypt(d, msg, tf.encCtx, way.rs)
			}
			if err == nil {
				t.Fatalf("%s: Reader ended cleanly (Concurrency %d)", what, conc)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%s: Reader reported %v, not a failure", what, err)
			}
			limit := 0
			if verified > 0 {
				limit = min(len(tf.pt), verified*tamperSeg)
			}
			if len(out) > limit || !bytes.Equal(out, tf.pt[:len(out)]) {
				t.Fatalf("%s: Reader released %d bytes, at most %d verified ones allowed", what, len(out), limit)
			}
		}
	}
}

func TestEveryByteFlipIsRejected(t *testing.T) {
	t.Parallel()
	tf := newTamperFixture(t)
	for i := range tf.msg {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			m := bytes.Clone(tf.msg)
			m[i] ^= mask
			tf.rejected(t, "flip of byte "+strconv.Itoa(i), m, tf.segment(i))
		}
	}
}

func TestEveryTruncationIsRejected(t *testing.T) {
	t.Parallel()
	tf := newTamperFixture(t)
	for n := 0; n < len(tf.msg); n++ {
		tf.rejected(t, "truncation to "+strconv.Itoa(n), tf.msg[:n], tf.segment(n))
	}
}

func TestSegmentSurgery(t *testing.T) {
	t.Parallel()
	tf := newTamperFixture(t)
	stride := tamperSeg + segmentOverhead
	hdr, body := tf.msg[:tf.bodyOff], tf.msg[tf.bodyOff:]
	seg := func(i int) []byte { return body[i*stride : min((i+1)*stride, len(body))] }
	join := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{hdr}, parts...), nil) }

	// Another message under the same data key (as with a cache): only the
	// salt differs.
	c, _ := NewCache(1 << 40)
	tf.f.enc.Cache = c
	a := mustEncrypt(t, tf.f.enc, tf.pt, tf.encCtx)
	b := mustEncrypt(t, tf.f.enc, tf.pt, tf.encCtx)
	if tf.f.svc.Count("GenerateDataKey") != 2 { // the fixture's message, then a and b sharing one
		t.Fatalf("GenerateDataKey calls = %d", tf.f.svc.Count("GenerateDataKey"))
	}
	_, na, _ := format.ParseBytes(a, 0)
	_, nb, _ := format.ParseBytes(b, 0)

	tests := []struct {
		name     string
		msg      []byte
		verified int
	}{
		{"segments 0 and 1 swapped", join(seg(1), seg(0), seg(2)), 0},
		{"segments 1 and 2 swapped", join(seg(0), seg(2), seg(1)), 1},
		{"segment 1 dropped", join(seg(0), seg(2)), 1},
		{"segment 0 duplicated", join(seg(0), seg(0), seg(1), seg(2)), 1},
		{"final segment dropped", join(seg(0), seg(1)), 1},
		{"final segment repeated", join(seg(0), seg(1), seg(2), seg(2)), 2},
		{"byte appended", append(bytes.Clone(tf.msg), 0), 2},
		{"segment appended", append(bytes.Clone(tf.msg), seg(0)...), 2},
		{"empty body", hdr, -1},
		{"segment 1 from another message with the same data key",
			append(append(bytes.Clone(a[:na+stride]), b[nb+stride:nb+2*stride]...), a[na+2*stride:]...), 1},
		{"header of another message with the same data key", append(bytes.Clone(b[:nb]), a[na:]...), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tf.rejected(t, tt.name, tt.msg, tt.verified)
		})
	}
}

// TestEmptyFinalSegmentAfterData builds a message whose tags all verify but
// which ends in an empty final segment after full ones. Writers never
// produce this, and readers must refuse it: each plaintext has exactly one
// encoding.
func TestEmptyFinalSegmentAfterData(t *testing.T) {
	t.Parallel()
	dk := bytes.Repeat([]byte{9}, 32)
	svc := fakekeys.New(arnMain)
	svc.SetDataKeys(bytes.NewReader(dk))
	enc := &Encryptor{Keys: []MasterKey{{ARN: arnMain, Service: svc}}, SegmentSize: 64}
	pt := pattern(128)
	msg := mustEncrypt(t, enc, pt, nil)
	h, n, _ := format.ParseBytes(msg, 0)
	keys, err := stream.Derive(format.Suite1, dk, h.Salt[:], 1)
	if err != nil {
		t.Fatal(err)
	}
	aad := format.Digest(h.Fixed)
	forged := bytes.Clone(msg[:n])
	forged = keys.Seal(0, forged, pt[:64], 0, false, aad[:])
	forged = keys.Seal(0, forged, pt[64:], 1, false, aad[:])
	forged = keys.Seal(0, forged, nil, 2, true, aad[:])

	dec := &Decryptor{Keys: enc.Keys}
	if got, err := dec.Decrypt(context.Background(), forged, nil); !errors.Is(err, ErrNotAuthentic) || got != nil {
		t.Errorf("Decrypt: %v", err)
	}
	out, err := streamDecrypt(dec, forged, nil, 1000)
	if !errors.Is(err, ErrNotAuthentic) {
		t.Errorf("Reader: %v", err)
	}
	if !bytes.Equal(out, pt[:len(out)]) {
		t.Error("Reader released bytes that are not the plaintext")
	}
	// The canonical encoding of the same plaintext decrypts.
	if got, err := dec.Decrypt(context.Background(), msg, nil); err != nil || !bytes.Equal(got, pt) {
		t.Errorf("canonical message: %v", err)
	}
}

func TestReaderIOErrorsPassThrough(t *testing.T) {
	t.Parallel()
	tf := newTamperFixture(t)
	boom := errors.New("connection reset")
	src := io.MultiReader(bytes.NewReader(tf.msg[:tf.bodyOff+100]), iotest.ErrReader(boom))
	r, err := tf.f.dec.NewReader(context.Background(), src, tf.encCtx)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if !errors.Is(err, boom) || errors.Is(err, ErrNotAuthentic) {
		t.Errorf("err = %v, want the reader's error", err)
	}
	if !bytes.Equal(out, tf.pt[:len(out)]) || len(out) > tamperSeg {
		t.Errorf("released %d bytes", len(out))
	}
	// The error sticks.
	if _, err := r.Read(make([]byte, 10)); !errors.Is(err, boom) {
		t.Errorf("second Read: %v", err)
	}
}
