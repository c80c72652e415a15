package tickets

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Calls arriving while a batch runs wait and go together into the next ones, each at most
// max long, never more than limit at once; every caller gets its own message's result.
func TestBatcherGroupsWaitingCalls(t *testing.T) {
	release := make(chan struct{})
	var (
		mu      sync.Mutex
		sizes   []int
		running atomic.Int32
		peak    atomic.Int32
	)
	b := newBatcher(1, 4, func(ctx context.Context, ins []Inbound) ([]*IntakeResult, []error) {
		n := running.Add(1)
		defer running.Add(-1)
		if n > peak.Load() {
			peak.Store(n)
		}
		mu.Lock()
		sizes = append(sizes, len(ins))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			<-release // hold the first batch until the others wait
		}
		res := make([]*IntakeResult, len(ins))
		for i, in := range ins {
			res[i] = &IntakeResult{Message: &Message{Body: in.Body}}
		}
		return res, make([]error, len(ins))
	})

	var wg sync.WaitGroup
	got := make([]string, 11)
	call := func(i int) {
		defer wg.Done()
		res, err := b.do(context.Background(), Inbound{Body: fmt.Sprint(i)})
		if err != nil {
			t.Error(err)
			return
		}
		got[i] = res.Message.Body
	}
	wg.Add(1)
	go call(0)
	waitFor(t, func() bool { return running.Load() == 1 })
	for i := 1; i <= 10; i++ {
		wg.Add(1)
		go call(i)
	}
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.pending) == 10 })
	close(release)
	wg.Wait()

	if !slices.Equal(sizes, []int{1, 4, 4, 2}) {
		t.Errorf("batch sizes %v, want [1 4 4 2]: the ten that waited, four at a time", sizes)
	}
	if peak.Load() != 1 {
		t.Errorf("%d batches ran at once, want at most 1", peak.Load())
	}
	for i, body := range got {
		if body != fmt.Sprint(i) {
			t.Errorf("caller %d got the result of %q", i, body)
		}
	}
}

// A caller that gave up before its batch started is not stored, and says so.
func TestBatcherSkipsCallersWhoGaveUp(t *testing.T) {
	release := make(chan struct{})
	var stored atomic.Int32
	b := newBatcher(1, 8, func(ctx context.Context, ins []Inbound) ([]*IntakeResult, []error) {
		if ins[0].Body == "first" {
			<-release
		}
		stored.Add(int32(len(ins)))
		return make([]*IntakeResult, len(ins)), make([]error, len(ins))
	})
	done := make(chan error, 2)
	go func() { _, err := b.do(context.Background(), Inbound{Body: "first"}); done <- err }()
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.running == 1 && len(b.pending) == 0 })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _, err := b.do(ctx, Inbound{Body: "second"}); done <- err }()
	waitFor(t, func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.pending) == 1 })
	cancel()
	close(release)
	errs := []error{<-done, <-done}
	if !slices.ContainsFunc(errs, func(err error) bool { return err == context.Canceled }) {
		t.Errorf("errors %v, want one context.Canceled", errs)
	}
	if stored.Load() != 1 {
		t.Errorf("%d messages stored, want 1", stored.Load())
	}
}

// A batch that panics answers its callers with an error, and the next batch still runs.
func TestBatcherSurvivesAPanic(t *testing.T) {
	b := newBatcher(1, 8, func(ctx context.Context, ins []Inbound) ([]*IntakeResult, []error) {
		if ins[0].Body == "boom" {
			panic("boom")
		}
		return []*IntakeResult{{Message: &Message{Body: ins[0].Body}}}, make([]error, 1)
	})
	if _, err := b.do(context.Background(), Inbound{Body: "boom"}); err == nil {
		t.Fatal("a panicking batch reported no error")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		res, err := b.do(context.Background(), Inbound{Body: "after"})
		if err != nil || res.Message.Body != "after" {
			t.Errorf("next call: %v, %v", res, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("no batch ran after the panic")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !ok(); time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("timed out")
		}
	}
}
