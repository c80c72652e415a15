package webhooks

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/slack-go/slack"

	"github.com/hotlinedesk/hotline/notifications"
)

// FuzzParseInteraction feeds parseInteraction mutations of Slack's block_actions payloads
// (testdata/slack, shaped as Slack documents them and as Hotline's buttons send them): it
// must return an interaction or a reason, never panic, and an interaction it accepts must
// hold what the handler relies on.
func FuzzParseInteraction(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "slack", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed payloads: %v", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(url.Values{"payload": {string(b)}}.Encode()))
	}
	f.Add([]byte("payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5Bnull%5D%7D"))
	f.Add([]byte("payload=%7B&payload=%7D"))
	f.Add([]byte("token=x&payload="))
	f.Add([]byte("%zz"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cb, act, err := parseInteraction(body)
		if err != nil {
			if act || err.Error() == "" {
				t.Fatalf("an error (%q) with act %v", err, act)
			}
			return
		}
		if !act {
			return
		}
		if cb.Type != slack.InteractionTypeBlockActions || cb.User.ID == "" || len(cb.ActionCallback.BlockActions) == 0 {
			t.Fatalf("accepted type %q user %q with %d actions", cb.Type, cb.User.ID, len(cb.ActionCallback.BlockActions))
		}
		for _, a := range cb.ActionCallback.BlockActions {
			if a == nil {
				t.Fatal("a nil action, which the handler would dereference")
			}
			_, _, _ = notifications.ParseAckValue(a.Value)
		}
	})
}

// The seeds are what the fuzzer starts from: each must read as its name says.
func TestSlackSeedPayloads(t *testing.T) {
	tests := []struct {
		file, user string
		act        bool
		actions    []string
		err        string
	}{
		{file: "acknowledge.json", act: true, user: "U0CA5RHQW", actions: []string{notifications.ActionAcknowledge}},
		{file: "take.json", act: true, user: "U0CA5RHQX", actions: []string{notifications.ActionTake, notifications.ActionAcknowledge}},
		{file: "select_with_state.json", act: true, user: "U0CA5RHQW", actions: []string{"multi_convos", "priority", "due"}},
		{file: "attachment_action.json"},
		{file: "view_closed.json"},
		{file: "no_user.json", err: "the payload names no user"},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", "slack", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		cb, act, err := parseInteraction([]byte(url.Values{"payload": {string(b)}}.Encode()))
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("%s: error %v, want %q", tt.file, err, tt.err)
			}
			continue
		}
		if err != nil || act != tt.act {
			t.Errorf("%s: act %v, error %v; want act %v", tt.file, act, err, tt.act)
			continue
		}
		var ids []string
		for _, a := range cb.ActionCallback.BlockActions {
			ids = append(ids, a.ActionID)
		}
		if act && (cb.User.ID != tt.user || len(ids) != len(tt.actions) || (len(ids) > 0 && ids[0] != tt.actions[0])) {
			t.Errorf("%s: user %q actions %q, want %q %q", tt.file, cb.User.ID, ids, tt.user, tt.actions)
		}
	}
}
