package bench

import (
	"os"
	"syscall"
)

// fdatasync syncs f's data (not its times), as PostgreSQL's wal_sync_method=fdatasync does.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
