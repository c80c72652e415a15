package migrations_test

import (
	"context"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Phone identities stored before digits_reversed get it from the migration, so callers
// who wrote in before the upgrade are found by their number's last digits.
func TestCustomerSearchMigrationBackfills(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		svc := tickettest.Service(db, tickettest.NewClock(tickettest.T0))
		for _, in := range []tickets.Inbound{
			tickettest.SMS("+8613800138000", "hi", ""),
			tickettest.SMS("+8613900139001", "hi", ""),
			{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "kim@example.com", Subject: "s", Body: "b"},
		} {
			if _, err := svc.Intake(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		// The database as it was before the migration.
		for _, q := range []string{
			"DROP INDEX customer_identities_digits_reversed_idx",
			"ALTER TABLE customer_identities DROP COLUMN digits_reversed",
			"DELETE FROM bun_migrations WHERE name = '20261203100011'",
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := migrations.Up(ctx, db, tickettest.Logger()); err != nil {
			t.Fatalf("migration over stored identities: %v", err)
		}

		var rows []struct {
			Value          string
			DigitsReversed *string
		}
		if err := db.NewSelect().Table("customer_identities").Column("value", "digits_reversed").OrderExpr("id").Scan(ctx, &rows); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"+8613800138000": "0008310083168", "+8613900139001": "1009310093168"}
		for _, r := range rows {
			got := ""
			if r.DigitsReversed != nil {
				got = *r.DigitsReversed
			}
			if got != want[r.Value] {
				t.Errorf("%s: digits_reversed %q, want %q", r.Value, got, want[r.Value])
			}
		}
		page, err := svc.SearchCustomers(ctx, tickets.CustomerFilter{Query: "9001"})
		if err != nil || len(page.Items) != 1 || page.Items[0].Identity(tickets.IdentityPhone) != "+8613900139001" {
			t.Errorf("search by last digits after the migration: %v %+v", err, page)
		}
	})
}
