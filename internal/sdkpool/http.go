package sdkpool

import (
	"net/http"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// HTTP is the HTTP client for SDK configurations that bring none. Without
// one, the SDK (tea v1.5.4 dara.getDaraClient) sends requests through a
// process-wide http.Client per host and rewrites its Timeout on every
// request while concurrent requests read it: a data race however many SDK
// clients there are. HTTP keeps the SDK's behaviour (one http.Client per
// host, with the transport the SDK builds for its first request: proxies,
// TLS material, connect and read timeouts; an overall timeout of the
// configuration's connect plus read timeout) but never changes a client
// once made, so concurrent calls share connections without racing.
type HTTP struct {
	timeout time.Duration
	mu      sync.Mutex
	hosts   map[string]*http.Client
}

var _ dara.HttpClient = (*HTTP)(nil)

// NewHTTP returns the HTTP client for configurations like cfg.
func NewHTTP(cfg *openapi.Config) *HTTP {
	ms := tea.IntValue(cfg.ConnectTimeout) + tea.IntValue(cfg.ReadTimeout)
	return &HTTP{timeout: time.Duration(ms) * time.Millisecond, hosts: map[string]*http.Client{}}
}

// Call sends req through the client of its host, made with transport on
// the host's first request.
func (h *HTTP) Call(req *http.Request, transport *http.Transport) (*http.Response, error) {
	h.mu.Lock()
	c := h.hosts[req.URL.Host]
	if c == nil {
		c = &http.Client{Transport: transport, Timeout: h.timeout}
		h.hosts[req.URL.Host] = c
	}
	h.mu.Unlock()
	return c.Do(req)
}

// WithHTTP returns cfg if it has an HTTP client, else a copy of it with a
// new HTTP.
func WithHTTP(cfg *openapi.Config) *openapi.Config {
	if cfg == nil || cfg.HttpClient != nil {
		return cfg
	}
	c := *cfg
	c.HttpClient = NewHTTP(cfg)
	return &c
}
