package fakecloud

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// Ciphertext blobs. Real blobs are opaque (kms.md §12.1); the emulator's
// are self-describing so Decrypt can find the key without a KeyId, and
// authenticated so any change is detected:
//
//	"FCK1"
//	u8 len | account UID
//	u8 len | key ID
//	u8 len | key version ID
//	12-byte nonce
//	AES-256-GCM(key material, nonce, plaintext, AAD = header ‖ context)
//
// header is everything before the nonce, and context is the canonical
// JSON of the EncryptionContext (keys sorted), so changing the key
// reference or the context fails authentication.

const blobMagic = "FCK1"

// blobHeader names the key a blob was made with.
type blobHeader struct {
	account, keyID, version string
}

func (h blobHeader) marshal() []byte {
	b := []byte(blobMagic)
	for _, s := range []string{h.account, h.keyID, h.version} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

var errBadBlob = errors.New("not a ciphertext blob of this KMS")

// parseBlob splits a decoded blob into its header, the header bytes, the
// nonce and the sealed data.
func parseBlob(b []byte) (h blobHeader, header, nonce, sealed []byte, err error) {
	if !bytes.HasPrefix(b, []byte(blobMagic)) {
		return h, nil, nil, nil, errBadBlob
	}
	rest := b[len(blobMagic):]
	fields := make([]string, 3)
	for i := range fields {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return h, nil, nil, nil, errBadBlob
		}
		n := int(rest[0])
		fields[i], rest = string(rest[1:1+n]), rest[1+n:]
	}
	if len(rest) < 12+16 {
		return h, nil, nil, nil, errBadBlob
	}
	header = b[:len(b)-len(rest)]
	return blobHeader{fields[0], fields[1], fields[2]}, header, rest[:12], rest[12:], nil
}

func newGCM(material []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(material)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext under the key's material, binding the header and
// the encryption context.
func seal(k *key, plaintext []byte, context string) (string, error) {
	aead, err := newGCM(k.material)
	if err != nil {
		return "", err
	}
	header := blobHeader{account: k.account.id, keyID: k.id, version: k.versionID}.marshal()
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	out := append(header, nonce...)
	out = aead.Seal(out, nonce, plaintext, append(header[:len(header):len(header)], context...))
	return base64.StdEncoding.EncodeToString(out), nil
}

// open decrypts a sealed blob with the key's material.
func open(k *key, header, nonce, sealed []byte, context string) ([]byte, error) {
	aead, err := newGCM(k.material)
	if err != nil {
		return nil, err
	}
	return aead.Open(nil, nonce, sealed, append(header[:len(header):len(header)], context...))
}

// canonicalContext parses an EncryptionContext parameter (a JSON object
// the SDK serialised) and returns its canonical form, so contexts are
// compared as parsed maps, not as strings (kms.md §12.2).
func canonicalContext(raw string) (string, error) {
	if raw == "" {
		return "{}", nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return "", fmt.Errorf("EncryptionContext is not a JSON object")
	}
	if dec.More() {
		return "", fmt.Errorf("EncryptionContext has trailing data")
	}
	if m == nil {
		m = map[string]any{}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// wipe zeroes a plaintext key after use.
func wipe(b []byte) { clear(b) }
