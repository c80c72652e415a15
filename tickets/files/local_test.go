package files_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
)

// localBackend is the store in a directory of the test's own.
func localBackend() backend {
	var dir string
	return backend{
		name: "local",
		open: func(t *testing.T) tickets.FileStore {
			dir = t.TempDir()
			s, err := files.Open(context.Background(), "file://"+dir)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		leftovers: func(t *testing.T) []string { return localLeftovers(t, dir) },
		// A 20 MB file put and read back through 32 KB buffers: what is allocated is the
		// copy buffers, never the file.
		allocBound: 2 << 20,
	}
}

// localLeftovers lists the files under dir that are not a key's file in its place.
func localLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	var left []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		name := d.Name()
		if !files.ValidKey(name) || rel != filepath.Join(name[:2], name[2:4], name) {
			left = append(left, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return left
}

func TestLocalModesAndLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "files")
	s, err := files.NewLocal(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	data, key := content(20, 1000)
	put(t, s, key, data)
	for _, c := range []struct {
		path string
		mode fs.FileMode
	}{
		{dir, 0o700 | fs.ModeDir},
		{filepath.Join(dir, key[:2]), 0o700 | fs.ModeDir},
		{filepath.Join(dir, key[:2], key[2:4]), 0o700 | fs.ModeDir},
		{filepath.Join(dir, key[:2], key[2:4], key), 0o600},
	} {
		st, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode() != c.mode {
			t.Errorf("%s: mode %v, want %v", c.path, st.Mode(), c.mode)
		}
	}
}

// A temporary file a dead Put left is removed by Walk once it is a day old; a recent one
// (a Put under way) is left; stray files are passed over, not reported nor removed.
func TestLocalWalkCleansAbandonedTempFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s, err := files.NewLocal(dir, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	data, key := content(21, 1000)
	put(t, s, key, data)
	sub := filepath.Join(dir, key[:2], key[2:4])
	write := func(path string, age time.Duration) {
		if err := os.WriteFile(path, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	old := filepath.Join(sub, ".tmp-old")
	fresh := filepath.Join(sub, ".tmp-fresh")
	stray := filepath.Join(dir, "README")
	misplaced := filepath.Join(sub, strings.Repeat("0", 64)) // a key outside its own directory
	write(old, 25*time.Hour)
	write(fresh, time.Hour)
	write(stray, 48*time.Hour)
	write(misplaced, 48*time.Hour)
	if err := os.MkdirAll(filepath.Join(dir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(dir, "lost+found", key), 0)

	w := walk(t, s)
	if len(w) != 1 || w[0].key != key {
		t.Fatalf("walk: %+v, want only the stored file", w)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("a day-old temporary file is still there (%v)", err)
	}
	for _, p := range []string{fresh, stray, misplaced} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", filepath.Base(p), err)
		}
	}
}

// Putting a stored key again refreshes its time, so a sweep of old unreferenced files,
// going by Walk's times, spares a file a new message has just been given.
func TestLocalPutAgainRefreshesTime(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	s, err := files.NewLocal(t.TempDir(), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	data, key := content(22, 1000)
	put(t, s, key, data)
	path := filepath.Join(s.Dir(), key[:2], key[2:4], key)
	if err := os.Chtimes(path, now.Add(-72*time.Hour), now.Add(-72*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if w := walk(t, s); !w[0].written.Equal(now.Add(-72 * time.Hour)) {
		t.Fatalf("walk: written %v", w[0].written)
	}
	put(t, s, key, data)
	if w := walk(t, s); !w[0].written.Equal(now) {
		t.Fatalf("after putting again, written %v, want %v", w[0].written, now)
	}
}

// The local URL forms all lead to the same directory.
func TestOpenLocalForms(t *testing.T) {
	base := t.TempDir()
	abs := filepath.Join(base, "abs")
	cases := []struct {
		url  string
		opts []files.Option
		want string
	}{
		{"file://" + abs, nil, abs},
		{"file://localhost" + abs, nil, abs},
		{abs, nil, abs},
		{"file:rel/files", []files.Option{files.BaseDir(base)}, filepath.Join(base, "rel", "files")},
		{"plain/files", []files.Option{files.BaseDir(base)}, filepath.Join(base, "plain", "files")},
		{"./dot/../files", []files.Option{files.BaseDir(base)}, filepath.Join(base, "files")},
	}
	for _, c := range cases {
		s, err := files.Open(context.Background(), c.url, c.opts...)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		l, ok := s.(*files.Local)
		if !ok {
			t.Fatalf("%s: a %T", c.url, s)
		}
		if l.Dir() != c.want {
			t.Errorf("%s: directory %s, want %s", c.url, l.Dir(), c.want)
		}
		if st, err := os.Stat(c.want); err != nil || !st.IsDir() {
			t.Errorf("%s: the directory was not made: %v", c.url, err)
		}
	}
	file := filepath.Join(base, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := files.Open(context.Background(), file); err == nil || !strings.Contains(err.Error(), "FILES_URL") {
		t.Errorf("a file for a directory: %v, want an error naming FILES_URL", err)
	}
}
