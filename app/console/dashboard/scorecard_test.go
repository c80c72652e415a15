package dashboard

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzParseWho: the scorecard's choice comes from the query string; it is an agent or a
// team with a positive id, or refused, and never panics.
func FuzzParseWho(f *testing.F) {
	for _, s := range []string{"agent:12", "team:3", "team:0", "agent:-1", "agent:", ":5", "boss:1", "agent:1:2", "team:99999999999999999999", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, who string) {
		scope, ok := parseWho(who)
		if !ok {
			if scope.AgentID != nil || scope.TeamID != nil {
				t.Fatalf("%q refused with a scope %+v", who, scope)
			}
			return
		}
		switch {
		case scope.AgentID != nil && scope.TeamID == nil && *scope.AgentID > 0:
			if !strings.HasPrefix(who, "agent:") {
				t.Fatalf("%q read as agent %d", who, *scope.AgentID)
			}
		case scope.TeamID != nil && scope.AgentID == nil && *scope.TeamID > 0:
			if !strings.HasPrefix(who, "team:") {
				t.Fatalf("%q read as team %d", who, *scope.TeamID)
			}
		default:
			t.Fatalf("%q read as %+v", who, scope)
		}
	})
}

func TestParseWho(t *testing.T) {
	for who, want := range map[string]string{"agent:12": "a12", "team:3": "t3", "team:0": "", "agent:x": "", "boss:1": "", "": "", "agent:+7": "a7"} {
		scope, ok := parseWho(who)
		got := ""
		switch {
		case ok && scope.AgentID != nil:
			got = "a" + strconv.FormatInt(*scope.AgentID, 10)
		case ok && scope.TeamID != nil:
			got = "t" + strconv.FormatInt(*scope.TeamID, 10)
		}
		if got != want {
			t.Errorf("parseWho(%q) = %q, want %q", who, got, want)
		}
	}
}
