package tickets_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestWhoMayReadAgentFigures(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)))
		sys := tickets.Actor{Kind: "system"}
		claims, err := svc.CreateTeam(ctx, sys, "Claims")
		if err != nil {
			t.Fatal(err)
		}
		motor, err := svc.CreateTeam(ctx, sys, "Motor")
		if err != nil {
			t.Fatal(err)
		}
		mk := func(email string, role tickets.Role, team *int64) *tickets.Agent {
			a, err := svc.CreateAgent(ctx, sys, tickets.NewAgent{Email: email, Name: email, Role: role, TeamID: team, Password: "correct horse battery"})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		agent := mk("a@x.test", tickets.RoleAgent, &claims.ID)
		peer := mk("p@x.test", tickets.RoleAgent, &claims.ID)
		sup := mk("s@x.test", tickets.RoleSupervisor, &claims.ID)
		otherSup := mk("o@x.test", tickets.RoleSupervisor, &motor.ID)
		officer := mk("c@x.test", tickets.RoleComplaintOfficer, &claims.ID)
		admin := mk("ad@x.test", tickets.RoleAdmin, nil)
		for _, tc := range []struct {
			who  *tickets.Agent
			may  bool
			team bool
		}{
			{agent, true, false}, {peer, false, false}, {sup, true, true}, {otherSup, false, false},
			{officer, false, false}, {admin, true, true},
		} {
			err := svc.MayReadAgentFigures(ctx, tickets.AgentActor(tc.who), agent.ID)
			if got := err == nil; got != tc.may || (err != nil && !errors.Is(err, tickets.ErrForbidden)) {
				t.Errorf("%s reading %s's figures: %v, want allowed=%v", tc.who.Email, agent.Email, err, tc.may)
			}
			if got := svc.MayReadTeamFigures(tickets.AgentActor(tc.who), claims.ID) == nil; got != tc.team {
				t.Errorf("%s reading Claims' per-agent figures: allowed=%v, want %v", tc.who.Email, got, tc.team)
			}
		}
		if err := svc.MayReadAgentFigures(ctx, tickets.Actor{Kind: "customer"}, agent.ID); !errors.Is(err, tickets.ErrForbidden) {
			t.Errorf("a customer reading an agent's figures: %v, want forbidden", err)
		}
	})
}
