package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/hotlinedesk/hotline/tickets"
)

// S3 is a FileStore in an S3-compatible bucket: a key's file is the object prefix/key.
//
// Put sends the bytes as they are read, never holding the file whole, with the key as the
// request's signed payload hash (x-amz-content-sha256) and as its x-amz-checksum-sha256,
// so a store that checks either refuses bytes that do not match; and it checks them
// itself while sending, holding back the last bytes until the size and hash are right, so
// a store that checks neither never receives a whole body that does not match.
type S3 struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
}

var _ tickets.FileStore = (*S3)(nil)

// newS3 builds the client from the SDK's standard configuration (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION, AWS_PROFILE, the shared files,
// instance and task roles), the URL's endpoint, region and addressing on top, and checks
// the bucket answers.
func newS3(ctx context.Context, loc s3Location, o options) (*S3, error) {
	hc := o.httpClient
	var httpClient config.HTTPClient = hc
	if hc == nil {
		httpClient = awshttp.NewBuildableClient().
			WithTransportOptions(func(tr *http.Transport) { tr.ResponseHeaderTimeout = time.Minute }).
			WithReadTimeout(2 * time.Minute)
	}
	load := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		// The checksum is given with each Put (the key); none is computed by the SDK,
		// which would otherwise send aws-chunked bodies many S3 imitators refuse.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if loc.region != "" {
		load = append(load, config.WithRegion(loc.region))
	}
	if o.creds != nil {
		load = append(load, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.creds.id, o.creds.secret, o.creds.token)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("%s: the S3 configuration: %w", Variable, err)
	}
	if cfg.Region == "" {
		if loc.endpoint == "" {
			return nil, fmt.Errorf("%s: no region: add ?region= to the URL or set AWS_REGION", Variable)
		}
		cfg.Region = "us-east-1" // what S3 imitators sign with unless told
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if loc.endpoint != "" {
			so.BaseEndpoint = aws.String(loc.endpoint)
		}
		so.UsePathStyle = loc.pathStyle
	})
	st := &S3{client: client, bucket: loc.bucket}
	if loc.prefix != "" {
		st.prefix = loc.prefix + "/"
	}
	if _, hasDeadline := ctx.Deadline(); !hasDeadline {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	if _, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(loc.bucket)}); err != nil {
		return nil, fmt.Errorf("%s: bucket %s does not answer (missing, another region, or no access with these credentials): %w", Variable, loc.bucket, err)
	}
	return st, nil
}

func (s *S3) object(key string) *string { return aws.String(s.prefix + key) }

// notFound reports whether err is S3's answer for a missing object.
func notFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound") {
		return true
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound &&
		!(errors.As(err, &ae) && ae.ErrorCode() == "NoSuchBucket")
}

// Put sends the file unless the key is stored already (then it only refreshes the
// object's time, a copy onto itself, so a sweep of old unreferenced files spares it).
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("put %s: negative size %d", key[:12], size)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.object(key)})
	switch {
	case err == nil:
		if n := aws.ToInt64(head.ContentLength); n != size {
			return fmt.Errorf("put %s: %w: stored with %d bytes, given %d", key[:12], ErrMismatch, n, size)
		}
		return s.refresh(ctx, key, aws.ToString(head.ContentType))
	case !notFound(err):
		return fmt.Errorf("put %s: look for it: %w", key[:12], err)
	}
	sum, _ := hex.DecodeString(key)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	v := &verifier{r: ctxReader{ctx, r}, size: size, left: size, key: key, h: sha256.New()}
	var body io.Reader = v
	if sk, ok := r.(io.Seeker); ok {
		// A body that can be read again lets the SDK retry a request the store
		// refused for a while (503 Slow Down, a dropped connection).
		start, err := sk.Seek(0, io.SeekCurrent)
		if err != nil {
			return fmt.Errorf("put %s: %w", key[:12], err)
		}
		body = &rewindable{verifier: v, src: sk, start: start}
	}
	if size == 0 {
		// Nothing to hold back: check now that r is empty.
		if err := v.finish(); err != nil {
			return fmt.Errorf("put %s: %w", key[:12], err)
		}
		body = bytes.NewReader(nil)
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:         &s.bucket,
		Key:            s.object(key),
		Body:           body,
		ContentLength:  aws.Int64(size),
		ContentType:    aws.String(contentType),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum)),
	}, s3.WithAPIOptions(signedPayload(key)))
	if v.err != nil {
		return fmt.Errorf("put %s: %w", key[:12], v.err)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("put %s: %w", key[:12], ctx.Err())
		}
		var ae smithy.APIError
		if errors.As(err, &ae) && (ae.ErrorCode() == "BadDigest" || ae.ErrorCode() == "XAmzContentSHA256Mismatch" || ae.ErrorCode() == "InvalidDigest") {
			return fmt.Errorf("put %s: %w: the store says %s", key[:12], ErrMismatch, ae.ErrorCode())
		}
		return fmt.Errorf("put %s: %w", key[:12], err)
	}
	if v.left != 0 || !v.done {
		// The SDK returned without reading the whole body: nothing we can vouch for.
		return fmt.Errorf("put %s: the upload ended after %d of %d bytes", key[:12], size-v.left, size)
	}
	return nil
}

