package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// ProviderTwilio marks a Twilio call recording: Hotline fetches it with the account's
// credentials, to transcribe it and to play it to agents.
const ProviderTwilio = "twilio"

// Transcript states of a recording Hotline transcribes.
const (
	TranscriptPending = "pending"
	TranscriptDone    = "done"
	TranscriptFailed  = "failed"
)

// VoicemailAwaits is a voicemail's text until a transcript takes its place, and for good
// when none comes (no speech-to-text service for its language, or it failed): agents see
// that a recording waits to be listened to, never an empty or made-up transcript. Both
// languages, as the console is read in either.
const VoicemailAwaits = "录音留言，请收听录音。/ Voicemail: please listen to the recording."

// mergeText is a message's text with a later part's added: the part's text unless already
// there, in place of the voicemail's VoicemailAwaits, which never follows a transcript.
func mergeText(body, more string) string {
	more = strings.TrimSpace(more)
	switch {
	case more == "" || strings.Contains(body, more):
		return body
	case more == VoicemailAwaits && body != "":
		return body
	case body == "" || body == VoicemailAwaits:
		return more
	}
	return body + "\n" + more
}

// TranscriptScheduler is the part of a Scheduler that queues transcriptions. A scheduler
// without it leaves them to the reconciler (StalledTranscripts).
type TranscriptScheduler interface {
	Transcribe(ctx context.Context, messageIDs []int64) error
}

// transcripts lists the stored messages whose intake asked for a transcription. A retried
// intake asks again: the task id and the pending state make that harmless.
func transcripts(ins []Inbound, res []*IntakeResult) []int64 {
	var ids []int64
	for i, in := range ins {
		if res[i] == nil || res[i].Message == nil {
			continue
		}
		for _, a := range in.Attachments {
			if a.TranscriptLang != "" {
				ids = append(ids, res[i].Message.ID)
				break
			}
		}
	}
	return ids
}

// queueTranscripts hands messages whose recordings wait for a transcript to the job
// system after a commit.
func (s *Service) queueTranscripts(ctx context.Context, ids []int64) {
	ts, ok := s.scheduler.(TranscriptScheduler)
	if !ok || len(ids) == 0 {
		return
	}
	if err := ts.Transcribe(ctx, ids); err != nil {
		s.log.Warn("could not queue voicemail transcriptions; the reconciler will", "messages", len(ids), "err", err)
	}
}

// Recording is a voicemail recording waiting for its transcript.
type Recording struct {
	AttachmentID int64
	MessageID    int64
	TicketID     int64
	URL          string
	Filename     string
	Provider     string
	Language     string // "zh", "en"
}

// PendingRecording is message messageID's recording still waiting for a transcript, or
// nil when it has none waiting (transcribed, failed, or never asked for).
func (s *Service) PendingRecording(ctx context.Context, messageID int64) (*Recording, error) {
	var rows []struct {
		ID             int64
		MessageID      int64
		TicketID       int64
		URL            string
		Filename       string
		Provider       string
		TranscriptLang string
	}
	err := s.db.NewSelect().TableExpr("attachments AS a").Join("JOIN messages AS m ON m.id = a.message_id").
		ColumnExpr("a.id, a.message_id, m.ticket_id, a.url, a.filename, a.provider, a.transcript_lang").
		Where("a.message_id = ? AND a.transcript_state = ?", messageID, TranscriptPending).
		OrderExpr("a.id").Limit(1).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load recording of message %d: %w", messageID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	r := rows[0]
	return &Recording{AttachmentID: r.ID, MessageID: r.MessageID, TicketID: r.TicketID, URL: r.URL, Filename: r.Filename,
		Provider: r.Provider, Language: r.TranscriptLang}, nil
}

// settleTranscript moves a recording from pending to state in tx; false when it was not
// pending any more (a retried or concurrent task got there first). The database decides:
// only one transaction's conditional update finds the row pending.
func settleTranscript(ctx context.Context, tx bun.Tx, attachmentID int64, state string) (bool, error) {
	res, err := tx.NewUpdate().Table("attachments").Set("transcript_state = ?", state).
		Where("id = ? AND transcript_state = ?", attachmentID, TranscriptPending).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("settle transcript: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("settle transcript: %w", err)
	}
	return n == 1, nil
}

