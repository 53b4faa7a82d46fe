package fakecloud

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/alibabacloud-go/tea/tea"
)

// API versions, as the SDK sends them in x-acs-version.
const (
	versionKMS = "2016-01-20"
	versionRAM = "2015-05-01"
	versionSTS = "2015-04-01"
)

func serviceOf(version string) string {
	switch version {
	case versionKMS:
		return "kms"
	case versionRAM:
		return "ram"
	case versionSTS:
		return "sts"
	case versionResourceManager:
		return "resourcemanager"
	}
	return ""
}

// op is one operation of one service.
type op struct {
	run   func(k *call) (any, *Error)
	write bool // takes the state lock exclusively
}

// call is one request being served.
type call struct {
	c         *Cloud
	service   string
	action    string
	region    string
	params    map[string]string
	who       *principal
	now       time.Time
	rid       string
	target    string // account owning the target, for the log
	srcIP     string
	secure    bool
	from      Origin // where the request comes from (network.go)
	dedicated string // the instance whose dedicated gateway serves it, or ""
}

func (k *call) param(name string) string { return k.params[name] }

// agrees reports whether every value a request carries for an unsigned
// header names the signed value (no value at all agrees too). A header sent
// twice is checked in full, so a second copy added on the way is caught
// whichever copy a lookup would return first.
func agrees(values []string, signed string) bool {
	for _, v := range values {
		if v != signed {
			return false
		}
	}
	return true
}

// requestID returns the request ID as the SDK models want it.
func (k *call) requestID() *string { return tea.String(k.rid) }

// dateFormat is how KMS, RAM and STS responses write a time (UTC, to the
// second).
const dateFormat = "2006-01-02T15:04:05Z"

// fail returns the error for code as this operation reports it.
func (k *call) fail(code, detail string) *Error {
	return k.c.newError(k.service, k.action, code, detail)
}

// required returns a required parameter or a MissingParameter error.
func (k *call) required(name string) (string, *Error) {
	v := k.params[name]
	if v == "" {
		return "", k.fail("MissingParameter", name)
	}
	return v, nil
}

// maxBody bounds what the emulator reads of a request body; the SDK never
// sends one, credentials-go's STS call sends a small form.
const maxBody = 1 << 20

