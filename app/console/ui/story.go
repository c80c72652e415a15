package ui

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Names are who a ticket's timeline may name: agents and teams by id, and the customer.
type Names struct {
	Agents   map[int64]string
	Teams    map[int64]string
	Customer string
}

// Line is an audit event as the timeline tells it: who, and what they did, in words.
type Line struct {
	Actor string
	Text  string
}

// EventLine words e in lang: the actor by name (never an email or an id) and what
// happened with its particulars (to whom, which deadline, from what to what).
func (k *Kit) EventLine(lang string, e *tickets.Event, n Names) Line {
	var d map[string]any
	_ = json.Unmarshal([]byte(e.Data), &d) // an event without data is told by its kind alone
	w := storyWords{lang: lang, loc: k.loc, d: d, n: n}
	return Line{Actor: w.actor(e), Text: w.text(e.Kind)}
}

// FollowUpsLine words the follow-up calls one resolution scheduled as one line, with
// when each falls due.
func (k *Kit) FollowUpsLine(lang string, evs []*tickets.Event, n Names) Line {
	var due []string
	for _, e := range evs {
		var d map[string]any
		_ = json.Unmarshal([]byte(e.Data), &d)
		w := storyWords{lang: lang, loc: k.loc, d: d}
		if at := w.time("due_at"); at != "" {
			due = append(due, at)
		}
	}
	sep := "、"
	if lang == "en" {
		sep = ", "
	}
	return Line{Actor: T(lang, "ticket.system"), Text: T(lang, "story.followups", strings.Join(due, sep))}
}

type storyWords struct {
	lang string
	loc  *time.Location
	d    map[string]any
	n    Names
}

func (w storyWords) actor(e *tickets.Event) string {
	switch e.ActorKind {
	case "agent":
		if e.ActorID != nil {
			if name, ok := w.n.Agents[*e.ActorID]; ok && name != "" {
				return name
			}
		}
		return T(w.lang, "story.an_agent")
	case "customer":
		if w.n.Customer != "" {
			return w.n.Customer
		}
		return T(w.lang, "ticket.from_customer")
	}
	return T(w.lang, "ticket.system")
}

func (w storyWords) text(kind string) string {
	s := w.what(kind)
	if r := w.reason(); r != "" && kind != "sla.warning_skipped" {
		s += T(w.lang, "story.reason", r)
	}
	return s
}

// what is the line without its reason.
func (w storyWords) what(kind string) string {
	t := func(key string, args ...any) string { return T(w.lang, key, args...) }
	switch kind {
	case "ticket.created":
		if ch := w.str("channel"); ch != "" {
			return t("story.created", w.word("chan.", ch))
		}
	case "ticket.assigned":
		agent, team := w.name(w.n.Agents, "to_assignee", "assignee"), w.name(w.n.Teams, "to_team", "team")
		switch {
		case agent != "" && team != "":
			return t("story.assigned_team", agent, team)
		case agent != "":
			return t("story.assigned", agent)
		case team != "":
			return t("story.assigned_to_team", team)
		}
		return t("story.unassigned")
	case "status.changed", "ticket.reopened":
		if w.str("to") != "" {
			return t("story."+kind, w.word("status.", w.str("from")), w.word("status.", w.str("to")))
		}
	case "priority.changed":
		return t("story.priority", w.word("prio.", w.str("from")), w.word("prio.", w.str("to")))
	case "category.changed":
		return t("story.category", w.category(w.str("from")), w.category(w.str("to")))
	case "sla.warning":
		return t("story.warning", w.deadline(), w.time("due_at"))
	case "sla.warning_skipped":
		return t("story.warning_skipped", w.deadline())
	case "sla.breached":
		s := t("story.breached", w.deadline())
		if up := w.str("priority_to"); up != "" {
			s += t("story.raised", w.word("prio.", w.str("priority_from")), w.word("prio.", up))
		}
		return s
	case "sla.policy_applied":
		return t("story.policy_applied", w.time("resolution_due_at"))
	case "followup.scheduled":
		return t("story.followups", w.time("due_at"))
	case "complaint.opened":
		return t("story.complaint_opened", w.str("complaint"), w.time("due_at"))
	case "complaint.decided":
		return t("story.complaint_decided", w.str("complaint"), w.word("complaints.out.", w.str("outcome")))
	case "complaint.extended":
		return t("story.complaint_extended", w.str("complaint"), w.time("to"))
	case "complaint.status_changed":
		return t("story.complaint_status", w.str("complaint"), w.word("complaints.st.", w.str("to")))
	case "complaint.assigned":
		return t("story.complaint_assigned", w.str("complaint"), w.name(w.n.Agents, "to"))
	case "survey.sent":
		if ch := w.str("channel"); ch != "" {
			return t("story.survey_sent", w.word("chan.", ch))
		}
	case "survey.answered":
		if sc := w.str("score"); sc != "" {
			return t("story.survey_answered", sc)
		}
	case "stage.changed":
		to, from := w.localized("to"), w.localized("from")
		if from != "" {
			return t("story.stage_from", from, to)
		}
		return t("story.stage", to)
	case "stage.warning":
		return t("story.stage_warning", w.localized("stage"), w.time("due_at"))
	case "stage.breached":
		return t("story.stage_breached", w.localized("stage"), w.time("due_at"))
	case "documents.requested":
		return t("story.docs_requested", w.list("items"))
	case "documents.arrived":
		return t("story.docs_arrived", w.str("files"))
	case "document.received":
		return t("story.doc_received", w.str("item"))
	case "document.missing":
		return t("story.doc_missing", w.str("item"))
	case "notice.fallback":
		if ch := w.str("to"); ch != "" {
			return t("story.fallback", w.word("chan.", ch))
		}
	}
	return TOrKey(w.lang, "event."+kind, t("story.other"))
}

