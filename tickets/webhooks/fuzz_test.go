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
// loopback, private, link-local, multicast and unspecified, the other IPv4 special-purpose
// ranges, IPv6 outside global unicast, and the IPv6 forms carrying an IPv4 address that is
// inside (IPv4-compatible, SIIT, NAT64, 6to4, Teredo's inverted client).
func inside(ip netip.Addr) bool {
	ip = ip.WithZone("").Unmap()
	in := func(ps ...string) bool {
		for _, p := range ps {
			if netip.MustParsePrefix(p).Contains(ip) {
				return true
			}
		}
		return false
	}
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	if ip.Is4() {
		return in("0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
			"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4")
	}
	b := ip.As16()
	at := func(i int) netip.Addr { return netip.AddrFrom4([4]byte(b[i : i+4])) }
	switch {
	case in("::/96", "::ffff:0:0:0/96", "64:ff9b::/96") && inside(at(12)):
		return true
	case in("2002::/16") && inside(at(2)):
		return true
	case in("2001::/32") && inside(netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})):
		return true
	}
	return in("64:ff9b:1::/48", "100::/64", "fec0::/10", "2001:db8::/32", "2001:2::/48", "3fff::/20") ||
		!in("2000::/3", "64:ff9b::/96")
}

// FuzzReceiverURL: an admin's URL (outside input through the API) is never accepted
// unless it is http or https with a host and no credentials, and never when its host is an
// address inside the network; the dial-time guard refuses every such address however it
// is written.
func FuzzReceiverURL(f *testing.F) {
	for _, s := range []string{"https://crm.example.com/hook?token=abc", "http://127.0.0.1:8080/", "http://[::ffff:10.0.0.1]/",
		"http://169.254.169.254/latest", "ftp://x/", "https://u:p@x/", "http://[fe80::1%25eth0]/", "http://0x7f.1/", "http://100.64.0.1/",
		"http://[::127.0.0.1]/", "http://[::ffff:0:10.0.0.1]/", "http://[64:ff9b::7f00:1]/", "http://[64:ff9b:1::a00:1]/",
		"http://[2002:a9fe:a9fe::]/", "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "http://[fec0::1]/", "http://[100::1]/",
		"http://192.88.99.1/", "http://198.18.0.1/", "http://203.0.113.1/", "http://255.255.255.255/", "http://[2002:c0a8:101::1%25x]/",
		"https://[64:ff9b::5db8:d822]/", "https://[2606:4700:4700::1111]/"} {
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
