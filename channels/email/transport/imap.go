package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// DefaultBatchSize bounds how many messages one Poll delivers, so a backlog is worked
// off in steps and a single poll cannot hold the connection for hours.
const DefaultBatchSize = 100

// IMAPConfig says where to fetch inbound mail from.
type IMAPConfig struct {
	Addr               string // host:port
	TLS                bool   // implicit TLS (usually port 993); wins over StartTLS
	StartTLS           bool   // upgrade a plain connection (usually port 143)
	Username           string
	Password           string
	Mailbox            string // default "INBOX"
	MoveTo             string // optional: move each handled message to this mailbox
	InsecureSkipVerify bool   // tests only: accept any server certificate
	BatchSize          int    // messages per Poll; default DefaultBatchSize
	DialTimeout        time.Duration
}

// Cursor is how far a mailbox has been handled: every UID up to LastUID was delivered,
// valid only while the mailbox keeps the same UIDVALIDITY.
type Cursor struct {
	UIDValidity uint32
	LastUID     uint32
}

// CursorStore persists a Cursor per mailbox, so a restart resumes where it left off.
type CursorStore interface {
	Load(ctx context.Context, mailbox string) (Cursor, error)
	Save(ctx context.Context, mailbox string, c Cursor) error
}

// Poller fetches new messages from one IMAP mailbox and hands each one to deliver. It
// keeps one connection open between polls and reconnects when it breaks. Its methods
// are safe to call from several goroutines; polls run one at a time.
type Poller struct {
	cfg     IMAPConfig
	store   CursorStore
	deliver func(ctx context.Context, raw []byte) error
	log     *slog.Logger

	mu     sync.Mutex // serialises polls and guards client
	client *imapclient.Client
}

// NewPoller returns a Poller; it does not connect until the first Poll.
func NewPoller(cfg IMAPConfig, store CursorStore, deliver func(ctx context.Context, raw []byte) error, log *slog.Logger) *Poller {
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 30 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "imap", "addr", cfg.Addr, "mailbox", cfg.Mailbox)
	return &Poller{cfg: cfg, store: store, deliver: deliver, log: log}
}

// Run polls every interval (default one minute) until ctx ends, logging failures; a
// failed poll is simply tried again on the next tick. It returns ctx's error.
func (p *Poller) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Minute
	}
	defer p.Close()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := p.Poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			p.log.Warn("poll failed", "delivered", n, "err", err)
		case n > 0:
			p.log.Info("polled", "delivered", n)
		}
		// A full batch means there is probably more: go again without waiting.
		if err == nil && n >= p.cfg.BatchSize {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Close logs out and drops the connection; a later Poll reconnects.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		return nil
	}
	c := p.client
	p.client = nil
	logoutErr := c.Logout().Wait()
	if err := c.Close(); err != nil && !errors.Is(err, net.ErrClosed) && logoutErr == nil {
		return fmt.Errorf("close imap connection: %w", err)
	}
	return nil
}

