package tickets

import (
	"context"

	"github.com/uptrace/bun"
)

// Writing messages with their attachments' rows; an attachment's content is kept once per
// distinct file (files.go), put in the store before the transaction or, without a store,
// written in it.

// insertMessage stores a message and its attachments' metadata.
func (s *Service) insertMessage(ctx context.Context, tx bun.IDB, m *Message, atts []NewAttachment) error {
	return s.writeMessage(ctx, tx, s.writesNow(), m, atts)
}

// writeMessage is insertMessage writing through w.
func (s *Service) writeMessage(ctx context.Context, tx bun.IDB, w *writes, m *Message, atts []NewAttachment) error {
	if err := w.add(ctx, tx, m); err != nil {
		return err
	}
	if len(atts) == 0 {
		return nil
	}
	var keys []string
	for _, a := range atts {
		if a.key != "" {
			keys = append(keys, a.key)
		}
	}
	if len(keys) > 0 {
		if err := s.holdFiles(ctx, tx, keys); err != nil {
			return err
		}
	}
	rows := make([]*Attachment, len(atts))
	for i, a := range atts {
		rows[i] = a.row(m.ID, m.CreatedAt)
		switch {
		case a.key != "": // put in the store before the transaction (keepAttachments)
			key := a.key
			rows[i].FileSHA256 = &key
		case a.Content != nil:
			sum, err := s.storeFile(ctx, tx, a.Content, a.ContentType)
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
