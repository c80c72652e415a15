package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice/stt"
	"github.com/hotlinedesk/hotline/channels/voice/voicetest"
	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

const mandarin = "您好，我想问一下上周报案的理赔进度，请回电。"

var quiet = tickettest.Logger()

// voicemailDesk is a desk whose Twilio recordings and speech-to-text service are the fakes.
type voicemailDesk struct {
	svc   *tickets.Service
	clock *tickettest.Clock
	media *voicetest.Media
	speak *voicetest.STT
	tr    *jobs.Transcriber
}

func newVoicemailDesk(t *testing.T, db *bun.DB) *voicemailDesk {
	t.Helper()
	clock := tickettest.NewClock(time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC))
	d := &voicemailDesk{svc: tickettest.Service(db, clock), clock: clock, media: voicetest.NewMedia(t), speak: voicetest.NewSTT(t, "sk-test")}
	d.speak.Say("zh", mandarin)
	client, err := stt.New(stt.Config{URL: d.speak.URL, APIKey: "sk-test"})
	if err != nil {
		t.Fatal(err)
	}
	recs := twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: voicetest.AuthToken, APIURL: d.media.URL})
	d.tr = jobs.NewTranscriber(d.svc, recs, client, quiet)
	return d
}

// leave stores a caller's voicemail as the webhook does, its audio at the fake Twilio.
func (d *voicemailDesk) leave(t *testing.T, n int, lang string) *tickets.IntakeResult {
	t.Helper()
	sid := fmt.Sprintf("RE%032d", n)
	d.media.Put(sid, []byte("ID3 mp3 audio of "+sid))
	res, err := d.svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone,
		Address: fmt.Sprintf("+86138001380%02d", n), ProviderMessageID: fmt.Sprintf("voicemail:CA%032d", n), Merge: true,
		Subject: "电话留言 Voicemail", Body: tickets.VoicemailAwaits,
		Attachments: []tickets.NewAttachment{{Filename: "recording-" + sid + ".mp3", ContentType: "audio/mpeg",
			URL: voicetest.RecordingURL(sid) + ".mp3", Provider: tickets.ProviderTwilio, TranscriptLang: lang}}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (d *voicemailDesk) body(t *testing.T, res *tickets.IntakeResult) string {
	t.Helper()
	td, err := d.svc.Ticket(context.Background(), res.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	return td.Messages[0].Body
}

func (d *voicemailDesk) events(t *testing.T, res *tickets.IntakeResult, kind string) []*tickets.Event {
	t.Helper()
	td, err := d.svc.Ticket(context.Background(), res.Ticket.Ref())
	if err != nil {
		t.Fatal(err)
	}
	var out []*tickets.Event
	for _, e := range td.Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// The task fetches the recording from Twilio with the account's credentials, sends it to
// the speech-to-text service in the voicemail's language, and puts the text on the
// message once; refusals that cannot change end the task with a record on the ticket,
// passing failures are retried.
func TestTranscriberOutcomes(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newVoicemailDesk(t, db)

		res := d.leave(t, 1, "zh")
		if err := d.tr.ProcessTask(ctx, jobs.NewTranscribeTask(res.Message.ID)); err != nil {
			t.Fatal(err)
		}
		calls, problems := d.speak.Calls()
		if len(problems) > 0 || len(calls) != 1 || calls[0].Language != "zh" || calls[0].Model != "whisper-1" ||
			string(calls[0].Audio) != "ID3 mp3 audio of RE"+fmt.Sprintf("%032d", 1) || !strings.HasSuffix(calls[0].Filename, ".mp3") {
			t.Fatalf("speech-to-text got %+v, problems %v", calls, problems)
		}
		if all, refused, _ := d.media.Requests(); all != 1 || refused != 0 {
			t.Errorf("Twilio: %d requests, %d without credentials", all, refused)
		}
		if body := d.body(t, res); body != mandarin {
			t.Errorf("body %q, want the Mandarin transcript", body)
		}
		// A retried task finds nothing pending: no second fetch, call or text.
		if err := d.tr.ProcessTask(ctx, jobs.NewTranscribeTask(res.Message.ID)); err != nil {
			t.Fatal(err)
		}
		if calls, _ := d.speak.Calls(); len(calls) != 1 || d.body(t, res) != mandarin || len(d.events(t, res, "voicemail.transcribed")) != 1 {
			t.Errorf("a retry changed something: %d calls, body %q", len(calls), d.body(t, res))
		}

		cases := []struct {
			name    string
			setup   func(d *voicemailDesk)
			tr      func(d *voicemailDesk) *jobs.Transcriber
			retried bool   // the task returns an error, and the recording still waits
			reason  string // else: recorded as failed, with this in the reason
		}{
			{name: "service refuses the audio", setup: func(d *voicemailDesk) { d.speak.Fail(400) }, reason: "400"},
			{name: "service rate-limits", setup: func(d *voicemailDesk) { d.speak.Fail(429) }, retried: true},
			{name: "service down", setup: func(d *voicemailDesk) { d.speak.Fail(503) }, retried: true},
			{name: "wrong service key", tr: func(d *voicemailDesk) *jobs.Transcriber {
				c, _ := stt.New(stt.Config{URL: d.speak.URL, APIKey: "sk-wrong"})
				return jobs.NewTranscriber(d.svc, twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: voicetest.AuthToken, APIURL: d.media.URL}), c, quiet)
			}, reason: "Incorrect API key"},
			{name: "Twilio refuses the credentials", tr: func(d *voicemailDesk) *jobs.Transcriber {
				c, _ := stt.New(stt.Config{URL: d.speak.URL, APIKey: "sk-test"})
				return jobs.NewTranscriber(d.svc, twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: "wrong", APIURL: d.media.URL}), c, quiet)
			}, retried: true},
			{name: "no speech-to-text service", tr: func(d *voicemailDesk) *jobs.Transcriber {
				return jobs.NewTranscriber(d.svc, twilio.NewRecordings(twilio.Config{AccountSID: voicetest.AccountSID, AuthToken: voicetest.AuthToken, APIURL: d.media.URL}), nil, quiet)
			}, reason: "HOTLINE_STT_URL"},
			{name: "no Twilio credentials", tr: func(d *voicemailDesk) *jobs.Transcriber {
				c, _ := stt.New(stt.Config{URL: d.speak.URL, APIKey: "sk-test"})
				return jobs.NewTranscriber(d.svc, nil, c, quiet)
			}, reason: "TWILIO_AUTH_TOKEN"},
		}
		for i, c := range cases {
			d.speak.Fail(0)
			if c.setup != nil {
				c.setup(d)
			}
			tr := d.tr
			if c.tr != nil {
				tr = c.tr(d)
			}
			res := d.leave(t, 10+i, "zh")
			err := tr.ProcessTask(ctx, jobs.NewTranscribeTask(res.Message.ID))
			pending, _ := d.svc.PendingRecording(ctx, res.Message.ID)
			failed := d.events(t, res, "voicemail.transcription_failed")
			if c.retried {
				if err == nil || pending == nil || len(failed) != 0 {
					t.Errorf("%s: %v, pending %v, %d failures recorded; want a retry", c.name, err, pending != nil, len(failed))
				}
			} else if err != nil || pending != nil || len(failed) != 1 || !strings.Contains(failed[0].Data, c.reason) {
				t.Errorf("%s: %v, pending %v, failures %+v; want one naming %q", c.name, err, pending != nil, failed, c.reason)
			}
			if body := d.body(t, res); body != tickets.VoicemailAwaits {
				t.Errorf("%s: body %q", c.name, body)
			}
		}
		if _, refused, _ := d.media.Requests(); refused != 1 {
			t.Errorf("%d requests reached Twilio without the credentials, want only the wrong token's", refused)
		}

		// A recording whose address is not Twilio's is never fetched: recorded at once.
		evil := voicetest.NewMedia(t)
		sid := fmt.Sprintf("RE%032d", 99)
		evil.Put(sid, []byte("audio"))
		forged, err := d.svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: "+8613900139099",
			ProviderMessageID: "voicemail:forged", Merge: true, Body: tickets.VoicemailAwaits,
			Attachments: []tickets.NewAttachment{{Filename: "r.mp3", ContentType: "audio/mpeg",
				URL: evil.URL + "/2010-04-01/Accounts/" + voicetest.AccountSID + "/Recordings/" + sid + ".mp3", Provider: tickets.ProviderTwilio, TranscriptLang: "zh"}}})
		if err != nil {
			t.Fatal(err)
		}
		d.speak.Fail(0)
		if err := d.tr.ProcessTask(ctx, jobs.NewTranscribeTask(forged.Message.ID)); err != nil {
			t.Fatal(err)
		}
		if all, _, _ := evil.Requests(); all != 0 || len(d.events(t, forged, "voicemail.transcription_failed")) != 1 {
			t.Errorf("foreign host got %d requests", all)
		}

		// A malformed payload is not retried.
		if err := d.tr.ProcessTask(ctx, asynq.NewTask(jobs.TypeTranscribe, []byte("{"))); err == nil || !strings.Contains(err.Error(), asynq.SkipRetry.Error()) {
			t.Errorf("bad payload: %v", err)
		}
	})
}