// Poll delivers the messages that arrived since the last successful delivery, oldest
// first, at most BatchSize of them, and returns how many were delivered. If deliver
// fails, Poll stops there and returns its error: that message and those after it are
// fetched again by the next Poll. A message deliver rejects (ErrRejected) is left unread
// and flagged \Flagged, and Poll goes on past it.
func (p *Poller) Poll(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return 0, err
	}

	cur, err := p.store.Load(ctx, p.cfg.Mailbox)
	if err != nil {
		return 0, fmt.Errorf("load imap cursor: %w", err)
	}

	c, sel, err := p.selectMailbox(ctx)
	if err != nil {
		return 0, err
	}
	// imapclient takes no context: closing the connection is what interrupts a command
	// in flight when ctx ends.
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer func() {
		if !stop() {
			p.dropConn() // ctx ended and closed the connection under us
		}
	}()

	if cur.UIDValidity != sel.UIDValidity {
		if cur.UIDValidity != 0 {
			// The server renumbered the mailbox: old UIDs mean nothing now, so the only
			// way to miss nothing is to go through it again from the start.
			p.log.Warn("UIDVALIDITY changed; restarting from UID 1",
				"old_uidvalidity", cur.UIDValidity, "new_uidvalidity", sel.UIDValidity, "old_last_uid", cur.LastUID)
		} else {
			p.log.Info("no cursor yet; starting from UID 1", "uidvalidity", sel.UIDValidity)
		}
		cur = Cursor{UIDValidity: sel.UIDValidity}
		if err := p.store.Save(ctx, p.cfg.Mailbox, cur); err != nil {
			return 0, fmt.Errorf("save imap cursor: %w", err)
		}
	}

	if sel.NumMessages == 0 || (sel.UIDNext != 0 && uint32(sel.UIDNext) <= cur.LastUID+1) {
		return 0, nil // nothing newer than the cursor: skip the search
	}

	uids, err := p.newUIDs(c, cur.LastUID)
	if err != nil {
		return 0, p.connErr(err)
	}

	delivered := 0
	for _, uid := range uids {
		if err := ctx.Err(); err != nil {
			return delivered, err
		}
		raw, found, err := fetchRaw(c, uid)
		if err != nil {
			return delivered, p.connErr(fmt.Errorf("fetch uid %d: %w", uid, err))
		}
		rejected := false
		if found {
			if err := p.deliver(ctx, raw); errors.Is(err, ErrRejected) {
				// It can never be stored: retrying would block the mailbox behind it, and
				// marking it read would drop it. It stays unread and flagged for a person.
				rejected = true
				p.log.Warn("message refused; left unread and flagged in the mailbox", "uid", uid, "bytes", len(raw), "reason", err)
			} else if err != nil {
				// Leave the cursor before this message so the next poll starts with it.
				return delivered, fmt.Errorf("deliver uid %d: %w", uid, err)
			}
		} else {
			// Expunged between SEARCH and FETCH; UIDs are never reused, so step over it.
			p.log.Info("message vanished before fetch; skipping", "uid", uid)
		}

		// The cursor is saved before the server-side bookkeeping: if marking or moving
		// fails afterwards, the message stays unread in the mailbox but is not delivered
		// a second time.
		cur.LastUID = uint32(uid)
		if err := p.saveDelivered(ctx, cur); err != nil {
			return delivered, fmt.Errorf("save imap cursor after uid %d: %w", uid, err)
		}
		if !found {
			continue
		}
		if rejected {
			if err := p.markRejected(c, uid); err != nil {
				if !isIMAPError(err) {
					return delivered, p.connErr(err)
				}
				p.log.Warn("could not flag refused message", "uid", uid, "err", err)
			}
			continue
		}
		delivered++
		p.log.Debug("delivered", "uid", uid, "bytes", len(raw))

		if err := p.markHandled(c, uid); err != nil {
			if !isIMAPError(err) {
				return delivered, p.connErr(err)
			}
			// The server refused (read-only mailbox, missing MoveTo folder...): the
			// message is delivered and the cursor is past it, so carry on.
			p.log.Warn("could not mark handled message", "uid", uid, "err", err)
		}
	}
	return delivered, nil
}

// saveDelivered records a delivery even if ctx was cancelled meanwhile: the message is
// stored, and forgetting that would deliver it again.
func (p *Poller) saveDelivered(ctx context.Context, cur Cursor) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return p.store.Save(ctx, p.cfg.Mailbox, cur)
}

// selectMailbox returns a connection with the mailbox selected, reusing the open one
// when it still works and otherwise dialling again, once.
func (p *Poller) selectMailbox(ctx context.Context) (*imapclient.Client, *imap.SelectData, error) {
	reused := p.client != nil
	c, err := p.conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	sel, err := c.Select(p.cfg.Mailbox, nil).Wait()
	if err != nil && reused && !isIMAPError(err) && ctx.Err() == nil {
		// The kept connection died while idle (server timeout, network blip).
		p.log.Info("imap connection lost; reconnecting", "err", err)
		p.dropConn()
		if c, err = p.conn(ctx); err != nil {
			return nil, nil, err
		}
		sel, err = c.Select(p.cfg.Mailbox, nil).Wait()
	}
	if err != nil {
		return nil, nil, p.connErr(fmt.Errorf("select %q: %w", p.cfg.Mailbox, err))
	}
	return c, sel, nil
}

