package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
)

// Sending: the due deliveries found, each claimed by one worker for one attempt, signed
// and POSTed, its attempt recorded, retried with back-off, a failing receiver's
// subscription paused once, and week-old deliveries removed.

// Request headers of every delivery.
const (
	HeaderEventID   = "Hotline-Event-Id"
	HeaderEvent     = "Hotline-Event"
	HeaderTimestamp = "Hotline-Timestamp"
	HeaderSignature = "Hotline-Signature"
	UserAgent       = "Hotline-Webhooks/1"
)

// Bounds of a receiver's answer: what is read of it, and what is kept.
const (
	readLimit = 64 << 10
	keepLimit = 4 << 10
)

// backoff is the wait after each failed attempt, the last repeated until GiveUpAfter.
var backoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, 30 * time.Minute, time.Hour, 3 * time.Hour, 6 * time.Hour}

// Backoff is the wait after the n-th failed attempt (n from 1), before jitter.
func Backoff(n int) time.Duration { return backoff[min(max(n, 1), len(backoff))-1] }

// jittered spreads a wait by up to a tenth either way, so that receivers that failed
// together are not retried together.
func jittered(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}

// Sign is the hex HMAC-SHA256, under secret, of the timestamp (Unix seconds), a dot and
// the body: the v1 signature.
func Sign(secret string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// A receiver must be at a public address: IPv4 outside IANA's special-purpose address
// registry, or IPv6 global unicast (2000::/3) outside the IPv6 one; an IPv6 address that
// carries an IPv4 address (mapped, NAT64's well-known prefix, 6to4, Teredo) is judged by
// the IPv4 addresses in it, since that is where it leads.
var (
	// specialV4 is the IPv4 special-purpose registry (RFC 6890 and its updates) and
	// multicast: "this network", private, CGNAT, loopback, link-local, IETF protocol
	// assignments, documentation, AS112, AMT, the 6to4 relay anycast, benchmarking,
	// multicast, reserved and broadcast.
	specialV4 = prefixes("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
		"192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4")
	// globalV6 is where public IPv6 unicast is; specialV6 the special-purpose ranges in it:
	// IETF protocol assignments (benchmarking, ORCHID, AMT, ...), documentation and AS112.
	// Teredo (in the first) and 6to4 are unwrapped before they are looked up.
	globalV6  = netip.MustParsePrefix("2000::/3")
	specialV6 = prefixes("2001::/23", "2001:db8::/32", "2620:4f:8000::/48", "3fff::/20")
	nat64     = netip.MustParsePrefix("64:ff9b::/96") // RFC 6052's well-known prefix; 64:ff9b:1::/48 is local-use
	sixToFour = netip.MustParsePrefix("2002::/16")
	teredo    = netip.MustParsePrefix("2001::/32")
)

func prefixes(ss ...string) []netip.Prefix {
	ps := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		ps[i] = netip.MustParsePrefix(s)
	}
	return ps
}

func inAny(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// blockedAddr says whether a receiver at ip could reach inside Hotline's network, or is
// at no public address at all: anything but public unicast, as above.
func blockedAddr(ip netip.Addr) bool {
	ip = ip.WithZone("") // a zoned address matches no prefix
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is4() {
		return inAny(specialV4, ip)
	}
	if !ip.Is6() {
		return true
	}
	b := ip.As16()
	v4 := func(i int) netip.Addr { return netip.AddrFrom4([4]byte(b[i : i+4])) }
	switch {
	case nat64.Contains(ip): // 64:ff9b::a.b.c.d
		return blockedAddr(v4(12))
	case sixToFour.Contains(ip): // 2002:AABB:CCDD::/48
		return blockedAddr(v4(2))
	case teredo.Contains(ip): // 2001:0:server:flags:port:client, the client's bits inverted
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return blockedAddr(v4(4)) || blockedAddr(netip.AddrFrom4(client))
	}
	// Everything else outside 2000::/3 is loopback, unspecified, IPv4-compatible (::a.b.c.d),
	// SIIT (::ffff:0:a.b.c.d), local-use NAT64, discard-only (100::/64), unique local,
	// site-local, link-local, multicast or unassigned.
	return !globalV6.Contains(ip) || inAny(specialV6, ip)
}

// errBlocked refuses a connection to an address inside the network.
var errBlocked = errors.New("refused: the receiver's address is private, loopback, link-local or reserved, not a public one (HOTLINE_WEBHOOKS_ALLOW_PRIVATE allows it)")

// guardedDial refuses, as each connection is made, addresses blockedAddr names: after the
// name is resolved, so a name that resolves inside (or is re-bound to) the network is
// caught too.
func guardedDial(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", network, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || blockedAddr(ip) {
		return errBlocked
	}
	return nil
}

