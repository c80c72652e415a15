// Command hotline runs the Hotline support and complaint desk.
//
//	hotline [serve] [--demo] [--role api|worker|all]   run the API and the job worker (the default)
//	hotline worker             the same as serve --role worker
//	hotline migrate            apply database migrations and exit
//	hotline demo               seed demo teams, agents and tickets and exit
//	hotline simulate CHANNEL   play a customer (sms, call, wechat, email) against a running desk
//	hotline bench [flags]      load harness against PostgreSQL and Redis (see app/bench)
//	hotline help [COMMAND]     the commands, or one command's flags (also -h)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/gofiber/fiber/v2"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/bench"
	"github.com/hotlinedesk/hotline/app/channelsettings"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/metrics"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/channels"
	"github.com/hotlinedesk/hotline/channels/email"
	"github.com/hotlinedesk/hotline/channels/email/transport"
	"github.com/hotlinedesk/hotline/channels/sms"
	"github.com/hotlinedesk/hotline/channels/twilio"
	"github.com/hotlinedesk/hotline/channels/voice/stt"
	"github.com/hotlinedesk/hotline/channels/wechat"
	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/complaints"
	"github.com/hotlinedesk/hotline/tickets/deadlines"
	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/reports"
	"github.com/hotlinedesk/hotline/tickets/stages"
	outhooks "github.com/hotlinedesk/hotline/tickets/webhooks"
)

// discardLog is for commands whose output is their own.
var discardLog = slog.New(slog.DiscardHandler)

func main() {
	// Hotline's live heap is small and busy; collecting at five times it rather than twice
	// costs a few tens of MiB and gives the CPU back to the requests (about a tenth of a
	// busy server's). GOGC, when set, decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if errors.Is(err, flag.ErrHelp) { // help was asked for, and given
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		usage(os.Stdout)
		return flag.ErrHelp
	}
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "help":
		return help(ctx, os.Stdout, args)
	case "bench": // drives Hotline processes of its own; reads none of their settings
		return bench.Main(ctx, args, os.Stdout)
	case "simulate":
		return runSimulate(ctx, args, os.Stdout)
	}
	if _, ok := commandNamed(cmd); !ok {
		usage(os.Stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
	var fopts *filesOptions
	fs, opts := commandFlags(cmd)
	if cmd == "files" {
		var err error
		if fopts, err = parseFilesArgs(args); err != nil {
			return err
		}
	} else if err := parseFlags(fs, cmd, args); err != nil {
		return err
	}

	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if cmd == "worker" {
		cmd, opts.role = "serve", string(roleWorker)
	}
	if opts.role != "" {
		if cfg.Role, err = parseRole(opts.role); err != nil {
			return fmt.Errorf("--role: %w", err)
		}
	}
	if cfg.Role != roleAll && cfg.RedisURL == "" && cmd == "serve" {
		return fmt.Errorf("role %s needs REDIS_URL: without it the job broker lives inside one process, so only --role all can work", cfg.Role)
	}
	// Every line goes through the masking handler: no full numbers, message text or tokens.
	log := slog.New(privacy.LogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel})))
	slog.SetDefault(log) // the few parts that fall back to slog.Default() mask too

	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := tickets.NewService(db, tickets.SystemClock{}, tickets.Config{
		DefaultCountry: cfg.DefaultCountry,
		SLA:            cfg.SLA,
		Calendar:       tickets.NewCalendar(cfg.CalendarZone, cfg.WorkOpen, cfg.WorkShut, log),
		ReopenWindow:   cfg.ReopenWindow,
		Notices:        cfg.Notices,
		QuietStart:     cfg.Quiet[0],
		QuietEnd:       cfg.Quiet[1],
	}, log)
	store, err := openFiles(ctx, cfg, db.Dialect().Name(), log)
	if err != nil {
		return err
	}
	svc.SetFileStore(store)
	// What follows a resolution (follow-up calls, the satisfaction survey), in every process:
	// an API process resolves tickets and takes texted scores, a worker sends the surveys.
	care := aftercare.New(svc, cfg.AfterCare)
	svc.SetAftercare(care)
	// Complaints, in every process: intake and the sweep open them in their transactions,
	// the console and the API handle them.
	cps := complaints.New(svc)
	svc.SetComplaints(cps)
	svc.SetProgress(stages.New(svc)) // a customer's files on a ticket waiting for documents
	// The statutory holidays, before any deadline is counted (admins' corrections kept).
	if err := deadlines.New(svc).SeedHolidays(ctx); err != nil {
		return err
	}

	switch cmd {
	case "migrate":
		return nil // openDatabase migrated
	case "files":
		return migrateFiles(ctx, svc, fopts, os.Stdout)
	case "demo":
		// The first admin before the demo's agents: EnsureAdmin creates one only on a desk
		// without agents, and a demo desk needs someone who can administer it.
		first, err := firstAdmin(ctx, cfg, svc, log)
		if err != nil {
			return err
		}
		seeded, err := seedDemo(ctx, svc, log)
		if err != nil {
			return err
		}
		printSignIn(os.Stdout, signIn{URL: consoleURL(cfg), Admin: first, Demo: seeded, Command: "demo"})
		return nil
	}
	// Channel settings an admin saved in the console take the place of the environment's.
	if err := applyChannelSettings(ctx, channelsettings.New(svc), &cfg, log); err != nil {
		return err
	}
	first, err := firstAdmin(ctx, cfg, svc, log)
	if err != nil {
		return err
	}
	seeded := false
	if opts.demo {
		if seeded, err = seedDemo(ctx, svc, log); err != nil {
			return err
		}
	}
	return serve(ctx, cfg, svc, care, cps, log, signIn{URL: consoleURL(cfg), Admin: first, Demo: seeded, Worker: !cfg.Role.api()})
}

