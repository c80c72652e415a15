package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/tickets"
)

// simulate plays a provider against a running Hotline, signing each request exactly as the
// provider does with the secrets of the desk's own database, so a newcomer sees tickets
// arrive from every channel without a Twilio, WeChat or mail account:
//
//	hotline simulate sms --from +8613800138000 --body "我的理赔进度如何？" [--media photo.jpg]
//	hotline simulate call --digits 2 --voicemail "Please call me back"
//	hotline simulate wechat --openid oCustomer1 --body "理赔款什么时候到账？"
//	hotline simulate email --from zhao@example.com --subject "Invoice" --body "Attached."
//
// simulate reads the configuration the server reads (the environment, DATABASE_URL, the
// channel settings saved in the console). Before it sends anything it asks the desk which
// database it serves (/healthz's X-Hotline-Desk) and says so plainly when it is another.

// simulation is one channel simulate plays.
type simulation struct {
	usage, summary string
	// flags is the channel's flag set and what to do once it is parsed.
	flags func() (*flag.FlagSet, *simRun)
}

// simRun is a parsed simulation: check runs before the database is opened (flags that must
// be given), run against the desk.
type simRun struct {
	url   *string
	check func() error
	run   func(ctx context.Context, d *desk) error
}

// simulationOrder is the order help lists the channels in.
var simulationOrder = []string{"sms", "call", "wechat", "email"}

var simulations = map[string]simulation{
	"sms":    {"simulate sms --from NUMBER --body TEXT [--media FILE]", "a customer texts the desk's number (Twilio Messaging)", smsFlags},
	"call":   {"simulate call [--digits 2] [--voicemail TEXT] [--missed]", "a customer calls and walks the phone menu (Twilio Voice)", callFlags},
	"wechat": {"simulate wechat --openid OPENID --body TEXT", "a follower writes to the official account (WeChat server push)", wechatFlags},
	"email":  {"simulate email --from ADDRESS --subject TEXT --body TEXT | --file message.eml", "a customer emails the desk (the email webhook)", emailFlags},
}

func simulateUsage(w io.Writer) {
	fmt.Fprint(w, "Usage: hotline simulate CHANNEL [FLAGS]\n\nPlays a customer against a running desk, signed as the provider signs.\n\nChannels:\n")
	for _, name := range simulationOrder {
		fmt.Fprintf(w, "  %-7s %s\n", name, simulations[name].summary)
	}
	for _, name := range simulationOrder {
		fmt.Fprintln(w)
		fs, _ := simulations[name].flags()
		printFlags(w, fs, simulations[name].usage)
	}
}

// newSimFlags starts a channel's flag set with the flag every channel has.
func newSimFlags(name string) (*flag.FlagSet, *simRun) {
	fs := flag.NewFlagSet("simulate "+name, flag.ContinueOnError)
	return fs, &simRun{url: fs.String("url", "", "where the desk listens (default: HOTLINE_ADDR on this machine)")}
}

// runSimulate is "hotline simulate CHANNEL [flags]".
func runSimulate(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || isHelp(args[0]) {
		if len(args) == 0 {
			simulateUsage(os.Stderr)
			return errors.New("simulate: say which channel: sms, call, wechat or email")
		}
		simulateUsage(out)
		return flag.ErrHelp
	}
	s, ok := simulations[args[0]]
	if !ok {
		simulateUsage(os.Stderr)
		return fmt.Errorf("simulate: unknown channel %q (sms, call, wechat or email)", args[0])
	}
	fs, r := s.flags()
	if err := parseFlags(fs, s.usage, args[1:]); err != nil {
		return err
	}
	if r.check != nil {
		if err := r.check(); err != nil {
			return fmt.Errorf("simulate %s: %w", args[0], err)
		}
	}
	d, closeDB, err := openDesk(ctx, *r.url, out)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := d.check(ctx); err != nil {
		return err
	}
	return r.run(ctx, d)
}

// desk is the running Hotline simulate talks to, and the configuration and database it
// signs with.
type desk struct {
	cfg      config
	svc      *tickets.Service
	id       string // the desk id of simulate's database
	database string // which database simulate reads, for people (no password)
	base     string // where requests go
	out      io.Writer
	client   *http.Client
}

