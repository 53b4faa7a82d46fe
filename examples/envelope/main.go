// Command envelope runs workflow W5: envelope encryption with KMS
// GenerateDataKey. An application account encrypts a file in streaming
// mode under a key the Security account shares with it, named by ARN, and
// under the key's disaster-recovery copy in a second region; it decrypts
// the file again, then decrypts it with the copy alone as if the first
// region were down. Only the 32-byte data key goes to KMS; the file never
// leaves the machine.
//
// Usage:
//
//	go run ./examples/envelope
//	go run ./examples/envelope -real -key <key ARN> [-dr-key <key ARN>] -in <file> -out <file>
//	go run ./examples/envelope -real -decrypt -key <key ARN> [-dr-key <key ARN>] -in <file> -out <file>
//
// By default it runs on an emulated Alibaba Cloud built in memory, with
// nothing to set up: a Security account with a key in cn-hangzhou and its
// copy in cn-shanghai, and an application account app-1 whose
// ResourceDirectoryAccountAccessRole the Security account grants the keys
// with kmsshare (plan and apply). It encrypts a generated file (or -in)
// as app-1, shows the KMS calls made, decrypts it, decrypts it with the
// copy alone, and shows that a flipped byte and an account without a grant
// are refused.
//
// With -real it encrypts (or with -decrypt, decrypts) -in to -out with the
// credentials of credentials-go's default chain (environment variables,
// ~/.alibabacloud/credentials, ~/.aliyun/config.json, ...), through the same
// code. It changes nothing in the cloud; it refuses to overwrite -out
// unless -force is given.
//
// The exit status is 0 on success, 2 for bad flags, a bad key ARN or
// missing or half-configured credentials, and 1 for anything else.
package main

import (
	"context"
	"io"
	"os"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/examples/internal/lesson"
)

func main() { lesson.Main(cli) }

// masterKeys returns the master keys for keys, each with a KMS key service
// in its own region, configured by sdk for that region: the same code on
// the emulator and on real Alibaba Cloud; only the configuration differs.
func masterKeys(sdk func(region string) (*openapi.Config, error), keys ...arn.ARN) ([]envelope.MasterKey, error) {
	var out []envelope.MasterKey
	for _, k := range keys {
		cfg, err := sdk(k.Region)
		if err != nil {
			return nil, err
		}
		client, err := kms.NewClient(cfg)
		if err != nil {
			return nil, err
		}
		out = append(out, envelope.MasterKey{ARN: k.String(), Service: envelope.NewKMS(client)})
	}
	return out, nil
}

// encryptFile streams in to out under keys (the first generates the data
// key, the others encrypt it too) and returns the bytes written.
func encryptFile(ctx context.Context, keys []envelope.MasterKey, segment int, encCtx map[string]string, in, out string) (int64, error) {
	src, err := os.Open(in)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	dst, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, err
	}
	enc := &envelope.Encryptor{Keys: keys, SegmentSize: segment}
	w, err := enc.NewWriter(ctx, dst, encCtx)
	if err == nil {
		_, err = io.Copy(w, src)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out) // never leave a partial ciphertext behind
		return 0, err
	}
	st, err := os.Stat(out)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// decryptFile streams in to out, trying keys in order, and returns the
// plaintext length and the master key that decrypted it. On any error the
// partial output is removed: the Reader releases only verified segments,
// but a truncated file must not pass for a whole one.
func decryptFile(ctx context.Context, keys []envelope.MasterKey, encCtx map[string]string, in, out string) (int64, string, error) {
	src, err := os.Open(in)
	if err != nil {
		return 0, "", err
	}
	defer src.Close()
	dec := &envelope.Decryptor{Keys: keys}
	r, err := dec.NewReader(ctx, src, encCtx)
	if err != nil {
		return 0, "", err
	}
	dst, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, "", err
	}
	n, err := io.Copy(dst, r)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return 0, "", err
	}
	return n, r.KeyARN(), nil
}
