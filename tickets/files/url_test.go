package files_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/hotlinedesk/hotline/tickets/files"
)

func TestParseURL(t *testing.T) {
	ok := []struct {
		url  string
		want files.Parsed
	}{
		{"file:///var/lib/hotline/files", files.Parsed{Local: true, Dir: "/var/lib/hotline/files"}},
		{"file://localhost/srv/files/", files.Parsed{Local: true, Dir: "/srv/files"}},
		{"file:files", files.Parsed{Local: true, Dir: "files"}},
		{"file:data/hotline%20files", files.Parsed{Local: true, Dir: "data/hotline files"}},
		{"/srv/files", files.Parsed{Local: true, Dir: "/srv/files"}},
		{"files", files.Parsed{Local: true, Dir: "files"}},
		{"./a/../files", files.Parsed{Local: true, Dir: "files"}},
		{"s3://hotline-files", files.Parsed{Bucket: "hotline-files"}},
		{"s3://hotline-files/prod/attachments/", files.Parsed{Bucket: "hotline-files", Prefix: "prod/attachments"}},
		{"s3://hotline-files/hotline?region=eu-west-1", files.Parsed{Bucket: "hotline-files", Prefix: "hotline", Region: "eu-west-1"}},
		{"s3://files/h?endpoint=http://127.0.0.1:9000&region=us-east-1&path_style=true",
			files.Parsed{Bucket: "files", Prefix: "h", Endpoint: "http://127.0.0.1:9000", Region: "us-east-1", PathStyle: true}},
		{"s3://desk-1250000000/hotline?endpoint=https://cos.ap-guangzhou.myqcloud.com&region=ap-guangzhou",
			files.Parsed{Bucket: "desk-1250000000", Prefix: "hotline", Endpoint: "https://cos.ap-guangzhou.myqcloud.com", Region: "ap-guangzhou"}},
		{"s3://desk/hotline?endpoint=https://oss-cn-hangzhou.aliyuncs.com/&region=oss-cn-hangzhou&path_style=false",
			files.Parsed{Bucket: "desk", Prefix: "hotline", Endpoint: "https://oss-cn-hangzhou.aliyuncs.com", Region: "oss-cn-hangzhou"}},
	}
	for _, c := range ok {
		got, err := files.Parse(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.url, got, c.want)
		}
	}
	bad := []struct{ url, says string }{
		{"", "empty"},
		{"   ", "empty"},
		{"gs://bucket/x", "unknown scheme"},
		{"http://example.com/files", "unknown scheme"},
		{"//key:secret@minio.internal/files", "without a scheme"},
		{"s3://", "no bucket"},
		{"s3:///prefix", "no bucket"},
		{"s3:bucket", "s3://bucket"},
		{"s3://Bucket_Upper/x", "not a bucket name"},
		{"s3://ab/x", "not a bucket name"},
		{"s3://bucket:9000/x", "not a bucket name"},
		{"s3://a..b/x", "not a bucket name"},
		{"s3://bucket/a/../b", "prefix"},
		{"s3://bucket/a//b", "prefix"},
		{"s3://bucket/hotline%20files", "may hold only"},
		{"s3://bucket/文件", "may hold only"},
		{"s3://bucket/a+b", "may hold only"},
		{"s3://bucket/x?colour=blue", "unknown setting"},
		{"s3://bucket/x?region=us-east-1&region=eu-west-1", "2 times"},
		{"s3://bucket/x?region=US_EAST", "region"},
		{"s3://bucket/x?path_style=maybe", "path_style"},
		{"s3://bucket/x?endpoint=ftp://host", "endpoint"},
		{"s3://bucket/x?endpoint=host:9000", "endpoint"},
		{"s3://bucket/x?endpoint=https://host/bucket", "scheme and host only"},
		{"s3://bucket/x?endpoint=https://host?x=1", "scheme and host only"},
		{"s3://bucket/x?%zz", "bad query"},
		{"s3://bucket/x#frag", "fragment"},
		{"s3://AKIAEXAMPLE:s3cr3t@bucket/x", "AWS_ACCESS_KEY_ID"},
		{"s3://bucket/x?endpoint=https://AKIAEXAMPLE:s3cr3t@host", "AWS_ACCESS_KEY_ID"},
		{"file://otherhost/x", "only the local disk"},
		{"file:///x?y=1", "no query"},
		{"file:", "no directory"},
		{"/srv/files\nX", "control character"},
	}
	for _, c := range bad {
		_, err := files.Parse(c.url)
		if err == nil {
			t.Errorf("%q was taken", c.url)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "FILES_URL") || !strings.Contains(msg, c.says) {
			t.Errorf("%q: %q, want it to name FILES_URL and say %q", c.url, msg, c.says)
		}
		if strings.Contains(msg, "s3cr3t") {
			t.Errorf("%q: the error repeats the secret: %q", c.url, msg)
		}
		if _, err := files.Open(context.Background(), c.url); err == nil {
			t.Errorf("Open(%q) succeeded", c.url)
		}
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct{ url, want string }{
		{"file:///srv/files", "local directory /srv/files"},
		{"s3://desk/hotline?endpoint=https://oss-cn-hangzhou.aliyuncs.com&region=oss-cn-hangzhou",
			"s3 bucket desk prefix hotline at https://oss-cn-hangzhou.aliyuncs.com region oss-cn-hangzhou"},
		{"s3://files?endpoint=http://127.0.0.1:9000&path_style=1", "s3 bucket files at http://127.0.0.1:9000 (path-style)"},
		{"s3://KEY:s3cr3t@desk/x", "invalid FILES_URL"},
		{"s3://desk/x?endpoint=https://KEY:s3cr3t@host", "invalid FILES_URL"},
	}
	for _, c := range cases {
		if got := files.Describe(c.url); got != c.want {
			t.Errorf("Describe(%q) = %q, want %q", c.url, got, c.want)
		}
	}
}

