package tickets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// The way in for customers' messages: the Inbound a channel hands over and what Intake
// makes of it, the checks a message passes before it is stored, and how messages that
// arrive together share one transaction (Intake, IntakeAll; the batcher in batch.go) and
// what runs after it commits. The transaction itself is intakeTx (intake_tx.go).

// Inbound is one message from a customer, as a channel parsed it from its provider's wire
// format.
type Inbound struct {
	Channel           Channel
	ProviderMessageID string // unique per channel; empty when the provider gives none
	From              IdentityKind
	Address           string // phone number, email address or openid, in the provider's form
	Name              string // the customer's name, when the channel knows it
	Locale            string // e.g. "zh-CN", "en"
	Subject           string // email subject; other channels leave it empty
	Body              string
	Attachments       []NewAttachment
	ReceivedAt        time.Time // zero means now
	// ProviderTime is the provider's own words for ReceivedAt (WeChat's CreateTime), kept
	// for the audit event when that time is not believed, or could not be read as a time
	// at all (ReceivedAt then zero).
	ProviderTime string
	// TicketID threads the message to this ticket when it belongs to the same customer
	// (an email In-Reply-To the channel resolved). A reference quoted in the text is found
	// by Intake itself.
	TicketID int64
	// Merge says the provider delivers this message in parts under one id (a voicemail's
	// recording and its transcription): a later part adds its text and attachments to the
	// stored message instead of being dropped as a retry.
	Merge bool
	// ComplaintSource opens a complaint with the message (the phone menu's complaint
	// option); the words 投诉 / complaint in the text do so too, as source "customer".
	ComplaintSource ComplaintSource
}

// NewAttachment describes a file that came with a message: where the provider keeps it
// (URL), or its Content, which Hotline then keeps (email attachments).
type NewAttachment struct {
	Filename    string
	ContentType string
	SizeBytes   int64
	URL         string
	Content     []byte
	// Provider is whose credentials Hotline fetches URL with to serve the file
	// (ProviderTwilio); empty when the file is kept (Content) or not fetched.
	Provider string
	// TranscriptLang asks Hotline's speech-to-text service to transcribe the recording in
	// this language ("zh", "en"); the message's text then becomes the transcript.
	TranscriptLang string

	// key is Content's key when keepAttachments put it in the store before the transaction.
	key string
}

// row is the attachment's row on message messageID.
func (a NewAttachment) row(messageID int64, at time.Time) *Attachment {
	r := &Attachment{MessageID: messageID, Filename: a.Filename, ContentType: a.ContentType, SizeBytes: a.SizeBytes, URL: a.URL,
		Provider: a.Provider, TranscriptLang: a.TranscriptLang, CreatedAt: at}
	if a.TranscriptLang != "" {
		r.TranscriptState = TranscriptPending
	}
	return r
}

// IntakeResult says what Intake did.
type IntakeResult struct {
	Ticket    *Ticket
	Message   *Message
	Created   bool             // a new ticket was opened
	Duplicate bool             // the provider message id was seen before; nothing was stored
	Complaint *OpenedComplaint // opened because the customer said they complain
	// Acknowledged is the acknowledgement queued to the customer of a new email or WeChat
	// ticket (an SMS is acknowledged in the webhook's answer).
	Acknowledged int64
	Customer     *Customer
	// Answered says the message answered what followed a resolution (a satisfaction
	// survey, see Aftercare.Answer): the answer is recorded and the message stored on that
	// ticket, which stays resolved.
	Answered bool
	// retimed says the ticket's deadlines were set again (it was reopened).
	retimed bool
}

const (
	// MaxBodyBytes bounds the text of a message, a note or a description (64 KiB); the
	// chapters bound their notes with it too.
	MaxBodyBytes    = 64 << 10
	maxSubjectRunes = 200
	// MaxProviderIDBytes bounds a provider's message id: an email Message-ID may fill a
	// 998-byte header line, and the rest is room for prefixes such as "voicemail:". Longer
	// ids are sent by no provider, and PostgreSQL could not index them (its btree entries
	// stop near 2,700 bytes: a 500 instead of a refusal).
	MaxProviderIDBytes = 1024
	// providerTimeSkew and providerTimeMaxAge bound the time a provider says a message
	// arrived: a clock a little ahead is believed as now, and a time further off either
	// way is not believed at all (the arrival time is stored, and the event says so).
	providerTimeSkew   = 5 * time.Minute
	providerTimeMaxAge = 7 * 24 * time.Hour
)

