package envelope

import (
	"bytes"
	"io"
	"testing"
)

func TestRingSlots(t *testing.T) {
	t.Parallel()
	tests := []struct{ lanes, stride, want int }{
		{1, 80, 2},
		{1, MaxSegmentSize + 16, 2},
		{2, DefaultSegmentSize + 16, 15},
		{2, 4096 + 16, 16},
		{2, 1<<20 + 16, 4},
		{256, DefaultSegmentSize + 16, 512},
		{64, MaxSegmentSize + 16, 3},
		{256, MaxSegmentSize + 16, 3},
	}
	for _, tt := range tests {
		got := ringSlots(tt.lanes, tt.stride)
		if got != tt.want {
			t.Errorf("ringSlots(%d, %d) = %d, want %d", tt.lanes, tt.stride, got, tt.want)
		}
		if tt.lanes > 1 && got*tt.stride > maxRingBytes && got > 2 {
			t.Errorf("ringSlots(%d, %d) = %d slots: %d bytes", tt.lanes, tt.stride, got, got*tt.stride)
		}
	}
}

// TestParallelWithFewSlots runs the crew with fewer slots than goroutines,
// as huge segments cause.
func TestParallelWithFewSlots(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.enc.SegmentSize = 64
	f.enc.Concurrency = 8
	pt := pattern(10000)
	var buf bytes.Buffer
	w, err := f.enc.NewWriter(t.Context(), &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.slots = 2 // as ringSlots gives for 16 MiB segments; the ring itself is larger
	if _, err := w.Write(pt); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	d := &Decryptor{Keys: f.dec.Keys, Concurrency: 8}
	r, err := d.NewReader(t.Context(), bytes.NewReader(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	r.slots = 2
	var out bytes.Buffer
	if _, err := io.Copy(&out, r); err != nil || !bytes.Equal(out.Bytes(), pt) {
		t.Fatalf("round trip with 2 slots: %v", err)
	}
}
