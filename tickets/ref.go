package tickets

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// RefPrefix starts every ticket reference.
const RefPrefix = "HL-"

// FormatRef turns a ticket id into the reference customers and agents read: HL-000123.
func FormatRef(id int64) string { return fmt.Sprintf("%s%06d", RefPrefix, id) }

// ParseRef reads a reference such as "HL-000123" or "hl-123" back into a ticket id.
func ParseRef(ref string) (int64, bool) {
	ref = strings.TrimSpace(ref)
	if len(ref) <= len(RefPrefix) || !strings.EqualFold(ref[:len(RefPrefix)], RefPrefix) {
		return 0, false
	}
	id, err := strconv.ParseInt(ref[len(RefPrefix):], 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// ComplaintRefPrefix starts every complaint reference.
const ComplaintRefPrefix = "CP-"

// FormatComplaintRef turns a complaint id into its reference: CP-000042. Customers read it
// in their notices and on the status page, staff in theirs.
func FormatComplaintRef(id int64) string { return fmt.Sprintf("%s%06d", ComplaintRefPrefix, id) }

// refInText finds a ticket reference in text, e.g. "about HL-000123" or "[hl-123]".
var refInText = regexp.MustCompile(`(?i)\bHL-(\d{1,12})\b`)

// RefsIn lists the ticket ids a text names, in order.
func RefsIn(text string) []int64 {
	var ids []int64
	for _, m := range refInText.FindAllStringSubmatch(text, -1) {
		if id, ok := ParseRef(RefPrefix + m[1]); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

// quotedTicket is the first ticket id a message's text names, or 0.
func quotedTicket(text string) int64 {
	if ids := RefsIn(text); len(ids) > 0 {
		return ids[0]
	}
	return 0
}