// conn returns the open connection or dials, upgrades and logs in a new one.
func (p *Poller) conn(ctx context.Context) (*imapclient.Client, error) {
	if p.client != nil {
		select {
		case <-p.client.Closed():
			p.dropConn()
		default:
			return p.client, nil
		}
	}

	dialCtx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
	defer cancel()
	host, _, err := net.SplitHostPort(p.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("imap address %q: %w", p.cfg.Addr, err)
	}
	tlsCfg := &tls.Config{ServerName: host, InsecureSkipVerify: p.cfg.InsecureSkipVerify, MinVersion: tls.VersionTLS12}
	opts := &imapclient.Options{TLSConfig: tlsCfg}

	var d net.Dialer
	nc, err := d.DialContext(dialCtx, "tcp", p.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dial imap %s: %w", p.cfg.Addr, err)
	}
	// Bound the handshake and login by dialCtx too; imapclient has no context.
	stop := context.AfterFunc(dialCtx, func() { nc.Close() })
	defer stop()

	var c *imapclient.Client
	switch {
	case p.cfg.TLS:
		tc := tls.Client(nc, tlsCfg)
		if err := tc.HandshakeContext(dialCtx); err != nil {
			nc.Close()
			return nil, fmt.Errorf("imap tls handshake with %s: %w", p.cfg.Addr, err)
		}
		c = imapclient.New(tc, opts)
	case p.cfg.StartTLS:
		if c, err = imapclient.NewStartTLS(nc, opts); err != nil {
			return nil, fmt.Errorf("imap starttls with %s: %w", p.cfg.Addr, err)
		}
	default:
		c = imapclient.New(nc, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap greeting from %s: %w", p.cfg.Addr, err)
	}
	if err := c.Login(p.cfg.Username, p.cfg.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("imap login as %q: %w", p.cfg.Username, err)
	}
	if !stop() {
		c.Close()
		return nil, fmt.Errorf("connect to imap %s: %w", p.cfg.Addr, context.Cause(dialCtx))
	}
	p.client = c
	p.log.Debug("imap connected")
	return c, nil
}

// newUIDs lists the UIDs above lastUID, ascending, at most one batch.
func (p *Poller) newUIDs(c *imapclient.Client, lastUID uint32) ([]imap.UID, error) {
	// "lastUID+1:*" always matches the highest UID, even when it is not above lastUID
	// (RFC 3501 6.4.8), so the result is filtered rather than trusted.
	set := imap.UIDSet{{Start: imap.UID(lastUID + 1), Stop: 0}}
	data, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return nil, fmt.Errorf("uid search %d:*: %w", lastUID+1, err)
	}
	all, ok := data.All.(imap.UIDSet)
	if data.All != nil && !ok {
		return nil, fmt.Errorf("uid search %d:*: server answered with sequence numbers", lastUID+1)
	}
	nums, ok := all.Nums()
	if !ok {
		return nil, fmt.Errorf("uid search %d:*: server answered with an open range %v", lastUID+1, all)
	}
	return uidsAfter(nums, lastUID, p.cfg.BatchSize), nil
}

// uidsAfter keeps the UIDs above lastUID, ascending and without repeats, at most limit.
func uidsAfter(uids []imap.UID, lastUID uint32, limit int) []imap.UID {
	var out []imap.UID
	for _, uid := range uids {
		if uint32(uid) > lastUID {
			out = append(out, uid)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// fetchRaw returns the whole message with BODY.PEEK[], which leaves \Seen alone; found
// is false when the server has no message with that UID any more.
func fetchRaw(c *imapclient.Client, uid imap.UID) (raw []byte, found bool, err error) {
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return nil, false, err
	}
	for _, m := range msgs {
		if m.UID != uid {
			continue // an unsolicited FETCH (flag change) for another message
		}
		b := m.FindBodySection(section)
		if b == nil {
			// Skipping would lose the message silently; failing keeps it for a retry
			// and makes the broken server visible.
			return nil, false, errors.New("server returned no body")
		}
		return b, true, nil
	}
	return nil, false, nil
}

// markHandled flags the message \Seen and, if configured, moves it out of the way.
func (p *Poller) markHandled(c *imapclient.Client, uid imap.UID) error {
	set := imap.UIDSetNum(uid)
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		return fmt.Errorf("mark uid %d seen: %w", uid, err)
	}
	if p.cfg.MoveTo != "" {
		if _, err := c.Move(set, p.cfg.MoveTo).Wait(); err != nil {
			return fmt.Errorf("move uid %d to %q: %w", uid, p.cfg.MoveTo, err)
		}
	}
	return nil
}

// markRejected flags a message that can never be stored, leaving it unread where it is.
func (p *Poller) markRejected(c *imapclient.Client, uid imap.UID) error {
	err := c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close()
	if err != nil {
		return fmt.Errorf("flag uid %d: %w", uid, err)
	}
	return nil
}

// connErr drops the connection unless err is the server's tagged NO/BAD, after which
// the connection is still usable.
func (p *Poller) connErr(err error) error {
	if !isIMAPError(err) {
		p.dropConn()
	}
	return err
}

func (p *Poller) dropConn() {
	if p.client != nil {
		p.client.Close()
		p.client = nil
	}
}

func isIMAPError(err error) bool {
	var imapErr *imap.Error
	return errors.As(err, &imapErr)
}
