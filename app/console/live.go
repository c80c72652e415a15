package console

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// hub turns new audit events and staff notices into live updates for every open console
// page of this process. It reads the events and notices tables, so a change made by any
// process of a cluster (an SMS taken by another API process, a breach found by a worker)
// reaches every browser, and nothing is needed beside the database. One poller runs while
// anyone is watching.
type hub struct {
	svc   *tickets.Service
	every time.Duration
	log   *slog.Logger
	// collect writes the notices the audit trail implies (a ticket given to someone):
	// called when an assignment is seen, so its agent hears of it within a poll rather
	// than at the notice worker's next run. Nil: the worker alone writes them.
	collect func(context.Context) (int, error)

	mu     sync.Mutex
	subs   map[chan liveItem]struct{}
	cancel context.CancelFunc
	closed bool
}

// reread is how far below the newest event each poll looks again: ids are taken when a
// transaction inserts, not when it commits, so a slow transaction's event can appear
// after a newer one was already seen.
const reread = 200

// lateCommit is how long after its event was written a transaction may still commit and
// be caught by a reconnecting browser.
const lateCommit = 10 * time.Second

// liveItem is one thing the hub hands its watchers: a change, or a notice for one agent.
type liveItem struct {
	change *tickets.Change
	notice *tickets.NoticeSignal
}

func newHub(svc *tickets.Service, every time.Duration, log *slog.Logger, collect func(context.Context) (int, error)) *hub {
	return &hub{svc: svc, every: every, log: log, collect: collect, subs: map[chan liveItem]struct{}{}}
}

func (h *hub) subscribe() chan liveItem {
	ch := make(chan liveItem, 64)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(ch)
		return ch
	}
	h.subs[ch] = struct{}{}
	if h.cancel == nil {
		// Read where the feed starts before the caller reads its backlog, so that whatever
		// commits after that backlog is news to the feed.
		last, seen := h.start()
		lastNotice, seenNotices := h.startNotices()
		ctx, cancel := context.WithCancel(context.Background())
		h.cancel = cancel
		go h.run(ctx, last, seen, lastNotice, seenNotices)
	}
	return ch
}

// start is where a feed begins: the newest event, and the recent ones that are not news.
func (h *hub) start() (int64, map[int64]bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	seen := map[int64]bool{}
	last, err := h.svc.LastEventID(ctx)
	if err != nil {
		h.log.Warn("live updates: read the last event", "err", err)
		return 0, seen
	}
	known, err := h.svc.ChangesAfter(ctx, max(last-reread, 0), 1000)
	if err != nil {
		h.log.Warn("live updates: read recent events", "err", err)
	}
	for _, c := range known {
		seen[c.ID] = true
	}
	return last, seen
}

// startNotices is where the notices' feed begins: the newest notice, and the recent ones
// that are not news (they are in the unread count each page draws).
func (h *hub) startNotices() (int64, map[int64]bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	seen := map[int64]bool{}
	last, err := h.svc.LastNoticeID(ctx)
	if err != nil {
		h.log.Warn("live updates: read the last notice", "err", err)
		return 0, seen
	}
	known, err := h.svc.NoticesAfter(ctx, max(last-reread, 0), 1000)
	if err != nil {
		h.log.Warn("live updates: read recent notices", "err", err)
	}
	for _, n := range known {
		seen[n.ID] = true
	}
	return last, seen
}

func (h *hub) unsubscribe(ch chan liveItem) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[ch]; !ok {
		return
	}
	delete(h.subs, ch)
	close(ch)
	if len(h.subs) == 0 && h.cancel != nil {
		h.cancel()
		h.cancel = nil
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for ch := range h.subs {
		delete(h.subs, ch)
		close(ch)
	}
	if h.cancel != nil {
		h.cancel()
		h.cancel = nil
	}
}

func (h *hub) run(ctx context.Context, last int64, seen map[int64]bool, lastNotice int64, seenNotices map[int64]bool) {
	tick := time.NewTicker(h.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		changes, err := h.svc.ChangesAfter(ctx, max(last-reread, 0), 1000)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("live updates: read events", "err", err)
			}
			continue
		}
		assigned := false
		for _, c := range changes {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			last = max(last, c.ID)
			assigned = assigned || c.Kind == "ticket.assigned"
			h.broadcast(liveItem{change: c})
		}
		forget(seen, last)
		if assigned && h.collect != nil {
			if _, err := h.collect(ctx); err != nil && ctx.Err() == nil {
				h.log.Warn("live updates: collect assignment notices", "err", err)
			}
		}
		lastNotice = h.notices(ctx, lastNotice, seenNotices)
	}
}

// notices hands on the notices stored since the last poll (and, as for events, those a
// slow transaction committed below ids already seen); it returns the new cursor.
func (h *hub) notices(ctx context.Context, last int64, seen map[int64]bool) int64 {
	ns, err := h.svc.NoticesAfter(ctx, max(last-reread, 0), 1000)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("live updates: read notices", "err", err)
		}
		return last
	}
	for i := range ns {
		n := &ns[i]
		if seen[n.ID] {
			continue
		}
		seen[n.ID] = true
		last = max(last, n.ID)
		h.broadcast(liveItem{notice: n})
	}
	forget(seen, last)
	return last
}

