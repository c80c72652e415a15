package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hotlinedesk/hotline/tickets"
)

// Failure is why a reply was not delivered, in the page's language, with the provider's
// code when it gave one (and the raw words of a failure Hotline does not know).
func (v View) Failure(raw string) string {
	f := tickets.DeliveryFailure(raw)
	s := v.TOr("delivery."+f.Kind, v.T("delivery.unknown"))
	if f.Code != "" {
		s += "（" + v.T("delivery.code", f.Code) + "）"
		if v.Lang == "en" {
			s = strings.Replace(s, "（", " (", 1)
			s = strings.Replace(s, "）", ")", 1)
		}
	}
	return s
}

// FileLimits says what a reply on ch may carry, for the composer: the words, and the
// numbers and extensions its script checks before sending.
type FileLimits struct {
	Text          string
	MaxFiles      int
	MaxFileBytes  int64
	MaxTotalBytes int64
	Accept        string // ".jpg,.png"
}

// Limits is FileLimits for ch in the page's language.
func (v View) Limits(ch tickets.Channel) FileLimits {
	l, ok := tickets.ReplyFileLimits(ch)
	if !ok {
		return FileLimits{Text: v.T("files.none")}
	}
	var exts []string
	for _, e := range tickets.ReplyFileExtensions(ch) {
		exts = append(exts, strings.TrimPrefix(e, "."))
	}
	slices.Sort(exts)
	accept := make([]string, len(exts))
	for i, e := range exts {
		accept[i] = "." + e
	}
	return FileLimits{Text: v.T("files.limits", l.MaxFiles, mb(l.MaxTotalBytes), strings.Join(exts, ", ")),
		MaxFiles: l.MaxFiles, MaxFileBytes: l.MaxFileBytes, MaxTotalBytes: l.MaxTotalBytes, Accept: strings.Join(accept, ",")}
}

func mb(n int64) string { return fmt.Sprintf("%g MB", float64(n)/(1<<20)) }
