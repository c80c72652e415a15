package tickets_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// queued is a scheduler that remembers the transcriptions it was asked to queue.
type queued struct {
	mu  sync.Mutex
	ids []int64
}

func (q *queued) Schedule(context.Context, []tickets.Timer) error { return nil }
func (q *queued) Deliver(context.Context, []int64) error          { return nil }
func (q *queued) Transcribe(_ context.Context, ids []int64) error {
	q.mu.Lock()
	q.ids = append(q.ids, ids...)
	q.mu.Unlock()
	return nil
}

// voicemailIn is a voicemail's recording part as the Twilio webhook stores it.
func voicemailIn(call, from, lang string) tickets.Inbound {
	return tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: from,
		ProviderMessageID: "voicemail:" + call, Merge: true, Subject: "电话留言 Voicemail", Body: tickets.VoicemailAwaits,
		Attachments: []tickets.NewAttachment{{Filename: "recording-" + call + ".mp3", ContentType: "audio/mpeg",
			URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/" + call + ".mp3", Provider: tickets.ProviderTwilio, TranscriptLang: lang}}}
}

func eventsOf(t *testing.T, svc *tickets.Service, ticketID int64, kind string) []*tickets.Event {
	t.Helper()
	d, err := svc.Ticket(context.Background(), tickets.FormatRef(ticketID))
	if err != nil {
		t.Fatal(err)
	}
	var out []*tickets.Event
	for _, e := range d.Events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func messageBody(t *testing.T, svc *tickets.Service, ticketID, messageID int64) string {
	t.Helper()
	d, err := svc.Ticket(context.Background(), tickets.FormatRef(ticketID))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range d.Messages {
		if m.ID == messageID {
			return m.Body
		}
	}
	t.Fatalf("message %d not on %s", messageID, tickets.FormatRef(ticketID))
	return ""
}

// A voicemail's transcript replaces "please listen" once, whoever asks how often; a
// failure is recorded once and leaves the placeholder; the database decides.
func TestVoicemailTranscript(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC))
		svc := tickettest.Service(db, clock)
		q := &queued{}
		svc.SetScheduler(q)

		res, err := svc.Intake(ctx, voicemailIn("CA1", "+8613800138000", "zh"))
		if err != nil {
			t.Fatal(err)
		}
		m := res.Message
		if m.Body != tickets.VoicemailAwaits || len(m.Attachments) != 1 || m.Attachments[0].TranscriptState != tickets.TranscriptPending ||
			!m.Attachments[0].Fetched() {
			t.Fatalf("stored voicemail: %q %+v", m.Body, m.Attachments)
		}
		// Twilio retrying the recording callback queues it again: harmless, the task id is one.
		if _, err := svc.Intake(ctx, voicemailIn("CA1", "+8613800138000", "zh")); err != nil {
			t.Fatal(err)
		}
		if len(q.ids) != 2 || q.ids[0] != m.ID || q.ids[1] != m.ID {
			t.Errorf("queued %v, want message %d twice", q.ids, m.ID)
		}

		rec, err := svc.PendingRecording(ctx, m.ID)
		if err != nil || rec == nil || rec.Language != "zh" || rec.Provider != tickets.ProviderTwilio || rec.TicketID != res.Ticket.ID ||
			!strings.HasSuffix(rec.URL, "CA1.mp3") {
			t.Fatalf("pending recording %+v %v", rec, err)
		}

		// Two tasks at once (a retry and the reconciler's): one adds the text.
		const text = "您好，我想问一下理赔进度。"
		var wg sync.WaitGroup
		added := make([]bool, 4)
		for i := range added {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := svc.AddTranscript(ctx, rec, text)
				if err != nil {
					t.Error(err)
				}
				added[i] = ok
			}()
		}
		wg.Wait()
		n := 0
		for _, ok := range added {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d runs added the transcript, want 1", n)
		}
		if body := messageBody(t, svc, res.Ticket.ID, m.ID); body != text {
			t.Errorf("body %q, want the transcript alone", body)
		}
		if evs := eventsOf(t, svc, res.Ticket.ID, "voicemail.transcribed"); len(evs) != 1 || strings.Contains(evs[0].Data, text) {
			t.Errorf("transcribed events %+v (once, without the text)", evs)
		}
		if ok, err := svc.TranscriptFailed(ctx, rec, "late"); ok || err != nil {
			t.Errorf("a failure after the transcript was recorded: %v %v", ok, err)
		}
		if rec, err := svc.PendingRecording(ctx, m.ID); rec != nil || err != nil {
			t.Errorf("still pending: %+v %v", rec, err)
		}

		// A permanent failure is recorded once; the message keeps saying "please listen".
		res2, err := svc.Intake(ctx, voicemailIn("CA2", "+8613900139000", "zh"))
		if err != nil {
			t.Fatal(err)
		}
		rec2, _ := svc.PendingRecording(ctx, res2.Message.ID)
		for range 2 {
			if _, err := svc.TranscriptFailed(ctx, rec2, "speech-to-text service answered 400: unsupported format"); err != nil {
				t.Fatal(err)
			}
		}
		if ok, _ := svc.AddTranscript(ctx, rec2, "too late"); ok {
			t.Error("a transcript after the failure was added")
		}
		evs := eventsOf(t, svc, res2.Ticket.ID, "voicemail.transcription_failed")
		if len(evs) != 1 || !strings.Contains(evs[0].Data, "unsupported format") {
			t.Errorf("failure events %+v", evs)
		}
		if body := messageBody(t, svc, res2.Ticket.ID, res2.Message.ID); body != tickets.VoicemailAwaits {
			t.Errorf("failed voicemail's body %q", body)
		}

		// Silence is not a transcript.
		res3, _ := svc.Intake(ctx, voicemailIn("CA3", "+8613700137000", "zh"))
		rec3, _ := svc.PendingRecording(ctx, res3.Message.ID)
		if ok, err := svc.AddTranscript(ctx, rec3, "  \x00 "); !ok || err != nil {
			t.Errorf("empty transcript: %v %v", ok, err)
		}
		if body := messageBody(t, svc, res3.Ticket.ID, res3.Message.ID); body != tickets.VoicemailAwaits ||
			len(eventsOf(t, svc, res3.Ticket.ID, "voicemail.transcription_failed")) != 1 {
			t.Errorf("empty transcript: body %q", body)
		}

		// Without a language nothing waits, and nothing is queued.
		q.ids = nil
		res4, _ := svc.Intake(ctx, voicemailIn("CA4", "+8613600136000", ""))
		if rec, _ := svc.PendingRecording(ctx, res4.Message.ID); rec != nil || len(q.ids) != 0 {
			t.Errorf("a recording without a language waits: %+v, queued %v", rec, q.ids)
		}
	})
}

