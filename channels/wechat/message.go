package wechat

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Push is a message or event the official account's server push delivers.
type Push struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"` // the customer's openid
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	MsgID        string `xml:"MsgId"`
	Content      string `xml:"Content"`
	PicURL       string `xml:"PicUrl"`
	MediaID      string `xml:"MediaId"`
	Format       string `xml:"Format"`
	Recognition  string `xml:"Recognition"`
	LocationX    string `xml:"Location_X"`
	LocationY    string `xml:"Location_Y"`
	Label        string `xml:"Label"`
	Title        string `xml:"Title"`
	Description  string `xml:"Description"`
	URL          string `xml:"Url"`
	Event        string `xml:"Event"`
	EventKey     string `xml:"EventKey"`
	Encrypt      string `xml:"Encrypt"`
}

// maxUnixSeconds is far beyond any real CreateTime (the year 36812) and far within what
// time.Unix converts without overflow.
const maxUnixSeconds = 1 << 40

// ParsePush reads the XML body of a push. A MsgId that is not WeChat's 64-bit number is
// refused: it becomes the stored message's id.
func ParsePush(body []byte) (*Push, error) {
	p := new(Push)
	if err := xml.Unmarshal(body, p); err != nil {
		return nil, fmt.Errorf("not WeChat XML: %w", err)
	}
	if p.MsgID != "" {
		if _, err := strconv.ParseUint(p.MsgID, 10, 64); err != nil {
			return nil, fmt.Errorf("MsgId %.32q is not a 64-bit number", p.MsgID)
		}
	}
	return p, nil
}

// ID is what makes a delivery unique, so WeChat's three retries store one message: the
// MsgId, or for events (which have none) the sender, time and event.
func (p *Push) ID() string {
	if p.MsgID != "" {
		return "msg:" + p.MsgID
	}
	return fmt.Sprintf("event:%s:%d:%s", p.FromUserName, p.CreateTime, strings.ToLower(p.Event))
}

// Inbound turns a customer's message into the domain's, or explains why it cannot.
func (p *Push) Inbound() (tickets.Inbound, error) {
	if p.FromUserName == "" {
		return tickets.Inbound{}, errors.New("FromUserName is missing")
	}
	in := tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: p.FromUserName, ProviderMessageID: p.ID()}
	if p.CreateTime != 0 { // 0: no CreateTime element
		in.ProviderTime = strconv.FormatInt(p.CreateTime, 10)
		// time.Unix wraps around beyond about ±292 billion years, and such a time could
		// pass for a believable one; intake bounds what is left (and records the raw value).
		if p.CreateTime > -maxUnixSeconds && p.CreateTime < maxUnixSeconds {
			in.ReceivedAt = time.Unix(p.CreateTime, 0)
		}
	}
	switch p.MsgType {
	case "text":
		in.Body = p.Content
	case "image":
		in.Body = "[图片 image]"
		in.Attachments = []tickets.NewAttachment{{Filename: "image-" + p.MediaID + ".jpg", ContentType: "image/jpeg", URL: p.PicURL}}
	case "voice":
		in.Body = p.Recognition // WeChat's own speech recognition, when enabled
		if in.Body == "" {
			in.Body = "[语音 voice message]"
		}
		in.Attachments = []tickets.NewAttachment{{Filename: "voice-" + p.MediaID + "." + strings.ToLower(p.Format), ContentType: "audio/" + strings.ToLower(p.Format), URL: "wechat-media:" + p.MediaID}}
	case "video", "shortvideo":
		in.Body = "[视频 video]"
		if p.MsgType == "shortvideo" {
			in.Body = "[小视频 short video]"
		}
		in.Attachments = []tickets.NewAttachment{{Filename: "video-" + p.MediaID + ".mp4", ContentType: "video/mp4", URL: "wechat-media:" + p.MediaID}}
	case "location":
		in.Body = fmt.Sprintf("[位置 location] %s (%s, %s)", p.Label, p.LocationX, p.LocationY)
	case "link":
		in.Body = fmt.Sprintf("[链接 link] %s\n%s\n%s", p.Title, p.Description, p.URL)
	default:
		// A type WeChat adds later is still the customer's message: keep that it came, and
		// what it was, for an agent to ask about.
		in.Body = fmt.Sprintf("[不支持的消息类型 unsupported message type: %s]", boundedType(p.MsgType))
		if p.Content != "" {
			in.Body += "\n" + p.Content
		}
	}
	return in, nil
}