// firstAdmin creates the first admin on a desk without agents, and returns who it is for
// the sign-in block (nil when the desk already had people). The password is never logged:
// only printSignIn shows it, once.
func firstAdmin(ctx context.Context, cfg config, svc *tickets.Service, log *slog.Logger) (*firstSignIn, error) {
	created, password, err := svc.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil || !created {
		return nil, err
	}
	log.Info("created the first admin", "email", cfg.AdminEmail, "generated_password", password != "")
	return &firstSignIn{Email: cfg.AdminEmail, Password: password}, nil
}

// openDatabase opens and migrates the database, waiting up to HOTLINE_DB_WAIT for
// PostgreSQL to answer.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger) (*bun.DB, error) {
	db, err := tickets.OpenDB(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := waitForDatabase(ctx, db, cfg.DatabaseURL, cfg.DBWait, log); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrations.Up(ctx, db, log); err != nil {
		db.Close()
		return nil, err
	}
	log.Info("database ready", "dialect", db.Dialect().Name().String())
	return db, nil
}

func serve(ctx context.Context, cfg config, svc *tickets.Service, care *aftercare.Service, cps *complaints.Service, log *slog.Logger, welcome signIn) error {
	desk, err := deskID(ctx, svc)
	if err != nil {
		return err
	}
	broker, err := jobs.OpenBroker(cfg.RedisURL, log)
	if err != nil {
		return err
	}
	defer broker.Close()
	scheduler := jobs.NewScheduler(broker)
	defer scheduler.Close()
	svc.SetScheduler(scheduler)
	inspector := asynq.NewInspector(broker.Opt)
	defer inspector.Close()
	stats := metrics.New(metrics.Config{Deadlines: svc.DeadlineStats, Queues: metrics.AsynqQueues(inspector), Token: cfg.MetricsToken, Log: log})

	senders := map[tickets.Channel]channels.Sender{}
	if cfg.Twilio.AccountSID != "" && cfg.Twilio.AuthToken != "" && (cfg.TwilioFrom != "" || cfg.TwilioService != "") {
		callback := ""
		if cfg.PublicBaseURL != "" {
			callback = cfg.PublicBaseURL + "/webhooks/twilio/sms/status"
		}
		senders[tickets.ChannelSMS] = sms.NewSender(cfg.Twilio, cfg.TwilioFrom, cfg.TwilioService, callback)
	} else {
		log.Warn("SMS replies are not sent: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER (or TWILIO_MESSAGING_SERVICE_SID)")
	}
	if cfg.WeChat.AppID != "" && cfg.WeChatSecret != "" {
		wc := wechat.NewClient(cfg.WeChatAPIURL, cfg.WeChat.AppID, cfg.WeChatSecret, broker.Redis())
		senders[tickets.ChannelWeChat], cfg.WeChat.Media = wc, wc
	}
	webhookToken, err := twilioWebhookToken(ctx, cfg, svc, log)
	if err != nil {
		return err
	}
	// Call recordings are fetched with the account's credentials, to transcribe them and to
	// play them to agents; without them a recording is kept as Twilio's address only.
	var playback api.Recordings
	var media jobs.RecordingFetcher
	if r := twilio.NewRecordings(cfg.Twilio); r.Enabled() {
		playback, media = r, r
	} else {
		log.Warn("voicemail recordings cannot be played or transcribed: set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
	}
	var speech jobs.SpeechToText
	if cfg.STT.URL != "" {
		c, err := stt.New(cfg.STT)
		if err != nil {
			return fmt.Errorf("HOTLINE_STT_URL: %w", err)
		}
		speech = c
	}
	// The doors (sign-in, sessions, attempt limits, nonces, status lookups), shared by the
	// API, the console, the webhooks and the status page so they count attempts alike.
	doorsCfg, err := signInConfig(cfg.PublicBaseURL)
	if err != nil {
		return err
	}
	doors := access.New(svc, doorsCfg)
	hooks := []interface{ Register(*fiber.App) }{
		webhooks.NewTwilio(svc, webhooks.TwilioConfig{AuthToken: webhookToken, PublicBaseURL: cfg.PublicBaseURL, SMSAck: cfg.SMSAck,
			CallCentreNumber: cfg.CallCentreNumber, VoiceLanguage: cfg.IVRLanguage, ByNumber: cfg.IVRByNumber,
			Voices: cfg.IVRVoices, SpeechToText: speech != nil, APIURL: cfg.Twilio.APIURL, Access: doors}, log),
	}
	// WeChat's and the email webhook's doors are always there: verified with the configured
	// token and secret, or ones generated for this desk (for simulate), never open.
	if cfg.WeChat.Token, err = wechatWebhookToken(ctx, cfg, svc, log); err != nil {
		return err
	}
	cfg.WeChat.Access = doors
	wc, err := webhooks.NewWeChat(svc, cfg.WeChat, log)
	if err != nil {
		return err
	}
	hooks = append(hooks, wc)
	if cfg.EmailSecret, err = emailWebhookSecret(ctx, cfg, svc, log); err != nil {
		return err
	}
	mail := webhooks.NewEmail(svc, cfg.EmailSecret, log)
	slack := notifications.NewSlack(cfg.Slack)
	boxes := outbox.New(svc) // the Slack outboxes: the API takes Acknowledge clicks, a worker delivers
	hooks = append(hooks, mail, webhooks.NewSlack(svc, boxes, cfg.SlackSigningSecret, slack, log),
		web.NewStatusPage(svc, doors, api.ClientAddr(cfg.TrustedProxies), log).Company(cfg.CompanyName), web.NewSurveyPage(care, log).Company(cfg.CompanyName), web.NewMediaLinks(svc, log))
	// Outbound webhooks: admins subscribe URLs to events (the API and the console); a
	// worker collects and sends the deliveries. Their secrets are sealed as the TOTP ones.
	hooksCfg := cfg.Webhooks
	hooksCfg.SecretKey = doorsCfg.SecretKey
	outbound := outhooks.New(svc, hooksCfg)
	figures := reports.New(svc) // the supervisors' reports, read by the console and the API
	// The customers' personal information: values revealed on purpose, requests (copy,
	// erasure) answered by the console and the API, the retention a worker runs once per
	// period.
	pcfg := cfg.Privacy
	pcfg.Log = log
	priv := privacy.New(svc, pcfg)
	shell := console.New(console.Config{Service: svc, Access: doors, Reports: figures, Complaints: cps, ChannelSettings: channelsettings.New(svc), Aftercare: care, Log: log,
		ClientIP: api.ClientAddr(cfg.TrustedProxies), PublicBaseURL: cfg.PublicBaseURL,
		SecureCookies: strings.HasPrefix(cfg.PublicBaseURL, "https://"), Recordings: playback, Outbox: boxes,
		CallCategories: cfg.CallCategories, Privacy: priv, Outbound: outbound})
	defer shell.Close()
	hooks = append(hooks, shell)
	if cfg.SMTPURL != "" {
		if senders[tickets.ChannelEmail], err = emailSender(cfg); err != nil {
			return err
		}
	}

	if cfg.Role.worker() {
		mux := asynq.NewServeMux()
		handlers := jobs.NewHandlers(svc, log, senders, scheduler)
		if cfg.IMAP != nil {
			poller := transport.NewPoller(*cfg.IMAP, settingsCursor{svc}, mail.Deliver, log)
			defer poller.Close()
			handlers.PollMail = poller.Poll
		}
		handlers.Swept = stats.Swept
		handlers.PublicBaseURL = cfg.PublicBaseURL // where Twilio fetches an MMS's files
		handlers.Register(mux)
		jobs.NewNotifier(boxes, slack, log).Register(mux)
		jobs.NewTranscriber(svc, media, speech, log).Register(mux)
		jobs.NewRetention(priv, log).Register(mux)
		hookTasks := jobs.NewWebhooks(outbound, broker, log)
		defer hookTasks.Close()
		hookTasks.Register(mux)
		jobs.NewFileSweep(svc, log).Register(mux)
		worker := jobs.NewServer(broker, cfg.Concurrency, log)
		if err := worker.Start(mux); err != nil {
			return fmt.Errorf("start job worker: %w", err)
		}
		defer worker.Shutdown()
		reconcileCtx, stopReconciler := context.WithCancel(ctx)
		defer stopReconciler()
		go jobs.RunReconciler(reconcileCtx, broker, cfg.Reconcile, log)
		go jobs.RunNotifier(reconcileCtx, broker, jobs.NotifyEvery, log)
		go jobs.RunRetention(reconcileCtx, broker, jobs.RetentionEvery, log)
		go jobs.RunWebhooks(reconcileCtx, broker, jobs.WebhookSweepEvery, log)
		go jobs.RunFileSweep(reconcileCtx, broker, jobs.SweepFilesEvery, log)
		if cfg.IMAP != nil {
			go jobs.RunPeriodic(reconcileCtx, broker, jobs.TypePollMail, cfg.EmailPoll, log)
		}
	}
	if cfg.Role.api() && cfg.SMTPListen.Addr != "" {
		smtpd := transport.NewSMTPServer(cfg.SMTPListen, func(ctx context.Context, _ string, _ []string, raw []byte) error {
			return mail.Deliver(ctx, raw)
		}, log)
		go func() {
			if err := smtpd.ListenAndServe(); err != nil && ctx.Err() == nil {
				log.Error("SMTP listener stopped", "err", err)
			}
		}()
		defer smtpd.Close()
		log.Info("accepting mail by SMTP", "addr", cfg.SMTPListen.Addr, "domains", cfg.SMTPListen.AcceptDomains)
	}

	newApp := api.New // a worker answers only /healthz, /readyz and /metrics
	if !cfg.Role.api() {
		newApp = api.NewOps
	}
	app := newApp(api.Config{
		Service:        svc,
		Reports:        figures,
		Aftercare:      care,
		Complaints:     cps,
		Privacy:        priv,
		Access:         doors,
		Outbound:       outbound,
		Log:            log,
		TrustedProxies: cfg.TrustedProxies,
		Webhooks:       hooks,
		Observe:        stats.ObserveRequest,
		Metrics:        stats.Handler(),
		EmailMaxBytes:  cfg.SMTPListen.MaxMessageBytes, // the email webhook takes what the SMTP listener does
		MetricsToken:   cfg.MetricsToken,
		Recordings:     playback,
		DeskID:         desk,
		Ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			// Both are asked, so that an operator learns of every failure at once.
			return errors.Join(api.NotReady("database", svc.Ping(ctx)), api.NotReady("broker", broker.Ping(ctx)))
		},
	})
	// Listening before the sign-in block is printed, so the address it gives answers.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("http server: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	log.Info("Hotline is listening", "addr", cfg.Addr, "role", cfg.Role)
	printSignIn(os.Stdout, welcome)

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shell.Close() // ends the consoles' live streams, which would hold the shutdown up otherwise
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}

