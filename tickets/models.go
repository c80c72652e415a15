package tickets

import (
	"time"

	"github.com/uptrace/bun"
)

// ErasedText is what a message body or subject reads once retention or a customer's
// request erased it (tickets/privacy); figures about texts leave it out.
const ErasedText = "[erased]"

// Channel is how a customer reached the desk.
type Channel string

const (
	ChannelPhone  Channel = "phone"  // a call handled by an agent, or the voice IVR
	ChannelSMS    Channel = "sms"    // Twilio Messaging
	ChannelWeChat Channel = "wechat" // a WeChat official account
	ChannelEmail  Channel = "email"
	ChannelWalkIn Channel = "walk_in" // logged by an agent at a counter
)

var channels = map[Channel]bool{ChannelPhone: true, ChannelSMS: true, ChannelWeChat: true, ChannelEmail: true, ChannelWalkIn: true}

// Valid reports whether c is a channel Hotline knows.
func (c Channel) Valid() bool { return channels[c] }

// Priority orders work; urgent tickets have the shortest deadlines.
type Priority string

const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

var priorities = map[Priority]bool{PriorityLow: true, PriorityNormal: true, PriorityHigh: true, PriorityUrgent: true}

// Valid reports whether p is one of low, normal, high, urgent.
func (p Priority) Valid() bool { return priorities[p] }

// Role is what an agent may do.
type Role string

const (
	RoleAgent            Role = "agent"
	RoleSupervisor       Role = "supervisor"
	RoleComplaintOfficer Role = "complaint_officer"
	RoleAdmin            Role = "admin"
)

var roles = map[Role]bool{RoleAgent: true, RoleSupervisor: true, RoleComplaintOfficer: true, RoleAdmin: true}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return roles[r] }

// IdentityKind is a way of reaching a customer.
type IdentityKind string

const (
	IdentityPhone  IdentityKind = "phone"  // E.164, e.g. +8613800138000
	IdentityEmail  IdentityKind = "email"  // lower-cased address
	IdentityWeChat IdentityKind = "wechat" // official-account openid
)

// Direction says who wrote a message.
type Direction string

const (
	DirectionInbound  Direction = "inbound"  // from the customer
	DirectionOutbound Direction = "outbound" // from an agent to the customer
	DirectionNote     Direction = "note"     // internal, never sent
)

// Delivery statuses of messages. Inbound messages are received; outbound ones move forward
// from queued as the provider reports.
const (
	DeliveryReceived    = "received"
	DeliveryQueued      = "queued"      // stored, waiting for the send job
	DeliverySent        = "sent"        // the provider accepted it
	DeliveryDelivered   = "delivered"   // the handset or mailbox has it
	DeliveryUndelivered = "undelivered" // the carrier gave up
	DeliveryFailed      = "failed"      // it never left
)

// deliveryRank orders delivery statuses; a status only ever moves forward.
var deliveryRank = map[string]int{
	DeliveryQueued: 0, "accepted": 0, "scheduled": 0, "sending": 1, DeliverySent: 1,
	DeliveryDelivered: 2, "read": 3, DeliveryUndelivered: 3, DeliveryFailed: 3,
}

// DeliveryRank is status's place in the order delivery statuses move forward in (providers
// report some that Hotline does not store, e.g. "accepted"), and whether it is one.
func DeliveryRank(status string) (int, bool) {
	r, ok := deliveryRank[status]
	return r, ok
}

type Team struct {
	bun.BaseModel `bun:"table:teams"`

	ID        int64     `bun:",pk,autoincrement"`
	Name      string    `bun:",notnull"`
	CreatedAt time.Time `bun:",notnull"`
	UpdatedAt time.Time `bun:",notnull"`
}

