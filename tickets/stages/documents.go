package stages

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/tickets"
)

// Waiting for documents: the agent lists what the customer still has to send, the ticket
// waits on them (pending, its resolution clock paused) and they are told the list; files
// they send put it back in the agent's hands (intake moves it to open) with a notice that
// documents arrived, and the agent ticks off the items they cover.

// ParseItems reads an agent's list of missing documents, one a line (blank lines and
// repeats dropped), bounded in number and length.
func ParseItems(text string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for line := range strings.Lines(text) {
		item := strings.Join(strings.Fields(line), " ")
		if item == "" || seen[item] {
			continue
		}
		if !utf8.ValidString(item) {
			return nil, tickets.Invalidf("a document's name is not valid text")
		}
		if utf8.RuneCountInString(item) > maxItem {
			return nil, tickets.Invalidf("a document's name has at most %d characters", maxItem)
		}
		seen[item] = true
		out = append(out, item)
		if len(out) > maxItems {
			return nil, tickets.Invalidf("at most %d documents can be asked for at once", maxItems)
		}
	}
	if len(out) == 0 {
		return nil, tickets.Invalidf("list at least one document, one a line")
	}
	return out, nil
}

// RequestDocuments lists documents the customer of the ticket ref names still has to
// send (items already waited for are not added twice), moves the ticket to pending when it
// is active, and tells the customer the whole list still missing.
func (s *Service) RequestDocuments(ctx context.Context, actor tickets.Actor, ref string, items []string) (*tickets.Ticket, error) {
	if len(items) == 0 || len(items) > maxItems {
		return nil, tickets.Invalidf("ask for 1 to %d documents", maxItems)
	}
	for _, it := range items {
		if strings.TrimSpace(it) == "" || utf8.RuneCountInString(it) > maxItem {
			return nil, tickets.Invalidf("each document needs a name of at most %d characters", maxItem)
		}
	}
	return s.svc.ChangeTicket(ctx, actor, ref, func(tx tickets.Tx, t *tickets.Ticket) ([]int64, error) {
		if !t.Status.Active() {
			return nil, tickets.Conflictf("%s is %s; reopen it before asking for documents", t.Ref(), t.Status)
		}
		missing, err := missingItems(ctx, tx, t.ID)
		if err != nil {
			return nil, err
		}
		now := s.svc.Now()
		var added []*Document
		for _, it := range items {
			it = strings.TrimSpace(it)
			if !contains(missing, it) {
				added = append(added, &Document{TicketID: t.ID, Item: it, RequestedAt: now})
				missing = append(missing, it)
			}
		}
		if len(added) > 0 {
			if _, err := tx.NewInsert().Model(&added).Exec(ctx); err != nil {
				return nil, fmt.Errorf("store documents asked for: %w", err)
			}
		}
		var told []int64
		if t.Status != tickets.StatusPending {
			if told, err = tx.SetStatus(ctx, actor, t, tickets.StatusPending, "waiting for documents"); err != nil {
				return nil, err
			}
		}
		if err := tx.Record(ctx, tx.Event(actor, "ticket", t.ID, "documents.requested", map[string]any{"items": missing, "added": len(added)})); err != nil {
			return nil, err
		}
		id, err := s.tell(ctx, tx, t, "documents", func(english bool) tickets.TemplateData {
			return tickets.TemplateData{Items: listItems(missing, english)}
		}, tickets.TemplateDocumentsRequested)
		return append(told, id), err
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TickDocument marks a document of the ticket ref names as received (received true) or
// as missing again.
func (s *Service) TickDocument(ctx context.Context, actor tickets.Actor, ref string, docID int64, received bool) (*tickets.Ticket, error) {
	return s.svc.ChangeTicket(ctx, actor, ref, func(tx tickets.Tx, t *tickets.Ticket) ([]int64, error) {
		d := new(Document)
		if err := tx.NewSelect().Model(d).Where("id = ? AND ticket_id = ?", docID, t.ID).Scan(ctx); err != nil {
			return nil, tickets.NotFoundf("document %d is not asked for on %s", docID, t.Ref())
		}
		if (d.ReceivedAt != nil) == received {
			return nil, nil // already so: a second click changes nothing
		}
		q := tx.NewUpdate().Model(d).WherePK()
		kind := "document.missing"
		if received {
			q, kind = q.Set("received_at = ?", s.svc.Now()), "document.received"
		} else {
			q = q.Set("received_at = NULL")
		}
		if _, err := q.Exec(ctx); err != nil {
			return nil, fmt.Errorf("tick document: %w", err)
		}
		return nil, tx.Record(ctx, tx.Event(actor, "ticket", t.ID, kind, map[string]any{"document_id": d.ID, "item": d.Item}))
	})
}

// DocumentsArrived is told by intake of a customer's message with files on a ticket that
// existed (tickets.Progress): when the ticket waits for documents, its assignee (else the
// team's supervisors) is told they arrived, and the items stay listed for them to tick off.
// Intake itself moves a pending ticket back to open.
func (s *Service) DocumentsArrived(ctx context.Context, tx tickets.Tx, t *tickets.Ticket, m *tickets.Message, files int) error {
	missing, err := missingItems(ctx, tx, t.ID)
	if err != nil || len(missing) == 0 {
		return err
	}
	var to []int64
	if t.AssigneeID != nil {
		to = []int64{*t.AssigneeID}
	} else if to, err = tx.SupervisorsOf(ctx, t.TeamID); err != nil {
		return err
	}
	body := fmt.Sprintf("Documents arrived on %s (%d file(s)); tick off what they cover of the %d item(s) still missing.", t.Ref(), files, len(missing))
	var ns []*tickets.Notice
	for _, a := range to {
		ns = append(ns, &tickets.Notice{AgentID: a, Kind: "documents.arrived", TicketID: &t.ID, Body: body})
	}
	if err := tx.AddNotices(ctx, ns); err != nil {
		return err
	}
	return tx.Record(ctx, tx.Event(tickets.Actor{Kind: "customer"}, "ticket", t.ID, "documents.arrived",
		map[string]any{"message_id": m.ID, "files": files, "missing": len(missing)}))
}
