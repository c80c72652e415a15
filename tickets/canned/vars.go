package canned

import (
	"slices"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

// The variables a canned reply may use, written {{name}} (spaces inside the braces are
// allowed). Nothing else in braces is taken: a reply naming an unknown variable is refused
// when saved, so a customer never receives a stray {{...}}.
const (
	VarCustomerName     = "customer_name"
	VarTicketRef        = "ticket_ref"
	VarComplaintRef     = "complaint_ref"      // the ticket's open complaint, else its latest
	VarFirstResponseDue = "first_response_due" // the ticket's deadlines, in the calendar's zone
	VarResolutionDue    = "resolution_due"
	VarComplaintDue     = "complaint_due" // the complaint's decision deadline
	VarAgentName        = "agent_name"    // the agent who sends it
)

// Vars are the known variables, in the order people are shown them.
var Vars = []string{VarCustomerName, VarTicketRef, VarComplaintRef, VarFirstResponseDue, VarResolutionDue, VarComplaintDue, VarAgentName}

// scan calls fn with each variable of text (its name as written, trimmed) and the text
// before it, and returns the text after the last one; it stops at an unclosed "{{", which
// it reports with ok false.
func scan(text string, fn func(before, name string)) (rest string, ok bool) {
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			return text, true
		}
		j := strings.Index(text[i+2:], "}}")
		if j < 0 {
			return text, false
		}
		fn(text[:i], strings.TrimSpace(text[i+2:i+2+j]))
		text = text[i+2+j+2:]
	}
}

// Check refuses text that names an unknown variable or leaves "{{" unclosed.
func Check(text string) error {
	var unknown []string
	_, ok := scan(text, func(_, name string) {
		if !slices.Contains(Vars, name) {
			unknown = append(unknown, "{{"+name+"}}")
		}
	})
	if len(unknown) > 0 {
		return tickets.Invalidf("unknown variable %s; the variables are {{%s}}", strings.Join(unknown, ", "), strings.Join(Vars, "}}, {{"))
	}
	if !ok {
		return tickets.Invalidf(`"{{" is not closed with "}}"`)
	}
	return nil
}

// Render is text with its variables replaced by their values in vars ("" for one without
// a value, such as the complaint of a ticket that has none).
func Render(text string, vars map[string]string) string {
	var b strings.Builder
	rest, _ := scan(text, func(before, name string) {
		b.WriteString(before)
		b.WriteString(vars[name])
	})
	b.WriteString(rest)
	return b.String()
}
