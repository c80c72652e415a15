package ui

import (
	"errors"
	"regexp"
	"slices"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// StatusIn is the HTTP status of err and its reason in lang. The service words its errors
// in English for the API; the Chinese console says those its forms can produce in Chinese
// (serviceReasons), and only unexpected ones by their kind followed by the service's own
// particulars. The console's own errors (fiber errors) are already worded for the page.
func StatusIn(lang string, err error) (int, string) {
	status, reason := Status(err)
	var fe *fiber.Error
	if lang == "en" || reason == "" || errors.As(err, &fe) {
		return status, reason
	}
	for _, r := range allReasons() {
		if m := r.re.FindStringSubmatch(reason); m != nil {
			args := make([]any, 0, len(m)-1)
			for _, a := range m[1:] {
				if r.words != "" {
					a = TOrKey(lang, r.words+a, a)
				}
				args = append(args, a)
			}
			return status, T(lang, r.key, args...)
		}
	}
	for _, k := range []struct {
		err error
		key string
	}{{tickets.ErrNotFound, "svcerr.not_found"}, {tickets.ErrConflict, "svcerr.conflict"},
		{tickets.ErrForbidden, "error.forbidden"}, {tickets.ErrInvalid, "svcerr.invalid"}} {
		if errors.Is(err, k.err) {
			return status, T(lang, "svcerr.with", T(lang, k.key), reason)
		}
	}
	return status, T(lang, "svcerr.with", T(lang, "svcerr.invalid"), reason)
}

// reason is one refusal of the service's as the console says it.
type reason struct {
	re    *regexp.Regexp
	key   string
	words string
}

// allReasons are the refusals of the core and of the chapters with sections of their own.
func allReasons() []reason { return slices.Concat(serviceReasons, qualityReasons) }

// serviceReasons are the service's refusals an agent can meet in the console's forms, as
// the console says them; the captured parts (references, names, numbers) fill the words,
// looked up under the prefix words when they are stored values (statuses, priorities).
// Anything else keeps the service's English particulars, being unexpected.
var serviceReasons = []reason{
	{regexp.MustCompile(`^ticket (\S+) not found$`), "svcerr.ticket_not_found", ""},
	{regexp.MustCompile(`^"(.*)" is not a ticket reference`), "svcerr.not_a_reference", ""},
	{regexp.MustCompile(`^(\S+) is closed; reopen it before replying$`), "svcerr.closed", ""},
	{regexp.MustCompile(`^(\S+) is already taken by (.+)$`), "svcerr.taken", ""},
	{regexp.MustCompile(`^(\S+) cannot go from (\w+) to (\w+)$`), "svcerr.cannot_move", "status."},
	{regexp.MustCompile(`^(HL-\d+) is already (\w+)$`), "svcerr.already", "status."},
	{regexp.MustCompile(`^the customer opted out of`), "svcerr.opted_out", ""},
	{regexp.MustCompile(`^unknown status "(.*)" \(`), "svcerr.unknown_status", ""},
	// Tickets: replies, notes, fields, assignment, logging a call.
	{regexp.MustCompile(`^reply text is empty$`), "svcerr.reply_empty", ""},
	{regexp.MustCompile(`^note text is empty$`), "svcerr.note_empty", ""},
	{regexp.MustCompile(`^(?:reply|note|description) is \d+ bytes, more than the \d+ allowed$`), "svcerr.too_long", ""},
	{regexp.MustCompile(`^the customer has no .+ to send \S+ to$`), "svcerr.no_address", ""},
	{regexp.MustCompile(`^(HL-\d+) is already (\w+) priority$`), "svcerr.already_priority", "prio."},
	{regexp.MustCompile(`^(HL-\d+) is already in category "(.*)"$`), "svcerr.already_category", "category."},
	{regexp.MustCompile(`^a category has at most 100 characters$`), "svcerr.category_long", ""},
	{regexp.MustCompile(`^agents can only assign tickets to themselves$`), "svcerr.assign_self", ""},
	{regexp.MustCompile(`^agents take tickets into their own team`), "svcerr.assign_team", ""},
	{regexp.MustCompile(`^say which team or agent to assign to$`), "svcerr.assign_whom", ""},
	{regexp.MustCompile(`^(\S+) is deactivated$`), "svcerr.deactivated", ""},
	{regexp.MustCompile(`^only the assignee, their supervisor or an admin can change (\S+)$`), "svcerr.not_yours", ""},
	{regexp.MustCompile(`^say what the customer needs`), "svcerr.call_what", ""},
	{regexp.MustCompile(`^a phone number or an email address is needed`), "svcerr.call_reach", ""},
	{regexp.MustCompile(`^phone number "(.*)" (?:has an unexpected character|needs a country code|is not a valid)`), "svcerr.bad_phone", ""},
	{regexp.MustCompile(`^email address "(.*)" is not valid$`), "svcerr.bad_email", ""},
	{regexp.MustCompile(`^say what to search for`), "svcerr.search_what", ""},
	{regexp.MustCompile(`^search is \d+ bytes`), "svcerr.search_long", ""},
	{regexp.MustCompile(`^a reply by \S+ cannot carry files$`), "svcerr.no_files", ""},
	{regexp.MustCompile(`^a reply by \S+ carries at most (\d+) file`), "svcerr.too_many_files", ""},
	{regexp.MustCompile(`^(.+) is \S+ \S+; a file sent by \S+ may be at most (.+)$`), "svcerr.file_big", ""},
	{regexp.MustCompile(`^the files come to .+; a reply by \S+ may carry at most (.+)$`), "svcerr.files_big", ""},
	{regexp.MustCompile(`^(.+): \S+ takes only (.+)$`), "svcerr.file_type", ""},
	{regexp.MustCompile(`^(.+) is not the \S+ its name says$`), "svcerr.file_lies", ""},
	// Progress stages and documents.
	{regexp.MustCompile(`^stage "(.*)" belongs to category "(.*)", and (\S+) is in "(.*)"$`), "svcerr.stage_category", ""},
	{regexp.MustCompile(`^stage \d+ does not exist$`), "svcerr.stage_unknown", ""},
	{regexp.MustCompile(`^(\S+) is already at stage "(.*)"$`), "svcerr.stage_already", ""},
	{regexp.MustCompile(`^(\S+) is closed; reopen it before moving its stage$`), "svcerr.stage_closed", ""},
	{regexp.MustCompile(`^list at least one document`), "svcerr.docs_none", ""},
	{regexp.MustCompile(`^at most (\d+) documents can be asked for at once$`), "svcerr.docs_many", ""},
	{regexp.MustCompile(`^a document's name has at most (\d+) characters$`), "svcerr.doc_long", ""},
	{regexp.MustCompile(`^(\S+) is (\w+); reopen it before asking for documents$`), "svcerr.docs_closed", "status."},
	{regexp.MustCompile(`^stage \d+: the working days must be between 0 \(no deadline\) and (\d+)$`), "svcerr.stage_days", ""},
	{regexp.MustCompile(`^stage (\d+) needs a name in both Chinese and English$`), "svcerr.stage_names", ""},
	{regexp.MustCompile(`^line (\d+): `), "svcerr.stage_line", ""},
	{regexp.MustCompile(`^stage "(.*)" cannot be removed`), "svcerr.stage_in_use", ""},
	{regexp.MustCompile(`^only admins edit the progress stages$`), "svcerr.stage_admins", ""},
	// Complaints and follow-ups.
	{regexp.MustCompile(`^record a decision to decide a complaint$`), "svcerr.decide_first", ""},
	{regexp.MustCompile(`^a decision needs its text and an outcome$`), "svcerr.decision_text", ""},
	{regexp.MustCompile(`^an extension needs a reason$`), "svcerr.extend_reason", ""},
	{regexp.MustCompile(`^(CP-\d+) was already extended once, to (\S+)$`), "svcerr.extended_once", ""},
	{regexp.MustCompile(`^(CP-\d+) is (\w+); only an open complaint can be extended$`), "svcerr.extend_closed", "complaints.st."},
	{regexp.MustCompile(`^the new deadline must be after the current one`), "svcerr.extend_later", ""},
	{regexp.MustCompile(`^(HL-\d+) already has an open complaint, (CP-\d+)`), "svcerr.open_complaint", ""},
	{regexp.MustCompile(`^say what the complaint is about`), "svcerr.complaint_what", ""},
	{regexp.MustCompile(`^complaints are handled by complaint officers`), "svcerr.complaint_staff", ""},
	{regexp.MustCompile(`^say how the follow-up went in a note$`), "svcerr.followup_note", ""},
	{regexp.MustCompile(`^follow-up \d+ was already completed$`), "svcerr.followup_done", ""},
	{regexp.MustCompile(`^follow-up \d+ was cancelled when its ticket was reopened$`), "svcerr.followup_cancelled", ""},
	{regexp.MustCompile(`^only the follow-up's assignee`), "svcerr.followup_not_yours", ""},
	{regexp.MustCompile(`^this notice was for someone else`), "svcerr.notice_not_yours", ""},
	// Scorecards.
	{regexp.MustCompile(`^only the agent, a supervisor of their team or an admin may read their figures$`), "svcerr.figures_agent", ""},
	{regexp.MustCompile(`^only a supervisor of the team or an admin may read its agents' figures$`), "svcerr.figures_team", ""},
	{regexp.MustCompile(`^only an admin may set the scorecard targets$`), "svcerr.targets_admin", ""},
	{regexp.MustCompile(`^there is no team \d+$`), "svcerr.no_team", ""},
	{regexp.MustCompile(`^a scorecard covers at most (\d+) days$`), "svcerr.scorecard_long", ""},
	// Account, canned replies and administration.
	{regexp.MustCompile(`^the current password is wrong$`), "svcerr.password_wrong", ""},
	{regexp.MustCompile(`^a password needs at least (\d+) characters$`), "svcerr.password_short", ""},
	{regexp.MustCompile(`^a password may have at most 72 bytes$`), "svcerr.password_long", ""},
	{regexp.MustCompile(`^your password was changed meanwhile`), "svcerr.password_changed", ""},
	{regexp.MustCompile(`^a canned reply needs a title$`), "svcerr.canned_title", ""},
	{regexp.MustCompile(`^a canned reply needs a text in Chinese or English$`), "svcerr.canned_text", ""},
	{regexp.MustCompile(`^the title is longer than (\d+) characters$`), "svcerr.canned_title_long", ""},
	{regexp.MustCompile(`^unknown variable (.+); the variables are`), "svcerr.canned_var", ""},
	{regexp.MustCompile(`^"\{\{" is not closed with "\}\}"$`), "svcerr.canned_braces", ""},
	{regexp.MustCompile(`^supervisors manage the canned replies of their own team only$`), "svcerr.canned_team", ""},
	{regexp.MustCompile(`^an agent with email (\S+) already exists$`), "svcerr.agent_exists", ""},
	{regexp.MustCompile(`^name cannot be empty$`), "svcerr.name_empty", ""},
	{regexp.MustCompile(`^capacity must be between 0 and 1000$`), "svcerr.capacity", ""},
	{regexp.MustCompile(`^admins cannot demote themselves`), "svcerr.self_demote", ""},
	{regexp.MustCompile(`^admins cannot deactivate themselves$`), "svcerr.self_deactivate", ""},
	{regexp.MustCompile(`^nothing to change$`), "svcerr.nothing", ""},
	{regexp.MustCompile(`^a team needs a name of 1 to 100 characters$`), "svcerr.team_name", ""},
	{regexp.MustCompile(`^a team named "(.*)" already exists$`), "svcerr.team_exists", ""},
	{regexp.MustCompile(`^team "(.*)" still has \d+ `), "svcerr.team_busy", ""},
	{regexp.MustCompile(`^a routing rule needs a name$`), "svcerr.rule_name", ""},
	{regexp.MustCompile(`^an SLA policy needs a name$`), "svcerr.policy_name", ""},
	{regexp.MustCompile(`^first response and resolution times must be positive$`), "svcerr.policy_times", ""},
	{regexp.MustCompile(`^day "(.*)" is not a date like`), "svcerr.bad_day", ""},
	{regexp.MustCompile(`^day "(.*)" is outside the years`), "svcerr.day_range", ""},
	{regexp.MustCompile(`^(\S+) is not locked out and has no failed sign-ins`), "svcerr.not_locked", ""},
	{regexp.MustCompile(`^two-step sign-in is required by the configuration`), "svcerr.totp_fixed", ""},
	// Outbound webhooks' subscriptions (tickets/webhooks).
	{regexp.MustCompile(`^a webhook needs a name of 1 to \d+ characters$`), "svcerr.hook_name", ""},
	{regexp.MustCompile(`^a webhook's name is one line of text, without control characters$`), "svcerr.hook_name_control", ""},
	{regexp.MustCompile(`^a webhook URL is text without control characters`), "svcerr.hook_url_control", ""},
	{regexp.MustCompile(`^a webhook URL is 1 to \d+ characters$`), "svcerr.hook_url", ""},
	{regexp.MustCompile(`^a webhook URL is an http:// or https:// address with a host$`), "svcerr.hook_url", ""},
	{regexp.MustCompile(`^a webhook URL carries no user name or password`), "svcerr.hook_url_user", ""},
	{regexp.MustCompile(`^a webhook URL has no #fragment$`), "svcerr.hook_url_fragment", ""},
	{regexp.MustCompile(`^a webhook URL may not point at a private, loopback or link-local address`), "svcerr.hook_url_private", ""},
	{regexp.MustCompile(`^a webhook needs at least one event`), "svcerr.hook_events", ""},
	{regexp.MustCompile(`^unknown webhook event "(.*)";`), "svcerr.hook_event", ""},
	{regexp.MustCompile(`^(.+) has no two-step sign-in to reset$`), "svcerr.totp_none", ""},
	{regexp.MustCompile(`^an admin cannot reset their own two-step sign-in`), "svcerr.totp_self", ""},
	{regexp.MustCompile(`^the wording does not render`), "svcerr.template_broken", ""},
	// A customer's personal information: legal holds and erasure.
	{regexp.MustCompile(`^customer \d+ is under a legal hold \(on the \w+, since (\S+), by (\S+): (.*)\); release it before erasing$`), "svcerr.erase_held", ""},
	{regexp.MustCompile(`^customer \d+ has open tickets \((.*)\); resolve or close them before erasing$`), "svcerr.erase_open", ""},
	{regexp.MustCompile(`^customer \d+ has a complaint still open`), "svcerr.erase_complaint", ""},
	{regexp.MustCompile(`^this \w+ is under a legal hold already$`), "svcerr.hold_exists", ""},
	{regexp.MustCompile(`^legal hold \d+ is not in force$`), "svcerr.hold_gone", ""},
	{regexp.MustCompile(`^say why \(a case number`), "svcerr.say_why", ""},
	{regexp.MustCompile(`^the reason is longer than (\d+) characters$`), "svcerr.reason_long", ""},
	{regexp.MustCompile(`^only supervisors, complaint officers and admins place or release legal holds$`), "svcerr.hold_staff", ""},
	{regexp.MustCompile(`^only supervisors and admins may `), "svcerr.privacy_staff", ""},
}
