package files_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
)

// backend is one kind of store the conformance suite runs against.
type backend struct {
	name string
	// open returns an empty store.
	open func(t *testing.T) tickets.FileStore
	// leftovers lists whatever the store holds beside its keys' files (temporary files,
	// objects outside the key layout): a refused Put must leave none.
	leftovers func(t *testing.T) []string
	// received, when set, is how many bytes of uploads the store's server has read so
	// far; a streamed Put must never run far ahead of it.
	received func() int64
	// allocBound, when positive, bounds the bytes the Go heap may allocate while a 20 MB
	// file is put and read back (a store wholly in this process; the fake S3 server
	// keeps what it is sent in memory, so there only reading back is bounded).
	allocBound uint64
}

// The conformance suite: what every back end must do, run against each.
func TestConformance(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range conformance {
				t.Run(c.name, func(t *testing.T) {
					c.run(t, b, b.open(t))
				})
			}
		})
	}
}

// content returns n deterministic bytes and their key.
func content(seed uint64, n int) ([]byte, string) {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b, keyOf(b)
}

func keyOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func put(t *testing.T, s tickets.FileStore, key string, b []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(b), int64(len(b)), "application/octet-stream"); err != nil {
		t.Fatalf("put %s: %v", key[:8], err)
	}
}

func read(t *testing.T, s tickets.FileStore, key string, off, n int64) ([]byte, error) {
	t.Helper()
	rc, err := s.Open(context.Background(), key, off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

type walked struct {
	key     string
	size    int64
	written time.Time
}

func walk(t *testing.T, s tickets.FileStore) []walked {
	t.Helper()
	var got []walked
	if err := s.Walk(context.Background(), func(key string, size int64, written time.Time) error {
		got = append(got, walked{key, size, written})
		return nil
	}); err != nil {
		t.Fatalf("walk: %v", err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].key < got[j].key })
	return got
}

// expectEmpty fails unless key is absent and the store holds nothing beside its files.
func expectAbsent(t *testing.T, b backend, s tickets.FileStore, key string) {
	t.Helper()
	if _, err := s.Stat(context.Background(), key); !errors.Is(err, tickets.ErrNoFile) {
		t.Errorf("stat after a refused put: %v, want ErrNoFile", err)
	}
	if _, err := read(t, s, key, 0, -1); !errors.Is(err, tickets.ErrNoFile) {
		t.Errorf("open after a refused put: %v, want ErrNoFile", err)
	}
	if left := b.leftovers(t); len(left) > 0 {
		t.Errorf("a refused put left %v", left)
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// generator yields n deterministic bytes once, made as they are read (never held
// whole), and reports any read that runs more than maxAhead bytes past what the store has
// received.
type generator struct {
	rng      *rand.Rand
	left     int64
	produced int64
	received func() int64
	maxAhead int64
	ahead    int64 // the most seen
	eofs     int
}

func newGenerator(seed uint64, n int64) *generator {
	return &generator{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), left: n}
}

func (g *generator) Read(p []byte) (int, error) {
	if g.left == 0 {
		g.eofs++
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	for i := range p {
		p[i] = byte(g.rng.Uint32())
	}
	g.left -= int64(len(p))
	g.produced += int64(len(p))
	if g.received != nil {
		if a := g.produced - g.received(); a > g.ahead {
			g.ahead = a
		}
	}
	return len(p), nil
}

func generatedKey(seed uint64, n int64) string {
	h := sha256.New()
	if _, err := io.Copy(h, newGenerator(seed, n)); err != nil {
		panic(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

var badKeys = []struct{ name, key string }{
	{"empty", ""},
	{"traversal", "../../../../etc/passwd"},
	{"traversal padded to 64", "../../" + strings.Repeat("a", 58)},
	{"slash inside", strings.Repeat("a", 30) + "/" + strings.Repeat("b", 33)},
	{"upper-case hex", strings.Repeat("A", 64)},
	{"63 digits", strings.Repeat("a", 63)},
	{"65 digits", strings.Repeat("a", 65)},
	{"not hex", strings.Repeat("g", 64)},
	{"dot files", strings.Repeat(".", 64)},
	{"nul", strings.Repeat("a", 63) + "\x00"},
	{"backslash", `..\..\` + strings.Repeat("a", 58)},
}

var conformance = []struct {
	name string
	run  func(t *testing.T, b backend, s tickets.FileStore)
}{
	{"put then stat, open and walk", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(1, 100_000)
		before := time.Now().Add(-time.Minute)
		put(t, s, key, data)
		if n, err := s.Stat(context.Background(), key); err != nil || n != int64(len(data)) {
			t.Fatalf("stat: %d, %v; want %d", n, err, len(data))
		}
		got, err := read(t, s, key, 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("open: %d bytes, %v; want the %d put", len(got), err, len(data))
		}
		w := walk(t, s)
		if len(w) != 1 || w[0].key != key || w[0].size != int64(len(data)) {
			t.Fatalf("walk: %+v; want the one file", w)
		}
		if w[0].written.Before(before) || w[0].written.After(time.Now().Add(time.Minute)) {
			t.Errorf("walk: written %v, want about now", w[0].written)
		}
	}},
	{"an empty file", func(t *testing.T, b backend, s tickets.FileStore) {
		key := keyOf(nil)
		put(t, s, key, nil)
		if n, err := s.Stat(context.Background(), key); err != nil || n != 0 {
			t.Fatalf("stat: %d, %v", n, err)
		}
		if got, err := read(t, s, key, 0, -1); err != nil || len(got) != 0 {
			t.Fatalf("open: %q, %v", got, err)
		}
	}},
	{"the same file twice is stored once and not sent again", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(2, 5000)
		put(t, s, key, data)
		again := &countingReader{r: bytes.NewReader(data)}
		if err := s.Put(context.Background(), key, again, int64(len(data)), "image/png"); err != nil {
			t.Fatalf("second put: %v", err)
		}
		if n := again.n.Load(); n != 0 {
			t.Errorf("the second put read %d bytes of a file already stored", n)
		}
		if w := walk(t, s); len(w) != 1 {
			t.Fatalf("walk: %d files, want 1", len(w))
		}
		// A stored key given with another size cannot be its bytes.
		longer := append(append([]byte(nil), data...), 0)
		if err := s.Put(context.Background(), key, bytes.NewReader(longer), int64(len(longer)), ""); !errors.Is(err, files.ErrMismatch) {
			t.Errorf("a stored key with another size: %v, want ErrMismatch", err)
		}
		if got, err := read(t, s, key, 0, -1); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("open: %v", err)
		}
	}},
	{"bytes that do not match the key or the size are refused and leave nothing", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(3, 70_000)
		other, _ := content(4, 70_000)
		cases := []struct {
			name string
			body []byte
			size int64
		}{
			{"other bytes", other, int64(len(other))},
			{"one byte changed at the end", append(append([]byte(nil), data[:len(data)-1]...), data[len(data)-1]^1), int64(len(data))},
			{"shorter than stated", data[:len(data)-1], int64(len(data))},
			{"longer than stated", append(append([]byte(nil), data...), 'x'), int64(len(data))},
			{"stated too short", data, int64(len(data)) - 1},
			{"nothing", nil, int64(len(data))},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				err := s.Put(context.Background(), key, bytes.NewReader(c.body), c.size, "text/plain")
				if !errors.Is(err, files.ErrMismatch) {
					t.Fatalf("put: %v, want ErrMismatch", err)
				}
				expectAbsent(t, b, s, key)
			})
		}
		if err := s.Put(context.Background(), key, bytes.NewReader(data), -1, "text/plain"); err == nil {
			t.Fatal("a negative size was taken")
		}
		expectAbsent(t, b, s, key)
		put(t, s, key, data) // and the right bytes still go in
	}},
	{"a reader that fails leaves nothing", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(5, 50_000)
		boom := errors.New("the upload broke")
		r := io.MultiReader(bytes.NewReader(data[:20_000]), iotestErr{boom})
		if err := s.Put(context.Background(), key, r, int64(len(data)), ""); err == nil {
			t.Fatal("put of a broken reader succeeded")
		}
		expectAbsent(t, b, s, key)
	}},
	{"a cancelled context leaves nothing", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(6, 50_000)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Put(ctx, key, bytes.NewReader(data), int64(len(data)), ""); !errors.Is(err, context.Canceled) {
			t.Fatalf("put: %v, want context.Canceled", err)
		}
		expectAbsent(t, b, s, key)
	}},
	{"a context cancelled while writing leaves nothing", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(13, 1<<20)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := io.MultiReader(bytes.NewReader(data[:64<<10]), cancelling{cancel}, bytes.NewReader(data[64<<10:]))
		if err := s.Put(ctx, key, r, int64(len(data)), ""); !errors.Is(err, context.Canceled) {
			t.Fatalf("put: %v, want context.Canceled", err)
		}
		expectAbsent(t, b, s, key)
	}},
	{"ranges", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(7, 10_000)
		put(t, s, key, data)
		size := int64(len(data))
		cases := []struct {
			name        string
			off, length int64
			want        []byte
		}{
			{"whole", 0, -1, data},
			{"whole by length", 0, size, data},
			{"start", 0, 100, data[:100]},
			{"middle", 4000, 1234, data[4000:5234]},
			{"end, open-ended", size - 10, -1, data[size-10:]},
			{"end, length past it", size - 10, 500, data[size-10:]},
			{"last byte", size - 1, 1, data[size-1:]},
			{"zero length", 10, 0, nil},
			{"at the end", size, -1, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := read(t, s, key, c.off, c.length)
				if err != nil {
					t.Fatalf("open(%d, %d): %v", c.off, c.length, err)
				}
				if !bytes.Equal(got, c.want) {
					t.Fatalf("open(%d, %d): %d bytes, want %d", c.off, c.length, len(got), len(c.want))
				}
			})
		}
		for _, off := range []int64{size + 1, size + 1<<20} {
			if _, err := read(t, s, key, off, -1); !errors.Is(err, files.ErrRange) {
				t.Errorf("open past the end (%d of %d): %v, want ErrRange", off, size, err)
			}
		}
		if _, err := read(t, s, key, -1, 10); err == nil {
			t.Error("a negative offset was taken")
		}
		if _, err := read(t, s, key, 0, -2); err == nil {
			t.Error("a length of -2 was taken")
		}
	}},
	{"an absent key", func(t *testing.T, b backend, s tickets.FileStore) {
		_, key := content(8, 10)
		if _, err := s.Stat(context.Background(), key); !errors.Is(err, tickets.ErrNoFile) {
			t.Errorf("stat: %v, want ErrNoFile", err)
		}
		for _, r := range [][2]int64{{0, -1}, {5, 2}} {
			if _, err := read(t, s, key, r[0], r[1]); !errors.Is(err, tickets.ErrNoFile) {
				t.Errorf("open%v: %v, want ErrNoFile", r, err)
			}
		}
	}},
	{"delete, and delete again", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(9, 3000)
		keep, keepKey := content(10, 3000)
		put(t, s, key, data)
		put(t, s, keepKey, keep)
		if err := s.Delete(context.Background(), key); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := s.Stat(context.Background(), key); !errors.Is(err, tickets.ErrNoFile) {
			t.Errorf("stat after delete: %v", err)
		}
		if _, err := read(t, s, key, 0, -1); !errors.Is(err, tickets.ErrNoFile) {
			t.Errorf("open after delete: %v", err)
		}
		if err := s.Delete(context.Background(), key); err != nil {
			t.Errorf("delete of an absent key: %v", err)
		}
		if w := walk(t, s); len(w) != 1 || w[0].key != keepKey {
			t.Errorf("walk after delete: %+v, want only the other file", w)
		}
		put(t, s, key, data) // a deleted key can be put again
		if got, err := read(t, s, key, 0, -1); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("open after putting again: %v", err)
		}
	}},
	{"walk lists every file and stops at an error", func(t *testing.T, b backend, s tickets.FileStore) {
		want := map[string]int64{}
		for i := range 7 {
			data, key := content(uint64(100+i), 100*(i+1))
			put(t, s, key, data)
			want[key] = int64(len(data))
		}
		got := map[string]int64{}
		for _, w := range walk(t, s) {
			got[w.key] = w.size
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("walk: %v\nwant %v", got, want)
		}
		stop := errors.New("enough")
		calls := 0
		err := s.Walk(context.Background(), func(string, int64, time.Time) error { calls++; return stop })
		if !errors.Is(err, stop) || calls != 1 {
			t.Fatalf("walk stopped with %v after %d calls, want fn's error after 1", err, calls)
		}
	}},
	{"concurrent puts of one key, good and bad", func(t *testing.T, b backend, s tickets.FileStore) {
		data, key := content(11, 300_000)
		bad := append(append([]byte(nil), data[:len(data)-1]...), data[len(data)-1]^0xff)
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Go(func() {
				body := data
				if i%2 == 1 {
					body = bad
				}
				errs[i] = s.Put(context.Background(), key, bytes.NewReader(body), int64(len(body)), "")
			})
		}
		wg.Wait()
		for i, err := range errs {
			if i%2 == 0 && err != nil {
				t.Errorf("put %d (the right bytes): %v", i, err)
			}
			if i%2 == 1 && err != nil && !errors.Is(err, files.ErrMismatch) {
				t.Errorf("put %d (wrong bytes): %v, want ErrMismatch or (the key already stored) nil", i, err)
			}
		}
		if got, err := read(t, s, key, 0, -1); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("after the race the file is %d bytes, %v; want the right %d", len(got), err, len(data))
		}
		if w := walk(t, s); len(w) != 1 {
			t.Errorf("walk: %d files, want 1", len(w))
		}
		if left := b.leftovers(t); len(left) > 0 {
			t.Errorf("the race left %v", left)
		}
	}},
	{"20 MB streams through, never held whole", func(t *testing.T, b backend, s tickets.FileStore) {
		const n = 20 << 20
		key := generatedKey(12, n)
		g := newGenerator(12, n)
		g.received = b.received
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		if err := s.Put(context.Background(), key, g, n, "video/mp4"); err != nil {
			t.Fatalf("put: %v", err)
		}
		if g.produced != n {
			t.Fatalf("put read %d bytes of %d", g.produced, n)
		}
		if b.received != nil {
			// Between the two: the client's socket send buffer (at most 4 MB on Linux
			// by default) and the server's small fixed receive buffer.
			if g.ahead > 8<<20 {
				t.Errorf("the upload ran %d bytes ahead of what the store received: it is buffered", g.ahead)
			}
			t.Logf("the upload ran at most %d KB ahead of what the store received", g.ahead>>10)
		}
		var mid runtime.MemStats
		runtime.ReadMemStats(&mid)
		rc, err := s.Open(context.Background(), key, 0, -1)
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		h := sha256.New()
		buf := make([]byte, 32<<10)
		m, err := io.CopyBuffer(h, struct{ io.Reader }{rc}, buf)
		rc.Close()
		if err != nil || m != n || hex.EncodeToString(h.Sum(nil)) != key {
			t.Fatalf("read back %d bytes, %v, hash matches: %v", m, err, hex.EncodeToString(h.Sum(nil)) == key)
		}
		runtime.ReadMemStats(&after)
		// Every store reads back through the caller's buffer: what is allocated (by the
		// client, and the fake server beside it) is buffers, never the file.
		if alloc := after.TotalAlloc - mid.TotalAlloc; alloc > 2<<20 {
			t.Errorf("reading 20 MB back allocated %d bytes: the file is buffered", alloc)
		} else {
			t.Logf("reading 20 MB back allocated %d KB", alloc>>10)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; b.allocBound > 0 && alloc > b.allocBound {
			t.Errorf("putting and reading 20 MB allocated %d bytes, bound %d: the file is buffered", alloc, b.allocBound)
		} else if b.allocBound > 0 {
			t.Logf("putting and reading 20 MB allocated %d KB", alloc>>10)
		}
		// A middle range of the large file, as a player seeks.
		rc, err = s.Open(context.Background(), key, 15<<20, 1<<20)
		if err != nil {
			t.Fatalf("open a range: %v", err)
		}
		part, err := io.ReadAll(rc)
		rc.Close()
		whole := make([]byte, 16<<20)
		if _, err := io.ReadFull(newGenerator(12, n), whole); err != nil {
			t.Fatal(err)
		}
		if err != nil || !bytes.Equal(part, whole[15<<20:16<<20]) {
			t.Fatalf("range of the large file: %d bytes, %v", len(part), err)
		}
	}},
	{"keys are never paths", func(t *testing.T, b backend, s tickets.FileStore) {
		ctx := context.Background()
		for _, k := range badKeys {
			t.Run(k.name, func(t *testing.T) {
				if err := s.Put(ctx, k.key, strings.NewReader("x"), 1, ""); !errors.Is(err, files.ErrBadKey) {
					t.Errorf("put: %v", err)
				}
				if _, err := s.Open(ctx, k.key, 0, -1); !errors.Is(err, files.ErrBadKey) {
					t.Errorf("open: %v", err)
				}
				if _, err := s.Stat(ctx, k.key); !errors.Is(err, files.ErrBadKey) {
					t.Errorf("stat: %v", err)
				}
				if err := s.Delete(ctx, k.key); !errors.Is(err, files.ErrBadKey) {
					t.Errorf("delete: %v", err)
				}
			})
		}
		if left := b.leftovers(t); len(left) > 0 {
			t.Errorf("bad keys left %v", left)
		}
		if w := walk(t, s); len(w) != 0 {
			t.Errorf("bad keys stored %v", w)
		}
	}},
}

// cancelling cancels a context when it is read, and yields nothing.
type cancelling struct{ cancel context.CancelFunc }

func (c cancelling) Read([]byte) (int, error) { c.cancel(); return 0, io.EOF }

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }
