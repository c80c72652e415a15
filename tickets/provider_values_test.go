package tickets_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// A provider id longer than any provider sends is refused as bad input on both databases,
// never a 500 from PostgreSQL's index limit nor a row stored on SQLite.
func TestProviderMessageIDBound(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		cases := []struct {
			name string
			id   string
			ok   bool
		}{
			{"an email Message-ID filling its line", "<" + strings.Repeat("m", 996) + ">", true},
			{"at the bound", strings.Repeat("a", tickets.MaxProviderIDBytes), true},
			{"one byte over", strings.Repeat("b", tickets.MaxProviderIDBytes+1), false},
			{"past PostgreSQL's index limit", incompressible(9000), false},
			{"not UTF-8", "id-\xff", false},
			{"a NUL", "id\x00", false},
		}
		stored := 0
		for _, c := range cases {
			in := tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "wang@example.com", Body: c.name, ProviderMessageID: c.id}
			_, err := svc.Intake(ctx, in)
			switch {
			case c.ok && err != nil:
				t.Errorf("%s: %v", c.name, err)
			case c.ok:
				stored++
			case !errors.Is(err, tickets.ErrInvalid):
				t.Errorf("%s: %v, want ErrInvalid", c.name, err)
			}
		}
		if n, _ := db.NewSelect().Table("messages").Count(ctx); n != stored {
			t.Errorf("%d messages stored, want %d", n, stored)
		}
		// A delivery report for such an id is bad input too (tickets/delivery tests it).
	})
}

// incompressible is n hexadecimal digits PostgreSQL cannot compress into its index.
func incompressible(n int) string {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, n/2)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)
}

// Every channel's provider time passes through one bound: a time far off is replaced by
// the arrival time, and the message's event keeps what the provider said.
func TestProviderTimeBound(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(t0))
		cases := []struct {
			name     string
			at       time.Time
			raw      string
			stored   time.Time
			recorded string
		}{
			{"believable", t0.Add(-time.Hour), "", t0.Add(-time.Hour), ""},
			{"six days back", t0.Add(-6 * 24 * time.Hour), "", t0.Add(-6 * 24 * time.Hour), ""},
			{"a clock a little ahead", t0.Add(time.Minute), "", t0, ""},
			{"a day ahead", t0.Add(24 * time.Hour), "", t0, t0.Add(24 * time.Hour).Format(time.RFC3339Nano)},
			{"eight days back", t0.Add(-8 * 24 * time.Hour), "", t0, t0.Add(-8 * 24 * time.Hour).Format(time.RFC3339Nano)},
			{"the year 20000", time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), "", t0, "20000-01-01T00:00:00Z"},
			{"year one", time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), "", t0, "0001-01-01T00:00:01Z"},
			{"unreadable, raw kept", time.Time{}, "9223372036854775807", t0, "9223372036854775807"},
			{"raw kept beside a time", t0.Add(-30 * 24 * time.Hour), "1795600000x", t0, "1795600000x"},
		}
		for i, c := range cases {
			in := tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oTime" + string(rune('a'+i)),
				Body: c.name, ReceivedAt: c.at, ProviderTime: c.raw}
			res, err := svc.Intake(ctx, in)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			td, err := svc.Ticket(ctx, res.Ticket.Ref())
			if err != nil {
				t.Fatalf("%s: reading the ticket: %v", c.name, err)
			}
			if got := td.Messages[0].CreatedAt; !got.Equal(c.stored) {
				t.Errorf("%s: stored at %v, want %v", c.name, got, c.stored)
			}
			recorded := ""
			for _, e := range td.Events {
				if e.Kind == "message.received" {
					var data map[string]any
					json.Unmarshal([]byte(e.Data), &data) //nolint:errcheck
					recorded, _ = data["provider_time_ignored"].(string)
				}
			}
			if recorded != c.recorded {
				t.Errorf("%s: the event records %q, want %q", c.name, recorded, c.recorded)
			}
		}
	})
}
