// Package webhooks receives providers' callbacks: each handler checks the provider's
// signature, lets the channel parse the wire format, hands the result to tickets.Service,
// and answers 2xx only after the change is committed.
package webhooks

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/channels/sms"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/delivery"
)

// TwilioConfig is what the Twilio webhooks need.
type TwilioConfig struct {
	AuthToken string
	// PublicBaseURL is the address Twilio uses to reach Hotline (https://desk.example.com);
	// signatures are computed over it. Empty: the Host and scheme of each request.
	PublicBaseURL string
	// SMSAck answers a customer's first message with the new ticket's reference.
	SMSAck bool
	// CallCentreNumber is dialled when a caller presses 0; empty means record a message.
	CallCentreNumber string
	// VoiceLanguage is the menu's language ("zh" or "en"); ByNumber overrides it for the
	// desk number the caller dialled.
	VoiceLanguage voice.Lang
	ByNumber      map[string]voice.Lang
	// Voices is the Twilio voice that reads each language's prompts (checked with
	// voice.CheckVoice); a language missing gets voice.DefaultVoice.
	Voices map[voice.Lang]string
	// SpeechToText says Hotline's speech-to-text service transcribes voicemail in every
	// language (HOTLINE_STT_URL); without it Twilio transcribes English ones only, and a
	// Mandarin voicemail keeps its recording with no transcript.
	SpeechToText bool
	// APIURL is TWILIO_API_URL: a RecordingUrl there is accepted as well as Twilio's own.
	APIURL string
	// Access answers customers who ask where their tickets stand (STATUS, the phone
	// menu); nil means access.New(svc) with the zero Config.
	Access *access.Service
}

// Twilio serves Twilio's SMS and voice webhooks.
type Twilio struct {
	svc      *tickets.Service
	delivery *delivery.Service // opt-outs, delivery reports, messages seen
	cfg      TwilioConfig
	log      *slog.Logger
}

// NewTwilio builds the handlers.
func NewTwilio(svc *tickets.Service, cfg TwilioConfig, log *slog.Logger) *Twilio {
	if cfg.VoiceLanguage == "" {
		cfg.VoiceLanguage = voice.Chinese
	}
	if cfg.Access == nil {
		cfg.Access = access.New(svc, access.Config{})
	}
	return &Twilio{svc: svc, delivery: delivery.New(svc), cfg: cfg, log: log}
}

// Register mounts the webhooks under /webhooks/twilio.
func (h *Twilio) Register(app *fiber.App) {
	g := app.Group("/webhooks/twilio", h.verify)
	g.Post("/sms", h.inboundSMS)
	g.Post("/sms/status", h.smsStatus)
	g.Post("/voice", h.call)
	g.Post("/voice/menu", h.menu)
	g.Post("/voice/lookup", h.lookup)
	g.Post("/voice/recording", h.recording)
	g.Post("/voice/transcription", h.transcription)
	g.Post("/voice/dial", h.dialled)
	g.Post("/voice/status", h.callStatus)
}

const formKey = "twilio.form"

// verify admits only requests signed with the account's auth token over the URL Twilio
// requested and the posted form; anything else is 403 and changes nothing.
func (h *Twilio) verify(c *fiber.Ctx) error {
	form, err := url.ParseQuery(string(api.Body(c)))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "the body is not a form: "+err.Error())
	}
	base := strings.TrimRight(h.cfg.PublicBaseURL, "/")
	if base == "" {
		base = c.BaseURL()
	}
	if !twilio.Validate(h.cfg.AuthToken, base+c.OriginalURL(), form, c.Get("X-Twilio-Signature")) {
		h.log.Warn("refused a Twilio webhook with a missing or wrong signature", "path", c.Path(), "ip", c.IP())
		return fiber.NewError(fiber.StatusForbidden, "invalid X-Twilio-Signature")
	}
	// Twilio sends each parameter once; a repeated one, even signed, would let the order of
	// its values decide which one the handlers read.
	if k := twilio.Repeated(form); k != "" {
		return fiber.NewError(fiber.StatusBadRequest, "parameter "+k+" is repeated; Twilio sends each once")
	}
	c.Locals(formKey, form)
	return c.Next()
}