// newClient is the HTTP client deliveries are sent with: no proxy from the environment,
// no redirects followed (a 3xx is a failure), the SSRF guard unless AllowPrivate, and
// the timeout from connection to the answer read.
func newClient(cfg Config) *http.Client {
	d := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	if !cfg.AllowPrivate {
		d.Control = guardedDial
	}
	return &http.Client{
		Transport: &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: cfg.Timeout,
			ResponseHeaderTimeout: cfg.Timeout, MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       cfg.Timeout,
	}
}

// Due is a delivery whose attempt is due, with its attempts so far.
type Due struct {
	ID       int64 `bun:"id"`
	Attempts int   `bun:"attempts"`
}

// claimable is the condition under which a delivery (table d) may be claimed now: pending
// and due, or claimed by a worker whose claim lapsed; its subscription active (or it is a
// ping); and no earlier event of its ticket undelivered to that subscription.
const claimable = `((d.state = 'pending' AND d.next_attempt_at <= ?0) OR (d.state = 'delivering' AND d.claimed_until < ?0))
	AND EXISTS (SELECT 1 FROM webhook_subscriptions AS s WHERE s.id = d.subscription_id AND s.deleted_at IS NULL
		AND (s.state = 'active' OR d.event = 'ping'))
	AND NOT EXISTS (SELECT 1 FROM webhook_deliveries AS e WHERE e.subscription_id = d.subscription_id
		AND e.ticket_id = d.ticket_id AND e.event_id < d.event_id AND e.state IN ('pending', 'delivering'))`

// DueDeliveries lists up to limit deliveries that may be sent now, oldest event first:
// what the sweep hands to the workers.
func (s *Service) DueDeliveries(ctx context.Context, limit int) ([]Due, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var out []Due
	err := s.svc.DB().NewSelect().TableExpr("webhook_deliveries AS d").Column("d.id", "d.attempts").
		Where(claimable, s.svc.Now()).OrderExpr("d.event_id, d.id").Limit(limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("list due webhook deliveries: %w", err)
	}
	return out, nil
}

// claim takes delivery id for one attempt, held by the database: a guarded update that
// only one worker wins. It returns the row as claimed, or nil when it is not claimable.
func (s *Service) claim(ctx context.Context, id int64) (*deliveryRow, error) {
	now := s.svc.Now()
	res, err := s.svc.DB().NewUpdate().TableExpr("webhook_deliveries AS d").
		Set("state = ?, claimed_until = ?, attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, ?)",
			DeliveryDelivering, now.Add(s.cfg.Timeout+30*time.Second), now).
		Where("d.id = ?", id).Where(claimable, now).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim webhook delivery %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil, nil
	}
	d := new(deliveryRow)
	if err := s.svc.DB().NewSelect().Model(d).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load webhook delivery %d: %w", id, err)
	}
	return d, nil
}

// Send makes one attempt of delivery id when it can claim it, and records the outcome;
// it reports whether it attempted. Another worker's claim, a delivery not due or already
// delivered, a paused subscription or an earlier event of the ticket undelivered: false.
func (s *Service) Send(ctx context.Context, id int64) (bool, error) {
	d, err := s.claim(ctx, id)
	if err != nil || d == nil {
		return false, err
	}
	rec := context.WithoutCancel(ctx) // the POST may have happened: its outcome is recorded
	sub := new(subscriptionRow)
	if err := s.svc.DB().NewSelect().Model(sub).Where("id = ?", d.SubscriptionID).Scan(ctx); err != nil {
		return false, errors.Join(fmt.Errorf("load webhook subscription %d: %w", d.SubscriptionID, err), s.release(rec, d))
	}
	sigs, err := s.signatures(sub, d.Body)
	if err != nil { // a secret this server cannot open: nothing can be sent, the admins see why
		s.svc.Logger().Warn("a webhook's secret cannot be opened", "subscription", sub.ID, "err", err)
		return true, s.record(rec, d, attemptRow{Error: err.Error()})
	}
	at := s.svc.Now()
	start := time.Now()
	status, answer, perr := s.post(ctx, sub.URL, d, sigs)
	took := time.Since(start)
	a := attemptRow{At: at, DurationMS: took.Milliseconds(), Status: status, ResponseBody: answer}
	if perr != nil {
		a.Error = perr.Error()
	} else if status < 200 || status > 299 {
		a.Error = fmt.Sprintf("the receiver answered %d", status)
	}
	return true, s.record(rec, d, a)
}

