package tickets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/uptrace/bun"
)

// Writing messages with their attachments' rows; an attachment's content is kept once per
// distinct file.

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
