package files_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
)

// fakeS3 is an S3-compatible server in this process (gofakes3 over httptest), with what
// the tests look at: the bytes of uploads it has read, and the requests it was sent.
type fakeS3 struct {
	srv       *httptest.Server
	backend   *s3mem.Backend
	dropRange bool         // answer ranged reads with the whole object, as some stores do
	slowDown  atomic.Int32 // refuse this many uploads with 503 Slow Down, after reading them
	received  atomic.Int64
	mu        sync.Mutex
	requests  []*http.Request
}

func newFakeS3(t *testing.T, buckets ...string) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	f.start(t, buckets...)
	return f
}

func (f *fakeS3) start(t *testing.T, buckets ...string) {
	t.Helper()
	for _, b := range buckets {
		if err := f.backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	fake := gofakes3.New(f.backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Clone(context.Background()))
		f.mu.Unlock()
		if r.Body != nil {
			r.Body = countingBody{r.Body, &f.received}
		}
		if f.dropRange {
			r.Header.Del("Range")
		}
		if r.Method == http.MethodPut && f.slowDown.Add(-1) >= 0 {
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
	f.srv.Listener = smallReceiveBuffer{f.srv.Listener}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
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

// url is the FILES_URL of bucket/prefix on the fake.
func (f *fakeS3) url(bucket, prefix string) string {
	return fmt.Sprintf("s3://%s/%s?endpoint=%s&region=us-east-1&path_style=true", bucket, prefix, f.srv.URL)
}

func (f *fakeS3) open(t *testing.T, bucket, prefix string) tickets.FileStore {
	t.Helper()
	s, err := files.Open(context.Background(), f.url(bucket, prefix),
		files.StaticCredentials("AKIDHOTLINETEST", "hotline-test-secret", ""))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// objects lists the names of the objects in bucket.
func (f *fakeS3) objects(t *testing.T, bucket string) []string {
	t.Helper()
	list, err := f.backend.ListBucket(bucket, &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range list.Contents {
		names = append(names, o.Key)
	}
	return names
}

// s3Backend is the S3 store on a fresh fake, under a prefix, with an object of someone
// else's beside the prefix that the store must neither list nor touch.
func s3Backend() backend {
	var f *fakeS3
	const bucket, prefix = "hotline-files", "desk/attachments"
	return backend{
		name: "s3",
		open: func(t *testing.T) tickets.FileStore {
			f = newFakeS3(t, bucket)
			if _, err := f.backend.PutObject(bucket, "other/"+strings.Repeat("a", 64), nil, strings.NewReader("not ours"), 8, nil); err != nil {
				t.Fatal(err)
			}
			return f.open(t, bucket, prefix)
		},
		leftovers: func(t *testing.T) []string {
			var left []string
			for _, name := range f.objects(t, bucket) {
				key, ours := strings.CutPrefix(name, prefix+"/")
				if name == "other/"+strings.Repeat("a", 64) {
					continue
				}
				if !ours || !files.ValidKey(key) {
					left = append(left, name)
				}
			}
			return left
		},
		received: func() int64 { return f.received.Load() },
	}
}

// Each upload names its SHA-256 twice, as the signed payload hash and as the checksum a
// store verifies, with its length and type, in one plain (not aws-chunked) body.
func TestS3PutSendsTheChecksums(t *testing.T) {
	f := newFakeS3(t, "hotline-files")
	s := f.open(t, "hotline-files", "p")
	data, key := content(30, 4096)
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), "audio/mpeg"); err != nil {
		t.Fatal(err)
	}
	sum, _ := hex.DecodeString(key)
	var puts int
	for _, r := range f.sent() {
		if r.Method != http.MethodPut {
			continue
		}
		puts++
		for h, want := range map[string]string{
			"X-Amz-Content-Sha256":  key,
			"X-Amz-Checksum-Sha256": base64.StdEncoding.EncodeToString(sum),
			"Content-Type":          "audio/mpeg",
			"Content-Length":        "4096",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("%s: %q, want %q", h, got, want)
			}
		}
		if r.URL.Path != "/hotline-files/p/"+key {
			t.Errorf("put to %s", r.URL.Path)
		}
		if enc := r.Header.Get("Content-Encoding"); enc != "" {
			t.Errorf("Content-Encoding %q", enc)
		}
		if !strings.Contains(r.Header.Get("Authorization"), "Credential=AKIDHOTLINETEST/") {
			t.Errorf("not signed with the key given: %q", r.Header.Get("Authorization"))
		}
	}
	if puts != 1 {
		t.Fatalf("%d uploads, want 1", puts)
	}
}

func (f *fakeS3) sent() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.requests...)
}

