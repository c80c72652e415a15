package admin

import (
	"os"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/app/console/ui"
	"github.com/hotlinedesk/hotline/tickets"
)

// channelOrder is the order of the channel settings page's sections.
var channelOrder = []string{"twilio", "wechat", "email", "slack"}

// channelHooks are the addresses each provider's console needs, by the text that says
// where to paste them.
var channelHooks = map[string][][2]string{
	"twilio": {{"admin.ch.hook.sms", "/webhooks/twilio/sms"}, {"admin.ch.hook.voice", "/webhooks/twilio/voice"},
		{"admin.ch.hook.voice_status", "/webhooks/twilio/voice/status"}},
	"wechat": {{"admin.ch.hook.wechat", "/webhooks/wechat"}},
	"email":  {{"admin.ch.hook.email", "/webhooks/email"}},
	"slack":  {{"admin.ch.hook.slack", "/webhooks/slack/interactions"}},
}

// channelField is one setting as the page shows it. It never holds a secret: a saved
// secret shows only that it is set, and a secret from the environment likewise.
type channelField struct {
	channelsettings.Setting
	EnvSet   bool   // the environment variable has a value
	EnvShown string // what may be shown of it (see channelsettings.Field.Show)
	Input    string // a plain field's value in the form: the saved one, or what was typed
}

type webhook struct {
	Label, URL string
}

type channelGroup struct {
	Channel string
	Fields  []channelField
	Hooks   []webhook
	Error   string // why this section's form was refused
}

type channelsData struct {
	adminPage
	Groups    []channelGroup
	Base      string // where providers reach Hotline
	BaseKnown bool   // PUBLIC_BASE_URL is set; else Base is the address the console was opened at
}

// adminChannels serves GET /admin/channels: each channel's settings, whether each is set
// and where from, and the webhook addresses to give each provider.
func (h *Handler) adminChannels(ctx *fiber.Ctx, a *tickets.Agent) error {
	return h.showChannels(ctx, a, nil, "", nil)
}

func (h *Handler) showChannels(ctx *fiber.Ctx, a *tickets.Agent, r *refused, channel string, typed map[string]string) error {
	d := channelsData{adminPage: newAdminPage("channels"), Base: strings.TrimRight(h.publicBaseURL, "/")}
	status := r.set(&d.adminPage)
	d.BaseKnown = d.Base != ""
	if !d.BaseKnown {
		d.Base = ctx.BaseURL()
	}
	settings, err := h.channels.List(ctx.UserContext())
	if err != nil {
		return err
	}
	lang := ui.Lang(ctx, a)
	for _, ch := range channelOrder {
		g := channelGroup{Channel: ch}
		if r != nil && ch == channel {
			g.Error = r.reason
		}
		for _, s := range settings {
			if s.Channel != ch {
				continue
			}
			f := channelField{Setting: s}
			// The environment of this process: the processes of one desk share it.
			if env := os.Getenv(s.Env); env != "" {
				f.EnvSet, f.EnvShown = true, s.Show(env)
			}
			if !s.Secret {
				f.Input = s.Shown
				if v, ok := typed[s.Key]; ok {
					f.Input = v
				}
			}
			g.Fields = append(g.Fields, f)
		}
		for _, h := range channelHooks[ch] {
			g.Hooks = append(g.Hooks, webhook{Label: ui.T(lang, h[0]), URL: d.Base + h[1]})
		}
		d.Groups = append(d.Groups, g)
	}
	return h.kit.RenderStatus(ctx, status, "admin_channels", h.adminView(ctx, a, "admin.channels", d))
}

// saveChannel serves POST /admin/channels/:channel. A plain field takes the value typed
// (empty: the environment's applies again). A secret left empty keeps what is saved; its
// "clear" box removes it. Nothing takes effect before the processes restart.
func (h *Handler) saveChannel(ctx *fiber.Ctx, a *tickets.Agent) error {
	channel := ctx.Params("channel")
	lang := ui.Lang(ctx, a)
	if _, ok := channelHooks[channel]; !ok {
		return fiber.NewError(fiber.StatusNotFound, ui.T(lang, "admin.not_found"))
	}
	values, typed := map[string]string{}, map[string]string{}
	secretTyped := false
	args := ctx.Request().PostArgs()
	for _, f := range channelsettings.Fields() {
		if f.Channel != channel {
			continue
		}
		v := strings.TrimSpace(ctx.FormValue(f.Key))
		switch {
		case ctx.FormValue("clear."+f.Key) == "on":
			values[f.Key] = ""
		case f.Secret:
			if v != "" {
				values[f.Key], secretTyped = v, true
			}
		case args.Has(f.Key):
			values[f.Key], typed[f.Key] = v, v
		}
	}
	changed, err := h.channels.Save(ctx.UserContext(), tickets.AgentActor(a), values)
	if err != nil {
		if r, ok := refusal(channel, err); ok {
			if secretTyped { // never shown again, not even to retry
				r.reason += " " + ui.T(lang, "admin.ch.retype")
			}
			return h.showChannels(ctx, a, r, channel, typed)
		}
		return err
	}
	msg := ui.T(lang, "admin.nothing_changed")
	if len(changed) > 0 {
		names := make([]string, len(changed))
		for i, k := range changed {
			names[i] = ui.T(lang, "admin.ch."+k)
		}
		msg = ui.T(lang, "admin.ch.saved", strings.Join(names, ui.T(lang, "admin.list_sep")))
	}
	return ui.Redirect(ctx, "/admin/channels#ch-"+channel, msg)
}