// forget drops the ids a poll no longer rereads.
func forget(seen map[int64]bool, last int64) {
	for id := range seen {
		if id <= last-reread {
			delete(seen, id)
		}
	}
}

// broadcast hands a change to every watcher; one too slow to keep up misses it rather
// than holding up the rest (its page refreshes on the next change or reconnect).
func (h *hub) broadcast(c liveItem) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- c:
		default:
		}
	}
}

// liveChange is what a browser receives for each change.
type liveChange struct {
	ID       int64  `json:"id"` // the event's own id (the SSE id line is the stream's cursor)
	Kind     string `json:"kind"`
	Ticket   string `json:"ticket"`
	Entity   string `json:"entity"`
	Team     int64  `json:"team,omitempty"`
	Assignee int64  `json:"assignee,omitempty"`
	Actor    int64  `json:"actor,omitempty"` // the agent who made it: their own pages need no telling
}

// liveNotice is what a browser receives when its agent is told something: the menu's
// count goes up, and an assignment may ring.
type liveNotice struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Label  string `json:"label"` // the kind in the agent's language
	Body   string `json:"body"`
	Ticket string `json:"ticket,omitempty"`
}

// stream serves GET /live as Server-Sent Events. A stream lasts StreamFor, then the
// browser reconnects by itself with Last-Event-ID, and the events in between are replayed
// from the database, so nothing is missed across reconnects or processes.
func (c *Console) stream(ctx *fiber.Ctx, me *tickets.Agent) error {
	// The browser's last event on a reconnect, else the newest event when its page was drawn.
	after, _ := strconv.ParseInt(ctx.Get("Last-Event-ID"), 10, 64)
	if after <= 0 {
		after = int64(max(ctx.QueryInt("after"), 0))
	}
	ctx.Set(fiber.HeaderContentType, "text/event-stream")
	ctx.Set(fiber.HeaderCacheControl, "no-store")
	ctx.Set("X-Accel-Buffering", "no") // let proxies pass each event at once
	sub := c.live.subscribe()
	var backlog []*tickets.Change
	if after > 0 {
		// What came after the browser's cursor, and below it what committed late (a slow
		// transaction's event, numbered before ones the browser already has).
		changes, err := c.svc.ChangesAfter(ctx.UserContext(), max(after-reread, 0), 500)
		if err != nil {
			c.live.unsubscribe(sub)
			return err
		}
		recent := c.cfg.Clock.Now().Add(-lateCommit)
		for _, ch := range changes {
			if ch.ID > after || ch.CreatedAt.After(recent) {
				backlog = append(backlog, ch)
			}
		}
	}
	streamFor, lang := c.cfg.StreamFor, ui.Lang(ctx, me)
	ctx.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer c.live.unsubscribe(sub)
		fmt.Fprint(w, "retry: 1000\n: hello\n\n")
		if w.Flush() != nil {
			return
		}
		// Each change is sent once, in the order it committed; the id line is the cursor a
		// reconnecting browser resumes from, so it only moves forward.
		sent, cursor := map[int64]bool{}, after
		send := func(ch *tickets.Change) bool {
			if sent[ch.ID] {
				return true
			}
			sent[ch.ID], cursor = true, max(cursor, ch.ID)
			data, _ := json.Marshal(liveChange{ID: ch.ID, Kind: ch.Kind, Ticket: ch.Ref(), Entity: ch.Entity,
				Team: derefID(ch.TeamID), Assignee: derefID(ch.AssigneeID), Actor: derefID(ch.ActorID)})
			fmt.Fprintf(w, "id: %d\nevent: change\ndata: %s\n\n", cursor, data)
			return w.Flush() == nil
		}
		for _, ch := range backlog {
			if !send(ch) {
				return
			}
		}
		end := time.NewTimer(streamFor)
		defer end.Stop()
		ping := time.NewTicker(10 * time.Second)
		defer ping.Stop()
		for {
			select {
			case it, ok := <-sub:
				if !ok {
					return
				}
				if it.change != nil && !send(it.change) {
					return
				}
				// A notice goes only to the agent it is for; it moves no cursor, since a
				// reconnecting page reads the unread count afresh.
				if n := it.notice; n != nil && n.AgentID == me.ID {
					data, _ := json.Marshal(liveNotice{ID: n.ID, Kind: n.Kind, Label: noticeLabel(lang, n.Kind), Body: privacy.MaskText(n.Body), Ticket: refOf(n.TicketID)})
					fmt.Fprintf(w, "event: notice\ndata: %s\n\n", data)
					if w.Flush() != nil {
						return
					}
				}
			case <-ping.C:
				fmt.Fprint(w, ": ping\n\n")
				if w.Flush() != nil {
					return
				}
			case <-end.C:
				return
			}
		}
	})
	return nil
}

// noticeLabel names a notice's kind in lang, as the notices page does.
func noticeLabel(lang, kind string) string {
	if s := ui.T(lang, "notices.kind."+kind); s != "notices.kind."+kind {
		return s
	}
	return ui.T(lang, "notices.kind.other")
}

func refOf(id *int64) string {
	if id == nil {
		return ""
	}
	return tickets.FormatRef(*id)
}

func derefID(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
