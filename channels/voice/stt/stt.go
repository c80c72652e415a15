// Package stt turns recorded speech into text through a speech-to-text service that
// speaks the OpenAI-compatible audio transcription API (POST /v1/audio/transcriptions,
// multipart form with file, model, language and response_format=json, answered with
// {"text": "..."}): OpenAI itself, whisper.cpp's and faster-whisper's servers, and the
// gateways in front of others. Twilio's own transcription understands English only.
package stt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Config says where the service is.
type Config struct {
	// URL is the service's base, e.g. http://whisper:8000 or https://api.openai.com; the
	// request goes to URL/v1/audio/transcriptions (URL/audio/transcriptions when URL
	// already ends in /v1).
	URL string
	// APIKey is sent as Authorization: Bearer; empty sends none.
	APIKey string
	// Model is the form's model field; empty means DefaultModel.
	Model string
	// Timeout bounds one transcription; zero means 5 minutes (a CPU server is slow).
	Timeout time.Duration
}

// DefaultModel is OpenAI's name for Whisper, which most compatible servers accept too.
const DefaultModel = "whisper-1"

// maxAnswerBytes bounds the service's answer: three minutes of speech is a few KiB of text.
const maxAnswerBytes = 1 << 20

// Client calls the service.
type Client struct {
	endpoint string
	key      string
	model    string
	http     *http.Client
}

// New checks the configuration and builds a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(strings.TrimSpace(cfg.URL), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("the speech-to-text URL must look like https://stt.example.com (its base, without a query or credentials), not %q", cfg.URL)
	}
	if strings.HasSuffix(u.Path, "/v1") {
		u.Path += "/audio/transcriptions"
	} else {
		u.Path += "/v1/audio/transcriptions"
	}
	if strings.ContainsAny(cfg.APIKey, "\r\n") {
		return nil, errors.New("the speech-to-text API key must be one line")
	}
	c := &Client{endpoint: u.String(), key: cfg.APIKey, model: cfg.Model, http: &http.Client{Timeout: cfg.Timeout}}
	if c.model == "" {
		c.model = DefaultModel
	}
	if c.http.Timeout == 0 {
		c.http.Timeout = 5 * time.Minute
	}
	return c, nil
}

// Error is the service's refusal.
type Error struct {
	Status  int
	Message string // the service's own words, shortened
}

func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("speech-to-text service answered %d", e.Status)
	}
	return fmt.Sprintf("speech-to-text service answered %d: %s", e.Status, e.Message)
}

// Permanent reports whether asking again cannot help: a 4xx other than a timeout or a
// rate limit (the audio, the model or the key is refused).
func (e *Error) Permanent() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

// Permanent reports whether err is a refusal that asking again cannot change.
func Permanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent()
}

// Transcribe sends audio (named filename, whose extension tells the service its format)
// and returns the text heard, in language ("zh", "en": ISO 639-1).
func (c *Client) Transcribe(ctx context.Context, audio []byte, filename, language string) (string, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"model", c.model}, {"language", language}, {"response_format", "json"}} {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return "", fmt.Errorf("build transcription request: %w", err)
		}
	}
	part, err := w.CreateFormFile("file", filename)
	if err != nil {
		return "", fmt.Errorf("build transcription request: %w", err)
	}
	if _, err := part.Write(audio); err != nil {
		return "", fmt.Errorf("build transcription request: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("build transcription request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, &body)
	if err != nil {
		return "", fmt.Errorf("build transcription request: %w", err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("call speech-to-text service: %w", err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes+1))
	if err != nil {
		return "", fmt.Errorf("read speech-to-text answer: %w", err)
	}
	if len(answer) > maxAnswerBytes {
		return "", fmt.Errorf("speech-to-text answer is larger than %d bytes", maxAnswerBytes)
	}
	if res.StatusCode != http.StatusOK {
		return "", &Error{Status: res.StatusCode, Message: errorMessage(answer)}
	}
	var out struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(answer, &out); err != nil || out.Text == nil {
		return "", errors.New(`speech-to-text answer is not {"text": ...} JSON`)
	}
	return strings.TrimSpace(*out.Text), nil
}

// errorMessage is the reason in an error answer: OpenAI's {"error": {"message"}}, the
// {"error": "..."} of simpler servers, or the start of whatever else came.
func errorMessage(answer []byte) string {
	var obj struct {
		Error json.RawMessage `json:"error"`
	}
	msg := ""
	if json.Unmarshal(answer, &obj) == nil && len(obj.Error) > 0 {
		var nested struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(obj.Error, &nested) == nil && nested.Message != "" {
			msg = nested.Message
		} else {
			_ = json.Unmarshal(obj.Error, &msg)
		}
	}
	if msg == "" {
		msg = string(answer)
	}
	msg = strings.Join(strings.Fields(strings.ToValidUTF8(msg, "")), " ")
	const most = 200
	if len(msg) > most {
		cut := most
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