// FuzzParseURL: any FILES_URL is taken or refused without a panic; what is taken is a
// bucket and prefix S3 accepts or a clean directory; neither an error nor Describe
// repeats a password the URL carried.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"file:///var/lib/hotline", "file:rel", "files", "s3://bucket/prefix?endpoint=https://h&region=r&path_style=true",
		"s3://u:p@bucket", "s3://bucket/a/../b", "s3://bucket?endpoint=http://u:pw@h:9/", "gs://x", "s3://b%00/x", "file://h/x",
		"s3://bucket/x?region=%zz", "s3://bkt/" + strings.Repeat("a/", 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		desc := files.Describe(raw)
		p, err := files.Parse(raw)
		var secrets []string
		if u, uerr := url.Parse(raw); uerr == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && len(pw) >= 4 {
				secrets = append(secrets, pw)
			}
		}
		for _, s := range secrets {
			if err != nil && strings.Contains(err.Error(), s) {
				t.Fatalf("the error repeats the password: %v", err)
			}
			if strings.Contains(desc, s) {
				t.Fatalf("Describe repeats the password: %q", desc)
			}
		}
		if err != nil {
			if !strings.Contains(err.Error(), "FILES_URL") {
				t.Fatalf("the error does not name FILES_URL: %v", err)
			}
			if desc != "invalid FILES_URL" {
				t.Fatalf("Describe of a refused URL: %q", desc)
			}
			return
		}
		if p.Local {
			if p.Dir == "" || strings.ContainsAny(p.Dir, "\x00\r\n") {
				t.Fatalf("directory %q taken", p.Dir)
			}
			return
		}
		if len(p.Bucket) < 3 || len(p.Bucket) > 63 || strings.Trim(p.Bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
			t.Fatalf("bucket %q taken", p.Bucket)
		}
		for _, part := range strings.Split(p.Prefix, "/") {
			if p.Prefix != "" && (part == "" || part == "." || part == ".." ||
				strings.Trim(part, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "") {
				t.Fatalf("prefix %q taken", p.Prefix)
			}
		}
		if p.Endpoint != "" && !strings.HasPrefix(p.Endpoint, "http://") && !strings.HasPrefix(p.Endpoint, "https://") {
			t.Fatalf("endpoint %q taken", p.Endpoint)
		}
		if strings.Contains(p.Endpoint, "@") {
			t.Fatalf("endpoint with a user part taken: %q", p.Endpoint)
		}
	})
}