// Intake queues the task (transcribe:<message>, once however often it is asked); a task
// Redis lost is queued again by the reconciler once it has waited TranscribeAfter, and a
// transcribed recording is not.
func TestTranscriptionQueuedAndReconciled(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		b := freshRedis(t)
		d := newVoicemailDesk(t, db)
		sched := jobs.NewScheduler(b)
		t.Cleanup(func() { sched.Close() })
		d.svc.SetScheduler(sched)
		handlers := jobs.NewHandlers(d.svc, quiet, nil, sched)
		insp := asynq.NewInspector(b.Opt)
		defer insp.Close()

		res := d.leave(t, 1, "zh")
		id := fmt.Sprintf("transcribe:%d", res.Message.ID)
		task, err := insp.GetTaskInfo("default", id)
		if err != nil {
			t.Fatalf("transcription not queued: %v", err)
		}
		var p struct {
			MessageID int64 `json:"message_id"`
		}
		if json.Unmarshal(task.Payload, &p) != nil || p.MessageID != res.Message.ID || task.Type != jobs.TypeTranscribe || task.MaxRetry != 8 {
			t.Errorf("task %+v payload %s", task, task.Payload)
		}
		if err := sched.Transcribe(ctx, []int64{res.Message.ID}); err != nil {
			t.Errorf("queueing again: %v", err)
		}

		// Redis loses it; the reconciler waits TranscribeAfter, then queues it again.
		if err := insp.DeleteTask("default", id); err != nil {
			t.Fatal(err)
		}
		if err := handlers.ReconcileForTest(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := insp.GetTaskInfo("default", id); err == nil {
			t.Error("queued again before TranscribeAfter")
		}
		d.clock.Advance(tickets.TranscribeAfter + time.Second)
		if err := handlers.ReconcileForTest(ctx); err != nil {
			t.Fatal(err)
		}
		task, err = insp.GetTaskInfo("default", id)
		if err != nil {
			t.Fatalf("the reconciler did not queue the lost transcription: %v", err)
		}
		// The worker runs it; then nothing is left for the reconciler.
		if err := d.tr.ProcessTask(ctx, asynq.NewTask(task.Type, task.Payload)); err != nil {
			t.Fatal(err)
		}
		if body := d.body(t, res); body != mandarin {
			t.Errorf("body %q", body)
		}
		if err := insp.DeleteTask("default", id); err != nil {
			t.Fatal(err)
		}
		d.clock.Advance(time.Hour)
		if err := handlers.ReconcileForTest(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := insp.GetTaskInfo("default", id); err == nil {
			t.Error("a transcribed recording was queued again")
		}
	})
}
