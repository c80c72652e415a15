package wechattest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
)

// maxUpload is WeChat's limit on a temporary image.
const maxUpload = 10 << 20

// serveOutgoing answers what Hotline sends: a picture uploaded as temporary media
// (multipart/form-data, field "media", type=image: JPG or PNG up to 10 MB), kept under a
// new MediaId; and customer-service messages, recorded as posted.
func (m *MediaAPI) serveOutgoing(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("access_token") != m.token {
		apiError(w, 40001, "invalid credential, access_token is invalid or not latest")
		return
	}
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	if r.URL.Path == "/cgi-bin/message/custom/send" {
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			apiError(w, 47001, "data format error")
			return
		}
		if len(m.SendCodes) > 0 {
			code := m.SendCodes[0]
			m.SendCodes = m.SendCodes[1:]
			if code != 0 {
				apiError(w, code, "refused")
				return
			}
		}
		m.sent = append(m.sent, body)
		apiError(w, 0, "ok")
		return
	}
	if q.Get("type") != "image" {
		apiError(w, 40004, "invalid media type")
		return
	}
	if err := r.ParseMultipartForm(maxUpload + 1<<20); err != nil {
		apiError(w, 41005, "media data missing")
		return
	}
	fhs := r.MultipartForm.File["media"]
	if len(fhs) != 1 {
		apiError(w, 41005, "media data missing")
		return
	}
	fh := fhs[0]
	ctype, _, _ := mime.ParseMediaType(fh.Header.Get("Content-Type"))
	if !slices.Contains([]string{"image/jpeg", "image/png"}, ctype) {
		apiError(w, 40005, "invalid file type")
		return
	}
	if fh.Size > maxUpload {
		apiError(w, 40006, "invalid meida size")
		return
	}
	f, err := fh.Open()
	if err != nil {
		apiError(w, 41005, "media data missing")
		return
	}
	content, _ := io.ReadAll(f)
	id := fmt.Sprintf("UPLOADED_%d", len(m.files)+1)
	m.files[id] = File{ContentType: ctype, Filename: fh.Filename, Content: content}
	json.NewEncoder(w).Encode(map[string]any{"type": "image", "media_id": id, "created_at": 1764750000}) //nolint:errcheck
}

// Sent is every customer-service message posted, as WeChat received its JSON.
func (m *MediaAPI) Sent() []map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.sent)
}

// File is what a MediaId holds (an uploaded picture, say).
func (m *MediaAPI) File(mediaID string) (File, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.files[mediaID]
	return f, ok
}
