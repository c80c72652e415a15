package aftercare_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/delivery"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestParseScore(t *testing.T) {
	cases := []struct {
		in      string
		score   int
		comment string
		ok      bool
	}{
		{"5", 5, "", true},
		{"５", 5, "", true},
		{"5 很满意", 5, "很满意", true},
		{"4分", 4, "", true},
		{" 3 ", 3, "", true},
		{"3.", 3, "", true},
		{"1，太慢了", 1, "太慢了", true},
		{"２分 还行", 2, "还行", true},
		{"5 - great, thanks!", 5, "great, thanks!", true},
		{"thanks", 0, "", false},
		{"6", 0, "", false},
		{"0", 0, "", false},
		{"好的", 0, "", false},
		{"10", 0, "", false},
		{"4.5", 0, "", false},
		{"3pm tomorrow", 0, "", false},
		{"", 0, "", false},
	}
	for _, c := range cases {
		score, comment, ok := aftercare.ParseScore(c.in)
		if score != c.score || comment != c.comment || ok != c.ok {
			t.Errorf("ParseScore(%q) = %d, %q, %v; want %d, %q, %v", c.in, score, comment, ok, c.score, c.comment, c.ok)
		}
	}
}

func TestSurveyOnResolution(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := newDesk(t, db)
		spy := &tickettest.Scheduler{}
		d.Svc.SetScheduler(spy)
		d.configure(aftercare.Config{Surveys: true, PublicBaseURL: "https://desk.example.com/"})

		cases := []struct {
			name string
			in   tickets.Inbound
			ch   tickets.Channel
		}{
			{"sms", tickettest.SMS("+8613800000001", "where is my claim?", "SM1"), tickets.ChannelSMS},
			{"wechat", tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "o_abc123", Body: "理赔进度？"}, tickets.ChannelWeChat},
			{"email", tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "kim@example.com", Subject: "claim", Body: "any news?"}, tickets.ChannelEmail},
		}
		for _, c := range cases {
			res, err := d.Svc.Intake(ctx, c.in)
			if err != nil {
				t.Fatal(err)
			}
			tk := res.Ticket
			d.Resolve(t, tk)
			out := outbound(t, d.Svc, tk.Ref())
			if len(out) != 1 || out[0].Channel != c.ch || out[0].DeliveryStatus != tickets.DeliveryQueued {
				t.Fatalf("%s: outbound %+v", c.name, out)
			}
			if !slices.Contains(spy.Delivered(), out[0].ID) {
				t.Errorf("%s: survey message %d not handed to the sender (%v)", c.name, out[0].ID, spy.Delivered())
			}
			body := out[0].Body
			if c.ch == tickets.ChannelEmail {
				if strings.Contains(body, "/survey/") {
					t.Errorf("the stored email shows the survey link to staff: %q", body)
				}
				sent, err := delivery.New(d.Svc).Delivery(ctx, out[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				body = sent.Body
				token := regexp.MustCompile(`https://desk\.example\.com/survey/([A-Za-z0-9_-]{43})$`).FindStringSubmatch(body)
				if token == nil {
					t.Fatalf("email survey body %q has no link", body)
				}
				sv, err := d.care.SurveyByToken(ctx, token[1])
				if err != nil || sv.TicketID != tk.ID || sv.Channel != tickets.ChannelEmail {
					t.Errorf("survey by token: %+v %v", sv, err)
				}
			} else if body != aftercare.SurveyPrompt {
				t.Errorf("%s: body %q", c.name, body)
			}
			sv, err := d.care.TicketSurvey(ctx, tk.ID)
			if err != nil || sv == nil || !sv.ExpiresAt.Equal(tickettest.T0.Add(7*24*time.Hour)) || sv.MessageID == nil || *sv.MessageID != out[0].ID {
				t.Errorf("%s: survey %+v %v", c.name, sv, err)
			}

			// Reopened and resolved again: still the one survey, asked once.
			if _, err := d.Svc.SetStatus(ctx, d.Admin, tk.Ref(), tickets.StatusOpen, "one more question"); err != nil {
				t.Fatal(err)
			}
			d.Resolve(t, tk)
			if out := outbound(t, d.Svc, tk.Ref()); len(out) != 1 {
				t.Errorf("%s: %d outbound messages after resolving twice", c.name, len(out))
			}
		}
		assertCount(t, db, "surveys", 3)
		if n := tickettest.CountEvents(t, db, "survey.sent"); n != 3 {
			t.Errorf("%d survey.sent events", n)
		}
	})
}