func formOf(c *fiber.Ctx) url.Values { f, _ := c.Locals(formKey).(url.Values); return f }

func twimlMessage(c *fiber.Ctx, text string) error {
	c.Type("xml", "utf-8")
	if text == "" {
		return c.SendString(`<?xml version="1.0" encoding="UTF-8"?><Response></Response>`)
	}
	xml, err := twiml.Messages([]twiml.Element{twiml.MessagingMessage{Body: text}})
	if err != nil {
		return fmt.Errorf("render TwiML: %w", err)
	}
	return c.SendString(xml)
}

func twimlVoice(c *fiber.Ctx, xml string) error {
	c.Type("xml", "utf-8")
	return c.SendString(xml)
}

// intakeError turns bad input into a 400 Twilio will not retry; anything else is a 500, and
// Twilio retries it, which is safe: the message id makes the retry harmless.
func intakeError(err error) error {
	if errors.Is(err, tickets.ErrInvalid) {
		return fiber.NewError(fiber.StatusBadRequest, tickets.Reason(err))
	}
	return err
}

func (h *Twilio) inboundSMS(c *fiber.Ctx) error {
	msg, err := sms.Parse(formOf(c))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	ctx := c.UserContext()
	from := msg.Inbound.Address
	// Keywords mirror what Twilio does at its edge: an opt-out word always blocks the
	// number; an opt-in word or INFO acts only for a number that opted out, and from anyone
	// else is a customer's answer ("yes"), kept as an ordinary message. Answers are in the
	// keyword's own language.
	help, _, started := sms.Texts(msg.KeywordLocale)
	switch msg.Keyword {
	case sms.Stop:
		if err := h.delivery.OptOut(ctx, tickets.IdentityPhone, from); err != nil {
			return intakeError(err)
		}
		return twimlMessage(c, "") // Twilio confirms an opt-out itself
	case sms.Help:
		return twimlMessage(c, help)
	case sms.Start:
		resumed, err := h.delivery.Resubscribe(ctx, tickets.IdentityPhone, from, msg.Inbound.ProviderMessageID)
		if err != nil {
			return intakeError(err)
		}
		if resumed {
			return twimlMessage(c, started)
		}
	case sms.Info:
		out, err := h.delivery.AddressOptedOut(ctx, tickets.IdentityPhone, from)
		if err != nil {
			return intakeError(err)
		}
		if out {
			return twimlMessage(c, help)
		}
	}
	if ref, english, ok := access.StatusRequest(msg.Inbound.Body); ok {
		sts, err := h.cfg.Access.CustomerStatus(ctx, tickets.IdentityPhone, from, ref)
		if err != nil {
			return intakeError(err)
		}
		return twimlMessage(c, h.cfg.Access.StatusText(sts, english))
	}
	res, err := h.svc.Intake(ctx, msg.Inbound)
	if err != nil {
		return intakeError(err)
	}
	if res.Created && h.cfg.SMSAck {
		due := res.Ticket.FirstResponseDueAt.In(h.svc.Calendar().Location()).Format("2006-01-02 15:04")
		ack, err := h.svc.Notice(ctx, tickets.TemplateAcknowledged, res.Customer.Locale, tickets.TemplateData{Ref: res.Ticket.Ref(), Due: due})
		if err != nil {
			return err
		}
		return twimlMessage(c, ack)
	}
	return twimlMessage(c, "")
}

