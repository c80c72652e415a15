package tickets

// Status is where a ticket stands: new → open → pending → resolved → closed, with reopening.
type Status string

const (
	StatusNew      Status = "new"      // nobody has answered yet
	StatusOpen     Status = "open"     // an agent is on it
	StatusPending  Status = "pending"  // waiting on the customer
	StatusResolved Status = "resolved" // answered; reopens if the customer comes back
	StatusClosed   Status = "closed"   // done and archived
)

// transitions lists where each status may go. Reopening is resolved/closed → open.
var transitions = map[Status][]Status{
	StatusNew:      {StatusOpen, StatusPending, StatusResolved},
	StatusOpen:     {StatusPending, StatusResolved},
	StatusPending:  {StatusOpen, StatusResolved},
	StatusResolved: {StatusOpen, StatusClosed},
	StatusClosed:   {StatusOpen},
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// CanBecome reports whether a ticket in status s may move to next.
func (s Status) CanBecome(next Status) bool {
	for _, to := range transitions[s] {
		if to == next {
			return true
		}
	}
	return false
}

// Active reports whether the ticket still needs work: new, open or pending.
func (s Status) Active() bool {
	return s == StatusNew || s == StatusOpen || s == StatusPending
}

var activeStatuses = []Status{StatusNew, StatusOpen, StatusPending}
