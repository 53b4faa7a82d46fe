package envelope

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// TestPooledRingsHoldNoPlaintext runs parallel Writers and Readers to the
// end, and a Writer that fails, and checks that the rings they give back to
// the pool hold no plaintext: Readers' are wiped, Writers' hold at most
// ciphertext. The plaintext is one byte repeated, so any run of it shows.
func TestPooledRingsHoldNoPlaintext(t *testing.T) {
	// Not parallel: it inspects the package's pool.
	const seg = 4096
	stride := seg + segmentOverhead
	ringLen := ringSlots(2, stride) * stride
	f := newFixture(t)
	f.enc.SegmentSize = seg
	f.enc.Concurrency = 2
	pt := bytes.Repeat([]byte{0xa5}, 50*seg+100)
	ctx := context.Background()
	run := bytes.Repeat([]byte{0xa5}, 8)
	clean := func(what string, n int) {
		t.Helper()
		b := rings.get(n)
		if len(b) != n {
			t.Fatalf("%s: ring of %d bytes, want %d", what, len(b), n)
		}
		if bytes.Contains(b, run) {
			t.Errorf("%s: a pooled ring holds plaintext", what)
		}
		rings.put(b)
	}
	zeroed := func(what string, n int) {
		t.Helper()
		b := rings.get(n)
		if bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
			t.Errorf("%s: a pooled ring is not wiped", what)
		}
		rings.put(b)
	}

	var msg bytes.Buffer
	for _, wp := range writePatterns {
		msg.Reset()
		w, err := f.enc.NewWriter(ctx, &msg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := wp.write(w, pt); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		clean("Writer, "+wp.name, ringLen)
	}

	// A Writer that fails midway, plaintext in its slots.
	w, err := f.enc.NewWriter(ctx, &failAfter{n: 3 * seg}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pt); err == nil {
		t.Fatal("a failing destination went unnoticed")
	}
	w.Write(pt[:seg/2]) // refused: the Writer has failed
	if err := w.Close(); err == nil {
		t.Fatal("Close of a failed Writer succeeded")
	}
	zeroed("failed Writer", ringLen)

	d := &Decryptor{Keys: f.dec.Keys, Concurrency: 2}
	ways := []struct {
		name string
		run  func() ([]byte, error)
	}{
		{"Reader.WriteTo from memory", func() ([]byte, error) { return copyDecrypt(d, msg.Bytes(), nil) }},
		{"Reader.WriteTo from a plain reader", func() ([]byte, error) {
			r, err := d.NewReader(ctx, plainReader{bytes.NewReader(msg.Bytes())}, nil)
			if err != nil {
				return nil, err
			}
			var out bytes.Buffer
			_, err = io.Copy(&out, r)
			return out.Bytes(), err
		}},
		{"Reader.Read", func() ([]byte, error) { return streamDecrypt(d, msg.Bytes(), nil, 1000) }},
		{"NewReaderAt WriteTo", func() ([]byte, error) { return atDecrypt(d, msg.Bytes(), int64(msg.Len()), nil, 0) }},
		{"NewReaderAt Read", func() ([]byte, error) { return atDecrypt(d, msg.Bytes(), int64(msg.Len()), nil, 1000) }},
	}
	for _, way := range ways {
		got, err := way.run()
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("%s: %d bytes, %v", way.name, len(got), err)
		}
		zeroed(way.name, ringLen)
		zeroed(way.name+" (slot for a cut-off segment)", stride)
	}
}

// failAfter accepts n bytes, then fails every Write.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		f.n = 0
		return 0, io.ErrClosedPipe
	}
	f.n -= len(p)
	return len(p), nil
}
