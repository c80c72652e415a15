package api

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// Files Hotline keeps, served from the file store or the database a range at a time, so a
// large file streams and an audio or video player can seek: one byte range per request
// (206, Content-Range), 416 for a range outside the file. A request for several ranges is
// answered with the whole file, which HTTP allows.

// byteRange is a Range header's answer for a file of size bytes: the offset and length
// to send, partial when it is a range, and ok false when the range is unsatisfiable (416).
// A header that is not one byte range (absent, another unit, several ranges, malformed) is
// the whole file.
func byteRange(header string, size int64) (offset, length int64, partial, ok bool) {
	whole := func() (int64, int64, bool, bool) { return 0, size, false, true }
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return whole()
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found || len(first) > 19 || len(last) > 19 {
		return whole()
	}
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	switch {
	case first == "": // the last n bytes
		n, good := num(last)
		if !good {
			return whole()
		}
		if n == 0 || size == 0 {
			return 0, 0, false, false
		}
		n = min(n, size)
		return size - n, n, true, true
	default:
		start, good := num(first)
		if !good {
			return whole()
		}
		end := size - 1
		if last != "" {
			e, good := num(last)
			if !good || e < start {
				return whole()
			}
			end = min(e, size-1)
		}
		if start >= size {
			return 0, 0, false, false
		}
		return start, end - start + 1, true, true
	}
}

// sendStored answers with f, the file Hotline keeps for a, honouring a single byte range,
// with the same safe headers as every attachment (fileHeaders).
func sendStored(c *fiber.Ctx, svc *tickets.Service, a *tickets.Attachment, f *tickets.StoredFile) error {
	fileHeaders(c, a)
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	offset, length, partial, ok := byteRange(c.Get(fiber.HeaderRange), f.Size)
	if !ok {
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes */%d", f.Size))
		return c.SendStatus(fiber.StatusRequestedRangeNotSatisfiable)
	}
	r, err := svc.OpenFile(c.UserContext(), f, offset, length)
	if errors.Is(err, tickets.ErrNoFile) {
		return fiber.NewError(fiber.StatusNotFound, "the file is missing from the file store")
	}
	if err != nil {
		return err
	}
	if partial {
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", offset, offset+length-1, f.Size))
		c.Status(fiber.StatusPartialContent)
	}
	// The body is copied to the client after the handler returns, and closed then.
	return c.SendStream(r, int(length))
}
