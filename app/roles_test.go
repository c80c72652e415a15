package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// A process's role comes from --role or HOTLINE_ROLE; a wrong one, or api or worker without
// Redis (the embedded broker lives in one process), is refused with the reason.
func TestRoles(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown flag value", nil, []string{"serve", "--role", "frontend"}, `--role: the role must be api, worker or all, not "frontend"`},
		{"unknown environment value", map[string]string{"HOTLINE_ROLE": "both"}, []string{"serve"}, `HOTLINE_ROLE: the role must be api, worker or all, not "both"`},
		{"api without Redis", nil, []string{"serve", "--role", "api"}, "role api needs REDIS_URL"},
		{"worker without Redis", map[string]string{"HOTLINE_ROLE": "worker"}, []string{"serve"}, "role worker needs REDIS_URL"},
		{"worker command without Redis", nil, []string{"worker"}, "role worker needs REDIS_URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", "sqlite:"+filepath.Join(t.TempDir(), "hotline.db"))
			t.Setenv("REDIS_URL", "")
			t.Setenv("HOTLINE_ROLE", "")
			t.Setenv("HOTLINE_LOG_LEVEL", "error")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			err := run(context.Background(), c.args)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("run %q: %v, want %q", c.args, err, c.want)
			}
		})
	}
	for _, c := range []struct {
		in   string
		want role
		api  bool
		work bool
	}{{"all", roleAll, true, true}, {"API", roleAPI, true, false}, {" worker ", roleWorker, false, true}} {
		r, err := parseRole(c.in)
		if err != nil || r != c.want || r.api() != c.api || r.worker() != c.work {
			t.Errorf("parseRole(%q) = %q (api %v, worker %v), %v", c.in, r, r.api(), r.worker(), err)
		}
	}
}
