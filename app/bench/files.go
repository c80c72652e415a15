package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"time"
)

// The files scenario: customers email with a 1 MB attachment each, through the email
// webhook, to a Hotline keeping files in the database (no FILES_URL, the harness's main
// process) and to one keeping them in a file store (a local directory), side by side. It
// reports each side's throughput and latency and how much the database (and the store)
// grew per message, and checks every acknowledged message is stored with its file.

// filesAttachment is the size of each message's attachment.
const filesAttachment = 1 << 20

func (e *env) files(ctx context.Context, progress func(string, ...any)) error {
	dir := filepath.Join(e.cfg.LogDir, "files")
	progress("starting a second Hotline (serve --role api) keeping files in %s", dir)
	stored, err := StartProcess(ctx, "hotline-files", e.cfg.Binary, []string{"serve", "--role", "api"},
		append(e.hotlineEnv(), "FILES_URL=file://"+dir), e.cfg.LogDir)
	if err != nil {
		return err
	}
	defer stored.Stop(20 * time.Second) //nolint:errcheck // its log says why

	// One megabyte of random bytes, each message's file made distinct by its first line, so
	// nothing is deduplicated: every message stores a new file.
	body := make([]byte, filesAttachment)
	if _, err := rand.Read(body); err != nil {
		return err
	}
	client := NewHTTPClient(e.cfg.FilesConc)
	run := randomHex(3)
	send := func(base, side string) func(ctx context.Context, n int) error {
		return func(ctx context.Context, n int) error {
			raw := filesMail(run, side, n, body)
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/email", bytes.NewReader(raw))
			if err != nil {
				return err
			}
			req.Header.Set("Content-Type", "message/rfc822")
			req.Header.Set("Authorization", "Bearer "+e.emailSecret)
			res, err := client.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			msg, _ := io.ReadAll(io.LimitReader(res.Body, 512))
			if res.StatusCode != http.StatusAccepted {
				return fmt.Errorf("email webhook answered %d: %s", res.StatusCode, msg)
			}
			return nil
		}
	}
	load := Load{Concurrency: e.cfg.FilesConc, Duration: time.Hour, Requests: e.cfg.FilesMessages}
	for _, side := range []struct {
		name, tag string
		proc      *Process
	}{
		{"files: 1 MB email, in the database", "db", e.hotline},
		{"files: 1 MB email, in the store (local dir)", "store", stored},
	} {
		before, err := e.databaseSize(ctx)
		if err != nil {
			return err
		}
		storeBefore := dirSize(dir)
		progress("%s: %d messages at concurrency %d", side.name, e.cfg.FilesMessages, e.cfg.FilesConc)
		r := load.Run(ctx, send(side.proc.Base, side.tag))
		after, err := e.databaseSize(ctx)
		if err != nil {
			return err
		}
		kept, err := e.db.NewSelect().TableExpr("messages AS m").Join("JOIN attachments AS a ON a.message_id = m.id").
			Join("JOIN attachment_files AS f ON f.sha256 = a.file_sha256").
			Where("m.provider_message_id LIKE ?", fmt.Sprintf("%%files-%s-%s-%%", run, side.tag)).
			Where("f.location = ?", map[string]string{"db": "db", "store": "store"}[side.tag]).Count(ctx)
		if err != nil {
			return fmt.Errorf("count stored files: %w", err)
		}
		per := func(d int64) string {
			if r.OK == 0 {
				return "-"
			}
			return fmt.Sprintf("%.0f KB", float64(d)/float64(r.OK)/1024)
		}
		notes := fmt.Sprintf("%d acknowledged, %d stored with their file; database +%s per message, store +%s per message",
			r.OK, kept, per(after-before), per(dirSize(dir)-storeBefore))
		if r.Errors > 0 {
			notes += "; " + errNote(r)
		}
		e.report.add(resultRow(side.name, e.cfg.FilesConc, r, 0, notes))
		if kept != r.OK {
			return fmt.Errorf("%s: %d messages acknowledged, %d stored with their file", side.name, r.OK, kept)
		}
	}
	return nil
}

// filesMail is message n of a run: a short text and a 1 MB attachment whose first line
// makes it unique.
func filesMail(run, side string, n int, body []byte) []byte {
	file := append([]byte(fmt.Sprintf("%%PDF-1.4 %s %s %012d\n", run, side, n)), body[64:]...)
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: customer%d-%s@bench.example\r\nTo: support@hotline.local\r\nSubject: claim documents %d\r\n", n, side, n)
	fmt.Fprintf(&b, "Message-ID: <files-%s-%s-%d@bench.example>\r\nDate: %s\r\nMIME-Version: 1.0\r\n", run, side, n, time.Now().Format(time.RFC1123Z))
	b.WriteString("Content-Type: multipart/mixed; boundary=\"bench-boundary\"\r\n\r\n")
	b.WriteString("--bench-boundary\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe scanned documents for my claim are attached.\r\n")
	b.WriteString("--bench-boundary\r\nContent-Type: application/pdf; name=\"claim.pdf\"\r\nContent-Disposition: attachment; filename=\"claim.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(file)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--bench-boundary--\r\n")
	return b.Bytes()
}

func (e *env) databaseSize(ctx context.Context) (int64, error) {
	var n int64
	if err := e.db.NewRaw("SELECT pg_database_size(current_database())").Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("database size: %w", err)
	}
	return n, nil
}

// dirSize is the bytes of the files under dir (0 when it is missing).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