func (h *Twilio) smsStatus(c *fiber.Ctx) error {
	st, err := sms.ParseStatus(formOf(c))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	known, err := h.delivery.UpdateDelivery(c.UserContext(), tickets.ChannelSMS, st.MessageSid, st.Status, st.ErrorCode)
	if err != nil {
		return intakeError(err)
	}
	if !known {
		h.log.Info("status for a message Hotline did not send", "message_sid", st.MessageSid)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// call parses a voice callback and picks the menu's language from the number dialled.
func (h *Twilio) callOf(c *fiber.Ctx) (voice.Call, voice.Lang, error) {
	call, err := voice.Parse(formOf(c))
	if err != nil {
		return call, "", fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	lang := h.cfg.VoiceLanguage
	if l, ok := h.cfg.ByNumber[call.To]; ok {
		lang = l
	}
	return call, lang, nil
}

// speaker reads the menu in lang with the voice configured for it.
func (h *Twilio) speaker(lang voice.Lang) voice.Speaker {
	return voice.Speaker{Lang: lang, Voice: h.cfg.Voices[lang]}
}

// transcribed is where Twilio posts its own transcription, or "" when Hotline's
// speech-to-text service transcribes instead (Twilio is then not asked at all).
func (h *Twilio) transcribed(query string) string {
	if h.cfg.SpeechToText {
		return ""
	}
	return "/webhooks/twilio/voice/transcription" + query
}

func (h *Twilio) call(c *fiber.Ctx) error {
	_, lang, err := h.callOf(c)
	if err != nil {
		return err
	}
	return twimlVoice(c, h.speaker(lang).Menu("/webhooks/twilio/voice/menu"))
}

func (h *Twilio) menu(c *fiber.Ctx) error {
	call, lang, err := h.callOf(c)
	if err != nil {
		return err
	}
	sp := h.speaker(lang)
	switch call.Digits {
	case "1":
		return twimlVoice(c, sp.AskReference("/webhooks/twilio/voice/lookup"))
	case "2":
		return twimlVoice(c, sp.Record(false, "/webhooks/twilio/voice/recording", h.transcribed("")))
	case "3":
		return twimlVoice(c, sp.Record(true, "/webhooks/twilio/voice/recording?kind=complaint", h.transcribed("?kind=complaint")))
	case "0":
		if h.cfg.CallCentreNumber == "" {
			return twimlVoice(c, sp.Unanswered("/webhooks/twilio/voice/recording", h.transcribed("")))
		}
		return twimlVoice(c, sp.Dial(h.cfg.CallCentreNumber, "/webhooks/twilio/voice/dial"))
	}
	return twimlVoice(c, sp.Menu("/webhooks/twilio/voice/menu"))
}

// lookup reads out the status of the caller's own ticket whose digits they entered.
func (h *Twilio) lookup(c *fiber.Ctx) error {
	call, lang, err := h.callOf(c)
	if err != nil {
		return err
	}
	sp := h.speaker(lang)
	id, ok := tickets.ParseRef("HL-" + strings.TrimLeft(call.Digits, "0"))
	if !ok {
		return twimlVoice(c, sp.NotFound())
	}
	t, complaint, err := h.cfg.Access.CallerStatus(c.UserContext(), id, call.From)
	if errors.Is(err, tickets.ErrInvalid) || (err == nil && t == nil) {
		return twimlVoice(c, sp.NotFound())
	}
	if err != nil {
		return err
	}
	return twimlVoice(c, sp.Status(t.Ref(), t.Status.Words(lang == voice.English), h.nextDeadline(lang, t, complaint)))
}

func (h *Twilio) nextDeadline(lang voice.Lang, t *tickets.Ticket, c *access.ComplaintStatusView) string {
	loc := h.svc.Calendar().Location()
	var when time.Time
	switch {
	case c != nil:
		when = c.Deadline
	case t.Status.Active() && t.FirstRespondedAt == nil && t.FirstResponseDueAt != nil:
		when = *t.FirstResponseDueAt
	case t.Status.Active() && t.PausedAt == nil && t.ResolutionDueAt != nil:
		when = *t.ResolutionDueAt
	default:
		return ""
	}
	local := when.In(loc)
	if lang == voice.English {
		return "We will answer by " + local.Format("January 2 at 15:04") + "."
	}
	return fmt.Sprintf("我们将在 %d月%d日 %s 前答复您。", local.Month(), local.Day(), local.Format("15:04"))
}

// voicemail is the message a call's recording and transcription both add to.
func voicemail(call voice.Call, complaint bool) tickets.Inbound {
	in := tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: call.From,
		ProviderMessageID: "voicemail:" + call.CallSid, Merge: true, Subject: "电话留言 Voicemail"}
	if complaint {
		in.Subject, in.ComplaintSource = "电话投诉 Complaint by phone", tickets.SourceIVR
	}
	return in
}

// recording stores the caller's recording as a message (with Twilio's transcription if
// that came first) and says goodbye. Until a transcript comes the message says a
// recording awaits listening; with a speech-to-text service the recording is queued for
// transcription once stored. Only a recording on Twilio's API is taken: Hotline later
// fetches it with the account's credentials.
func (h *Twilio) recording(c *fiber.Ctx) error {
	call, lang, err := h.callOf(c)
	if err != nil {
		return err
	}
	sp := h.speaker(lang)
	if call.RecordingURL == "" || call.RecordingDuration == "0" { // hung up before speaking
		return twimlVoice(c, sp.Goodbye())
	}
	if _, err := twilio.RecordingMedia(h.cfg.APIURL, call.RecordingURL, call.RecordingSid); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "RecordingUrl is not a recording on Twilio's API, or not RecordingSid's")
	}
	sid := twilio.RecordingSID(call.RecordingURL)
	in := voicemail(call, c.Query("kind") == "complaint")
	in.Body = tickets.VoicemailAwaits
	media := strings.TrimSuffix(strings.TrimSuffix(call.RecordingURL, ".mp3"), ".wav") + ".mp3"
	rec := tickets.NewAttachment{Filename: "recording-" + sid + ".mp3", ContentType: "audio/mpeg", URL: media, Provider: tickets.ProviderTwilio}
	if h.cfg.SpeechToText {
		rec.TranscriptLang = string(lang)
	}
	in.Attachments = []tickets.NewAttachment{rec}
	if _, err := h.svc.Intake(c.UserContext(), in); err != nil {
		return intakeError(err)
	}
	return twimlVoice(c, sp.Goodbye())
}

