// Command fakecloud serves an emulated Alibaba Cloud (KMS, RAM and STS)
// described by a world file, over HTTP on 127.0.0.1, for tests and
// programs in any language that use Alibaba's official SDKs.
//
//	go run ./examples/fakecloud -world examples/fakecloud/world.json
//
// Each region of the world gets its own listener (the region of a request
// is the region of the port it arrives on, as each real endpoint is
// regional). Once listening, the command prints one JSON document on
// stdout: the endpoints, the admin URL, every principal's credentials
// (each account's root and RAM users) and every key's ID and ARN. With
// -env it prints shell export lines instead. Point an SDK at an endpoint
// over plain HTTP:
//
//	Python:  Config(access_key_id=…, access_key_secret=…, endpoint="127.0.0.1:PORT", protocol="http", region_id="cn-hangzhou")
//	Java:    new Config().setAccessKeyId(…).setAccessKeySecret(…).setEndpoint("127.0.0.1:PORT").setProtocol("http")
//	Node.js: new Config({accessKeyId, accessKeySecret, endpoint: "127.0.0.1:PORT", protocol: "http", regionId: "cn-hangzhou"})
//
// testdata/node/sdks.js does this with the official Node.js SDKs.
//
// Both signatures the official SDKs use are accepted (ACS3-HMAC-SHA256 and
// the older HMAC-SHA1 with SignatureVersion 1.0), on GET or POST, with the
// parameters in the query string or a form body. Under /.fakecloud/ an
// admin API reads the request log and advances emulated time (see
// fakecloud.World.Handler). -log prints each request on stderr (never a
// secret). SIGINT or SIGTERM stops the servers cleanly.
//
// Without -world the command serves the example world embedded from
// world.json.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kmsshare/kmsshare/fakecloud"
)

//go:embed world.json
var exampleWorld []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "fakecloud:", err)
		}
		os.Exit(2)
	}
}

// output is what the command prints once it listens.
type output struct {
	Endpoint   string            `json:"endpoint"`  // the first region's
	Endpoints  map[string]string `json:"endpoints"` // region → host:port
	Admin      string            `json:"admin"`     // base URL of the admin API
	Principals []principal       `json:"principals"`
	Keys       []key             `json:"keys"`
}

type key struct {
	Name   string `json:"name"` // "<account>/<key>", as the world file names it
	ID     string `json:"id"`
	ARN    string `json:"arn"`
	Region string `json:"region"`
}

