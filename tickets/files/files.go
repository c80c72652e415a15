// Package files holds Hotline's file stores (tickets.FileStore): a directory on local disk,
// the embedded default beside the SQLite file, and any S3-compatible bucket (AWS S3,
// MinIO, Aliyun OSS, Tencent COS through their S3 APIs). Open picks one from the URL an
// operator gives in FILES_URL; docs/files.md says how to configure each provider.
//
// Every store keeps a file under its key, the lower-case hex SHA-256 of its content, and
// checks the bytes it is given against the key and the stated size before it holds them:
// a Put that fails leaves nothing under the key. A key is validated wherever one comes in
// (ValidKey), so a key is never a path or an object name of the caller's making.
//
// Every store passes one conformance suite (conformance_test.go); tickets/files/filestest
// gives other packages' tests the same stores, the S3 one on a server in the process.
package files

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hotlinedesk/hotline/tickets"
)

// Variable is the environment variable whose value Open is given; errors name it.
const Variable = "FILES_URL"

// ErrBadKey is the error of a key that is not 64 lower-case hex digits.
var ErrBadKey = errors.New("file key is not a lower-case hex SHA-256")

// ErrMismatch is the error of a Put whose bytes are not the stated size or do not hash to
// the key; nothing is left under the key.
var ErrMismatch = errors.New("file does not match its key and size")

// ErrRange is the error of an Open from an offset past the file's end.
var ErrRange = errors.New("offset past the end of the file")

// ValidKey reports whether key is 64 lower-case hex digits, the only keys a store takes.
func ValidKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("%w (%d characters)", ErrBadKey, len(key))
	}
	return nil
}

// checkRange refuses an offset or a length no store can serve.
func checkRange(offset, length int64) error {
	if offset < 0 {
		return fmt.Errorf("negative offset %d", offset)
	}
	if length < -1 {
		return fmt.Errorf("length %d: -1 reads to the end", length)
	}
	return nil
}

// Option changes how Open builds a store.
type Option func(*options)

type options struct {
	baseDir    string
	now        func() time.Time
	httpClient *http.Client
	creds      *staticCreds
}

type staticCreds struct{ id, secret, token string }

// BaseDir is the directory a relative local path (file:rel/dir, or a plain relative path)
// is taken from; unset, the process's working directory. Hotline passes the SQLite file's
// directory, so the embedded default keeps files beside the database.
func BaseDir(dir string) Option { return func(o *options) { o.baseDir = dir } }

// Clock is the time the local store ages its temporary files by (default time.Now).
func Clock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// HTTPClient is the client the S3 store sends its requests with (default: the SDK's,
// with bounds on waiting for a response's headers and on a pause in its body). A plain
// *http.Client cannot take AWS_CA_BUNDLE's certificates: with that variable set, Open
// refuses one.
func HTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// StaticCredentials are the S3 store's access key, in place of the SDK's standard chain
// (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, shared files, instance
// roles); for tests and tools that hold a key of their own.
func StaticCredentials(id, secret, sessionToken string) Option {
	return func(o *options) { o.creds = &staticCreds{id, secret, sessionToken} }
}

