package aliesdk_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/envelope/aliesdk"
)

// TestConvert: envelope → SDK format (A) → envelope, and SDK stream format
// (B) → envelope, through the emulator's KMS; each result decrypts with the
// other package; a tampered source writes nothing.
func TestConvert(t *testing.T) {
	t.Parallel()
	w := testWorld(t)
	ctx := context.Background()
	envKey := envelope.MasterKey{ARN: mainKey, Service: envelope.NewKMS(w.kmsClient("cn-hangzhou"))}
	aliKey := envelope.MasterKey{ARN: secondKey, Service: w.kms("cn-hangzhou")}
	envEnc := &envelope.Encryptor{Keys: []envelope.MasterKey{envKey}, SegmentSize: 1024}
	envDec := &envelope.Decryptor{Keys: []envelope.MasterKey{envKey}}
	aliEnc := &aliesdk.Encryptor{Keys: []envelope.MasterKey{aliKey}}
	aliDec := &aliesdk.Decryptor{Keys: []envelope.MasterKey{aliKey}}
	encCtx := map[string]string{"tenant": "acme"}
	data := bytes.Repeat([]byte("convert me "), 1000)

	orig, err := envEnc.Encrypt(ctx, data, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	var ali bytes.Buffer
	if err := aliesdk.FromEnvelope(ctx, &ali, bytes.NewReader(orig), envDec, aliEnc, encCtx); err != nil {
		t.Fatal(err)
	}
	if got, err := aliDec.Decrypt(ctx, ali.Bytes(), encCtx); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("FromEnvelope's message: %v", err)
	}
	var back bytes.Buffer
	if err := aliesdk.ToEnvelope(ctx, &back, bytes.NewReader(ali.Bytes()), aliDec, envEnc, encCtx); err != nil {
		t.Fatal(err)
	}
	if got, err := envDec.Decrypt(ctx, back.Bytes(), encCtx); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ToEnvelope's message: %v", err)
	}

	stream, err := aliEnc.EncryptStream(ctx, data, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	back.Reset()
	if err := aliesdk.ToEnvelope(ctx, &back, bytes.NewReader(stream), aliDec, envEnc, encCtx); err != nil {
		t.Fatal(err)
	}
	if got, err := envDec.Decrypt(ctx, back.Bytes(), encCtx); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("ToEnvelope of a stream message: %v", err)
	}

	// Tampered sources and a wrong context: an error and nothing written.
	bad := bytes.Clone(ali.Bytes())
	bad[len(bad)-1] ^= 1
	back.Reset()
	if err := aliesdk.ToEnvelope(ctx, &back, bytes.NewReader(bad), aliDec, envEnc, encCtx); !errors.Is(err, aliesdk.ErrNotAuthentic) || back.Len() != 0 {
		t.Errorf("ToEnvelope of a tampered message: %v, %d bytes written", err, back.Len())
	}
	if err := aliesdk.ToEnvelope(ctx, &back, bytes.NewReader(ali.Bytes()), aliDec, envEnc, map[string]string{"tenant": "other"}); !errors.Is(err, aliesdk.ErrNotAuthentic) || back.Len() != 0 {
		t.Errorf("ToEnvelope with another context: %v, %d bytes written", err, back.Len())
	}
	badEnv := bytes.Clone(orig)
	badEnv[len(badEnv)-1] ^= 1
	ali.Reset()
	if err := aliesdk.FromEnvelope(ctx, &ali, bytes.NewReader(badEnv), envDec, aliEnc, encCtx); !errors.Is(err, envelope.ErrNotAuthentic) || ali.Len() != 0 {
		t.Errorf("FromEnvelope of a tampered message: %v, %d bytes written", err, ali.Len())
	}
}