type Agent struct {
	bun.BaseModel `bun:"table:agents"`

	ID           int64  `bun:",pk,autoincrement"`
	Email        string `bun:",notnull"`
	Name         string `bun:",notnull"`
	Role         Role   `bun:",notnull"`
	TeamID       *int64
	Capacity     int    `bun:",notnull"`
	PasswordHash string `bun:",notnull"`
	Locale       string `bun:",notnull"`
	Active       bool   `bun:",notnull"`
	Online       bool   `bun:",notnull"` // taking new work now
	// LastAssignedAt breaks ties between equally loaded agents: round robin.
	LastAssignedAt *time.Time
	Load           int       `bun:",scanonly"` // open tickets, when a query counts them
	CreatedAt      time.Time `bun:",notnull"`
	UpdatedAt      time.Time `bun:",notnull"`
}

// InTeam reports whether the agent belongs to team id.
func (a *Agent) InTeam(id *int64) bool {
	return a.TeamID != nil && id != nil && *a.TeamID == *id
}

type Customer struct {
	bun.BaseModel `bun:"table:customers"`

	ID         int64       `bun:",pk,autoincrement"`
	Name       string      `bun:",notnull"`
	Locale     string      `bun:",notnull"`
	Tags       string      `bun:",notnull"` // comma-separated, e.g. "vip"
	CreatedAt  time.Time   `bun:",notnull"`
	UpdatedAt  time.Time   `bun:",notnull"`
	Identities []*Identity `bun:"rel:has-many,join:id=customer_id"`
}

// Identity returns the customer's identity of the given kind, or "".
func (c *Customer) Identity(kind IdentityKind) string {
	for _, id := range c.Identities {
		if id.Kind == kind {
			return id.Value
		}
	}
	return ""
}

type Identity struct {
	bun.BaseModel `bun:"table:customer_identities"`

	ID         int64        `bun:",pk,autoincrement"`
	CustomerID int64        `bun:",notnull"`
	Kind       IdentityKind `bun:",notnull"`
	Value      string       `bun:",notnull"`
	OptedOutAt *time.Time   // no messages on this identity's channel while set
	// OptInMessageID is the provider's id of the keyword that last lifted an opt-out, so
	// the provider's retry of it is known for what it is.
	OptInMessageID string    `bun:",nullzero"`
	CreatedAt      time.Time `bun:",notnull"`
	// DigitsReversed is a phone number's digits backwards, so that its last digits are an
	// indexed prefix (SearchCustomers); empty for other kinds. Set by newIdentity.
	DigitsReversed string `bun:",nullzero"`
}

type Ticket struct {
	bun.BaseModel `bun:"table:tickets"`

	ID                 int64    `bun:",pk,autoincrement"`
	CustomerID         int64    `bun:",notnull"`
	Channel            Channel  `bun:",notnull"`
	Subject            string   `bun:",notnull"`
	Category           string   `bun:",notnull"`
	Priority           Priority `bun:",notnull"`
	Status             Status   `bun:",notnull"`
	TeamID             *int64
	AssigneeID         *int64
	FirstResponseDueAt *time.Time
	FirstRespondedAt   *time.Time
	ResolutionDueAt    *time.Time
	ResolvedAt         *time.Time
	ClosedAt           *time.Time
	NextDueAt          time.Time `bun:",notnull"`

	// SLA bookkeeping: the policy in force, when its window began, the pause under way,
	// and which warnings and breaches have been handled (each exactly once).
	PolicyID                *int64
	SLAGeneration           int64      `bun:"sla_generation,notnull"` // the policies' generation the deadlines were worked out under
	SLAStartedAt            *time.Time `bun:"sla_started_at"`
	PausedAt                *time.Time
	FirstResponseWarned     int `bun:",notnull"`
	FirstResponseWarnAt     *time.Time
	FirstResponseBreachedAt *time.Time
	ResolutionWarned        int `bun:",notnull"`
	ResolutionWarnAt        *time.Time
	ResolutionBreachedAt    *time.Time

	CreatedAt time.Time `bun:",notnull"`
	UpdatedAt time.Time `bun:",notnull"`

	Customer *Customer `bun:"rel:belongs-to,join:customer_id=id"`
	Team     *Team     `bun:"rel:belongs-to,join:team_id=id"`
	Assignee *Agent    `bun:"rel:belongs-to,join:assignee_id=id"`
}