// signatures is the Hotline-Signature value for body now: v1 under the secret, and during
// a rotation v1 under the previous secret after it.
func (s *Service) signatures(sub *subscriptionRow, body string) (func(ts int64) string, error) {
	secret, err := s.sealer().Open(sub.Secret)
	if err != nil {
		return nil, err
	}
	var previous string
	if sub.PreviousSecret != nil && sub.PreviousSecretUntil != nil && s.svc.Now().Before(*sub.PreviousSecretUntil) {
		if previous, err = s.sealer().Open(*sub.PreviousSecret); err != nil {
			return nil, err
		}
	}
	return func(ts int64) string {
		v := "v1=" + Sign(secret, ts, []byte(body))
		if previous != "" {
			v += ",v1=" + Sign(previous, ts, []byte(body))
		}
		return v
	}, nil
}

// post sends the delivery and returns the status and the first keepLimit bytes of the
// answer (as valid UTF-8 with no NULs, for the database), or why there was none.
func (s *Service) post(ctx context.Context, target string, d *deliveryRow, sign func(int64) string) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader([]byte(d.Body)))
	if err != nil {
		return 0, "", fmt.Errorf("build request: %w", err)
	}
	ts := s.svc.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEventID, EventID(d.EventID))
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, sign(ts))
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", errors.New(postError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, readLimit))
	answer := cleanText(b[:min(len(b), keepLimit)])
	if err != nil {
		return 0, answer, fmt.Errorf("read the answer: %s", postError(err))
	}
	return resp.StatusCode, answer, nil
}

