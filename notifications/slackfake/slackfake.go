// Package slackfake is a local Slack Web API that speaks Slack's wire format, for tests only;
// nothing in the product imports it.
package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// FakeSlack is a local Slack Web API for tests (point SLACK_API_URL at URL()):
// slack-go's slacktest server, with users.lookupByEmail, users.info, conversations.open
// and chat.postMessage answering from a small directory of users and channels, the way
// Slack does (users_not_found, channel_not_found, rate limits), and recording every post.
type FakeSlack struct {
	server *slacktest.Server

	mu       sync.Mutex
	users    map[string]string // email → user id
	channels map[string]bool   // channel ids that exist
	posts    []FakePost
	calls    map[string]int
	fail     map[string]string // method → error code it answers with; "ratelimited" is HTTP 429
	delay    time.Duration     // how long chat.postMessage takes
	seq      int
}

// FakePost is one message the fake received.
type FakePost struct {
	Channel string
	Text    string
	Blocks  slack.Blocks
	TS      string
}

// NewFakeSlack starts the fake; Close stops it.
func NewFakeSlack() *FakeSlack {
	f := &FakeSlack{users: map[string]string{}, channels: map[string]bool{}, calls: map[string]int{}, fail: map[string]string{}}
	f.server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/users.lookupByEmail", f.handle("users.lookupByEmail", f.lookupByEmail))
		c.Handle("/users.info", f.handle("users.info", f.userInfo))
		c.Handle("/conversations.open", f.handle("conversations.open", f.open))
		c.Handle("/chat.postMessage", f.handle("chat.postMessage", f.postMessage))
	})
	f.server.Start()
	return f
}

// URL is the API's address, for SlackConfig.APIURL.
func (f *FakeSlack) URL() string { return f.server.GetAPIURL() }

// Close stops the server.
func (f *FakeSlack) Close() { f.server.Stop() }

// AddUser puts a Slack user with an email address in the directory.
func (f *FakeSlack) AddUser(id, email string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[strings.ToLower(email)] = id
}

// AddChannel makes a channel exist.
func (f *FakeSlack) AddChannel(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.channels[id] = true
}

// Fail makes a method answer with a Slack error code ("" to stop); "ratelimited" answers
// HTTP 429 with Retry-After, as Slack does.
func (f *FakeSlack) Fail(method, code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = code
}

// SlowPosts makes chat.postMessage take d.
func (f *FakeSlack) SlowPosts(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delay = d
}

// Posts are the messages posted so far, in order.
func (f *FakeSlack) Posts() []FakePost {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakePost(nil), f.posts...)
}

// Calls counts the calls of a method (e.g. "users.lookupByEmail").
func (f *FakeSlack) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *FakeSlack) handle(method string, fn func(r *http.Request) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.calls[method]++
		code := f.fail[method]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Form.Get("token") == "" && r.Header.Get("Authorization") == "":
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "not_authed"}) //nolint:errcheck
		case code == "ratelimited":
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "ratelimited"}) //nolint:errcheck
		case code != "":
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code}) //nolint:errcheck
		default:
			json.NewEncoder(w).Encode(fn(r)) //nolint:errcheck
		}
	}
}

func fakeError(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

func fakeUser(id, email string) map[string]any {
	return map[string]any{"id": id, "name": strings.Split(email, "@")[0], "profile": map[string]any{"email": email}}
}

func (f *FakeSlack) lookupByEmail(r *http.Request) any {
	email := strings.ToLower(r.Form.Get("email"))
	f.mu.Lock()
	id, ok := f.users[email]
	f.mu.Unlock()
	if !ok {
		return fakeError("users_not_found")
	}
	return map[string]any{"ok": true, "user": fakeUser(id, email)}
}

func (f *FakeSlack) userInfo(r *http.Request) any {
	id := r.Form.Get("user")
	f.mu.Lock()
	defer f.mu.Unlock()
	for email, uid := range f.users {
		if uid == id {
			return map[string]any{"ok": true, "user": fakeUser(id, email)}
		}
	}
	return fakeError("user_not_found")
}

func (f *FakeSlack) open(r *http.Request) any {
	users := r.Form.Get("users")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, uid := range f.users {
		if uid == users {
			ch := "D" + uid
			f.channels[ch] = true
			return map[string]any{"ok": true, "channel": map[string]any{"id": ch, "is_im": true}}
		}
	}
	return fakeError("user_not_found")
}

func (f *FakeSlack) postMessage(r *http.Request) any {
	f.mu.Lock()
	delay := f.delay
	f.mu.Unlock()
	time.Sleep(delay)
	ch := r.Form.Get("channel")
	var blocks slack.Blocks
	if b := r.Form.Get("blocks"); b != "" {
		if err := json.Unmarshal([]byte(b), &blocks); err != nil {
			return fakeError("invalid_blocks")
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.channels[ch] {
		return fakeError("channel_not_found")
	}
	f.seq++
	ts := fmt.Sprintf("1700000000.%06d", f.seq)
	f.posts = append(f.posts, FakePost{Channel: ch, Text: r.Form.Get("text"), Blocks: blocks, TS: ts})
	return map[string]any{"ok": true, "channel": ch, "ts": ts}
}
