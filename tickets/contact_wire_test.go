package tickets_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// wireConn lets a test act on the query texts a connection sends: sent runs after each
// write, with what was written; rewrite, when set, changes a write before it goes. With
// splitRows, the answer to a write sent sends its first message (a query's row
// description, so that database/sql has the rows) apart from the rest, and lets the
// process's other goroutines run (database/sql's watch on a cancelled context) before it
// hands over the rest.
type wireConn struct {
	net.Conn
	sent      func(b []byte)
	rewrite   func(b []byte) []byte
	splitRows func(b []byte) bool

	split   bool   // the answer to split is being read
	pending []byte // what was held back
}

func (c *wireConn) Write(b []byte) (int, error) {
	out := b
	if c.rewrite != nil {
		out = c.rewrite(bytes.Clone(b))
	}
	n, err := c.Conn.Write(out)
	if err == nil && c.sent != nil {
		c.sent(out)
	}
	if err == nil && c.splitRows != nil && c.splitRows(out) {
		c.split = true
	}
	return min(n, len(b)), err
}

func (c *wireConn) Read(b []byte) (int, error) {
	if len(c.pending) > 0 {
		for range 100 {
			runtime.Gosched()
		}
		n := copy(b, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	if !c.split {
		return c.Conn.Read(b)
	}
	// Read until the first message is whole: a type byte, then its length (itself included).
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < 5 || len(got) < 1+int(binary.BigEndian.Uint32(got[1:5])) {
		n, err := c.Conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return copy(b, got), err
		}
	}
	c.split = false
	first := 1 + int(binary.BigEndian.Uint32(got[1:5]))
	n := copy(b, got[:first])
	c.pending = append(got[n:first:first], got[first:]...)
	return n, nil
}

// contactWrite is what the text of a logged contact's write and COMMIT holds, whether its
// rows go as an INSERT or as EXECUTE of the shape the session prepared.
var contactWrite = []byte(";\nCOMMIT")

// A caller that gives up once a logged contact's write and COMMIT are sent does not get an
// error for a contact PostgreSQL stored: each create cancelled that way answers success,
// and every one is stored, once.
func TestCreateTicketCancelAfterWriteSent(t *testing.T) {
	var mu sync.Mutex
	var cancelSent context.CancelFunc
	db := tickettest.PostgresWrapped(t, func(conn net.Conn) net.Conn {
		return &wireConn{Conn: conn, splitRows: func(b []byte) bool { return bytes.Contains(b, contactWrite) }, sent: func(b []byte) {
			if bytes.Contains(b, contactWrite) {
				mu.Lock()
				if cancelSent != nil {
					cancelSent()
				}
				mu.Unlock()
			}
		}}
	})
	d := newDesk(t, db)
	const n = 30
	for i := range n {
		ctx, cancel := context.WithCancel(context.Background())
		mu.Lock()
		cancelSent = cancel
		mu.Unlock()
		got, err := d.svc.CreateTicketDetail(ctx, d.liNa, tickets.NewTicket{Name: "刘洋", Phone: fmt.Sprintf("137 0013 %04d", i),
			Subject: fmt.Sprintf("来电 %d", i), Body: "客户询问退保材料"})
		cancel()
		if err != nil {
			t.Fatalf("create %d, cancelled after its write was sent: %v", i, err)
		}
		if len(got.Events) == 0 || got.Events[0].ID == 0 {
			t.Errorf("create %d answered events %+v", i, got.Events)
		}
	}
	var stored int
	if err := db.NewRaw("SELECT COUNT(*) FROM tickets").Scan(context.Background(), &stored); err != nil {
		t.Fatal(err)
	}
	if stored != n {
		t.Errorf("%d tickets stored for %d creates", stored, n)
	}
}

// Behind a pooler in transaction mode, a logged contact's EXECUTE may reach a server
// connection that never saw its PREPARE, and fail even after preparing it again: the
// contact is then logged on the general path, and stored once. (Simulated: every EXECUTE
// of the contact's read names a statement that does not exist.)
func TestCreateTicketPreparedReadUnavailable(t *testing.T) {
	var mu sync.Mutex
	executes := 0
	from, to := []byte("EXECUTE hotline_contact_read_"), []byte("EXECUTE hotline_contact_reax_")
	db := tickettest.PostgresWrapped(t, func(conn net.Conn) net.Conn {
		return &wireConn{Conn: conn, rewrite: func(b []byte) []byte {
			if bytes.Contains(b, from) {
				mu.Lock()
				executes++
				mu.Unlock()
			}
			return bytes.ReplaceAll(b, from, to) // as long: the message's length holds
		}}
	})
	ctx := context.Background()
	d := newDesk(t, db)
	got, err := d.svc.CreateTicketDetail(ctx, d.liNa, tickets.NewTicket{Name: "刘洋", Phone: "137 0013 7003",
		Email: "liu@example.com", Subject: "来电", Body: "客户询问退保材料"})
	if err != nil {
		t.Fatalf("create with the prepared read unavailable: %v", err)
	}
	mu.Lock()
	if executes < 2 {
		t.Errorf("the prepared read was tried %d times, want it tried and tried again after preparing", executes)
	}
	mu.Unlock()
	if got.Customer == nil || got.Customer.Identity(tickets.IdentityEmail) != "liu@example.com" ||
		len(got.Messages) != 1 || got.Messages[0].ID == 0 || len(got.Events) == 0 || got.Events[0].ID == 0 {
		t.Errorf("answered %+v", got)
	}
	var stored, customers, messages int
	if err := db.NewRaw("SELECT (SELECT COUNT(*) FROM tickets), (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM messages)").
		Scan(ctx, &stored, &customers, &messages); err != nil {
		t.Fatal(err)
	}
	if stored != 1 || customers != 1 || messages != 1 {
		t.Errorf("stored %d tickets, %d customers, %d messages, want one each", stored, customers, messages)
	}
}
