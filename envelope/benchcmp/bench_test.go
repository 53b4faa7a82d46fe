package benchcmp

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"testing"
	"text/tabwriter"
	"time"

	"filippo.io/age"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
)

const (
	size   = 32 << 20
	keyARN = "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
)

var (
	rounds = flag.Int("rounds", 7, "rounds of BenchmarkCompare; the table shows medians")
	best   = flag.Int("best", 3, "runs of each contender per round and direction; the fastest counts")
)

// contender is one implementation: encrypt data to w, and decrypt msg to w.
// Every contender reads from the same kind of source, a *bytes.Reader over
// the whole plaintext or message, and writes to io.Discard: each library
// makes of that source what it can.
type contender struct {
	name    string
	encrypt func(w io.Writer, data []byte) error
	decrypt func(w io.Writer, msg []byte) error
	msg     []byte
}

func streamContender(name string, newW func(io.Writer) (io.WriteCloser, error), newR func(io.Reader) (io.Reader, error)) *contender {
	return &contender{
		name: name,
		encrypt: func(w io.Writer, data []byte) error {
			ew, err := newW(w)
			if err != nil {
				return err
			}
			if _, err := io.Copy(ew, bytes.NewReader(data)); err != nil {
				return err
			}
			return ew.Close()
		},
		decrypt: func(w io.Writer, msg []byte) error {
			r, err := newR(bytes.NewReader(msg))
			if err != nil {
				return err
			}
			_, err = io.Copy(w, r)
			return err
		},
	}
}

func contenders(b *testing.B) []*contender {
	svc := fakekeys.New(keyARN)
	svc.KeepLog(false)
	key := envelope.MasterKey{ARN: keyARN, Service: svc}
	env := func(seg int) *contender {
		enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}, SegmentSize: seg}
		dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}}
		return streamContender(fmt.Sprintf("envelope %dKiB", seg>>10),
			func(w io.Writer) (io.WriteCloser, error) { return enc.NewWriter(context.Background(), w, nil) },
			func(r io.Reader) (io.Reader, error) { return dec.NewReader(context.Background(), r, nil) })
	}
	tinkC := func(name string, tmpl *tinkpb.KeyTemplate) *contender {
		handle, err := keyset.NewHandle(tmpl)
		if err != nil {
			b.Fatal(err)
		}
		var sa tink.StreamingAEAD
		if sa, err = streamingaead.New(handle); err != nil {
			b.Fatal(err)
		}
		return streamContender(name,
			func(w io.Writer) (io.WriteCloser, error) { return sa.NewEncryptingWriter(w, nil) },
			func(r io.Reader) (io.Reader, error) { return sa.NewDecryptingReader(r, nil) })
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	ageC := streamContender("age X25519",
		func(w io.Writer) (io.WriteCloser, error) { return age.Encrypt(w, id.Recipient()) },
		func(r io.Reader) (io.Reader, error) { return age.Decrypt(r, id) })
	return []*contender{
		env(envelope.DefaultSegmentSize), env(1 << 20),
		tinkC("tink AES256_GCM_HKDF_1MB", streamingaead.AES256GCMHKDF1MBKeyTemplate()),
		tinkC("tink AES256_GCM_HKDF_4KB", streamingaead.AES256GCMHKDF4KBKeyTemplate()),
		ageC,
	}
}

func testData() []byte {
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{'b'}).Read(b)
	return b
}

// BenchmarkCompare runs every contender on the same 32 MiB, in each
// direction, in -rounds rounds. Within a round the contenders run one after
// the other, in an order that rotates from round to round, so that all see
// the same machine load, each -best times, of which the fastest counts:
// other processes on a busy machine only ever add time. Every contender runs on one goroutine, so each run
// counts the process's CPU time where the platform reports it: on a shared
// machine the wall clock measures the waits for a core more than the work. It prints one table: each contender's median
// throughput, and each envelope configuration's median speed relative to
// each other contender, taken round by round (their time over envelope's;
// above 1 means envelope is faster).
func BenchmarkCompare(b *testing.B) {
	data := testData()
	cs := contenders(b)
	for _, c := range cs {
		var buf bytes.Buffer
		if err := c.encrypt(&buf, data); err != nil {
			b.Fatal(c.name, err)
		}
		c.msg = buf.Bytes()
		var out bytes.Buffer
		if err := c.decrypt(&out, c.msg); err != nil || !bytes.Equal(out.Bytes(), data) {
			b.Fatalf("%s does not round-trip: %v", c.name, err)
		}
	}
	n := max(1, *rounds)
	// times[dir][contender][round]
	var times [2][][]time.Duration
	for dir := range times {
		times[dir] = make([][]time.Duration, len(cs))
	}
	for range b.N {
		for round := range n {
			for dir := range 2 {
				for k := range cs {
					i := (k + round) % len(cs)
					c := cs[i]
					fastest := time.Duration(1<<63 - 1)
					for range max(1, *best) {
						runtime.GC()
						t0 := time.Now()
						c0, cpu := cpuTime()
						var err error
						if dir == 0 {
							err = c.encrypt(io.Discard, data)
						} else {
							err = c.decrypt(io.Discard, c.msg)
						}
						if err != nil {
							b.Fatal(c.name, err)
						}
						d := time.Since(t0)
						if c1, _ := cpuTime(); cpu {
							d = c1 - c0
						}
						fastest = min(fastest, d)
					}
					times[dir][i] = append(times[dir][i], fastest)
				}
			}
		}
	}
	b.StopTimer()

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	clock := "CPU time"
	if _, ok := cpuTime(); !ok {
		clock = "wall time"
	}
	fmt.Fprintf(tw, "\n%d MiB from a *bytes.Reader to io.Discard, medians of %d rounds (each the fastest of %d runs) by %s, GOMAXPROCS=%d\n", size>>20, n, max(1, *best), clock, runtime.GOMAXPROCS(0))
	header := "direction\tcontender\tMB/s\t"
	for _, e := range cs[:2] {
		header += e.name + " x\t"
	}
	fmt.Fprintln(tw, header)
	for dir, name := range []string{"encrypt", "decrypt"} {
		for i, c := range cs {
			line := fmt.Sprintf("%s\t%s\t%.0f\t", name, c.name, float64(size)/median(times[dir][i]).Seconds()/1e6)
			for e := range 2 {
				if e == i {
					line += "-\t"
					continue
				}
				// Round by round: the other's time over envelope's.
				r := make([]time.Duration, len(times[dir][i]))
				var ratios []float64
				for k := range r {
					ratios = append(ratios, float64(times[dir][i][k])/float64(times[dir][e][k]))
				}
				line += fmt.Sprintf("%.2f\t", medianF(ratios))
			}
			fmt.Fprintln(tw, line)
		}
	}
	tw.Flush()
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