// Open returns the store rawURL names:
//   - file:///abs/dir, file:rel/dir or a plain path: a directory on local disk;
//   - s3://bucket/prefix?endpoint=https://host&region=R&path_style=true: an S3-compatible
//     bucket, credentials from the SDK's standard environment variables and files.
func Open(ctx context.Context, rawURL string, opts ...Option) (tickets.FileStore, error) {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	loc, err := parse(rawURL)
	if err != nil {
		return nil, err
	}
	switch loc.kind {
	case kindLocal:
		dir := loc.dir
		if !filepath.IsAbs(dir) && o.baseDir != "" {
			dir = filepath.Join(o.baseDir, dir)
		}
		return NewLocal(dir, o.now)
	default:
		s, err := newS3(ctx, loc.s3, o)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Describe is rawURL as a start-up log may print it: the kind of store and where, without
// credentials or anything else the URL should not have carried.
func Describe(rawURL string) string {
	loc, err := parse(rawURL)
	if err != nil {
		return "invalid " + Variable
	}
	if loc.kind == kindLocal {
		return "local directory " + loc.dir
	}
	s := loc.s3
	d := "s3 bucket " + s.bucket
	if s.prefix != "" {
		d += " prefix " + s.prefix
	}
	if s.endpoint != "" {
		d += " at " + s.endpoint
	}
	if s.region != "" {
		d += " region " + s.region
	}
	if s.pathStyle {
		d += " (path-style)"
	}
	return d
}

const (
	kindLocal = iota
	kindS3
)

type location struct {
	kind int
	dir  string // kindLocal
	s3   s3Location
}

type s3Location struct {
	bucket, prefix   string
	endpoint, region string
	pathStyle        bool
}

var scheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// bucketName is what S3 and its imitators take as a bucket: 3 to 63 lower-case letters,
// digits, dots and hyphens, beginning and ending with a letter or digit.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// parse reads a FILES_URL. Its errors name the variable and never repeat the URL, which
// may carry what it should not (a password in its user part).
func parse(rawURL string) (location, error) {
	if strings.TrimSpace(rawURL) == "" {
		return location{}, fmt.Errorf("%s is empty: give a directory (file:///var/lib/hotline/files) or a bucket (s3://bucket/prefix)", Variable)
	}
	if strings.ContainsAny(rawURL, "\x00\r\n") {
		return location{}, fmt.Errorf("%s holds a control character", Variable)
	}
	if strings.HasPrefix(rawURL, "//") {
		// A URL without its scheme (//user:secret@host/bucket): taken as a directory, its
		// credentials would end up in a path and in the logs.
		return location{}, fmt.Errorf("%s names a host without a scheme: write file:///path for a directory or s3://bucket for a bucket", Variable)
	}
	if !scheme.MatchString(rawURL) {
		return location{kind: kindLocal, dir: filepath.Clean(rawURL)}, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return location{}, fmt.Errorf("%s is not a URL", Variable)
	}
	if u.User != nil {
		return location{}, fmt.Errorf("%s carries credentials: give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile), never in the URL", Variable)
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		return parseFile(u)
	case "s3":
		return parseS3(u)
	default:
		return location{}, fmt.Errorf("%s: unknown scheme %q (file: for a directory, s3: for a bucket)", Variable, u.Scheme)
	}
}

func parseFile(u *url.URL) (location, error) {
	if u.RawQuery != "" || u.Fragment != "" {
		return location{}, fmt.Errorf("%s: a file: URL takes no query or fragment", Variable)
	}
	dir := u.Opaque // file:rel/dir
	if dir == "" {
		if u.Host != "" && u.Host != "localhost" {
			return location{}, fmt.Errorf("%s: file: URL names host %q; only the local disk is served (file:///abs/dir)", Variable, u.Host)
		}
		dir = u.Path
	} else if d, err := url.PathUnescape(dir); err == nil {
		dir = d
	} else {
		return location{}, fmt.Errorf("%s: bad escape in the path", Variable)
	}
	if dir == "" {
		return location{}, fmt.Errorf("%s: file: URL names no directory", Variable)
	}
	return location{kind: kindLocal, dir: filepath.Clean(dir)}, nil
}

func parseS3(u *url.URL) (location, error) {
	if u.Opaque != "" {
		return location{}, fmt.Errorf("%s: write a bucket as s3://bucket/prefix", Variable)
	}
	if u.Host == "" {
		return location{}, fmt.Errorf("%s names no bucket (s3://bucket/prefix)", Variable)
	}
	if u.Port() != "" || !bucketName.MatchString(u.Host) || strings.Contains(u.Host, "..") {
		return location{}, fmt.Errorf("%s: %q is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", Variable, u.Host)
	}
	if u.Fragment != "" {
		return location{}, fmt.Errorf("%s: an s3: URL takes no fragment", Variable)
	}
	loc := s3Location{bucket: u.Host}
	prefix := strings.Trim(u.Path, "/")
	if strings.Trim(prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != "" {
		return location{}, fmt.Errorf("%s: the prefix %q may hold only letters, digits, '.', '_', '-' and '/'", Variable, prefix)
	}
	for _, part := range strings.Split(prefix, "/") {
		if prefix != "" && (part == "" || part == "." || part == "..") {
			return location{}, fmt.Errorf("%s: the prefix %q has an empty, . or .. part", Variable, prefix)
		}
	}
	loc.prefix = prefix
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return location{}, fmt.Errorf("%s: bad query: %v", Variable, err)
	}
	for name, vals := range q {
		if len(vals) != 1 {
			return location{}, fmt.Errorf("%s: %s given %d times", Variable, name, len(vals))
		}
		v := vals[0]
		switch name {
		case "endpoint":
			e, err := url.Parse(v)
			if err != nil || (e.Scheme != "https" && e.Scheme != "http") || e.Host == "" || e.Opaque != "" {
				return location{}, fmt.Errorf("%s: endpoint must be an http(s) URL such as https://oss-cn-hangzhou.aliyuncs.com", Variable)
			}
			if e.User != nil {
				return location{}, fmt.Errorf("%s: the endpoint carries credentials: give them in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", Variable)
			}
			if e.RawQuery != "" || e.Fragment != "" || strings.Trim(e.Path, "/") != "" {
				return location{}, fmt.Errorf("%s: the endpoint is a scheme and host only (the bucket and prefix go in the s3: URL)", Variable)
			}
			loc.endpoint = e.Scheme + "://" + e.Host
		case "region":
			if v == "" || len(v) > 64 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
				return location{}, fmt.Errorf("%s: region %q is not a region name such as us-east-1 or oss-cn-hangzhou", Variable, v)
			}
			loc.region = v
		case "path_style":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return location{}, fmt.Errorf("%s: path_style is true or false, not %q", Variable, v)
			}
			loc.pathStyle = b
		default:
			return location{}, fmt.Errorf("%s: unknown setting %q (endpoint, region, path_style)", Variable, name)
		}
	}
	return location{kind: kindS3, s3: loc}, nil
}
