// Package voicetest runs, for tests, the two services a voicemail's transcription talks to,
// speaking their real wire formats on loopback: Twilio's recording media (behind the
// account's HTTP basic auth, with byte ranges) and an OpenAI-compatible speech-to-text
// service (POST /v1/audio/transcriptions, multipart form, Bearer key, JSON answer).
package voicetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Account is the Twilio account the fakes expect.
const (
	AccountSID = "AC0123456789abcdef0123456789abcdef"
	AuthToken  = "twilio-auth-token-for-tests"
)

// RecordingURL is the RecordingUrl Twilio posts for recording sid of Account, on api.twilio.com.
func RecordingURL(sid string) string {
	return "https://api.twilio.com/2010-04-01/Accounts/" + AccountSID + "/Recordings/" + sid
}

// Media serves recordings as Twilio's API does: GET <RecordingUrl path>.mp3 with the
// account's basic auth, answering byte ranges with 206.
type Media struct {
	URL string // point TWILIO_API_URL here

	mu         sync.Mutex
	recordings map[string][]byte // by SID
	requests   int
	refused    int // requests without the account's credentials
	ranges     []string
}

// NewMedia starts the fake until the test ends.
func NewMedia(t testing.TB) *Media {
	m := &Media{recordings: map[string][]byte{}}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	m.URL = srv.URL
	return m
}

// Put stores a recording's audio under its SID.
func (m *Media) Put(sid string, audio []byte) {
	m.mu.Lock()
	m.recordings[sid] = audio
	m.mu.Unlock()
}

// Requests counts the requests served; Refused those without the account's credentials;
// Ranges lists the Range headers received.
func (m *Media) Requests() (all, refused int, ranges []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests, m.refused, append([]string(nil), m.ranges...)
}

func (m *Media) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	m.requests++
	user, pass, ok := r.BasicAuth()
	if !ok || user != AccountSID || pass != AuthToken {
		m.refused++
		m.mu.Unlock()
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		http.Error(w, `{"code": 20003, "message": "Authenticate", "status": 401}`, http.StatusUnauthorized)
		return
	}
	if rg := r.Header.Get("Range"); rg != "" {
		m.ranges = append(m.ranges, rg)
	}
	prefix := "/2010-04-01/Accounts/" + AccountSID + "/Recordings/"
	sid, isMP3 := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, prefix), ".mp3")
	audio, found := m.recordings[sid]
	m.mu.Unlock()
	if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, prefix) || !isMP3 || !found {
		http.Error(w, `{"code": 20404, "message": "The requested resource was not found", "status": 404}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "audio/mpeg")
	http.ServeContent(w, r, sid+".mp3", time.Time{}, bytes.NewReader(audio))
}

// STT is a speech-to-text service speaking OpenAI's audio transcription API. It answers
// with the text set for the request's language, after checking the key and the form.
type STT struct {
	URL string // point HOTLINE_STT_URL here
	Key string

	mu     sync.Mutex
	texts  map[string]string // by language
	fail   int               // when set, the status every request gets
	calls  []Call
	errors []string // what was wrong with requests
}

// Call is one transcription request as the service received it.
type Call struct {
	Model, Language, Format, Filename string
	Audio                             []byte
}

// NewSTT starts the fake with key as its API key until the test ends.
func NewSTT(t testing.TB, key string) *STT {
	s := &STT{Key: key, texts: map[string]string{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// Say sets the text heard in language's recordings.
func (s *STT) Say(language, text string) {
	s.mu.Lock()
	s.texts[language] = text
	s.mu.Unlock()
}

// Fail makes every request get status (0: answer normally).
func (s *STT) Fail(status int) {
	s.mu.Lock()
	s.fail = status
	s.mu.Unlock()
}

// Calls lists the requests that reached the transcription, and the problems of the others.
func (s *STT) Calls() ([]Call, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...), append([]string(nil), s.errors...)
}

// refuse answers a request that is not what the API takes, and remembers why.
func (s *STT) refuse(w http.ResponseWriter, status int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.mu.Lock()
	s.errors = append(s.errors, msg)
	s.mu.Unlock()
	writeError(w, status, msg)
}

// writeError answers as OpenAI does: {"error": {"message", "type"}}.
func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error"}}) //nolint:errcheck
}

func (s *STT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/audio/transcriptions" {
		s.refuse(w, http.StatusNotFound, "no route %s %s", r.Method, r.URL.Path)
		return
	}
	if s.Key != "" && r.Header.Get("Authorization") != "Bearer "+s.Key {
		s.refuse(w, http.StatusUnauthorized, "Incorrect API key provided")
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		s.refuse(w, http.StatusBadRequest, "not a multipart form: %v", err)
		return
	}
	c := Call{Model: r.FormValue("model"), Language: r.FormValue("language"), Format: r.FormValue("response_format")}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		s.refuse(w, http.StatusBadRequest, "the file field is missing")
		return
	}
	c.Audio, _ = io.ReadAll(f)
	c.Filename = hdr.Filename
	if c.Model == "" || c.Language == "" || c.Format != "json" || len(c.Audio) == 0 {
		s.refuse(w, http.StatusBadRequest, "model, language, response_format=json and a file are required, got %+v", c)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	status, text := s.fail, s.texts[c.Language]
	s.mu.Unlock()
	if status != 0 {
		writeError(w, status, fmt.Sprintf("the service failed with %d", status))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{"text": text}) //nolint:errcheck
}