// twilioWebhookToken is the token webhooks are verified with: the account's auth token, or,
// with no Twilio account configured, one Hotline generated and keeps in its database, so
// that "go run ./app simulate" can sign requests and nothing unsigned is ever accepted.
func twilioWebhookToken(ctx context.Context, cfg config, svc *tickets.Service, log *slog.Logger) (string, error) {
	if cfg.Twilio.AuthToken != "" {
		return cfg.Twilio.AuthToken, nil
	}
	token, err := svc.Setting(ctx, "twilio.webhook_token", func() string { return randomHex(24) })
	if err != nil {
		return "", err
	}
	log.Info("TWILIO_AUTH_TOKEN is not set: Twilio webhooks are verified with a token generated for this desk (go run ./app simulate uses it)")
	return token, nil
}

// wechatWebhookToken is the token the official account's pushes are signed with:
// WECHAT_TOKEN (or the one saved in the console), else one generated for this desk and kept
// in its database, as twilioWebhookToken.
func wechatWebhookToken(ctx context.Context, cfg config, svc *tickets.Service, log *slog.Logger) (string, error) {
	if cfg.WeChat.Token != "" {
		return cfg.WeChat.Token, nil
	}
	token, err := svc.Setting(ctx, "wechat.webhook_token", func() string { return randomHex(16) })
	if err != nil {
		return "", err
	}
	log.Info("WECHAT_TOKEN is not set: WeChat pushes are verified with a token generated for this desk (go run ./app simulate uses it)")
	return token, nil
}

