package fakecloud

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// AdminPath is where World.Handler serves its admin endpoints. No Alibaba
// Cloud API uses it: RPC APIs answer on "/" and ROA paths never start with
// a dot.
const AdminPath = "/.fakecloud/"

// Handler returns an http.Handler that serves KMS, RAM and STS for region
// on "/" (as Cloud.Handler does) and these admin endpoints, which need no
// signature and return JSON:
//
//	GET  /.fakecloud/log?since=<seq>          {"mark": <seq>, "entries": [Entry, …]}
//	GET  /.fakecloud/time                     {"now": "<RFC 3339>"}
//	POST /.fakecloud/advance?by=<duration>    {"now": "<RFC 3339>"}
//
// since is a sequence number from an earlier answer's mark (0 or absent:
// everything kept); entries are the request log's, oldest first, and hold
// no secrets. advance moves emulator time as World.Advance does. Serve it
// on 127.0.0.1 only: the admin endpoints trust every caller.
func (w *World) Handler(region string) http.Handler {
	api := w.Cloud.Handler(region)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, AdminPath) {
			api.ServeHTTP(rw, r)
			return
		}
		w.admin(rw, r, strings.TrimPrefix(r.URL.Path, AdminPath))
	})
}

// adminNow is the answer of time and advance.
type adminNow struct {
	Now time.Time `json:"now"`
}

// adminLog is the answer of log.
type adminLog struct {
	Mark    int     `json:"mark"`
	Entries []Entry `json:"entries"`
}

type adminError struct {
	Error string `json:"error"`
}

func (w *World) admin(rw http.ResponseWriter, r *http.Request, what string) {
	reply := func(status int, v any) {
		data, _ := json.Marshal(v)
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(status)
		rw.Write(data)
	}
	method := func(want string) bool {
		if r.Method == want {
			return true
		}
		rw.Header().Set("Allow", want)
		reply(http.StatusMethodNotAllowed, adminError{what + " takes " + want})
		return false
	}
	switch what {
	case "log":
		if !method(http.MethodGet) {
			return
		}
		since := 0
		if s := r.URL.Query().Get("since"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				reply(http.StatusBadRequest, adminError{"since: want a sequence number ≥ 0"})
				return
			}
			since = n
		}
		log := w.Cloud.Log()
		mark := log.Mark()
		entries := log.Since(since, Match{})
		// Only what came up to mark, so that the next since misses nothing.
		for len(entries) > 0 && entries[len(entries)-1].Seq > mark {
			entries = entries[:len(entries)-1]
		}
		if entries == nil {
			entries = []Entry{}
		}
		reply(http.StatusOK, adminLog{Mark: mark, Entries: entries})
	case "time":
		if method(http.MethodGet) {
			reply(http.StatusOK, adminNow{w.Cloud.Now()})
		}
	case "advance":
		if !method(http.MethodPost) {
			return
		}
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil {
			reply(http.StatusBadRequest, adminError{"by: want a duration such as 90s or 6m"})
			return
		}
		if err := w.Advance(d); err != nil {
			reply(http.StatusConflict, adminError{err.Error()})
			return
		}
		reply(http.StatusOK, adminNow{w.Cloud.Now()})
	default:
		reply(http.StatusNotFound, adminError{"no admin endpoint " + AdminPath + what + " (log, time, advance)"})
	}
}