// Intake stores an inbound message: it finds or creates the customer by identity, threads
// the message to the ticket it names or, except for an email (threadsByConversation), to the
// customer's active ticket, or opens a new one, and records the events,
// all in one transaction. A message whose provider id was already stored changes nothing.
// Messages that arrive together are stored together: concurrent calls share transactions
// (see batcher), and each returns once its message is committed.
func (s *Service) Intake(ctx context.Context, in Inbound) (*IntakeResult, error) {
	if err := s.checkInbound(&in); err != nil {
		return nil, err
	}
	atts := in.Attachments
	for try := 1; ; try++ {
		var err error
		if in.Attachments, err = s.keepAttachments(ctx, atts); err != nil {
			return nil, fmt.Errorf("intake %s message: %w", in.Channel, err)
		}
		res, err := s.intakes.do(ctx, in)
		if errors.Is(err, errFileGone) && try < maxFileKeeps {
			continue // a sweep took a file while this writer stalled: keep it again
		}
		if err != nil {
			return nil, fmt.Errorf("intake %s message: %w", in.Channel, err)
		}
		return res, nil
	}
}

// maxLocaleBytes bounds a customer's language tag: BCP 47 tags in practical use fit in 35.
const maxLocaleBytes = 35

// checkInbound refuses a message Hotline can't store, puts its address in canonical form,
// and takes a ticket reference quoted in its text as the ticket it names.
func (s *Service) checkInbound(in *Inbound) error {
	if !in.Channel.Valid() {
		return invalidf("unknown channel %q", in.Channel)
	}
	address, err := normalizeIdentity(in.From, in.Address, s.cfg.DefaultCountry)
	if err != nil {
		return err
	}
	in.Address = address
	// A language tag is a hint (an email's Content-Language, say): one that cannot be a tag
	// is ignored rather than costing the customer their message.
	if in.Locale = strings.TrimSpace(in.Locale); len(in.Locale) > maxLocaleBytes || !utf8.ValidString(in.Locale) || strings.ContainsRune(in.Locale, 0) {
		in.Locale = ""
	}
	if strings.TrimSpace(in.Body) == "" && len(in.Attachments) == 0 {
		return invalidf("message has neither text nor attachments")
	}
	if len(in.Body) > MaxBodyBytes {
		return invalidf("message body is %d bytes, more than the %d allowed", len(in.Body), MaxBodyBytes)
	}
	if !utf8.ValidString(in.Body) || !utf8.ValidString(in.Subject) || !utf8.ValidString(in.Name) {
		return invalidf("message text is not valid UTF-8")
	}
	if strings.ContainsRune(in.Body+in.Subject+in.Name, 0) {
		return invalidf("message text holds a NUL character") // PostgreSQL stores no text with one
	}
	if len(in.ProviderMessageID) > MaxProviderIDBytes {
		return invalidf("provider message id is %d bytes, more than the %d allowed", len(in.ProviderMessageID), MaxProviderIDBytes)
	}
	if !utf8.ValidString(in.ProviderMessageID) || strings.ContainsRune(in.ProviderMessageID, 0) {
		return invalidf("provider message id is not valid UTF-8 text")
	}
	if in.TicketID == 0 {
		in.TicketID = quotedTicket(in.Subject + "\n" + in.Body)
	}
	return nil
}

// receivedAt is when the provider says the message arrived, or now when it says nothing
// believable: every channel's provider time passes here before it reaches the database.
// ignored says a time was given and not believed. A time far off is a wrong clock or a
// forgery, and stored it would break the pages that show it (SQLite keeps no year beyond
// 9999) and the deadlines counted from it.
func receivedAt(in Inbound, now time.Time) (at time.Time, ignored bool) {
	t := in.ReceivedAt
	switch {
	case t.IsZero():
		return now, in.ProviderTime != ""
	case t.After(now.Add(providerTimeSkew)) || t.Before(now.Add(-providerTimeMaxAge)):
		return now, true
	case t.After(now): // a clock slightly ahead: the message arrived now
		return now, false
	}
	return t.UTC().Truncate(time.Microsecond), false
}

// providerTime is the time the provider gave, as it gave it when the channel kept that.
func (in Inbound) providerTime() string {
	if in.ProviderTime != "" {
		return in.ProviderTime
	}
	return in.ReceivedAt.UTC().Format(time.RFC3339Nano)
}

// IntakeAll stores messages that arrived together (a mailbox's new mail, say) in one
// transaction, as Intake stores each; a message that can't be stored gets its error and
// costs the others nothing.
func (s *Service) IntakeAll(ctx context.Context, ins []Inbound) ([]*IntakeResult, []error) {
	res, errs := make([]*IntakeResult, len(ins)), make([]error, len(ins))
	checked := make([]Inbound, len(ins))
	var pending []int
	for i := range ins {
		checked[i] = ins[i]
		if errs[i] = s.checkInbound(&checked[i]); errs[i] == nil {
			pending = append(pending, i)
		}
	}
	// A message whose file a sweep took while this writer stalled (errFileGone) keeps its
	// files again and is tried again, a bounded number of times.
	for try := 1; len(pending) > 0; try++ {
		var ok []Inbound
		var at []int
		for _, i := range pending {
			in := checked[i]
			if in.Attachments, errs[i] = s.keepAttachments(ctx, in.Attachments); errs[i] == nil {
				ok, at = append(ok, in), append(at, i)
			}
		}
		pending = nil
		if len(ok) == 0 {
			break
		}
		stored, failed := s.intakeBatch(ctx, ok)
		for j, i := range at {
			res[i], errs[i] = stored[j], failed[j]
			if errors.Is(errs[i], errFileGone) && try < maxFileKeeps {
				pending = append(pending, i)
				continue
			}
			if errs[i] != nil {
				errs[i] = fmt.Errorf("intake %s message: %w", ins[i].Channel, errs[i])
			}
		}
	}
	return res, errs
}

