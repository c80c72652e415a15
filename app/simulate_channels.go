package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/channels/wechat"
)

// wechatFlags is "simulate wechat": the official account's server push of a follower's
// text, signed with the desk's token (signature: SHA-1 of the sorted token, timestamp and
// nonce) and, when the desk has an EncodingAESKey, sealed in safe mode with msg_signature.
func wechatFlags() (*flag.FlagSet, *simRun) {
	fs, r := newSimFlags("wechat")
	openid := fs.String("openid", "oSimulatedCustomer0001", "the follower's openid")
	body := fs.String("body", "", "the text of the message (required)")
	r.check = func() error {
		if strings.TrimSpace(*body) == "" {
			return errors.New("say what the follower writes with --body")
		}
		return nil
	}
	r.run = func(ctx context.Context, d *desk) error {
		token, err := wechatWebhookToken(ctx, d.cfg, d.svc, discardLog)
		if err != nil {
			return err
		}
		now := time.Now()
		ts, nonce, account := strconv.FormatInt(now.Unix(), 10), randomHex(8), "gh_simulated_account"
		push := wechat.TextPush(account, *openid, *body, now, randomID())
		q := url.Values{"signature": {wechat.Signature(token, ts, nonce)}, "timestamp": {ts}, "nonce": {nonce}, "openid": {*openid}}
		var cipher *wechat.Cipher
		if key := d.cfg.WeChat.EncodingAESKey; key != "" {
			if cipher, err = wechat.NewCipher(key, d.cfg.WeChat.AppID); err != nil {
				return err
			}
			var sealed string
			if push, sealed, err = wechat.SealedPush(cipher, account, push); err != nil {
				return err
			}
			q.Set("encrypt_type", "aes")
			q.Set("msg_signature", wechat.Signature(token, ts, nonce, sealed))
		}
		mode := "plaintext"
		if cipher != nil {
			mode = "safe mode (AES)"
		}
		answer, err := d.post(ctx, "a WeChat message from "+*openid+", "+mode, "/webhooks/wechat?"+q.Encode(), "text/xml", push, nil,
			"WeChat token (WECHAT_TOKEN)")
		if err != nil {
			return err
		}
		if p, err := wechat.ParsePush(answer); err == nil && p.Encrypt != "" && cipher != nil {
			if plain, err := cipher.Decrypt(p.Encrypt); err == nil {
				fmt.Fprintf(d.out, "the desk's reply, decrypted:\n%s\n\n", plain)
			}
		}
		return nil
	}
	return fs, r
}

// emailFlags is "simulate email": a customer's message delivered through the email webhook,
// the way a mail provider's inbound hook (or a forwarding rule) delivers it, with the
// desk's secret as its bearer token.
func emailFlags() (*flag.FlagSet, *simRun) {
	fs, r := newSimFlags("email")
	from := fs.String("from", "Zhao Lei <zhao.lei@example.com>", "the customer's address")
	to := fs.String("to", "", "the desk's address (default EMAIL_FROM, else support@hotline.local)")
	subject := fs.String("subject", "", "the subject")
	body := fs.String("body", "", "the text of the message")
	file := fs.String("file", "", "a whole message (.eml, RFC 5322) to deliver instead of --from, --subject and --body")
	r.check = func() error {
		if *file == "" && strings.TrimSpace(*subject) == "" && strings.TrimSpace(*body) == "" {
			return errors.New("give the message with --subject and --body, or a whole one with --file message.eml")
		}
		if *file == "" {
			if _, err := mail.ParseAddress(*from); err != nil {
				return fmt.Errorf("--from %q is not an email address", *from)
			}
		}
		return nil
	}
	r.run = func(ctx context.Context, d *desk) error {
		var raw []byte
		if *file != "" {
			var err error
			if raw, err = os.ReadFile(*file); err != nil {
				return err
			}
		} else {
			deskAddr := *to
			if deskAddr == "" {
				deskAddr = d.cfg.EmailFrom
			}
			if deskAddr == "" {
				deskAddr = "support@hotline.local"
			}
			raw = composeMail(*from, deskAddr, *subject, *body, time.Now())
		}
		secret, err := emailWebhookSecret(ctx, d.cfg, d.svc, discardLog)
		if err != nil {
			return err
		}
		_, err = d.post(ctx, "an email", "/webhooks/email", "message/rfc822", raw, http.Header{"Authorization": {"Bearer " + secret}},
			"email webhook secret (EMAIL_WEBHOOK_SECRET)")
		return err
	}
	return fs, r
}

// composeMail writes the message a customer's mail program would send: UTF-8 text,
// base64 so any language survives, a subject encoded by RFC 2047, a fresh Message-ID.
func composeMail(from, to, subject, body string, now time.Time) []byte {
	var b strings.Builder
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("From", from)
	header("To", to)
	header("Subject", mime.BEncoding.Encode("UTF-8", subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+randomHex(12)+"@simulate.hotline>")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=UTF-8")
	header("Content-Transfer-Encoding", "base64")
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString([]byte(body))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return []byte(b.String())
}
