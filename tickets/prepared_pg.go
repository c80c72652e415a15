package tickets

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/driver/pgdriver"
)

// pgStatement is a statement PREPAREd by name on each PostgreSQL connection that runs it,
// so that PostgreSQL plans it once a connection, not once a run. It is run by EXECUTE in
// a query text of several statements (BEGIN first: intake_plain.go, ticket_open.go), which
// database/sql's prepared statements cannot share a round trip with. prepared.go is the
// other kind: database/sql statements, for reads that run alone.
type pgStatement struct {
	name    string // prefix and a hash of the text: a text changed (by config) is another statement
	prepare string // PREPARE name (params) AS text
}

// newPGStatement names text, whose parameters ($1, $2, …) have the types params lists
// ("text[], bigint").
func newPGStatement(prefix, params string, text []byte) pgStatement {
	h := fnv.New64a()
	h.Write(text)
	name := fmt.Sprintf("%s_%016x", prefix, h.Sum64())
	return pgStatement{name: name, prepare: "PREPARE " + name + " (" + params + ") AS " + string(text)}
}

// run runs exec, which sends a query text that EXECUTEs st on conn. When conn has not
// prepared st yet (invalid_sql_statement_name), or prepared it before a migration changed
// the tables ("cached plan must not change result type"), exec failed and the transaction
// its text began is rolled back; st is prepared afresh, outside any transaction, once a
// connection, and exec runs again.
func (st pgStatement) run(ctx context.Context, conn bun.Conn, exec func() error) error {
	err := exec()
	var pgErr pgdriver.Error
	if !errors.As(err, &pgErr) || (pgErr.Field('C') != "26000" && pgErr.Field('C') != "0A000") {
		return err
	}
	rollback(conn)
	if _, err := conn.Conn.ExecContext(ctx, "DEALLOCATE "+st.name); err != nil && pgErr.Field('C') == "0A000" {
		return fmt.Errorf("deallocate %s: %w", st.name, err)
	}
	if _, err := conn.Conn.ExecContext(ctx, st.prepare); err != nil {
		return fmt.Errorf("prepare %s: %w", st.name, err)
	}
	return exec()
}

// The writes that end a hand-begun transaction (intake's plain path, a logged contact) are
// INSERTs bun renders with their values in the text, which PostgreSQL parsed, analysed and
// planned on every message: a fifth of its CPU per logged contact (an INSERT into tickets
// names thirty columns and their defaults). So each such statement is sent as EXECUTE of
// its shape (the text with a $n for each value, pgBind) once its session has prepared it,
// the values passed as the same literals bun wrote: EXECUTE coerces each to its parameter's
// type, which PostgreSQL infers from the column it goes into, as it coerced the literal in
// place. A session prepares a shape after a transaction that sent it as text has
// committed, in a round trip of its own outside any transaction (PREPARE is not undone by
// a rollback, so inside one it could not be told whether it had run). Which shapes a
// session holds is kept per connection of the driver; a session that lost them (DISCARD
// ALL behind a pooler) fails the EXECUTE, its transaction is rolled back and stored the
// general way, and its shapes are forgotten. A shape's name carries a number drawn when the
// process starts, so that no process runs a statement another prepared (behind a pooler,
// on a schema an older release had): a statement keeps the types PostgreSQL gave its
// parameters when it was prepared.

// maxSessionShapes bounds the shapes one session prepares (each holds a plan in its
// backend); writes of other shapes are sent as text.
const maxSessionShapes = 48

// maxShapeLosses is how many times sessions may lose their shapes before every write is
// sent as text: a session keeps what it prepared unless a pooler in transaction mode hands
// the connection's statements to other server connections (or something runs DISCARD ALL
// on it), and then preparing again would only fail again.
const maxShapeLosses = 3

// pgSessions knows the write shapes each PostgreSQL session has prepared.
type pgSessions struct {
	conns  sync.Map // weak.Pointer[pgdriver.Conn] → *pgSession
	bad    sync.Map // shape hash → true: PostgreSQL would not prepare it, so it is sent as text
	losses atomic.Int64
	seed   uint64 // this process's, in every shape's hash
	log    *slog.Logger
}

func newPGSessions(log *slog.Logger) *pgSessions {
	return &pgSessions{seed: rand.Uint64(), log: log}
}

// pgSession is one session's prepared shapes.
type pgSession struct {
	mu     sync.Mutex
	shapes map[uint64]bool // by their hash
}

// pgShape is a statement whose session may prepare its shape once the transaction has
// committed.
type pgShape struct {
	hash uint64
	text string
}

