package api

import (
	"context"
	"errors"
	"log/slog"
	"regexp"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/tickets"
)

// Recordings opens a call recording for playback with the account's credentials
// (*twilio.Recordings).
type Recordings interface {
	Open(ctx context.Context, url, rangeHeader string, max int64) (*twilio.Stream, error)
}

// ServeAttachment answers GET /attachments/:id for the console and the API alike: a file
// Hotline keeps (streamed from the file store or the database, byte ranges included), or a call recording Hotline fetches from Twilio with the account's
// credentials and streams on, byte ranges included so a player can seek. The browser never
// sees Twilio's address, which would not open without those credentials.
func ServeAttachment(c *fiber.Ctx, svc *tickets.Service, recordings Recordings, log *slog.Logger, id int64) error {
	a, err := svc.Attachment(c.UserContext(), id)
	if err != nil {
		return err
	}
	if a.Fetched() {
		return streamRecording(c, a, recordings, log)
	}
	a, f, err := svc.AttachmentStream(c.UserContext(), id)
	if err != nil {
		return err
	}
	return sendStored(c, svc, a, f)
}

// contentRange is the Content-Range forms passed on from Twilio.
var contentRange = regexp.MustCompile(`^bytes (\d{1,15}-\d{1,15}|\*)/(\d{1,15}|\*)$`)

func streamRecording(c *fiber.Ctx, a *tickets.Attachment, recordings Recordings, log *slog.Logger) error {
	if recordings == nil || a.Provider != tickets.ProviderTwilio {
		return fiber.NewError(fiber.StatusNotFound, "Hotline cannot fetch this recording: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	}
	st, err := recordings.Open(c.UserContext(), a.URL, c.Get(fiber.HeaderRange), twilio.MaxRecordingBytes)
	var status *twilio.StatusError
	switch {
	case errors.Is(err, twilio.ErrNotRecording):
		log.Warn("refused to fetch an attachment whose address is not a Twilio recording", "attachment", a.ID)
		return fiber.NewError(fiber.StatusNotFound, "this recording's address is not on Twilio's API; Hotline does not fetch it")
	case errors.As(err, &status) && status.Status == fiber.StatusNotFound:
		return fiber.NewError(fiber.StatusNotFound, "Twilio no longer has this recording")
	case err != nil:
		log.Warn("could not fetch a recording from Twilio", "attachment", a.ID, "err", err)
		return fiber.NewError(fiber.StatusBadGateway, "could not fetch the recording from Twilio; try again")
	}
	fileHeaders(c, a)
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	if cr := st.Header.Get(fiber.HeaderContentRange); contentRange.MatchString(cr) {
		c.Set(fiber.HeaderContentRange, cr)
	}
	c.Status(st.Status)
	if st.Status == fiber.StatusRequestedRangeNotSatisfiable {
		st.Body.Close()
		return nil
	}
	// The body is copied to the client after the handler returns, and closed then.
	return c.SendStream(st.Body, int(st.Length))
}
