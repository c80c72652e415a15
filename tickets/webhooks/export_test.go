package webhooks

import "context"

// CheckURLForTest runs the check of a subscription's URL, private addresses refused.
func CheckURLForTest(raw string) error { return (&Service{}).checkURL(raw) }

// DialGuardForTest runs the dial-time guard on a "host:port" address.
func DialGuardForTest(address string) error { return guardedDial("tcp", address, nil) }

// CleanTextForTest is a receiver's answer as it is stored.
func CleanTextForTest(b []byte) string { return cleanText(b) }

// ClaimForTest claims delivery id for an attempt and makes none, as a worker that died
// after its claim; it reports whether it claimed.
func (s *Service) ClaimForTest(ctx context.Context, id int64) (bool, error) {
	d, err := s.claim(ctx, id)
	return d != nil, err
}
