// Package filestest gives tests the file stores of tickets/files: a directory of the
// test's own, and an S3-compatible server in the test's process (gofakes3 over httptest)
// with what tests look at: the bytes of uploads it has read, the requests it was sent,
// and ways to misbehave as real stores do (ignoring Range, answering a longer range,
// refusing uploads for a while).
package filestest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/hotlinedesk/hotline/tickets/files"
)

// Local is a local store in a directory the test removes when it ends.
func Local(t testing.TB) *files.Local {
	t.Helper()
	s, err := files.NewLocal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// S3 is an S3-compatible server for one test.
type S3 struct {
	// Backend holds the buckets and objects, for a test to look into or change.
	Backend *s3mem.Backend
	// DropRange, when set, answers ranged reads with the whole object, as some stores do.
	DropRange atomic.Bool
	// LongRange, when set, answers a ranged read from its first byte to the object's end,
	// a longer range than asked (with its Content-Range), as a faulty store or proxy might.
	LongRange atomic.Bool
	// SlowDown is how many uploads to refuse with 503 Slow Down (after reading them).
	SlowDown atomic.Int32

	srv      *httptest.Server
	received atomic.Int64
	mu       sync.Mutex
	requests []*http.Request
}

// NewS3 starts a server holding the empty buckets named, stopped when the test ends.
func NewS3(t testing.TB, buckets ...string) *S3 {
	return NewS3At(t, nil, buckets...)
}

// NewS3At is NewS3 whose objects are written at clock's times (nil: the real time).
func NewS3At(t testing.TB, clock gofakes3.TimeSource, buckets ...string) *S3 {
	t.Helper()
	var opts []s3mem.Option
	if clock != nil {
		opts = append(opts, s3mem.WithTimeSource(clock))
	}
	s := &S3{Backend: s3mem.New(opts...)}
	for _, b := range buckets {
		if err := s.Backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	fake := gofakes3.New(s.Backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		if r.Body != nil {
			r.Body = countingBody{r.Body, &s.received}
		}
		if s.DropRange.Load() {
			r.Header.Del("Range")
		}
		if rng := r.Header.Get("Range"); s.LongRange.Load() && rng != "" {
			if first, _, ok := strings.Cut(rng, "-"); ok {
				r.Header.Set("Range", first+"-")
			}
		}
		if r.Method == http.MethodPut && s.SlowDown.Add(-1) >= 0 {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	// A small receive buffer, fixed (the kernel would grow it to tens of MB): what the
	// server has read is then close to what the client has sent.
	s.srv.Listener = smallReceiveBuffer{s.srv.Listener}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// Endpoint is the server's address, http://127.0.0.1:port.
func (s *S3) Endpoint() string { return s.srv.URL }

// URL is the FILES_URL of bucket/prefix on the server (path-style).
func (s *S3) URL(bucket, prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&region=us-east-1&path_style=true", bucket, prefix, s.srv.URL)
}

// Options are what files.Open needs besides URL: the test's access key, so the
// developer's own AWS settings play no part.
func (s *S3) Options() []files.Option {
	return []files.Option{files.StaticCredentials("AKIDHOTLINETEST", "hotline-test-secret", "")}
}

// Open opens the store in bucket/prefix.
func (s *S3) Open(t testing.TB, bucket, prefix string) *files.S3 {
	t.Helper()
	st, err := files.Open(context.Background(), s.URL(bucket, prefix), s.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	return st.(*files.S3)
}

// Received is how many bytes of request bodies the server has read.
func (s *S3) Received() int64 { return s.received.Load() }

// Requests are the requests the server was sent, in order (without their bodies).
func (s *S3) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// Objects lists the names of the objects in bucket.
func (s *S3) Objects(t testing.TB, bucket string) []string {
	t.Helper()
	list, err := s.Backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range list.Contents {
		names = append(names, o.Key)
	}
	return names
}

type smallReceiveBuffer struct{ net.Listener }

func (l smallReceiveBuffer) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		if err := tc.SetReadBuffer(64 << 10); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}