func TestSurveyAnsweredByText(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := surveyDesk(t, db)
		phone := "+8613800000002"
		tk := d.Ticket(t, phone)
		d.Resolve(t, tk)

		// A score keeps the ticket resolved; the reply is kept on it with the score.
		res, err := d.Svc.Intake(ctx, tickettest.SMS(phone, "5 很满意", "SM-A"))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Answered || res.Created || res.Ticket.ID != tk.ID || res.Ticket.Status != tickets.StatusResolved {
			t.Fatalf("score reply: answered %v created %v ticket %s %s", res.Answered, res.Created, res.Ticket.Ref(), res.Ticket.Status)
		}
		sv, _ := d.care.TicketSurvey(ctx, tk.ID)
		if sv.Score == nil || *sv.Score != 5 || sv.Comment != "很满意" || sv.AnsweredVia != "sms" || sv.AnsweredAt == nil {
			t.Errorf("survey after the answer: %+v", sv)
		}
		detail := mustDetail(t, d.Svc, tk.Ref())
		if detail.Status != tickets.StatusResolved || !slices.Contains(eventKinds(detail.Events), "survey.answered") ||
			slices.Contains(eventKinds(detail.Events), "ticket.reopened") {
			t.Errorf("ticket after the score: %s %v", detail.Status, eventKinds(detail.Events))
		}
		// The webhook retried: nothing changes.
		res, err = d.Svc.Intake(ctx, tickettest.SMS(phone, "5 很满意", "SM-A"))
		if err != nil || !res.Duplicate {
			t.Fatalf("retry: %+v %v", res, err)
		}
		if st := mustDetail(t, d.Svc, tk.Ref()).Status; st != tickets.StatusResolved {
			t.Errorf("retry reopened the ticket: %s", st)
		}
		// Answered already: a second number is a normal message and reopens the ticket.
		res, err = d.Svc.Intake(ctx, tickettest.SMS(phone, "4", "SM-B"))
		if err != nil || res.Answered || res.Ticket.Status != tickets.StatusOpen {
			t.Errorf("second score: %+v %v", res, err)
		}
		if sv, _ := d.care.TicketSurvey(ctx, tk.ID); *sv.Score != 5 {
			t.Errorf("the second number changed the score to %d", *sv.Score)
		}
	})
}

