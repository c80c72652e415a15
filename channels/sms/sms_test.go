package sms_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/channels/sms"
)

// Twilio message SIDs: SM and 32 hexadecimal digits.
const (
	sid1 = "SM0123456789abcdef0123456789abcdef"
	sid9 = "SM99999999999999999999999999999999"
)

func TestParse(t *testing.T) {
	base := func(kv ...string) url.Values {
		f := url.Values{"MessageSid": {sid1}, "From": {"+8613800138000"}, "To": {"+8610095500"}, "Body": {"你好"}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "<del>" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	cases := []struct {
		name    string
		form    url.Values
		err     string
		keyword sms.Keyword
		media   int
	}{
		{"text", base(), "", sms.NoKeyword, 0},
		{"stop", base("Body", " stop "), "", sms.Stop, 0},
		{"退订", base("Body", "退订"), "", sms.Stop, 0},
		{"unsubscribe", base("Body", "UNSUBSCRIBE"), "", sms.Stop, 0},
		{"start", base("Body", "Start"), "", sms.Start, 0},
		{"help", base("Body", "HELP!"), "", sms.Help, 0},
		{"optout", base("Body", "OPTOUT"), "", sms.Stop, 0},
		{"revoke", base("Body", " revoke\n"), "", sms.Stop, 0},
		{"yes", base("Body", "Yes"), "", sms.Start, 0},
		{"info", base("Body", "info"), "", sms.Info, 0},
		{"帮助", base("Body", "帮助"), "", sms.Help, 0},
		{"yes inside a sentence is a message", base("Body", "yes please"), "", sms.NoKeyword, 0},
		{"stop inside a sentence is a message", base("Body", "please stop calling me"), "", sms.NoKeyword, 0},
		{"mms", base("Body", "", "NumMedia", "2", "MediaUrl0", "https://api.twilio.com/m/0", "MediaContentType0", "image/jpeg",
			"MediaUrl1", "https://api.twilio.com/m/1", "MediaContentType1", "application/pdf"), "", sms.NoKeyword, 2},
		{"no sid", base("MessageSid", "<del>"), "MessageSid", 0, 0},
		{"sid too short", base("MessageSid", "SM1"), "MessageSid", 0, 0},
		{"sid too long", base("MessageSid", sid1+"0"), "MessageSid", 0, 0},
		{"sid of a call", base("MessageSid", "CA"+sid1[2:]), "MessageSid", 0, 0},
		{"sid not hex", base("MessageSid", "SM0123456789abcdef0123456789abcdeg"), "MessageSid", 0, 0},
		{"huge sid", base("MessageSid", "SM"+strings.Repeat("a", 5000)), "MessageSid", 0, 0},
		{"mms sid", base("MessageSid", "MM"+sid1[2:]), "", sms.NoKeyword, 0},
		{"no from", base("From", "<del>"), "From", 0, 0},
		{"empty", base("Body", ""), "neither text nor media", 0, 0},
		{"too long", base("Body", strings.Repeat("长", 1601)), "1600", 0, 0},
		{"media url missing", base("NumMedia", "1"), "MediaUrl0", 0, 0},
		{"media count nonsense", base("NumMedia", "99"), "NumMedia", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := sms.Parse(c.form)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Keyword != c.keyword || len(m.Inbound.Attachments) != c.media {
				t.Errorf("keyword %v media %d", m.Keyword, len(m.Inbound.Attachments))
			}
			if m.Inbound.ProviderMessageID != c.form.Get("MessageSid") || m.Inbound.Address != "+8613800138000" {
				t.Errorf("inbound %+v", m.Inbound)
			}
		})
	}
	m, _ := sms.Parse(base("Body", "", "NumMedia", "1", "MediaUrl0", "https://x/0", "MediaContentType0", "image/png"))
	if a := m.Inbound.Attachments[0]; a.URL != "https://x/0" || a.ContentType != "image/png" || a.Filename != "media-1.png" {
		t.Errorf("attachment %+v", a)
	}
}

func TestParseStatus(t *testing.T) {
	s, err := sms.ParseStatus(url.Values{"MessageSid": {sid9}, "MessageStatus": {"Undelivered"}, "ErrorCode": {"30003"}})
	if err != nil || s.Status != "undelivered" || s.ErrorCode != "30003" {
		t.Errorf("%+v %v", s, err)
	}
	if _, err := sms.ParseStatus(url.Values{"MessageSid": {sid9}}); err == nil {
		t.Error("a status without MessageStatus was accepted")
	}
	for name, f := range map[string]url.Values{
		"short sid":   {"MessageSid": {"SM9"}, "MessageStatus": {"sent"}},
		"huge sid":    {"MessageSid": {"SM" + strings.Repeat("9", 4000)}, "MessageStatus": {"sent"}},
		"call sid":    {"MessageSid": {"CA" + sid9[2:]}, "MessageStatus": {"sent"}},
		"error code":  {"MessageSid": {sid9}, "MessageStatus": {"failed"}, "ErrorCode": {"30003; DROP"}},
		"huge error":  {"MessageSid": {sid9}, "MessageStatus": {"failed"}, "ErrorCode": {strings.Repeat("3", 100)}},
		"huge status": {"MessageSid": {sid9}, "MessageStatus": {strings.Repeat("x", 100)}},
	} {
		if _, err := sms.ParseStatus(f); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestKeywordAndCustomerLanguage: a keyword is answered in its own language, and a message
// tells the customer's language by its script, or by the number's country when it shows none.
func TestKeywordAndCustomerLanguage(t *testing.T) {
	cases := []struct {
		from, body, keywordLocale, locale string
	}{
		{"+8613800138000", "HELP", "en", "zh-CN"}, // answered in English, the customer still unknown
		{"+14155550100", "START", "en", "en"},
		{"+8613800138000", "帮助", "zh-CN", "zh-CN"},
		{"+8613800138000", "退订", "zh-CN", "zh-CN"},
		{"+8613800138000", "TD", "zh-CN", "zh-CN"},
		{"+14155550100", "Where is my parcel?", "", "en"},
		{"+8613800138000", "Where is my parcel?", "", "en"},
		{"+8613800138000", "ok", "", "zh-CN"},
		{"+8613800138000", "HL-000123", "", "zh-CN"},
		{"+14155550100", "HL-000123", "", "en"},
		{"+14155550100", "我的包裹呢", "", "zh-CN"},
		{"+85291234567", "👍", "", "zh-CN"},
		{"+886912345678", "123", "", "zh-CN"},
		{"+447700900123", "👍", "", "en"},
		{"13800138000", "👍", "", ""},
	}
	for _, c := range cases {
		t.Run(c.from+" "+c.body, func(t *testing.T) {
			m, err := sms.Parse(url.Values{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "From": {c.from}, "Body": {c.body}})
			if err != nil {
				t.Fatal(err)
			}
			if m.KeywordLocale != c.keywordLocale || m.Inbound.Locale != c.locale {
				t.Errorf("keyword language %q, customer language %q; want %q, %q", m.KeywordLocale, m.Inbound.Locale, c.keywordLocale, c.locale)
			}
		})
	}
}