// openDesk reads the server's configuration as serve does: the environment, the database
// DATABASE_URL names (migrated, as serve would), the channel settings saved in the console.
func openDesk(ctx context.Context, target string, out io.Writer) (*desk, func(), error) {
	cfg, err := loadConfig()
	if err != nil {
		return nil, nil, err
	}
	// A SQLite file that is not there is another directory's desk, not one to create.
	if file, ok := sqliteFile(cfg.DatabaseURL); ok {
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("simulate reads database %s, which does not exist: run simulate from the directory the server runs in, "+
				"or with the server's DATABASE_URL", describeDatabase(cfg.DatabaseURL))
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})) // simulate's output is its own
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	svc := tickets.NewService(db, tickets.SystemClock{}, tickets.Config{DefaultCountry: cfg.DefaultCountry}, log)
	if err := applyChannelSettings(ctx, channelsettings.New(svc), &cfg, log); err != nil {
		db.Close()
		return nil, nil, err
	}
	id, err := deskID(ctx, svc)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	if target == "" {
		target = localURL(cfg.Addr)
	}
	d := &desk{cfg: cfg, svc: svc, id: id, database: describeDatabase(cfg.DatabaseURL), base: strings.TrimRight(target, "/"), out: out,
		client: &http.Client{Timeout: 15 * time.Second}}
	return d, func() { db.Close() }, nil
}

// sqliteFile is the file a sqlite: DATABASE_URL names, if it names one.
func sqliteFile(dsn string) (string, bool) {
	file, ok := strings.CutPrefix(dsn, "sqlite:")
	file, _, _ = strings.Cut(file, "?")
	file = strings.TrimPrefix(file, "file:")
	return file, ok && file != "" && !strings.Contains(file, ":memory:")
}

// describeDatabase names a database for people: a PostgreSQL URL without its password, a
// SQLite file by its full path (a relative one depends on where each command runs).
func describeDatabase(dsn string) string {
	if file, ok := sqliteFile(dsn); ok {
		if abs, err := filepath.Abs(file); err == nil {
			return "sqlite:" + abs
		}
		return dsn
	}
	if u, err := url.Parse(dsn); err == nil {
		return u.Redacted()
	}
	return "(DATABASE_URL)"
}

// check asks the desk which database it serves before anything is signed for it.
func (d *desk) check(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/healthz", nil)
	if err != nil {
		return fmt.Errorf("--url %q: %w", d.base, err)
	}
	res, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("nothing answers at %s (%v): start the desk first (go run ./app), or say where it listens with --url", d.base, err)
	}
	res.Body.Close()
	if theirs := res.Header.Get(api.DeskHeader); theirs != "" && theirs != d.id {
		return fmt.Errorf("simulate reads database %s (desk %s), but the desk at %s uses another (desk %s): "+
			"run simulate with the server's DATABASE_URL (for SQLite, from the directory the server runs in, or with an absolute path), "+
			"so that it signs with that desk's secrets", d.database, d.id, d.base, theirs)
	}
	return nil
}

// post sends one request as the provider would and prints what the desk answered. A 403
// is explained: simulate signed with the secret of its own database, which the desk does
// not hold.
func (d *desk) post(ctx context.Context, title, path, contentType string, body []byte, header http.Header, secret string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	fmt.Fprintf(d.out, "── %s\n→ POST %s\n", title, shortPath(path))
	res, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post to the desk (is it running at %s?): %w", d.base, err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	fmt.Fprintf(d.out, "← %s\n", res.Status)
	if len(bytes.TrimSpace(answer)) > 0 {
		fmt.Fprintf(d.out, "%s\n", bytes.TrimSpace(answer))
	}
	fmt.Fprintln(d.out)
	switch {
	case res.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("the desk at %s refused the request (403: %s). simulate signed it with the %s kept in database %s (desk %s); "+
			"the desk checks it against its own: run simulate with the server's environment (the same DATABASE_URL and %s), "+
			"or save the same value under Admin → Channels", d.base, reason(answer), secret, d.database, d.id, secret)
	case res.StatusCode/100 != 2:
		return nil, fmt.Errorf("the desk answered %s: %s", res.Status, reason(answer))
	}
	return answer, nil
}

// shortPath keeps a logged path readable: a query's signature values are long and say
// nothing to a person.
func shortPath(path string) string {
	if len(path) > 120 {
		return path[:117] + "..."
	}
	return path
}

