package fakekeys

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/kmsshare/kmsshare/internal/cloudapi"
)

const (
	keyA = "acs:kms:cn-hangzhou:1192853035118460:key/key-a"
	keyB = "acs:kms:cn-hangzhou:1192853035118460:key/key-b"
)

func TestFake(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(keyA, keyB)
	encCtx := map[string]string{"tenant": "acme"}
	dk, blob, err := s.GenerateDataKey(ctx, keyA, encCtx)
	if err != nil || len(dk) != 32 {
		t.Fatalf("GenerateDataKey: %d bytes, %v", len(dk), err)
	}
	got, err := s.Decrypt(ctx, keyA, blob, encCtx)
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("Decrypt: %v", err)
	}
	blobB, err := s.Encrypt(ctx, keyB, dk, encCtx)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Decrypt(ctx, keyB, blobB, encCtx); err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("Decrypt under B: %v", err)
	}

	refusals := []struct {
		name   string
		key    string
		blob   []byte
		encCtx map[string]string
		class  error
	}{
		{"blob under another key than named", keyB, blob, encCtx, nil},
		{"other context", keyA, blob, map[string]string{"tenant": "other"}, cloudapi.ErrInvalidParameter},
		{"no context", keyA, blob, nil, cloudapi.ErrInvalidParameter},
		{"flipped blob", keyA, append(bytes.Clone(blob[:len(blob)-1]), blob[len(blob)-1]^1), encCtx, cloudapi.ErrInvalidParameter},
		{"garbage", keyA, []byte("not a blob"), encCtx, cloudapi.ErrInvalidParameter},
		{"unknown key", "acs:kms:cn-hangzhou:1192853035118460:key/none", blob, encCtx, cloudapi.ErrNotFound},
	}
	for _, r := range refusals {
		got, err := s.Decrypt(ctx, r.key, r.blob, r.encCtx)
		if err == nil || got != nil || (r.class != nil && !errors.Is(err, r.class)) {
			t.Errorf("%s: %v", r.name, err)
		}
	}
	if _, err := s.Encrypt(ctx, keyA, make([]byte, MaxEncryptPlaintext+1), nil); err == nil {
		t.Error("Encrypt over 6 KB accepted")
	}
}

func TestFakeLogAndFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := New(keyA)
	s.FailOn(OpGenerateDataKey, keyA, Denied(OpGenerateDataKey))
	if _, _, err := s.GenerateDataKey(ctx, keyA, nil); !errors.Is(err, cloudapi.ErrAccessDenied) {
		t.Errorf("injected denial: %v", err)
	}
	s.FailOn(OpGenerateDataKey, keyA, nil)
	_, blob, err := s.GenerateDataKey(ctx, keyA, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Decrypt(ctx, keyA, blob, nil)
	want := []Call{{OpGenerateDataKey, keyA}, {OpGenerateDataKey, keyA}, {OpDecrypt, keyA}}
	if got := s.Calls(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("log = %v, want %v", got, want)
	}
	if s.Count(OpGenerateDataKey) != 2 || s.Count(OpEncrypt) != 0 {
		t.Error("Count disagrees with the log")
	}
	s.ResetLog()
	if len(s.Calls()) != 0 {
		t.Error("ResetLog left calls")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.GenerateDataKey(cctx, keyA, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestFakeDeterministicDataKeys(t *testing.T) {
	t.Parallel()
	s := New(keyA)
	s.SetDataKeys(bytes.NewReader(bytes.Repeat([]byte{7}, 64)))
	dk1, b1, _ := s.GenerateDataKey(context.Background(), keyA, nil)
	dk2, b2, _ := s.GenerateDataKey(context.Background(), keyA, nil)
	if !bytes.Equal(dk1, bytes.Repeat([]byte{7}, 32)) || !bytes.Equal(dk1, dk2) || !bytes.Equal(b1, b2) {
		t.Error("fixed data keys should give fixed blobs")
	}
	if _, _, err := s.GenerateDataKey(context.Background(), keyA, nil); err == nil {
		t.Error("an exhausted data key source went unnoticed")
	}
	if fmt.Sprint(s) != "fakekeys.Service" || fmt.Sprintf("%#v", s) != "fakekeys.Service" {
		t.Error("String/GoString")
	}
}
