// Package sms is the Twilio Messaging channel: it reads Twilio's inbound-message and
// status-callback webhooks and sends replies through the Messages API.
package sms

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/tickets"
)

// MaxBodyRunes is the longest text Twilio delivers as one message (ten segments).
const MaxBodyRunes = 1600

// Keyword is a control word a customer texts instead of a message. Like Twilio, Hotline
// takes a word as a keyword only when it is the whole message (trimmed, any case).
type Keyword int

const (
	NoKeyword Keyword = iota
	// Stop is one of Twilio's default opt-out words, or 退订/TD. Twilio blocks the number
	// at its edge whatever Hotline does, so Hotline always records the opt-out.
	Stop
	// Start is one of Twilio's default opt-in words (START, YES, UNSTOP). It resubscribes
	// an opted-out number; from anyone else "yes" is an answer, an ordinary message.
	Start
	// Help is HELP or 帮助: always answered with how to reach the desk.
	Help
	// Info is Twilio's other help word, INFO: a help request from an opted-out number,
	// an ordinary message from anyone else.
	Info
)

// keywords are Twilio's default opt-out, opt-in and help words (Advanced Opt-Out's
// defaults) and the Chinese ones, each with the language it is answered in.
var keywords = map[string]struct {
	kw     Keyword
	locale string
}{
	"STOP": {Stop, "en"}, "STOPALL": {Stop, "en"}, "UNSUBSCRIBE": {Stop, "en"}, "CANCEL": {Stop, "en"},
	"END": {Stop, "en"}, "QUIT": {Stop, "en"}, "OPTOUT": {Stop, "en"}, "REVOKE": {Stop, "en"},
	"退订": {Stop, "zh-CN"}, "TD": {Stop, "zh-CN"},
	"START": {Start, "en"}, "YES": {Start, "en"}, "UNSTOP": {Start, "en"},
	"HELP": {Help, "en"}, "帮助": {Help, "zh-CN"},
	"INFO": {Info, "en"},
}

// Message is an inbound SMS or MMS as Twilio posted it.
type Message struct {
	Inbound tickets.Inbound // Locale is the language the customer wrote in, if it shows
	Keyword Keyword
	// KeywordLocale is the keyword's own language ("en" or "zh-CN"): what it is answered in.
	KeywordLocale string
	To            string // the desk's number it was sent to
}

// Parse reads Twilio's inbound-message webhook form.
func Parse(form url.Values) (Message, error) {
	sid := strings.TrimSpace(form.Get("MessageSid"))
	from := strings.TrimSpace(form.Get("From"))
	body := form.Get("Body")
	switch {
	case sid == "":
		return Message{}, errors.New("MessageSid is missing")
	case !twilio.ValidSID(sid, messagePrefixes...):
		return Message{}, errors.New("MessageSid is not a Twilio message SID (SM or MM and 32 hexadecimal digits)")
	case from == "":
		return Message{}, errors.New("From is missing")
	case !utf8.ValidString(body):
		return Message{}, errors.New("Body is not valid UTF-8")
	case utf8.RuneCountInString(body) > MaxBodyRunes:
		return Message{}, fmt.Errorf("Body has %d characters, more than the %d an SMS can carry", utf8.RuneCountInString(body), MaxBodyRunes)
	}
	in := tickets.Inbound{Channel: tickets.ChannelSMS, ProviderMessageID: sid, From: tickets.IdentityPhone, Address: from, Body: strings.TrimSpace(body)}
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	if n < 0 || n > 10 {
		return Message{}, fmt.Errorf("NumMedia %q is out of range", form.Get("NumMedia"))
	}
	for i := range n {
		u := form.Get(fmt.Sprintf("MediaUrl%d", i))
		if u == "" {
			return Message{}, fmt.Errorf("MediaUrl%d is missing", i)
		}
		ct := form.Get(fmt.Sprintf("MediaContentType%d", i))
		in.Attachments = append(in.Attachments, tickets.NewAttachment{Filename: fmt.Sprintf("media-%d%s", i+1, extension(ct)), ContentType: ct, URL: u})
	}
	if in.Body == "" && n == 0 {
		return Message{}, errors.New("the message has neither text nor media")
	}
	in.Locale = Locale(from, in.Body)
	kw := keywords[strings.ToUpper(strings.Trim(in.Body, " .!！。"))]
	return Message{Inbound: in, Keyword: kw.kw, KeywordLocale: kw.locale, To: form.Get("To")}, nil
}

// chineseCountries are the calling codes of the places where customers write Chinese:
// mainland China, Hong Kong, Macau and Taiwan.
var chineseCountries = []string{"+86", "+852", "+853", "+886"}