type principal struct {
	Name            string `json:"name"` // "<account>" (root) or "<account>/<user>"
	AccountID       string `json:"accountId"`
	ARN             string `json:"arn"`
	AccessKeyID     string `json:"accessKeyId"`
	AccessKeySecret string `json:"accessKeySecret"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakecloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	worldPath := fs.String("world", "", "the world file (JSON); default: the example world")
	port := fs.Int("port", 0, "port of the first region; further regions take the following ports (0: ephemeral ports)")
	regions := fs.String("regions", "", "comma-separated regions to serve besides the world's (default cn-hangzhou if the world names none)")
	env := fs.Bool("env", false, "print shell export lines instead of JSON")
	logRequests := fs.Bool("log", false, "print every request on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("-port %d: want 0 to 65535", *port)
	}

	var w *fakecloud.World
	var err error
	if *worldPath == "" {
		w, err = fakecloud.LoadWorld(bytes.NewReader(exampleWorld), fakecloud.WorldOptions{Name: "world.json (embedded)"})
	} else {
		w, err = fakecloud.LoadWorldFile(*worldPath, fakecloud.WorldOptions{})
	}
	if err != nil {
		return err
	}
	serve := w.Regions()
	for _, r := range strings.Split(*regions, ",") {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(serve, r) {
			serve = append(serve, r)
		}
	}
	if len(serve) == 0 {
		serve = []string{"cn-hangzhou"}
	}

	// Listen on every port before printing anything: a caller that reads
	// the output may connect at once.
	var logMu sync.Mutex
	printed := 0
	servers := make([]*http.Server, 0, len(serve))
	listeners := make([]net.Listener, 0, len(serve))
	out := output{Endpoints: map[string]string{}}
	for i, region := range serve {
		addr := "127.0.0.1:0"
		if *port != 0 {
			addr = fmt.Sprintf("127.0.0.1:%d", *port+i)
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			return fmt.Errorf("region %s: %w", region, err)
		}
		listeners = append(listeners, ln)
		h := w.Handler(region)
		if *logRequests {
			h = logged(h, w.Cloud.Log(), &logMu, &printed, stderr)
		}
		servers = append(servers, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second})
		out.Endpoints[region] = ln.Addr().String()
		if i == 0 {
			out.Endpoint = ln.Addr().String()
			out.Admin = "http://" + ln.Addr().String() + fakecloud.AdminPath
		}
	}
	for _, p := range w.Principals() {
		out.Principals = append(out.Principals, principal{Name: p.Name, AccountID: p.AccountID, ARN: p.ARN,
			AccessKeyID: p.Credentials.AccessKeyID, AccessKeySecret: p.Credentials.Secret()})
	}

	out.Keys = []key{}
	for _, name := range w.KeyNames() {
		account, keyName, _ := strings.Cut(name, "/")
		k := w.Key(account, keyName)
		out.Keys = append(out.Keys, key{Name: name, ID: k.ID, ARN: k.ARN, Region: k.Region})
	}

	errs := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errs <- srv.Serve(listeners[i]) }()
	}
	if *env {
		printEnv(stdout, serve, out)
	} else {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stderr, "fakecloud: serving %s on %s; admin %s; stop with Ctrl-C\n", strings.Join(serve, ", "), out.Endpoint, out.Admin)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errs:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(shutdown); err != nil && serveErr == nil {
			serveErr = err
		}
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	fmt.Fprintln(stderr, "fakecloud: stopped")
	return nil
}

// printEnv prints export lines: the endpoints and admin URL, each key's
// ARN as FAKECLOUD_KEY_<ACCOUNT>_<KEY>, then each principal's access key
// as FAKECLOUD_<NAME>_ACCESS_KEY_ID and _SECRET, with the first principal
// also as the SDKs' standard ALIBABA_CLOUD_* variables.
func printEnv(w io.Writer, regions []string, out output) {
	fmt.Fprintf(w, "export FAKECLOUD_ENDPOINT=%s\n", out.Endpoint)
	for _, r := range regions {
		fmt.Fprintf(w, "export FAKECLOUD_ENDPOINT_%s=%s\n", envName(r), out.Endpoints[r])
	}
	fmt.Fprintf(w, "export FAKECLOUD_ADMIN=%s\n", out.Admin)
	fmt.Fprintf(w, "export ALIBABA_CLOUD_REGION_ID=%s\n", regions[0])
	for _, k := range out.Keys {
		fmt.Fprintf(w, "export FAKECLOUD_KEY_%s=%s\n", envName(k.Name), k.ARN)
	}
	for i, p := range out.Principals {
		if i == 0 {
			fmt.Fprintf(w, "export ALIBABA_CLOUD_ACCESS_KEY_ID=%s\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET=%s\n", p.AccessKeyID, p.AccessKeySecret)
		}
		fmt.Fprintf(w, "export FAKECLOUD_%s_ACCESS_KEY_ID=%s\nexport FAKECLOUD_%s_ACCESS_KEY_SECRET=%s\n",
			envName(p.Name), p.AccessKeyID, envName(p.Name), p.AccessKeySecret)
	}
}

// envName turns "app-1/service" into "APP_1_SERVICE".
func envName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			return r
		}
		return '_'
	}, s)
}

// logged prints, after each request, the log entries not yet printed, in
// order. Entries hold no secrets.
func logged(h http.Handler, log *fakecloud.Log, mu *sync.Mutex, printed *int, w io.Writer) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(rw, r)
		mu.Lock()
		defer mu.Unlock()
		for _, e := range log.Since(*printed, fakecloud.Match{}) {
			*printed = e.Seq
			code := e.Code
			if code == "" {
				code = "-"
			}
			caller := e.Caller
			if caller == "" {
				caller = "(unauthenticated)"
			}
			fault := ""
			if e.Fault != "" {
				fault = " fault=" + e.Fault
			}
			fmt.Fprintf(w, "%s %s:%s %d %s caller=%s target=%s request=%s%s\n",
				e.Time.Format(time.RFC3339), e.Service, e.Action, e.Status, code, caller, e.TargetAccount, e.RequestID, fault)
		}
	})
}
