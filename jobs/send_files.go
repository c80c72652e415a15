package jobs

import (
	"context"
	"strings"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/tickets"
)

// outgoingFiles loads a message's files for its sender, each with a signed public link
// when the channel's provider fetches files itself (Twilio's MMS) and Hotline has a
// public address.
func (h *Handlers) outgoingFiles(ctx context.Context, m *tickets.Message) ([]channels.File, error) {
	kept, err := h.svc.OutgoingFiles(ctx, m.ID)
	if err != nil || len(kept) == 0 {
		return nil, err
	}
	files := make([]channels.File, len(kept))
	for i, f := range kept {
		files[i] = channels.File{Filename: f.Filename, ContentType: f.ContentType, Content: f.Content}
		if m.Channel == tickets.ChannelSMS && h.PublicBaseURL != "" {
			path, err := h.svc.MediaPath(ctx, f.AttachmentID)
			if err != nil {
				return nil, err
			}
			files[i].URL = strings.TrimRight(h.PublicBaseURL, "/") + path
		}
	}
	return files, nil
}
