package ui

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// funcs are the helpers every template may call. Times are shown in the desk's calendar
// zone, the one its working days and quiet hours are kept in.
func funcs(loc *time.Location) template.FuncMap {
	return template.FuncMap{
		"when": func(t time.Time) string { return t.In(loc).Format("01-02 15:04") },
		"whenp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.In(loc).Format("01-02 15:04")
		},
		"date": func(t time.Time) string { return t.In(loc).Format("2006-01-02") },
		"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"zone": func() string { return loc.String() },
		"sla":  slaOf,
		"who":  customerLabel,
		// Customers' numbers and addresses are shown masked everywhere (a "show" button
		// reveals one, recorded); stored text stays as written.
		"mask":   privacy.MaskText,
		"maskv":  func(kind tickets.IdentityKind, v string) string { return privacy.MaskValue(string(kind), v) },
		"masked": func(s string) bool { return privacy.MaskText(s) != s },
		"splitTags": func(tags string) []string {
			var out []string
			for _, t := range strings.Split(tags, ",") {
				if t = strings.TrimSpace(t); t != "" {
					out = append(out, t)
				}
			}
			return out
		},
		"id": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		"eq64": func(p *int64, v int64) bool { return p != nil && *p == v },
		// ticketRef is a ticket's reference from its id (HL-000123).
		"ticketRef": tickets.FormatRef,
		"add":       func(a, b int) int { return a + b },
		// ms is a duration in whole milliseconds.
		"ms": func(d time.Duration) int64 { return d.Milliseconds() },
		"deref": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
		"upper":   strings.ToUpper,
		"fileURL": fileURL,
		"initial": func(name string) string {
			for _, r := range name {
				return strings.ToUpper(string(r))
			}
			return "?"
		},
		"list":  func(v ...string) []string { return v },
		"media": func(contentType string) string { kind, _, _ := strings.Cut(contentType, "/"); return kind },
		"size": func(n int64) string {
			if n < 1<<20 {
				return strconv.FormatInt((n+1023)/1024, 10) + " KB"
			}
			return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
		},
		"short": func(s string, n int) string {
			s = strings.Join(strings.Fields(s), " ")
			if utf8.RuneCountInString(s) <= n {
				return s
			}
			r := []rune(s)
			return string(r[:n]) + "…"
		},
		"pct": Percent,
		"seq": func(n int) []int {
			out := make([]int, n)
			for i := range out {
				out[i] = i
			}
			return out
		},
		// teamQuery is a dashboard view's team filter as a query: "" for all teams.
		"teamQuery": func(team string) string {
			if team == "" || team == "all" {
				return ""
			}
			return "?team=" + url.QueryEscape(team)
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			return m
		},
	}
}

// Percent shows a share as "87.5%", or "92%" when whole.
func Percent(f float64) string {
	return strings.TrimSuffix(strconv.FormatFloat(f*100, 'f', 1, 64), ".0") + "%"
}

// slaView is a ticket's next deadline as a countdown shows it: green until the warning
// point, amber after it, red once missed.
type slaView struct {
	Kind  string // "first" or "resolution"; "" with no running deadline
	Due   time.Time
	Warn  time.Time // when the countdown turns amber
	State string    // "ok", "warn", "breach", "paused" or "none"
}

func slaOf(t *tickets.Ticket, now time.Time) slaView {
	if !t.Status.Active() {
		return slaView{State: "none"}
	}
	v := slaView{State: "ok"}
	var breached *time.Time
	switch {
	case t.FirstRespondedAt == nil && t.FirstResponseDueAt != nil:
		v.Kind, v.Due, breached = "first", *t.FirstResponseDueAt, t.FirstResponseBreachedAt
		v.Warn = warnPoint(t.CreatedAt, v.Due, t.FirstResponseWarned, t.FirstResponseWarnAt)
	case t.ResolvedAt == nil && t.ResolutionDueAt != nil:
		v.Kind, v.Due, breached = "resolution", *t.ResolutionDueAt, t.ResolutionBreachedAt
		start := t.CreatedAt
		if t.SLAStartedAt != nil {
			start = *t.SLAStartedAt
		}
		v.Warn = warnPoint(start, v.Due, t.ResolutionWarned, t.ResolutionWarnAt)
		if t.PausedAt != nil {
			v.State = "paused"
			return v
		}
	default:
		return slaView{State: "none"}
	}
	switch {
	case breached != nil || !now.Before(v.Due):
		v.State = "breach"
	case !now.Before(v.Warn):
		v.State = "warn"
	}
	return v
}

// warnPoint is when the first warning falls: the stored next warning while none was
// given, else a moment already past.
func warnPoint(start, due time.Time, warned int, next *time.Time) time.Time {
	if warned == 0 && next != nil {
		return *next
	}
	if warned > 0 {
		return start
	}
	return due
}

// customerLabel is how a customer is named in lists: their name, else their number or
// address masked, or a shortened WeChat id.
func customerLabel(c *tickets.Customer) string {
	if c == nil {
		return ""
	}
	if c.Name != "" {
		return c.Name
	}
	for _, k := range []tickets.IdentityKind{tickets.IdentityPhone, tickets.IdentityEmail, tickets.IdentityWeChat} {
		if v := c.Identity(k); v != "" {
			if k == tickets.IdentityWeChat && len(v) > 10 {
				return "WeChat " + v[:6] + "…"
			}
			return privacy.MaskValue(string(k), v)
		}
	}
	return "—"
}

// fileURL is where an attachment can be opened: from Hotline when it keeps the file or
// fetches it (a call recording, which opens only with the account's credentials), else at
// the provider's web address. Other addresses (a WeChat media id) open nowhere.
func fileURL(a *tickets.Attachment) string {
	if a.Stored() || a.Fetched() {
		return "/attachments/" + strconv.FormatInt(a.ID, 10)
	}
	if strings.HasPrefix(a.URL, "https://") || strings.HasPrefix(a.URL, "http://") {
		return a.URL
	}
	return ""
}
