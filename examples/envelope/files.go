package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	sts "github.com/alibabacloud-go/sts-20150401/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/sim"
	"github.com/kmsshare/kmsshare/fakecloud"
)

// keyList joins key ARNs for a line of output.
func keyList(keys []arn.ARN) string {
	var s []string
	for _, k := range keys {
		s = append(s, k.String())
	}
	return strings.Join(s, ", ")
}

// sampleFile writes size bytes of a recognisable sample to dir.
func sampleFile(dir string, size int64) (string, error) {
	path := filepath.Join(dir, "backup.tar")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriter(f)
	line := []byte("2026-11-23T09:00:00Z order 42 paid 1000 CNY by account 1192853035118460\n")
	for written := int64(0); written < size; {
		n := int64(len(line))
		if size-written < n {
			n = size - written
		}
		if _, err := w.Write(line[:n]); err != nil {
			f.Close()
			return "", err
		}
		written += n
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// restore decrypts file to back and checks it against the original's
// SHA-256, plainSum.
func restore(ctx context.Context, p *narrate.Printer, keys []envelope.MasterKey, encCtx map[string]string, file, back string, plainSum []byte) error {
	n, used, err := decryptFile(ctx, keys, encCtx, file, back)
	if err != nil {
		return err
	}
	_, got, err := digest(back)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, plainSum) {
		return fmt.Errorf("the decrypted file differs from the original")
	}
	p.Line("ok", "%d bytes back, identical to the original, with key %s", n, arn.MustParse(used).ResourceName())
	return nil
}

// flipByte copies src to dst, streaming, with the byte at offset inverted.
func flipByte(src, dst string, offset int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return flipAt(dst, offset)
}

// flipAt inverts the byte at offset of the file name in place.
func flipAt(name string, offset int64) error {
	b := make([]byte, 1)
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if _, err := f.ReadAt(b[:1], offset); err != nil {
		f.Close()
		return err
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:1], offset); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// digest returns the size and SHA-256 of the file name, streaming it.
func digest(name string) (int64, []byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, nil, err
	}
	return n, h.Sum(nil), nil
}

// assumeAccessRole returns STS credentials of a member's
// ResourceDirectoryAccountAccessRole, assumed by the management account's
// pipeline user: acting as the application account.
func assumeAccessRole(ctx context.Context, lz *sim.LandingZone, member *fakecloud.Account) (fakecloud.Credentials, error) {
	client, err := sts.NewClient(lz.Config())
	if err != nil {
		return fakecloud.Credentials{}, err
	}
	resp, err := client.AssumeRoleWithContext(ctx, &sts.AssumeRoleRequest{
		RoleArn:         tea.String(arn.ResourceDirectoryAccessRole(member.ID).String()),
		RoleSessionName: tea.String("envelope-example"),
	}, &dara.RuntimeOptions{})
	if err != nil {
		return fakecloud.Credentials{}, fmt.Errorf("AssumeRole into %s: %w", member.Name, err)
	}
	c := resp.Body.Credentials
	return fakecloud.NewCredentials(tea.StringValue(c.AccessKeyId), tea.StringValue(c.AccessKeySecret), tea.StringValue(c.SecurityToken)), nil
}

// contextText renders an encryption context as sorted key=value pairs.
func contextText(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		keys[i] = k + "=" + m[k]
	}
	return strings.Join(keys, ",")
}
