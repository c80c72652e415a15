package files_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/files"
	"github.com/hotlinedesk/hotline/tickets/files/filestest"
)

// s3Backend is the S3 store on a fresh fake, under a prefix, with an object of someone
// else's beside the prefix that the store must neither list nor touch.
func s3Backend() backend {
	var f *filestest.S3
	const bucket, prefix = "hotline-files", "desk/attachments"
	return backend{
		name: "s3",
		open: func(t *testing.T) tickets.FileStore {
			f = filestest.NewS3(t, bucket)
			if _, err := f.Backend.PutObject(bucket, "other/"+strings.Repeat("a", 64), nil, strings.NewReader("not ours"), 8, nil); err != nil {
				t.Fatal(err)
			}
			return f.Open(t, bucket, prefix)
		},
		leftovers: func(t *testing.T) []string {
			var left []string
			for _, name := range f.Objects(t, bucket) {
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
		received: func() int64 { return f.Received() },
	}
}

// Each upload names its SHA-256 twice, as the signed payload hash and as the checksum a
// store verifies, with its length and type, in one plain (not aws-chunked) body.
func TestS3PutSendsTheChecksums(t *testing.T) {
	f := filestest.NewS3(t, "hotline-files")
	s := f.Open(t, "hotline-files", "p")
	data, key := content(30, 4096)
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), "audio/mpeg"); err != nil {
		t.Fatal(err)
	}
	sum, _ := hex.DecodeString(key)
	var puts int
	for _, r := range f.Requests() {
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

// The credentials come from the SDK's standard variables when none are given.
func TestS3CredentialsFromTheEnvironment(t *testing.T) {
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret-never-shown")
	f := filestest.NewS3(t, "hotline-files")
	s, err := files.Open(context.Background(), f.URL("hotline-files", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(context.Background(), strings.Repeat("b", 64)); !errors.Is(err, tickets.ErrNoFile) {
		t.Fatal(err)
	}
	for _, r := range f.Requests() {
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
	f := filestest.NewS3(t, "hotline-files")
	_, err := files.Open(context.Background(), f.URL("no-such-bucket", "p"), files.StaticCredentials("AKIDHOTLINETEST", "secret-never-shown", ""))
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
	f := filestest.NewS3At(t, clock, "hotline-files")
	s := f.Open(t, "hotline-files", "p")
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
	obj, err := f.Backend.HeadObject("hotline-files", "p/"+key)
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
	f := filestest.NewS3(t, "hotline-files")
	f.DropRange.Store(true)
	s := f.Open(t, "hotline-files", "")
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

// A store that answers a ranged read with a longer range than asked (from the offset, with
// its Content-Range) gives the caller only the bytes it asked for.
func TestS3LongerRangeFromTheStore(t *testing.T) {
	f := filestest.NewS3(t, "hotline-files")
	f.LongRange.Store(true)
	s := f.Open(t, "hotline-files", "")
	data, key := content(33, 10_000)
	put(t, s, key, data)
	for _, c := range [][2]int64{{0, 10}, {5000, 100}, {9990, 5}, {9990, -1}, {9990, 500}, {1, 9999}} {
		got, err := read(t, s, key, c[0], c[1])
		end := int64(len(data))
		if c[1] >= 0 && c[0]+c[1] < end {
			end = c[0] + c[1]
		}
		if err != nil || !bytes.Equal(got, data[c[0]:end]) {
			t.Errorf("open%v: %d bytes, want %d (%v)", c, len(got), end-c[0], err)
		}
	}
	var ranged int
	for _, r := range f.Requests() {
		if r.Method == http.MethodGet && r.Header.Get("Range") != "" {
			ranged++
		}
	}
	if ranged == 0 {
		t.Fatal("no ranged read reached the store")
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
	f := filestest.NewS3(t, "hotline-files")
	s := f.Open(t, "hotline-files", "p")
	data, key := content(33, 100_000)
	f.SlowDown.Store(1)
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
	f.SlowDown.Store(1)
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

// Walk pages through a listing longer than one answer (S3 gives at most 1,000 names a
// page), and passes over what is not a key under the prefix.
func TestS3WalkPages(t *testing.T) {
	f := filestest.NewS3(t, "hotline-files")
	s := f.Open(t, "hotline-files", "p")
	const n = 2345
	want := map[string]bool{}
	for i := range n {
		key := keyOf([]byte{byte(i), byte(i >> 8)})
		want[key] = true
		if _, err := f.Backend.PutObject("hotline-files", "p/"+key, nil, strings.NewReader("x"), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, other := range []string{"p/notes.txt", "p/" + strings.Repeat("A", 64), "q/" + strings.Repeat("a", 64), "p/sub/" + strings.Repeat("b", 64)} {
		if _, err := f.Backend.PutObject("hotline-files", other, nil, strings.NewReader("x"), 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	got := walk(t, s)
	if len(got) != n {
		t.Fatalf("walk: %d keys, want %d", len(got), n)
	}
	for _, w := range got {
		if !want[w.key] || w.size != 1 {
			t.Fatalf("walk gave %s (%d bytes)", w.key, w.size)
		}
	}
	lists := 0
	for _, r := range f.Requests() {
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			lists++
		}
	}
	if lists < 3 {
		t.Errorf("%d list requests for %d objects: the walk did not page", lists, n)
	}
}