// sessionWrites are the writes of one transaction on a session, which may run prepared
// shapes: nil (every write as text) when conn's driver is not pgdriver or shapes are given
// up.
type sessionWrites struct {
	p       *pgSessions
	conn    bun.Conn
	ss      *pgSession
	pending []pgShape // shapes the session may prepare once the transaction committed
}

// on is the writes of a transaction on conn.
func (p *pgSessions) on(conn bun.Conn) *sessionWrites {
	if p == nil || p.losses.Load() >= maxShapeLosses {
		return nil
	}
	var ss *pgSession
	_ = conn.Raw(func(dc any) error {
		c, ok := dc.(*pgdriver.Conn)
		if !ok {
			return nil
		}
		key := weak.Make(c)
		if v, ok := p.conns.Load(key); ok {
			ss = v.(*pgSession)
			return nil
		}
		v, loaded := p.conns.LoadOrStore(key, &pgSession{shapes: map[uint64]bool{}})
		if !loaded {
			// Forgotten with the connection, however the pool lets it go.
			runtime.AddCleanup(c, func(k weak.Pointer[pgdriver.Conn]) { p.conns.Delete(k) }, key)
		}
		ss = v.(*pgSession)
		return nil
	})
	if ss == nil {
		return nil
	}
	return &sessionWrites{p: p, conn: conn, ss: ss}
}

// text is what to send for query, whose shape and values pgBind gave: EXECUTE of the shape
// when the session has prepared it, else query itself, its shape kept to be prepared after
// the commit when the session may.
func (w *sessionWrites) text(query string, shape []byte, args []string) string {
	if w == nil || len(shape) == 0 {
		return query
	}
	p, ss := w.p, w.ss
	h := p.hash(shape)
	ss.mu.Lock()
	has, room := ss.shapes[h], len(ss.shapes) < maxSessionShapes
	ss.mu.Unlock()
	if has {
		n := len("EXECUTE hotline_w_ ()") + 16
		for _, a := range args {
			n += len(a) + 2
		}
		var b strings.Builder
		b.Grow(n)
		var name [32]byte
		b.WriteString("EXECUTE ")
		b.Write(appendShapeName(name[:0], h))
		b.WriteString(" (")
		for i, a := range args {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a)
		}
		b.WriteByte(')')
		return b.String()
	}
	if _, bad := p.bad.Load(h); room && !bad && !slices.ContainsFunc(w.pending, func(s pgShape) bool { return s.hash == h }) {
		w.pending = append(w.pending, pgShape{h, string(shape)})
	}
	return query
}

// prepareTimeout bounds the PREPAREs after a commit, which the answer waits for.
const prepareTimeout = time.Second

// prepare has the session prepare the shapes its committed transaction sent as text,
// outside any transaction, all in one round trip (each on its own only when that fails, to
// tell which could not). It only saves later work: what fails is left as text.
func (w *sessionWrites) prepare(ctx context.Context) {
	if w == nil || len(w.pending) == 0 {
		return
	}
	p, ss, conn, pending := w.p, w.ss, w.conn, w.pending
	w.pending = nil
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), prepareTimeout)
	defer cancel()
	text := func(sh pgShape) string {
		return string(appendShapeName([]byte("PREPARE "), sh.hash)) + " AS " + sh.text
	}
	prepared := func(sh pgShape) {
		ss.mu.Lock()
		ss.shapes[sh.hash] = true
		ss.mu.Unlock()
	}
	all := make([]string, len(pending))
	for i, sh := range pending {
		all[i] = text(sh)
	}
	if _, err := conn.Conn.ExecContext(ctx, strings.Join(all, ";\n")); err == nil {
		for _, sh := range pending {
			prepared(sh)
		}
		return
	}
	for _, sh := range pending {
		code := ""
		if _, err := conn.Conn.ExecContext(ctx, text(sh)); err != nil {
			var pgErr pgdriver.Error
			if !errors.As(err, &pgErr) {
				p.log.Debug("prepare a write: left as text", "err", err)
				return // the connection, or the time, is gone
			}
			code = pgErr.Field('C')
			p.log.Debug("prepare a write: left as text", "code", code, "err", err)
		}
		switch code {
		case "", "42P05": // 42P05: this process prepared it on the session already
			prepared(sh)
		case "42601", "42P18", "42P08", "42804":
			// The shape itself is refused (its syntax, a parameter's type): text for good.
			p.bad.Store(sh.hash, true)
		}
	}
}

