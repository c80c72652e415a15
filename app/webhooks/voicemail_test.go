package webhooks_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice/stt"
	"github.com/hotlinedesk/hotline/channels/voice/voicetest"
	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// transcriptions is the job system as far as voicemail goes: it remembers what it was
// asked to transcribe, for the test to run as a worker would.
type transcriptions struct {
	mu  sync.Mutex
	ids []int64
}

func (q *transcriptions) Schedule(context.Context, []tickets.Timer) error { return nil }
func (q *transcriptions) Deliver(context.Context, []int64) error          { return nil }
func (q *transcriptions) Transcribe(_ context.Context, ids []int64) error {
	q.mu.Lock()
	q.ids = append(q.ids, ids...)
	q.mu.Unlock()
	return nil
}

func (q *transcriptions) take() []int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	ids := q.ids
	q.ids = nil
	return ids
}

// phoneDesk is a desk with a Twilio account (its recordings at the fake) and, when stt is
// set, a speech-to-text service (the fake).
type phoneDesk struct {
	*desk
	media  *voicetest.Media
	speak  *voicetest.STT
	queue  *transcriptions
	worker *jobs.Transcriber
}

func newPhoneDesk(t *testing.T, db *bun.DB, withSTT bool) *phoneDesk {
	t.Helper()
	p := &phoneDesk{media: voicetest.NewMedia(t), speak: voicetest.NewSTT(t, "sk-stt-key"), queue: &transcriptions{}}
	p.desk = newDesk(t, db, func(c *webhooks.TwilioConfig) { c.SpeechToText, c.APIURL = withSTT, p.media.URL })
	p.svc.SetScheduler(p.queue)
	var speech jobs.SpeechToText
	if withSTT {
		client, err := stt.New(stt.Config{URL: p.speak.URL, APIKey: "sk-stt-key"})
		if err != nil {
			t.Fatal(err)
		}
		speech = client
	}
	recs := twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: voicetest.AuthToken, APIURL: p.media.URL})
	p.worker = jobs.NewTranscriber(p.svc, recs, speech, tickettest.Logger())
	return p
}

// work runs every queued transcription task, as a worker would, and reports how many.
func (p *phoneDesk) work(t *testing.T) int {
	t.Helper()
	ids := p.queue.take()
	for _, id := range ids {
		if err := p.worker.ProcessTask(context.Background(), jobs.NewTranscribeTask(id)); err != nil {
			t.Fatalf("transcription task of message %d: %v", id, err)
		}
	}
	return len(ids)
}

// leaveVoicemail walks a call through the menu to a recorded message, as Twilio does.
func (p *phoneDesk) leaveVoicemail(t *testing.T, label string, kv ...string) (menu, record, goodbye string) {
	t.Helper()
	sid := sidOf("RE", label)
	p.media.Put(sid, []byte("ID3 mp3 audio of "+label))
	form := func(more ...string) url.Values { return callForm(label, append(append([]string{}, kv...), more...)...) }
	_, menu = p.post(t, "/webhooks/twilio/voice", form())
	_, record = p.post(t, "/webhooks/twilio/voice/menu", form("Digits", "2"))
	status, goodbye := p.post(t, "/webhooks/twilio/voice/recording",
		form("RecordingSid", sid, "RecordingUrl", voicetest.RecordingURL(sid), "RecordingDuration", "15"))
	if status != 200 || !strings.Contains(goodbye, "<Hangup") {
		t.Fatalf("recording callback: %d %s", status, goodbye)
	}
	return menu, record, goodbye
}

func (p *phoneDesk) voicemailOf(t *testing.T, from string) (*tickets.TicketDetail, *tickets.Message) {
	t.Helper()
	ts, err := p.svc.Customer(context.Background(), p.customerID(t, from))
	if err != nil {
		t.Fatal(err)
	}
	td := p.detail(t, ts.Tickets[0].ID)
	if len(td.Messages) != 1 {
		t.Fatalf("%s: %d messages, want the voicemail alone", td.Ref(), len(td.Messages))
	}
	return td, td.Messages[0]
}

func (p *phoneDesk) customerID(t *testing.T, phone string) int64 {
	t.Helper()
	var id int64
	if err := p.db.NewSelect().Table("customer_identities").Column("customer_id").Where("value = ?", phone).Scan(context.Background(), &id); err != nil {
		t.Fatalf("customer %s: %v", phone, err)
	}
	return id
}

