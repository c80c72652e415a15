package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

const (
	imapUser = "support@hotline.example"
	imapPass = "s3cret"
)

// memCursorStore is the in-memory CursorStore the brief allows for tests.
type memCursorStore struct {
	mu      sync.Mutex
	cursors map[string]Cursor
	saves   int
}

func newMemCursorStore() *memCursorStore { return &memCursorStore{cursors: map[string]Cursor{}} }

func (s *memCursorStore) Load(_ context.Context, mailbox string) (Cursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[mailbox], nil
}

func (s *memCursorStore) Save(ctx context.Context, mailbox string, c Cursor) error {
	if err := ctx.Err(); err != nil {
		return err // like a database driver would
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursors[mailbox] = c
	s.saves++
	return nil
}

func (s *memCursorStore) get(mailbox string) Cursor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursors[mailbox]
}

type imapEnv struct {
	user *imapmemserver.User
	addr string
}

type imapMode int

const (
	imapPlain imapMode = iota
	imapImplicitTLS
	imapStartTLS
)

// startIMAP runs go-imap's in-memory server on 127.0.0.1 with INBOX and Processed.
func startIMAP(t *testing.T, mode imapMode) *imapEnv {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(imapUser, imapPass)
	for _, name := range []string{"INBOX", "Processed"} {
		if err := user.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	mem.AddUser(user)

	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		// What Gmail and Dovecot advertise in spirit: IMAP4rev1 plus MOVE and UIDPLUS.
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}, imap.CapUIDPlus: {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	}
	ln := listen(t)
	switch mode {
	case imapImplicitTLS:
		ln = tls.NewListener(ln, testTLSConfig(t))
	case imapStartTLS:
		opts.TLSConfig = testTLSConfig(t)
		opts.InsecureAuth = false
	}
	srv := imapserver.New(opts)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &imapEnv{user: user, addr: ln.Addr().String()}
}

type literal struct {
	*bytes.Reader
}

func (l literal) Size() int64 { return l.Reader.Size() }

// appendMsg stores a message straight into the server, as an MTA would.
func (e *imapEnv) appendMsg(t *testing.T, mailbox string, raw []byte) imap.UID {
	t.Helper()
	data, err := e.user.Append(mailbox, literal{bytes.NewReader(raw)}, &imap.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return data.UID
}

type msgState struct {
	UID     imap.UID
	Seen    bool
	Flagged bool
	Raw     []byte
}

// mailbox reads a mailbox's messages through a separate, read-only IMAP session.
func (e *imapEnv) mailbox(t *testing.T, name string) []msgState {
	t.Helper()
	c, err := imapclient.DialInsecure(e.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(imapUser, imapPass).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := c.Select(name, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []msgState
	for _, m := range msgs {
		out = append(out, msgState{UID: m.UID, Seen: slices.Contains(m.Flags, imap.FlagSeen), Flagged: slices.Contains(m.Flags, imap.FlagFlagged), Raw: m.FindBodySection(section)})
	}
	slices.SortFunc(out, func(a, b msgState) int { return int(a.UID) - int(b.UID) })
	return out
}

func (e *imapEnv) uidValidity(t *testing.T, name string) uint32 {
	t.Helper()
	st, err := e.user.Status(name, &imap.StatusOptions{UIDValidity: true})
	if err != nil {
		t.Fatal(err)
	}
	return st.UIDValidity
}

// recorder is a deliver callback that keeps what it was given and can be told to fail.
type recorder struct {
	mu     sync.Mutex
	got    [][]byte
	failOn func(raw []byte) error
}

func (r *recorder) deliver(_ context.Context, raw []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failOn != nil {
		if err := r.failOn(raw); err != nil {
			return err
		}
	}
	r.got = append(r.got, bytes.Clone(raw))
	return nil
}

func (r *recorder) subjects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, raw := range r.got {
		out = append(out, subjectOf(raw))
	}
	return out
}

func subjectOf(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\r\n") {
		if s, ok := strings.CutPrefix(line, "Subject: "); ok {
			return s
		}
	}
	return ""
}

func testMsg(subject string) []byte {
	return crlf(fmt.Sprintf("From: Customer <customer@example.org>\nTo: support@hotline.example\nSubject: %s\nMessage-ID: <%s@example.org>\n\nHello, about %s.\n.leading dot stays\n", subject, strings.ReplaceAll(subject, " ", "-"), subject))
}

func newTestPoller(t *testing.T, cfg IMAPConfig, store CursorStore, rec *recorder) *Poller {
	t.Helper()
	if cfg.Username == "" {
		cfg.Username, cfg.Password = imapUser, imapPass
	}
	lg, _ := newTestLogger()
	p := NewPoller(cfg, store, rec.deliver, lg)
	t.Cleanup(func() { p.Close() })
	return p
}

func mustPoll(t *testing.T, p *Poller, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := p.Poll(ctx)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if n != want {
		t.Fatalf("Poll delivered %d, want %d", n, want)
	}
}

func TestPollerDeliversNewMailOnceInOrder(t *testing.T) {
	env := startIMAP(t, imapPlain)
	var sent [][]byte
	for _, s := range []string{"one", "two", "three"} {
		m := testMsg(s)
		sent = append(sent, m)
		env.appendMsg(t, "INBOX", m)
	}
	store := newMemCursorStore()
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr}, store, rec)

	mustPoll(t, p, 3)
	if len(rec.got) != 3 {
		t.Fatalf("delivered %d messages", len(rec.got))
	}
	for i := range sent {
		if !bytes.Equal(rec.got[i], sent[i]) {
			t.Errorf("message %d: delivered bytes differ\n got %q\nwant %q", i, rec.got[i], sent[i])
		}
	}
	for _, m := range env.mailbox(t, "INBOX") {
		if !m.Seen {
			t.Errorf("uid %d not \\Seen after delivery", m.UID)
		}
	}
	if c, want := store.get("INBOX"), (Cursor{UIDValidity: env.uidValidity(t, "INBOX"), LastUID: 3}); c != want {
		t.Errorf("cursor = %+v, want %+v", c, want)
	}

	mustPoll(t, p, 0) // nothing new: nothing again

	env.appendMsg(t, "INBOX", testMsg("four"))
	mustPoll(t, p, 1)
	mustPoll(t, p, 0)
	if got, want := rec.subjects(), []string{"one", "two", "three", "four"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if c := store.get("INBOX"); c.LastUID != 4 {
		t.Errorf("cursor LastUID = %d, want 4", c.LastUID)
	}
}