// reason is the desk's {"error": "..."}, or its answer as text.
func reason(answer []byte) string {
	s := strings.TrimSpace(string(answer))
	if i := strings.Index(s, `"error":"`); i >= 0 {
		s = s[i+len(`"error":"`):]
		s, _, _ = strings.Cut(s, `"`)
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// twilio posts a form to a Twilio webhook, signed as Twilio signs it: over the address
// Twilio would request (PUBLIC_BASE_URL's, when the desk is behind one) and the form.
func (d *desk) twilio(ctx context.Context, title, path string, form url.Values) ([]byte, error) {
	token, err := twilioWebhookToken(ctx, d.cfg, d.svc, discardLog)
	if err != nil {
		return nil, err
	}
	signedAs := d.base
	if d.cfg.PublicBaseURL != "" {
		signedAs = d.cfg.PublicBaseURL
	}
	h := http.Header{"X-Twilio-Signature": {twilio.Sign(token, signedAs+path, form)}}
	return d.post(ctx, title, path, "application/x-www-form-urlencoded", []byte(form.Encode()), h, "Twilio webhook token (TWILIO_AUTH_TOKEN)")
}

// accountSID is the Twilio account the requests come from: the configured one, or a
// made-up one of the right shape.
func (d *desk) accountSID() string {
	if d.cfg.Twilio.AccountSID != "" {
		return d.cfg.Twilio.AccountSID
	}
	return "AC" + randomHex(16)
}

// twilioAPI is where Twilio keeps recordings and an MMS's files: TWILIO_API_URL, else
// Twilio's own API.
func (d *desk) twilioAPI() string {
	if api := strings.TrimRight(d.cfg.Twilio.APIURL, "/"); api != "" {
		return api
	}
	return "https://api.twilio.com"
}

// deskNumber is the desk's number a customer texts or calls.
func (d *desk) deskNumber(flagValue string) string {
	switch {
	case flagValue != "":
		return flagValue
	case d.cfg.TwilioFrom != "":
		return d.cfg.TwilioFrom
	}
	return "+8610950000" // a made-up number, for a desk that has none configured
}

func smsFlags() (*flag.FlagSet, *simRun) {
	fs, r := newSimFlags("sms")
	from := fs.String("from", "+8613800138000", "the customer's phone number")
	body := fs.String("body", "", "the text of the message (required)")
	to := fs.String("to", "", "the desk's number the customer texted (default TWILIO_FROM_NUMBER)")
	media := fs.String("media", "", "a picture or file sent with the text (an MMS): its type is told by its name; the desk keeps Twilio's address of it")
	r.check = func() error {
		if strings.TrimSpace(*body) == "" && *media == "" {
			return errors.New("say what the customer writes with --body (or sends with --media)")
		}
		if *media != "" {
			if _, err := os.Stat(*media); err != nil {
				return fmt.Errorf("--media: %w", err)
			}
		}
		return nil
	}
	r.run = func(ctx context.Context, d *desk) error {
		sid := "SM" + randomHex(16)
		if *media != "" {
			sid = "MM" + randomHex(16)
		}
		account := d.accountSID()
		form := url.Values{
			"MessageSid": {sid}, "SmsMessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {account}, "SmsStatus": {"received"},
			"From": {*from}, "To": {d.deskNumber(*to)}, "Body": {*body}, "NumMedia": {"0"}, "NumSegments": {"1"}, "ApiVersion": {"2010-04-01"},
		}
		if *media != "" {
			// Twilio keeps an MMS's files and posts their addresses on its API; the file
			// itself stays on this machine, as it would stay with Twilio.
			ct := mime.TypeByExtension(filepath.Ext(*media))
			if ct == "" {
				ct = "application/octet-stream"
			}
			ct, _, _ = strings.Cut(ct, ";")
			form.Set("NumMedia", "1")
			form.Set("MediaContentType0", ct)
			form.Set("MediaUrl0", d.twilioAPI()+"/2010-04-01/Accounts/"+account+"/Messages/"+sid+"/Media/ME"+randomHex(16))
		}
		_, err := d.twilio(ctx, "a text from "+*from+" ("+sid+")", "/webhooks/twilio/sms", form)
		return err
	}
	return fs, r
}

// randomHex is n random bytes in hexadecimal.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}

// randomID is a positive random 63-bit number (a WeChat MsgId, say).
func randomID() uint64 {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // never fails
	return binary.BigEndian.Uint64(b[:]) >> 1
}
