package email

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// TestRealWorldCorpus parses every file under the directories named in
// HOTLINE_EMAIL_CORPUS (colon-separated) and reports what Hotline made of them: parsed or
// refused (and why), panics, messages with nothing to store or no body text, text with
// replacement
// characters or mojibake, bounces and auto-replies. Real-world corpora are fetched
// material and stay outside the repository. HOTLINE_EMAIL_CORPUS_REPORT, when set, names
// a file to write each file's outcome to, one line each, for comparing two versions.
//
//	HOTLINE_EMAIL_CORPUS=/tmp/corpus/a:/tmp/corpus/b go test -run TestRealWorldCorpus -v ./channels/email/
func TestRealWorldCorpus(t *testing.T) {
	dirs := os.Getenv("HOTLINE_EMAIL_CORPUS")
	if dirs == "" {
		t.Skip("HOTLINE_EMAIL_CORPUS is not set: name one or more directories of real-world email (colon-separated) to run the corpus")
	}
	var total corpusCounts
	var lines []string
	for _, dir := range filepath.SplitList(dirs) {
		var c corpusCounts
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			raw, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			outcome := c.add(raw)
			lines = append(lines, path+"\t"+outcome)
			return nil
		})
		if err != nil {
			t.Fatalf("reading %s: %v", dir, err)
		}
		t.Logf("%-40s %s", dir, c)
		total.merge(c)
	}
	t.Logf("%-40s %s", "total", total)
	if total.panics > 0 {
		t.Errorf("%d files made Parse panic", total.panics)
	}
	if report := os.Getenv("HOTLINE_EMAIL_CORPUS_REPORT"); report != "" {
		sort.Strings(lines)
		if err := os.WriteFile(report, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type corpusCounts struct {
	files, parsed, panics, empty, noBody, replacement, mojibake, bounces, autoReplies int
	refused                                                                           map[string]int
}

var (
	// mojibake is what text read in the wrong charset looks like: UTF-8 read as Latin-1 or
	// Windows-1252 ("Ã©", "â€™"), or Latin text read as GBK (a CJK character inside a
	// Latin word, "Forma玢o").
	mojibake = regexp.MustCompile(`Ã[\x{80}-\x{BF}\x{A0}-\x{FF}]|â€|[A-Za-z]\p{Han}[a-z]`)
	// corpusErrors names Parse's refusals.
	corpusErrors = []struct {
		err  error
		name string
	}{{ErrTooLarge, "too large"}, {ErrNoHeader, "no header"}, {ErrNoFrom, "no From"}, {ErrTooManyFields, "too many fields"}, {ErrLongMessageID, "long Message-ID"}}
)

// add parses one file and returns its outcome, for the report.
func (c *corpusCounts) add(raw []byte) (outcome string) {
	c.files++
	defer func() {
		if r := recover(); r != nil {
			c.panics++
			outcome = fmt.Sprintf("panic %v", r)
		}
	}()
	m, err := Parse(raw)
	if err != nil {
		kind := "other"
		for _, e := range corpusErrors {
			if errors.Is(err, e.err) {
				kind = e.name
			}
		}
		if kind == "other" && strings.HasPrefix(err.Error(), "email: malformed message") {
			// Parse turns a panic into this error; it counts as one.
			c.panics++
			return "panic " + err.Error()
		}
		if c.refused == nil {
			c.refused = map[string]int{}
		}
		c.refused[kind]++
		return "refused " + kind
	}
	c.parsed++
	var flags []string
	text := m.Subject + "\n" + m.From.Name + "\n" + m.Text + "\n" + m.Quoted
	if m.HTML != "" {
		text += "\n" + HTMLToText(m.HTML)
	}
	if strings.TrimSpace(m.Text) == "" && m.HTML == "" && len(m.Attachments) == 0 && strings.TrimSpace(m.Subject) == "" {
		c.empty++
		flags = append(flags, "empty")
	}
	if strings.TrimSpace(m.Text) == "" && m.HTML == "" {
		c.noBody++
		flags = append(flags, "no-body")
	}
	if strings.ContainsRune(text, '\uFFFD') {
		c.replacement++
		flags = append(flags, "U+FFFD")
	}
	if mojibake.MatchString(text) {
		c.mojibake++
		flags = append(flags, "mojibake")
	}
	if m.Bounce != nil {
		c.bounces++
		flags = append(flags, "bounce")
	} else if m.AutoReply {
		c.autoReplies++
		flags = append(flags, "auto-reply")
	}
	return fmt.Sprintf("parsed %q atts=%d %s text=%q", truncateUTF8(m.Subject, 60), len(m.Attachments), strings.Join(flags, " "), truncateUTF8(strings.Join(strings.Fields(m.Text), " "), 80))
}

func (c *corpusCounts) merge(o corpusCounts) {
	c.files += o.files
	c.parsed += o.parsed
	c.panics += o.panics
	c.empty += o.empty
	c.noBody += o.noBody
	c.replacement += o.replacement
	c.mojibake += o.mojibake
	c.bounces += o.bounces
	c.autoReplies += o.autoReplies
	for k, n := range o.refused {
		if c.refused == nil {
			c.refused = map[string]int{}
		}
		c.refused[k] += n
	}
}

func (c corpusCounts) String() string {
	var refused []string
	for k, n := range c.refused {
		refused = append(refused, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(refused)
	return fmt.Sprintf("files %d, parsed %d, refused %d [%s], panics %d, empty %d, no body text %d, U+FFFD %d, mojibake %d, bounces %d, auto-replies %d",
		c.files, c.parsed, c.files-c.parsed-c.panics, strings.Join(refused, ", "), c.panics, c.empty, c.noBody, c.replacement, c.mojibake, c.bounces, c.autoReplies)
}