// Ref is the ticket's human reference, e.g. HL-000123.
func (t *Ticket) Ref() string { return FormatRef(t.ID) }

type Message struct {
	bun.BaseModel `bun:"table:messages"`

	ID                int64     `bun:",pk,autoincrement"`
	TicketID          int64     `bun:",notnull"`
	Direction         Direction `bun:",notnull"`
	Channel           Channel   `bun:",notnull"`
	Body              string    `bun:",notnull"`
	ProviderMessageID *string
	DeliveryStatus    string `bun:",notnull"`
	DeliveryError     string `bun:",notnull"`
	AuthorID          *int64
	CreatedAt         time.Time `bun:",notnull"`

	Attachments []*Attachment `bun:"rel:has-many,join:id=message_id"`
}

type Attachment struct {
	bun.BaseModel `bun:"table:attachments"`

	ID          int64     `bun:",pk,autoincrement"`
	MessageID   int64     `bun:",notnull"`
	Filename    string    `bun:",notnull"`
	ContentType string    `bun:",notnull"`
	SizeBytes   int64     `bun:",notnull"`
	URL         string    `bun:"url,notnull"`
	FileSHA256  *string   `bun:"file_sha256"` // the stored file (attachment_files), when Hotline keeps it
	CreatedAt   time.Time `bun:",notnull"`

	// Provider names whose credentials Hotline fetches URL with to serve the file
	// (ProviderTwilio: a call recording); empty when Hotline does not fetch it.
	Provider string `bun:",notnull"`
	// TranscriptLang is the language Hotline's speech-to-text service transcribes the
	// recording in ("zh", "en"), empty for none; TranscriptState is how far that got.
	TranscriptLang  string `bun:",notnull"`
	TranscriptState string `bun:",notnull"`
}

// attachmentFile is a file Hotline keeps, named by its SHA-256.
type attachmentFile struct {
	bun.BaseModel `bun:"table:attachment_files"`

	SHA256      string    `bun:"sha256,pk"`
	Content     []byte    `bun:"content"` // nil when the store has it
	SizeBytes   int64     `bun:",notnull"`
	ContentType string    `bun:",notnull"`
	Location    string    `bun:",notnull"` // FileInDB or FileInStore
	TouchedAt   time.Time `bun:",notnull"`
	// ClaimedAt is when a sweep claimed the row to delete its object; nil when none holds it.
	ClaimedAt *time.Time `bun:"claimed_at"`
}

// Stored reports whether Hotline keeps the attachment's file itself.
func (a *Attachment) Stored() bool { return a.FileSHA256 != nil }

// Fetched reports whether Hotline serves the file by fetching it from its provider with
// the account's credentials (a Twilio call recording), rather than keeping it.
func (a *Attachment) Fetched() bool { return a.FileSHA256 == nil && a.Provider != "" }

// Event is one line of the audit trail.
type Event struct {
	bun.BaseModel `bun:"table:events"`

	ID        int64     `bun:",pk,autoincrement"`
	Entity    string    `bun:",notnull"` // "ticket", "agent", "team"
	EntityID  int64     `bun:",notnull"`
	Kind      string    `bun:",notnull"` // e.g. "ticket.created", "status.changed"
	ActorKind string    `bun:",notnull"` // "agent", "customer", "system", "apikey"
	ActorID   *int64    // the agent, when ActorKind is "agent"
	Actor     string    `bun:",notnull"` // who, as people read it: an agent's email, "customer", "system"
	Data      string    `bun:",notnull"` // JSON details: from, to, reason, ...
	CreatedAt time.Time `bun:",notnull"`
}
