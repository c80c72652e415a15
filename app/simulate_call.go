package main

import (
	"context"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"strings"
)

// callFlags is "simulate call": Twilio Voice walking the desk's phone menu. The call comes
// in (the voice webhook), each <Gather> gets the next of --digits, a <Record> gets the
// recording and, when the desk asked Twilio for one, the transcription of --voicemail, a
// <Dial> is answered or not (--missed), and the call ends with the status callback.
func callFlags() (*flag.FlagSet, *simRun) {
	fs, r := newSimFlags("call")
	from := fs.String("from", "+8613800138000", "the caller's phone number")
	to := fs.String("to", "", "the desk's number the customer called (default TWILIO_FROM_NUMBER)")
	digits := fs.String("digits", "", "the keys pressed at each menu, comma-separated: 1 (ticket status, then e.g. 1,000001), 2 (message), 3 (complaint), 0 (an agent); none: hang up at the menu")
	voicemail := fs.String("voicemail", "", "what the caller says after the tone (a message needs it; Twilio transcribes English menus' messages)")
	missed := fs.Bool("missed", false, "nobody answers: the call centre does not pick up, and the caller hangs up without a message")
	r.check = func() error {
		for _, k := range splitDigits(*digits) {
			if strings.Trim(k, "0123456789*#") != "" {
				return fmt.Errorf("--digits lists the keys pressed at each menu, such as 2 or 1,000001, not %q", *digits)
			}
		}
		if *missed && *voicemail != "" {
			return errors.New("--missed and --voicemail exclude each other: a missed call leaves no message")
		}
		return nil
	}
	r.run = func(ctx context.Context, d *desk) error {
		c := &callWalk{d: d, keys: splitDigits(*digits), voicemail: *voicemail, missed: *missed, params: url.Values{
			"CallSid": {"CA" + randomHex(16)}, "AccountSid": {d.accountSID()}, "From": {*from}, "To": {d.deskNumber(*to)},
			"Caller": {*from}, "Called": {d.deskNumber(*to)}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}, "CallStatus": {"ringing"},
		}}
		return c.walk(ctx)
	}
	return fs, r
}

func splitDigits(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// callWalk is one simulated call.
type callWalk struct {
	d         *desk
	keys      []string
	voicemail string
	missed    bool
	params    url.Values // what every callback of the call carries
}

// twimlVerb is a verb of the desk's TwiML, with the attributes that say where Twilio goes next.
type twimlVerb struct {
	XMLName            xml.Name
	Action             string `xml:"action,attr"`
	TranscribeCallback string `xml:"transcribeCallback,attr"`
}

// nextVerb is the first verb that moves the call on (a <Say> only speaks).
func nextVerb(twiml []byte) twimlVerb {
	var doc struct {
		Verbs []twimlVerb `xml:",any"`
	}
	if xml.Unmarshal(twiml, &doc) != nil {
		return twimlVerb{}
	}
	for _, v := range doc.Verbs {
		switch v.XMLName.Local {
		case "Gather", "Record", "Dial", "Hangup", "Redirect":
			return v
		}
	}
	return twimlVerb{}
}

// step posts one callback of the call: its parameters and extra.
func (c *callWalk) step(ctx context.Context, title, path string, extra url.Values) ([]byte, error) {
	form := url.Values{}
	for k, v := range c.params {
		form[k] = v
	}
	for k, v := range extra {
		form[k] = v
	}
	return c.d.twilio(ctx, title, path, form)
}

// resolve is the path Twilio requests for a verb's action: relative to the document it
// came from, as a browser resolves a link; no action means the same document again.
func resolve(current, action string) string {
	base, _ := url.Parse(current)
	if action == "" {
		return current
	}
	ref, err := url.Parse(action)
	if err != nil {
		return current
	}
	return base.ResolveReference(ref).RequestURI()
}

func (c *callWalk) walk(ctx context.Context) error {
	path := "/webhooks/twilio/voice"
	twiml, err := c.step(ctx, "a call from "+c.params.Get("From")+" comes in ("+c.params.Get("CallSid")+")", path, nil)
	if err != nil {
		return err
	}
	c.params.Set("CallStatus", "in-progress")
	for range 10 { // a menu is a few steps deep; a loop in it must not run forever
		v := nextVerb(twiml)
		next := resolve(path, v.Action)
		switch v.XMLName.Local {
		case "Gather":
			if len(c.keys) == 0 {
				fmt.Fprintln(c.d.out, "── the caller hangs up without pressing a key")
				return c.end(ctx)
			}
			key := strings.TrimSuffix(c.keys[0], "#") // Twilio leaves out the key that finishes the input
			c.keys = c.keys[1:]
			twiml, err = c.step(ctx, "the caller presses "+key, next, url.Values{"Digits": {key}})
		case "Record":
			if c.voicemail == "" {
				fmt.Fprintln(c.d.out, "── the caller hangs up without leaving a message")
				return c.end(ctx)
			}
			twiml, err = c.record(ctx, next, v)
		case "Dial":
			answer, title := url.Values{"DialCallStatus": {"completed"}, "DialCallDuration": {"95"}}, "an agent answers, talks with the caller and hangs up"
			if c.missed {
				answer, title = url.Values{"DialCallStatus": {"no-answer"}, "DialCallDuration": {"0"}}, "nobody at the call centre picks up"
			}
			answer.Set("DialCallSid", "CA"+randomHex(16))
			twiml, err = c.step(ctx, title, next, answer)
		default: // <Hangup/>, or nothing more to do
			return c.end(ctx)
		}
		if err != nil {
			return err
		}
		path = next
	}
	return c.end(ctx)
}

// record is a message left after the tone: the recording's callback, then Twilio's
// transcription when the desk asked for one.
func (c *callWalk) record(ctx context.Context, action string, v twimlVerb) ([]byte, error) {
	sid := "RE" + randomHex(16)
	recording := c.d.twilioAPI() + "/2010-04-01/Accounts/" + c.params.Get("AccountSid") + "/Recordings/" + sid
	twiml, err := c.step(ctx, "the caller leaves a message and hangs up", action, url.Values{
		"RecordingUrl": {recording}, "RecordingSid": {sid}, "RecordingDuration": {"12"}, "Digits": {"hangup"}})
	if err != nil {
		return nil, err
	}
	if v.TranscribeCallback == "" {
		fmt.Fprintln(c.d.out, "── the desk did not ask Twilio for a transcription (Twilio transcribes English only; a Mandarin message waits for HOTLINE_STT_URL or an agent's ear), so --voicemail's text is not sent")
		fmt.Fprintln(c.d.out)
		return twiml, nil
	}
	_, err = c.step(ctx, "Twilio's transcription of the message", resolve(action, v.TranscribeCallback), url.Values{
		"TranscriptionSid": {"TR" + randomHex(16)}, "TranscriptionText": {c.voicemail}, "TranscriptionStatus": {"completed"},
		"TranscriptionUrl": {recording + "/Transcriptions"}, "RecordingSid": {sid}, "RecordingUrl": {recording}})
	return twiml, err
}

// end is the status callback Twilio posts when the call is over.
func (c *callWalk) end(ctx context.Context) error {
	_, err := c.step(ctx, "the call ends (status callback)", "/webhooks/twilio/voice/status", url.Values{
		"CallStatus": {"completed"}, "CallDuration": {"40"}, "CallbackSource": {"call-progress-events"}, "SequenceNumber": {"0"}})
	return err
}