func TestPollerLeavesMessagesUnreadUntilDelivered(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	env.appendMsg(t, "INBOX", testMsg("two"))
	rec := &recorder{}
	var seenDuringDeliver []bool
	rec.failOn = func([]byte) error {
		// Look from another session while deliver runs: BODY.PEEK must not have set \Seen.
		for _, m := range env.mailbox(t, "INBOX") {
			seenDuringDeliver = append(seenDuringDeliver, m.Seen)
		}
		return nil
	}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr}, newMemCursorStore(), rec)
	mustPoll(t, p, 2)
	// First deliver: neither seen. Second: the first is seen, the one in hand is not.
	if want := []bool{false, false, true, false}; !slices.Equal(seenDuringDeliver, want) {
		t.Errorf("\\Seen during deliver = %v, want %v", seenDuringDeliver, want)
	}
}

func TestPollerFailedDeliverStopsAndRetries(t *testing.T) {
	env := startIMAP(t, imapPlain)
	for _, s := range []string{"one", "two", "three"} {
		env.appendMsg(t, "INBOX", testMsg(s))
	}
	store := newMemCursorStore()
	rec := &recorder{}
	failures := 1
	errStore := errors.New("database is down")
	rec.failOn = func(raw []byte) error {
		if subjectOf(raw) == "two" && failures > 0 {
			failures--
			return errStore
		}
		return nil
	}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr}, store, rec)

	n, err := p.Poll(context.Background())
	if !errors.Is(err, errStore) {
		t.Fatalf("Poll error = %v, want the deliver error", err)
	}
	if n != 1 {
		t.Fatalf("Poll delivered %d before failing, want 1", n)
	}
	if c := store.get("INBOX"); c.LastUID != 1 {
		t.Fatalf("cursor LastUID = %d after failure, want 1", c.LastUID)
	}
	if got := env.mailbox(t, "INBOX"); !got[0].Seen || got[1].Seen || got[2].Seen {
		t.Errorf("\\Seen after failure = %v %v %v, want true false false", got[0].Seen, got[1].Seen, got[2].Seen)
	}

	mustPoll(t, p, 2)
	mustPoll(t, p, 0)
	if got, want := rec.subjects(), []string{"one", "two", "three"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v (no gap, no duplicate)", got, want)
	}
}

func TestPollerCancelledDeliverIsRetried(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	store := newMemCursorStore()
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr}, store, rec)

	// A deliver that hangs until the poll's context ends, as on shutdown.
	ctx, cancel := context.WithCancel(context.Background())
	blocked := true
	p.deliver = func(ctx context.Context, raw []byte) error {
		if blocked {
			cancel()
			<-ctx.Done()
			return ctx.Err()
		}
		return rec.deliver(ctx, raw)
	}
	if _, err := p.Poll(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll error = %v, want context.Canceled", err)
	}
	if c := store.get("INBOX"); c.LastUID != 0 {
		t.Fatalf("cursor advanced to %d by a cancelled deliver", c.LastUID)
	}

	blocked = false
	mustPoll(t, p, 1) // reconnects: the cancelled poll closed the connection
	if got := rec.subjects(); !slices.Equal(got, []string{"one"}) {
		t.Errorf("delivered %v", got)
	}
}