// lost says whether err is an EXECUTE that failed for its prepared shape: the session
// does not hold it (invalid_sql_statement_name), and its shapes are forgotten; or a table
// it writes changed under it ("cached plan must not change result type"), and the
// connection is closed with its statements. After maxShapeLosses, every session's shapes
// are given up.
func (w *sessionWrites) lost(err error) bool {
	var pgErr pgdriver.Error
	if w == nil || !errors.As(err, &pgErr) {
		return false
	}
	p, ss := w.p, w.ss
	switch pgErr.Field('C') {
	case "26000":
	case "0A000":
		dropConn(w.conn)
	default:
		return false
	}
	ss.mu.Lock()
	clear(ss.shapes)
	ss.mu.Unlock()
	if p.losses.Add(1) == maxShapeLosses {
		p.log.Warn("PostgreSQL sessions lost their prepared writes again (a pooler in transaction mode?): intake's and logged contacts' rows are sent as text from now on",
			"losses", maxShapeLosses)
	}
	return true
}

// hash is the FNV-1a hash (newPGStatement's) of the process's seed and a shape's text,
// which names it.
func (p *pgSessions) hash(shape []byte) uint64 {
	h := uint64(14695981039346656037)
	for i := range 8 {
		h ^= p.seed >> (8 * i) & 0xff
		h *= 1099511628211
	}
	for _, c := range shape {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// appendShapeName appends the name a session prepares the shape hashed h as.
func appendShapeName(b []byte, h uint64) []byte {
	return strconv.AppendUint(append(b, "hotline_w_"...), h, 16)
}

// pgBind splits an INSERT bun rendered for PostgreSQL, "INSERT INTO t (cols) VALUES (…),
// (…)" and perhaps a RETURNING clause, into its shape, the text with $n for each literal
// value (numbered on from len(*args)), appended to dst, and the literals, appended to args
// as they are written. DEFAULT stays in the shape. It returns false, dst and args as they
// were, for anything else, or more than maxPreparedRows rows.
func pgBind(dst []byte, query string, args *[]string) ([]byte, bool) {
	const values = " VALUES ("
	at := strings.Index(query, values)
	if at < 0 || !strings.HasPrefix(query, "INSERT INTO ") || strings.ContainsAny(query[:at], "'$") {
		return dst, false
	}
	at += len(values)
	given, from := len(*args), len(dst)
	b := append(dst, query[:at]...)
	fail := func() ([]byte, bool) {
		*args = (*args)[:given]
		return dst[:from], false
	}
	rest, rows := query[at:], 1
	for {
		if strings.HasPrefix(rest, "DEFAULT") {
			b = append(b, "DEFAULT"...)
			rest = rest[len("DEFAULT"):]
		} else {
			lit, r, ok := pgLiteral(rest)
			if !ok {
				return fail()
			}
			*args = append(*args, lit)
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(len(*args)), 10)
			rest = r
		}
		switch {
		case strings.HasPrefix(rest, ", "):
			b = append(b, ", "...)
			rest = rest[2:]
		case strings.HasPrefix(rest, "), ("):
			if rows++; rows > maxPreparedRows {
				return fail()
			}
			b = append(b, "), ("...)
			rest = rest[4:]
		case strings.HasPrefix(rest, ")") && strings.IndexByte(rest, '\'') < 0 && strings.IndexByte(rest, '$') < 0:
			return append(b, rest...), true // ")" and what follows the values, no literal in it
		default:
			return fail()
		}
	}
}

// pgLiteral reads the literal at the start of s as bun writes it for PostgreSQL: NULL,
// TRUE, FALSE, a number, or 'text' (quotes doubled), and returns it as written and the
// rest of s.
func pgLiteral(s string) (lit, rest string, ok bool) {
	for _, w := range []string{"NULL", "TRUE", "FALSE"} {
		if strings.HasPrefix(s, w) && (len(s) == len(w) || !isWordByte(s[len(w)])) {
			return s[:len(w)], s[len(w):], true
		}
	}
	switch {
	case s == "":
		return "", s, false
	case s[0] == '\'':
		for i := 1; i < len(s); i++ {
			if s[i] != '\'' {
				continue
			}
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return s[:i+1], s[i+1:], true
		}
		return "", s, false
	case s[0] == '-' || s[0] >= '0' && s[0] <= '9':
		n := 0
		if s[0] == '-' {
			n++
		}
		digits := func() int {
			from := n
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			return n - from
		}
		if digits() == 0 {
			return "", s, false
		}
		if n < len(s) && s[n] == '.' {
			n++
			if digits() == 0 {
				return "", s, false
			}
		}
		if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
			n++
			if n < len(s) && (s[n] == '+' || s[n] == '-') {
				n++
			}
			if digits() == 0 {
				return "", s, false
			}
		}
		if n < len(s) && isWordByte(s[n]) {
			return "", s, false
		}
		return s[:n], s[n:], true
	}
	return "", s, false
}
