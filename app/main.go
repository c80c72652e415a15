// Command hotline runs the Hotline support and complaint desk.
//
//	hotline [serve] [--demo]   run the API and the job worker (the default)
//	hotline migrate            apply database migrations and exit
//	hotline demo               seed demo teams, agents and tickets and exit
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/jobs"
	"github.com/hotlinedesk/hotline/migrations"
	"github.com/hotlinedesk/hotline/tickets"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotline:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	demo := fs.Bool("demo", false, "seed demo teams, agents and tickets before serving")
	if err := fs.Parse(args); err != nil {
		return err
	}

	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := tickets.NewService(db, tickets.SystemClock{}, tickets.Config{
		DefaultCountry: cfg.DefaultCountry,
		SLA:            cfg.SLA,
		Calendar:       tickets.NewCalendar(cfg.CalendarZone, cfg.WorkOpen, cfg.WorkShut, log),
	}, log)
	if err := svc.SeedHolidays(ctx); err != nil {
		return err
	}

	switch cmd {
	case "migrate":
		return nil // openDatabase migrated
	case "demo":
		return seedDemo(ctx, svc, log)
	case "serve":
		if *demo {
			if err := seedDemo(ctx, svc, log); err != nil {
				return err
			}
		}
		return serve(ctx, cfg, svc, log)
	}
	return fmt.Errorf("unknown command %q (serve, migrate, demo)", cmd)
}

// openDatabase opens and migrates the database.
func openDatabase(ctx context.Context, cfg config, log *slog.Logger) (*bun.DB, error) {
	db, err := tickets.OpenDB(cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := migrations.Up(ctx, db, log); err != nil {
		db.Close()
		return nil, err
	}
	log.Info("database ready", "dialect", db.Dialect().Name().String())
	return db, nil
}

func serve(ctx context.Context, cfg config, svc *tickets.Service, log *slog.Logger) error {
	created, password, err := svc.EnsureAdmin(ctx, cfg.AdminEmail, cfg.AdminPassword)
	if err != nil {
		return err
	}
	if created && password != "" {
		log.Warn("created the first admin with a generated password; sign in and change it",
			"email", cfg.AdminEmail, "password", password)
	} else if created {
		log.Info("created the first admin", "email", cfg.AdminEmail)
	}

	broker, err := jobs.OpenBroker(cfg.RedisURL, log)
	if err != nil {
		return err
	}
	defer broker.Close()
	scheduler := jobs.NewScheduler(broker)
	defer scheduler.Close()
	svc.SetScheduler(scheduler)

	mux := asynq.NewServeMux()
	jobs.NewHandlers(svc, log).Register(mux)
	worker := jobs.NewServer(broker, cfg.Concurrency, log)
	if err := worker.Start(mux); err != nil {
		return fmt.Errorf("start job worker: %w", err)
	}
	defer worker.Shutdown()
	reconcileCtx, stopReconciler := context.WithCancel(ctx)
	defer stopReconciler()
	go jobs.RunReconciler(reconcileCtx, broker, cfg.Reconcile, log)

	app := api.New(api.Config{
		Service:        svc,
		Log:            log,
		TrustedProxies: cfg.TrustedProxies,
		Ready: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := svc.Ping(ctx); err != nil {
				return fmt.Errorf("database: %w", err)
			}
			return broker.Ping(ctx)
		},
	})
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(cfg.Addr) }()
	log.Info("Hotline is listening", "addr", cfg.Addr)

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	if err := app.ShutdownWithTimeout(15 * time.Second); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("shut down http server: %w", err)
	}
	return nil
}