func TestPollerDeliveredDuringCancelIsNotRedelivered(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	env.appendMsg(t, "INBOX", testMsg("two"))
	store := newMemCursorStore()
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr}, store, rec)

	// Shutdown begins while the first message is being stored, and storing succeeds.
	ctx, cancel := context.WithCancel(context.Background())
	p.deliver = func(ctx context.Context, raw []byte) error {
		cancel()
		return rec.deliver(ctx, raw)
	}
	if _, err := p.Poll(ctx); err == nil {
		t.Fatal("Poll after cancellation reported no error")
	}
	if c := store.get("INBOX"); c.LastUID != 1 {
		t.Fatalf("cursor LastUID = %d, want 1: the stored message must be remembered", c.LastUID)
	}
	p.deliver = rec.deliver
	mustPoll(t, p, 1)
	if got, want := rec.subjects(), []string{"one", "two"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestPollerUIDValidityChangeRestarts(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("old one"))
	env.appendMsg(t, "INBOX", testMsg("old two"))
	store := newMemCursorStore()
	rec := &recorder{}
	lg, logs := newTestLogger()
	p := NewPoller(IMAPConfig{Addr: env.addr, Username: imapUser, Password: imapPass}, store, rec.deliver, lg)
	t.Cleanup(func() { p.Close() })
	mustPoll(t, p, 2)
	oldValidity := store.get("INBOX").UIDValidity

	// The server rebuilt the mailbox: same name, new UIDVALIDITY, UIDs from 1 again.
	if err := env.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := env.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	env.appendMsg(t, "INBOX", testMsg("new one"))
	newValidity := env.uidValidity(t, "INBOX")
	if newValidity == oldValidity {
		t.Fatal("test setup: UIDVALIDITY did not change")
	}

	mustPoll(t, p, 1) // UID 1 again, but under the new validity: delivered
	if c, want := store.get("INBOX"), (Cursor{UIDValidity: newValidity, LastUID: 1}); c != want {
		t.Errorf("cursor = %+v, want %+v", c, want)
	}
	if !strings.Contains(logs.String(), "UIDVALIDITY changed") {
		t.Errorf("no log of the UIDVALIDITY change:\n%s", logs)
	}
	mustPoll(t, p, 0)
	if got, want := rec.subjects(), []string{"old one", "old two", "new one"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestPollerRestartWithSameStoreDeliversNothingTwice(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	env.appendMsg(t, "INBOX", testMsg("two"))
	store := newMemCursorStore()
	rec := &recorder{}

	first := NewPoller(IMAPConfig{Addr: env.addr, Username: imapUser, Password: imapPass}, store, rec.deliver, nil)
	mustPoll(t, first, 2)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process: new Poller, new connection, same store. Mark the old messages
	// unread to show the cursor, not \Seen, decides what is new.
	c, err := imapclient.DialInsecure(env.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(imapUser, imapPass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		t.Fatal(err)
	}

	second := newTestPoller(t, IMAPConfig{Addr: env.addr}, store, rec)
	mustPoll(t, second, 0)
	env.appendMsg(t, "INBOX", testMsg("three"))
	mustPoll(t, second, 1)
	if got, want := rec.subjects(), []string{"one", "two", "three"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestPollerExpungedNewestMessage(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	store := newMemCursorStore()
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr}, store, rec)
	mustPoll(t, p, 1)

	// UID 2 arrives and is deleted by someone else before we poll: UIDNEXT is past the
	// cursor but "2:*" now only reaches the old UID 1, which must not come back.
	env.appendMsg(t, "INBOX", testMsg("deleted"))
	c, err := imapclient.DialInsecure(env.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(imapUser, imapPass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.UIDSetNum(2), "Processed").Wait(); err != nil {
		t.Fatal(err)
	}

	mustPoll(t, p, 0)
	if got := rec.subjects(); !slices.Equal(got, []string{"one"}) {
		t.Errorf("delivered %v", got)
	}
}

func TestUIDsAfterIgnoresStarMatchAndBounds(t *testing.T) {
	// A server answers "UID SEARCH UID 4:*" with 3 when 3 is the highest UID.
	if got := uidsAfter([]imap.UID{3}, 3, 100); len(got) != 0 {
		t.Errorf("uidsAfter([3], 3) = %v, want none", got)
	}
	got := uidsAfter([]imap.UID{9, 5, 7, 5, 2, 6}, 4, 3)
	if want := []imap.UID{5, 6, 7}; !slices.Equal(got, want) {
		t.Errorf("uidsAfter = %v, want %v", got, want)
	}
}

func TestPollerBatchSize(t *testing.T) {
	env := startIMAP(t, imapPlain)
	for i := 1; i <= 5; i++ {
		env.appendMsg(t, "INBOX", testMsg(fmt.Sprintf("m%d", i)))
	}
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr, BatchSize: 2}, newMemCursorStore(), rec)
	for _, want := range []int{2, 2, 1, 0} {
		mustPoll(t, p, want)
	}
	if got, want := rec.subjects(), []string{"m1", "m2", "m3", "m4", "m5"}; !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
}

func TestPollerMoveTo(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	env.appendMsg(t, "INBOX", testMsg("two"))
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr, MoveTo: "Processed"}, newMemCursorStore(), rec)
	mustPoll(t, p, 2)
	if got := env.mailbox(t, "INBOX"); len(got) != 0 {
		t.Errorf("INBOX still holds %d messages", len(got))
	}
	moved := env.mailbox(t, "Processed")
	if len(moved) != 2 || !moved[0].Seen || !moved[1].Seen {
		t.Fatalf("Processed = %+v, want two \\Seen messages", moved)
	}
	if subjectOf(moved[0].Raw) != "one" || subjectOf(moved[1].Raw) != "two" {
		t.Errorf("moved in the wrong order")
	}
	env.appendMsg(t, "INBOX", testMsg("three"))
	mustPoll(t, p, 1)
	mustPoll(t, p, 0)
}

