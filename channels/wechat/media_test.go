package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hotlinedesk/hotline/channels/wechat"
	"github.com/hotlinedesk/hotline/channels/wechat/wechattest"
)

func TestMediaDownload(t *testing.T) {
	api := wechattest.NewMediaAPI(t, "s3cret")
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 5000)...)
	amr := append([]byte("#!AMR\n"), bytes.Repeat([]byte{1}, 300)...)
	mp4 := append([]byte("\x00\x00\x00\x18ftypmp42"), bytes.Repeat([]byte{2}, 9000)...)
	api.Put("IMG1", wechattest.File{ContentType: "image/jpeg", Filename: "IMG1.jpg", Content: jpeg})
	api.Put("VOICE1", wechattest.File{ContentType: "audio/amr", Filename: "VOICE1.amr", Content: amr})
	api.Put("VID1", wechattest.File{ContentType: "video/mp4", Filename: "VID1.mp4", Content: mp4, VideoURL: true})
	api.Put("BIG", wechattest.File{ContentType: "audio/amr", Filename: "BIG.amr", Content: make([]byte, wechat.MaxVoiceBytes+1)})
	api.Put("BIGCHUNKED", wechattest.File{ContentType: "audio/amr", Filename: "x.amr", Content: make([]byte, wechat.MaxVoiceBytes+1), NoLength: true})
	api.Put("SNEAKY", wechattest.File{ContentType: "image/png", Filename: "../../etc/passwd.png", Content: []byte("\x89PNG")})
	api.Put("EXPIRED", wechattest.File{ErrCode: 40007})
	c := wechat.NewClient(api.URL, appID, "s3cret", redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()}))

	for _, tc := range []struct {
		name, id      string
		limit         int64
		want          []byte
		ctype, fname  string
		wantErr, code string
	}{
		{name: "image", id: "IMG1", limit: wechat.MaxImageBytes, want: jpeg, ctype: "image/jpeg", fname: "IMG1.jpg"},
		{name: "voice", id: "VOICE1", limit: wechat.MaxVoiceBytes, want: amr, ctype: "audio/amr", fname: "VOICE1.amr"},
		{name: "video by its download address", id: "VID1", limit: wechat.MaxVideoBytes, want: mp4, ctype: "video/mp4", fname: "VID1.mp4"},
		{name: "file named with a path keeps only its name", id: "SNEAKY", limit: wechat.MaxImageBytes, want: []byte("\x89PNG"), ctype: "image/png", fname: "passwd.png"},
		{name: "declared over the limit", id: "BIG", limit: wechat.MaxVoiceBytes, wantErr: "limit"},
		{name: "chunked over the limit", id: "BIGCHUNKED", limit: wechat.MaxVoiceBytes, wantErr: "limit"},
		{name: "WeChat's JSON error", id: "EXPIRED", limit: wechat.MaxImageBytes, wantErr: "40007"},
		{name: "unknown media id", id: "NOPE", limit: wechat.MaxImageBytes, wantErr: "invalid media_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := c.Media(context.Background(), tc.id, tc.limit)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one saying %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "TOKEN") {
					t.Errorf("error quotes the access_token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Content, tc.want) || m.ContentType != tc.ctype || m.Filename != tc.fname {
				t.Errorf("got %d bytes %q %q, want %d bytes %q %q", len(m.Content), m.ContentType, m.Filename, len(tc.want), tc.ctype, tc.fname)
			}
		})
	}

	// The token was revoked elsewhere: fetched again once, and the file comes.
	api.Revoke()
	if m, err := c.Media(context.Background(), "IMG1", wechat.MaxImageBytes); err != nil || !bytes.Equal(m.Content, jpeg) {
		t.Fatalf("after the token was revoked: %v", err)
	}
	if api.Tokens() != 2 {
		t.Errorf("%d tokens fetched, want 2", api.Tokens())
	}
	// An unreachable API: the error names no address (it would carry the token).
	dead := wechat.NewClient("http://127.0.0.1:1", appID, "s3cret", redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()}))
	_, err := dead.Media(context.Background(), "IMG1", wechat.MaxImageBytes)
	var apiErr *wechat.APIError
	if err == nil || errors.As(err, &apiErr) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "127.0.0.1:1/") {
		t.Errorf("unreachable API: %v", err)
	}
}
