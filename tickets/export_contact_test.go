package tickets

// SetContactHooks plugs seams into svc's batches of logged contacts (SQLite): queued when
// a call joins the queue (with the queue's length, the queue's lock held), started as a
// batch's transaction is about to begin (with its number of contacts). Set them before
// contacts are logged.
func SetContactHooks(svc *Service, queued func(waiting int), started func(contacts int)) {
	svc.contacts.hooks = batchHooks[contactCall]{queued: queued, started: func(ins []contactCall) { started(len(ins)) }}
}

// HasContactBatcher says whether svc batches logged contacts (SQLite only).
func HasContactBatcher(svc *Service) bool { return svc.contacts != nil }
