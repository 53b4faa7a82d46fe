package envelope

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/kmsshare/kmsshare/envelope/internal/format"
)

// Rewrap copies the message in src to dst, with its encrypted data keys
// replaced by ones under keys. Use it to migrate to a new master key, or to
// hand a message to a key the recipient account owns. The Decryptor must
// allow one of the message's current keys. Only the header is rewritten: the
// body is copied as it is, in constant memory, so Rewrap suits files of any
// size. It neither decrypts the body nor checks it.
//
// The data key is decrypted with the context stored in the message, so the
// caller need not know it. KMS checks that context and so does the header
// tag. The data key is encrypted under each new key with KMS Encrypt; no new
// data key is made.
func (d *Decryptor) Rewrap(ctx context.Context, dst io.Writer, src io.Reader, keys ...MasterKey) error {
	return d.rewrap(ctx, dst, src, false, keys)
}

// AddKeys is Rewrap that keeps the message's encrypted data keys and adds
// ones under keys, for example a second region for disaster recovery. A key
// the message already has is left as it is, so running AddKeys twice gives
// the same message.
func (d *Decryptor) AddKeys(ctx context.Context, dst io.Writer, src io.Reader, keys ...MasterKey) error {
	return d.rewrap(ctx, dst, src, true, keys)
}

func (d *Decryptor) rewrap(ctx context.Context, dst io.Writer, src io.Reader, keep bool, keys []MasterKey) error {
	if err := d.check(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("envelope: Rewrap: no master keys given")
	}
	if err := checkMasterKeys(keys, "Rewrap keys"); err != nil {
		return err
	}
	if dst == nil || src == nil {
		return errors.New("envelope: Rewrap: nil source or destination")
	}
	h, rest, err := format.Read(src, d.MaxEncryptedKeys)
	if err != nil {
		return err
	}
	header, err := d.rewrapHeader(ctx, h, keep, keys)
	if err != nil {
		return err
	}
	if _, err := dst.Write(header); err != nil {
		return err
	}
	if _, err := dst.Write(rest); err != nil {
		return err
	}
	_, err = io.Copy(dst, format.NoStall(src))
	return err
}

// rewrapHeader returns the header of h with its keys part rebuilt and a new
// header tag. The fixed part, and with it every segment, stays valid.
func (d *Decryptor) rewrapHeader(ctx context.Context, h *format.Parsed, keep bool, keys []MasterKey) ([]byte, error) {
	var out []format.EncryptedKey
	have := make(map[string]bool)
	if keep {
		out = append(out, h.Keys...)
		for _, k := range h.Keys {
			have[k.ARN] = true
		}
	}
	// Count before any KMS call, as Encryptor.check does: too many keys
	// would otherwise cost a Decrypt and an Encrypt per new key first.
	n := len(out)
	for _, k := range keys {
		if !have[k.ARN] {
			n++
		}
	}
	if n > MaxEncryptedKeys {
		return nil, fmt.Errorf("%w: the message would have %d encrypted data keys, at most %d", ErrLimit, n, MaxEncryptedKeys)
	}

	// The context comes from the message itself, so there is nothing to
	// compare it with; KMS and the header tag check it.
	kmsCtx := format.ContextMap(h.Context)
	o, err := d.unwrap(ctx, h, kmsCtx, 1, true, 0)
	if err != nil {
		return nil, err
	}
	sk, dk := o.keys, o.dataKey
	defer sk.WipeHeaderKey()
	defer clear(dk)

	for _, k := range keys {
		if have[k.ARN] {
			continue
		}
		blob, err := k.Service.Encrypt(ctx, k.ARN, dk, kmsCtx)
		if err != nil {
			return nil, &KeyError{KeyARN: k.ARN, Op: "Encrypt", Err: err}
		}
		out = append(out, format.EncryptedKey{ARN: k.ARN, Blob: blob})
		have[k.ARN] = true
	}
	nh := h.Header
	nh.Keys = out
	if err := nh.Validate(); err != nil {
		return nil, err
	}
	// The fixed part is kept as read: the parser accepts only the canonical
	// encoding (FuzzParse checks that it re-encodes identically), so it is
	// what nh.AppendFixed would give, and the body's digest still holds.
	authd := format.AppendPad(nh.AppendKeys(bytes.Clone(h.Fixed)))
	tag := sk.HeaderTag(authd)
	return append(authd, tag[:]...), nil
}
