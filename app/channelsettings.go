package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/tickets"
)

// channelSetters put one saved channel setting into the configuration, in the field its
// environment variable fills.
var channelSetters = map[string]func(cfg *config, v string) error{
	tickets.SettingTwilioAccountSID: func(cfg *config, v string) error { cfg.Twilio.AccountSID = v; return nil },
	tickets.SettingTwilioAuthToken:  func(cfg *config, v string) error { cfg.Twilio.AuthToken = v; return nil },
	tickets.SettingTwilioFrom:       func(cfg *config, v string) error { cfg.TwilioFrom = v; return nil },
	tickets.SettingTwilioService:    func(cfg *config, v string) error { cfg.TwilioService = v; return nil },
	tickets.SettingWeChatToken:      func(cfg *config, v string) error { cfg.WeChat.Token = v; return nil },
	tickets.SettingWeChatAppID:      func(cfg *config, v string) error { cfg.WeChat.AppID = v; return nil },
	tickets.SettingWeChatAppSecret:  func(cfg *config, v string) error { cfg.WeChatSecret = v; return nil },
	tickets.SettingWeChatAESKey:     func(cfg *config, v string) error { cfg.WeChat.EncodingAESKey = v; return nil },
	tickets.SettingEmailSMTPURL:     func(cfg *config, v string) error { cfg.SMTPURL = v; return nil },
	tickets.SettingEmailFrom:        func(cfg *config, v string) error { cfg.EmailFrom = v; return nil },
	tickets.SettingEmailIMAPURL: func(cfg *config, v string) (err error) {
		cfg.IMAP, err = parseIMAPURL(v)
		return err
	},
	tickets.SettingEmailWebhookSecret: func(cfg *config, v string) error { cfg.EmailSecret = v; return nil },
	tickets.SettingSlackBotToken:      func(cfg *config, v string) error { cfg.Slack.Token = v; return nil },
	tickets.SettingSlackSigningSecret: func(cfg *config, v string) error { cfg.SlackSigningSecret = v; return nil },
	tickets.SettingSlackTeamChannels: func(cfg *config, v string) (err error) {
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
func applyChannelSettings(ctx context.Context, svc *tickets.Service, cfg *config, log *slog.Logger) error {
	stored, err := svc.ChannelSettingValues(ctx)
	if err != nil {
		return fmt.Errorf("read the channel settings saved in the console: %w", err)
	}
	env := *cfg
	for _, f := range tickets.ChannelFields() {
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
