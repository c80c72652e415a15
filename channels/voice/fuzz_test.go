package voice_test

import (
	"net/url"
	"testing"

	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice"
)

// FuzzParse feeds form bodies (seeds: Twilio's documented voice, gather, recording,
// transcription, dial and status callback parameters, in testdata/fuzz/FuzzParse) to the
// parser: it never panics, and the SIDs it accepts, which become stored ids and file
// names, have Twilio's shape.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		c, err := voice.Parse(form)
		if err != nil {
			return
		}
		if !twilio.ValidSID(c.CallSid, "CA") || c.From == "" {
			t.Errorf("accepted call %q from %q", c.CallSid, c.From)
		}
		if c.RecordingSid != "" && !twilio.ValidSID(c.RecordingSid, "RE") {
			t.Errorf("accepted RecordingSid %q", c.RecordingSid)
		}
	})
}
