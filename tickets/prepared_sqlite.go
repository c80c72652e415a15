package tickets

import (
	"context"
	"database/sql"
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/schema"
)

// SQLite parses and compiles every statement it is given, and bun writes every value into
// the statement's text: each INSERT was new text, compiled again (an INSERT into tickets
// compiles the upkeep of its twenty indexes), over 40% of an API create's CPU. So the hot
// statements run on SQLite as prepared statements (statements, prepared.go), the values
// bun renders read back from its text into bound parameters: the text left, with a ? for
// each value, is the same for every row of a table. Each value is bound as exactly what
// SQLite reads from the literal bun wrote, so what is stored, and how it compares (times
// are text, in bun's format), does not change. What is not such a literal runs as before.

// maxPreparedRows bounds the rows of a prepared INSERT: each row count is a statement of
// its own in the cache, and attachments can come many at once.
const maxPreparedRows = 8

// sqliteLiteral reads the literal at the start of s, as bun renders a value for SQLite,
// into the value SQLite reads from it: NULL; an integer; 'text' (quotes doubled); X'hex',
// a blob; TRUE or FALSE, 1 and 0. It returns the rest of s after the literal, and false
// for anything else: a real (SQLite rounds its digits its own way), an integer beyond
// int64 (a real to SQLite), an expression.
func sqliteLiteral(s string) (v any, rest string, ok bool) {
	word := func(w string) bool {
		return strings.HasPrefix(s, w) && (len(s) == len(w) || !isWordByte(s[len(w)]))
	}
	switch {
	case s == "":
		return nil, s, false
	case word("NULL"):
		return nil, s[4:], true
	case word("TRUE"):
		return int64(1), s[4:], true
	case word("FALSE"):
		return int64(0), s[5:], true
	case s[0] == '\'':
		return sqliteText(s)
	case (s[0] == 'X' || s[0] == 'x') && len(s) > 1 && s[1] == '\'':
		end := strings.IndexByte(s[2:], '\'')
		if end < 0 {
			return nil, s, false
		}
		b := make([]byte, end/2) // not nil, even when empty: nil binds NULL
		if _, err := hex.Decode(b, []byte(s[2:2+end])); err != nil || end%2 != 0 {
			return nil, s, false
		}
		return b, s[2+end+1:], true
	case s[0] == '-' || s[0] >= '0' && s[0] <= '9':
		n := 1
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n < len(s) && (s[n] == '.' || isWordByte(s[n])) {
			return nil, s, false
		}
		i, err := strconv.ParseInt(s[:n], 10, 64)
		// The smallest int64 is 9223372036854775808 negated, a literal SQLite reads
		// as a real.
		if err != nil || i == math.MinInt64 {
			return nil, s, false
		}
		return i, s[n:], true
	}
	return nil, s, false
}

// sqliteText reads a quoted literal, its doubled quotes single. A NUL (which bun leaves
// out) would end SQLite's reading of the text, so it is refused.
func sqliteText(s string) (v any, rest string, ok bool) {
	var b []byte // only when a quote is doubled
	from := 1
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case 0:
			return nil, s, false
		case '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b = append(b, s[from:i+1]...)
				from = i + 2
				i++
				continue
			}
			if b == nil {
				return s[1:i], s[i+1:], true
			}
			return string(append(b, s[from:i]...)), s[i+1:], true
		}
	}
	return nil, s, false
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// bindInsert splits an INSERT bun rendered for SQLite, "INSERT INTO t (cols) VALUES (…),
// (…)" and nothing after, into its text with a ? for each value, and the values.
func bindInsert(query string) (text string, args []any, ok bool) {
	const values = " VALUES ("
	at := strings.Index(query, values)
	if at < 0 || !strings.HasPrefix(query, "INSERT INTO ") || strings.IndexByte(query[:at], '\'') >= 0 {
		return "", nil, false
	}
	at += len(values)
	var b strings.Builder
	b.Grow(at + 3*strings.Count(query[at:], ", ") + 4)
	b.WriteString(query[:at])
	rest, rows := query[at:], 1
	for {
		v, r, ok := sqliteLiteral(rest)
		if !ok {
			return "", nil, false
		}
		args = append(args, v)
		b.WriteByte('?')
		switch {
		case strings.HasPrefix(r, ", "):
			b.WriteString(", ")
			rest = r[2:]
		case strings.HasPrefix(r, "), ("):
			if rows++; rows > maxPreparedRows {
				return "", nil, false
			}
			b.WriteString("), (")
			rest = r[4:]
		case r == ")":
			b.WriteByte(')')
			return b.String(), args, true
		default:
			return "", nil, false
		}
	}
}

// sqliteInserts is the connection an INSERT into one of insertNow's tables is given on
// SQLite, in tx: it runs the text bun renders as a prepared statement with its values bound
// (bindInsert), on tx's connection, where database/sql keeps it prepared (Tx.StmtContext
// reuses a statement the connection prepared before). Other text, and text the cache has
// no room for, runs as it is.
type sqliteInserts struct {
	stmts *statements
	tx    *sql.Tx
}

func (c sqliteInserts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if len(args) == 0 {
		if text, vals, ok := bindInsert(query); ok {
			// A statement that fails to prepare runs as text, which fails the same way if
			// the text is wrong.
			if st, err := c.stmts.get(ctx, text); err == nil && st != nil {
				ts := c.tx.StmtContext(ctx, st)
				defer ts.Close()
				return ts.ExecContext(ctx, vals...)
			}
		}
	}
	return c.tx.ExecContext(ctx, query, args...)
}

func (c sqliteInserts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.tx.QueryContext(ctx, query, args...)
}

func (c sqliteInserts) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.tx.QueryRowContext(ctx, query, args...)
}

// sqliteInsertConn is the connection for an INSERT through db with stmts: sqliteInserts
// when db is a transaction and stmts are given (on SQLite), nil (db's own) otherwise.
func sqliteInsertConn(db bun.IDB, stmts *statements) bun.IConn {
	if stmts == nil {
		return nil
	}
	switch tx := db.(type) {
	case bun.Tx:
		return sqliteInserts{stmts, tx.Tx}
	case *bun.Tx:
		return sqliteInserts{stmts, tx.Tx}
	}
	return nil
}

// sqliteArg is v as a bound parameter of a prepared read on SQLite: the value SQLite reads
// from the literal bun renders for v, and false when that is not a plain literal.
func sqliteArg(gen schema.QueryGen, v any) (any, bool) {
	if _, ok := v.(schema.QueryAppender); ok {
		return nil, false
	}
	arg, rest, ok := sqliteLiteral(string(gen.Append(nil, v)))
	return arg, ok && rest == ""
}
