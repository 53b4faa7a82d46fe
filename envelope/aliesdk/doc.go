// Package aliesdk reads and writes the message format of Alibaba Cloud's
// Encryption SDK (Java 1.1.0, Python 0.1.1), for which Alibaba publishes no
// Go implementation, so that Go services can join systems whose Java and
// Python services already encrypt with it. FORMAT.md says what is supported
// and why; the test vectors made by the unmodified SDKs are in
// ../shared/interop/alibaba-encryption-sdk beside the repository.
//
// The package lives under envelope because it uses envelope's key service
// interface, master keys and KMS error classes, and converts to and from
// envelope's format; envelope does not import it. Prefer envelope's own
// format where interoperability is not needed: it streams, commits to its
// key and authenticates every segment, which this format does not.
//
// # Reading and writing
//
//	hz := aliesdk.NewKMS(client) // client: a *kms.Client for cn-hangzhou
//	key := envelope.MasterKey{ARN: "acs:kms:cn-hangzhou:1192853035118460:key/key-hzz6801a1b2c3d4e5f6g7", Service: hz}
//	msg, err := (&aliesdk.Encryptor{Keys: []envelope.MasterKey{key}}).Encrypt(ctx, plaintext, encCtx)
//	plaintext, err = (&aliesdk.Decryptor{Keys: []envelope.MasterKey{key}}).Decrypt(ctx, msg, encCtx)
//
// There are three containers. Encrypt and Decrypt (and DecryptInPlace)
// handle the ASN.1 message that AliyunCrypto.encrypt returns in both SDKs
// (container A); EncryptStream and DecryptStream the Java SDK's stream format
// (B, CryptoOutputStream); DecryptDetached a message whose header is stored
// elsewhere, as the Secrets Manager data-key provider does (C).
//
// Encryptors write AES-256-GCM by default, AES-128-GCM or SM4-GCM on request
// (Encryptor.Suite). Decryptors read every suite of the SDKs, but the CBC
// and CTR suites only when named in Decryptor.AllowUnauthenticated: their
// bodies have no tag, so anyone who can change a message can change its
// plaintext undetected.
//
// # Security properties
//
//   - The format has one tag at the end of the body. A message is therefore
//     held in memory whole (at most Decryptor.MaxSize bytes) and both the
//     header tag and the body's GCM tag are verified before any plaintext is
//     returned. On any error no plaintext is returned. (Java's own stream
//     reader hands out plaintext before it has seen the tag.)
//   - The header tag is compared in constant time, the body tag by
//     crypto/cipher's GCM, also in constant time.
//   - The parser is strict DER with bounded lengths (keys, ARNs, blobs,
//     context) and refuses a message naming one key ARN twice.
//   - Decryptor.Keys allow keys by exact ARN; other encrypted data keys in a
//     message are never sent to KMS, and KMS must confirm the key it used.
//   - The encryption context must be the message's (ErrNotAuthentic
//     otherwise, before any KMS call); KMS binds it to the data key too.
//   - The format has no key commitment: the data key is the cipher key.
//   - Plaintext data keys are wiped after use and on cache eviction and never
//     appear in errors or String output. Go's AES and SM4 keep expanded key
//     schedules that cannot be wiped, and the KMS SDK returns data keys as
//     immutable strings.
//
// # KMS
//
// KMS is used as the SDKs use it. GenerateDataKey makes the data key under
// the first master key, with the raw key ID in the key's region, KeySpec
// AES_256 or AES_128 and the context as a JSON object. A further key in the
// same region gets the data key by ReEncrypt, one in another region by
// Encrypt. To decrypt, the message's encrypted data keys are tried in order,
// only those under an allowed ARN, each with Decrypt in its key's region.
// NewKMS adapts a *kms.Client in that way; any envelope.KeyService works for
// AES-256-GCM (envelope.NewKMS, for example), with Encrypt for every further
// key. For a key shared from another account set KMSOptions.KeyID to send
// the ARN: KMS finds a raw key ID in the caller's own account only.
//
// # Caching
//
// An Encryptor with a Cache shares a data key between messages with the
// same suite, master keys and context. NewCache's defaults are tighter than
// the SDKs' (60 s, 65,536 messages and 4 GiB per data key, 10 entries);
// NewCache(SDKCacheDefaults) has the SDKs' (60 s, no message or byte limit,
// 10 entries).
//
// # Converting
//
// ToEnvelope and FromEnvelope re-encrypt a message between this format and
// envelope's in one call, writing the output as they go; the plaintext stays
// in this process's memory and is wiped, and so are both data keys.
//
// # SM4
//
// SM4 comes from github.com/tjfoc/gmsm v1.4.1, already in the module graph
// through the Alibaba SDK (darabonba-openapi uses its SM3), so it adds no
// new module; only its block cipher (sm4.NewCipher, checked against the
// GB/T 32907 example in the tests) is used, in the standard library's GCM,
// CBC and CTR modes. Its own GCM (sm4.Sm4GCM) is not used: it returns the
// tag for the caller to compare and works byte by byte. The alternative,
// github.com/emmansun/gmsm, is faster and constant-time but would be a new
// dependency for one suite that is rarely used.
//
// # Errors
//
// Callers branch with errors.Is on ErrNotAuthentic, ErrFormat,
// ErrUnsupported and ErrLimit, and on envelope's KMS classes: a failed
// decryption of every allowed key is an *envelope.NoKeyError (ErrNoKey),
// and envelope.ErrAccessDenied and the rest reach through it.
//
// # Performance
//
// Encrypt runs at about the speed of one AES-256-GCM call over the same
// bytes from 1 MiB up (0.92 to 0.95 of it measured), DecryptInPlace at or
// above it (it also skips the output allocation). Decrypt and DecryptStream
// copy the body once (DER keeps the tag apart from the ciphertext, and the
// caller's message is not touched; a reader must be read): 0.6 to 0.85 of
// raw GCM measured, the copy being the difference. When the message buffer
// is yours to spend, DecryptInPlace is the fast path. Run
//
//	go test -run '^$' -bench . ./envelope/aliesdk
package aliesdk