// postError is why a POST got no answer, without the URL (its query may carry a token).
func postError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "timed out"
		}
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// cleanText is b as text a database keeps: valid UTF-8, no NUL bytes.
func cleanText(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if !utf8.ValidString(s) {
		return ""
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// release gives a claim back untried (the subscription could not be read).
func (s *Service) release(ctx context.Context, d *deliveryRow) error {
	_, err := s.svc.DB().NewUpdate().Model((*deliveryRow)(nil)).
		Set("state = ?, claimed_until = NULL, attempts = attempts - 1", DeliveryPending).
		Where("id = ? AND state = ? AND attempts = ?", d.ID, DeliveryDelivering, d.Attempts).Exec(ctx)
	if err != nil {
		return fmt.Errorf("release webhook delivery %d: %w", d.ID, err)
	}
	return nil
}

// record stores an attempt and its outcome under the claim (the delivery still
// "delivering" with the attempts it was claimed with): delivered on a 2xx, else retried
// after the back-off or failed a GiveUpAfter after its first attempt; and the
// subscription's run of failures, pausing it once when it is long enough.
func (s *Service) record(ctx context.Context, d *deliveryRow, a attemptRow) error {
	ok := a.Error == ""
	return s.svc.InTx(ctx, func(tx tickets.Tx) error {
		now := s.svc.Now()
		if a.At.IsZero() {
			a.At = now
		}
		a.DeliveryID = d.ID
		if _, err := tx.NewInsert().Model(&a).Exec(ctx); err != nil {
			return fmt.Errorf("store webhook attempt: %w", err)
		}
		q := tx.NewUpdate().Model((*deliveryRow)(nil)).Set("claimed_until = NULL, last_status = ?, last_error = ?", a.Status, a.Error).
			Where("id = ? AND state = ? AND attempts = ?", d.ID, DeliveryDelivering, d.Attempts)
		first := now
		if d.FirstAttemptAt != nil {
			first = *d.FirstAttemptAt
		}
		switch {
		case ok:
			q = q.Set("state = ?, delivered_at = ?, next_attempt_at = NULL", DeliveryDelivered, now)
		case now.Sub(first) >= s.cfg.GiveUpAfter:
			q = q.Set("state = ?, next_attempt_at = NULL", DeliveryFailed)
		default:
			q = q.Set("state = ?, next_attempt_at = ?", DeliveryPending, now.Add(jittered(Backoff(d.Attempts))))
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return fmt.Errorf("record webhook delivery %d: %w", d.ID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			// The claim lapsed and another worker took the delivery over: the attempt is
			// kept, the outcome is that worker's to record.
			s.svc.Logger().Warn("a webhook attempt finished after its claim lapsed", "delivery", d.ID)
			return nil
		}
		if ok {
			_, err := tx.NewUpdate().Model((*subscriptionRow)(nil)).
				Set("failures = 0, failing_since = NULL, last_success_at = ?", now).Where("id = ?", d.SubscriptionID).Exec(ctx)
			if err != nil {
				return fmt.Errorf("record webhook success: %w", err)
			}
			return nil
		}
		if _, err := tx.NewUpdate().Model((*subscriptionRow)(nil)).
			Set("failures = failures + 1, failing_since = COALESCE(failing_since, ?), last_failure_at = ?", now, now).
			Where("id = ?", d.SubscriptionID).Exec(ctx); err != nil {
			return fmt.Errorf("record webhook failure: %w", err)
		}
		return s.pauseFailing(ctx, tx, d.SubscriptionID, now)
	})
}

// pauseFailing pauses a subscription whose run of failed attempts reached
// PauseAfterFailures over at least PauseAfterSpan, once (a guarded update), and tells
// every admin: a staff notice each and the audit trail.
func (s *Service) pauseFailing(ctx context.Context, tx tickets.Tx, id int64, now time.Time) error {
	res, err := tx.NewUpdate().Model((*subscriptionRow)(nil)).
		Set("state = ?, paused_reason = ?, paused_at = ?, updated_at = ?", StatePaused, PausedFailing, now, now).
		Where("id = ? AND state = ? AND deleted_at IS NULL AND failures >= ? AND failing_since <= ?",
			id, StateActive, s.cfg.PauseAfterFailures, now.Add(-s.cfg.PauseAfterSpan)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("pause failing webhook %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return nil
	}
	sub := new(subscriptionRow)
	if err := tx.NewSelect().Model(sub).Where("id = ?", id).Scan(ctx); err != nil {
		return fmt.Errorf("load webhook subscription %d: %w", id, err)
	}
	if err := tx.Record(ctx, tx.Event(tickets.Actor{Kind: "system"}, "webhook", id, "webhook.paused",
		map[string]any{"reason": PausedFailing, "failures": sub.Failures, "failing_since": sub.FailingSince})); err != nil {
		return err
	}
	admins, err := tx.AgentsWithRole(ctx, tickets.RoleAdmin, nil)
	if err != nil {
		return err
	}
	notes := make([]*tickets.Notice, len(admins))
	for i, a := range admins {
		notes[i] = &tickets.Notice{AgentID: a, Kind: KindPausedNotice, Link: PagePath(id), Body: fmt.Sprintf(
			"Webhook 已暂停 paused: %q (%s) failed %d times in a row since %s; its deliveries wait until an admin resumes it.",
			sub.Name, hostOf(sub.URL), sub.Failures, sub.FailingSince.UTC().Format(time.RFC3339))}
	}
	s.svc.Logger().Warn("a webhook was paused after repeated failures", "subscription", id, "failures", sub.Failures)
	return tx.AddNotices(ctx, notes)
}

// PagePath is the console's page of subscription id, which the notice of its pause links.
func PagePath(id int64) string { return fmt.Sprintf("/admin/webhooks/%d", id) }

// KindPausedNotice is the kind of the staff notice telling admins a webhook was paused.
const KindPausedNotice = "webhook.paused"

// Purge removes deliveries that ended (delivered or failed) more than KeepFor ago, with
// their attempts, in bounded batches; it returns how many deliveries. Pending ones are
// kept while they wait.
func (s *Service) Purge(ctx context.Context) (int, error) {
	before := s.svc.Now().Add(-s.cfg.KeepFor)
	total := 0
	for range 100 { // at most 100 batches a run; the next run goes on
		var ids []int64
		if err := s.svc.DB().NewSelect().Model((*deliveryRow)(nil)).Column("id").
			Where("created_at < ? AND state IN (?)", before, bun.In([]string{DeliveryDelivered, DeliveryFailed})).
			OrderExpr("id").Limit(500).Scan(ctx, &ids); err != nil {
			return total, fmt.Errorf("find expired webhook deliveries: %w", err)
		}
		if len(ids) == 0 {
			return total, nil
		}
		err := s.svc.InTx(ctx, func(tx tickets.Tx) error {
			if _, err := tx.NewDelete().Model((*attemptRow)(nil)).Where("delivery_id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("remove expired webhook attempts: %w", err)
			}
			if _, err := tx.NewDelete().Model((*deliveryRow)(nil)).Where("id IN (?)", bun.In(ids)).Exec(ctx); err != nil {
				return fmt.Errorf("remove expired webhook deliveries: %w", err)
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(ids)
	}
	return total, nil
}
