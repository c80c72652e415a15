package email

import (
	"bytes"
	"encoding/base64"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"

	"github.com/hotlinedesk/hotline/channels"
)

// mixedBody is a multipart/mixed body and its boundary.
type mixedBody struct {
	body     []byte
	boundary string
}

// withFiles wraps the text (a multipart/alternative body under contentType) and the files
// in a multipart/mixed body: the text first, then each file as a base64 attachment whose
// name is RFC 2231-encoded when it is not ASCII.
func withFiles(text []byte, contentType string, files []channels.File) (*mixedBody, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	pw, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {contentType}})
	if err != nil {
		return nil, err
	}
	if _, err := pw.Write(text); err != nil {
		return nil, err
	}
	for _, f := range files {
		name := strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return -1
			}
			return r
		}, f.Filename)
		ctype := f.ContentType
		if _, _, err := mime.ParseMediaType(ctype); err != nil || ctype == "" {
			ctype = "application/octet-stream"
		}
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(ctype, map[string]string{"name": name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": name})},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		enc := base64.StdEncoding.EncodeToString(f.Content)
		for len(enc) > 76 {
			pw.Write([]byte(enc[:76] + "\r\n")) //nolint:errcheck // writes to a buffer
			enc = enc[76:]
		}
		pw.Write([]byte(enc + "\r\n")) //nolint:errcheck // writes to a buffer
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return &mixedBody{body: body.Bytes(), boundary: mw.Boundary()}, nil
}
