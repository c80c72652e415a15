package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// Finding a customer, the agent's first act when the phone rings. A search reads a phone
// number in any form (+86 138 0013 8000, 13800138000, 0086…, its last four or more
// digits), a name or part of one (any case), an email address (any case) or a WeChat
// openid. Each is answered by an index except a part of a name, which reads the customers
// table (not their messages; about 0.1 s for 100,000 customers on the shared test
// machine): a phone's last digits are a prefix of its reversed digits
// (customer_identities.digits_reversed), an address or openid is a key of
// customer_identities (kind, value).

// MaxSearchLen bounds what a search may ask for.
const MaxSearchLen = 100

// minPhoneDigits is the fewest digits read as a phone number's tail: fewer match too many.
const minPhoneDigits = 4

// ReverseDigits is the digits of s, last first: what customer_identities.digits_reversed
// holds of a phone number (the load harness writes it too).
func ReverseDigits(s string) string { return reverseDigits(s) }

// reverseDigits returns the digits of s, last first.
func reverseDigits(s string) string {
	b := make([]byte, 0, len(s))
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			b = append(b, s[i])
		}
	}
	return string(b)
}

// phoneDigits reads q as (the end of) a phone number: its digits without the
// international prefix 00 or a national trunk 0, and whether q is one at all (only digits
// and the marks people write numbers with, at least minPhoneDigits digits).
func phoneDigits(q string) (string, bool) {
	var d strings.Builder
	for i, r := range q {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r >= '０' && r <= '９':
			d.WriteRune('0' + (r - '０'))
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", false
		}
	}
	s := d.String()
	if strings.HasPrefix(s, "00") {
		s = s[2:]
	} else {
		s = strings.TrimPrefix(s, "0")
	}
	return s, len(s) >= minPhoneDigits
}

// digitsRange is the range of reversed digit strings that begin with prefix: [prefix,
// upper), upper empty when there is no end. Spelled as a range rather than LIKE so that
// any collation's index serves it (digit strings sort alike in all of them).
func digitsRange(prefix string) (lower, upper string) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return prefix, string(b[:i+1])
		}
	}
	return prefix, ""
}

// customerMatch is the SQL that selects the ids of the customers a search finds, with its
// arguments (through p, so a prepared query gets them as parameters). The caller has
// checked q is not empty.
func customerMatch(q string, p *params) (string, []any) {
	if digits, ok := phoneDigits(q); ok {
		lower, upper := digitsRange(reverseDigits(digits))
		if upper == "" {
			return "SELECT customer_id FROM customer_identities WHERE digits_reversed >= ?", []any{p.add(lower)}
		}
		return "SELECT customer_id FROM customer_identities WHERE digits_reversed >= ? AND digits_reversed < ?",
			[]any{p.add(lower), p.add(upper)}
	}
	lower := strings.ToLower(q)
	if strings.Contains(q, "@") { // an address, not a name: the index alone answers it
		return "SELECT customer_id FROM customer_identities WHERE kind = 'email' AND value = ?", []any{p.add(lower)}
	}
	return `SELECT id FROM customers WHERE LOWER(name) LIKE ? ESCAPE '\'
		UNION SELECT customer_id FROM customer_identities WHERE (kind = 'email' AND value = ?) OR (kind = 'wechat' AND value = ?)`,
		[]any{p.add("%" + escapeLike(lower) + "%"), p.add(lower), p.add(q)}
}

// checkSearch trims a search and bounds it.
func checkSearch(q string) (string, error) {
	q = strings.TrimSpace(q)
	if len(q) > MaxSearchLen {
		return "", invalidf("search is %d bytes, more than the %d allowed", len(q), MaxSearchLen)
	}
	return q, nil
}

// CustomerFilter selects customers.
type CustomerFilter struct {
	Query  string // a phone number or its last digits, a name or part of one, an email address, an openid
	Cursor string // from the previous page's NextCursor
	Limit  int    // 1..100, default 20
}

// CustomerPage is one page of customers, newest first.
type CustomerPage struct {
	Items      []*Customer
	NextCursor string // empty on the last page
}

// SearchCustomers finds customers by what an agent knows of them, newest first, with their
// identities.
func (s *Service) SearchCustomers(ctx context.Context, f CustomerFilter) (*CustomerPage, error) {
	q, err := checkSearch(f.Query)
	if err != nil {
		return nil, err
	}
	if q == "" {
		return nil, invalidf("say what to search for: a phone number or its last %d digits, a name, an email address or a WeChat openid", minPhoneDigits)
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	if f.Limit > 100 {
		return nil, invalidf("limit may be at most 100")
	}
	var items []*Customer
	match, args := customerMatch(q, &params{}) // inline: a search is not a hot path to prepare
	sel := s.db.NewSelect().Model(&items).
		Where("customer.id IN ("+match+")", args...).
		OrderExpr("customer.id DESC").Limit(f.Limit + 1)
	if f.Cursor != "" {
		after, err := strconv.ParseInt(f.Cursor, 10, 64)
		if err != nil || after <= 0 {
			return nil, invalidf("cursor %q is not one this server gave out", f.Cursor)
		}
		sel = sel.Where("customer.id < ?", after)
	}
	if err := sel.Scan(ctx); err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	page := &CustomerPage{Items: items}
	if len(items) > f.Limit {
		page.Items = items[:f.Limit]
		page.NextCursor = strconv.FormatInt(page.Items[f.Limit-1].ID, 10)
	}
	if len(page.Items) == 0 {
		return page, nil
	}
	ids := make([]int64, len(page.Items))
	byID := make(map[int64]*Customer, len(page.Items))
	for i, c := range page.Items {
		ids[i], byID[c.ID] = c.ID, c
	}
	var idents []*Identity
	if err := s.db.NewSelect().Model(&idents).Where("customer_id IN (?)", bun.In(ids)).OrderExpr("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("load identities: %w", err)
	}
	for _, id := range idents {
		byID[id.CustomerID].Identities = append(byID[id.CustomerID].Identities, id)
	}
	return page, nil
}

// CallerTickets returns the open tickets (new, open, pending) of the customer a phone
// number belongs to, newest first, and that customer; none when the number is unknown or
// not a number.
func (s *Service) CallerTickets(ctx context.Context, phone string) (*Customer, []*Ticket, error) {
	value, err := NormalizePhone(phone, s.cfg.DefaultCountry)
	if err != nil {
		return nil, nil, nil //nolint:nilerr // not a number: nobody to match, the form says why on saving
	}
	c := new(Customer)
	err = s.db.NewSelect().Model(c).Relation("Identities").
		Where("customer.id = (SELECT customer_id FROM customer_identities WHERE kind = ? AND value = ?)", IdentityPhone, value).
		Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("find caller: %w", err)
	}
	var ts []*Ticket
	if err := s.db.NewSelect().Model(&ts).
		Where("ticket.customer_id = ? AND ticket.status IN (?)", c.ID, bun.In([]Status{StatusNew, StatusOpen, StatusPending})).
		OrderExpr("ticket.id DESC").Limit(20).Scan(ctx); err != nil {
		return nil, nil, fmt.Errorf("find caller's open tickets: %w", err)
	}
	return c, ts, nil
}