// The credentials come from the SDK's standard variables when none are given.
func TestS3CredentialsFromTheEnvironment(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret-never-shown")
	f := newFakeS3(t, "hotline-files")
	s, err := files.Open(context.Background(), f.url("hotline-files", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(context.Background(), strings.Repeat("b", 64)); !errors.Is(err, tickets.ErrNoFile) {
		t.Fatal(err)
	}
	for _, r := range f.sent() {
		if a := r.Header.Get("Authorization"); !strings.Contains(a, "Credential=AKIDFROMENVIRONMENT/") {
			t.Fatalf("%s %s signed %q, want the environment's key", r.Method, r.URL.Path, a)
		}
	}
}

// isolateAWS keeps the developer's own AWS settings and files out of a test.
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CA_BUNDLE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// Opening a bucket that does not answer fails at once, naming FILES_URL and the bucket,
// never the secret; without an endpoint a region is required.
func TestS3OpenErrors(t *testing.T) {
	isolateAWS(t)
	f := newFakeS3(t, "hotline-files")
	_, err := files.Open(context.Background(), f.url("no-such-bucket", "p"), files.StaticCredentials("AKIDHOTLINETEST", "secret-never-shown", ""))
	if err == nil || !strings.Contains(err.Error(), "FILES_URL") || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("a missing bucket: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "secret-never-shown") {
		t.Errorf("the error shows the secret: %v", err)
	}
	_, err = files.Open(context.Background(), "s3://hotline-files/p", files.StaticCredentials("AKIDHOTLINETEST", "secret-never-shown", ""))
	if err == nil || !strings.Contains(err.Error(), "region") {
		t.Errorf("no region and no endpoint: %v", err)
	}
}

// A stored key put again has its time refreshed (a copy onto itself), so a sweep of old
// unreferenced files, going by Walk's times, spares the file a new message has just been
// given; its type is kept.
func TestS3PutAgainRefreshesTime(t *testing.T) {
	clock := gofakes3.FixedTimeSource(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	f := &fakeS3{}
	f.backend = s3mem.New(s3mem.WithTimeSource(clock))
	f.start(t, "hotline-files")
	s := f.open(t, "hotline-files", "p")
	data, key := content(31, 2000)
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	first := walk(t, s)[0].written
	clock.Advance(72 * time.Hour)
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
		t.Fatal(err)
	}
	if again := walk(t, s)[0].written; again.Sub(first) != 72*time.Hour {
		t.Fatalf("written %v, then %v after putting again 72h later", first, again)
	}
	obj, err := f.backend.HeadObject("hotline-files", "p/"+key)
	if err != nil {
		t.Fatal(err)
	}
	if ct := obj.Metadata["Content-Type"]; ct != "image/jpeg" {
		t.Errorf("type after the refresh: %q", ct)
	}
}

// A store that ignores Range and answers with the whole object still gives the caller
// the bytes it asked for.
func TestS3RangeIgnoredByTheStore(t *testing.T) {
	f := &fakeS3{backend: s3mem.New(), dropRange: true}
	f.start(t, "hotline-files")
	s := f.open(t, "hotline-files", "")
	data, key := content(32, 10_000)
	put(t, s, key, data)
	for _, c := range [][2]int64{{0, 10}, {5000, 100}, {9990, -1}, {9990, 500}} {
		got, err := read(t, s, key, c[0], c[1])
		end := int64(len(data))
		if c[1] >= 0 && c[0]+c[1] < end {
			end = c[0] + c[1]
		}
		if err != nil || !bytes.Equal(got, data[c[0]:end]) {
			t.Errorf("open%v: %d bytes, %v", c, len(got), err)
		}
	}
	if _, err := read(t, s, key, 20_000, -1); !errors.Is(err, files.ErrRange) {
		t.Errorf("past the end: %v", err)
	}
}

// Virtual-hosted addressing (AWS, Aliyun OSS, Tencent COS) puts the bucket in the host;
// path-style (MinIO, most imitators) puts it in the path.
func TestS3Addressing(t *testing.T) {
	isolateAWS(t)
	cases := []struct {
		url, host, path string
	}{
		{"s3://desk/hotline?endpoint=https://oss-cn-hangzhou.aliyuncs.com&region=oss-cn-hangzhou", "desk.oss-cn-hangzhou.aliyuncs.com", "/hotline/"},
		{"s3://desk-1250000000/h?endpoint=https://cos.ap-guangzhou.myqcloud.com&region=ap-guangzhou", "desk-1250000000.cos.ap-guangzhou.myqcloud.com", "/h/"},
		{"s3://desk/h?region=eu-west-1", "desk.s3.eu-west-1.amazonaws.com", "/h/"},
		{"s3://desk/h?endpoint=https://minio.internal:9000&path_style=true", "minio.internal:9000", "/desk/h/"},
	}
	for _, c := range cases {
		var rt recorder
		s, err := files.Open(context.Background(), c.url, files.HTTPClient(&http.Client{Transport: &rt}),
			files.StaticCredentials("AKIDHOTLINETEST", "secret", ""))
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		key := strings.Repeat("c", 64)
		if _, err := s.Stat(context.Background(), key); !errors.Is(err, tickets.ErrNoFile) {
			t.Fatalf("%s: stat: %v", c.url, err)
		}
		last := rt.reqs[len(rt.reqs)-1]
		if last.URL.Host != c.host || last.URL.Path != c.path+key || last.URL.Scheme != "https" {
			t.Errorf("%s: asked %s, want https://%s%s", c.url, last.URL, c.host, c.path+key)
		}
	}
}

// recorder answers every request as a store would with no objects: the bucket is there,
// no key is.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	status := http.StatusOK
	if strings.Contains(req.URL.Path, strings.Repeat("c", 64)) {
		status = http.StatusNotFound
	}
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: req}, nil
}

