package tickets_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// More intakes at once than the pool has connections, each in a transaction that needs the
// SLA policies and routing rules, on a cold cache: whoever reads the rules reads them
// through its own transaction, so nobody waits for a connection that a transaction waiting
// for the rules holds. (Reading them through the pool under a lock stalled every intake
// of a busy process for good once the cache expired.)
func TestRulesLoadWithPoolExhausted(t *testing.T) {
	db := tickettest.Postgres(t)
	db.SetMaxOpenConns(2)
	svc := tickettest.Service(db, tickets.SystemClock{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := svc.Intake(ctx, sms(fmt.Sprintf("+861390000%04d", i), "claim status?", fmt.Sprintf("SMpool%d", i))); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("intake: %v", err)
	}
}