func TestPollerMissingMoveToStillAdvances(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	env.appendMsg(t, "INBOX", testMsg("two"))
	store := newMemCursorStore()
	rec := &recorder{}
	// The server refuses the MOVE (no such folder): delivered is delivered, so the poll
	// goes on and nothing is delivered twice.
	p := newTestPoller(t, IMAPConfig{Addr: env.addr, MoveTo: "Nope"}, store, rec)
	mustPoll(t, p, 2)
	mustPoll(t, p, 0)
	if c := store.get("INBOX"); c.LastUID != 2 {
		t.Errorf("cursor LastUID = %d, want 2", c.LastUID)
	}
}

func TestPollerReconnectsAfterDroppedConnection(t *testing.T) {
	env := startIMAP(t, imapPlain)
	px := newProxy(t, env.addr)
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: px.addr()}, newMemCursorStore(), rec)
	env.appendMsg(t, "INBOX", testMsg("one"))
	mustPoll(t, p, 1)
	mustPoll(t, p, 0)
	if n := px.accepted(); n != 1 {
		t.Fatalf("%d connections for two polls, want 1 kept open", n)
	}

	px.cutAll()
	env.appendMsg(t, "INBOX", testMsg("two"))
	mustPoll(t, p, 1) // the first SELECT fails on the dead connection; Poll redials
	if n := px.accepted(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
	if got := rec.subjects(); !slices.Equal(got, []string{"one", "two"}) {
		t.Errorf("delivered %v", got)
	}
}

func TestPollerTLS(t *testing.T) {
	for _, tc := range []struct {
		name string
		mode imapMode
		cfg  IMAPConfig
	}{
		{"implicit", imapImplicitTLS, IMAPConfig{TLS: true, InsecureSkipVerify: true}},
		{"starttls", imapStartTLS, IMAPConfig{StartTLS: true, InsecureSkipVerify: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := startIMAP(t, tc.mode)
			env.appendMsg(t, "INBOX", testMsg("secure"))
			rec := &recorder{}
			cfg := tc.cfg
			cfg.Addr = env.addr
			mustPoll(t, newTestPoller(t, cfg, newMemCursorStore(), rec), 1)

			// Without InsecureSkipVerify the self-signed certificate is refused.
			cfg.InsecureSkipVerify = false
			_, err := newTestPoller(t, cfg, newMemCursorStore(), rec).Poll(context.Background())
			if err == nil {
				t.Fatal("Poll trusted a self-signed certificate")
			}
		})
	}
}

func TestPollerBadLogin(t *testing.T) {
	env := startIMAP(t, imapPlain)
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr, Username: imapUser, Password: "wrong"}, newMemCursorStore(), rec)
	if _, err := p.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "login") {
		t.Fatalf("Poll error = %v, want a login failure", err)
	}
}

func TestPollerRun(t *testing.T) {
	env := startIMAP(t, imapPlain)
	env.appendMsg(t, "INBOX", testMsg("one"))
	rec := &recorder{}
	p := newTestPoller(t, IMAPConfig{Addr: env.addr}, newMemCursorStore(), rec)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, 10*time.Millisecond) }()
	waitFor(t, "first message", func() bool { return len(rec.subjects()) == 1 })
	env.appendMsg(t, "INBOX", testMsg("two"))
	waitFor(t, "second message", func() bool { return len(rec.subjects()) == 2 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}
