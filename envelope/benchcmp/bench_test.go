package benchcmp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/envelope/internal/fakekeys"
)

const (
	size   = 64 << 20
	keyARN = "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7"
)

// contender is one implementation: encrypt data to w, and decrypt msg to w.
type contender struct {
	name    string
	encrypt func(w io.Writer, data []byte) error
	decrypt func(w io.Writer, msg []byte) error
	msg     []byte
}

func contenders(b *testing.B) []*contender {
	svc := fakekeys.New(keyARN)
	key := envelope.MasterKey{ARN: keyARN, Service: svc}
	env := func(seg int) *contender {
		enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}, SegmentSize: seg}
		dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}}
		return &contender{
			name: fmt.Sprintf("envelope-%dKiB", seg>>10),
			encrypt: func(w io.Writer, data []byte) error {
				ew, err := enc.NewWriter(context.Background(), w, nil)
				if err != nil {
					return err
				}
				if _, err := io.Copy(ew, bytes.NewReader(data)); err != nil {
					return err
				}
				return ew.Close()
			},
			decrypt: func(w io.Writer, msg []byte) error {
				r, err := dec.NewReader(context.Background(), bytes.NewReader(msg), nil)
				if err != nil {
					return err
				}
				_, err = io.Copy(w, r)
				return err
			},
		}
	}

	handle, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		b.Fatal(err)
	}
	var sa tink.StreamingAEAD
	if sa, err = streamingaead.New(handle); err != nil {
		b.Fatal(err)
	}
	tinkC := &contender{
		name: "tink-AES256_GCM_HKDF_1MB",
		encrypt: func(w io.Writer, data []byte) error {
			ew, err := sa.NewEncryptingWriter(w, nil)
			if err != nil {
				return err
			}
			if _, err := io.Copy(ew, bytes.NewReader(data)); err != nil {
				return err
			}
			return ew.Close()
		},
		decrypt: func(w io.Writer, msg []byte) error {
			r, err := sa.NewDecryptingReader(bytes.NewReader(msg), nil)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, r)
			return err
		},
	}

	id, err := age.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	ageC := &contender{
		name: "age-X25519",
		encrypt: func(w io.Writer, data []byte) error {
			ew, err := age.Encrypt(w, id.Recipient())
			if err != nil {
				return err
			}
			if _, err := io.Copy(ew, bytes.NewReader(data)); err != nil {
				return err
			}
			return ew.Close()
		},
		decrypt: func(w io.Writer, msg []byte) error {
			r, err := age.Decrypt(bytes.NewReader(msg), id)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, r)
			return err
		},
	}
	return []*contender{env(envelope.DefaultSegmentSize), env(1 << 20), tinkC, ageC}
}

func testData() []byte {
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{'b'}).Read(b)
	return b
}

// BenchmarkCompare runs every contender on the same 64 MiB, interleaved, in
// each direction. The timer counts envelope with its default 64 KiB
// segments. The ratios compare it, and envelope with tink's 1 MiB segment
// size, with tink and age.
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
	for _, dir := range []string{"encrypt", "decrypt"} {
		b.Run(dir, func(b *testing.B) {
			run := func(c *contender) {
				var err error
				if dir == "encrypt" {
					err = c.encrypt(io.Discard, data)
				} else {
					err = c.decrypt(io.Discard, c.msg)
				}
				if err != nil {
					b.Fatal(c.name, err)
				}
			}
			times := make([]time.Duration, len(cs))
			runtime.GC()
			b.SetBytes(size)
			for b.Loop() {
				for i, c := range cs {
					if i != 0 {
						b.StopTimer()
					}
					t0 := time.Now()
					run(c)
					times[i] += time.Since(t0)
					if i != 0 {
						b.StartTimer()
					}
				}
			}
			env64, env1M, tinkT, ageT := times[0], times[1], times[2], times[3]
			b.ReportMetric(float64(tinkT)/float64(env64), "x-tink")
			b.ReportMetric(float64(ageT)/float64(env64), "x-age")
			b.ReportMetric(float64(tinkT)/float64(env1M), "x-tink-1MiB-seg")
			b.ReportMetric(float64(ageT)/float64(env1M), "x-age-1MiB-seg")
			for i, c := range cs {
				b.ReportMetric(float64(size)/times[i].Seconds()*float64(b.N)/1e6, "MB/s-"+c.name)
			}
		})
	}
}
