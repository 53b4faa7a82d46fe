package fakecloud

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// Two transports carry the real SDK's requests to the emulator:
//
//   - in process: Config sets openapi.Config.HttpClient, so the SDK builds
//     and signs each request exactly as for the network and hands it to the
//     emulator without a socket (wire-protocol.md §11);
//   - over HTTP: Serve starts real servers on 127.0.0.1, one per region,
//     and Server.Config points the SDK at them (wire-protocol.md §10).
//
// Either way the region of a request is the region of the transport: the
// real endpoints are regional (kms.<region>.aliyuncs.com), and RAM and STS
// ignore it.

// inProcess is a dara.HttpClient that serves requests from the emulator.
type inProcess struct {
	c      *Cloud
	region string
	from   Origin // where its requests come from (network.go)
}

var _ dara.HttpClient = inProcess{}

// Call serves req in process. The transport argument is unused.
func (t inProcess) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	// dara stores header keys verbatim in lower case ("x-acs-action");
	// rebuild the map so lookups see canonical keys, as a socket would.
	h := make(http.Header, len(req.Header))
	for name, vs := range req.Header {
		for _, v := range vs {
			h.Add(name, v)
		}
	}
	req.Header = h
	if req.Body == nil {
		req.Body = http.NoBody
	}
	if err := req.Context().Err(); err != nil {
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: err}
	}
	if !t.c.resolves(req.URL.Host, t.from) {
		return nil, noSuchHost(req)
	}
	req = withOrigin(req, t.from)
	rec := httptest.NewRecorder()
	t.c.serve(rec, req, t.region)
	if err := req.Context().Err(); err != nil {
		// The caller gave up while the request waited (injected latency).
		return nil, &url.Error{Op: req.Method, URL: req.URL.String(), Err: err}
	}
	return rec.Result(), nil
}

// HTTPClient returns the in-process transport for region, for callers that
// build their own openapi.Config.
func (c *Cloud) HTTPClient(region string) dara.HttpClient {
	return inProcess{c: c, region: region}
}

// HTTPClientFrom is HTTPClient for requests coming from o.
func (c *Cloud) HTTPClientFrom(region string, o Origin) dara.HttpClient {
	return inProcess{c: c, region: region, from: o}
}

// Config returns an SDK configuration that reaches this cloud in process
// with creds, for region. kms.NewClient, ram.NewClient and sts.NewClient
// all accept it; each keeps its real default endpoint, which the in-process
// transport never dials.
func (c *Cloud) Config(creds Credentials, region string) *openapi.Config {
	cfg := baseConfig(creds, region)
	cfg.Protocol = tea.String("https")
	cfg.HttpClient = c.HTTPClient(region)
	return cfg
}

func baseConfig(creds Credentials, region string) *openapi.Config {
	cfg := &openapi.Config{
		AccessKeyId:     tea.String(creds.AccessKeyID),
		AccessKeySecret: tea.String(creds.Secret()),
		RegionId:        tea.String(region),
	}
	if creds.SecurityToken() != "" {
		cfg.SecurityToken = tea.String(creds.SecurityToken())
	}
	return cfg
}

// Server is the emulator behind real HTTP servers on 127.0.0.1, one per
// region, started on first use.
type Server struct {
	c       *Cloud
	client  *http.Client // what Server.Config makes the SDK use
	mu      sync.Mutex
	servers map[string]*httptest.Server
	closed  bool
}

// Serve returns a Server for this cloud. Close it when done.
func (c *Cloud) Serve() *Server {
	// A transport of our own: no proxy from the environment, and none of
	// the SDK's pooled clients, which write http.Client.Timeout on every
	// request while other requests read it (a data race under -race).
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	return &Server{c: c, servers: map[string]*httptest.Server{},
		client: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// netClient is a dara.HttpClient that sends requests over the network
// with its own http.Client.
type netClient struct {
	c *http.Client
	// With cloud set, requests come from from: a dedicated gateway host is
	// resolved as from there and sent to server (host:port).
	from   Origin
	cloud  *Cloud
	server string
}

func (n netClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	if n.cloud != nil {
		if dedicatedInstance(req.URL.Host) != "" {
			if !n.cloud.resolves(req.URL.Host, n.from) {
				return nil, noSuchHost(req)
			}
			req.Host = req.URL.Host // signed as such
			req.URL.Host = n.server
		}
		if h := n.from.header(); h != "" {
			req.Header.Set(originHeader, h)
		}
	}
	return n.c.Do(req)
}

// Endpoint returns "127.0.0.1:<port>" of the server for region, starting
// it if needed. It returns "" after Close.
func (s *Server) Endpoint(region string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ""
	}
	srv, ok := s.servers[region]
	if !ok {
		srv = httptest.NewServer(s.c.Handler(region))
		s.servers[region] = srv
	}
	return srv.Listener.Addr().String()
}

// Config returns an SDK configuration that reaches the server for region
// over plain HTTP with creds. Endpoint is host:port without a scheme and
// NoProxy equals it (wire-protocol.md §10.2); requests go through the
// server's own http.Client (Config.HttpClient), never through a proxy.
func (s *Server) Config(creds Credentials, region string) *openapi.Config {
	ep := s.Endpoint(region)
	cfg := baseConfig(creds, region)
	cfg.Endpoint = tea.String(ep)
	cfg.NoProxy = tea.String(ep)
	cfg.Protocol = tea.String("http")
	cfg.HttpClient = netClient{c: s.client}
	return cfg
}

// Close shuts every server down.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, srv := range s.servers {
		srv.Close()
	}
	clear(s.servers)
	s.client.CloseIdleConnections()
}
