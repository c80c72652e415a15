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
// slack-go's slacktest server, with users.lookupByEmail, users.info, conversations.open,
// chat.postMessage and chat.update answering from a small directory of users and channels,
// the way Slack does (users_not_found, channel_not_found, message_not_found, rate limits),
// and recording every post; and interactions' response_url endpoints (ResponseURL), which
// take Slack's JSON body and, with replace_original, rewrite the message clicked.
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

	hooks     map[string]FakeHook       // response_url key → the message it answers
	responses map[string][]FakeResponse // response_url key → what was posted to it
	hold      chan struct{}             // non-nil: response_url posts wait until it is closed
	changed   chan struct{}             // closed and replaced whenever a response arrives
}

// FakeHook is the message a response_url belongs to.
type FakeHook struct{ Channel, TS string }

// FakeResponse is one post to a response_url, as Slack reads it.
type FakeResponse struct {
	ResponseType    string // "ephemeral" (the clicker only) or "in_channel"
	ReplaceOriginal bool
	DeleteOriginal  bool
	Text            string
	Blocks          slack.Blocks
}

// responseURLUses is how many posts Slack accepts on one response_url (within 30 minutes).
const responseURLUses = 5

// FakePost is one message the fake received.
type FakePost struct {
	Channel string
	Text    string
	Blocks  slack.Blocks
	TS      string
	Edits   int // how many times chat.update or a response_url replaced it
}

// NewFakeSlack starts the fake; Close stops it.
func NewFakeSlack() *FakeSlack {
	f := &FakeSlack{users: map[string]string{}, channels: map[string]bool{}, calls: map[string]int{}, fail: map[string]string{},
		hooks: map[string]FakeHook{}, responses: map[string][]FakeResponse{}, changed: make(chan struct{})}
	f.server = slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/users.lookupByEmail", f.handle("users.lookupByEmail", f.lookupByEmail))
		c.Handle("/users.info", f.handle("users.info", f.userInfo))
		c.Handle("/conversations.open", f.handle("conversations.open", f.open))
		c.Handle("/chat.postMessage", f.handle("chat.postMessage", f.postMessage))
		c.Handle("/chat.update", f.handle("chat.update", f.update))
		c.Handle("/response/", f.respond)
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

// ResponseURL is a response_url for an interaction with the posted message channel/ts, as
// Slack puts in an interaction's payload.
func (f *FakeSlack) ResponseURL(channel, ts string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seq++
	key := fmt.Sprintf("T1/B%d/%s", f.seq, strings.ReplaceAll(ts, ".", ""))
	f.hooks[key] = FakeHook{Channel: channel, TS: ts}
	return f.URL() + "response/" + key
}

// HoldResponses makes response_url posts wait until the returned release is called (a
// slow Slack); release is safe to call more than once.
func (f *FakeSlack) HoldResponses() (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.hold = ch
	f.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			f.hold = nil
			f.mu.Unlock()
			close(ch)
		})
	}
}

// Responses are the posts to a response_url so far.
func (f *FakeSlack) Responses(responseURL string) []FakeResponse {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FakeResponse(nil), f.responses[f.hookKey(responseURL)]...)
}

// AwaitResponses waits until a response_url has received n posts, or timeout passes, and
// returns the posts it received.
func (f *FakeSlack) AwaitResponses(responseURL string, n int, timeout time.Duration) []FakeResponse {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	key := f.hookKey(responseURL)
	for {
		f.mu.Lock()
		got, changed := append([]FakeResponse(nil), f.responses[key]...), f.changed
		f.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-deadline.C:
			return got
		}
	}
}

// AwaitEdit waits until the post channel/ts has been replaced at least edits times, or
// timeout passes, and returns it as it stands.
func (f *FakeSlack) AwaitEdit(channel, ts string, edits int, timeout time.Duration) (FakePost, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		f.mu.Lock()
		changed := f.changed
		var post FakePost
		found := false
		for _, p := range f.posts {
			if p.Channel == channel && p.TS == ts {
				post, found = p, true
			}
		}
		f.mu.Unlock()
		if found && post.Edits >= edits {
			return post, true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return post, false
		}
	}
}

func (f *FakeSlack) hookKey(responseURL string) string {
	_, key, _ := strings.Cut(responseURL, "/response/")
	return key
}

// notify wakes the waiters; f.mu is held.
func (f *FakeSlack) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// respond is a response_url: Slack takes a JSON message (not a form, no token: the URL is
// the credential), answers 404 for an unknown or used-up URL, and with replace_original
// rewrites the message the interaction came from.
func (f *FakeSlack) respond(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	key := strings.TrimPrefix(r.URL.Path, "/response/")
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(fakeError("invalid_payload")) //nolint:errcheck
		return
	}
	var msg struct {
		ResponseType    string       `json:"response_type"`
		ReplaceOriginal bool         `json:"replace_original"`
		DeleteOriginal  bool         `json:"delete_original"`
		Text            string       `json:"text"`
		Blocks          slack.Blocks `json:"blocks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(fakeError("invalid_payload")) //nolint:errcheck
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	hook, ok := f.hooks[key]
	switch {
	case !ok:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(fakeError("expired_url")) //nolint:errcheck
		return
	case len(f.responses[key]) >= responseURLUses:
		w.WriteHeader(http.StatusNotFound)
		json.NewEncoder(w).Encode(fakeError("used_url")) //nolint:errcheck
		return
	case msg.Text == "" && len(msg.Blocks.BlockSet) == 0 && !msg.DeleteOriginal:
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(fakeError("no_text")) //nolint:errcheck
		return
	}
	f.responses[key] = append(f.responses[key], FakeResponse{ResponseType: msg.ResponseType, ReplaceOriginal: msg.ReplaceOriginal,
		DeleteOriginal: msg.DeleteOriginal, Text: msg.Text, Blocks: msg.Blocks})
	if msg.ResponseType != "ephemeral" && msg.ReplaceOriginal {
		f.replace(hook.Channel, hook.TS, msg.Text, msg.Blocks)
	}
	f.notify()
	json.NewEncoder(w).Encode(map[string]any{"ok": true}) //nolint:errcheck
}

// replace rewrites a post; f.mu is held.
func (f *FakeSlack) replace(channel, ts, text string, blocks slack.Blocks) bool {
	for i := range f.posts {
		if f.posts[i].Channel == channel && f.posts[i].TS == ts {
			f.posts[i].Text, f.posts[i].Blocks = text, blocks
			f.posts[i].Edits++
			return true
		}
	}
	return false
}

func (f *FakeSlack) update(r *http.Request) any {
	ch, ts := r.Form.Get("channel"), r.Form.Get("ts")
	var blocks slack.Blocks
	if b := r.Form.Get("blocks"); b != "" {
		if err := json.Unmarshal([]byte(b), &blocks); err != nil {
			return fakeError("invalid_blocks")
		}
	}
	text := r.Form.Get("text")
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.channels[ch] {
		return fakeError("channel_not_found")
	}
	if text == "" && len(blocks.BlockSet) == 0 {
		return fakeError("no_text")
	}
	if !f.replace(ch, ts, text, blocks) {
		return fakeError("message_not_found")
	}
	f.notify()
	return map[string]any{"ok": true, "channel": ch, "ts": ts, "text": text}
}
