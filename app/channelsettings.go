package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/notifications"
)

// channelSetters put one saved channel setting into the configuration, in the field its
// environment variable fills.
var channelSetters = map[string]func(cfg *config, v string) error{
	channelsettings.TwilioAccountSID: func(cfg *config, v string) error { cfg.Twilio.AccountSID = v; return nil },
	channelsettings.TwilioAuthToken:  func(cfg *config, v string) error { cfg.Twilio.AuthToken = v; return nil },
	channelsettings.TwilioFrom:       func(cfg *config, v string) error { cfg.TwilioFrom = v; return nil },
	channelsettings.TwilioService:    func(cfg *config, v string) error { cfg.TwilioService = v; return nil },
	channelsettings.WeChatToken:      func(cfg *config, v string) error { cfg.WeChat.Token = v; return nil },
	channelsettings.WeChatAppID:      func(cfg *config, v string) error { cfg.WeChat.AppID = v; return nil },
	channelsettings.WeChatAppSecret:  func(cfg *config, v string) error { cfg.WeChatSecret = v; return nil },
	channelsettings.WeChatAESKey:     func(cfg *config, v string) error { cfg.WeChat.EncodingAESKey = v; return nil },
	channelsettings.EmailSMTPURL:     func(cfg *config, v string) error { cfg.SMTPURL = v; return nil },
	channelsettings.EmailFrom:        func(cfg *config, v string) error { cfg.EmailFrom = v; return nil },
	channelsettings.EmailIMAPURL: func(cfg *config, v string) (err error) {
		cfg.IMAP, err = parseIMAPURL(v)
		return err
	},
	channelsettings.EmailWebhookSecret: func(cfg *config, v string) error { cfg.EmailSecret = v; return nil },
	channelsettings.SlackBotToken:      func(cfg *config, v string) error { cfg.Slack.Token = v; return nil },
	channelsettings.SlackSigningSecret: func(cfg *config, v string) error { cfg.SlackSigningSecret = v; return nil },
	channelsettings.SlackTeamChannels: func(cfg *config, v string) (err error) {
		cfg.Slack.TeamChannels, err = notifications.ParseTeamChannels(v)
		return err
	},
}

// applyChannelSettings overlays the channel settings an admin saved in the web console
// (Admin → Channels: Twilio, WeChat, email and Slack credentials) onto cfg, which
// loadConfig read from the environment.
//
// A saved value wins over the environment's, setting by setting: the console is where a
// desk's admins keep these, and a setting cleared there falls back to its environment
// variable. Settings are read here, once, at start: a change made in the console takes
// effect when the Hotline processes (API and workers alike) restart.
//
// A saved value the desk cannot use (an IMAP URL that does not parse, an SMTP URL the
// sender refuses or without a from address) must not keep every process from starting,
// since the console to correct it would be down too: it is logged as an error and the
// environment's value is kept instead. Only the database failing is an error.
func applyChannelSettings(ctx context.Context, settings *channelsettings.Store, cfg *config, log *slog.Logger) error {
	stored, err := settings.Values(ctx)
	if err != nil {
		return fmt.Errorf("read the channel settings saved in the console: %w", err)
	}
	env := *cfg
	for _, f := range channelsettings.Fields() {
		v, ok := stored[f.Key]
		if !ok {
			continue
		}
		set, ok := channelSetters[f.Key]
		if !ok {
			return fmt.Errorf("channel setting %s has no place in the configuration", f.Key)
		}
		next := *cfg
		if err := set(&next, v); err != nil {
			log.Error("a channel setting saved in the console is not usable; correct it under Admin → Channels", "setting", f.Key,
				"kept", "the environment's "+f.Env, "err", err)
			continue
		}
		*cfg = next
	}
	if cfg.SMTPURL != "" && (cfg.SMTPURL != env.SMTPURL || cfg.EmailFrom != env.EmailFrom) {
		if _, err := emailSender(*cfg); err != nil {
			log.Error("the email settings saved in the console are not usable; correct them under Admin → Channels",
				"kept", "the environment's SMTP_URL and EMAIL_FROM", "err", err)
			cfg.SMTPURL, cfg.EmailFrom = env.SMTPURL, env.EmailFrom
		}
	}
	return nil
}