// serve handles one HTTP request for region. Order: route, authenticate,
// inject faults, run the operation under the state lock, log, respond.
func (c *Cloud) serve(w http.ResponseWriter, r *http.Request, region string) {
	k := &call{c: c, region: region, rid: c.newRequestID(), from: originOf(r), dedicated: dedicatedInstance(r.Host)}
	var entry Entry
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		c.respondError(w, r, k, &entry, k.fail("MissingParameter", "unreadable body"))
		return
	}
	params, perr := requestParams(r, body)
	k.params = params
	k.action = r.Header.Get("x-acs-action")
	version := r.Header.Get("x-acs-version")
	if r.Header.Get("Authorization") == "" && params["Signature"] != "" {
		// Legacy RPC signature: it covers the query, not the headers, so the
		// operation is the signed Action and Version. The SDK sends the
		// x-acs-* headers too; one that disagrees was changed on the way.
		// (The code for that refusal is assumed; see doc.go.)
		ha, hv := k.action, version
		k.action, version = params["Action"], params["Version"]
		if !agrees(r.Header.Values("x-acs-action"), k.action) || !agrees(r.Header.Values("x-acs-version"), version) {
			k.service = serviceOf(version)
			entry.Service, entry.Action = k.service, k.action
			c.respondError(w, r, k, &entry, k.fail("SignatureDoesNotMatch",
				fmt.Sprintf("x-acs-action %q / x-acs-version %q disagree with the signed Action %q / Version %q", ha, hv, k.action, version)))
			return
		}
	} else if k.action == "" {
		k.action, version = params["Action"], params["Version"]
	}
	k.service = serviceOf(version)
	entry.Service, entry.Action = k.service, k.action
	o, ok := c.ops[k.service+":"+k.action]
	entry.Write = o.write && k.service != "sts"
	if !ok || (r.Method != http.MethodPost && r.Method != http.MethodGet) || (r.URL.Path != "/" && r.URL.Path != "") {
		c.respondError(w, r, k, &entry, k.fail("InvalidAction.NotFound", fmt.Sprintf("action %q, version %q", k.action, version)))
		return
	}
	if perr != nil {
		c.respondError(w, r, k, &entry, k.fail("InvalidParameter", perr.Error()))
		return
	}

	who, aerr := c.authenticate(k, r, body)
	if aerr != nil {
		c.respondError(w, r, k, &entry, aerr)
		return
	}
	k.who = who
	entry.CallerAccount, entry.Caller = who.acct.id, who.arn()
	k.srcIP, k.secure = sourceIP(r), r.TLS != nil || r.URL.Scheme == "https"

	// Faults are decided before the operation runs, so a faulted call
	// changes nothing; latency waits in real time outside every lock.
	out := c.faults.decide(k.service, k.action, who.acct.id)
	if out.latency > 0 {
		entry.Fault = "latency"
		if err := c.sleep(r.Context(), out.latency); err != nil {
			c.record(k, &entry) // Status 0: the caller gave up; nobody reads a response
			return
		}
	}
	if out.code != "" {
		entry.Fault = out.fault
		c.respondError(w, r, k, &entry, k.fail(out.code, "injected"))
		return
	}

	resp, operr := c.runLocked(o, k)
	if k.target == "" && k.service == "ram" {
		k.target = who.acct.id // RAM acts in the caller's own account
	}
	entry.TargetAccount = k.target
	if operr != nil {
		c.respondError(w, r, k, &entry, operr)
		return
	}
	if out.lost {
		entry.Fault = "lost-response"
		c.respondError(w, r, k, &entry, k.fail(unavailableCode(k.service), "injected after the request was carried out"))
		return
	}
	data, err := json.Marshal(resp)
	if err != nil {
		c.respondError(w, r, k, &entry, &Error{Status: 500, Code: "InternalError", Message: "fakecloud: " + err.Error()})
		return
	}
	entry.Status = http.StatusOK
	c.record(k, &entry)
	writeJSON(w, k.rid, http.StatusOK, data)
}

// runLocked runs an operation under the state lock: exclusive for
// writers, shared for readers.
func (c *Cloud) runLocked(o op, k *call) (any, *Error) {
	if o.write {
		c.mu.Lock()
		defer c.mu.Unlock()
	} else {
		c.mu.RLock()
		defer c.mu.RUnlock()
	}
	k.now = c.clock.Now()
	if e := k.gatewayRefusal(); e != nil {
		return nil, e
	}
	return o.run(k)
}

// requestParams collects the operation's parameters: the query string and,
// for the legacy signature with a form body, the form. A parameter sent
// twice is refused; the SDK never does that.
func requestParams(r *http.Request, body []byte) (map[string]string, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return map[string]string{}, fmt.Errorf("malformed query string")
	}
	params := make(map[string]string, len(q))
	add := func(vs url.Values) error {
		for name, v := range vs {
			if _, dup := params[name]; dup || len(v) != 1 {
				return fmt.Errorf("parameter %s given more than once", name)
			}
			params[name] = v[0]
		}
		return nil
	}
	if err := add(q); err != nil {
		return params, err
	}
	if len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return params, fmt.Errorf("malformed form body")
			}
			if err := add(form); err != nil {
				return params, err
			}
		}
	}
	return params, nil
}

func sourceIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return "127.0.0.1" // the in-process transport has no socket
}

