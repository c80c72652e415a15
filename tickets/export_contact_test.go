package tickets

import (
	"context"

	"github.com/uptrace/bun"
)

// SetContactHooks plugs seams into svc's batches of logged contacts (SQLite): queued when
// a call joins the queue (with the queue's length, the queue's lock held), started as a
// batch's transaction is about to begin (with its number of contacts). Set them before
// contacts are logged.
func SetContactHooks(svc *Service, queued func(waiting int), started func(contacts int)) {
	svc.contacts.hooks = batchHooks[contactCall]{queued: queued, started: func(ins []contactCall) { started(len(ins)) }}
}

// HasContactBatcher says whether svc batches logged contacts (SQLite only).
func HasContactBatcher(svc *Service) bool { return svc.contacts != nil }

// InConnTx runs fn as svc runs a transaction begun and ended by hand on one connection.
func InConnTx(ctx context.Context, svc *Service, fn func(ctx context.Context, conn bun.Conn) error) error {
	return svc.inConnTx(ctx, fn)
}
