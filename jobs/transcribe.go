package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice/stt"
	"github.com/hotlinedesk/hotline/tickets"
)

// TypeTranscribe transcribes one voicemail's recording with the speech-to-text service.
const TypeTranscribe = "voicemail:transcribe"

type transcribePayload struct {
	MessageID int64 `json:"message_id"`
}

// NewTranscribeTask is the task that transcribes message messageID's recording.
func NewTranscribeTask(messageID int64) *asynq.Task {
	payload, _ := json.Marshal(transcribePayload{MessageID: messageID})
	return asynq.NewTask(TypeTranscribe, payload)
}

// Transcribe queues one transcription task per voicemail message; the id
// transcribe:<message> keeps a message from being queued twice at once.
func (s *Scheduler) Transcribe(ctx context.Context, messageIDs []int64) error {
	var errs []error
	for _, id := range messageIDs {
		_, err := s.client.EnqueueContext(ctx, NewTranscribeTask(id), asynq.TaskID(fmt.Sprintf("transcribe:%d", id)),
			asynq.Queue("default"), asynq.MaxRetry(8), asynq.Timeout(10*time.Minute))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			errs = append(errs, fmt.Errorf("queue transcription of message %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// RecordingFetcher reads a recording's audio with the provider's credentials.
type RecordingFetcher interface {
	Fetch(ctx context.Context, url string, max int64) ([]byte, error)
}

// SpeechToText turns audio into text in a language ("zh", "en").
type SpeechToText interface {
	Transcribe(ctx context.Context, audio []byte, filename, language string) (string, error)
}

// Transcriber is the transcription task: it fetches the recording from Twilio, sends it to
// the speech-to-text service and puts the text in the voicemail's message.
type Transcriber struct {
	svc   *tickets.Service
	media RecordingFetcher // nil: Twilio's credentials are not configured
	stt   SpeechToText     // nil: no service is configured
	log   *slog.Logger
}

// NewTranscriber builds the task; media and speech may be nil when Twilio's credentials or
// the service are not configured, and then each pending recording is recorded as not
// transcribed.
func NewTranscriber(svc *tickets.Service, media RecordingFetcher, speech SpeechToText, log *slog.Logger) *Transcriber {
	if log == nil {
		log = slog.Default()
	}
	return &Transcriber{svc: svc, media: media, stt: speech, log: log}
}

// Register adds the task's handler to mux.
func (t *Transcriber) Register(mux *asynq.ServeMux) { mux.Handle(TypeTranscribe, t) }

// ProcessTask transcribes one recording. The database decides what happens once: a
// recording no longer pending (a retry after success, the reconciler's second task) is
// left alone, and the text is added by a conditional update that only one run wins. A
// refusal that asking again cannot change (the service's 4xx other than 408 and 429, an
// address that is not Twilio's, a file too large) is recorded on the ticket at once;
// anything else is retried with Asynq's back-off, and recorded as a failure when the
// retries run out.
func (t *Transcriber) ProcessTask(ctx context.Context, task *asynq.Task) error {
	var p transcribePayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		return fmt.Errorf("decode transcribe task: %v: %w", err, asynq.SkipRetry)
	}
	rec, err := t.svc.PendingRecording(ctx, p.MessageID)
	if err != nil || rec == nil {
		return err
	}
	// Outcomes are recorded even when the task is being cancelled: the work may be done.
	done := context.WithoutCancel(ctx)
	if t.stt == nil {
		return t.fail(done, rec, "no speech-to-text service is configured (HOTLINE_STT_URL)")
	}
	if t.media == nil {
		return t.fail(done, rec, "the recording cannot be fetched: Twilio's credentials are not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)")
	}
	if rec.Provider != tickets.ProviderTwilio {
		return t.fail(done, rec, fmt.Sprintf("the recording's provider %q is not one Hotline fetches from", rec.Provider))
	}
	audio, err := t.media.Fetch(ctx, rec.URL, twilio.MaxRecordingBytes)
	if errors.Is(err, twilio.ErrNotRecording) || errors.Is(err, twilio.ErrTooLarge) {
		return t.fail(done, rec, "recording not fetched: "+err.Error())
	}
	if err != nil {
		return t.retry(done, rec, fmt.Errorf("fetch recording: %w", err))
	}
	text, err := t.stt.Transcribe(ctx, audio, rec.Filename, rec.Language)
	if stt.Permanent(err) {
		return t.fail(done, rec, err.Error())
	}
	if err != nil {
		return t.retry(done, rec, err)
	}
	added, err := t.svc.AddTranscript(done, rec, text)
	if err != nil {
		return err
	}
	if added {
		t.log.Info("voicemail transcribed", "message", rec.MessageID, "language", rec.Language)
	}
	return nil
}

// fail records that the recording will not be transcribed; the task ends.
func (t *Transcriber) fail(ctx context.Context, rec *tickets.Recording, reason string) error {
	t.log.Warn("voicemail not transcribed", "message", rec.MessageID, "reason", reason)
	_, err := t.svc.TranscriptFailed(ctx, rec, reason)
	return err
}

// retry hands a passing failure back to Asynq, or records it when this was the last try.
func (t *Transcriber) retry(ctx context.Context, rec *tickets.Recording, err error) error {
	retried, _ := asynq.GetRetryCount(ctx)
	if most, ok := asynq.GetMaxRetry(ctx); ok && retried >= most {
		return t.fail(ctx, rec, "gave up after retries: "+err.Error())
	}
	t.log.Info("voicemail transcription will be retried", "message", rec.MessageID, "retried", retried, "err", err)
	return err
}

// retranscribe queues again the recordings whose transcription task was lost.
func (h *Handlers) retranscribe(ctx context.Context) error {
	if h.sched == nil {
		return nil
	}
	ids, err := h.svc.StalledTranscripts(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	return h.sched.Transcribe(ctx, ids)
}
