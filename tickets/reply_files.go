package tickets

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Files agents attach to replies: what each channel carries (checked before the reply is
// stored, so the agent is told before anything is sent), and the files a sender loads.

// ReplyFile is a file an agent attaches to a reply.
type ReplyFile struct {
	Filename string
	Content  []byte

	key string // Content's key, put in the store before the reply's transaction
}

// FileLimits is what one channel carries with a reply: how many files, how large, of
// which types.
type FileLimits struct {
	MaxFiles      int
	MaxFileBytes  int64
	MaxTotalBytes int64
	// Types are the content types the channel takes, by the file's name (its extension).
	Types []string
}

const mib = 1 << 20

// replyFileLimits are the providers' documented limits: email (what common mail servers
// take, with room for base64's third), a WeChat image message (media upload: 10 MB,
// JPG/PNG), and a Twilio MMS (5 MB in all, images carriers deliver).
var replyFileLimits = map[Channel]FileLimits{
	ChannelEmail: {MaxFiles: 10, MaxFileBytes: 10 * mib, MaxTotalBytes: 10 * mib, Types: []string{
		"image/jpeg", "image/png", "image/gif", "application/pdf", "text/plain", "text/csv",
		"application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}},
	ChannelWeChat: {MaxFiles: 1, MaxFileBytes: 10 * mib, MaxTotalBytes: 10 * mib, Types: []string{"image/jpeg", "image/png"}},
	ChannelSMS:    {MaxFiles: 10, MaxFileBytes: 5 * mib, MaxTotalBytes: 5 * mib, Types: []string{"image/jpeg", "image/png", "image/gif"}},
}

// MaxReplyFileBytes is the most any channel takes with one reply: a door's body limit.
const MaxReplyFileBytes = 10 * mib

// ReplyFileLimits is what a reply on ch may carry; ok is false for a channel that takes no
// files.
func ReplyFileLimits(ch Channel) (FileLimits, bool) {
	l, ok := replyFileLimits[ch]
	return l, ok
}

// extTypes names the types by extension the same way on every machine (mime's table
// reads the system's files).
var extTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
	".pdf": "application/pdf", ".txt": "text/plain", ".csv": "text/csv",
	".doc": "application/msword", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	".xls": "application/vnd.ms-excel", ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

// sniffed are the types whose content must be what the name says: a picture or a PDF
// that is not one would be refused by the provider or mislead the customer.
var sniffed = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "application/pdf": true}

// replyAttachments checks files against the channel's limits and returns them as the
// reply's attachments, kept by Hotline.
func replyAttachments(ch Channel, files []ReplyFile) ([]NewAttachment, error) {
	if len(files) == 0 {
		return nil, nil
	}
	l, ok := ReplyFileLimits(ch)
	if !ok {
		return nil, invalidf("a reply by %s cannot carry files", ch)
	}
	if len(files) > l.MaxFiles {
		return nil, invalidf("a reply by %s carries at most %d file(s), not %d", ch, l.MaxFiles, len(files))
	}
	var total int64
	atts := make([]NewAttachment, len(files))
	for i, f := range files {
		name := path.Base(strings.ReplaceAll(strings.TrimSpace(f.Filename), `\`, "/"))
		if name == "" || name == "." || name == "/" || len(name) > 255 || !utf8.ValidString(name) ||
			strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return nil, invalidf("file %d has no usable name", i+1)
		}
		size := int64(len(f.Content))
		if size == 0 {
			return nil, invalidf("%s is empty", name)
		}
		if size > l.MaxFileBytes {
			return nil, invalidf("%s is %s; a file sent by %s may be at most %s", name, byteSize(size), ch, byteSize(l.MaxFileBytes))
		}
		total += size
		ctype := extTypes[strings.ToLower(path.Ext(name))]
		if ctype == "" || !slices.Contains(l.Types, ctype) {
			return nil, invalidf("%s: %s takes only %s", name, ch, typeNames(l.Types))
		}
		if sniffed[ctype] {
			if got, _, _ := mime.ParseMediaType(http.DetectContentType(f.Content)); got != ctype {
				return nil, invalidf("%s is not the %s its name says", name, ctype)
			}
		}
		atts[i] = NewAttachment{Filename: name, ContentType: ctype, SizeBytes: size, Content: f.Content, key: f.key}
	}
	if total > l.MaxTotalBytes {
		return nil, invalidf("the files come to %s; a reply by %s may carry at most %s", byteSize(total), ch, byteSize(l.MaxTotalBytes))
	}
	return atts, nil
}

// ReplyFileExtensions are the file name extensions a reply on ch may carry.
func ReplyFileExtensions(ch Channel) []string {
	l, _ := ReplyFileLimits(ch)
	var exts []string
	for ext, t := range extTypes {
		if slices.Contains(l.Types, t) {
			exts = append(exts, ext)
		}
	}
	slices.Sort(exts)
	return exts
}

// typeNames lists types as people know them: by extension.
func typeNames(types []string) string {
	var names []string
	for ext, t := range extTypes {
		if slices.Contains(types, t) {
			names = append(names, strings.TrimPrefix(ext, "."))
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func byteSize(n int64) string {
	if n >= mib {
		return fmt.Sprintf("%.1f MB", float64(n)/mib)
	}
	return fmt.Sprintf("%d KB", (n+1023)/1024)
}

// OutgoingFile is a file to send with an outbound message.
type OutgoingFile struct {
	AttachmentID int64
	Filename     string
	ContentType  string
	Content      []byte
}

// OutgoingFiles loads the files Hotline keeps for an outbound message, in the order they
// were attached.
func (s *Service) OutgoingFiles(ctx context.Context, messageID int64) ([]OutgoingFile, error) {
	var rows []struct {
		ID          int64
		Filename    string
		ContentType string
		FileSHA256  string
	}
	err := s.db.NewSelect().TableExpr("attachments AS a").
		ColumnExpr("a.id, a.filename, a.content_type, a.file_sha256").
		Join("JOIN messages AS m ON m.id = a.message_id").
		Where("a.message_id = ? AND m.direction = ? AND a.file_sha256 IS NOT NULL", messageID, DirectionOutbound).
		OrderExpr("a.id").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load message %d's files: %w", messageID, err)
	}
	files := make([]OutgoingFile, len(rows))
	for i, r := range rows {
		content, err := s.readFile(ctx, r.FileSHA256)
		if err != nil {
			return nil, fmt.Errorf("load message %d's files: %w", messageID, err)
		}
		files[i] = OutgoingFile{AttachmentID: r.ID, Filename: r.Filename, ContentType: r.ContentType, Content: content}
	}
	return files, nil
}

// keepReplyFiles puts the files of a reply in the store before its transaction (keepFile)
// and returns them carrying their keys; files is not changed. Only files that may pass any
// channel's limits are put: the reply's transaction checks them against its channel, and a
// file it refuses then is an orphan the sweep deletes.
func (s *Service) keepReplyFiles(ctx context.Context, files []ReplyFile) ([]ReplyFile, error) {
	if s.files == nil || len(files) == 0 || len(files) > maxReplyFiles {
		return files, nil
	}
	kept := append([]ReplyFile(nil), files...)
	for i, f := range kept {
		if len(f.Content) == 0 || len(f.Content) > MaxReplyFileBytes {
			continue
		}
		key, err := s.keepFile(ctx, f.Content, extTypes[strings.ToLower(path.Ext(f.Filename))])
		if err != nil {
			return nil, err
		}
		kept[i].key = key
	}
	return kept, nil
}

// maxReplyFiles is the most files any channel takes with one reply.
var maxReplyFiles = func() int {
	n := 0
	for _, l := range replyFileLimits {
		n = max(n, l.MaxFiles)
	}
	return n
}()

// insertReply is the reply's insert with its files checked for the channel it goes on.
func (s *Service) insertReply(ctx context.Context, tx bun.Tx, m *Message, files []ReplyFile) error {
	atts, err := replyAttachments(m.Channel, files)
	if err != nil {
		return err
	}
	return s.insertMessage(ctx, tx, m, atts)
}