// reason is why, in words: the service's own reasons translated, a person's as typed.
func (w storyWords) reason() string {
	r := w.str("reason")
	if r == "" {
		return ""
	}
	if key, ok := systemReasons[r]; ok {
		return T(w.lang, key)
	}
	return r
}

// systemReasons are the reasons the service itself records, with their words.
var systemReasons = map[string]string{
	"first reply":      "reason.first_reply",
	"customer replied": "reason.customer_replied",
	"ticket reopened":  "reason.reopened",
	"auto-assigned: fewest open tickets in the team": "reason.auto_fewest",
	"auto-assigned from the team queue":              "reason.auto_queue",
	"WeChat's 48-hour window has closed":             "reason.wechat_window",
	"skipped: deadline already passed":               "reason.deadline_passed",
	"waiting for documents":                          "reason.waiting_documents",
}

// localized is a stage's name in the line's language: the data's key (English) or its
// _zh twin.
func (w storyWords) localized(key string) string {
	if w.lang != "en" {
		if s := w.str(key + "_zh"); s != "" {
			return s
		}
	}
	return w.str(key)
}

// list is a list of strings in the data, joined in the line's language.
func (w storyWords) list(key string) string {
	var out []string
	if l, ok := w.d[key].([]any); ok {
		for _, v := range l {
			if s, ok := v.(string); ok {
				out = append(out, s)
			}
		}
	}
	if w.lang == "en" {
		return strings.Join(out, "; ")
	}
	return strings.Join(out, "、")
}

func (w storyWords) str(key string) string {
	switch v := w.d[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}

// name is the agent's or team's name under the first of keys set in the data.
func (w storyWords) name(names map[int64]string, keys ...string) string {
	for _, k := range keys {
		if f, ok := w.d[k].(float64); ok {
			if n := names[int64(f)]; n != "" {
				return n
			}
			return T(w.lang, "story.someone")
		}
	}
	return ""
}

// word is a stored value in words (a status, channel, priority...), "—" when empty.
func (w storyWords) word(prefix, v string) string {
	if v == "" {
		return "—"
	}
	return TOrKey(w.lang, prefix+v, v)
}

func (w storyWords) category(v string) string { return w.word("category.", v) }

func (w storyWords) deadline() string {
	return TOrKey(w.lang, "story.deadline."+w.str("deadline"), T(w.lang, "story.deadline.any"))
}

func (w storyWords) time(key string) string {
	s := w.str(key)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "—"
	}
	return at.In(w.loc).Format("01-02 15:04")
}

// TOrKey is T's wording of key, or fallback when no table has key.
func TOrKey(lang, key, fallback string) string {
	if s := T(lang, key); s != key {
		return s
	}
	return fallback
}

// CustomerLabel is how a customer is named in lists and on the timeline.
func CustomerLabel(c *tickets.Customer) string { return customerLabel(c) }