// emailWebhookSecret is the bearer secret of the email webhook: EMAIL_WEBHOOK_SECRET (or the
// one saved in the console), else one generated for this desk and kept in its database.
func emailWebhookSecret(ctx context.Context, cfg config, svc *tickets.Service, log *slog.Logger) (string, error) {
	if cfg.EmailSecret != "" {
		return cfg.EmailSecret, nil
	}
	secret, err := svc.Setting(ctx, "email.webhook_secret", func() string { return randomHex(24) })
	if err != nil {
		return "", err
	}
	log.Info("EMAIL_WEBHOOK_SECRET is not set: the email webhook takes a secret generated for this desk (go run ./app simulate uses it)")
	return secret, nil
}

// deskID names the desk's database: random, not secret, made on first use. The API sends
// it with /healthz, so that simulate can tell a desk over another database from its own.
func deskID(ctx context.Context, svc *tickets.Service) (string, error) {
	return svc.Setting(ctx, "desk.id", func() string { return randomHex(8) })
}

// emailSender sends replies through SMTP_URL from EMAIL_FROM.
func emailSender(cfg config) (*email.Sender, error) {
	relay, err := transport.NewSender(cfg.SMTPURL)
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	from, err := mail.ParseAddress(cfg.EmailFrom)
	if err != nil {
		return nil, fmt.Errorf("EMAIL_FROM: %w", err)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	return email.NewSender(email.Address{Name: from.Name, Addr: strings.ToLower(from.Address)}, domain, relay.Send, transport.IsPermanent), nil
}

// settingsCursor keeps the IMAP poller's place in the database, so a restart or another
// worker continues where the last poll stopped.
type settingsCursor struct{ svc *tickets.Service }

func (s settingsCursor) key(mailbox string) string { return "imap.cursor." + mailbox }

func (s settingsCursor) Load(ctx context.Context, mailbox string) (transport.Cursor, error) {
	v, err := s.svc.Setting(ctx, s.key(mailbox), func() string { return "0:0" })
	if err != nil {
		return transport.Cursor{}, err
	}
	var c transport.Cursor
	if _, err := fmt.Sscanf(v, "%d:%d", &c.UIDValidity, &c.LastUID); err != nil {
		return transport.Cursor{}, fmt.Errorf("IMAP cursor %q: %w", v, err)
	}
	return c, nil
}

func (s settingsCursor) Save(ctx context.Context, mailbox string, c transport.Cursor) error {
	return s.svc.PutSetting(ctx, s.key(mailbox), fmt.Sprintf("%d:%d", c.UIDValidity, c.LastUID))
}
