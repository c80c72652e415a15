package delivery_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestQuietHours(t *testing.T) {
	loc := tickettest.Shanghai(t)
	agentID := int64(7)
	cases := []struct {
		name      string
		local     string
		channel   tickets.Channel
		author    *int64
		priority  tickets.Priority
		wantUntil string // "" = send now
	}{
		{"evening notice waits", "2026-11-25 22:10", tickets.ChannelSMS, nil, tickets.PriorityNormal, "2026-11-26 08:00"},
		{"after midnight waits", "2026-11-26 03:00", tickets.ChannelSMS, nil, tickets.PriorityHigh, "2026-11-26 08:00"},
		{"from 21:00", "2026-11-25 21:00", tickets.ChannelSMS, nil, tickets.PriorityLow, "2026-11-26 08:00"},
		{"08:00 sends", "2026-11-26 08:00", tickets.ChannelSMS, nil, tickets.PriorityNormal, ""},
		{"daytime sends", "2026-11-26 14:00", tickets.ChannelSMS, nil, tickets.PriorityNormal, ""},
		{"urgent sends", "2026-11-25 23:00", tickets.ChannelSMS, nil, tickets.PriorityUrgent, ""},
		{"an agent's reply sends", "2026-11-25 23:00", tickets.ChannelSMS, &agentID, tickets.PriorityNormal, ""},
		{"email sends", "2026-11-25 23:00", tickets.ChannelEmail, nil, tickets.PriorityNormal, ""},
	}
	for _, c := range cases {
		at, _ := time.ParseInLocation("2006-01-02 15:04", c.local, loc)
		svc := tickets.NewService(tickettest.SQLite(t), tickettest.NewClock(at), tickets.Config{}, nil)
		d := &delivery.Delivery{Message: &tickets.Message{Channel: c.channel, AuthorID: c.author}, Ticket: &tickets.Ticket{Priority: c.priority}}
		until, quiet := delivery.New(svc).QuietUntil(d)
		got := ""
		if quiet {
			got = until.In(loc).Format("2006-01-02 15:04")
		}
		if got != c.wantUntil {
			t.Errorf("%s: until %q, want %q", c.name, got, c.wantUntil)
		}
	}
	off := tickets.NewService(tickettest.SQLite(t), tickettest.NewClock(time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)), tickets.Config{QuietStart: time.Hour, QuietEnd: time.Hour}, nil)
	if _, quiet := delivery.New(off).QuietUntil(&delivery.Delivery{Message: &tickets.Message{Channel: tickets.ChannelSMS}, Ticket: &tickets.Ticket{Priority: tickets.PriorityNormal}}); quiet {
		t.Error("quiet hours switched off still hold messages")
	}
}

// A delivery report is bounded before it reaches the database: an id longer than any
// provider sends, or a huge error code, is bad input on both databases, never a 500 from
// PostgreSQL's index limit nor a failed lookup.
func TestDeliveryReportBounds(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		del := delivery.New(tickettest.Service(db, tickettest.NewClock(tickettest.T0)))
		cases := []struct {
			name, id, status, code string
		}{
			{"a huge id", strings.Repeat("9f", 4500), "delivered", ""},
			{"an id one byte over", strings.Repeat("b", tickets.MaxProviderIDBytes+1), "delivered", ""},
			{"no id", "", "delivered", ""},
			{"a huge error code", "SM1", "failed", strings.Repeat("3", 9000)},
			{"an unknown status", "SM1", "lost", ""},
		}
		for _, c := range cases {
			if _, err := del.UpdateDelivery(ctx, tickets.ChannelSMS, c.id, c.status, c.code); !errors.Is(err, tickets.ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", c.name, err)
			}
		}
		// Within the bounds, a report of a message nobody sent is simply not ours.
		if known, err := del.UpdateDelivery(ctx, tickets.ChannelSMS, strings.Repeat("a", tickets.MaxProviderIDBytes), "delivered", "30003"); err != nil || known {
			t.Errorf("report at the bound: known %v, %v; want unknown, no error", known, err)
		}
	})
}
