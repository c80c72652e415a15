// Package voice is the Twilio Voice channel: a phone menu (IVR) in TwiML, in Chinese or
// English, and the forms of Twilio's call, recording and transcription callbacks.
package voice

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/twilio/twilio-go/twiml"

	"github.com/hotlinedesk/hotline/channels/twilio"
)

// Lang picks the prompts: "zh" (Mandarin) or "en".
type Lang string

const (
	Chinese Lang = "zh"
	English Lang = "en"
)

type prompts struct {
	say, menu, askRef, notFound, record, complaint, thanks, sorry, transfer, status string
}

var text = map[Lang]prompts{
	Chinese: {
		say:       "cmn-CN", // the code Twilio's voice list gives Mandarin voices
		menu:      "您好，欢迎致电客服热线。查询工单进度请按 1，留言请按 2，投诉请按 3，人工服务请按 0。",
		askRef:    "请输入工单号中的数字，以井号键结束。",
		notFound:  "抱歉，没有找到与您的号码相关的这个工单。",
		record:    "请在提示音后留言，说完后挂机或按井号键。",
		complaint: "请在提示音后说明您的投诉，我们将在十个工作日内答复。说完后挂机或按井号键。",
		thanks:    "已收到，我们会尽快与您联系，再见。",
		sorry:     "抱歉，坐席现在都在忙，我们会尽快给您回电。您也可以在提示音后留言。",
		transfer:  "正在为您转接人工服务，请稍候。",
		status:    "工单 %s 的状态是：%s。%s",
	},
	English: {
		say:       "en-US",
		menu:      "Welcome to customer service. To hear the status of a ticket, press 1. To leave a message, press 2. To make a complaint, press 3. To speak to an agent, press 0.",
		askRef:    "Please enter the digits of your ticket reference, then press the pound key.",
		notFound:  "Sorry, we could not find that ticket for your phone number.",
		record:    "Please leave your message after the tone, then hang up or press the pound key.",
		complaint: "Please describe your complaint after the tone. We will answer within ten working days. Hang up or press the pound key when you are done.",
		thanks:    "Thank you, we will be in touch soon. Goodbye.",
		sorry:     "Sorry, all our agents are busy; we will call you back. You can also leave a message after the tone.",
		transfer:  "Connecting you to an agent, please hold.",
		status:    "Ticket %s is %s. %s",
	},
}

func (l Lang) prompts() prompts {
	if p, ok := text[l]; ok {
		return p
	}
	return text[Chinese]
}

// TwilioTranscribes reports whether Twilio's own <Record transcribe> understands the
// language: it transcribes English only, so a Mandarin message would come back empty or
// as wrong English words.
func TwilioTranscribes(l Lang) bool { return l == English }

// Speaker renders the menu's TwiML in one language, read by a voice that speaks it.
type Speaker struct {
	Lang Lang
	// Voice is the Twilio voice of every <Say> (see CheckVoice); empty means DefaultVoice.
	Voice string
}

func (s Speaker) say(msg string) twiml.VoiceSay {
	v := s.Voice
	if v == "" {
		v = DefaultVoice(s.Lang)
	}
	return twiml.VoiceSay{Message: msg, Language: s.Lang.prompts().say, Voice: v}
}

// hangup is what the caller hears if TwiML cannot be built: the call ends cleanly.
const hangup = `<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`

func render(verbs ...twiml.Element) string {
	xml, err := twiml.Voice(verbs)
	if err != nil { // only an element the code itself built wrongly can fail
		return hangup
	}
	return xml
}

// Menu greets the caller and reads the options; the key pressed goes to action.
func (s Speaker) Menu(action string) string {
	g := twiml.VoiceGather{Action: action, NumDigits: "1", Timeout: "8", InnerElements: []twiml.Element{s.say(s.Lang.prompts().menu)}}
	return render(g, twiml.VoiceRedirect{Url: action + "?Digits=timeout"})
}

