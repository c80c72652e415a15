package tickets

import (
	"net/mail"
	"strings"
)

// NormalizePhone returns the E.164 form of a phone number. Numbers written without a
// country code are read in defaultCountry (a calling code such as "86"); "00" is the
// international prefix.
func NormalizePhone(raw, defaultCountry string) (string, error) {
	s := strings.TrimSpace(raw)
	var digits strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r >= '０' && r <= '９': // full-width digits, common in Chinese input
			digits.WriteRune('0' + (r - '０'))
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return "", invalidf("phone number %q has an unexpected character %q", raw, r)
		}
	}
	d := digits.String()
	switch {
	case strings.HasPrefix(s, "+"):
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case defaultCountry != "":
		d = defaultCountry + strings.TrimPrefix(d, "0") // a trunk 0 is dropped after the country code
	default:
		return "", invalidf("phone number %q needs a country code, e.g. +86", raw)
	}
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", invalidf("phone number %q is not a valid international number", raw)
	}
	return "+" + d, nil
}

// NormalizeEmail returns the lower-cased bare address of an email address.
func NormalizeEmail(raw string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(raw))
	if err != nil {
		return "", invalidf("email address %q is not valid", raw)
	}
	return strings.ToLower(a.Address), nil
}

// normalizeIdentity validates and canonicalises an identity value of the given kind.
func normalizeIdentity(kind IdentityKind, value, defaultCountry string) (string, error) {
	switch kind {
	case IdentityPhone:
		return NormalizePhone(value, defaultCountry)
	case IdentityEmail:
		return NormalizeEmail(value)
	case IdentityWeChat:
		v := strings.TrimSpace(value)
		if v == "" || len(v) > 64 {
			return "", invalidf("WeChat openid %q is not valid", value)
		}
		return v, nil
	}
	return "", invalidf("unknown identity kind %q", kind)
}

// NormalizeIdentity is a customer's address of a kind as the service stores it: a phone
// number in E.164 (read in the configured country when written without one), an email
// address in lower case, a WeChat openid as it is.
func (s *Service) NormalizeIdentity(kind IdentityKind, address string) (string, error) {
	return normalizeIdentity(kind, address, s.cfg.DefaultCountry)
}

// MaskPhone hides all but the last four digits, for logs.
func MaskPhone(p string) string {
	if len(p) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(p)-4) + p[len(p)-4:]
}
