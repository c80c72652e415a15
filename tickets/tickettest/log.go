package tickettest

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/hotlinedesk/hotline/tickets/privacy"
)

var (
	logOnce sync.Once
	logFile *os.File
)

// Logger is the logger every test hands to what it builds: the handler chain app builds in
// production (privacy.LogHandler), writing nowhere, or, when HOTLINE_TEST_LOG_DIR is set
// (.ci/run sets it), at every level to a file there, one a test binary, which
// .ci/logcheck.go then reads for full numbers, message bodies and tokens.
func Logger() *slog.Logger {
	logOnce.Do(func() {
		dir := os.Getenv("HOTLINE_TEST_LOG_DIR")
		if dir == "" {
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(fmt.Sprintf("HOTLINE_TEST_LOG_DIR: %v", err))
		}
		name := fmt.Sprintf("%s-%d.log", filepath.Base(os.Args[0]), os.Getpid())
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			panic(fmt.Sprintf("HOTLINE_TEST_LOG_DIR: %v", err))
		}
		logFile = f
	})
	if logFile == nil {
		return slog.New(privacy.LogHandler(slog.DiscardHandler))
	}
	return slog.New(privacy.LogHandler(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug})))
}