// AskReference asks for the digits of a ticket reference.
func (s Speaker) AskReference(action string) string {
	g := twiml.VoiceGather{Action: action, FinishOnKey: "#", Timeout: "10", InnerElements: []twiml.Element{s.say(s.Lang.prompts().askRef)}}
	return render(g)
}

// Status reads out a ticket's status and next deadline.
func (s Speaker) Status(ref, status, deadline string) string {
	spoken := strings.Join(strings.Split(strings.TrimPrefix(ref, "HL-"), ""), " ")
	return render(s.say(fmt.Sprintf(s.Lang.prompts().status, spoken, status, deadline)), twiml.VoiceHangup{})
}

// NotFound says the ticket was not found and hangs up.
func (s Speaker) NotFound() string {
	return render(s.say(s.Lang.prompts().notFound), twiml.VoiceHangup{})
}

// Record asks for a message (or a complaint) and records it; Twilio posts the recording to
// action. Twilio is asked to transcribe it, to transcribed, only when transcribed is set and
// it understands the language (TwilioTranscribes); otherwise Hotline transcribes it itself
// or keeps the recording alone.
func (s Speaker) Record(complaint bool, action, transcribed string) string {
	prompt := s.Lang.prompts().record
	if complaint {
		prompt = s.Lang.prompts().complaint
	}
	return render(s.say(prompt), s.record(action, transcribed))
}

func (s Speaker) record(action, transcribed string) twiml.VoiceRecord {
	r := twiml.VoiceRecord{Action: action, MaxLength: "180", FinishOnKey: "#", PlayBeep: "true"}
	if transcribed != "" && TwilioTranscribes(s.Lang) {
		r.Transcribe, r.TranscribeCallback = "true", transcribed
	}
	return r
}

// Dial connects the caller to the call centre; Twilio reports the outcome to action.
func (s Speaker) Dial(number, action string) string {
	return render(s.say(s.Lang.prompts().transfer), twiml.VoiceDial{Number: number, Action: action, Timeout: "25"})
}

// Unanswered apologises when no agent picked up and offers to record a message, as Record.
func (s Speaker) Unanswered(action, transcribed string) string {
	return render(s.say(s.Lang.prompts().sorry), s.record(action, transcribed))
}

// Goodbye thanks the caller and hangs up.
func (s Speaker) Goodbye() string { return render(s.say(s.Lang.prompts().thanks), twiml.VoiceHangup{}) }

// Call is what Twilio's voice callbacks say about a call.
type Call struct {
	CallSid           string
	From, To          string
	Digits            string
	CallStatus        string // completed, busy, no-answer, failed, canceled, ...
	DialCallStatus    string // after <Dial>: completed, busy, no-answer, failed, canceled
	RecordingSid      string
	RecordingURL      string
	RecordingDuration string
	TranscriptionText string
}

// Parse reads a voice callback form.
func Parse(form url.Values) (Call, error) {
	c := Call{
		CallSid: form.Get("CallSid"), From: form.Get("From"), To: form.Get("To"), Digits: strings.TrimSpace(form.Get("Digits")),
		CallStatus: form.Get("CallStatus"), DialCallStatus: form.Get("DialCallStatus"),
		RecordingSid: form.Get("RecordingSid"), RecordingURL: form.Get("RecordingUrl"), RecordingDuration: form.Get("RecordingDuration"),
		TranscriptionText: strings.TrimSpace(form.Get("TranscriptionText")),
	}
	if c.CallSid == "" {
		return c, errors.New("CallSid is missing")
	}
	// The SIDs become stored message ids and file names: only Twilio's shape is let through.
	if !twilio.ValidSID(c.CallSid, "CA") {
		return c, errors.New("CallSid is not a Twilio call SID (CA and 32 hexadecimal digits)")
	}
	if c.RecordingSid != "" && !twilio.ValidSID(c.RecordingSid, "RE") {
		return c, errors.New("RecordingSid is not a Twilio recording SID (RE and 32 hexadecimal digits)")
	}
	if c.From == "" {
		return c, errors.New("From is missing")
	}
	return c, nil
}
