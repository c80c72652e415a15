package ui

import (
	"errors"
	"regexp"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/tickets"
)

// StatusIn is the HTTP status of err and its reason in lang. The service words its errors
// in English for the API; the Chinese console says the common ones in Chinese, and the
// rest by their kind in Chinese followed by the service's own particulars. The console's own errors (fiber errors) are already
// worded for the page.
func StatusIn(lang string, err error) (int, string) {
	status, reason := Status(err)
	var fe *fiber.Error
	if lang == "en" || reason == "" || errors.As(err, &fe) {
		return status, reason
	}
	for _, r := range serviceReasons {
		if m := r.re.FindStringSubmatch(reason); m != nil {
			args := make([]any, 0, len(m)-1)
			for _, a := range m[1:] {
				args = append(args, TOrKey(lang, "status."+a, a))
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

// serviceReasons are the service's most common refusals as the console says them; the
// captured parts (references, statuses) fill the words.
var serviceReasons = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^ticket (\S+) not found$`), "svcerr.ticket_not_found"},
	{regexp.MustCompile(`^"(.*)" is not a ticket reference`), "svcerr.not_a_reference"},
	{regexp.MustCompile(`^(\S+) is closed; reopen it before replying$`), "svcerr.closed"},
	{regexp.MustCompile(`^(\S+) is already taken by (.+)$`), "svcerr.taken"},
	{regexp.MustCompile(`^(\S+) cannot go from (\w+) to (\w+)$`), "svcerr.cannot_move"},
	{regexp.MustCompile(`^(HL-\d+) is already (\w+)$`), "svcerr.already"},
	{regexp.MustCompile(`^the customer opted out of`), "svcerr.opted_out"},
	{regexp.MustCompile(`^unknown status "(.*)" \(`), "svcerr.unknown_status"},
}
