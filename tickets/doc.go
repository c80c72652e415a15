// Package tickets is the core of Hotline's domain: customers and their identities, teams
// and agents, tickets with their messages and attachments, routing rules, the SLA
// policies' matching and the working-day calendar's arithmetic, the deadlines each ticket
// is given as it is written, notices to customers and staff, and the audit trail; and the
// Service that changes them.
// Every change happens in one database transaction together with its audit event (see
// Service, whose comment also maps the package's files).
//
// The chapters beside the core are packages under tickets, named for what they hold:
// tickets/complaints (formal complaints, their decision clock and the officers' board),
// tickets/aftercare (what follows a resolution: the satisfaction survey and the follow-up
// calls), tickets/canned (canned replies for the reply composer), tickets/outbox (what
// Hotline tells staff through Slack: the announcements collected from the audit trail and
// the staff notices, each claimed and delivered once), tickets/deadlines (the sweep of the
// tickets' warnings and breaches, the SLA policies' and the calendar's administration,
// re-timing open tickets after an edit), tickets/access (the doors: staff sign-in and
// sessions, the attempt limits, webhook nonces and customers' status lookups),
// tickets/delivery (what the core queued to customers, after the commit: each send claimed
// once, the providers' reports and bounces, quiet hours, the reconciler's re-queue; the
// customers' opt-outs; the admins' wordings of the notices), tickets/quality (quality
// reviews: rubrics, samples, reviews, the agent's answers, calibration), tickets/privacy
// (personal values masked where staff read them, revealed on purpose and audited; retention
// limits and the run that erases what expired, legal holds, a customer's copy and their
// erasure, the trail of who read what of theirs), tickets/stages (progress stages per
// category told to customers, their deadlines, documents awaited), tickets/webhooks
// (outbound webhooks: the admins' subscriptions, the deliveries collected from the audit
// trail, signed, retried, ordered per ticket, paused when failing) and tickets/reports (the
// supervisors' figures and the scorecards; it only reads, but for the admins' targets).
// Dependencies point one way: a chapter imports the
// core, the core imports no chapter. The core declares the seams it calls inside its own
// transactions (Aftercare in chapters.go, Complaints in complaints_seam.go, Progress in
// progress_seam.go), app plugs the
// chapters in, and a chapter writes the core's rows only through Tx (the deadline columns
// through the methods in deadlines_seam.go), but for the columns it keeps (tickets/outbox:
// the notices' Slack delivery; tickets/delivery: the messages' delivery and the
// identities' opt-outs; tickets/privacy: what was erased, and the erasing updates guarded
// by it); tickets/layout_test.go keeps that direction. Beyond tickets it is
// the same: app, jobs, channels and notifications import tickets, and tickets imports none
// of them; it declares the small interfaces it needs (Scheduler, ...) and app plugs
// implementations in.
//
// Why the core is larger than its chapters (some 7,300 lines with comments, 5,600
// without, against about 1,000 for the largest chapter): what is left here is what one
// change touches in one transaction. A text that arrives threads into a ticket, routes
// it, times it on the calendar, may reopen it, opens a complaint or takes a survey score
// through the seams, queues the customer's notice and records its events, all under the
// customer's row lock and the group commit; a reply meets the first-response deadline,
// moves the status and queues its files. Moving intake, actions or deadline timing out
// would turn these calls into a Tx method each (the seams would grow to the size of the
// core), and split the retry and locking rules that keep a ticket's writes safe across
// packages. Everything that runs after the commit, or beside a ticket rather than in its
// change, is a chapter.
package tickets
