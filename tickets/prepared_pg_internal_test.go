package tickets

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The literals bun writes for PostgreSQL are read whole, as written; anything else is left
// in the text.
func TestPGLiteral(t *testing.T) {
	for _, c := range []struct{ in, lit, rest string }{
		{"NULL, 1", "NULL", ", 1"},
		{"TRUE)", "TRUE", ")"},
		{"FALSE", "FALSE", ""},
		{"0)", "0", ")"},
		{"-42, ", "-42", ", "},
		{"9223372036854775808)", "9223372036854775808", ")"}, // PostgreSQL's numeric, as in place
		{"1.5)", "1.5", ")"},
		{"-1e+300)", "-1e+300", ")"},
		{"2E-5, ", "2E-5", ", "},
		{"'')", "''", ")"},
		{"'it''s ?, $1', 2", "'it''s ?, $1'", ", 2"},
		{"''''", "''''", ""},
		{"'🎫\t\\x01'", "'🎫\t\\x01'", ""},
		{"'{\"a\":\"b''c\"}')", "'{\"a\":\"b''c\"}'", ")"},
		// Not literals: left in the text, the INSERT sent as it is.
		{"'open", "", ""},
		{"NULLS", "", ""},
		{"DEFAULT", "", ""},
		{"now()", "", ""},
		{"1.)", "", ""},
		{"1e)", "", ""},
		{"-)", "", ""},
		{"12ab", "", ""},
		{"", "", ""},
	} {
		lit, rest, ok := pgLiteral(c.in)
		if c.lit == "" {
			if ok {
				t.Errorf("pgLiteral(%q) = %q, %q; want no literal", c.in, lit, rest)
			}
			continue
		}
		if !ok || lit != c.lit || rest != c.rest {
			t.Errorf("pgLiteral(%q) = %q, %q, %v; want %q, %q", c.in, lit, rest, ok, c.lit, c.rest)
		}
	}
}

func TestPGBind(t *testing.T) {
	for _, c := range []struct {
		query, shape string
		args         []string
	}{
		{`INSERT INTO "t" ("a", "b") VALUES (NULL, 'x, y), (z')`, `INSERT INTO "t" ("a", "b") VALUES ($1, $2)`, []string{"NULL", "'x, y), (z'"}},
		{`INSERT INTO "t" AS "t" ("id", "a", "b") VALUES (DEFAULT, 1, 'p'), (DEFAULT, -2.5, '$1') RETURNING NULL`,
			`INSERT INTO "t" AS "t" ("id", "a", "b") VALUES (DEFAULT, $1, $2), (DEFAULT, $3, $4) RETURNING NULL`, []string{"1", "'p'", "-2.5", "'$1'"}},
		{`INSERT INTO "events" ("id", "data") VALUES (DEFAULT, '{"k":"it''s"}') RETURNING "id"`,
			`INSERT INTO "events" ("id", "data") VALUES (DEFAULT, $1) RETURNING "id"`, []string{`'{"k":"it''s"}'`}},
		// Anything else is sent as it is.
		{`INSERT INTO "t" ("a") VALUES (now())`, "", nil},
		{`INSERT INTO "t" ("a") VALUES ('x'::jsonb)`, "", nil},
		{`INSERT INTO "t" ("a") VALUES (1) ON CONFLICT DO UPDATE SET a = 'x'`, "", nil},
		{`INSERT INTO "t" ("a") VALUES (1) RETURNING $1`, "", nil},
		{`INSERT INTO "t$" ("a") VALUES (1)`, "", nil},
		{`UPDATE "t" SET "a" = 1`, "", nil},
		{`INSERT INTO "t" ("a") VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9)`, "", nil},
		{`INSERT INTO "t" ("a") VALUES (1`, "", nil},
	} {
		args := []string{"'kept'"}
		b, ok := pgBind([]byte("kept"), c.query, &args)
		shape := strings.TrimPrefix(string(b), "kept")
		if string(b[:4]) != "kept" {
			t.Errorf("pgBind(%s) changed what came before the shape: %q", c.query, b)
		}
		if c.shape == "" {
			if ok || len(args) != 1 {
				t.Errorf("pgBind(%s) = %q, %q; want it left as text, the arguments as they were", c.query, shape, args)
			}
			continue
		}
		// Numbered on from the arguments given.
		want := regexp.MustCompile(`\$(\d+)`).ReplaceAllStringFunc(c.shape, func(p string) string {
			n, _ := strconv.Atoi(p[1:])
			return "$" + strconv.Itoa(n+1)
		})
		if !ok || shape != want || !slices.Equal(args[1:], c.args) {
			t.Errorf("pgBind(%s) = %q, %q, %v; want %q, %q", c.query, shape, args[1:], ok, want, c.args)
		}
	}
}

// unbind puts args back in place of the $n in shape.
func unbind(shape string, args []string) string {
	return regexp.MustCompile(`\$(\d+)`).ReplaceAllStringFunc(shape, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		return args[n-1]
	})
}

// Whatever the text, pgBind either leaves it or splits it into a shape and literals that
// put back together are the text again, every literal one that pgLiteral reads whole.
func FuzzPGBind(f *testing.F) {
	for _, s := range []string{
		`INSERT INTO "t" ("a", "b") VALUES (NULL, 'x, y), (z')`,
		`INSERT INTO "t" ("id", "a") VALUES (DEFAULT, 1), (DEFAULT, -2.5e3) RETURNING NULL`,
		`INSERT INTO "messages" ("id", "body") VALUES (7, 'it''s $1 ?')`,
		`INSERT INTO "t" ("a") VALUES ('x'::jsonb)`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		args := []string{}
		b, ok := pgBind(nil, query, &args)
		shape := string(b)
		if !ok {
			if len(args) != 0 {
				t.Fatalf("refused %q but kept arguments %q", query, args)
			}
			return
		}
		if got := unbind(shape, args); got != query {
			t.Fatalf("pgBind(%q) = %q, %q: put back together %q", query, shape, args, got)
		}
		for _, a := range args {
			if lit, rest, ok := pgLiteral(a); !ok || lit != a || rest != "" {
				t.Fatalf("argument %q is not one literal", a)
			}
		}
	})
}
