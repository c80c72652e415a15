package exports

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// A customer's copy for an access request (tickets/privacy): JSON for machines and a
// printable HTML page for the customer, both written a ticket at a time. Files are not
// embedded: each attachment names its link in the API (GET /api/v1/attachments/:id), from
// which staff download what the customer asked for.

// StreamCopy answers with customer copy c as a file named name of contentType, written
// by fn after the handler returns (see Stream).
func StreamCopy(c *fiber.Ctx, log *slog.Logger, name, contentType string, fn func(context.Context, io.Writer) error) error {
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), timeout)
	c.Context().SetBodyStreamWriter(func(bw *bufio.Writer) {
		defer cancel()
		err := fn(ctx, bw)
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			log.Error("customer copy stopped", "export", name, "err", err)
		}
	})
	return nil
}

// CopyName is the file name of customer id's copy in format.
func CopyName(id int64, format string) string {
	return "customer-" + strconv.FormatInt(id, 10) + "." + format
}

type identityJSON struct {
	Kind      string    `json:"kind"`
	Value     string    `json:"value"`
	OptedOut  bool      `json:"opted_out"`
	CreatedAt time.Time `json:"created_at"`
}

type attachmentJSON struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	Link        string `json:"link,omitempty"` // in the API, for staff
}

type messageJSON struct {
	ID          int64            `json:"id"`
	Direction   string           `json:"direction"`
	Channel     string           `json:"channel"`
	Body        string           `json:"body"`
	At          time.Time        `json:"at"`
	Attachments []attachmentJSON `json:"attachments"`
}

type ticketJSON struct {
	Ref        string                   `json:"ref"`
	Channel    string                   `json:"channel"`
	Subject    string                   `json:"subject"`
	Category   string                   `json:"category"`
	Status     string                   `json:"status"`
	CreatedAt  time.Time                `json:"created_at"`
	ResolvedAt *time.Time               `json:"resolved_at,omitempty"`
	ClosedAt   *time.Time               `json:"closed_at,omitempty"`
	Messages   []messageJSON            `json:"messages"`
	Complaints []*privacy.ComplaintCopy `json:"complaints"`
	Surveys    []*privacy.SurveyCopy    `json:"surveys"`
}

type eventJSON struct {
	At       time.Time       `json:"at"`
	Kind     string          `json:"kind"`
	Entity   string          `json:"entity"`
	EntityID int64           `json:"entity_id"`
	Actor    string          `json:"actor"`
	Data     json.RawMessage `json:"data"`
}

func ticketView(tc *privacy.TicketCopy) ticketJSON {
	t := tc.Ticket
	v := ticketJSON{Ref: t.Ref(), Channel: string(t.Channel), Subject: t.Subject, Category: t.Category, Status: string(t.Status),
		CreatedAt: t.CreatedAt, ResolvedAt: t.ResolvedAt, ClosedAt: t.ClosedAt, Messages: []messageJSON{},
		Complaints: tc.Complaints, Surveys: tc.Surveys}
	if v.Complaints == nil {
		v.Complaints = []*privacy.ComplaintCopy{}
	}
	if v.Surveys == nil {
		v.Surveys = []*privacy.SurveyCopy{}
	}
	for _, m := range tc.Messages {
		mv := messageJSON{ID: m.ID, Direction: string(m.Direction), Channel: string(m.Channel), Body: m.Body, At: m.CreatedAt, Attachments: []attachmentJSON{}}
		for _, a := range m.Attachments {
			av := attachmentJSON{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, SizeBytes: a.SizeBytes}
			if a.Stored() || a.Fetched() || a.URL != "" {
				av.Link = "/api/v1/attachments/" + strconv.FormatInt(a.ID, 10)
			}
			mv.Attachments = append(mv.Attachments, av)
		}
		v.Messages = append(v.Messages, mv)
	}
	return v
}

func eventView(ev *tickets.Event) eventJSON {
	data := json.RawMessage(ev.Data)
	if !json.Valid(data) {
		data = json.RawMessage("{}")
	}
	return eventJSON{At: ev.CreatedAt, Kind: ev.Kind, Entity: ev.Entity, EntityID: ev.EntityID, Actor: ev.Actor, Data: data}
}

