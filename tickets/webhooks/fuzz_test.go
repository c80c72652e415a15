package webhooks_test

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/tickets/webhooks"
)

// inside is the test's own list of what a receiver may not be: netip's names for
// loopback, private, link-local, multicast and unspecified, and CGNAT.
func inside(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() || netip.MustParsePrefix("100.64.0.0/10").Contains(ip)
}

// FuzzReceiverURL: an admin's URL (outside input through the API) is never accepted
// unless it is http or https with a host and no credentials, and never when its host is an
// address inside the network; the dial-time guard refuses every such address however it
// is written.
func FuzzReceiverURL(f *testing.F) {
	for _, s := range []string{"https://crm.example.com/hook?token=abc", "http://127.0.0.1:8080/", "http://[::ffff:10.0.0.1]/",
		"http://169.254.169.254/latest", "ftp://x/", "https://u:p@x/", "http://[fe80::1%25eth0]/", "http://0x7f.1/", "http://100.64.0.1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := webhooks.CheckURLForTest(raw)
		if err == nil {
			u, perr := url.Parse(raw)
			if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
				t.Fatalf("accepted %q", raw)
			}
			if ip, perr := netip.ParseAddr(u.Hostname()); perr == nil && inside(ip) {
				t.Fatalf("accepted %q, an address inside", raw)
			}
		}
		if u, perr := url.Parse(raw); perr == nil {
			if ip, perr := netip.ParseAddr(u.Hostname()); perr == nil && inside(ip) {
				if webhooks.DialGuardForTest(net.JoinHostPort(ip.String(), "443")) == nil {
					t.Fatalf("the dial guard let %s through", ip)
				}
			}
		}
	})
}

// FuzzReceiverAnswer: whatever a receiver answers is stored as valid UTF-8 without NUL
// bytes (PostgreSQL refuses both), and nothing is invented.
func FuzzReceiverAnswer(f *testing.F) {
	f.Add([]byte("ok"))
	f.Add([]byte{0xff, 0x00, 'a', 0xe4, 0xb8})
	f.Add([]byte("收到 received\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := webhooks.CleanTextForTest(b)
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("stored %q", s)
		}
		if utf8.Valid(b) && !strings.ContainsRune(string(b), 0) && s != string(b) {
			t.Fatalf("a clean answer %q changed to %q", b, s)
		}
	})
}
