package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/hotlinedesk/hotline/channels"
)

// upload sends a picture to WeChat's temporary media API and returns its media_id, for an
// image message. The wire format is WeChat's: POST /cgi-bin/media/upload?access_token=
// …&type=image, multipart/form-data with the file in the field "media"; the answer is
// {"type":"image","media_id":…,"created_at":…} or {"errcode":…,"errmsg":…}. A refused
// token is refreshed once, as Send does.
func (c *Client) upload(ctx context.Context, f channels.File) (string, error) {
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="media"; filename="%s"; filelength=%d`, asciiName(f.Filename), len(f.Content)))
	h.Set("Content-Type", f.ContentType)
	pw, err := mw.CreatePart(h)
	if err != nil {
		return "", err
	}
	pw.Write(f.Content) //nolint:errcheck // writes to a buffer
	if err := mw.Close(); err != nil {
		return "", err
	}
	for attempt := 0; attempt < 2; attempt++ {
		var tok string
		if tok, err = c.token(ctx, attempt > 0); err != nil {
			return "", err
		}
		q := url.Values{"access_token": {tok}, "type": {"image"}}
		req, rerr := http.NewRequestWithContext(ctx, http.MethodPost, c.apiURL+"/cgi-bin/media/upload?"+q.Encode(), bytes.NewReader(form.Bytes()))
		if rerr != nil {
			return "", rerr
		}
		req.Header.Set("Content-Type", mw.FormDataContentType())
		res, rerr := c.http.Do(req)
		if rerr != nil {
			return "", fmt.Errorf("upload WeChat media: %w", withoutURL(rerr))
		}
		var out struct {
			APIError
			MediaID string `json:"media_id"`
		}
		derr := json.NewDecoder(io.LimitReader(res.Body, maxMediaJSON)).Decode(&out)
		res.Body.Close()
		switch {
		case res.StatusCode != http.StatusOK:
			return "", fmt.Errorf("upload WeChat media: WeChat answered HTTP %d", res.StatusCode)
		case derr != nil:
			return "", fmt.Errorf("upload WeChat media: %w", derr)
		case out.Code == 0 && out.MediaID != "":
			return out.MediaID, nil
		case out.Code == 0:
			return "", fmt.Errorf("upload WeChat media: no media_id in the answer")
		}
		err = &out.APIError
		if !tokenExpired(err) {
			break
		}
	}
	return "", err
}

// asciiName is the file name WeChat is told: it reads the name only for its extension, and
// quotes or non-ASCII bytes in it could break the form.
func asciiName(name string) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = strings.ToLower(name[i:])
	}
	if strings.ContainsFunc(ext, func(r rune) bool { return r > 0x7e || r < 0x21 || r == '"' || r == '\\' }) {
		ext = ""
	}
	return "file" + ext
}