// authenticate finds the access key, verifies the signature and, for STS
// keys, the token and its expiry.
func (c *Cloud) authenticate(k *call, r *http.Request, body []byte) (*principal, *Error) {
	var keyID, token string
	var verify func(secret string) bool
	if h := r.Header.Get("Authorization"); h != "" {
		auth, err := parseACS3(h)
		if err != nil {
			return nil, k.fail("IncompleteSignature", "want "+acs3Algorithm+" with host and every x-acs-* header signed")
		}
		keyID = auth.Credential
		token = r.Header.Get("x-acs-security-token")
		if token != "" && !containsString(auth.SignedHeaders, "x-acs-security-token") {
			return nil, k.fail("IncompleteSignature", "x-acs-security-token is not signed")
		}
		sum := sha256.Sum256(body)
		payload := r.Header.Get("x-acs-content-sha256")
		query := make(map[string]string, len(k.params))
		for name, v := range r.URL.Query() {
			query[name] = v[0]
		}
		verify = func(secret string) bool {
			if payload != hex.EncodeToString(sum[:]) {
				return false
			}
			canonical := acs3CanonicalRequest(r, query, auth.SignedHeaders, payload)
			return signaturesEqual(auth.Signature, acs3Signature(secret, canonical))
		}
	} else if sig := k.params["Signature"]; sig != "" {
		keyID, token = k.params["AccessKeyId"], k.params["SecurityToken"]
		verify = func(secret string) bool {
			return signaturesEqual(sig, rpcSignature(secret, r.Method, k.params))
		}
	} else {
		return nil, k.fail("IncompleteSignature", "the request is not signed")
	}

	c.mu.RLock()
	defer c.mu.RUnlock()
	if ak, ok := c.accessKeys[keyID]; ok {
		if !verify(ak.secret) {
			return nil, k.fail("SignatureDoesNotMatch", "")
		}
		if e := c.checkFreshness(k, r, keyID); e != nil {
			return nil, e
		}
		return &principal{acct: ak.account, user: ak.user}, nil
	}
	s, ok := c.sessions[keyID]
	if !ok {
		return nil, k.fail("InvalidAccessKeyId.NotFound", "")
	}
	if !verify(s.secret) {
		return nil, k.fail("SignatureDoesNotMatch", "")
	}
	if e := c.checkFreshness(k, r, keyID); e != nil {
		return nil, e
	}
	switch {
	case token == "":
		return nil, k.fail("MissingSecurityToken", "")
	case !signaturesEqual(token, s.token):
		return nil, k.fail("InvalidSecurityToken.MismatchWithAccessKey", "")
	case !c.clock.Now().Before(s.expires):
		return nil, k.fail("InvalidSecurityToken.Expired", "expired at "+s.expires.Format(time.RFC3339))
	}
	return &principal{acct: s.account, sess: s}, nil
}

func (c *Cloud) newRequestID() string {
	n := c.reqSeq.Add(1)
	return fmt.Sprintf("FAKE%04X-%04X-4%03X-8000-%012X", n>>48&0xffff, n>>32&0xffff, n>>20&0xfff, n&0xfffffffffff)
}

func (c *Cloud) record(k *call, e *Entry) {
	e.Time = k.now
	if e.Time.IsZero() {
		e.Time = c.clock.Now()
	}
	e.RequestID = k.rid
	c.log.add(*e)
}

// errorBody is Alibaba's error shape (wire-protocol.md §8.1).
type errorBody struct {
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	Recommend string `json:"Recommend"`
}

func (c *Cloud) respondError(w http.ResponseWriter, r *http.Request, k *call, e *Entry, err *Error) {
	e.Status, e.Code = err.Status, err.Code
	c.record(k, e)
	data, _ := json.Marshal(errorBody{
		RequestID: k.rid,
		HostID:    r.Host,
		Code:      err.Code,
		Message:   err.Message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + url.QueryEscape(err.Code),
	})
	writeJSON(w, k.rid, err.Status, data)
}

func writeJSON(w http.ResponseWriter, requestID string, status int, data []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("x-acs-request-id", requestID)
	w.WriteHeader(status)
	w.Write(data)
}

// handler serves every service of the cloud for one region.
type handler struct {
	c      *Cloud
	region string
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.c.serve(w, r, h.region)
}

// Handler returns an http.Handler serving KMS, RAM and STS for region, for
// callers that run their own server. Serve and Config are simpler.
func (c *Cloud) Handler(region string) http.Handler {
	return handler{c: c, region: region}
}

// principal is an authenticated caller.
type principal struct {
	acct    *account
	user    *user    // a RAM user
	sess    *session // a role session
	service string   // a service acting for acct (Go-level calls only)
}

func (p *principal) isRoot() bool { return p.user == nil && p.sess == nil && p.service == "" }
