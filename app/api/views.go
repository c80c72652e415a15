package api

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
)

// The JSON shapes other tools rely on. Times are RFC 3339 in UTC; absent ones are null.
// Customers' numbers and addresses, and those in message text and subjects, are masked
// (privacy.MaskText): a value in full is asked for, and recorded, through POST
// /customers/:id/reveal.

type teamJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type agentRefJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type customerJSON struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	WeChatOpenID string `json:"wechat_openid"`
	Locale       string `json:"locale"`
	Tags         string `json:"tags"`
}

type customerDetailJSON struct {
	*customerJSON
	Tickets []ticketJSON `json:"tickets"`
}

func viewCustomerDetail(d *tickets.CustomerDetail) customerDetailJSON {
	return customerDetailJSON{viewCustomer(d.Customer), viewTickets(d.Tickets)}
}

type ticketJSON struct {
	ID                 int64         `json:"id"`
	Ref                string        `json:"ref"`
	Status             string        `json:"status"`
	Channel            string        `json:"channel"`
	Subject            string        `json:"subject"`
	Category           string        `json:"category"`
	Priority           string        `json:"priority"`
	Team               *teamJSON     `json:"team"`
	Assignee           *agentRefJSON `json:"assignee"`
	Customer           *customerJSON `json:"customer"`
	FirstResponseDueAt *time.Time    `json:"first_response_due_at"`
	FirstRespondedAt   *time.Time    `json:"first_responded_at"`
	ResolutionDueAt    *time.Time    `json:"resolution_due_at"`
	ResolvedAt         *time.Time    `json:"resolved_at"`
	ClosedAt           *time.Time    `json:"closed_at"`
	// Set while waiting on the customer: the resolution clock is stopped.
	PausedAt                *time.Time `json:"paused_at"`
	FirstResponseBreachedAt *time.Time `json:"first_response_breached_at"`
	ResolutionBreachedAt    *time.Time `json:"resolution_breached_at"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

// ticketDetailJSON is a ticket with its whole history.
type ticketDetailJSON struct {
	ticketJSON
	Messages []messageJSON `json:"messages"`
	Events   []eventJSON   `json:"events"`
}

type attachmentJSON struct {
	ID          int64  `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	SizeBytes   int64  `json:"size_bytes"`
	URL         string `json:"url"`                    // where the provider keeps the file, if it does
	DownloadURL string `json:"download_url,omitempty"` // where Hotline serves the file it keeps or fetches
}

type messageJSON struct {
	ID             int64            `json:"id"`
	Direction      string           `json:"direction"`
	Channel        string           `json:"channel"`
	Body           string           `json:"body"`
	AuthorID       *int64           `json:"author_id"`
	DeliveryStatus string           `json:"delivery_status"`
	DeliveryError  string           `json:"delivery_error,omitempty"`
	Attachments    []attachmentJSON `json:"attachments"`
	CreatedAt      time.Time        `json:"created_at"`

	// DeliveryFailure classifies a failed send: kind (opted_out, unreachable, ...) and the
	// provider's code.
	DeliveryFailure *failureJSON `json:"delivery_failure,omitempty"`
}

type eventJSON struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	Actor     string          `json:"actor"`
	ActorKind string          `json:"actor_kind"`
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

type agentJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	TeamID    *int64    `json:"team_id"`
	Capacity  int       `json:"capacity"`
	Locale    string    `json:"locale"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

type listJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func viewCustomer(c *tickets.Customer) *customerJSON {
	if c == nil {
		return nil
	}
	return &customerJSON{
		ID: c.ID, Name: c.Name,
		Phone:        privacy.MaskPhone(c.Identity(tickets.IdentityPhone)),
		Email:        privacy.MaskEmail(c.Identity(tickets.IdentityEmail)),
		WeChatOpenID: privacy.MaskValue(privacy.FieldWeChat, c.Identity(tickets.IdentityWeChat)),
		Locale:       c.Locale, Tags: c.Tags,
	}
}

func viewTicket(t *tickets.Ticket) ticketJSON {
	v := ticketJSON{
		ID: t.ID, Ref: t.Ref(), Status: string(t.Status), Channel: string(t.Channel),
		Subject: privacy.MaskText(t.Subject), Category: t.Category, Priority: string(t.Priority),
		Customer:           viewCustomer(t.Customer),
		FirstResponseDueAt: utc(t.FirstResponseDueAt), FirstRespondedAt: utc(t.FirstRespondedAt),
		ResolutionDueAt: utc(t.ResolutionDueAt), ResolvedAt: utc(t.ResolvedAt), ClosedAt: utc(t.ClosedAt),
		PausedAt: utc(t.PausedAt), FirstResponseBreachedAt: utc(t.FirstResponseBreachedAt), ResolutionBreachedAt: utc(t.ResolutionBreachedAt),
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
	if t.Team != nil {
		v.Team = &teamJSON{ID: t.Team.ID, Name: t.Team.Name}
	}
	if t.Assignee != nil {
		v.Assignee = &agentRefJSON{ID: t.Assignee.ID, Name: t.Assignee.Name, Email: t.Assignee.Email}
	}
	return v
}

func viewTickets(ts []*tickets.Ticket) []ticketJSON {
	out := make([]ticketJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, viewTicket(t))
	}
	return out
}

type failureJSON struct {
	Kind string `json:"kind"`
	Code string `json:"code,omitempty"`
}

func viewMessage(m *tickets.Message) messageJSON {
	v := messageJSON{
		ID: m.ID, Direction: string(m.Direction), Channel: string(m.Channel), Body: privacy.MaskText(m.Body),
		AuthorID: m.AuthorID, DeliveryStatus: m.DeliveryStatus, DeliveryError: m.DeliveryError,
		Attachments: []attachmentJSON{}, CreatedAt: m.CreatedAt.UTC(),
	}
	if m.DeliveryStatus == tickets.DeliveryFailed || m.DeliveryStatus == tickets.DeliveryUndelivered {
		f := tickets.DeliveryFailure(m.DeliveryError)
		v.DeliveryFailure = &failureJSON{Kind: f.Kind, Code: f.Code}
	}
	for _, a := range m.Attachments {
		aj := attachmentJSON{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, SizeBytes: a.SizeBytes, URL: a.URL}
		if a.Stored() || a.Fetched() { // a recording is played through Hotline, never at Twilio's address
			aj.DownloadURL = "/api/v1/attachments/" + strconv.FormatInt(a.ID, 10)
		}
		v.Attachments = append(v.Attachments, aj)
	}
	return v
}

func viewDetail(d *tickets.TicketDetail) ticketDetailJSON {
	v := ticketDetailJSON{ticketJSON: viewTicket(d.Ticket)}
	v.Messages = make([]messageJSON, 0, len(d.Messages))
	for _, m := range d.Messages {
		v.Messages = append(v.Messages, viewMessage(m))
	}
	v.Events = make([]eventJSON, 0, len(d.Events))
	for _, e := range d.Events {
		v.Events = append(v.Events, eventJSON{ID: e.ID, Kind: e.Kind, Actor: e.Actor, ActorKind: e.ActorKind, Data: json.RawMessage(e.Data), CreatedAt: e.CreatedAt.UTC()})
	}
	return v
}

func viewAgent(a *tickets.Agent) agentJSON {
	return agentJSON{ID: a.ID, Email: a.Email, Name: a.Name, Role: string(a.Role), TeamID: a.TeamID, Capacity: a.Capacity, Locale: a.Locale, Active: a.Active, CreatedAt: a.CreatedAt.UTC()}
}
