package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hotlinedesk/hotline/channels"
)

// DefaultAPIURL is WeChat's API.
const DefaultAPIURL = "https://api.weixin.qq.com"

// Client calls the official account's API. Its access_token lives in Redis, shared by all
// Hotline processes: WeChat invalidates the previous token when a new one is fetched, so
// processes must not each fetch their own.
type Client struct {
	apiURL, appID, secret string
	http                  *http.Client
	rdb                   redis.UniversalClient
}

// NewClient builds a client; apiURL "" means WeChat's.
func NewClient(apiURL, appID, secret string, rdb redis.UniversalClient) *Client {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	return &Client{apiURL: strings.TrimRight(apiURL, "/"), appID: appID, secret: secret, http: &http.Client{Timeout: 10 * time.Second}, rdb: rdb}
}

func (c *Client) tokenKey() string { return "hotline:wechat:token:" + c.appID }

// APIError is WeChat's errcode and errmsg.
type APIError struct {
	Code int    `json:"errcode"`
	Msg  string `json:"errmsg"`
}

func (e *APIError) Error() string { return fmt.Sprintf("WeChat error %d: %s", e.Code, e.Msg) }

// tokenExpired reports the codes that mean the cached token is no longer good.
func tokenExpired(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Code == 40001 || e.Code == 42001 || e.Code == 40014)
}

// token returns the cached access_token, fetching a new one when there is none or when
// force is set (the cached one was refused). A short Redis lock makes one process fetch
// while the others wait for its result.
func (c *Client) token(ctx context.Context, force bool) (string, error) {
	if !force {
		if t, err := c.rdb.Get(ctx, c.tokenKey()).Result(); err == nil {
			return t, nil
		} else if !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("read cached WeChat token: %w", err)
		}
	}
	lock := c.tokenKey() + ":lock"
	for i := 0; ; i++ {
		got, err := c.rdb.SetNX(ctx, lock, "1", 10*time.Second).Result()
		if err != nil {
			return "", fmt.Errorf("lock WeChat token: %w", err)
		}
		if got {
			break
		}
		if i == 50 {
			return "", errors.New("another process is still fetching the WeChat token")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if !force {
			if t, err := c.rdb.Get(ctx, c.tokenKey()).Result(); err == nil {
				return t, nil
			}
		}
	}
	defer c.rdb.Del(context.WithoutCancel(ctx), lock)

	q := url.Values{"grant_type": {"client_credential"}, "appid": {c.appID}, "secret": {c.secret}}
	var res struct {
		APIError
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := c.call(ctx, http.MethodGet, "/cgi-bin/token?"+q.Encode(), nil, &res); err != nil {
		return "", fmt.Errorf("fetch WeChat token: %w", err)
	}
	if res.Code != 0 {
		return "", fmt.Errorf("fetch WeChat token: %w", &res.APIError)
	}
	// Keep it until five minutes before WeChat says it expires.
	ttl := time.Duration(max(res.ExpiresIn-300, 60)) * time.Second
	if err := c.rdb.Set(ctx, c.tokenKey(), res.AccessToken, ttl).Err(); err != nil {
		return "", fmt.Errorf("cache WeChat token: %w", err)
	}
	return res.AccessToken, nil
}

func (c *Client) call(ctx context.Context, method, path string, body any, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.apiURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("WeChat answered HTTP %d", res.StatusCode)
	}
	return json.NewDecoder(res.Body).Decode(out)
}

// Send delivers a text through the customer-service message API, then each attached
// picture as an image message (uploaded first as temporary media, see upload). A refused
// token is refreshed once and the message sent again; WeChat's refusals (outside the
// 48-hour window, the customer unsubscribed) are permanent, and so is a failure after the
// text went out: sending again would repeat it.
func (c *Client) Send(ctx context.Context, msg channels.Outbound) (string, error) {
	if msg.To == "" {
		return "", &channels.PermanentError{Reason: "the customer has no WeChat openid"}
	}
	bodies := []map[string]any{{"touser": msg.To, "msgtype": "text", "text": map[string]string{"content": msg.Body}}}
	for _, f := range msg.Files {
		id, err := c.upload(ctx, f)
		if err != nil {
			return "", permanentRefusal(err)
		}
		bodies = append(bodies, map[string]any{"touser": msg.To, "msgtype": "image", "image": map[string]string{"media_id": id}})
	}
	for i, body := range bodies {
		if err := c.custom(ctx, body); err != nil {
			err = permanentRefusal(err)
			if i > 0 {
				return "", &channels.PermanentError{Reason: "the text was sent but not the picture: " + err.Error()}
			}
			return "", err
		}
	}
	return fmt.Sprintf("wechat-out:%d", msg.MessageID), nil
}

// custom posts one customer-service message, with the token refreshed once if refused.
func (c *Client) custom(ctx context.Context, body map[string]any) error {
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var tok string
		if tok, err = c.token(ctx, attempt > 0); err != nil {
			return err
		}
		var res APIError
		if err = c.call(ctx, http.MethodPost, "/cgi-bin/message/custom/send?access_token="+url.QueryEscape(tok), body, &res); err != nil {
			return fmt.Errorf("send WeChat message: %w", err)
		}
		if res.Code == 0 {
			return nil
		}
		err = &res
		if !tokenExpired(err) {
			break
		}
	}
	return err
}

// permanentRefusal makes WeChat's refusals permanent; -1 (busy) and transport errors stay
// passing.
func permanentRefusal(err error) error {
	var e *APIError
	if errors.As(err, &e) && e.Code != -1 && !tokenExpired(err) { // -1: WeChat busy, try later
		reason := e.Error()
		if e.Code == 45015 {
			reason = "WeChat refused: more than 48 hours since the customer's last message"
		}
		return &channels.PermanentError{Reason: reason}
	}
	return err
}
