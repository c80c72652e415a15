package api

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// maxReplyFiles bounds the files one form may carry, whatever the channel then takes.
const maxReplyFiles = 10

// IsMultipart reports whether the request is a multipart/form-data body.
func IsMultipart(c *fiber.Ctx) bool {
	return strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm)
}

// ReplyForm reads a reply sent as multipart/form-data: the text fields named in fields
// (e.g. "body", "channel"; any other is refused) and the files in "files". The body was
// admitted within its door's limit; each file is read whole, as the channels send them.
func ReplyForm(c *fiber.Ctx, fields ...string) (map[string]string, []tickets.ReplyFile, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, nil, fiber.NewError(fiber.StatusBadRequest, "invalid multipart body: "+err.Error())
	}
	values := map[string]string{}
	for k, vs := range form.Value {
		if !slices.Contains(fields, k) {
			return nil, nil, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("unknown field %q; send %s and files", k, strings.Join(fields, ", ")))
		}
		if len(vs) != 1 {
			return nil, nil, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("field %q is sent %d times", k, len(vs)))
		}
		values[k] = vs[0]
	}
	files, err := formFiles(form)
	if err != nil {
		return nil, nil, err
	}
	return values, files, nil
}

// FormFiles reads the files of a multipart form sent with other fields a caller reads
// itself (the console's reply form): the files in "files", none under another name.
func FormFiles(c *fiber.Ctx) ([]tickets.ReplyFile, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, "invalid multipart body: "+err.Error())
	}
	return formFiles(form)
}

func formFiles(form *multipart.Form) ([]tickets.ReplyFile, error) {
	var files []tickets.ReplyFile
	for k, fhs := range form.File {
		if k != "files" {
			return nil, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("unknown file field %q; send files as \"files\"", k))
		}
		if len(files)+len(fhs) > maxReplyFiles {
			return nil, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("a reply carries at most %d files", maxReplyFiles))
		}
		for _, fh := range fhs {
			if fh.Filename == "" && fh.Size == 0 { // a file input left empty
				continue
			}
			content, err := readFormFile(fh)
			if err != nil {
				return nil, err
			}
			files = append(files, tickets.ReplyFile{Filename: fh.Filename, Content: content})
		}
	}
	return files, nil
}

func readFormFile(fh *multipart.FileHeader) ([]byte, error) {
	if fh.Size > tickets.MaxReplyFileBytes {
		return nil, fiber.NewError(fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("%s is %d bytes; no channel takes a file over %d MB", fh.Filename, fh.Size, tickets.MaxReplyFileBytes>>20))
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("open uploaded file: %w", err)
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, tickets.MaxReplyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read uploaded file: %w", err)
	}
	if len(content) > tickets.MaxReplyFileBytes {
		return nil, errors.New("uploaded file is larger than it said")
	}
	return content, nil
}