// AddTranscript puts a recording's transcript in its message's text, in place of
// VoicemailAwaits, once: it reports false, changing nothing, when the recording was
// settled already. A transcript with no words is recorded as a failure.
func (s *Service) AddTranscript(ctx context.Context, r *Recording, text string) (bool, error) {
	text = strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(text, ""), "\x00", ""))
	if text == "" {
		return s.TranscriptFailed(ctx, r, "no speech was recognised in the recording")
	}
	if len(text) > MaxBodyBytes {
		cut := MaxBodyBytes
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		text = text[:cut]
	}
	added := false
	err := s.inTx(ctx, func(tx bun.Tx) error {
		added = false
		ok, err := settleTranscript(ctx, tx, r.AttachmentID, TranscriptDone)
		if err != nil || !ok {
			return err
		}
		m := new(Message)
		if err := tx.NewSelect().Model(m).Where("id = ?", r.MessageID).Scan(ctx); err != nil {
			return fmt.Errorf("load voicemail message: %w", err)
		}
		if body := mergeText(m.Body, text); body != m.Body {
			if _, err := tx.NewUpdate().Model(m).Set("body = ?", body).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("add transcript: %w", err)
			}
		}
		added = true
		return s.record(ctx, tx, systemActor, "ticket", m.TicketID, "voicemail.transcribed", map[string]any{
			"message_id": m.ID, "language": r.Language, "characters": utf8.RuneCountInString(text)})
	})
	if err != nil {
		return false, err
	}
	return added, nil
}

// TranscriptFailed records that a recording will not be transcribed, and why, on its
// ticket; the message keeps VoicemailAwaits. It reports false when the recording was
// settled already.
func (s *Service) TranscriptFailed(ctx context.Context, r *Recording, reason string) (bool, error) {
	if len(reason) > 500 {
		reason = strings.ToValidUTF8(reason[:500], "") + "…"
	}
	recorded := false
	err := s.inTx(ctx, func(tx bun.Tx) error {
		recorded = false
		ok, err := settleTranscript(ctx, tx, r.AttachmentID, TranscriptFailed)
		if err != nil || !ok {
			return err
		}
		var ticketID int64
		if err := tx.NewSelect().Table("messages").Column("ticket_id").Where("id = ?", r.MessageID).Scan(ctx, &ticketID); err != nil {
			return fmt.Errorf("load voicemail message: %w", err)
		}
		recorded = true
		return s.record(ctx, tx, systemActor, "ticket", ticketID, "voicemail.transcription_failed", map[string]any{
			"message_id": r.MessageID, "language": r.Language, "reason": reason})
	})
	if err != nil {
		return false, err
	}
	return recorded, nil
}

// TranscribeAfter is how long a recording may wait for its transcript before the
// reconciler decides its task was lost and queues it again; recordings older than
// stalledFor are left alone (their task has long given up or been handled).
const (
	TranscribeAfter = 2 * time.Minute
	stalledFor      = 24 * time.Hour
	stalledBatch    = 100
)

// StalledTranscripts lists the messages whose recording has waited for a transcript
// longer than TranscribeAfter (within the last day), oldest first.
func (s *Service) StalledTranscripts(ctx context.Context) ([]int64, error) {
	now := s.now()
	var ids []int64
	err := s.db.NewSelect().Table("attachments").ColumnExpr("message_id").
		Where("transcript_state = ? AND created_at < ? AND created_at > ?", TranscriptPending, now.Add(-TranscribeAfter), now.Add(-stalledFor)).
		GroupExpr("message_id").OrderExpr("MIN(created_at)").Limit(stalledBatch).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find stalled transcriptions: %w", err)
	}
	return ids, nil
}

// mergeParts adds a later part of a message: its text, unless already there, and the
// attachments not yet stored.
func (s *Service) mergeParts(ctx context.Context, tx bun.IDB, m *Message, in Inbound) error {
	if body := mergeText(m.Body, in.Body); body != m.Body {
		if _, err := tx.NewUpdate().Model(m).Set("body = ?", body).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("add message text: %w", err)
		}
		m.Body = body
	}
	var urls []string
	if err := tx.NewSelect().Table("attachments").Column("url").Where("message_id = ?", m.ID).Scan(ctx, &urls); err != nil {
		return fmt.Errorf("load attachments: %w", err)
	}
	var fresh []NewAttachment
	for _, a := range in.Attachments {
		if !slices.Contains(urls, a.URL) {
			fresh = append(fresh, a)
		}
	}
	for _, a := range fresh {
		row := a.row(m.ID, s.now())
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
	}
	return nil
}

// mergedParts is a message's text and attachments with a later part of it added, as
// mergeParts adds one to a stored message: its text unless already there, and the
// attachments not yet kept.
func mergedParts(body string, atts []NewAttachment, in Inbound) (string, []NewAttachment) {
	body = mergeText(body, in.Body)
	atts = slices.Clone(atts)
	for _, a := range in.Attachments {
		if !slices.ContainsFunc(atts, func(b NewAttachment) bool { return b.URL == a.URL }) {
			atts = append(atts, a)
		}
	}
	return body, atts
}
