// Package envelope is envelope encryption on Alibaba Cloud KMS (workflow W5).
// KMS GenerateDataKey makes a data key. The data is encrypted locally with
// AES-256-GCM, and the encrypted data key travels with the ciphertext in a
// versioned, streaming message format (FORMAT.md).
//
// # Encrypting and decrypting
//
// An Encryptor names the master keys; a Decryptor names the keys it allows:
//
//	svc := envelope.NewKMS(client) // client is a *kms.Client
//	key := envelope.MasterKey{ARN: "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7", Service: svc}
//	enc := &envelope.Encryptor{Keys: []envelope.MasterKey{key}}
//	msg, err := enc.Encrypt(ctx, plaintext, map[string]string{"tenant": "acme"})
//	dec := &envelope.Decryptor{Keys: []envelope.MasterKey{key}}
//	plaintext, err = dec.Decrypt(ctx, msg, map[string]string{"tenant": "acme"})
//
// Encrypt and Decrypt work on whole messages in memory. For streams,
// Encryptor.NewWriter returns an io.WriteCloser and Decryptor.NewReader an
// io.Reader. Both use the same format and hold one segment in memory (a
// few per goroutine with Concurrency). Decryptor.NewReaderAt reads a message
// of known size from an io.ReaderAt, such as an *os.File, one ReadAt per
// segment straight into the buffer it is decrypted in.
//
// The encryption context is a set of non-secret key-value pairs. It is sent
// to KMS with every call, stored in the message, and bound to every segment's
// tag. Decrypt must be given exactly the context the message was made with.
//
// In a test, the client can come from package fakecloud, an emulated KMS
// behind the real SDK client; a world file names the accounts and keys:
//
//	world, err := fakecloud.LoadWorldFile("testdata/world.json", fakecloud.WorldOptions{})
//	cfg, err := world.Config("security/admin", "cn-hangzhou") // a principal: "<account>" or "<account>/<user>"
//	client, err := kms.NewClient(cfg)
//	key := envelope.MasterKey{ARN: world.Key("security", "shared").ARN, Service: envelope.NewKMS(client)}
//
// # Key management
//
// A MasterKey is a KMS key named by its ARN, together with the KeyService
// that reaches it. NewKMS adapts a *kms.Client. A key shared from another
// account (a Security account in a Landing Zone, for example) is used exactly
// like one of your own: by its ARN, through your own client and credentials.
//
// With several master keys, the data key is generated under the first and
// encrypted under each of the others with KMS Encrypt. Any one of them can
// then decrypt the message. Use this for a second region (disaster recovery)
// or a key the recipient account owns. A Decryptor tries the keys it allows,
// in its own order. It allows keys by exact ARN (Decryptor.Keys) or by region
// and account (Decryptor.Discovery, a discovery filter). It never uses a key
// it was not told to trust.
//
// Rewrap and AddKeys change the master keys of an existing message by
// rewriting its header only. The body is copied byte for byte.
//
// KMS requires GenerateDataKey and Decrypt here, plus Encrypt with more than
// one key, and DescribeKey for keys found by a discovery filter (the
// console's key-user actions include it). kms:GenerateDataKeyWithoutPlaintext is not used: it cannot be
// granted to another account.
//
// # Caching
//
// Without a Cache, every message costs one GenerateDataKey (plus one Encrypt
// per further master key). With a Cache, messages with the same master keys
// and context share a data key within limits on age, message count and bytes.
// Each message still gets its own salt, and therefore its own segment key and
// nonces. The cache needs the plaintext length in advance: Encrypt and
// NewSizedWriter use it, NewWriter does not. This follows the AWS Encryption
// SDK, which does not cache for streams of unknown size.
//
// A Decryptor with a Cache keeps the data keys it gets from KMS Decrypt,
// keyed by a message's encrypted data keys and context, so that messages
// sharing a data key cost one KMS Decrypt between them. The same limits
// apply (a Reader counts its bytes as it releases them), and every message
// is still checked against its own commitment and header tag.
//
// # Security properties
//
//   - Key commitment: a message decrypts under exactly one data key. It is
//     checked before anything else is decrypted.
//   - The header, including every encrypted data key and the context, is
//     authenticated with a key derived from the data key.
//   - Segments follow the STREAM construction. Truncation, reordering,
//     duplication and splicing between messages are detected. A Reader
//     returns a segment's plaintext only after its tag has verified, and
//     reports truncation as ErrNotAuthentic, never as io.EOF.
//   - Plaintext data keys are wiped after use and on cache eviction. They
//     never appear in errors or in String output. Go's AES keeps its expanded
//     key schedule inside the cipher object, where it cannot be wiped. The KMS
//     SDK hands the data key over as an immutable base64 string, which cannot
//     be wiped either.
//
// # Errors
//
// Callers branch with errors.Is on ErrNotAuthentic (tampering, truncation,
// wrong context), ErrNoKey (a *NoKeyError with one error per key tried),
// ErrFormat, ErrUnsupported and ErrLimit. KMS failures are *APIError values
// that carry the KMS code and request ID, and match ErrAccessDenied,
// ErrKeyNotFound, ErrKeyState, ErrThrottled or ErrUnavailable. These classes
// reach through a *NoKeyError too: errors.Is(err, ErrAccessDenied) holds if
// any allowed key was denied.
//
// # Performance
//
// Streams run at about the speed of raw AES-256-GCM over the same segments
// from the same kind of source, and hold one segment in memory (64 KiB by
// default) whatever their length. A Reader over a *bytes.Reader or
// *bytes.Buffer opens segments straight from its memory in WriteTo (which
// io.Copy uses); over any other source it reads each segment into its slot
// and opens it there. Set Concurrency to seal or open segments on several
// goroutines; the output does not change. A one-shot message costs one key
// schedule (one HKDF instance) and four allocations to encrypt, five to
// decrypt, besides the key service's work. To benchmark against raw AES-GCM, tink-go and age, run
//
//	go test -run '^$' -bench '^BenchmarkTable$' ./envelope
//	cd envelope/benchcmp && go test -run '^$' -bench .
//
// The second module (envelope/benchcmp) has its own go.mod. The library
// never imports it, and "go test ./..." from the repository root does not
// enter it.
//
// # Backwards compatibility
//
// Messages carry a format version and an algorithm suite. This package writes
// version 1, suite 1, and rejects anything else with ErrUnsupported. Future
// versions will keep reading version 1. The test vectors in
// testdata/vectors lock the format byte for byte.
package envelope
