package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/channels/wechat"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/delivery"
)

// WeChatConfig is what the official account's server push needs.
type WeChatConfig struct {
	Token string
	AppID string
	// EncodingAESKey enables safe mode (encrypt_type=aes); set, plaintext pushes are
	// refused, since their signature covers no body.
	EncodingAESKey string
	// Welcome is sent to a new follower; empty sends nothing.
	Welcome string
	// Menu maps CLICK menu keys to actions: "complaint" opens a complaint.
	Menu map[string]string
	// MaxSkew refuses pushes whose timestamp is further from now (replays); 0 means 5 minutes.
	MaxSkew time.Duration
	Clock   tickets.Clock
	// Media fetches the files of images, voice and video (the official account's media API);
	// nil keeps only their MediaId.
	Media MediaFetcher
	// MediaTimeout bounds that fetch, so the answer stays within WeChat's 5 seconds;
	// 0 means 3 seconds.
	MediaTimeout time.Duration
	// Access claims the nonces of plaintext pushes and answers followers who ask where
	// their tickets stand; nil means access.New(svc) with the zero Config.
	Access *access.Service
}

// MediaFetcher downloads a customer's file by its MediaId, at most limit bytes.
type MediaFetcher interface {
	Media(ctx context.Context, mediaID string, limit int64) (*wechat.Media, error)
}

// WeChat serves an official account's server push.
type WeChat struct {
	svc      *tickets.Service
	delivery *delivery.Service // follows and unfollows, messages seen
	cfg      WeChatConfig
	cipher   *wechat.Cipher
	log      *slog.Logger
}

// NewWeChat builds the handlers; a malformed EncodingAESKey is a configuration error.
func NewWeChat(svc *tickets.Service, cfg WeChatConfig, log *slog.Logger) (*WeChat, error) {
	if cfg.MaxSkew == 0 {
		cfg.MaxSkew = 5 * time.Minute
	}
	if cfg.Clock == nil {
		cfg.Clock = tickets.SystemClock{}
	}
	if cfg.MediaTimeout == 0 {
		cfg.MediaTimeout = 3 * time.Second
	}
	if cfg.Access == nil {
		cfg.Access = access.New(svc, access.Config{})
	}
	h := &WeChat{svc: svc, delivery: delivery.New(svc), cfg: cfg, log: log}
	if cfg.EncodingAESKey != "" {
		c, err := wechat.NewCipher(cfg.EncodingAESKey, cfg.AppID)
		if err != nil {
			return nil, err
		}
		h.cipher = c
	}
	return h, nil
}

// Register mounts GET (URL verification) and POST (messages) at /webhooks/wechat.
func (h *WeChat) Register(app *fiber.App) {
	app.Get("/webhooks/wechat", h.verifyURL)
	app.Post("/webhooks/wechat", h.push)
}

func forbidden(reason string) error { return fiber.NewError(fiber.StatusForbidden, reason) }

// nonceProvider names WeChat's nonces in the shared nonce store.
const nonceProvider = "wechat"

// fresh refuses timestamps too far from now, so a captured push cannot be replayed later.
func (h *WeChat) fresh(ts string) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return forbidden("timestamp is missing or not a number")
	}
	now, skew := h.cfg.Clock.Now().Unix(), int64(h.cfg.MaxSkew.Seconds())
	if sec < now-skew || sec > now+skew { // compared, not subtracted: no overflow
		return forbidden("timestamp is too far from now")
	}
	return nil
}

// verifyURL answers WeChat's check of the server address: echo echostr if signed, and
// signed lately.
func (h *WeChat) verifyURL(c *fiber.Ctx) error {
	if h.cfg.Token == "" {
		return forbidden("WeChat is not configured")
	}
	if err := h.fresh(c.Query("timestamp")); err != nil {
		return err
	}
	if !wechat.VerifySignature(c.Query("signature"), h.cfg.Token, c.Query("timestamp"), c.Query("nonce")) {
		return forbidden("invalid signature")
	}
	return c.SendString(c.Query("echostr"))
}

