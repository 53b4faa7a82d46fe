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
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/kmsshare/kmsshare/arn"
	"github.com/kmsshare/kmsshare/envelope"
	"github.com/kmsshare/kmsshare/examples/internal/narrate"
	"github.com/kmsshare/kmsshare/examples/internal/realcloud"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// config is what the flags say.
type config struct {
	real    bool
	decrypt bool
	force   bool
	key     string
	drKey   string
	in, out string
	size    int64
	segment int
	context map[string]string
}

// errUsage marks bad command lines and bad identifiers.
var errUsage = errors.New("usage")

func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cfg, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err == nil {
		if cfg.real {
			err = runReal(ctx, stdout, cfg, getenv)
		} else {
			err = runEmulated(ctx, stdout, cfg)
		}
	}
	return report(stderr, err)
}

// report prints err, if any, with one "envelope:" prefix (the envelope
// package's own errors already start with it), and returns the exit
// status.
func report(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "envelope:", strings.TrimPrefix(err.Error(), "envelope: "))
	if errors.Is(err, errUsage) || errors.Is(err, realcloud.ErrNoCredentials) || errors.Is(err, realcloud.ErrIncompleteCredentials) {
		return 2
	}
	return 1
}

func parse(args []string, stderr io.Writer) (config, error) {
	cfg := config{context: map[string]string{}}
	fs := flag.NewFlagSet("envelope", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: envelope [flags]

Workflow W5: envelope encryption with KMS GenerateDataKey. A file is
encrypted locally in a streaming, authenticated format under a data key
that KMS generates under a master key (here one shared by another account,
named by ARN) and encrypts under a second key for disaster recovery.

Emulator (default): the whole story on an emulated Alibaba Cloud in memory;
nothing to set up, nothing leaves this machine.

Real Alibaba Cloud (-real): encrypts -in to -out (or decrypts, with
-decrypt) with credentials from credentials-go's default chain
(ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, ~/.alibabacloud/credentials,
~/.aliyun/config.json, ...). It only calls GenerateDataKey, Encrypt and
Decrypt; it changes nothing in the cloud.

Flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.real, "real", false, "use real Alibaba Cloud instead of the emulator")
	fs.BoolVar(&cfg.decrypt, "decrypt", false, "with -real: decrypt -in to -out instead of encrypting")
	fs.StringVar(&cfg.key, "key", "", "with -real: the master key's ARN, acs:kms:<region>:<owner-uid>:key/<key-id> (another account's key works, by ARN)")
	fs.StringVar(&cfg.drKey, "dr-key", "", "with -real: a second master key's ARN, e.g. a copy in another region, that can also decrypt")
	fs.StringVar(&cfg.in, "in", "", "the file to encrypt (emulator: default a generated sample)")
	fs.StringVar(&cfg.out, "out", "", "where to write the result (emulator: default a temporary directory)")
	fs.BoolVar(&cfg.force, "force", false, "with -real: overwrite -out if it exists")
	fs.Int64Var(&cfg.size, "size", 1<<20, "emulator: size of the generated sample file in bytes")
	fs.IntVar(&cfg.segment, "segment", 64<<10, "segment size in bytes (64 B to 16 MiB)")
	fs.Func("context", "encryption context as key=value pairs separated by commas (bound to the data key and every segment)", func(s string) error {
		for _, kv := range strings.Split(s, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok || k == "" {
				return fmt.Errorf("want key=value, got %q", kv)
			}
			cfg.context[k] = v
		}
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	case !cfg.real && (cfg.key != "" || cfg.drKey != "" || cfg.decrypt || cfg.force):
		return cfg, fmt.Errorf("%w: -key, -dr-key, -decrypt and -force are for -real; the emulator uses its own keys", errUsage)
	case cfg.real && (cfg.key == "" || cfg.in == "" || cfg.out == ""):
		return cfg, fmt.Errorf("%w: -real needs -key, -in and -out", errUsage)
	case cfg.size < 0:
		return cfg, fmt.Errorf("%w: -size must not be negative", errUsage)
	}
	if len(cfg.context) == 0 {
		cfg.context = map[string]string{"purpose": "backup"}
	}
	return cfg, nil
}

// keyARN parses a master key ARN from a flag.
func keyARN(flagName, s string) (arn.ARN, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return arn.ARN{}, fmt.Errorf("%w: -%s: %v", errUsage, flagName, err)
	}
	if a.Service != "kms" || a.ResourceType() != "key" || a.ResourceName() == "" {
		return arn.ARN{}, fmt.Errorf("%w: -%s %s is not a KMS key ARN acs:kms:<region>:<owner-uid>:key/<key-id>", errUsage, flagName, s)
	}
	return a, nil
}

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

// runReal encrypts or decrypts one file on real Alibaba Cloud.
func runReal(ctx context.Context, w io.Writer, cfg config, getenv func(string) string) error {
	keys := []arn.ARN{}
	k, err := keyARN("key", cfg.key)
	if err != nil {
		return err
	}
	keys = append(keys, k)
	if cfg.drKey != "" {
		dr, err := keyARN("dr-key", cfg.drKey)
		if err != nil {
			return err
		}
		keys = append(keys, dr)
	}
	if _, err := os.Stat(cfg.out); err == nil && !cfg.force {
		return fmt.Errorf("%w: -out %s exists (use -force to overwrite)", errUsage, cfg.out)
	}
	sdk := func(region string) (*openapi.Config, error) {
		c, _, err := realcloud.Config(getenv, region)
		return c, err
	}
	// Without credentials there is no source, and realcloud.Config fails
	// with ErrNoCredentials before anything is printed.
	source, _ := realcloud.Detect(getenv)
	return realWith(ctx, w, cfg, keys, sdk, source)
}

// realWith is runReal once it knows how to configure the SDK and where the
// credentials come from.
func realWith(ctx context.Context, w io.Writer, cfg config, keys []arn.ARN, sdk func(region string) (*openapi.Config, error), source string) error {
	mks, err := masterKeys(sdk, keys...)
	if err != nil {
		return err
	}
	p := narrate.New(w)
	p.Printf("W5 on real Alibaba Cloud, credentials from %s.\n", source)
	if cfg.decrypt {
		n, used, err := decryptFile(ctx, mks, cfg.context, cfg.in, cfg.out)
		if err != nil {
			return err
		}
		p.Line("ok", "decrypted %s to %s: %d bytes, with key %s", cfg.in, cfg.out, n, used)
		return nil
	}
	n, err := encryptFile(ctx, mks, cfg.segment, cfg.context, cfg.in, cfg.out)
	if err != nil {
		return err
	}
	p.Line("ok", "encrypted %s to %s (%d bytes) under %d master key(s): %s", cfg.in, cfg.out, n, len(mks), keyList(keys))
	return nil
}

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
