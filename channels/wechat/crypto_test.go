package wechat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/channels/wechat"
)

const (
	aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	appID  = "wx1234567890abcdef"
	token  = "hotlinetoken"
	// Sealed with the openssl command line (aes-256-cbc, the key's first 16 bytes as IV,
	// PKCS#7 to 32 bytes over 16 random bytes, the big-endian length, the XML and the app
	// id), not with this package: it proves Decrypt reads what WeChat writes.
	opensslVector = "Q3stYC6hdFzMh9T8HCvyDOijj+4zIgvMT9VuUUUXZ83/ZjADiDm6BjQrcgkxYnYX/EBx/+1YxZDSCozgtiZuUoZHm1sQ0G1Az2kQQdWA3KkKGFfmq0MBPsB2vxfi8sBGoB9k32WV0RxJt2Fb5Ym6lGfJY+OjUMd8IeDHxOslP6JTKMLszWCeZTMM5UJTv7jQnrjkk1KShq2ObwYRdUwOFWzzcHU1iqH7o0eTkwONEQi+8RVUEVWfwAGUFHQIN+z8ujyCCo7IN/QIOL0yJr31WgMCmUcZl98Dh+1goyBCEt52Urs0xRnZ7AoNaasfocDOS6nmOeiWpmTi/I/OjqniVTV1y4RyUWIchBDd4fJ4fhsAkOgCXryUIo8kH6FGF6lC2JJa/+b39YrhSr6IoAQaqSIBVm5EVOGEJho7yVeVLmg="
	vectorXML     = "<xml><ToUserName><![CDATA[gh_desk]]></ToUserName><FromUserName><![CDATA[oCustomer123]]></FromUserName><CreateTime>1795600000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好，我的理赔进度如何？]]></Content><MsgId>24681357912345678</MsgId></xml>"
)

func TestSignatures(t *testing.T) {
	// Computed with Python's hashlib over the sorted, joined parts.
	if got := wechat.Signature(token, "1795600000", "1320562132"); got != "246f7c46af3c068f02b2805029a931348e575d78" {
		t.Errorf("URL signature %s", got)
	}
	if got := wechat.Signature(token, "1795600000", "1320562132", opensslVector); got != "7adb23327bff6e14a263e6f16db0f5581cc877d3" {
		t.Errorf("msg_signature %s", got)
	}
	if !wechat.VerifySignature("246F7C46AF3C068F02B2805029A931348E575D78", token, "1795600000", "1320562132") {
		t.Error("upper-case hex refused")
	}
	for _, bad := range []string{"", "246f7c46af3c068f02b2805029a931348e575d79", "x"} {
		if wechat.VerifySignature(bad, token, "1795600000", "1320562132") {
			t.Errorf("signature %q accepted", bad)
		}
	}
}

