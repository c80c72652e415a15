package tickets

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

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
	res, err := s.intakes.do(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("intake %s message: %w", in.Channel, err)
	}
	return res, nil
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

// IntakeAll stores messages that arrived together (a mailbox's new mail, say) in one
// transaction, as Intake stores each; a message that can't be stored gets its error and
// costs the others nothing.
func (s *Service) IntakeAll(ctx context.Context, ins []Inbound) ([]*IntakeResult, []error) {
	res, errs := make([]*IntakeResult, len(ins)), make([]error, len(ins))
	var ok []Inbound
	var at []int
	for i := range ins {
		in := ins[i]
		if errs[i] = s.checkInbound(&in); errs[i] == nil {
			ok, at = append(ok, in), append(at, i)
		}
	}
	if len(ok) == 0 {
		return res, errs
	}
	stored, failed := s.intakeBatch(ctx, ok)
	for j, i := range at {
		res[i], errs[i] = stored[j], failed[j]
		if errs[i] != nil {
			errs[i] = fmt.Errorf("intake %s message: %w", ins[i].Channel, errs[i])
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

// storeInbound runs intakeTx, then looks up what retried messages had stored and schedules
// the new deadlines and notices. The first attempt takes every provider id for new: a
// retried webhook is rare, and its message's unique key then fails the transaction, which
// is tried again looking for stored messages first. Once the transaction has committed
// nothing fails: every message is stored, and its caller must hear so (a sender told
// "failed" retries, and a webhook's 500 would hide a stored message), so what runs after
// the commit has a context of its own, not the batch's deadline, and a lookup that fails
// leaves the result it would have completed as it is.
func (s *Service) storeInbound(ctx context.Context, ins []Inbound) ([]*IntakeResult, error) {
	var res []*IntakeResult
	lookFirst := false
	err := s.inTx(ctx, func(tx bun.Tx) error {
		var err error
		res, err = s.intakeTx(ctx, tx, ins, lookFirst)
		lookFirst = true
		return err
	})
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

// messageKey is a message's provider id on its channel, unique among stored messages.
type messageKey struct {
	channel Channel
	id      string
}

// identityKey is a customer identity.
type identityKey struct {
	kind  IdentityKind
	value string
}

// intakeTx stores messages in tx with a fixed number of statements, however many there
// are: it finds which are stored already (when lookFirst), locks their customers, reads
// the tickets they may belong to, and writes the new rows together (see writes). Only what a
// message sets off beyond that (a reopened ticket, a complaint, an acknowledgement, a
// survey answer, a voicemail's later part) costs statements of its own.
func (s *Service) intakeTx(ctx context.Context, tx bun.Tx, ins []Inbound, lookFirst bool) ([]*IntakeResult, error) {
	now := s.now()
	res := make([]*IntakeResult, len(ins))
	for i, in := range ins {
		r, err := s.intakeSpecial(ctx, tx, in)
		if err != nil {
			return nil, err
		}
		res[i] = r
	}
	if lookFirst {
		if err := s.markStored(ctx, tx, ins, res); err != nil {
			return nil, err
		}
	}
	owners, fresh, err := s.lockCustomers(ctx, tx, ins, res, now)
	if err != nil {
		return nil, err
	}
	threads, err := s.threadCandidates(ctx, tx, ins, res, owners)
	if err != nil {
		return nil, err
	}

	// Each message goes to the ticket the threading rule picks among the customer's
	// tickets, counting those this batch opens; the first message with none opens one.
	stored := make([]bool, len(ins)) // by the statements below
	newTickets, newMessages := 0, 0
	// A provider id this batch stores a message for is taken: a later message under it is a
	// retry, its result the earlier one's (sameAs), or, when it comes in parts, a later part
	// merged into the earlier message (parts), exactly as a later transaction would.
	firstOf := map[messageKey]int{}
	sameAs := map[int]int{}
	parts := map[int][]Inbound{}
	for i, in := range ins {
		if res[i] != nil {
			continue
		}
		if in.ProviderMessageID != "" {
			k := messageKey{in.Channel, in.ProviderMessageID}
			if f, ok := firstOf[k]; ok {
				if in.Merge {
					parts[f] = append(parts[f], in)
				}
				res[i], sameAs[i] = &IntakeResult{Duplicate: true}, f
				continue
			}
			firstOf[k] = i
		}
		c := owners[identityKey{in.From, in.Address}]
		r := &IntakeResult{Customer: c, Ticket: s.pickThread(threads[c], in.Channel, in.TicketID)}
		if r.Ticket == nil {
			r.Ticket = &Ticket{Channel: in.Channel, Subject: subjectFrom(in.Subject, in.Body), Priority: PriorityNormal, Status: StatusNew}
			r.Created = true
			threads[c] = append(threads[c], r.Ticket)
			newTickets++
		}
		res[i], stored[i] = r, true
		newMessages++
	}

	w := s.writesFor(tx)
	ids, err := w.reserve(ctx, len(fresh), newTickets, newMessages)
	if err != nil {
		return nil, err
	}
	for i, c := range fresh {
		c.ID = ids.customers[i]
		if err := w.add(ctx, tx, c); err != nil {
			return nil, err
		}
		c.Identities[0].CustomerID = c.ID
		if err := w.add(ctx, tx, c.Identities[0]); err != nil {
			return nil, err
		}
	}
	ticketIDs, messageIDs := ids.tickets, ids.messages
	for i, in := range ins {
		if !stored[i] {
			continue
		}
		r, t := res[i], res[i].Ticket
		if r.Created {
			t.CustomerID = r.Customer.ID
			if err := s.openTicket(ctx, tx, w, t, ticketIDs[0], r.Customer, in.Body, customerActor); err != nil {
				return nil, err
			}
			ticketIDs = ticketIDs[1:]
		}
		body, atts := in.Body, in.Attachments
		for _, p := range parts[i] {
			body, atts = mergedParts(body, atts, p)
		}
		m := &Message{
			ID:             messageIDs[0],
			TicketID:       t.ID,
			Direction:      DirectionInbound,
			Channel:        in.Channel,
			Body:           body,
			DeliveryStatus: DeliveryReceived,
		}
		var ignored bool
		m.CreatedAt, ignored = receivedAt(in, now)
		if in.ProviderMessageID != "" {
			m.ProviderMessageID = &in.ProviderMessageID
		}
		if err := s.writeMessage(ctx, tx, w, m, atts); err != nil {
			return nil, err
		}
		messageIDs = messageIDs[1:]
		r.Message = m
		data := map[string]any{"message_id": m.ID, "channel": in.Channel}
		if ignored {
			data["provider_time_ignored"] = in.providerTime()
		}
		ev := s.event(customerActor, "ticket", t.ID, "message.received", data)
		if err := w.add(ctx, tx, ev); err != nil {
			return nil, err
		}
	}
	if err := w.flush(ctx); err != nil {
		return nil, err
	}
	for i, in := range ins {
		if stored[i] {
			if err := s.afterInbound(ctx, tx, in, res[i], now); err != nil {
				return nil, err
			}
		}
	}
	for i, f := range sameAs {
		res[i].Ticket, res[i].Message = res[f].Ticket, res[f].Message
	}
	return res, nil
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

// valuesList renders rows, duplicates dropped, as the rows of a VALUES list. Joined to a
// table's unique key, a VALUES list gives the planner the exact number of lookups, where
// an IN list of many values can make it read the whole table instead.
func valuesList(rows [][]any) schema.QueryWithArgs {
	seen := map[string]bool{}
	var b strings.Builder
	var args []any
	for _, r := range rows {
		k := fmt.Sprintf("%q", r)
		if seen[k] {
			continue
		}
		seen[k] = true
		if len(args) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + strings.TrimSuffix(strings.Repeat("?, ", len(r)), ", ") + ")")
		args = append(args, r...)
	}
	return bun.SafeQuery(b.String(), args...)
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

// intakeSpecial handles, one by one, the messages that may not be new messages at all: a
// later part of a voicemail, merged into its message, and what the Aftercare takes (a
// texted score that answers a satisfaction survey). It returns nil for every other message.
func (s *Service) intakeSpecial(ctx context.Context, tx bun.Tx, in Inbound) (*IntakeResult, error) {
	if in.Merge {
		seen, err := s.stored(ctx, tx, in)
		if err != nil {
			return nil, err
		}
		if seen != nil {
			if err := s.mergeParts(ctx, tx, seen.Message, in); err != nil {
				return nil, err
			}
			return seen, nil
		}
	}
	if s.care == nil {
		return nil, nil
	}
	return s.care.Answer(ctx, s.chapterTx(tx), in)
}

// stored is the Duplicate result of a message whose provider id db holds already, or nil
// when in is new or has no provider id.
func (s *Service) stored(ctx context.Context, db bun.IDB, in Inbound) (*IntakeResult, error) {
	if in.ProviderMessageID == "" {
		return nil, nil
	}
	seen := new(Message)
	err := db.NewSelect().Model(seen).Where("channel = ? AND provider_message_id = ?", in.Channel, in.ProviderMessageID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up provider message id: %w", err)
	}
	t, err := s.ticketByID(ctx, db, seen.TicketID)
	if err != nil {
		return nil, err
	}
	return &IntakeResult{Ticket: t, Message: seen, Duplicate: true}, nil
}

// markStored gives a Duplicate result to each message whose provider id is stored already;
// a retried webhook changes nothing. The result holds the stored message's id and ticket
// id, and is completed after the commit. (A provider id repeated within ins is handled
// where the messages are stored.)
func (s *Service) markStored(ctx context.Context, tx bun.Tx, ins []Inbound, res []*IntakeResult) error {
	var keys [][]any
	for i, in := range ins {
		if res[i] == nil && in.ProviderMessageID != "" {
			keys = append(keys, []any{in.Channel, in.ProviderMessageID})
		}
	}
	if len(keys) == 0 {
		return nil
	}
	var stored []struct {
		ID                int64
		TicketID          int64
		Channel           Channel
		ProviderMessageID string
	}
	if err := tx.NewRaw(`WITH k (channel, id) AS (VALUES ?)
		SELECT m.id, m.ticket_id, m.channel, m.provider_message_id FROM k JOIN messages AS m ON m.channel = k.channel AND m.provider_message_id = k.id`,
		valuesList(keys)).Scan(ctx, &stored); err != nil {
		return fmt.Errorf("look up provider message ids: %w", err)
	}
	seen := make(map[messageKey][2]int64, len(stored))
	for _, m := range stored {
		seen[messageKey{m.Channel, m.ProviderMessageID}] = [2]int64{m.ID, m.TicketID}
	}
	for i, in := range ins {
		if res[i] != nil || in.ProviderMessageID == "" {
			continue
		}
		if ids, ok := seen[messageKey{in.Channel, in.ProviderMessageID}]; ok {
			id := in.ProviderMessageID
			res[i] = &IntakeResult{Duplicate: true, Message: &Message{ID: ids[0], TicketID: ids[1], Channel: in.Channel, ProviderMessageID: &id}}
		}
	}
	return nil
}

// lockCustomers finds the customers who own the messages' identities and locks their rows,
// in id order. The customers it does not find are made up (fresh), to be written with the
// messages. Locking serialises
// concurrent intakes for one customer, so two messages arriving together thread into one
// ticket instead of opening two, and taking the locks in one order means two transactions
// never wait on each other in a circle. A concurrent intake that creates the same identity
// first makes this one's insert fail on the unique key, and the transaction is retried to
// find that customer.
func (s *Service) lockCustomers(ctx context.Context, tx bun.Tx, ins []Inbound, res []*IntakeResult, now time.Time) (owners map[identityKey]*Customer, fresh []*Customer, err error) {
	var keys [][]any
	for i, in := range ins {
		if res[i] == nil {
			keys = append(keys, []any{in.From, in.Address})
		}
	}
	owners = map[identityKey]*Customer{}
	if len(keys) == 0 {
		return owners, nil, nil
	}
	lock := ""
	if s.db.Dialect().Name() == dialect.PG {
		lock = " FOR UPDATE OF c" // SQLite's write transaction holds the whole file already
	}
	var found []struct {
		ID                   int64
		Name, Locale, Tags   string
		CreatedAt, UpdatedAt time.Time
		IdentityKind         IdentityKind
		IdentityValue        string
	}
	if err := tx.NewRaw(`WITH k (kind, value) AS (VALUES ?)
		SELECT c.id, c.name, c.locale, c.tags, c.created_at, c.updated_at, i.kind AS identity_kind, i.value AS identity_value
		FROM k JOIN customer_identities AS i ON i.kind = k.kind AND i.value = k.value JOIN customers AS c ON c.id = i.customer_id
		ORDER BY c.id`+lock, valuesList(keys)).Scan(ctx, &found); err != nil {
		return nil, nil, fmt.Errorf("find customers: %w", err)
	}
	byID := map[int64]*Customer{} // one customer reached by two identities is one Customer
	for _, f := range found {
		c := byID[f.ID]
		if c == nil {
			c = &Customer{ID: f.ID, Name: f.Name, Locale: f.Locale, Tags: f.Tags, CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
			byID[f.ID] = c
		}
		owners[identityKey{f.IdentityKind, f.IdentityValue}] = c
	}

	for i, in := range ins {
		if res[i] != nil {
			continue
		}
		k := identityKey{in.From, in.Address}
		name := strings.TrimSpace(in.Name)
		if c := owners[k]; c != nil {
			// A customer whose language is not known yet takes the one they write in; the
			// condition in the update keeps whatever an agent or an earlier message set.
			if c.Locale == "" && in.Locale != "" {
				c.Locale = in.Locale
				if c.ID != 0 {
					if _, err := tx.NewUpdate().Table("customers").Set("locale = ?", in.Locale).
						Where("id = ? AND locale = ''", c.ID).Exec(ctx); err != nil {
						return nil, nil, fmt.Errorf("set customer locale: %w", err)
					}
				}
			}
			if c.Name == "" && name != "" {
				c.Name = name
				if c.ID == 0 { // created by an earlier message of this batch
					continue
				}
				if _, err := tx.NewUpdate().Model(c).Column("name").WherePK().Exec(ctx); err != nil {
					return nil, nil, fmt.Errorf("name customer: %w", err)
				}
			}
			continue
		}
		c := &Customer{Name: name, Locale: in.Locale, CreatedAt: now, UpdatedAt: now}
		id := &Identity{Kind: in.From, Value: in.Address, CreatedAt: now}
		c.Identities = []*Identity{id}
		owners[k] = c
		fresh = append(fresh, c)
	}
	return owners, fresh, nil
}

// threadCandidates reads, for the known customers, the tickets a message may belong to:
// the ones it names, the active ones, and the ones resolved within the reopen window.
func (s *Service) threadCandidates(ctx context.Context, tx bun.Tx, ins []Inbound, res []*IntakeResult, owners map[identityKey]*Customer) (map[*Customer][]*Ticket, error) {
	var customers [][]any
	named := []int64{0}
	for i, in := range ins {
		if res[i] != nil {
			continue
		}
		if c := owners[identityKey{in.From, in.Address}]; c.ID != 0 { // a new customer has no tickets
			customers = append(customers, []any{c.ID})
		}
		if in.TicketID != 0 {
			named = append(named, in.TicketID)
		}
	}
	threads := map[*Customer][]*Ticket{}
	if len(customers) == 0 {
		return threads, nil
	}
	reopenable := bun.SafeQuery("1 = 0")
	if s.cfg.ReopenWindow > 0 {
		reopenable = bun.SafeQuery("t.status = ? AND t.resolved_at >= ?", StatusResolved, s.now().Add(-s.cfg.ReopenWindow))
	}
	// The customers' tickets are read through the customer_id index alone, one customer
	// after another. The conditions are a CASE, which no other index serves: offered an OR
	// of indexed conditions, PostgreSQL would also scan every active ticket of the desk
	// through the status index. On PostgreSQL the lookups are LATERAL (and kept apart by
	// OFFSET 0), so that a table not yet analyzed is not read whole instead.
	from := bun.SafeQuery("tickets AS t WHERE t.customer_id IN (SELECT id FROM k) AND")
	if s.db.Dialect().Name() == dialect.PG {
		from = bun.SafeQuery("k CROSS JOIN LATERAL (SELECT * FROM tickets WHERE customer_id = k.id OFFSET 0) AS t WHERE")
	}
	var ts []*Ticket
	err := tx.NewRaw(`WITH k (id) AS (VALUES ?) SELECT t.* FROM ?
		CASE WHEN t.status IN (?) THEN 1 WHEN t.id IN (?) AND t.status <> ? THEN 1 WHEN ? THEN 1 ELSE 0 END = 1`,
		valuesList(customers), from, bun.In(activeStatuses), bun.In(named), StatusClosed, reopenable).Scan(ctx, &ts)
	if err != nil {
		return nil, fmt.Errorf("find customers' tickets: %w", err)
	}
	byID := map[int64]*Customer{}
	for _, c := range owners {
		byID[c.ID] = c
	}
	for _, t := range ts {
		c := byID[t.CustomerID]
		threads[c] = append(threads[c], t)
	}
	return threads, nil
}

// threadsByConversation is the threading rule by channel. An email is a conversation of its
// own unless it names one (In-Reply-To/References, resolved by the channel, or [HL-…]):
// a customer's second, unrelated email keeps its subject as a ticket of its own. An SMS,
// WeChat message or call has no such headers and joins the customer's open ticket.
func threadsByConversation(ch Channel) bool { return ch == ChannelEmail }

// pickThread is the ticket a customer's message belongs to: the one it names, when that is
// not closed; else, except for email (see threadsByConversation), the newest active one,
// else the one resolved last within the reopen window; else none. A ticket without an id
// is one opened just now, the newest.
func (s *Service) pickThread(ts []*Ticket, ch Channel, named int64) *Ticket {
	since := s.now().Add(-s.cfg.ReopenWindow)
	ownOnly := threadsByConversation(ch)
	rank := func(t *Ticket) int {
		switch {
		case named != 0 && t.ID == named && t.Status != StatusClosed:
			return 0
		case ownOnly:
			return 3
		case t.Status.Active():
			return 1
		case s.cfg.ReopenWindow > 0 && t.Status == StatusResolved && t.ResolvedAt != nil && !t.ResolvedAt.Before(since):
			return 2
		}
		return 3
	}
	newer := func(a, b *Ticket) bool {
		if a.ID == 0 || b.ID == 0 {
			return a.ID == 0 && b.ID != 0
		}
		if rank(a) == 2 && !a.ResolvedAt.Equal(*b.ResolvedAt) {
			return a.ResolvedAt.After(*b.ResolvedAt)
		}
		return a.ID > b.ID
	}
	var best *Ticket
	for _, t := range ts {
		r := rank(t)
		if r == 3 {
			continue
		}
		if best == nil || r < rank(best) || r == rank(best) && newer(t, best) {
			best = t
		}
	}
	return best
}

// afterInbound is what a stored message sets off: the acknowledgement of a new email or
// WeChat ticket, the reopening of a ticket that waited on the customer or was resolved
// lately, and a complaint when the customer says they complain.
func (s *Service) afterInbound(ctx context.Context, tx bun.Tx, in Inbound, res *IntakeResult, now time.Time) error {
	t := res.Ticket
	// A new email or WeChat ticket is acknowledged with its reference (an SMS is, in the
	// webhook's answer).
	if s.cfg.Notices && res.Created && (in.Channel == ChannelEmail || in.Channel == ChannelWeChat) {
		due := t.FirstResponseDueAt.In(s.cal.loc).Format("2006-01-02 15:04")
		var err error
		if res.Acknowledged, err = s.notify(ctx, tx, t, TemplateAcknowledged, TemplateData{Due: due}); err != nil {
			return err
		}
	}
	// A customer answering a ticket that waits on them, or writing again soon after it was
	// resolved, puts it back in the agent's hands.
	if t.Status == StatusPending || t.Status == StatusResolved {
		if err := s.changeStatus(ctx, tx, t, StatusOpen, customerActor, "customer replied"); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(t).WherePK().ExcludeColumn("id", "created_at").Exec(ctx); err != nil {
			return fmt.Errorf("save ticket: %w", err)
		}
		res.retimed = true
	}
	// 投诉 / "complaint" in the customer's words is a formal complaint, received now.
	source := in.ComplaintSource
	if source == "" && mentionsComplaint(in.Subject+"\n"+in.Body) {
		source = SourceCustomer
	}
	if source != "" {
		opened, err := s.openComplaints(ctx, tx, customerActor, []ComplaintRequest{{TicketID: t.ID, Source: source,
			Summary: subjectFrom(in.Subject, in.Body), ReceivedAt: res.Message.CreatedAt}})
		if err != nil {
			return err
		}
		if len(opened) > 0 {
			res.Complaint = opened[0]
		}
	}
	return nil
}

// complaintKeywords in a customer's message open a complaint.
var complaintKeywords = []string{"投诉", "complaint", "complain"}

func mentionsComplaint(text string) bool {
	lower := strings.ToLower(text)
	for _, k := range complaintKeywords {
		if strings.Contains(lower, k) {
			return true
		}
	}
	return false
}

// customerFor finds the customer who owns an identity, creating both when it is new. A
// concurrent intake that creates the same identity first makes the insert fail on the
// unique key, and the transaction is retried to find that customer.
func (s *Service) customerFor(ctx context.Context, tx bun.IDB, kind IdentityKind, value, name, locale string) (*Customer, error) {
	c := new(Customer)
	err := tx.NewSelect().Model(c).
		Where("id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", kind, value).
		Scan(ctx)
	if err == nil {
		if c.Name == "" && name != "" {
			c.Name = name
			if _, err := tx.NewUpdate().Model(c).Column("name").WherePK().Exec(ctx); err != nil {
				return nil, fmt.Errorf("name customer: %w", err)
			}
		}
		return c, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	now := s.now()
	c = &Customer{Name: strings.TrimSpace(name), Locale: locale, CreatedAt: now, UpdatedAt: now}
	if _, err := tx.NewInsert().Model(c).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create customer: %w", err)
	}
	id := &Identity{CustomerID: c.ID, Kind: kind, Value: value, CreatedAt: now}
	if _, err := tx.NewInsert().Model(id).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create customer identity: %w", err)
	}
	c.Identities = []*Identity{id}
	return c, nil
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

// createTicket routes a new ticket to a team, gives it its deadlines and, when the team has
// someone free, an assignee; then inserts it and records what happened.
func (s *Service) createTicket(ctx context.Context, tx bun.IDB, t *Ticket, c *Customer, body string, actor Actor) error {
	return s.openTicket(ctx, tx, &writes{}, t, 0, c, body, actor)
}

// openTicket is createTicket writing through w; id is the ticket's reserved id, or zero.
func (s *Service) openTicket(ctx context.Context, tx bun.IDB, w *writes, t *Ticket, id int64, c *Customer, body string, actor Actor) error {
	now := s.now()
	t.CreatedAt, t.UpdatedAt, t.SLAStartedAt = now, now, &now
	var rule *RoutingRule
	if t.TeamID == nil {
		var err error
		if rule, err = s.route(ctx, tx, t, c, body); err != nil {
			return err
		}
	}
	if err := s.applyDeadlines(ctx, tx, t); err != nil {
		return err
	}
	autoAssigned := false
	if t.AssigneeID == nil {
		var err error
		if autoAssigned, err = s.autoAssign(ctx, tx, t, w.tickets); err != nil {
			return err
		}
	}
	t.ID = id
	if err := w.add(ctx, tx, t); err != nil {
		return err
	}
	data := map[string]any{"ref": t.Ref(), "channel": t.Channel, "priority": t.Priority, "team_id": t.TeamID,
		"first_response_due_at": t.FirstResponseDueAt, "resolution_due_at": t.ResolutionDueAt}
	if rule != nil {
		data["routing_rule"] = rule.Name
	}
	evs := []*Event{s.event(actor, "ticket", t.ID, "ticket.created", data)}
	if autoAssigned {
		evs = append(evs, s.event(systemActor, "ticket", t.ID, "ticket.assigned", map[string]any{
			"to_assignee": *t.AssigneeID, "to_team": t.TeamID, "reason": "auto-assigned: fewest open tickets in the team",
		}))
	}
	return w.add(ctx, tx, evs)
}

// insertMessage stores a message and its attachments' metadata.
func (s *Service) insertMessage(ctx context.Context, tx bun.IDB, m *Message, atts []NewAttachment) error {
	return s.writeMessage(ctx, tx, &writes{}, m, atts)
}

// writeMessage is insertMessage writing through w.
func (s *Service) writeMessage(ctx context.Context, tx bun.IDB, w *writes, m *Message, atts []NewAttachment) error {
	if err := w.add(ctx, tx, m); err != nil {
		return err
	}
	if len(atts) == 0 {
		return nil
	}
	rows := make([]*Attachment, len(atts))
	for i, a := range atts {
		rows[i] = a.row(m.ID, m.CreatedAt)
		if a.Content != nil {
			sum, err := storeFile(ctx, tx, a.Content)
			if err != nil {
				return err
			}
			rows[i].FileSHA256 = &sum
		}
	}
	if err := w.add(ctx, tx, rows); err != nil {
		return err
	}
	m.Attachments = append(m.Attachments, rows...)
	return nil
}

// storeFile keeps an attachment's content, once per distinct file, and returns its
// SHA-256. It is written at once rather than batched: the row can be large, and nothing
// else in the transaction needs its id.
func storeFile(ctx context.Context, tx bun.IDB, content []byte) (string, error) {
	h := sha256.Sum256(content)
	sum := hex.EncodeToString(h[:])
	_, err := tx.NewInsert().Model(&attachmentFile{SHA256: sum, Content: content}).
		On("CONFLICT (sha256) DO NOTHING").Exec(ctx)
	if err != nil {
		return "", fmt.Errorf("store attachment file: %w", err)
	}
	return sum, nil
}

// subjectFrom is the email subject, or the first line of the text, shortened.
func subjectFrom(subject, body string) string {
	s := strings.TrimSpace(subject)
	if s == "" {
		s, _, _ = strings.Cut(strings.TrimSpace(body), "\n")
		s = strings.TrimSpace(s)
	}
	if s == "" {
		s = "(no text)"
	}
	if utf8.RuneCountInString(s) > maxSubjectRunes {
		s = string([]rune(s)[:maxSubjectRunes-1]) + "…"
	}
	return s
}
