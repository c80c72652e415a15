// Package notifications decides who is told what, and delivers it: staff notices to Slack
// channels and direct messages, customer notices on the customer's own channel, from
// zh-CN and en templates, with delivery records and retries.
//
// The decisions that must happen exactly once are written by tickets.Service in the
// transaction that makes them, as rows of the notices table (an outbox); this package
// reads them from there. Until a delivery is configured, staff read their notices in the
// API (GET /api/v1/notices).
//
// Slack (slack.go) posts Block Kit messages with a link to the ticket and the buttons
// Acknowledge and Take it: to a team's channel (SLACK_TEAM_CHANNELS) and as direct
// messages to agents found by email. The delivery job is jobs.Notifier; the buttons come
// back to app/webhooks (POST /webhooks/slack/interactions). FakeSlack is a local Slack Web
// API for tests and demos.
package notifications
