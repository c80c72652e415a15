// Package privacy holds what the law asks of a desk that keeps personal information
// (PIPL, GDPR): retention limits for each kind of data and the run that erases what
// expired (retention.go), legal holds that stop it (hold.go), a customer's copy of
// everything held about them (export.go), their erasure on request (erase.go), and the
// trail of who read or removed what of theirs (trail.go).
//
// It is a chapter beside the core (package tickets): it reads the core's rows, and keeps
// the columns that say what was erased (erased_at on messages, attachments and customers),
// writing them, and the erasing updates guarded by them, with its own queries in the
// transactions tickets.Service.InTx gives it, with its audit events through tickets.Tx.
// Complaints' records (summary, decision, outcome, dates) are never erased: insurers keep
// them for the regulator's statistics and reviews.
//
// Every access to a customer's personal information is an audit event on the customer
// (Entity "customer", EntityID the customer's id): "customer.exported", "customer.erased",
// "retention.applied", "legal_hold.placed", "legal_hold.released", and "pii.revealed"
// written by the masking chapter.
package privacy

import (
	"log/slog"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Erased is what an erased text reads (tickets.ErasedText, which reports leave out).
const Erased = tickets.ErasedText

// Audit event kinds about a customer (Entity "customer").
const (
	KindRevealed     = "pii.revealed"
	KindExported     = "customer.exported"
	KindErased       = "customer.erased"
	KindRetention    = "retention.applied"
	KindHoldPlaced   = "legal_hold.placed"
	KindHoldReleased = "legal_hold.released"
)

// Config is the chapter's settings from the environment.
type Config struct {
	// Defaults is the retention policy until an admin saves one.
	Defaults Policy
	// Every is how long a retention period lasts: one run each (0 means a day).
	Every time.Duration
	// Log is where runs are reported (nil: discarded).
	Log *slog.Logger
	// Reveal is which customer fields each role may reveal in full (nil: DefaultRules).
	Reveal Rules
}

// Service is the privacy chapter over the core. It is safe for concurrent use.
type Service struct {
	svc   *tickets.Service
	cfg   Config
	rules Rules // who may reveal which fields
	log   *slog.Logger
	batch int // rows a retention transaction takes; tickets.SweepBatch but in tests
}

// New is the privacy chapter of svc.
func New(svc *tickets.Service, cfg Config) *Service {
	if cfg.Every <= 0 {
		cfg.Every = 24 * time.Hour
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rules := cfg.Reveal
	if rules == nil {
		rules = DefaultRules()
	}
	return &Service{svc: svc, cfg: cfg, rules: rules, log: log, batch: tickets.SweepBatch}
}

// mayHandle refuses anyone but supervisors and admins (and the system): copies and
// erasures hand out or remove everything a customer is.
func mayHandle(actor tickets.Actor, what string) error {
	if actor.Agent == nil {
		if actor.Kind == "system" {
			return nil
		}
		return tickets.Forbiddenf("only supervisors and admins may %s", what)
	}
	if r := actor.Agent.Role; r != tickets.RoleSupervisor && r != tickets.RoleAdmin {
		return tickets.Forbiddenf("only supervisors and admins may %s", what)
	}
	return nil
}
