package envelope

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// TestPooledRingsAreWiped runs parallel Writers and Readers to the end and
// checks that the rings they give back to the pool hold no plaintext: the
// next stream gets them as zeroed as new ones.
func TestPooledRingsAreWiped(t *testing.T) {
	// Not parallel: it inspects the package's pool.
	const seg = 4096
	stride := seg + segmentOverhead
	ringLen := ringSlots(2, stride) * stride
	f := newFixture(t)
	f.enc.SegmentSize = seg
	f.enc.Concurrency = 2
	pt := bytes.Repeat([]byte{0xa5}, 50*seg+100)
	ctx := context.Background()
	zeroed := func(what string, n int) {
		t.Helper()
		b := rings.get(n)
		if len(b) != n {
			t.Fatalf("%s: ring of %d bytes, want %d", what, len(b), n)
		}
		if bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) {
			t.Errorf("%s: a pooled ring holds data", what)
		}
		rings.put(b)
	}

	var msg bytes.Buffer
	w, err := f.enc.NewWriter(ctx, &msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, bytes.NewReader(pt)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zeroed("Writer", ringLen)

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
		zeroed(way.name+" (partial segment slot)", stride)
	}
}
