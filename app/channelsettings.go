package main

import (
	"context"
	"fmt"

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
// effect when the Hotline processes (API and workers alike) restart. serve calls it
// before it builds the senders and webhooks.
func applyChannelSettings(ctx context.Context, svc *tickets.Service, cfg *config) error {
	stored, err := svc.ChannelSettingValues(ctx)
	if err != nil {
		return fmt.Errorf("read the channel settings saved in the console: %w", err)
	}
	for _, f := range tickets.ChannelFields() {
		v, ok := stored[f.Key]
		if !ok {
			continue
		}
		set, ok := channelSetters[f.Key]
		if !ok {
			return fmt.Errorf("channel setting %s has no place in the configuration", f.Key)
		}
		if err := set(cfg, v); err != nil {
			return fmt.Errorf("channel setting %s saved in the console (it overrides %s): %w", f.Key, f.Env, err)
		}
	}
	if cfg.SMTPURL != "" && cfg.EmailFrom == "" {
		return fmt.Errorf("an SMTP URL is set but no from address: set EMAIL_FROM or the from address under Admin → Channels")
	}
	return nil
}
