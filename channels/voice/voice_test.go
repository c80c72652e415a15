package voice_test

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/channels/voice"
)

// element is one TwiML element with its attributes, as Twilio reads it.
type element struct {
	name  string
	attrs map[string]string
}

// elements lists every element of a TwiML document, nested ones included.
func elements(t *testing.T, doc string) []element {
	t.Helper()
	var out []element
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("TwiML does not parse: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok {
			e := element{name: se.Name.Local, attrs: map[string]string{}}
			for _, a := range se.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
		}
	}
}

// Every <Say> of every TwiML the menu renders names a voice that speaks its language, with
// the language code Twilio lists that voice under; a Mandarin recording is never sent to
// Twilio's English-only transcription.
func TestTwiMLVoicesAndTranscription(t *testing.T) {
	const rec, tr = "/webhooks/twilio/voice/recording", "/webhooks/twilio/voice/transcription"
	speakers := []struct {
		name     string
		sp       voice.Speaker
		language string
		voice    string
	}{
		{"Mandarin, default voice", voice.Speaker{Lang: voice.Chinese}, "cmn-CN", "Polly.Zhiyu"},
		{"Mandarin, neural voice", voice.Speaker{Lang: voice.Chinese, Voice: "Polly.Zhiyu-Neural"}, "cmn-CN", "Polly.Zhiyu-Neural"},
		{"Mandarin, Google voice", voice.Speaker{Lang: voice.Chinese, Voice: "Google.cmn-CN-Wavenet-A"}, "cmn-CN", "Google.cmn-CN-Wavenet-A"},
		{"English, default voice", voice.Speaker{Lang: voice.English}, "en-US", "Polly.Joanna"},
		{"English, another voice", voice.Speaker{Lang: voice.English, Voice: "Polly.Matthew-Neural"}, "en-US", "Polly.Matthew-Neural"},
	}
	renders := []struct {
		name  string
		twiml func(voice.Speaker) string
		// twilioTranscribes: the <Record> asks Twilio to transcribe, in a language it understands
		records, twilioTranscribes bool
	}{
		{"menu", func(s voice.Speaker) string { return s.Menu("/m") }, false, false},
		{"ask reference", func(s voice.Speaker) string { return s.AskReference("/l") }, false, false},
		{"status", func(s voice.Speaker) string { return s.Status("HL-000001", "open", "") }, false, false},
		{"not found", func(s voice.Speaker) string { return s.NotFound() }, false, false},
		{"record", func(s voice.Speaker) string { return s.Record(false, rec, tr) }, true, true},
		{"record complaint", func(s voice.Speaker) string { return s.Record(true, rec+"?kind=complaint", tr+"?kind=complaint") }, true, true},
		{"record, Hotline transcribes", func(s voice.Speaker) string { return s.Record(false, rec, "") }, true, false},
		{"dial", func(s voice.Speaker) string { return s.Dial("+8610095500", "/d") }, false, false},
		{"unanswered", func(s voice.Speaker) string { return s.Unanswered(rec, tr) }, true, true},
		{"unanswered, Hotline transcribes", func(s voice.Speaker) string { return s.Unanswered(rec, "") }, true, false},
		{"goodbye", func(s voice.Speaker) string { return s.Goodbye() }, false, false},
	}
	for _, sc := range speakers {
		for _, r := range renders {
			t.Run(sc.name+"/"+r.name, func(t *testing.T) {
				doc := r.twiml(sc.sp)
				says, records := 0, 0
				for _, e := range elements(t, doc) {
					switch e.name {
					case "Say":
						says++
						if e.attrs["voice"] != sc.voice || e.attrs["language"] != sc.language {
							t.Errorf("<Say voice=%q language=%q>, want voice %q language %q", e.attrs["voice"], e.attrs["language"], sc.voice, sc.language)
						}
						if err := voice.CheckVoice(sc.sp.Lang, e.attrs["voice"]); err != nil {
							t.Errorf("<Say> voice for %s: %v", sc.sp.Lang, err)
						}
					case "Record":
						records++
						_, asks := e.attrs["transcribe"]
						_, callback := e.attrs["transcribeCallback"]
						want := r.twilioTranscribes && voice.TwilioTranscribes(sc.sp.Lang)
						if asks != want || callback != want || (want && e.attrs["transcribe"] != "true") {
							t.Errorf("<Record> transcribe=%q transcribeCallback=%q, Twilio asked to transcribe: want %v", e.attrs["transcribe"], e.attrs["transcribeCallback"], want)
						}
						if e.attrs["action"] == "" || e.attrs["maxLength"] != "180" {
							t.Errorf("<Record> %v", e.attrs)
						}
					}
				}
				if says == 0 {
					t.Errorf("no <Say> in %s", doc)
				}
				if (records > 0) != r.records {
					t.Errorf("%d <Record> in %s", records, doc)
				}
			})
		}
	}
}

func TestTwilioTranscribesEnglishOnly(t *testing.T) {
	for lang, want := range map[voice.Lang]bool{voice.English: true, voice.Chinese: false, "yue": false} {
		if got := voice.TwilioTranscribes(lang); got != want {
			t.Errorf("TwilioTranscribes(%q) = %v", lang, got)
		}
	}
}

// A configured voice must speak the menu's language: one of another language, or Twilio's
// basic voices that speak no Mandarin, is refused with a message naming the right ones.
func TestCheckVoice(t *testing.T) {
	cases := []struct {
		lang  voice.Lang
		voice string
		ok    bool
	}{
		{voice.Chinese, "Polly.Zhiyu", true},
		{voice.Chinese, "Polly.Zhiyu-Neural", true},
		{voice.Chinese, "Google.cmn-CN-Standard-A", true},
		{voice.Chinese, "Google.cmn-CN-Chirp3-HD-Aoede", true},
		{voice.English, "Polly.Joanna", true},
		{voice.English, "Polly.Joanna-Neural", true},
		{voice.English, "Polly.Ruth-Generative", true},
		{voice.English, "Google.en-US-Neural2-F", true},

		{voice.Chinese, "Polly.Joanna", false},            // English
		{voice.Chinese, "man", false},                     // Twilio's default: no Mandarin
		{voice.Chinese, "alice", false},                   // basic voice
		{voice.Chinese, "Polly.Hiujin-Neural", false},     // Cantonese
		{voice.Chinese, "Google.cmn-TW-Wavenet-A", false}, // Taiwanese Mandarin
		{voice.Chinese, "Google.en-US-Standard-C", false}, // English
		{voice.Chinese, "Google.cmn-CN", false},           // no voice
		{voice.Chinese, "polly.zhiyu", false},             // names are exact
		{voice.Chinese, "", false},
		{voice.English, "Polly.Zhiyu", false},              // Mandarin
		{voice.English, "Polly.Amy", false},                // British English
		{voice.English, "Google.en-GB-Standard-A", false},  // British English
		{voice.English, "Google.cmn-CN-Standard-A", false}, // Mandarin
		{voice.English, "woman", false},
	}
	for _, c := range cases {
		err := voice.CheckVoice(c.lang, c.voice)
		if (err == nil) != c.ok {
			t.Errorf("CheckVoice(%s, %q) = %v, want ok %v", c.lang, c.voice, err, c.ok)
		}
		if err != nil && (!strings.Contains(err.Error(), c.voice) || !strings.Contains(err.Error(), voice.DefaultVoice(c.lang))) {
			t.Errorf("CheckVoice(%s, %q): %q does not say which voice is wrong and which would do", c.lang, c.voice, err)
		}
	}
}
