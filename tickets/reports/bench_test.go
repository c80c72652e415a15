package reports_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// BenchmarkDashboard computes the supervisor's page, for the whole desk and for one team,
// on a desk with a year of work: 20,000 tickets over 10 teams, each with an inbound
// message, a complaint on every tenth.
func BenchmarkDashboard(b *testing.B) {
	eachBenchDB(b, func(b *testing.B, db *bun.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		team := seedYear(b, db, now, 20_000)
		svc := tickettest.Service(db, tickets.ClockFunc(func() time.Time { return now }))
		rep := reports.New(svc)
		for _, c := range []struct {
			name string
			team *int64
		}{{"all", nil}, {"team", &team}} {
			b.Run(c.name, func(b *testing.B) {
				for b.Loop() {
					dash, err := rep.Dashboard(ctx, c.team)
					if err != nil || dash.Month.Created == 0 {
						b.Fatalf("%v, %+v", err, dash)
					}
				}
			})
		}
	})
}

// seedYear bulk-inserts n tickets created over the year before now, one every ~26 minutes,
// over 10 teams: most answered and resolved in time, some late, some never (their breach
// recorded), the last days' still running; each with an inbound message; a complaint on
// every tenth. It returns a team to filter on.
func seedYear(b *testing.B, db *bun.DB, now time.Time, n int) int64 {
	b.Helper()
	ctx := context.Background()
	var teams []*tickets.Team
	for i := range 10 {
		teams = append(teams, &tickets.Team{Name: fmt.Sprintf("Team %d", i), CreatedAt: now, UpdatedAt: now})
	}
	if _, err := db.NewInsert().Model(&teams).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	var agents []*tickets.Agent
	for i := range 50 {
		agents = append(agents, &tickets.Agent{Email: fmt.Sprintf("a%d@example.com", i), Name: "A", Role: tickets.RoleAgent, TeamID: &teams[i%10].ID,
			Capacity: 10, PasswordHash: "x", Locale: "en", Active: true, Online: i%3 == 0, CreatedAt: now, UpdatedAt: now})
	}
	if _, err := db.NewInsert().Model(&agents).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	customer := &tickets.Customer{Name: "C", CreatedAt: now, UpdatedAt: now}
	if _, err := db.NewInsert().Model(customer).Exec(ctx); err != nil {
		b.Fatal(err)
	}
	bodies := []string{"理赔进度怎么样了", "我的理赔款什么时候到账", "车险定损太慢了", "Where do I send the claim form?",
		"网点排队太久", "invoice missing, 发票丢了", "退保 refund please", "保单号 P123 续保缴费"}
	at := func(t time.Time) *time.Time { return &t }
	for start := 0; start < n; start += 1000 {
		batch := make([]*tickets.Ticket, 0, 1000)
		for i := start; i < start+1000 && i < n; i++ {
			c := now.Add(-time.Duration(i+1) * 1577 * time.Second)
			a := agents[i%len(agents)]
			t := &tickets.Ticket{CustomerID: customer.ID, Channel: tickets.ChannelSMS, Subject: "load", Category: "claims",
				Priority: tickets.PriorityNormal, Status: tickets.StatusResolved, TeamID: a.TeamID, AssigneeID: &a.ID,
				FirstResponseDueAt: at(c.Add(24 * time.Hour)), ResolutionDueAt: at(c.Add(48 * time.Hour)), SLAStartedAt: &c,
				NextDueAt: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), CreatedAt: c, UpdatedAt: c}
			if i%3 == 0 {
				t.Channel = tickets.ChannelEmail
			}
			switch recent := now.Sub(c) < 2*24*time.Hour; {
			case recent || i%10 == 0:
				if !recent {
					t.FirstResponseBreachedAt = t.FirstResponseDueAt
				}
			case i%10 == 1:
				t.FirstRespondedAt = at(c.Add(30 * time.Hour))
			default:
				t.FirstRespondedAt = at(c.Add(time.Duration(i%7) * time.Hour))
			}
			switch recent := now.Sub(c) < 4*24*time.Hour; {
			case recent || i%5 == 0:
				t.Status = tickets.StatusOpen
				t.NextDueAt = *t.FirstResponseDueAt
				if !recent {
					t.ResolutionBreachedAt = t.ResolutionDueAt
				}
			case i%5 == 1:
				t.ResolvedAt = at(c.Add(60 * time.Hour))
			default:
				t.ResolvedAt = at(c.Add(20 * time.Hour))
			}
			batch = append(batch, t)
		}
		if _, err := db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		msgs := make([]*tickets.Message, 0, len(batch))
		var filed []*complaints.Complaint
		for j, t := range batch {
			msgs = append(msgs, &tickets.Message{TicketID: t.ID, Direction: tickets.DirectionInbound, Channel: t.Channel,
				Body: bodies[(start+j)%len(bodies)], DeliveryStatus: "received", CreatedAt: t.CreatedAt})
			if (start+j)%10 == 0 {
				due := t.CreatedAt.Add(14 * 24 * time.Hour)
				cp := &complaints.Complaint{TicketID: t.ID, Source: tickets.SourceCustomer, Summary: "load", ReceivedAt: t.CreatedAt,
					DueAt: due, DeadlineAt: due, Status: tickets.ComplaintInvestigating, CreatedAt: t.CreatedAt, UpdatedAt: t.CreatedAt}
				switch decided := t.CreatedAt.Add(20 * 24 * time.Hour); {
				case decided.After(now):
				case t.ID%4 == 0:
					cp.BreachedAt = &due
				case t.ID%4 == 1:
					cp.Status, cp.DecidedAt = tickets.ComplaintDecided, &decided
				default:
					cp.Status, cp.DecidedAt = tickets.ComplaintDecided, at(t.CreatedAt.Add(5*24*time.Hour))
				}
				filed = append(filed, cp)
			}
		}
		if _, err := db.NewInsert().Model(&msgs).Exec(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := db.NewInsert().Model(&filed).Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil { // both dialects: fresh planner statistics
		b.Fatal(err)
	}
	return *agents[1].TeamID
}

func eachBenchDB(b *testing.B, fn func(b *testing.B, db *bun.DB)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, tickettest.SQLite(b)) })
	b.Run("postgres", func(b *testing.B) { fn(b, tickettest.Postgres(b)) })
}