// Locale guesses the language a customer writes in from their text and number. Han
// characters mean Chinese. Latin letters without Han mean English, except that from a
// Chinese-speaking country a lone Latin word ("ok", a quoted HL-000123) is not enough: it
// takes two words. Anything else (digits, emoji, media only) takes the number's country:
// Chinese for the Chinese-speaking calling codes, English for other international numbers.
// "" when nothing shows.
func Locale(from, body string) string {
	words, run := 0, 0
	for _, r := range body + " " {
		switch {
		case unicode.Is(unicode.Han, r):
			return "zh-CN"
		case unicode.Is(unicode.Latin, r):
			run++
			continue
		}
		if run >= 2 {
			words++
		}
		run = 0
	}
	if !strings.HasPrefix(from, "+") {
		if words > 0 {
			return "en"
		}
		return ""
	}
	for _, cc := range chineseCountries {
		if strings.HasPrefix(from, cc) {
			if words >= 2 {
				return "en"
			}
			return "zh-CN"
		}
	}
	return "en"
}

func extension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "video/mp4":
		return ".mp4"
	case "audio/amr":
		return ".amr"
	case "application/pdf":
		return ".pdf"
	}
	return ""
}

// Status is a status callback: which message, and how far it got.
type Status struct {
	MessageSid string
	Status     string // queued, sent, delivered, undelivered, failed, ...
	ErrorCode  string
}

// messagePrefixes are the SIDs of Twilio's messages: SMS (SM) and MMS (MM).
var messagePrefixes = []string{"SM", "MM"}

// ParseStatus reads Twilio's message status callback form.
func ParseStatus(form url.Values) (Status, error) {
	s := Status{MessageSid: form.Get("MessageSid"), Status: strings.ToLower(form.Get("MessageStatus")), ErrorCode: form.Get("ErrorCode")}
	if s.MessageSid == "" || s.Status == "" {
		return s, errors.New("MessageSid and MessageStatus are required")
	}
	if !twilio.ValidSID(s.MessageSid, messagePrefixes...) {
		return s, errors.New("MessageSid is not a Twilio message SID (SM or MM and 32 hexadecimal digits)")
	}
	// Twilio's error codes are numbers of five digits; anything else is not Twilio's.
	if len(s.ErrorCode) > 10 || strings.Trim(s.ErrorCode, "0123456789") != "" {
		return s, errors.New("ErrorCode is not a Twilio error code")
	}
	if len(s.Status) > 32 {
		return s, errors.New("MessageStatus is too long")
	}
	return s, nil
}

// Texts answers a customer's keywords in their language.
func Texts(locale string) (help, stopped, started string) {
	if strings.HasPrefix(strings.ToLower(locale), "en") {
		return "Hotline customer service: reply to this number and an agent will answer. Text STOP to unsubscribe.",
			"You will receive no more text messages from us. Text START to subscribe again.",
			"You will receive our text messages again."
	}
	return "客服热线：直接回复本号码即可联系客服。回复“退订”不再接收短信。",
		"您已退订，将不再收到我们的短信。回复 START 可重新订阅。",
		"您已重新订阅我们的短信。"
}

// Sender sends SMS through Twilio's Messages API.
type Sender struct {
	messages       func(*api.CreateMessageParams) (*api.ApiV2010Message, error)
	from           string // a Twilio number, or
	service        string // a Messaging Service SID
	statusCallback string
}

// NewSender sends from a number or a Messaging Service, asking Twilio to report delivery
// to statusCallback.
func NewSender(cfg twilio.Config, from, messagingServiceSID, statusCallback string) *Sender {
	c := twilio.NewClient(cfg)
	return &Sender{messages: c.Api.CreateMessage, from: from, service: messagingServiceSID, statusCallback: statusCallback}
}

// mediaURLs are the files' signed public links, which Twilio fetches to send an MMS.
func mediaURLs(files []channels.File) ([]string, error) {
	urls := make([]string, len(files))
	for i, f := range files {
		if f.URL == "" {
			return nil, &channels.PermanentError{Reason: "an MMS needs a public address Twilio can fetch the file from: set PUBLIC_BASE_URL"}
		}
		urls[i] = f.URL
	}
	return urls, nil
}

// Send creates the message at Twilio and returns its MessageSid; files go as MMS media.
func (s *Sender) Send(ctx context.Context, msg channels.Outbound) (string, error) {
	if msg.To == "" {
		return "", &channels.PermanentError{Reason: "the customer has no phone number"}
	}
	p := (&api.CreateMessageParams{}).SetTo(msg.To).SetBody(msg.Body)
	if len(msg.Files) > 0 {
		urls, err := mediaURLs(msg.Files)
		if err != nil {
			return "", err
		}
		p.SetMediaUrl(urls) // an MMS: Twilio fetches each file from Hotline's signed link
	}
	if s.statusCallback != "" {
		p.SetStatusCallback(s.statusCallback)
	}
	if s.service != "" {
		p.SetMessagingServiceSid(s.service)
	} else {
		p.SetFrom(s.from)
	}
	res, err := s.messages(p)
	if err != nil {
		var te *twclient.TwilioRestError
		if errors.As(err, &te) && te.Status >= 400 && te.Status < 500 && te.Status != 429 {
			return "", &channels.PermanentError{Reason: fmt.Sprintf("Twilio refused the message: %d %s", te.Code, te.Message)}
		}
		return "", fmt.Errorf("send SMS: %w", err)
	}
	if res.Sid == nil {
		return "", errors.New("send SMS: Twilio returned no MessageSid")
	}
	return *res.Sid, nil
}