// transcription adds the recording's text to the same message, whichever arrives first.
func (h *Twilio) transcription(c *fiber.Ctx) error {
	call, _, err := h.callOf(c)
	if err != nil {
		return err
	}
	if call.TranscriptionText == "" {
		return c.SendStatus(fiber.StatusNoContent)
	}
	in := voicemail(call, c.Query("kind") == "complaint")
	in.Body = call.TranscriptionText
	if _, err := h.svc.Intake(c.UserContext(), in); err != nil {
		return intakeError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// callRecord is the call itself on the caller's ticket: answered by an agent, or missed
// and to be called back; once per call.
func callRecord(call voice.Call, missed bool) tickets.Inbound {
	in := tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: call.From,
		ProviderMessageID: "call:" + call.CallSid, Subject: "来电 Phone call", Body: "来电已由坐席接听 / Call answered by an agent"}
	if missed {
		in.Subject, in.Body = "未接来电 Missed call — call back", "未接来电，请回电 / Missed call — call back"
	}
	return in
}

func (h *Twilio) dialled(c *fiber.Ctx) error {
	call, lang, err := h.callOf(c)
	if err != nil {
		return err
	}
	answered := call.DialCallStatus == "completed"
	if _, err := h.svc.Intake(c.UserContext(), callRecord(call, !answered)); err != nil {
		return intakeError(err)
	}
	if answered {
		return twimlVoice(c, `<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`)
	}
	return twimlVoice(c, h.speaker(lang).Unanswered("/webhooks/twilio/voice/recording", h.transcribed("")))
}

// callStatus closes the loop when a call ends: a call that left neither a message nor a
// conversation with an agent becomes "missed call — call back".
func (h *Twilio) callStatus(c *fiber.Ctx) error {
	call, _, err := h.callOf(c)
	if err != nil {
		return err
	}
	switch call.CallStatus {
	case "completed", "busy", "no-answer", "failed", "canceled":
	default:
		return c.SendStatus(fiber.StatusNoContent)
	}
	ctx := c.UserContext()
	for _, id := range []string{"call:" + call.CallSid, "voicemail:" + call.CallSid} {
		seen, err := h.delivery.HasMessage(ctx, tickets.ChannelPhone, id)
		if err != nil || seen {
			return err
		}
	}
	if _, err := h.svc.Intake(ctx, callRecord(call, true)); err != nil {
		return intakeError(err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}
