package main

import (
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/channels/voice"
)

// The menu's voices are checked at start: a voice of another language is refused, naming
// the variable, the voice and what would do. The speech-to-text URL is checked too.
func TestVoiceAndSpeechConfig(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string // "" means loads
	}{
		{"defaults", map[string]string{}, ""},
		{"other valid voices", map[string]string{"HOTLINE_IVR_VOICE_ZH": "Google.cmn-CN-Wavenet-A", "HOTLINE_IVR_VOICE_EN": "Polly.Matthew-Neural"}, ""},
		{"an English voice for Mandarin", map[string]string{"HOTLINE_IVR_VOICE_ZH": "Polly.Joanna"}, "HOTLINE_IVR_VOICE_ZH: voice \"Polly.Joanna\" does not speak Mandarin"},
		{"Twilio's default voice for Mandarin", map[string]string{"HOTLINE_IVR_VOICE_ZH": "man"}, "HOTLINE_IVR_VOICE_ZH"},
		{"a Mandarin voice for English", map[string]string{"HOTLINE_IVR_VOICE_EN": "Polly.Zhiyu"}, "HOTLINE_IVR_VOICE_EN: voice \"Polly.Zhiyu\" does not speak English"},
		{"a speech-to-text service", map[string]string{"HOTLINE_STT_URL": "http://whisper:8000", "HOTLINE_STT_API_KEY": "sk-1", "HOTLINE_STT_MODEL": "large-v3"}, ""},
		{"a speech-to-text URL that is not one", map[string]string{"HOTLINE_STT_URL": "whisper:8000"}, "HOTLINE_STT_URL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{"HOTLINE_IVR_VOICE_ZH", "HOTLINE_IVR_VOICE_EN", "HOTLINE_STT_URL", "HOTLINE_STT_API_KEY", "HOTLINE_STT_MODEL"} {
				t.Setenv(k, c.env[k])
			}
			cfg, err := loadConfig()
			if c.want != "" {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%v, want an error naming %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for lang, key := range map[voice.Lang]string{voice.Chinese: "HOTLINE_IVR_VOICE_ZH", voice.English: "HOTLINE_IVR_VOICE_EN"} {
				want := c.env[key]
				if want == "" {
					want = voice.DefaultVoice(lang)
				}
				if cfg.IVRVoices[lang] != want {
					t.Errorf("%s voice %q, want %q", lang, cfg.IVRVoices[lang], want)
				}
			}
			if cfg.STT.URL != c.env["HOTLINE_STT_URL"] || cfg.STT.APIKey != c.env["HOTLINE_STT_API_KEY"] || cfg.STT.Model != c.env["HOTLINE_STT_MODEL"] {
				t.Errorf("STT %+v", cfg.STT)
			}
		})
	}
}