// CopyJSON writes copy c as one JSON object: the customer with their identities and legal
// holds, their tickets (messages, attachments' metadata and links, complaints, surveys)
// and the audit events about them; *_cut_short says a list stopped at its bound.
func CopyJSON(ctx context.Context, w io.Writer, c *privacy.Copy) error {
	cu := c.Customer
	ids := []identityJSON{}
	for _, id := range cu.Identities {
		ids = append(ids, identityJSON{Kind: string(id.Kind), Value: id.Value, OptedOut: id.OptedOutAt != nil, CreatedAt: id.CreatedAt})
	}
	head, err := json.Marshal(map[string]any{
		"id": cu.ID, "name": cu.Name, "locale": cu.Locale, "tags": cu.Tags, "created_at": cu.CreatedAt,
		"erased_at": c.ErasedAt, "identities": ids,
	})
	if err != nil {
		return err
	}
	holds, err := json.Marshal(c.Holds)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, `{"exported_at":%q,"customer":%s,"legal_holds":%s,"tickets":[`, c.ExportedAt.UTC().Format(time.RFC3339), head, holds); err != nil {
		return err
	}
	sep := ""
	cut, err := c.EachTicket(ctx, func(tc *privacy.TicketCopy) error {
		b, err := json.Marshal(ticketView(tc))
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, sep+string(b))
		sep = ","
		return err
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, `],"tickets_cut_short":%t,"events":[`, cut); err != nil {
		return err
	}
	sep = ""
	cut, err = c.EachEvent(ctx, func(ev *tickets.Event) error {
		b, err := json.Marshal(eventView(ev))
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, sep+string(b))
		sep = ","
		return err
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, `],"events_cut_short":%t}`+"\n", cut)
	return err
}

// copyWords are the HTML copy's words, Chinese and English.
var copyWords = map[string][2]string{
	"title":      {"个人信息副本", "Copy of personal information"},
	"intro":      {"以下是我们保存的关于您的全部信息，截至", "This is everything we hold about you, as of"},
	"customer":   {"客户", "Customer"},
	"name":       {"姓名", "Name"},
	"since":      {"首次联系", "First contact"},
	"erased":     {"已应要求删除", "Erased at your request"},
	"reach":      {"联系方式", "How we reach you"},
	"holds":      {"法律保全", "Legal holds"},
	"tickets":    {"工单", "Tickets"},
	"status":     {"状态", "Status"},
	"opened":     {"创建", "Opened"},
	"messages":   {"消息", "Messages"},
	"inbound":    {"您", "You"},
	"outbound":   {"客服", "Us"},
	"note":       {"内部备注", "Internal note"},
	"files":      {"附件", "Files"},
	"complaints": {"投诉", "Complaints"},
	"decision":   {"处理决定", "Decision"},
	"surveys":    {"满意度调查", "Satisfaction surveys"},
	"score":      {"评分", "Score"},
	"events":     {"记录", "Record of what was done"},
	"when":       {"时间", "When"},
	"what":       {"事项", "What"},
	"who":        {"操作人", "Who"},
	"cut":        {"（内容过多，此处截止；请联系我们获取其余部分）", "(cut short here; ask us for the rest)"},
	"none":       {"无", "None"},
}

var copyPage = template.Must(template.New("copy").Funcs(template.FuncMap{
	"at": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
}).Parse(copyTemplate))

