package fakecloud

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The two request signatures the pinned SDK can produce (wire-protocol.md
// §5 and §9). The emulator recomputes them from the request exactly as the
// SDK computed them on the client side.

const acs3Algorithm = "ACS3-HMAC-SHA256"

// acs3Auth is a parsed ACS3 Authorization header.
type acs3Auth struct {
	Credential    string   // the AccessKeyId (or STS.… id)
	SignedHeaders []string // lower-case names, as listed
	Signature     string   // lower-case hex
}

// errIncompleteSignature means the Authorization header cannot be used at
// all: wrong algorithm, missing fields, or required headers left unsigned.
var errIncompleteSignature = errors.New("incomplete signature")

// acs3RequiredHeaders must be covered by the signature, or a man in the
// middle could change the operation or replay the request. The SDK always
// signs them.
const acs3RequiredHeaders = "host x-acs-action x-acs-content-sha256 x-acs-date x-acs-signature-nonce x-acs-version"

// parseACS3 parses "ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…".
func parseACS3(header string) (acs3Auth, error) {
	rest, ok := strings.CutPrefix(header, acs3Algorithm+" ")
	if !ok {
		return acs3Auth{}, errIncompleteSignature
	}
	var a acs3Auth
	var haveHeaders bool
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return acs3Auth{}, errIncompleteSignature
		}
		switch k {
		case "Credential":
			a.Credential = v
		case "SignedHeaders":
			haveHeaders = true
			if v != "" {
				a.SignedHeaders = strings.Split(v, ";")
			}
		case "Signature":
			a.Signature = v
		}
	}
	if a.Credential == "" || a.Signature == "" || !haveHeaders {
		return acs3Auth{}, errIncompleteSignature
	}
	for _, h := range strings.Fields(acs3RequiredHeaders) {
		if !containsString(a.SignedHeaders, h) {
			return acs3Auth{}, errIncompleteSignature
		}
	}
	return a, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// acs3CanonicalRequest rebuilds the canonical request of wire-protocol.md §5
// from what the server received. query holds one value per parameter.
func acs3CanonicalRequest(r *http.Request, query map[string]string, signedHeaders []string, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteString("\n")
	b.WriteString(canonicalURI(r.URL.Path))
	b.WriteString("\n")
	b.WriteString(canonicalQuery(query))
	b.WriteString("\n")
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteString("\n")
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteString("\n")
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is a signed header's canonical value: the trimmed values,
// sorted and joined with ",". The host header is r.Host on the server side.
func headerValue(r *http.Request, name string) string {
	if name == "host" {
		return strings.TrimSpace(r.Host)
	}
	vals := r.Header.Values(name)
	trimmed := make([]string, len(vals))
	for i, v := range vals {
		trimmed[i] = strings.TrimSpace(v)
	}
	sort.Strings(trimmed)
	return strings.Join(trimmed, ",")
}

func canonicalURI(path string) string {
	if path == "" {
		return "/"
	}
	return percentFix(path)
}

// canonicalQuery is the SDK's getCanonicalQueryString: keys sorted
// bytewise and left unescaped, values QueryEscape'd, then RFC 3986 fixes.
func canonicalQuery(query map[string]string) string {
	keys := make([]string, 0, len(query))
	for k := range query {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(query[k]))
	}
	return percentFix(b.String())
}

// percentFix turns form encoding into RFC 3986 encoding the way the SDK
// does: "+" → "%20", "*" → "%2A", "%7E" → "~".
func percentFix(s string) string {
	if !strings.ContainsAny(s, "+*%") {
		return s
	}
	s = strings.ReplaceAll(s, "+", "%20")
	s = strings.ReplaceAll(s, "*", "%2A")
	return strings.ReplaceAll(s, "%7E", "~")
}

// acs3Signature is hex(HMAC-SHA256(secret, "ACS3-HMAC-SHA256\n" + hex(SHA256(canonical)))).
func acs3Signature(secret, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(acs3Algorithm + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(mac.Sum(nil))
}

// rpcSignature is the legacy HMAC-SHA1 signature of wire-protocol.md §9 over
// every parameter except Signature itself.
func rpcSignature(secret, method string, params map[string]string) string {
	v := make(url.Values, len(params))
	for k, val := range params {
		if k != "Signature" {
			v.Set(k, val)
		}
	}
	toSign := method + "&%2F&" + url.QueryEscape(percentFix(v.Encode()))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signaturesEqual compares signatures in constant time.
func signaturesEqual(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}

// Request freshness. Alibaba's API gateway refuses a request whose
// timestamp is more than 15 minutes off its own clock (400
// InvalidTimeStamp.Expired) and a nonce it has seen within that window
// (SignatureNonceUsed); corrections.md §4. The SDK stamps each request with
// the host's real clock, so the emulator compares with Options.GatewayClock
// (the real clock by default), never with emulator time, which tests run
// on a manual clock.

// MaxRequestSkew is how far a request's timestamp may be from the
// gateway's clock, either way.
const MaxRequestSkew = 15 * time.Minute

// maxNonces bounds the remembered nonces; past it the oldest are forgotten
// early (a replay of those is then let through: the emulator's only
// departure from the window).
const maxNonces = 1 << 18

// nonceEntry is a remembered nonce and when the gateway saw it.
type nonceEntry struct {
	key  string
	seen time.Time
}

// nonces remembers the nonces of recent signed requests. It has its own
// lock: checks happen before the state lock is taken.
type nonces struct {
	mu    sync.Mutex
	set   map[string]struct{}
	order []nonceEntry // oldest first
}

// use records key at now and reports whether it was already used within
// the window.
func (n *nonces) use(key string, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.set == nil {
		n.set = map[string]struct{}{}
	}
	drop := 0
	for drop < len(n.order) && (now.Sub(n.order[drop].seen) > MaxRequestSkew || len(n.order)-drop >= maxNonces) {
		delete(n.set, n.order[drop].key)
		drop++
	}
	n.order = n.order[drop:]
	if _, seen := n.set[key]; seen {
		return true
	}
	n.set[key] = struct{}{}
	n.order = append(n.order, nonceEntry{key: key, seen: now})
	return false
}

// requestTimeFormat is how the SDK writes x-acs-date and Timestamp.
const requestTimeFormat = "2006-01-02T15:04:05Z"

// checkFreshness refuses a correctly signed request whose timestamp is too
// far from the gateway's clock, or whose nonce was used before by the same
// access key. It runs after the signature is verified, so a forged request
// cannot burn someone else's nonce.
func (c *Cloud) checkFreshness(k *call, r *http.Request, keyID string) *Error {
	stamp, nonce := r.Header.Get("x-acs-date"), r.Header.Get("x-acs-signature-nonce")
	if r.Header.Get("Authorization") == "" {
		stamp, nonce = k.params["Timestamp"], k.params["SignatureNonce"]
	}
	now := c.gateway.Now()
	t, err := time.Parse(requestTimeFormat, stamp)
	if err != nil {
		return k.fail("InvalidTimeStamp.Format", "the request time "+strconv.Quote(stamp)+" is not yyyy-MM-ddTHH:mm:ssZ")
	}
	if d := t.Sub(now); d > MaxRequestSkew || d < -MaxRequestSkew {
		return k.fail("InvalidTimeStamp.Expired", fmt.Sprintf("request time %s, gateway time %s: check the caller's clock",
			t.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if nonce == "" {
		return k.fail("MissingParameter", "SignatureNonce")
	}
	if c.nonces.use(keyID+"\x00"+nonce, now) {
		return k.fail("SignatureNonceUsed", "")
	}
	return nil
}
