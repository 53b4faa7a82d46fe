package aliesdk

import (
	"bufio"
	"context"
	"io"

	"github.com/kmsshare/kmsshare/envelope"
)

// ToEnvelope re-encrypts a message of the SDKs' format, read from src, into
// envelope's format on dst: one call. src holds container A or B (told apart
// by the first byte: A is a DER SEQUENCE, 0x30; B starts with its version,
// 0x00). from decrypts it (with its MaxSize, opt-ins and keys) and encCtx
// must be its context; to writes the new message, with the same context,
// streaming. The plaintext is held in memory once and wiped; neither data
// key leaves this process's memory. Nothing is written to dst unless the
// source message authenticated.
func ToEnvelope(ctx context.Context, dst io.Writer, src io.Reader, from *Decryptor, to *envelope.Encryptor, encCtx map[string]string) error {
	br := bufio.NewReader(src)
	first, err := br.Peek(1)
	if err != nil {
		return formatErr("empty message")
	}
	var pt []byte
	if first[0] == tagSequence {
		msg, err := readLimited(br, from.maxSize()+int64(maxStreamHeader(MaxEncryptedKeys)), 0)
		if err != nil {
			return err
		}
		pt, err = from.Decrypt(ctx, msg, encCtx)
		if err != nil {
			return err
		}
	} else if pt, err = from.DecryptStream(ctx, br, encCtx); err != nil {
		return err
	}
	defer clear(pt)
	w, err := to.NewSizedWriter(ctx, dst, encCtx, int64(len(pt)))
	if err != nil {
		return err
	}
	if _, err := w.Write(pt); err != nil {
		return err
	}
	return w.Close()
}

// FromEnvelope re-encrypts an envelope message, read from src, into the
// SDKs' ASN.1 format (container A) on dst: one call. from decrypts it;
// encCtx must be its context, and becomes the new message's. The format has
// one tag over the whole body, so the plaintext is buffered (at most
// to.MaxSize bytes, DefaultMaxSize by default), encrypted in place and
// written out in pieces; it is wiped afterwards.
func FromEnvelope(ctx context.Context, dst io.Writer, src io.Reader, from *envelope.Decryptor, to *Encryptor, encCtx map[string]string) error {
	s, err := to.suite()
	if err != nil {
		return err
	}
	r, err := from.NewReader(ctx, src, encCtx)
	if err != nil {
		return err
	}
	limit := to.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	pt, err := readLimited(r, limit, tagLen)
	if err != nil {
		return err
	}
	defer func() { clear(pt[:cap(pt)]) }()
	h, key, bodyIV, err := to.start(ctx, s, encCtx, len(pt))
	if err != nil {
		return err
	}
	defer clear(key)
	head, err := h.appendHeadDER(nil)
	if err != nil {
		return err
	}
	n := len(pt)
	if _, err := dst.Write(appendASN1Prefix(nil, head, bodyIV, n, tagLen)); err != nil {
		return err
	}
	g, err := s.gcm(key)
	if err != nil {
		return err
	}
	sealed := g.Seal(pt[:0], bodyIV, pt, ctxBytes(h.ctx))
	if _, err := dst.Write(sealed[:n]); err != nil {
		return err
	}
	_, err = dst.Write(append([]byte{tagOctetString, tagLen}, sealed[n:]...))
	return err
}
