package privacy_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotlinedesk/hotline/tickets/privacy"
)

func TestMaskText(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"mainland mobile", "我的手机13800138000，请回电", "我的手机138****8000，请回电"},
		{"mobile grouped", "call 138 0013 8000 please", "call 138 **** 8000 please"},
		{"mobile hyphens", "电话：139-1234-5678", "电话：139-****-5678"},
		{"E.164", "reach me on +8613800138000.", "reach me on +86138****8000."},
		{"E.164 spaced", "+86 138 0013 8000", "+86 138 **** 8000"},
		{"foreign E.164", "US cell +14155550123", "US cell +141****0123"},
		{"fullwidth digits", "手机１３８００１３８０００", "手机１３８****８０００"},
		{"ID card", "身份证号310101199001011234", "身份证号3101**********1234"},
		{"ID card with X", "ID 11010519491231002X ok", "ID 1101**********002X ok"},
		{"ID card lowercase x", "11010519491231002x", "1101**********002x"},
		{"bank card", "卡号6222021234567890128", "卡号6222***********0128"},
		{"bank card in groups", "card 6217 0012 3456 7893 thanks", "card 6217 **** **** 7893 thanks"},
		{"visa", "4111111111111111", "4111********1111"},
		{"email", "write to zhang.wei@example.com", "write to zh***@example.com"},
		{"short email", "a@qq.com", "a***@qq.com"},
		{"QQ mail", "13800138000@qq.com", "13***@qq.com"},
		{"two numbers side by side", "13800138000 2026", "138****8000 2026"},
		{"several", "手机13800138000，身份证310101199001011234，邮箱li@163.com",
			"手机138****8000，身份证3101**********1234，邮箱l***@163.com"},
		// Ordinary numbers stay as written.
		{"claim id", "理赔 CL-2026-1147 进度", "理赔 CL-2026-1147 进度"},
		{"policy number", "保单号 P2026001234567", "保单号 P2026001234567"},
		{"policy digits glued", "PA13800138000", "PA13800138000"},
		{"amount", "赔付金额 12,800.00 元，共 13800138000.50", "赔付金额 12,800.00 元，共 13800138000.50"},
		{"date", "2026-12-04 09:30", "2026-12-04 09:30"},
		{"ID with wrong check digit", "310101199001011235", "310101199001011235"},
		{"card failing Luhn", "6222021234567890121", "6222021234567890121"},
		{"16 digits not a card prefix", "9000123412341234", "9000123412341234"},
		{"landline-ish 10 digits", "0211234567", "0211234567"},
		{"12 digits", "138001380001", "138001380001"},
		{"ticket ref", "T-1042", "T-1042"},
		{"masked stays masked", "138****8000 3101**********1234 zh***@example.com", "138****8000 3101**********1234 zh***@example.com"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := privacy.MaskText(tc.in); got != tc.want {
				t.Errorf("MaskText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestMaskValue(t *testing.T) {
	for _, tc := range []struct{ kind, in, want string }{
		{"phone", "+8613800138000", "+86 138****8000"},
		{"phone", "13800138000", "138****8000"},
		{"phone", "+14155550123", "+141****0123"},
		{"phone", "+85291234567", "+852****4567"},
		{"email", "zhang.wei@example.com", "zh***@example.com"},
		{"email", "li@163.com", "l***@163.com"},
		{"wechat", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "o6_bmj…"},
		{"id_card", "310101199001011234", "3101**********1234"},
	} {
		if got := privacy.MaskValue(tc.kind, tc.in); got != tc.want {
			t.Errorf("MaskValue(%s, %q) = %q, want %q", tc.kind, tc.in, got, tc.want)
		}
	}
}

func TestChecks(t *testing.T) {
	for _, id := range []string{"310101199001011234", "11010519491231002X", "440306198512085670", "320582197804150011"} {
		if !privacy.ValidIDCard(id) {
			t.Errorf("ValidIDCard(%s) = false", id)
		}
	}
	for _, id := range []string{"310101199001011230", "11010519491231002Y", "3101011990010112", "31010119900101123A"} {
		if privacy.ValidIDCard(id) {
			t.Errorf("ValidIDCard(%s) = true", id)
		}
	}
	for _, c := range []string{"6222021234567890128", "6217001234567893", "4111111111111111", "520000123456783"} {
		if !privacy.BankCard(c) {
			t.Errorf("BankCard(%s) = false", c)
		}
	}
	for _, c := range []string{"6222021234567890121", "411111111111", "12345678901234567890", "1111111111111117"} {
		if privacy.BankCard(c) {
			t.Errorf("BankCard(%s) = true", c)
		}
	}
}

// FuzzMaskText: whatever a customer writes, masking never panics, keeps valid text valid,
// leaves nothing personal to find, changes nothing on a second pass, and keeps every
// character that is not part of a personal value.
func FuzzMaskText(f *testing.F) {
	for _, s := range []string{
		"我的手机13800138000，身份证310101199001011234", "+86 138 0013 8000", "6217 0012 3456 7893",
		"zhang.wei@example.com", "CL-2026-1147", "11010519491231002X", "１３８００１３８０００",
		"13800138000@qq.com", "+", "+1", "- 1 -", "13800138000 2026 6217001234567893", "a@b.cc@d.ee",
		"\xff13800138000", "x 13800138000x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := privacy.MaskText(s)
		if utf8.ValidString(s) && !utf8.ValidString(m) {
			t.Fatalf("MaskText(%q) = %q, not valid UTF-8", s, m)
		}
		if again := privacy.MaskText(m); again != m {
			t.Fatalf("masking twice changed it: %q → %q → %q", s, m, again)
		}
		if f := privacy.Find(m); len(f) > 0 {
			t.Fatalf("MaskText(%q) = %q still holds %s at %d", s, m, f[0].Kind, f[0].Start)
		}
		if len(privacy.Find(s)) == 0 && m != s {
			t.Fatalf("nothing personal in %q, yet masked to %q", s, m)
		}
		if !strings.ContainsAny(s, "@") && utf8.RuneCountInString(m) != utf8.RuneCountInString(s) {
			t.Fatalf("masking numbers changed the length: %q → %q", s, m)
		}
	})
}