// The reconciler finds recordings whose task was lost: pending for a while, within a day.
func TestStalledTranscripts(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		clock := tickettest.NewClock(time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC))
		svc := tickettest.Service(db, clock)
		old, _ := svc.Intake(ctx, voicemailIn("CA1", "+8613800138000", "zh"))
		clock.Advance(23 * time.Hour)
		fresh, _ := svc.Intake(ctx, voicemailIn("CA2", "+8613900139000", "zh"))
		done, _ := svc.Intake(ctx, voicemailIn("CA3", "+8613700137000", "en"))
		rec, _ := svc.PendingRecording(ctx, done.Message.ID)
		if _, err := svc.AddTranscript(ctx, rec, "call me back"); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			after time.Duration
			want  []int64
		}{
			{0, []int64{old.Message.ID}},
			{tickets.TranscribeAfter + time.Second, []int64{old.Message.ID, fresh.Message.ID}},
			{time.Hour + time.Second, []int64{fresh.Message.ID}}, // the old one is past a day
		} {
			clock.Advance(c.after)
			ids, err := svc.StalledTranscripts(ctx)
			if err != nil || len(ids) != len(c.want) {
				t.Fatalf("after %s: %v %v, want %v", c.after, ids, err, c.want)
			}
			for i := range ids {
				if ids[i] != c.want[i] {
					t.Errorf("after %s: %v, want %v", c.after, ids, c.want)
				}
			}
		}
	})
}

// Twilio's own transcription and the recording arrive in either order; the placeholder
// never follows a transcript and always gives way to one.
func TestVoicemailPlaceholderMerge(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC)))
		transcript := func(call, from string) tickets.Inbound {
			return tickets.Inbound{Channel: tickets.ChannelPhone, From: tickets.IdentityPhone, Address: from,
				ProviderMessageID: "voicemail:" + call, Merge: true, Subject: "电话留言 Voicemail", Body: "Please call me back"}
		}
		recording := func(call, from string) tickets.Inbound { return voicemailIn(call, from, "") }
		for i, order := range [][]func(call, from string) tickets.Inbound{{recording, transcript}, {transcript, recording}} {
			call, from := fmt.Sprintf("CA%d", i), fmt.Sprintf("+1415555012%d", i)
			var last *tickets.IntakeResult
			for _, part := range order {
				r, err := svc.Intake(ctx, part(call, from))
				if err != nil {
					t.Fatal(err)
				}
				last = r
			}
			if body := messageBody(t, svc, last.Ticket.ID, last.Message.ID); body != "Please call me back" {
				t.Errorf("order %d: body %q", i, body)
			}
		}
	})
}
