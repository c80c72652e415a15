package stt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/channels/voice/stt"
)

// fakeSTT speaks the OpenAI audio transcription API: it checks the key and the multipart
// form, and answers {"text": ...} or an error of OpenAI's shape.
type fakeSTT struct {
	t      *testing.T
	key    string
	status int // 0: 200
	got    map[string]string
	audio  []byte
	path   string
}

func (f *fakeSTT) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.path = r.URL.Path
	if f.key != "" && r.Header.Get("Authorization") != "Bearer "+f.key {
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "Incorrect API key provided", "type": "invalid_request_error"}}) //nolint:errcheck
		return
	}
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		f.t.Errorf("not a multipart form: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	f.got = map[string]string{}
	for k, v := range r.MultipartForm.Value {
		f.got[k] = v[0]
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": "no file"}) //nolint:errcheck
		return
	}
	f.audio, _ = io.ReadAll(file)
	f.got["filename"] = hdr.Filename
	w.Header().Set("Content-Type", "application/json")
	if f.status != 0 {
		w.WriteHeader(f.status)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "model busy", "type": "server_error"}}) //nolint:errcheck
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"text": " 您好，我想问一下理赔进度。 "}) //nolint:errcheck
}

func TestTranscribe(t *testing.T) {
	ctx := context.Background()
	fake := &fakeSTT{t: t, key: "sk-test"}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	audio := []byte("ID3 mp3 bytes")

	for _, base := range []string{srv.URL, srv.URL + "/", srv.URL + "/v1"} {
		c, err := stt.New(stt.Config{URL: base, APIKey: "sk-test"})
		if err != nil {
			t.Fatal(err)
		}
		text, err := c.Transcribe(ctx, audio, "recording-RE1.mp3", "zh")
		if err != nil || text != "您好，我想问一下理赔进度。" {
			t.Fatalf("base %s: %q %v", base, text, err)
		}
		if fake.path != "/v1/audio/transcriptions" {
			t.Errorf("base %s: posted to %s", base, fake.path)
		}
	}
	want := map[string]string{"model": "whisper-1", "language": "zh", "response_format": "json", "filename": "recording-RE1.mp3"}
	for k, v := range want {
		if fake.got[k] != v {
			t.Errorf("form %s = %q, want %q", k, fake.got[k], v)
		}
	}
	if !bytes.Equal(fake.audio, audio) {
		t.Errorf("file %q", fake.audio)
	}

	// A configured model is sent; a wrong key is a permanent refusal with the service's words.
	c, _ := stt.New(stt.Config{URL: srv.URL, APIKey: "sk-other", Model: "large-v3"})
	_, err := c.Transcribe(ctx, audio, "r.mp3", "zh")
	if !stt.Permanent(err) || !strings.Contains(err.Error(), "Incorrect API key") || strings.Contains(err.Error(), "sk-") {
		t.Errorf("wrong key: %v", err)
	}
	c, _ = stt.New(stt.Config{URL: srv.URL, APIKey: "sk-test", Model: "large-v3"})
	if _, err := c.Transcribe(ctx, audio, "r.mp3", "en"); err != nil || fake.got["model"] != "large-v3" || fake.got["language"] != "en" {
		t.Errorf("model %q language %q: %v", fake.got["model"], fake.got["language"], err)
	}

	for status, permanent := range map[int]bool{400: true, 413: true, 422: true, 408: false, 429: false, 500: false, 503: false} {
		fake.status = status
		_, err := c.Transcribe(ctx, audio, "r.mp3", "zh")
		if err == nil || stt.Permanent(err) != permanent {
			t.Errorf("status %d: %v, permanent %v", status, err, stt.Permanent(err))
		}
	}
	srv.Close()
	if _, err := c.Transcribe(ctx, audio, "r.mp3", "zh"); err == nil || stt.Permanent(err) {
		t.Errorf("service down: %v", err)
	}

	for _, bad := range []string{"", "whisper:8080", "ftp://x", "https://user:pw@stt.example", "https://stt.example/?key=1"} {
		if _, err := stt.New(stt.Config{URL: bad}); err == nil {
			t.Errorf("URL %q accepted", bad)
		}
	}
}
