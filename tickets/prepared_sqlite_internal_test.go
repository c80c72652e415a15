package tickets

import (
	"reflect"
	"testing"
)

// The literals bun renders for SQLite are read as SQLite reads them; anything else is left
// to run as text.
func TestSQLiteLiteral(t *testing.T) {
	for _, c := range []struct {
		lit  string
		want any
		ok   bool
	}{
		{"NULL", nil, true},
		{"TRUE", int64(1), true},
		{"FALSE", int64(0), true},
		{"0", int64(0), true},
		{"-42", int64(-42), true},
		{"9223372036854775807", int64(9223372036854775807), true},
		{"-9223372036854775807", int64(-9223372036854775807), true},
		{"''", "", true},
		{"'it''s ?, $1'", "it's ?, $1", true},
		{"''''", "'", true},
		{"'🎫\t\x01'", "🎫\t\x01", true},
		{"X''", []byte{}, true},
		{"X'00ff10'", []byte{0, 0xff, 0x10}, true},
		// Left to SQLite's own reading.
		{"-9223372036854775808", nil, false}, // a real to SQLite's parser
		{"9223372036854775808", nil, false},
		{"1.5", nil, false},
		{"1e5", nil, false},
		{"'NaN'x", "NaN", true}, // the rest is the caller's to check
		{"'open", nil, false},
		{"'a\x00b'", nil, false},
		{"X'0'", nil, false},
		{"NULLS", nil, false},
		{"DEFAULT", nil, false},
		{"current_timestamp", nil, false},
		{"", nil, false},
	} {
		got, _, ok := sqliteLiteral(c.lit)
		if ok != c.ok || ok && !reflect.DeepEqual(got, c.want) {
			t.Errorf("sqliteLiteral(%q) = %#v, %v; want %#v, %v", c.lit, got, ok, c.want, c.ok)
		}
	}
}

func TestBindInsert(t *testing.T) {
	for _, c := range []struct {
		query, text string
		args        []any
	}{
		{`INSERT INTO "t" ("a", "b") VALUES (NULL, 'x, y), (z')`, `INSERT INTO "t" ("a", "b") VALUES (?, ?)`, []any{nil, "x, y), (z"}},
		{`INSERT INTO "t" AS "t" ("a", "b") VALUES (1, 'p'), (-2, X'ab')`, `INSERT INTO "t" AS "t" ("a", "b") VALUES (?, ?), (?, ?)`, []any{int64(1), "p", int64(-2), []byte{0xab}}},
		// Anything else runs as it is.
		{`INSERT INTO "t" ("a") VALUES (1) RETURNING "id"`, "", nil},
		{`INSERT INTO "t" ("a") VALUES (1.5)`, "", nil},
		{`INSERT INTO "t" ("a") VALUES (current_timestamp)`, "", nil},
		{`UPDATE "t" SET "a" = 1`, "", nil},
		{`INSERT INTO "t" ("a") VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9)`, "", nil},
	} {
		text, args, ok := bindInsert(c.query)
		if ok != (c.text != "") || text != c.text || !reflect.DeepEqual(args, c.args) {
			t.Errorf("bindInsert(%s) = %q, %#v, %v; want %q, %#v", c.query, text, args, ok, c.text, c.args)
		}
	}
}
