package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"unicode/utf8"
)

// WeChat's own limits on what a customer can send, so a larger answer is not WeChat's.
const (
	MaxImageBytes = 10 << 20
	MaxVoiceBytes = 2 << 20
	MaxVideoBytes = 10 << 20
)

// maxMediaJSON bounds an answer that is JSON (an error or a video's download address).
const maxMediaJSON = 64 << 10

// Media is a file fetched through the media API.
type Media struct {
	Filename    string
	ContentType string
	Content     []byte
}

// Media downloads a customer's file by its MediaId (GET /cgi-bin/media/get), at most limit
// bytes. WeChat answers the file itself, with Content-Type and Content-Disposition; a video
// may be answered as {"video_url": ...} to download instead; errors are {"errcode": ...}.
// A refused token is refreshed once, as Send does.
func (c *Client) Media(ctx context.Context, mediaID string, limit int64) (*Media, error) {
	if mediaID == "" {
		return nil, errors.New("no MediaId")
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var tok string
		if tok, err = c.token(ctx, attempt > 0); err != nil {
			return nil, fmt.Errorf("get WeChat access_token: %w", withoutURL(err))
		}
		q := url.Values{"access_token": {tok}, "media_id": {mediaID}}
		var m *Media
		m, err = c.download(ctx, c.apiURL+"/cgi-bin/media/get?"+q.Encode(), limit, true)
		if err == nil {
			if m.Filename == "" {
				m.Filename = mediaID
			}
			return m, nil
		}
		if !tokenExpired(err) {
			break
		}
	}
	return nil, fmt.Errorf("fetch WeChat media: %w", err)
}

// download reads one answer of the media API, or of a video's download address
// (followVideo false there: that address answers the file, never another address).
func (c *Client) download(ctx context.Context, addr string, limit int64, followVideo bool) (*Media, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, addr, nil)
	if err != nil {
		return nil, errors.New("bad media address")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, withoutURL(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("WeChat answered HTTP %d", res.StatusCode)
	}
	ctype := res.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ctype)
	disp := res.Header.Get("Content-Disposition")
	if disp == "" && (mt == "application/json" || mt == "text/plain" || mt == "") {
		b, err := io.ReadAll(io.LimitReader(res.Body, maxMediaJSON+1))
		if err != nil {
			return nil, fmt.Errorf("read WeChat answer: %w", err)
		}
		if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '{' {
			var out struct {
				APIError
				VideoURL string `json:"video_url"`
			}
			if len(b) > maxMediaJSON || json.Unmarshal(trimmed, &out) != nil {
				return nil, errors.New("WeChat answered malformed JSON")
			}
			if out.Code != 0 {
				return nil, &out.APIError
			}
			if out.VideoURL == "" || !followVideo {
				return nil, errors.New("WeChat answered neither a file nor a video address")
			}
			u, err := url.Parse(out.VideoURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, errors.New("WeChat answered an unusable video address")
			}
			return c.download(ctx, out.VideoURL, limit, false)
		}
		if len(b) > maxMediaJSON {
			return nil, errors.New("WeChat answered a file without a type")
		}
		return &Media{ContentType: "application/octet-stream", Content: b}, nil
	}
	if res.ContentLength > limit {
		return nil, fmt.Errorf("file of %d bytes is over the %d-byte limit", res.ContentLength, limit)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read WeChat media: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("file is over the %d-byte limit", limit)
	}
	if mt == "" {
		mt = "application/octet-stream"
	}
	return &Media{Filename: dispositionFilename(disp), ContentType: mt, Content: b}, nil
}

// withoutURL drops the address from a transport error: it carries the access_token (or,
// fetching one, the app secret), and this error reaches logs and the stored message.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// dispositionFilename is the file name in a Content-Disposition, without any directory and
// bounded; "" when there is none.
func dispositionFilename(disp string) string {
	_, params, err := mime.ParseMediaType(disp)
	name := params["filename"]
	if err != nil || name == "" {
		// WeChat's header is `attachment; filename="MEDIA_ID.jpg"`; take a bare one too.
		if _, after, ok := strings.Cut(disp, "filename="); ok {
			name = strings.Trim(strings.TrimSpace(strings.Split(after, ";")[0]), `"`)
		}
	}
	// Valid UTF-8 without control characters: PostgreSQL refuses NUL and invalid text.
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, name)
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	if len(name) > 200 {
		name = strings.ToValidUTF8(name[len(name)-200:], "")
	}
	return name
}
