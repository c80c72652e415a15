package voice

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Twilio's default voice ("man") speaks no Mandarin: a <Say> of Chinese text without a
// voice for it is read wrongly or not at all. Every <Say> therefore names a voice, and a
// configured voice must be one Twilio lists for the menu's language (Twilio's
// text-to-speech voice list, https://www.twilio.com/docs/voice/twiml/say/text-speech: the
// Amazon Polly voices by name, the Google voices by the language code in theirs).

// pollyVoices are the Amazon Polly voices Twilio lists for each language.
var pollyVoices = map[Lang][]string{
	Chinese: {"Zhiyu", "Zhiyu-Neural"},
	English: {
		"Ivy", "Joanna", "Kendra", "Kimberly", "Salli", "Joey", "Justin", "Kevin", "Matthew",
		"Danielle-Neural", "Ivy-Neural", "Joanna-Neural", "Kendra-Neural", "Kimberly-Neural", "Ruth-Neural", "Salli-Neural",
		"Gregory-Neural", "Joey-Neural", "Justin-Neural", "Kevin-Neural", "Matthew-Neural", "Stephen-Neural",
		"Danielle-Generative", "Joanna-Generative", "Ruth-Generative", "Matthew-Generative", "Stephen-Generative",
	},
}

// googleVoice is the shape of Twilio's Google voice names, e.g. Google.cmn-CN-Wavenet-A or
// Google.en-US-Chirp3-HD-Aoede: the language code, then the model and the voice.
var googleVoice = regexp.MustCompile(`^Google\.([a-z]{2,3}-[A-Z]{2})-[A-Za-z0-9]+(-[A-Za-z0-9]+)*$`)

// DefaultVoice is the voice a language's prompts are read with when none is configured.
func DefaultVoice(l Lang) string {
	if l == English {
		return "Polly.Joanna"
	}
	return "Polly.Zhiyu"
}

// CheckVoice refuses a voice that does not speak the language, saying which would.
func CheckVoice(l Lang, name string) error {
	code := l.prompts().say
	if p, ok := strings.CutPrefix(name, "Polly."); ok {
		for _, v := range pollyVoices[l] {
			if p == v {
				return nil
			}
		}
	}
	if m := googleVoice.FindStringSubmatch(name); m != nil && m[1] == code {
		return nil
	}
	known := make([]string, 0, len(pollyVoices[l]))
	for _, v := range pollyVoices[l] {
		known = append(known, "Polly."+v)
	}
	sort.Strings(known)
	return fmt.Errorf("voice %q does not speak %s (%s): use one of %s, or a Google.%s-… voice from Twilio's voice list",
		name, l.Name(), code, strings.Join(known, ", "), code)
}

// Name is the language as people say it.
func (l Lang) Name() string {
	if l == English {
		return "English"
	}
	return "Mandarin"
}
