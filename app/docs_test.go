package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// The documentation is checked like the code: docs/configuration.md lists every
// environment variable the repository reads and no other, and every link in README.md and
// docs/*.md leads to a file (and heading) that exists, or to a provider's or library's own
// site.

// root is the top of the repository; tests run in app/.
const root = ".."

// hotlineName is the shape of the names Hotline gives its own variables. The channel
// settings (Field.Env) and the phone menu's voices name theirs in tables rather than in a
// call, so every string literal of this shape counts as read.
var hotlineName = regexp.MustCompile(`^(HOTLINE|TWILIO|WECHAT|SLACK|SMTP|IMAP|EMAIL)_[A-Z0-9_]+$`)

// envReaders are the calls whose first argument names a variable that is read.
var envReaders = map[string]bool{"os.Getenv": true, "os.LookupEnv": true, "env": true, "durationEnv": true}

// envReadByCode returns every environment variable the Go code (tests included) and the CI
// scripts read, with one place each reads it.
func envReadByCode(t *testing.T) map[string]string {
	t.Helper()
	read := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "test-output") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		note := func(lit *ast.BasicLit) string {
			if lit == nil || lit.Kind != token.STRING {
				return ""
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return ""
			}
			return s
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					if x, ok := fn.X.(*ast.Ident); ok {
						name = x.Name + "." + fn.Sel.Name
					}
				}
				if envReaders[name] && len(n.Args) > 0 {
					lit, _ := n.Args[0].(*ast.BasicLit)
					if s := note(lit); s != "" {
						read[s] = fset.Position(lit.Pos()).String()
					}
				}
			case *ast.BasicLit:
				if s := note(n); hotlineName.MatchString(s) {
					if _, seen := read[s]; !seen {
						read[s] = fset.Position(n.Pos()).String()
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	shellVar := regexp.MustCompile(`\$\{?([A-Z][A-Z0-9_]*)`)
	scripts, _ := filepath.Glob(filepath.Join(root, ".ci", "*"))
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range shellVar.FindAllStringSubmatch(string(b), -1) {
			read[m[1]] = s
		}
	}
	return read
}

// envDocumented returns the variables docs/configuration.md lists: the names in backticks
// in the first column of its tables.
func envDocumented(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]*)`")
	listed := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if !strings.HasPrefix(strings.TrimSpace(line), "|") || len(cells) < 3 {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			listed[m[1]] = true
		}
	}
	return listed
}

func TestConfigurationDocListsEveryVariable(t *testing.T) {
	read, listed := envReadByCode(t), envDocumented(t)
	for _, must := range []string{"DATABASE_URL", "REDIS_URL", "HOTLINE_ADDR", "TWILIO_AUTH_TOKEN", "HOTLINE_IVR_VOICE_ZH", "CI"} {
		if _, ok := read[must]; !ok {
			t.Errorf("the scan of the code did not find %s: the test no longer sees how variables are read", must)
		}
	}
	for name, where := range read {
		if !listed[name] {
			t.Errorf("%s is read (%s) but docs/configuration.md has no row for it", name, where)
		}
	}
	for name := range listed {
		if _, ok := read[name]; !ok {
			t.Errorf("docs/configuration.md lists %s, which nothing in the repository reads", name)
		}
	}
}

// officialSites are the only places outside the repository the documentation may link
// to: the providers' and libraries' own pages.
var officialSites = []string{
	"www.twilio.com/docs/", "help.twilio.com/", "console.twilio.com/",
	"developers.weixin.qq.com/doc/", "mp.weixin.qq.com/",
	"api.slack.com/", "docs.slack.dev/",
	"support.google.com/", "support.microsoft.com/",
	"taskfile.dev/", "www.postgresql.org/docs/", "www.sqlite.org/", "redis.io/docs/",
	"github.com/hibiken/asynq", "github.com/chromedp/chromedp", "prometheus.io/docs/",
	"platform.openai.com/docs/", "github.com/ggml-org/whisper.cpp", "go.dev/",
	"www.w3.org/TR/", "github.com/dequelabs/axe-core",
}

var (
	fence       = regexp.MustCompile("(?s)```.*?```")
	codeSpan    = regexp.MustCompile("`[^`\n]*`")
	inlineLink  = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	refLink     = regexp.MustCompile(`(?m)^\s{0,3}\[[^\]]+\]:\s*(\S+)`)
	headingLine = regexp.MustCompile(`(?m)^#{1,6}\s+(.+?)\s*#*\s*$`)
)

// anchors returns the GitHub anchors of a Markdown file's headings.
func anchors(text string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, m := range headingLine.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(m[1]) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
				b.WriteRune(r)
			}
		}
		slug := b.String()
		if n := seen[slug]; n > 0 {
			out[slug+"-"+strconv.Itoa(n)] = true
		} else {
			out[slug] = true
		}
		seen[slug]++
	}
	return out
}

func TestDocsLinksResolve(t *testing.T) {
	pages, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	pages = append(pages, filepath.Join(root, "README.md"))
	if len(pages) < 2 {
		t.Fatal("no documentation found")
	}
	links := 0
	for _, page := range pages {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		text := codeSpan.ReplaceAllString(fence.ReplaceAllString(string(b), ""), "")
		var targets []string
		for _, re := range []*regexp.Regexp{inlineLink, refLink} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				targets = append(targets, m[1])
			}
		}
		for _, target := range targets {
			links++
			if u, err := url.Parse(target); err == nil && u.Scheme != "" {
				rest := strings.TrimPrefix(strings.TrimPrefix(target, "https://"), "http://")
				if u.Scheme != "https" || !slices.ContainsFunc(officialSites, func(s string) bool { return strings.HasPrefix(rest+"/", s) }) {
					t.Errorf("%s links outside the repository to %s, which is not a provider's or library's own page (officialSites)", page, target)
				}
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			file := page
			if path != "" {
				file = filepath.Join(filepath.Dir(page), filepath.FromSlash(path))
				if _, err := os.Stat(file); err != nil {
					t.Errorf("%s links to %s, which does not exist", page, target)
					continue
				}
			}
			if anchor == "" || !strings.HasSuffix(file, ".md") {
				continue
			}
			body, err := os.ReadFile(file)
			if err != nil {
				t.Errorf("%s links to %s: %v", page, target, err)
				continue
			}
			if !anchors(string(body))[anchor] {
				t.Errorf("%s links to %s, but %s has no heading with the anchor #%s", page, target, file, anchor)
			}
		}
	}
	if links == 0 {
		t.Error("no links found: the test no longer reads the pages")
	}
}

func TestHeadingAnchors(t *testing.T) {
	got := anchors("# Run it\n## Redis Cluster: what it gives Asynq\n```\n# not a heading\n```\n## `GET /metrics`\n## Run it\n## 微信公众号（WeChat）\n")
	for _, want := range []string{"run-it", "redis-cluster-what-it-gives-asynq", "get-metrics", "run-it-1", "微信公众号wechat"} {
		if !got[want] {
			t.Errorf("no anchor %q in %v", want, got)
		}
	}
	if got["not-a-heading"] {
		t.Error("a comment in a code block was taken for a heading")
	}
}