// intakeBatch stores checked messages in one transaction and then hands their timers and
// notices to the scheduler. When the transaction fails, each message is tried on its own,
// so that one message that can't be stored never costs the others theirs.
func (s *Service) intakeBatch(ctx context.Context, ins []Inbound) ([]*IntakeResult, []error) {
	res, err := s.storeInbound(ctx, ins)
	errs := make([]error, len(ins))
	if err == nil {
		return res, errs
	}
	if len(ins) == 1 {
		errs[0] = err
		return make([]*IntakeResult, 1), errs
	}
	res = make([]*IntakeResult, len(ins))
	for i := range ins {
		one, err := s.storeInbound(ctx, ins[i:i+1])
		if err != nil {
			errs[i] = err
			continue
		}
		res[i] = one[0]
	}
	return res, errs
}

// storeInbound stores messages on the plain path (intake_plain.go) or, when they are not
// plain, with intakeTx, then looks up what retried messages had stored and schedules
// the new deadlines and notices. The first attempt takes every provider id for new: a
// retried webhook is rare, and its message's unique key then fails the transaction, which
// is tried again looking for stored messages first. Once the transaction has committed
// nothing fails: every message is stored, and its caller must hear so (a sender told
// "failed" retries, and a webhook's 500 would hide a stored message), so what runs after
// the commit has a context of its own, not the batch's deadline, and a lookup that fails
// leaves the result it would have completed as it is.
func (s *Service) storeInbound(ctx context.Context, ins []Inbound) ([]*IntakeResult, error) {
	res, lookFirst, err := s.storePlain(ctx, ins)
	if errors.Is(err, errNotPlain) {
		err = s.inTx(ctx, func(tx bun.Tx) error {
			var err error
			res, err = s.intakeTx(ctx, tx, ins, lookFirst)
			lookFirst = true
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	if h := s.intakes.hooks.committed; h != nil {
		h(ins)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postCommitTimeout)
	defer cancel()
	var timers []Timer
	var notices []int64
	for i, r := range res {
		if r.Duplicate {
			if r.Ticket == nil { // stored by an earlier transaction
				res[i] = s.storedMessage(ctx, ins[i], r)
			}
			continue
		}
		// A ticket's timers were set when its deadlines were; they are set again only when
		// the deadlines are new (a new or reopened ticket).
		if r.Created || r.retimed {
			timers = append(timers, r.Ticket.timers()...)
		}
		if r.Complaint != nil {
			timers = append(timers, r.Complaint.Timers...)
			notices = append(notices, r.Complaint.Receipt)
		}
		notices = append(notices, r.Acknowledged)
	}
	s.schedule(ctx, timers)
	s.deliver(ctx, notices...)
	s.queueTranscripts(ctx, transcripts(ins, res))
	return res, nil
}

// postCommitTimeout bounds what runs after an intake transaction commits: lookups and
// handing timers and notices to the scheduler.
const postCommitTimeout = 10 * time.Second

// storedMessage completes the result of a message whose provider id an earlier transaction
// stored: known holds the stored message's id and ticket id. When the lookup fails, the
// message is still stored, so the caller gets known, its ticket known by id alone.
func (s *Service) storedMessage(ctx context.Context, in Inbound, known *IntakeResult) *IntakeResult {
	full, err := s.lookupStored(ctx, in)
	if err != nil {
		s.log.Warn("stored message not read back after intake; answering with its ids", "channel", in.Channel,
			"message_id", known.Message.ID, "ticket", FormatRef(known.Message.TicketID), "err", err)
		known.Ticket = &Ticket{ID: known.Message.TicketID}
		return known
	}
	return full
}

// lookupStored reads the message stored under in's provider id, with its ticket.
func (s *Service) lookupStored(ctx context.Context, in Inbound) (*IntakeResult, error) {
	if h := s.intakes.hooks.lookup; h != nil {
		if err := h(ctx, in); err != nil {
			return nil, err
		}
	}
	m := new(Message)
	if err := s.db.NewSelect().Model(m).Where("channel = ? AND provider_message_id = ?", in.Channel, in.ProviderMessageID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load stored message: %w", err)
	}
	t, err := s.ticketByID(ctx, s.db, m.TicketID)
	if err != nil {
		return nil, err
	}
	return &IntakeResult{Ticket: t, Message: m, Duplicate: true}, nil
}