func eventCount(td *tickets.TicketDetail, kind string) (n int, data string) {
	for _, e := range td.Events {
		if e.Kind == kind {
			n, data = n+1, e.Data
		}
	}
	return n, data
}

const mandarinVoicemail = "您好，我的车险理赔还没有消息，请尽快回电，谢谢。"

// A Mandarin voicemail end to end: the menu speaks with a Mandarin voice and does not ask
// Twilio (English only) to transcribe; the recording callback stores the recording with
// "please listen" and queues its transcription; the task fetches the audio from Twilio with
// the account's credentials and the speech-to-text service's text replaces the
// placeholder, once, however often Twilio or the task retries.
func TestMandarinVoicemailTranscribed(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		p := newPhoneDesk(t, db, true)
		p.speak.Say("zh", mandarinVoicemail)
		menu, record, goodbye := p.leaveVoicemail(t, "VM1")
		for name, twiml := range map[string]string{"menu": menu, "record": record, "goodbye": goodbye} {
			if !strings.Contains(twiml, `voice="Polly.Zhiyu"`) || !strings.Contains(twiml, `language="cmn-CN"`) {
				t.Errorf("%s: <Say> without a Mandarin voice: %s", name, twiml)
			}
		}
		if !strings.Contains(record, "<Record") || strings.Contains(record, "transcribe") {
			t.Errorf("Mandarin voicemail handed to Twilio's transcription: %s", record)
		}

		td, m := p.voicemailOf(t, "+8613800138000")
		if m.Body != tickets.VoicemailAwaits || len(m.Attachments) != 1 {
			t.Fatalf("before the transcript: %q %+v", m.Body, m.Attachments)
		}
		a := m.Attachments[0]
		if !a.Fetched() || a.TranscriptLang != "zh" || a.TranscriptState != tickets.TranscriptPending || a.URL != voicetest.RecordingURL(sidOf("RE", "VM1"))+".mp3" {
			t.Errorf("recording attachment %+v", a)
		}

		if n := p.work(t); n != 1 {
			t.Fatalf("%d transcriptions queued, want 1", n)
		}
		calls, problems := p.speak.Calls()
		if len(problems) > 0 || len(calls) != 1 || calls[0].Language != "zh" || string(calls[0].Audio) != "ID3 mp3 audio of VM1" {
			t.Fatalf("speech-to-text: %+v %v", calls, problems)
		}
		if all, refused, _ := p.media.Requests(); all != 1 || refused != 0 {
			t.Errorf("Twilio media: %d requests, %d without the account's credentials", all, refused)
		}
		td, m = p.voicemailOf(t, "+8613800138000")
		if m.Body != mandarinVoicemail {
			t.Errorf("body %q, want the Mandarin transcript", m.Body)
		}
		if n, _ := eventCount(td, "voicemail.transcribed"); n != 1 {
			t.Errorf("%d transcribed events", n)
		}

		// Twilio retries the recording callback, and the task runs again: nothing changes.
		if status, _ := p.post(t, "/webhooks/twilio/voice/recording", callForm("VM1", "RecordingSid", sidOf("RE", "VM1"),
			"RecordingUrl", voicetest.RecordingURL(sidOf("RE", "VM1")), "RecordingDuration", "15")); status != 200 {
			t.Fatalf("retried callback: %d", status)
		}
		p.work(t)
		if err := p.worker.ProcessTask(context.Background(), jobs.NewTranscribeTask(m.ID)); err != nil {
			t.Fatal(err)
		}
		td, m = p.voicemailOf(t, "+8613800138000")
		calls, _ = p.speak.Calls()
		if m.Body != mandarinVoicemail || len(m.Attachments) != 1 || len(calls) != 1 {
			t.Errorf("after retries: body %q, %d attachments, %d transcriptions", m.Body, len(m.Attachments), len(calls))
		}
		if n, _ := eventCount(td, "voicemail.transcribed"); n != 1 {
			t.Errorf("%d transcribed events after retries", n)
		}

		// The service refusing the audio for good is recorded on the ticket, not retried.
		p.speak.Fail(400)
		p.leaveVoicemail(t, "VM2", "From", "+8613900139000")
		p.work(t)
		td, m = p.voicemailOf(t, "+8613900139000")
		n, data := eventCount(td, "voicemail.transcription_failed")
		if m.Body != tickets.VoicemailAwaits || n != 1 || !strings.Contains(data, "400") {
			t.Errorf("permanent failure: body %q, %d failure events %s", m.Body, n, data)
		}
		if rec, _ := p.svc.PendingRecording(context.Background(), m.ID); rec != nil {
			t.Error("a permanently refused recording still waits")
		}
	})
}