// push receives a message or event. It answers "success" only after the message is
// stored; WeChat retries three times within 15 seconds otherwise, and the retries find it.
func (h *WeChat) push(c *fiber.Ctx) error {
	ts, nonce := c.Query("timestamp"), c.Query("nonce")
	if h.cfg.Token == "" {
		return forbidden("WeChat is not configured")
	}
	if err := h.fresh(ts); err != nil {
		return err
	}
	if nonce == "" || len(nonce) > access.MaxNonceBytes {
		return forbidden("nonce is missing or too long")
	}
	body := c.Body()
	aes := c.Query("encrypt_type") == "aes"
	if !aes && h.cipher != nil {
		// A plaintext push is signed over no body: with safe mode configured, accepting
		// one would let a captured signature carry any message.
		return forbidden("plaintext push refused: safe mode (encrypt_type=aes) is configured")
	}
	if aes {
		if h.cipher == nil {
			return forbidden("safe mode needs WECHAT_ENCODING_AES_KEY")
		}
		env, err := wechat.ParsePush(body)
		if err != nil || env.Encrypt == "" {
			return forbidden("safe-mode push without an Encrypt element")
		}
		if !wechat.VerifySignature(c.Query("msg_signature"), h.cfg.Token, ts, nonce, env.Encrypt) {
			return forbidden("invalid msg_signature")
		}
		if body, err = h.cipher.Decrypt(env.Encrypt); err != nil {
			h.log.Warn("refused a WeChat push that does not decrypt", "err", err)
			return forbidden("cannot decrypt: " + err.Error())
		}
	} else if !wechat.VerifySignature(c.Query("signature"), h.cfg.Token, ts, nonce) {
		return forbidden("invalid signature")
	}
	// The nonce is remembered for as long as its timestamp is accepted, both sides of now:
	// within that, a second body under it is a captured signature with another message.
	// WeChat's own retries repeat the body and pass; intake finds their MsgId stored.
	ok, err := h.cfg.Access.ClaimNonce(c.UserContext(), nonceProvider, nonce, body, 2*h.cfg.MaxSkew)
	if err != nil {
		return err
	}
	if !ok {
		h.log.Warn("refused a WeChat push reusing a nonce with another body", "ip", c.IP())
		return forbidden("nonce already used for another message")
	}
	p, err := wechat.ParsePush(body)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	reply, err := h.handle(c, p)
	if err != nil {
		return err
	}
	if reply == "" {
		return c.SendString("success")
	}
	out := wechat.TextReply(p.FromUserName, p.ToUserName, reply, h.cfg.Clock.Now())
	if aes {
		if out, err = wechat.SealedReply(h.cipher, h.cfg.Token, out, h.cfg.Clock.Now(), newNonce()); err != nil {
			return err
		}
	}
	c.Type("xml", "utf-8")
	return c.Send(out)
}

// handle stores what the push says and returns a passive reply, if any.
func (h *WeChat) handle(c *fiber.Ctx, p *wechat.Push) (string, error) {
	ctx := c.UserContext()
	if p.FromUserName == "" {
		return "", fiber.NewError(fiber.StatusBadRequest, "FromUserName is missing")
	}
	if p.MsgType == "event" {
		switch strings.ToLower(p.Event) {
		case "subscribe":
			return h.cfg.Welcome, intakeError(h.delivery.OptIn(ctx, tickets.IdentityWeChat, p.FromUserName))
		case "unsubscribe":
			return "", intakeError(h.delivery.OptOut(ctx, tickets.IdentityWeChat, p.FromUserName))
		case "click":
			if h.cfg.Menu[p.EventKey] == "complaint" {
				in := tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: p.FromUserName, ProviderMessageID: p.ID(),
					Body: "菜单：我要投诉 / Menu: make a complaint", ComplaintSource: tickets.SourceCustomer}
				_, err := h.svc.Intake(ctx, in)
				return "", intakeError(err)
			}
		}
		return "", nil // other events (menu links, location reports, scans) need nothing
	}
	if p.MsgType == "text" {
		if ref, english, ok := access.StatusRequest(p.Content); ok {
			sts, err := h.cfg.Access.CustomerStatus(ctx, tickets.IdentityWeChat, p.FromUserName, ref)
			if err != nil {
				return "", intakeError(err)
			}
			return h.cfg.Access.StatusText(sts, english), nil
		}
	}
	in, err := p.Inbound()
	if err != nil {
		return "", fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	h.fetchMedia(ctx, p, &in)
	if _, err := h.svc.Intake(ctx, in); err != nil {
		if errors.Is(err, tickets.ErrInvalid) {
			return "", fiber.NewError(fiber.StatusBadRequest, tickets.Reason(err))
		}
		return "", err
	}
	return "", nil
}

// fetchMedia keeps the file of an image, voice or video with its message. It is fetched
// before the transaction, within a short timeout; when it cannot be, the message is stored
// all the same, saying so and naming the MediaId (WeChat keeps media for 3 days).
func (h *WeChat) fetchMedia(ctx context.Context, p *wechat.Push, in *tickets.Inbound) {
	limit, ok := p.MediaLimit()
	if !ok || h.cfg.Media == nil || len(in.Attachments) != 1 {
		return
	}
	// WeChat retries when the first answer was slow, often because the file was: a message
	// already stored needs no second download (Intake still finds it by MsgId).
	if seen, err := h.delivery.HasMessage(ctx, tickets.ChannelWeChat, in.ProviderMessageID); err == nil && seen {
		return
	}
	fctx, cancel := context.WithTimeout(ctx, h.cfg.MediaTimeout)
	defer cancel()
	m, err := h.cfg.Media.Media(fctx, p.MediaID, limit)
	if err != nil {
		h.log.Warn("WeChat media not fetched; message stored without its file", "type", p.MsgType, "media_id", p.MediaID, "err", err)
		in.Body += fmt.Sprintf("\n[文件未能获取 / file not fetched from WeChat, media_id %.80s: %s]", p.MediaID, mediaReason(err))
		return
	}
	a := &in.Attachments[0]
	a.Content, a.SizeBytes = m.Content, int64(len(m.Content))
	if m.ContentType != "" && m.ContentType != "application/octet-stream" {
		a.ContentType = m.ContentType
	}
	if m.Filename != "" && m.Filename != p.MediaID {
		a.Filename = m.Filename
	}
}

// mediaReason says briefly why a file was not fetched, for the agent reading the message.
func mediaReason(err error) string {
	var api *wechat.APIError
	switch {
	case errors.As(err, &api):
		return api.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	s := err.Error()
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

func newNonce() string {
	b := make([]byte, 8)
	rand.Read(b) //nolint:errcheck // never fails
	return hex.EncodeToString(b)
}