func TestSafeMode(t *testing.T) {
	c, err := wechat.NewCipher(aesKey, appID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decrypt(opensslVector)
	if err != nil || string(got) != vectorXML {
		t.Fatalf("decrypting the openssl vector: %v\n%s", err, got)
	}
	sealed, err := c.Encrypt([]byte("回复 reply"))
	if err != nil {
		t.Fatal(err)
	}
	if back, err := c.Decrypt(sealed); err != nil || string(back) != "回复 reply" {
		t.Errorf("round trip: %q %v", back, err)
	}
	other, _ := wechat.NewCipher(aesKey, "wxSomeoneElse")
	tampered := []byte(opensslVector)
	tampered[40] ^= 1
	cases := []struct {
		name string
		c    *wechat.Cipher
		in   string
		want string
	}{
		{"another app id", other, opensslVector, "app id"},
		{"not base64", c, "%%%", "base64"},
		{"not whole blocks", c, "AAAA", "blocks"},
		{"tampered ciphertext", c, string(tampered), ""},
		{"another key", mustCipher(t, strings.Repeat("A", 43)), opensslVector, ""},
	}
	for _, k := range cases {
		if _, err := k.c.Decrypt(k.in); err == nil || !strings.Contains(err.Error(), k.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", k.name, err, k.want)
		}
	}
	if _, err := wechat.NewCipher("short", appID); err == nil {
		t.Error("a short EncodingAESKey was accepted")
	}
}

func mustCipher(t *testing.T, key string) *wechat.Cipher {
	c, err := wechat.NewCipher(key, appID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPushes(t *testing.T) {
	cases := []struct {
		xml, id, body string
		attachments   int
	}{
		{`<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>你好</Content><MsgId>42</MsgId></xml>`, "msg:42", "你好", 0},
		{`<xml><FromUserName>o1</FromUserName><MsgType>image</MsgType><PicUrl>http://mmbiz/x.jpg</PicUrl><MediaId>M1</MediaId><MsgId>43</MsgId></xml>`, "msg:43", "[图片 image]", 1},
		{`<xml><FromUserName>o1</FromUserName><MsgType>voice</MsgType><MediaId>M2</MediaId><Format>amr</Format><Recognition>理赔进度</Recognition><MsgId>44</MsgId></xml>`, "msg:44", "理赔进度", 1},
		{`<xml><FromUserName>o1</FromUserName><MsgType>location</MsgType><Location_X>31.2</Location_X><Location_Y>121.4</Location_Y><Label>上海市</Label><MsgId>45</MsgId></xml>`, "msg:45", "[位置 location] 上海市 (31.2, 121.4)", 0},
		{`<xml><FromUserName>o1</FromUserName><MsgType>link</MsgType><Title>T</Title><Description>D</Description><Url>https://x</Url><MsgId>46</MsgId></xml>`, "msg:46", "[链接 link] T\nD\nhttps://x", 0},
	}
	for _, c := range cases {
		p, err := wechat.ParsePush([]byte(c.xml))
		if err != nil {
			t.Fatal(err)
		}
		in, err := p.Inbound()
		if err != nil || in.ProviderMessageID != c.id || in.Body != c.body || len(in.Attachments) != c.attachments {
			t.Errorf("%s: %+v %v", c.id, in, err)
		}
	}
	ev, _ := wechat.ParsePush([]byte(`<xml><FromUserName>o1</FromUserName><CreateTime>1795600000</CreateTime><MsgType>event</MsgType><Event>CLICK</Event><EventKey>COMPLAINT</EventKey></xml>`))
	if ev.ID() != "event:o1:1795600000:click" {
		t.Errorf("event id %s", ev.ID())
	}
	if _, err := wechat.ParsePush([]byte("not xml")); err == nil {
		t.Error("garbage parsed")
	}
}

// What a tool playing WeChat sends is what the push handler reads: a text push parses
// back to its fields, and sealed, it opens under its msg_signature.
func TestTextPushAndSealedPushRoundTrip(t *testing.T) {
	now := time.Unix(1764806400, 0)
	push := wechat.TextPush("gh_account", "oCustomer", "理赔 ]]> 进度", now, 1234567890123456789)
	p, err := wechat.ParsePush(push)
	if err != nil {
		t.Fatal(err)
	}
	if p.FromUserName != "oCustomer" || p.Content != "理赔 ]]> 进度" || p.MsgID != "1234567890123456789" || p.CreateTime != now.Unix() || p.MsgType != "text" {
		t.Errorf("parsed %+v", p)
	}
	c, err := wechat.NewCipher("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxappid")
	if err != nil {
		t.Fatal(err)
	}
	env, enc, err := wechat.SealedPush(c, "gh_account", push)
	if err != nil {
		t.Fatal(err)
	}
	e, err := wechat.ParsePush(env)
	if err != nil || e.Encrypt != enc || e.ToUserName != "gh_account" {
		t.Fatalf("envelope %s: %+v, %v", env, e, err)
	}
	plain, err := c.Decrypt(e.Encrypt)
	if err != nil || string(plain) != string(push) {
		t.Errorf("decrypted %q, %v; want the push", plain, err)
	}
}
