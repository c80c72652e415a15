package wechat_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/channels/wechat"
)

// fakeWeChat speaks WeChat's token and customer-service message APIs.
type fakeWeChat struct {
	mu       sync.Mutex
	tokens   int
	current  string
	sent     []map[string]any
	sendCode int // errcode for the next send
}

func (f *fakeWeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/cgi-bin/token":
		if r.URL.Query().Get("appid") != appID || r.URL.Query().Get("secret") != "s3cret" {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40013, "errmsg": "invalid appid"}) //nolint:errcheck
			return
		}
		f.tokens++
		f.current = "TOKEN" + string(rune('A'+f.tokens))
		json.NewEncoder(w).Encode(map[string]any{"access_token": f.current, "expires_in": 7200}) //nolint:errcheck
	case "/cgi-bin/message/custom/send":
		if r.URL.Query().Get("access_token") != f.current {
			json.NewEncoder(w).Encode(map[string]any{"errcode": 40001, "errmsg": "invalid credential"}) //nolint:errcheck
			return
		}
		if f.sendCode != 0 {
			code := f.sendCode
			f.sendCode = 0
			json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": "refused"}) //nolint:errcheck
			return
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body) //nolint:errcheck
		f.sent = append(f.sent, body)
		json.NewEncoder(w).Encode(map[string]any{"errcode": 0, "errmsg": "ok"}) //nolint:errcheck
	default:
		http.NotFound(w, r)
	}
}

func TestCustomerServiceMessages(t *testing.T) {
	fake := &fakeWeChat{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	// Two processes share the token through Redis.
	a := wechat.NewClient(srv.URL, appID, "s3cret", rdb)
	b := wechat.NewClient(srv.URL, appID, "s3cret", rdb)
	ctx := context.Background()
	for i, c := range []*wechat.Client{a, b, a} {
		if _, err := c.Send(ctx, channels.Outbound{MessageID: int64(i), To: "oCustomer", Body: "您好"}); err != nil {
			t.Fatal(err)
		}
	}
	if fake.tokens != 1 {
		t.Errorf("%d token fetches for three sends from two processes, want 1", fake.tokens)
	}
	if got := fake.sent[0]; got["touser"] != "oCustomer" || got["msgtype"] != "text" || got["text"].(map[string]any)["content"] != "您好" {
		t.Errorf("sent %v", got)
	}
	// WeChat revoked the token (another tool fetched one): refresh once and send.
	fake.mu.Lock()
	fake.current = "REVOKED"
	fake.mu.Unlock()
	if _, err := b.Send(ctx, channels.Outbound{MessageID: 9, To: "oCustomer", Body: "again"}); err != nil {
		t.Fatalf("after the token was revoked: %v", err)
	}
	if fake.tokens != 2 || len(fake.sent) != 4 {
		t.Errorf("%d token fetches, %d sent; want 2 and 4", fake.tokens, len(fake.sent))
	}
	// Outside the 48-hour window WeChat refuses for good.
	fake.sendCode = 45015
	_, err := a.Send(ctx, channels.Outbound{MessageID: 10, To: "oCustomer", Body: "late"})
	if !channels.IsPermanent(err) {
		t.Errorf("45015: %v, want a permanent refusal", err)
	}
	// WeChat busy (-1) is retried later.
	fake.sendCode = -1
	if _, err := a.Send(ctx, channels.Outbound{MessageID: 11, To: "oCustomer", Body: "busy"}); err == nil || channels.IsPermanent(err) {
		t.Errorf("-1: %v, want a temporary error", err)
	}
	bad := wechat.NewClient(srv.URL, appID, "wrong", redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()}))
	if _, err := bad.Send(ctx, channels.Outbound{To: "o", Body: "x"}); err == nil {
		t.Error("a wrong secret sent a message")
	}
}