// MediaLimit is the most a push's file may weigh, and whether it has one to fetch through
// the media API (images, voice, video and short video carry a MediaId).
func (p *Push) MediaLimit() (int64, bool) {
	if p.MediaID == "" {
		return 0, false
	}
	switch p.MsgType {
	case "image":
		return MaxImageBytes, true
	case "voice":
		return MaxVoiceBytes, true
	case "video", "shortvideo":
		return MaxVideoBytes, true
	}
	return 0, false
}

// boundedType names a message type for a person: printable, short, "(none)" when absent.
func boundedType(t string) string {
	t = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.TrimSpace(t))
	if t == "" {
		return "(none)"
	}
	if r := []rune(t); len(r) > 32 {
		t = string(r[:32]) + "…"
	}
	return t
}

// TextReply is a passive reply in plaintext mode.
func TextReply(to, from, content string, now time.Time) []byte {
	return textXML(to, from, content, now, "")
}

// TextPush is a follower's text message as the official-account platform pushes it
// (plaintext mode): what a tool that plays WeChat sends, and what ParsePush reads.
func TextPush(to, from, content string, now time.Time, msgID uint64) []byte {
	return textXML(to, from, content, now, "<MsgId>"+strconv.FormatUint(msgID, 10)+"</MsgId>")
}

// textXML is a text message in the platform's XML, either way, with tail (a push's MsgId)
// before its close.
func textXML(to, from, content string, now time.Time, tail string) []byte {
	var b strings.Builder
	b.WriteString("<xml><ToUserName><![CDATA[")
	b.WriteString(cdata(to))
	b.WriteString("]]></ToUserName><FromUserName><![CDATA[")
	b.WriteString(cdata(from))
	b.WriteString("]]></FromUserName><CreateTime>")
	b.WriteString(strconv.FormatInt(now.Unix(), 10))
	b.WriteString("</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[")
	b.WriteString(cdata(content))
	b.WriteString("]]></Content>")
	b.WriteString(tail)
	b.WriteString("</xml>")
	return []byte(b.String())
}

// SealedPush wraps a push for safe mode as the platform does: the envelope names the
// account and carries the sealed push in Encrypt, which msg_signature then covers
// (Signature(token, timestamp, nonce, encrypted)).
func SealedPush(c *Cipher, to string, push []byte) (envelope []byte, encrypted string, err error) {
	if encrypted, err = c.Encrypt(push); err != nil {
		return nil, "", err
	}
	return fmt.Appendf(nil, "<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>", cdata(to), encrypted), encrypted, nil
}

// cdata keeps a value from closing its CDATA section early.
func cdata(s string) string { return strings.ReplaceAll(s, "]]>", "]]]]><![CDATA[>") }

// SealedReply wraps a passive reply for safe mode.
func SealedReply(c *Cipher, token string, reply []byte, now time.Time, nonce string) ([]byte, error) {
	enc, err := c.Encrypt(reply)
	if err != nil {
		return nil, err
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	return fmt.Appendf(nil, "<xml><Encrypt><![CDATA[%s]]></Encrypt><MsgSignature><![CDATA[%s]]></MsgSignature><TimeStamp>%s</TimeStamp><Nonce><![CDATA[%s]]></Nonce></xml>",
		enc, Signature(token, ts, nonce, enc), ts, nonce), nil
}
