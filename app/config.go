package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// config is everything Hotline reads from its environment.
type config struct {
	Addr           string   // HOTLINE_ADDR
	DatabaseURL    string   // DATABASE_URL; empty: SQLite file hotline.db
	RedisURL       string   // REDIS_URL; empty: embedded broker
	AdminEmail     string   // HOTLINE_ADMIN_EMAIL
	AdminPassword  string   // HOTLINE_ADMIN_PASSWORD
	DefaultCountry string   // HOTLINE_DEFAULT_COUNTRY
	TrustedProxies []string // HOTLINE_TRUSTED_PROXIES
	LogLevel       slog.Level
	Concurrency    int // HOTLINE_WORKER_CONCURRENCY
}

func loadConfig() (config, error) {
	c := config{
		Addr:           env("HOTLINE_ADDR", ":8080"),
		DatabaseURL:    env("DATABASE_URL", "sqlite:hotline.db"),
		RedisURL:       os.Getenv("REDIS_URL"),
		AdminEmail:     env("HOTLINE_ADMIN_EMAIL", "admin@hotline.local"),
		AdminPassword:  os.Getenv("HOTLINE_ADMIN_PASSWORD"),
		DefaultCountry: env("HOTLINE_DEFAULT_COUNTRY", "86"),
		Concurrency:    20,
	}
	if v := os.Getenv("HOTLINE_TRUSTED_PROXIES"); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if err := c.LogLevel.UnmarshalText([]byte(env("HOTLINE_LOG_LEVEL", "info"))); err != nil {
		return c, fmt.Errorf("HOTLINE_LOG_LEVEL: %w", err)
	}
	if v := os.Getenv("HOTLINE_WORKER_CONCURRENCY"); v != "" {
		if _, err := fmt.Sscan(v, &c.Concurrency); err != nil || c.Concurrency < 1 {
			return c, fmt.Errorf("HOTLINE_WORKER_CONCURRENCY must be a positive number, not %q", v)
		}
	}
	for _, d := range c.DefaultCountry {
		if d < '0' || d > '9' {
			return c, fmt.Errorf("HOTLINE_DEFAULT_COUNTRY must be a calling code such as 86, not %q", c.DefaultCountry)
		}
	}
	return c, nil
}

func env(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}
