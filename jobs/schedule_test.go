package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/tickets"
)

// Schedule sets one wake-up per second (whatever the timers in it) and a re-apply timer
// under its own id; scheduling the same timers again sets nothing more.
func TestScheduleTaskIDs(t *testing.T) {
	b := freshRedis(t)
	sched := jobs.NewScheduler(b)
	defer sched.Close()
	ctx := context.Background()
	due := time.Now().Add(time.Hour).Truncate(time.Second)
	timers := []tickets.Timer{
		{Kind: "first", ID: 1, At: due, Due: due},
		{Kind: "resolution", ID: 2, At: due, Due: due},                                       // the same second
		{Kind: "first-warn1", ID: 1, At: due.Add(-time.Minute + time.Millisecond), Due: due}, // rounded up
		{Kind: tickets.ReapplyTimer, ID: 7, At: due.Add(time.Minute), Due: due.Add(time.Minute)},
	}
	for range 2 {
		if err := sched.Schedule(ctx, timers); err != nil {
			t.Fatal(err)
		}
	}
	scheduled, err := asynq.NewInspector(b.Opt).ListScheduledTasks("critical", asynq.PageSize(100))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, task := range scheduled {
		var p struct {
			Kind    string
			ID, Due int64
		}
		if err := json.Unmarshal(task.Payload, &p); err != nil {
			t.Fatal(err)
		}
		got[task.ID] = fmt.Sprint(p.Kind, " ", p.ID, " ", p.Due)
	}
	wake := func(at time.Time) string { return fmt.Sprintf("sla:wake:%d", at.Unix()) }
	want := map[string]string{
		wake(due):                        fmt.Sprint("wake 0 ", due.Unix()),
		wake(due.Add(-59 * time.Second)): fmt.Sprint("wake 0 ", due.Add(-59*time.Second).Unix()),
		fmt.Sprintf("sla:reapply:7:%d", due.Add(time.Minute).Unix()): fmt.Sprint("reapply 7 ", due.Add(time.Minute).Unix()),
	}
	if len(scheduled) != len(want) || !maps.Equal(got, want) {
		t.Errorf("scheduled %v,\nwant %v", got, want)
		t.Log(slices.Sorted(maps.Keys(got)))
	}
}