// refresh copies key's object onto itself, which sets its time to now.
func (s *S3) refresh(ctx context.Context, key, contentType string) error {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:            &s.bucket,
		Key:               s.object(key),
		CopySource:        aws.String(s.bucket + "/" + s.prefix + key),
		MetadataDirective: types.MetadataDirectiveReplace,
		ContentType:       aws.String(contentType),
	})
	if err != nil {
		return fmt.Errorf("put %s: refresh the stored copy: %w", key[:12], err)
	}
	return nil
}

// signedPayload gives the SigV4 signature the payload's SHA-256, which is the key, so the
// SDK neither reads the body twice to compute it nor sends it unsigned.
func signedPayload(key string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("HotlinePayloadHash",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				return next.HandleFinalize(v4.SetPayloadHash(ctx, key), in)
			}), "ComputePayloadHash", middleware.Before)
	}
}

// verifier yields the size bytes of r, hashing them, and withholds the last of them
// until it has checked that r ends there and that they hash to key: a body that does
// not match is cut short, so no store can take it whole.
type verifier struct {
	r    io.Reader
	size int64
	left int64
	key  string
	h    hash.Hash
	err  error
	done bool
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > v.left {
		p = p[:v.left]
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	v.left -= int64(n)
	if v.left == 0 {
		if err := v.finish(); err != nil {
			return 0, err
		}
		return n, nil
	}
	if errors.Is(err, io.EOF) {
		v.err = fmt.Errorf("%w: %d bytes short", ErrMismatch, v.left)
		return 0, v.err
	} else if err != nil {
		v.err = err
		return 0, err
	}
	return n, nil
}

// finish checks that r has nothing more and that what it gave hashes to key.
func (v *verifier) finish() error {
	var one [1]byte
	m, err := io.ReadFull(v.r, one[:])
	switch {
	case m > 0:
		v.err = fmt.Errorf("%w: more bytes than stated", ErrMismatch)
	case err != nil && !errors.Is(err, io.EOF):
		v.err = err
	case hex.EncodeToString(v.h.Sum(nil)) != v.key:
		v.err = fmt.Errorf("%w: the bytes hash to another key", ErrMismatch)
	}
	v.done = v.err == nil
	return v.err
}

// rewindable is a verifier whose source can be read again from where it began: the SDK
// rewinds it to retry a request, and the checks start over.
type rewindable struct {
	*verifier
	src   io.Seeker
	start int64 // where the source began
}

// Seek answers where the body is (offset 0 from the current position), goes to its end
// (to measure it; nothing more is read there) and rewinds it to its start; it moves
// nowhere else.
func (w *rewindable) Seek(offset int64, whence int) (int64, error) {
	switch {
	case offset == 0 && whence == io.SeekCurrent:
		return w.size - w.left, nil
	case offset == 0 && whence == io.SeekEnd:
		w.left, w.done = 0, false
		return w.size, nil
	case offset == 0 && whence == io.SeekStart:
		if _, err := w.src.Seek(w.start, io.SeekStart); err != nil {
			return 0, err
		}
		if errors.Is(w.err, ErrMismatch) {
			return 0, w.err // the same bytes will not match again
		}
		w.left, w.err, w.done = w.size, nil, false
		w.h.Reset()
		return 0, nil
	default:
		return 0, fmt.Errorf("the upload body only rewinds (seek %d from %d)", offset, whence)
	}
}

// Open reads a range of key's object. An offset at its end reads nothing; past it,
// ErrRange.
func (s *S3) Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkRange(offset, length); err != nil {
		return nil, err
	}
	if length == 0 {
		// S3 has no empty range: say whether the object is there and the offset in it.
		size, err := s.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		if offset > size {
			return nil, fmt.Errorf("open %s at %d of %d bytes: %w", key[:12], offset, size, ErrRange)
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	in := &s3.GetObjectInput{Bucket: &s.bucket, Key: s.object(key)}
	ranged := offset > 0 || length > 0
	if ranged {
		rng := "bytes=" + strconv.FormatInt(offset, 10) + "-"
		if length > 0 {
			rng += strconv.FormatInt(offset+length-1, 10)
		}
		in.Range = &rng
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		if notFound(err) {
			return nil, tickets.ErrNoFile
		}
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusRequestedRangeNotSatisfiable {
			size, serr := s.Stat(ctx, key)
			if serr != nil {
				return nil, serr
			}
			if offset == size {
				return io.NopCloser(bytes.NewReader(nil)), nil
			}
			return nil, fmt.Errorf("open %s at %d of %d bytes: %w", key[:12], offset, size, ErrRange)
		}
		return nil, fmt.Errorf("open %s: %w", key[:12], err)
	}
	if !ranged {
		return out.Body, nil
	}
	// The store must answer with the range asked for; one that sent the whole object
	// instead is read past the offset, so the caller gets the bytes it asked for either way.
	cr := aws.ToString(out.ContentRange)
	if cr == "" {
		if _, err := io.CopyN(io.Discard, out.Body, offset); err != nil {
			out.Body.Close()
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("open %s at %d: %w", key[:12], offset, ErrRange)
			}
			return nil, fmt.Errorf("open %s: %w", key[:12], err)
		}
		if length < 0 {
			return out.Body, nil
		}
		return limitedFile{io.LimitReader(out.Body, length), out.Body}, nil
	}
	if start, ok := rangeStart(cr); !ok || start != offset {
		out.Body.Close()
		return nil, fmt.Errorf("open %s: the store answered range %q for offset %d", key[:12], cr, offset)
	}
	// From the offset, but perhaps longer than asked (a faulty store or proxy): cut to
	// the length, as above.
	if length < 0 {
		return out.Body, nil
	}
	return limitedFile{io.LimitReader(out.Body, length), out.Body}, nil
}

// rangeStart is the first byte of a Content-Range ("bytes 100-199/1000").
func rangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// Stat returns the size of key's object, or tickets.ErrNoFile.
func (s *S3) Stat(ctx context.Context, key string) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: s.object(key)})
	if err != nil {
		if notFound(err) {
			return 0, tickets.ErrNoFile
		}
		return 0, fmt.Errorf("stat %s: %w", key[:12], err)
	}
	return aws.ToInt64(out.ContentLength), nil
}

// Delete removes key's object; one absent is not an error.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: s.object(key)}); err != nil && !notFound(err) {
		return fmt.Errorf("delete %s: %w", key[:12], err)
	}
	return nil
}

// Walk lists the objects under the prefix, a page at a time, and calls fn with those
// named by a key; others (a person's uploads beside Hotline's) are passed over.
func (s *S3) Walk(ctx context.Context, fn func(key string, size int64, written time.Time) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("walk the bucket: %w", err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || !ValidKey(key) {
				continue
			}
			if err := fn(key, aws.ToInt64(o.Size), aws.ToTime(o.LastModified)); err != nil {
				return err
			}
		}
	}
	return nil
}