// An upload the store refuses for a while (503 Slow Down) is sent again when its bytes
// can be read again, checked afresh each time; one that cannot fails, leaving nothing.
func TestS3PutRetriesWhatCanBeReadAgain(t *testing.T) {
	f := newFakeS3(t, "hotline-files")
	s := f.open(t, "hotline-files", "p")
	data, key := content(33, 100_000)
	f.slowDown.Store(1)
	src := &countingSeeker{Reader: bytes.NewReader(data)}
	if err := s.Put(context.Background(), key, src, int64(len(data)), ""); err != nil {
		t.Fatalf("put after a 503: %v", err)
	}
	if got, err := read(t, s, key, 0, -1); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	if n := src.n; n != 2*int64(len(data)) {
		t.Errorf("the source was read for %d bytes, want two sends of %d", n, len(data))
	}

	other, otherKey := content(34, 100_000)
	f.slowDown.Store(1)
	err := s.Put(context.Background(), otherKey, struct{ io.Reader }{bytes.NewReader(other)}, int64(len(other)), "")
	if err == nil {
		t.Fatal("an upload that cannot be read again succeeded after a 503")
	}
	if _, err := s.Stat(context.Background(), otherKey); !errors.Is(err, tickets.ErrNoFile) {
		t.Errorf("stat after the failed put: %v", err)
	}
}

type countingSeeker struct {
	*bytes.Reader
	n int64
}

func (c *countingSeeker) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	c.n += int64(n)
	return n, err
}