func TestSurveyNonScoreAndExpiry(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := surveyDesk(t, db)
		cases := []struct {
			name      string
			body      string
			after     time.Duration
			reopened  bool // else a new ticket
			answered  bool
			wantScore int
		}{
			{"thanks", "thanks", time.Hour, true, false, 0},
			{"six", "6", time.Hour, true, false, 0},
			{"zero", "0", time.Hour, true, false, 0},
			{"ok", "好的", time.Hour, true, false, 0},
			{"four", "4分", time.Hour, false, true, 4},
			{"expired", "5", 7*24*time.Hour + time.Minute, false, false, 0},
		}
		for i, c := range cases {
			phone := "+86138000001" + string(rune('0'+i)) + "0"
			tk := d.Ticket(t, phone)
			d.Resolve(t, tk)
			d.Clock.Advance(c.after)
			res, err := d.Svc.Intake(ctx, tickettest.SMS(phone, c.body, ""))
			if err != nil {
				t.Fatal(err)
			}
			sv, _ := d.care.TicketSurvey(ctx, tk.ID)
			if (sv.AnsweredAt != nil) != c.answered || c.answered && *sv.Score != c.wantScore {
				t.Errorf("%s: survey %+v", c.name, sv)
			}
			if c.answered {
				if !res.Answered || res.Ticket.Status != tickets.StatusResolved {
					t.Errorf("%s: not taken as a score: %+v", c.name, res)
				}
				continue
			}
			if res.Answered {
				t.Errorf("%s: taken as a score", c.name)
			}
			// A normal message: it reopens the ticket within the reopen window, else opens
			// a new one (the window and the survey both last 7 days).
			if c.reopened != (res.Ticket.ID == tk.ID && res.Ticket.Status == tickets.StatusOpen) || !c.reopened && !res.Created {
				t.Errorf("%s: ticket %s %s created %v", c.name, res.Ticket.Ref(), res.Ticket.Status, res.Created)
			}
			// A non-score reopened the ticket: a score now is an answer to the agent, not
			// to the survey.
			if c.reopened && i == 0 {
				res, _ := d.Svc.Intake(ctx, tickettest.SMS(phone, "5", ""))
				if res.Answered {
					t.Errorf("a score on a reopened ticket answered its survey")
				}
			}
		}

		// Without surveys turned on, resolving asks nothing.
		plain := newDesk(t, tickettest.SQLite(t))
		tk0 := plain.Ticket(t, "+8613800000198")
		plain.Resolve(t, tk0)
		if sv, err := plain.care.TicketSurvey(ctx, tk0.ID); sv != nil || err != nil || len(outbound(t, plain.Svc, tk0.Ref())) != 0 {
			t.Errorf("surveys off: %+v %v", sv, err)
		}

		// The expiry is configurable.
		d.configure(aftercare.Config{Surveys: true, SurveyTTL: 2 * time.Hour})
		phone := "+8613800000199"
		tk := d.Ticket(t, phone)
		d.Resolve(t, tk)
		d.Clock.Advance(3 * time.Hour)
		res, err := d.Svc.Intake(ctx, tickettest.SMS(phone, "5", ""))
		if err != nil || res.Answered || res.Ticket.ID != tk.ID || res.Ticket.Status != tickets.StatusOpen {
			t.Errorf("a 5 after a 2-hour survey expired: %+v %v", res, err)
		}
	})
}

func TestSurveyAnsweredByLink(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		d := surveyDesk(t, db)
		token := func(addr string) string {
			res, err := d.Svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: addr, Subject: "help", Body: "hello"})
			if err != nil {
				t.Fatal(err)
			}
			d.Resolve(t, res.Ticket)
			sent, err := delivery.New(d.Svc).Delivery(ctx, outbound(t, d.Svc, res.Ticket.Ref())[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			return sent.Body[strings.LastIndex(sent.Body, "/survey/")+len("/survey/"):]
		}
		tok := token("a@example.com")
		if _, err := d.care.AnswerSurvey(ctx, tok, 6, ""); !errors.Is(err, tickets.ErrInvalid) {
			t.Errorf("score 6: %v", err)
		}
		if _, err := d.care.AnswerSurvey(ctx, "not-a-token", 5, ""); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}
		sv, err := d.care.AnswerSurvey(ctx, tok, 2, "  too slow  ")
		if err != nil || *sv.Score != 2 || sv.Comment != "too slow" || sv.AnsweredVia != "email" {
			t.Fatalf("answer: %+v %v", sv, err)
		}
		again, err := d.care.AnswerSurvey(ctx, tok, 5, "")
		if !errors.Is(err, tickets.ErrConflict) || again == nil || *again.Score != 2 {
			t.Errorf("answered twice: %+v %v", again, err)
		}
		// Answered surveys stay readable after expiry; unanswered ones are gone.
		late := token("b@example.com")
		d.Clock.Advance(7*24*time.Hour + time.Second)
		if _, err := d.care.AnswerSurvey(ctx, late, 5, ""); !errors.Is(err, tickets.ErrNotFound) {
			t.Errorf("expired: %v", err)
		}
		if sv, err := d.care.SurveyByToken(ctx, tok); err != nil || *sv.Score != 2 {
			t.Errorf("answered survey after expiry: %+v %v", sv, err)
		}
	})
}
