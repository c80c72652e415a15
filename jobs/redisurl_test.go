package jobs_test

import (
	"reflect"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/hotlinedesk/hotline/jobs"
)

// REDIS_URL names one Redis, a Sentinel-watched primary, or a Redis Cluster.
func TestParseRedisURL(t *testing.T) {
	for _, c := range []struct {
		url  string
		want asynq.RedisConnOpt
	}{
		{"redis://:secret@10.0.0.5:6379/3", asynq.RedisClientOpt{Addr: "10.0.0.5:6379", Password: "secret", DB: 3}},
		{"redis-sentinel://:s3nt@10.0.0.1:26379,10.0.0.2:26379?master=hotline",
			asynq.RedisFailoverClientOpt{MasterName: "hotline", SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26379"}, SentinelPassword: "s3nt"}},
		{"redis-cluster://10.0.0.1:6379,10.0.0.2:6379,10.0.0.3:6379",
			asynq.RedisClusterClientOpt{Addrs: []string{"10.0.0.1:6379", "10.0.0.2:6379", "10.0.0.3:6379"}}},
		{"redis-cluster://desk:pw@10.0.0.1:6379", asynq.RedisClusterClientOpt{Addrs: []string{"10.0.0.1:6379"}, Username: "desk", Password: "pw"}},
	} {
		got, err := jobs.ParseRedisURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.url, got, c.want)
		}
	}
	for _, bad := range []string{"redis-cluster://", "http://10.0.0.1:6379", "redis://h:6379/notanumber"} {
		if _, err := jobs.ParseRedisURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