// Without a speech-to-text service a Mandarin voicemail keeps its recording and says it
// awaits listening: no transcript, empty or wrong; English ones are transcribed by Twilio.
// With one, English is transcribed by it too, and Twilio is not asked.
func TestVoicemailWithoutSpeechToText(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		p := newPhoneDesk(t, db, false)
		_, record, _ := p.leaveVoicemail(t, "VM1")
		if strings.Contains(record, "transcribe") {
			t.Errorf("Mandarin voicemail handed to Twilio's transcription: %s", record)
		}
		_, m := p.voicemailOf(t, "+8613800138000")
		if m.Body != tickets.VoicemailAwaits || len(m.Attachments) != 1 || !m.Attachments[0].Fetched() ||
			m.Attachments[0].TranscriptLang != "" || m.Attachments[0].TranscriptState != "" {
			t.Errorf("voicemail without a service: %q %+v", m.Body, m.Attachments)
		}
		if ids := p.queue.take(); len(ids) != 0 {
			t.Errorf("transcriptions queued without a service: %v", ids)
		}
		if err := p.worker.ProcessTask(context.Background(), jobs.NewTranscribeTask(m.ID)); err != nil {
			t.Fatal(err)
		}
		if calls, _ := p.speak.Calls(); len(calls) != 0 {
			t.Errorf("the service was called: %+v", calls)
		}
		_, english, _ := p.leaveVoicemail(t, "VM2", "From", "+14155550123", "To", "+14155550100")
		if !strings.Contains(english, `transcribe="true"`) || !strings.Contains(english, `voice="Polly.Joanna"`) {
			t.Errorf("English voicemail without a service: %s", english)
		}

		withSTT := newPhoneDesk(t, tickettest.SQLite(t), true)
		withSTT.speak.Say("en", "Please call me back about my claim.")
		_, english, _ = withSTT.leaveVoicemail(t, "VM3", "From", "+14155550123", "To", "+14155550100")
		if strings.Contains(english, "transcribe") {
			t.Errorf("Twilio asked to transcribe although the service does: %s", english)
		}
		if n := withSTT.work(t); n != 1 {
			t.Fatalf("%d English transcriptions queued", n)
		}
		if _, m := withSTT.voicemailOf(t, "+14155550123"); m.Body != "Please call me back about my claim." {
			t.Errorf("English body %q", m.Body)
		}
	})
}

// A RecordingUrl that is not a recording on Twilio's API (or the configured base) is
// refused and stored nowhere, so Hotline never sends the account's credentials to it.
func TestVoicemailForeignRecordingURL(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		p := newPhoneDesk(t, db, true)
		evil := voicetest.NewMedia(t)
		sid := sidOf("RE", "evil")
		for _, raw := range []string{
			evil.URL + "/2010-04-01/Accounts/" + voicetest.AccountSID + "/Recordings/" + sid,
			"https://api.twilio.com.evil.example/2010-04-01/Accounts/" + voicetest.AccountSID + "/Recordings/" + sid,
			"http://api.twilio.com/2010-04-01/Accounts/" + voicetest.AccountSID + "/Recordings/" + sid,
			voicetest.RecordingURL(sidOf("RE", "another")), // not RecordingSid's
		} {
			status, body := p.post(t, "/webhooks/twilio/voice/recording", callForm("evil", "RecordingSid", sid, "RecordingUrl", raw, "RecordingDuration", "9"))
			if status != 400 || !strings.Contains(body, "RecordingUrl") {
				t.Errorf("%s: %d %s", raw, status, body)
			}
		}
		if n := p.count(t, "messages") + p.count(t, "attachments"); n != 0 {
			t.Errorf("%d rows stored from forged recordings", n)
		}
		if all, _, _ := evil.Requests(); all != 0 {
			t.Errorf("the foreign host got %d requests", all)
		}
	})
}
