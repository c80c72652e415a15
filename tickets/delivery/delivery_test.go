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

// Automated SMS notices of tickets that are not urgent wait, from 21:00, for 08:00 in the
// calendar's zone; agents' replies, urgent tickets and other channels go at once.
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

// Quiet hours (21:00–08:00) end at 08:00 on the wall clock, also after a night whose
// clocks moved; a notice at 08:30 goes at once.
func TestQuietHoursOnDaylightSavingDays(t *testing.T) {
	cases := []struct {
		name, zone, now string
		wantUntil       string // "" = send now
	}{
		{"new york, night into spring forward", "America/New_York", "2026-03-07T22:00:00-05:00", "2026-03-08T08:00:00-04:00"},
		{"new york, spring forward 07:30", "America/New_York", "2026-03-08T07:30:00-04:00", "2026-03-08T08:00:00-04:00"},
		{"new york, spring forward 08:30 sends", "America/New_York", "2026-03-08T08:30:00-04:00", ""},
		{"new york, spring forward 20:59 sends", "America/New_York", "2026-03-08T20:59:00-04:00", ""},
		{"new york, spring forward 21:00 waits", "America/New_York", "2026-03-08T21:00:00-04:00", "2026-03-09T08:00:00-04:00"},
		{"new york, night into fall back", "America/New_York", "2026-10-31T22:00:00-04:00", "2026-11-01T08:00:00-05:00"},
		{"new york, fall back 01:30 the second time", "America/New_York", "2026-11-01T01:30:00-05:00", "2026-11-01T08:00:00-05:00"},
		{"new york, fall back 07:30 waits", "America/New_York", "2026-11-01T07:30:00-05:00", "2026-11-01T08:00:00-05:00"},
		{"new york, fall back 20:30 sends", "America/New_York", "2026-11-01T20:30:00-05:00", ""},
		{"london, night into spring forward", "Europe/London", "2026-03-28T23:00:00Z", "2026-03-29T08:00:00+01:00"},
		{"london, spring forward 08:15 sends", "Europe/London", "2026-03-29T08:15:00+01:00", ""},
		{"london, night into fall back", "Europe/London", "2026-10-24T21:30:00+01:00", "2026-10-25T08:00:00Z"},
		{"london, fall back 07:45 waits", "Europe/London", "2026-10-25T07:45:00Z", "2026-10-25T08:00:00Z"},
		{"london, fall back 20:30 sends", "Europe/London", "2026-10-25T20:30:00Z", ""},
		{"shanghai unchanged: evening waits", "Asia/Shanghai", "2026-11-25T22:10:00+08:00", "2026-11-26T08:00:00+08:00"},
		{"shanghai unchanged: 08:00 sends", "Asia/Shanghai", "2026-11-26T08:00:00+08:00", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := zoneService(t, c.zone, rfc3339(t, c.now))
			loc := svc.Calendar().Location()
			d := &delivery.Delivery{Message: &tickets.Message{Channel: tickets.ChannelSMS}, Ticket: &tickets.Ticket{Priority: tickets.PriorityNormal}}
			until, quiet := delivery.New(svc).QuietUntil(d)
			got := ""
			if quiet {
				got = until.In(loc).Format(time.RFC3339)
			}
			want := ""
			if c.wantUntil != "" {
				want = rfc3339(t, c.wantUntil).In(loc).Format(time.RFC3339)
			}
			if got != want {
				t.Errorf("a notice at %s: held until %q, want %q", rfc3339(t, c.now).In(loc).Format(time.RFC3339), got, want)
			}
		})
	}
}

// zoneService is a desk whose calendar (09:00–18:00, quiet hours 21:00–08:00) is kept in
// zone.
func zoneService(t *testing.T, zone string, now time.Time) *tickets.Service {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	log := tickettest.Logger()
	cal := tickets.NewCalendar(loc, 9*time.Hour, 18*time.Hour, log)
	return tickets.NewService(tickettest.SQLite(t), tickettest.NewClock(now), tickets.Config{DefaultCountry: "86", PasswordCost: 4, Calendar: cal}, log)
}

func rfc3339(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
