package wechat_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/channels/wechat"
)

// FuzzParsePush feeds XML (seeds: the samples of WeChat's documentation, text, image,
// voice, video, shortvideo, location, link, miniprogrampage, subscribe and CLICK events, the
// encrypted envelope, in testdata/fuzz/FuzzParsePush) to the parser: it never panics, a
// MsgId it accepts is a 64-bit number, a CreateTime becomes the same time or none, never a
// wrapped one, and a customer's message of any type becomes a message, never dropped.
func FuzzParsePush(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := wechat.ParsePush(body)
		if err != nil {
			return
		}
		if p.MsgID != "" {
			if _, err := strconv.ParseUint(p.MsgID, 10, 64); err != nil {
				t.Errorf("accepted MsgId %q", p.MsgID)
			}
		}
		in, err := p.Inbound()
		if err != nil {
			if p.FromUserName != "" {
				t.Errorf("a %q message from a customer was refused: %v", p.MsgType, err)
			}
			return
		}
		if p.MsgType != "text" && in.Body == "" && len(in.Attachments) == 0 {
			t.Errorf("a %q message became an empty one", p.MsgType)
		}
		if limit, ok := p.MediaLimit(); ok && (limit <= 0 || len(in.Attachments) != 1) {
			t.Errorf("a %q message with a MediaId: limit %d, %d attachments", p.MsgType, limit, len(in.Attachments))
		}
		if !in.ReceivedAt.IsZero() && in.ReceivedAt.Unix() != p.CreateTime {
			t.Errorf("CreateTime %d became %v", p.CreateTime, in.ReceivedAt)
		}
		if p.CreateTime != 0 && in.ProviderTime != strconv.FormatInt(p.CreateTime, 10) {
			t.Errorf("CreateTime %d kept as %q", p.CreateTime, in.ProviderTime)
		}
	})
}

// FuzzDecrypt opens arbitrary Encrypt values (seeds: the openssl-sealed vector, in
// testdata/fuzz/FuzzDecrypt): never a panic, and nothing opens unless sealed for the app.
func FuzzDecrypt(f *testing.F) {
	c, err := wechat.NewCipher(aesKey, appID)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, encrypted string) {
		msg, err := c.Decrypt(encrypted)
		if err != nil {
			return
		}
		// Whatever opened, sealed again, opens to the same.
		sealed, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := c.Decrypt(sealed); err != nil || !bytes.Equal(back, msg) {
			t.Errorf("round trip of an opened message: %v", err)
		}
	})
}

// FuzzEncryptDecrypt seals any message and opens it again (seeds in
// testdata/fuzz/FuzzEncryptDecrypt); another app's cipher does not open it.
func FuzzEncryptDecrypt(f *testing.F) {
	c, err := wechat.NewCipher(aesKey, appID)
	if err != nil {
		f.Fatal(err)
	}
	other, err := wechat.NewCipher(aesKey, "wxSomeoneElse")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		sealed, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		back, err := c.Decrypt(sealed)
		if err != nil || !bytes.Equal(back, msg) {
			t.Fatalf("round trip: %q %v", back, err)
		}
		if _, err := other.Decrypt(sealed); err == nil {
			t.Error("another app's cipher opened the message")
		}
	})
}

// FuzzMediaFilename reads the file name of any Content-Disposition the media API (or a video
// address) answers (seeds in testdata/fuzz/FuzzMediaFilename): no directory, valid UTF-8,
// bounded.
func FuzzMediaFilename(f *testing.F) {
	f.Fuzz(func(t *testing.T, disp string) {
		name := wechat.DispositionFilename(disp)
		if strings.ContainsAny(name, "/\\\x00\r\n") || name == ".." || !utf8.ValidString(name) || len(name) > 200 {
			t.Errorf("%q gave the file name %q", disp, name)
		}
	})
}
