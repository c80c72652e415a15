// Package jobs runs Hotline's background work on Asynq: task types and their handlers,
// the scheduler, and the Redis broker they share.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Broker is the Redis that Asynq keeps its queues in: a real server, or, for a single
// process with no REDIS_URL, an embedded one.
type Broker struct {
	Opt      asynq.RedisConnOpt
	rdb      redis.UniversalClient
	embedded *miniredis.Miniredis
	stop     chan struct{}
	wg       sync.WaitGroup
}

// OpenBroker connects to the Redis at url (see ParseRedisURL), or starts an embedded broker
// on loopback when url is empty.
func OpenBroker(url string, log *slog.Logger) (*Broker, error) {
	b := &Broker{stop: make(chan struct{})}
	if url == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start embedded broker: %w", err)
		}
		b.embedded = m
		b.Opt = asynq.RedisClientOpt{Addr: m.Addr()}
		// miniredis expires keys only when its clock is moved; move it with the wall clock
		// so Asynq's leases and locks expire as they would on Redis.
		b.wg.Add(1)
		go b.tick()
		log.Warn("REDIS_URL is not set: using an embedded in-memory job broker, for a single process only; " +
			"scheduled jobs are lost when the process stops and are rebuilt from the database")
	} else {
		opt, err := ParseRedisURL(url)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		b.Opt = opt
	}
	rdb, ok := b.Opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		b.Close()
		return nil, fmt.Errorf("broker: unexpected redis client type")
	}
	b.rdb = rdb
	return b, nil
}

// ParseRedisURL reads where Redis is: redis://[:password@]host:port/db (rediss:// with TLS),
// redis-socket://[:password@]/path/to/redis.sock?db=N, redis-sentinel://[:password@]host1:26379,host2:26379?master=NAME
// (Sentinel finds the primary; the password is the sentinels'), or
// redis-cluster://[user:password@]host1:6379,host2:6379 (a Redis Cluster; Asynq keeps each
// queue's keys in one slot).
func ParseRedisURL(raw string) (asynq.RedisConnOpt, error) {
	rest, ok := strings.CutPrefix(raw, "redis-cluster://")
	if !ok {
		return asynq.ParseRedisURI(raw)
	}
	u, err := url.Parse("redis://" + rest)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("a cluster URL looks like redis-cluster://host1:6379,host2:6379, not %q", raw)
	}
	opt := asynq.RedisClusterClientOpt{Addrs: strings.Split(u.Host, ",")}
	if u.User != nil {
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
	}
	return opt, nil
}

func (b *Broker) tick() {
	defer b.wg.Done()
	const step = 250 * time.Millisecond
	t := time.NewTicker(step)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.embedded.FastForward(step)
		}
	}
}

// Embedded reports whether the broker runs inside this process.
func (b *Broker) Embedded() bool { return b.embedded != nil }

// Redis is a client of the broker, for health checks and shared caches.
func (b *Broker) Redis() redis.UniversalClient { return b.rdb }

// Ping checks that the broker answers.
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping broker: %w", err)
	}
	return nil
}

// Close disconnects, and stops the embedded broker.
func (b *Broker) Close() {
	close(b.stop)
	b.wg.Wait()
	if b.rdb != nil {
		b.rdb.Close()
	}
	if b.embedded != nil {
		b.embedded.Close()
	}
}

// NewServer builds the Asynq worker over the broker.
func NewServer(b *Broker, concurrency int, log *slog.Logger) *asynq.Server {
	return asynq.NewServer(b.Opt, asynq.Config{
		Concurrency:              concurrency,
		Queues:                   map[string]int{"critical": 6, "default": 3, "low": 1},
		DelayedTaskCheckInterval: time.Second,
		Logger:                   slogAdapter{log},
		LogLevel:                 asynq.WarnLevel,
		ShutdownTimeout:          10 * time.Second,
	})
}

// slogAdapter lets Asynq log through slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