const copyTemplate = `
{{define "head"}}<!doctype html>
<html lang="{{if .En}}en{{else}}zh-CN{{end}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.W.title}} — {{.C.Customer.ID}}</title>
<style>
body{font:14px/1.5 system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:1.5rem auto;padding:0 1rem;color:#111}
h1{font-size:1.4rem}h2{font-size:1.15rem;border-bottom:1px solid #999;margin-top:1.6rem}h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0}td,th{border:1px solid #ccc;padding:.25rem .4rem;text-align:left;vertical-align:top}
.msg{border-left:3px solid #999;padding:.2rem .6rem;margin:.4rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.meta{color:#555;font-size:.9em}section.ticket{break-inside:avoid-page}
@media print{body{margin:0;max-width:none}a{color:inherit}}
</style></head><body>
<h1>{{.W.title}}</h1>
<p>{{.W.intro}} {{at .C.ExportedAt}}.</p>
<h2>{{.W.customer}} #{{.C.Customer.ID}}</h2>
<table><tr><th>{{.W.name}}</th><td>{{or .C.Customer.Name .W.none}}</td></tr>
<tr><th>{{.W.since}}</th><td>{{at .C.Customer.CreatedAt}}</td></tr>
{{if .C.ErasedAt}}<tr><th>{{.W.erased}}</th><td>{{at .C.ErasedAt.UTC}}</td></tr>{{end}}
<tr><th>{{.W.reach}}</th><td>{{range .C.Customer.Identities}}{{.Kind}}: {{.Value}}<br>{{else}}{{$.W.none}}{{end}}</td></tr>
{{if .C.Holds}}<tr><th>{{.W.holds}}</th><td>{{range .C.Holds}}{{.Entity}} {{at .HeldAt}}{{if .ReleasedAt}} – {{at .ReleasedAt.UTC}}{{end}}<br>{{end}}</td></tr>{{end}}
</table>
<h2>{{.W.tickets}}</h2>
{{end}}
{{define "ticket"}}<section class="ticket"><h3>{{.T.Ref}} · {{.T.Subject}}</h3>
<p class="meta">{{.W.opened}} {{at .T.CreatedAt}} · {{.W.status}} {{.T.Status}} · {{.T.Channel}}</p>
{{range .T.Messages}}<div class="msg"><span class="meta">{{if eq .Direction "inbound"}}{{$.W.inbound}}{{else if eq .Direction "note"}}{{$.W.note}}{{else}}{{$.W.outbound}}{{end}} · {{at .At}}</span>
{{.Body}}{{if .Attachments}}
<span class="meta">{{$.W.files}}: {{range .Attachments}}{{.Filename}} ({{.ContentType}}, {{.SizeBytes}} B) {{end}}</span>{{end}}</div>
{{end}}{{if .T.Complaints}}<h3>{{.W.complaints}}</h3><table>{{range .T.Complaints}}<tr><td>{{at .ReceivedAt}}</td><td>{{.Summary}}</td><td>{{.Status}}</td><td>{{$.W.decision}}: {{.Decision}} {{.Outcome}}</td></tr>{{end}}</table>{{end}}
{{if .T.Surveys}}<h3>{{.W.surveys}}</h3><table>{{range .T.Surveys}}<tr><td>{{.Channel}}</td><td>{{$.W.score}}: {{if .Score}}{{.Score}}{{else}}–{{end}}</td><td>{{.Comment}}</td></tr>{{end}}</table>{{end}}
</section>
{{end}}
{{define "events"}}{{if .Cut}}<p>{{.W.cut}}</p>{{end}}<h2>{{.W.events}}</h2>
<table><thead><tr><th>{{.W.when}}</th><th>{{.W.what}}</th><th>{{.W.who}}</th></tr></thead><tbody>
{{end}}
{{define "event"}}<tr><td>{{at .E.At}}</td><td>{{.E.Kind}}</td><td>{{.E.Actor}}</td></tr>
{{end}}
{{define "foot"}}</tbody></table>{{if .Cut}}<p>{{.W.cut}}</p>{{end}}</body></html>
{{end}}`

// CopyHTML writes copy c as a page the customer can read and print, in Chinese or, with
// en, English, its times in loc (the desk's zone).
func CopyHTML(ctx context.Context, w io.Writer, c *privacy.Copy, en bool, loc *time.Location) error {
	page, err := copyPage.Clone()
	if err != nil {
		return err
	}
	page.Funcs(template.FuncMap{"at": func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }})
	words := map[string]string{}
	for k, v := range copyWords {
		if en {
			words[k] = v[1]
		} else {
			words[k] = v[0]
		}
	}
	if err := page.ExecuteTemplate(w, "head", map[string]any{"W": words, "C": c, "En": en}); err != nil {
		return err
	}
	cut, err := c.EachTicket(ctx, func(tc *privacy.TicketCopy) error {
		return page.ExecuteTemplate(w, "ticket", map[string]any{"W": words, "T": ticketView(tc)})
	})
	if err != nil {
		return err
	}
	if err := page.ExecuteTemplate(w, "events", map[string]any{"W": words, "Cut": cut}); err != nil {
		return err
	}
	cut, err = c.EachEvent(ctx, func(ev *tickets.Event) error {
		return page.ExecuteTemplate(w, "event", map[string]any{"E": eventView(ev)})
	})
	if err != nil {
		return err
	}
	return page.ExecuteTemplate(w, "foot", map[string]any{"W": words, "Cut": cut})
}
