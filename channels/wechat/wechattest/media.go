// Package wechattest is a local fake of the official account's API for tests: the token
// endpoint, the media API (GET /cgi-bin/media/get, POST /cgi-bin/media/upload) and the
// customer-service message API, in WeChat's wire format.
package wechattest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// File is what the media API holds under a MediaId.
type File struct {
	ContentType string
	Filename    string // sent as Content-disposition: attachment; filename="..."
	Content     []byte
	// VideoURL answers {"video_url": ...} instead of the file, as WeChat does for some
	// videos; the address then serves the file.
	VideoURL bool
	// NoLength sends the file without Content-Length (chunked), so only reading finds its size.
	NoLength bool
	// Hang never answers, until the caller gives up.
	Hang bool
	// ErrCode answers {"errcode": ErrCode, "errmsg": ...} instead, e.g. 40007.
	ErrCode int
}

// MediaAPI is the fake. Secret is the app secret it accepts.
type MediaAPI struct {
	Secret string
	URL    string

	mu      sync.Mutex
	files   map[string]File
	token   string
	tokens  int
	fetches map[string]int
	sent    []map[string]any
	// SendCodes are errcodes the next customer-service messages are answered with, in
	// turn (0 takes one). Set it before the client sends.
	SendCodes []int
}

// NewMediaAPI starts the fake; it stops with the test.
func NewMediaAPI(t testing.TB, secret string) *MediaAPI {
	t.Helper()
	m := &MediaAPI{Secret: secret, files: map[string]File{}, fetches: map[string]int{}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// Put stores a file under a MediaId.
func (m *MediaAPI) Put(mediaID string, f File) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.files[mediaID] = f
}

// Revoke makes the current access_token invalid, as fetching one elsewhere does.
func (m *MediaAPI) Revoke() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.token = "REVOKED"
}

// Tokens is how many access_tokens were handed out.
func (m *MediaAPI) Tokens() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens
}

// Fetches is how many times a MediaId was asked for with a valid token.
func (m *MediaAPI) Fetches(mediaID string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.fetches[mediaID]
}

func apiError(w http.ResponseWriter, code int, msg string) {
	// WeChat answers errors as JSON with HTTP 200.
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg}) //nolint:errcheck
}

func (m *MediaAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/token":
		if q.Get("grant_type") != "client_credential" || q.Get("secret") != m.Secret {
			apiError(w, 40125, "invalid appsecret")
			return
		}
		m.tokens++
		m.token = "TOKEN" + strconv.Itoa(m.tokens)
		w.Header().Set("Content-Type", "application/json; encoding=utf-8")
		json.NewEncoder(w).Encode(map[string]any{"access_token": m.token, "expires_in": 7200}) //nolint:errcheck
	case "/cgi-bin/media/get", "/video":
		if r.URL.Path == "/cgi-bin/media/get" && q.Get("access_token") != m.token {
			apiError(w, 40001, "invalid credential, access_token is invalid or not latest")
			return
		}
		id := q.Get("media_id")
		f, ok := m.files[id]
		if !ok {
			apiError(w, 40007, "invalid media_id")
			return
		}
		if r.URL.Path == "/cgi-bin/media/get" {
			m.fetches[id]++
			if f.Hang {
				m.mu.Unlock()
				<-r.Context().Done()
				m.mu.Lock()
				return
			}
			if f.ErrCode != 0 {
				apiError(w, f.ErrCode, "refused")
				return
			}
			if f.VideoURL {
				w.Header().Set("Content-Type", "application/json; encoding=utf-8")
				json.NewEncoder(w).Encode(map[string]string{"video_url": m.URL + "/video?media_id=" + id}) //nolint:errcheck
				return
			}
		}
		w.Header().Set("Content-Type", f.ContentType)
		w.Header().Set("Content-disposition", fmt.Sprintf("attachment; filename=%q", f.Filename))
		w.Header().Set("Cache-Control", "no-cache, must-revalidate")
		if !f.NoLength {
			w.Header().Set("Content-Length", strconv.Itoa(len(f.Content)))
		}
		w.Write(f.Content) //nolint:errcheck
	case "/cgi-bin/media/upload", "/cgi-bin/message/custom/send":
		m.serveOutgoing(w, r)
	default:
		http.NotFound(w, r)
	}
}
