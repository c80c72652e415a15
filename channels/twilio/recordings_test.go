package twilio_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotlinedesk/hotline/channels/twilio"
)

const (
	acct = "AC0123456789abcdef0123456789abcdef"
	re   = "RE0123456789abcdef0123456789abcdef"
	path = "/2010-04-01/Accounts/" + acct + "/Recordings/" + re
)

// Only a recording on Twilio's API (or the configured base) is ever fetched, and it is
// fetched at the configured base when there is one.
func TestRecordingMedia(t *testing.T) {
	cases := []struct {
		name, api, raw, sid string
		want                string // "" means refused
	}{
		{"Twilio's RecordingUrl", "", "https://api.twilio.com" + path, re, "https://api.twilio.com" + path + ".mp3"},
		{"with .mp3", "", "https://api.twilio.com" + path + ".mp3", "", "https://api.twilio.com" + path + ".mp3"},
		{"with .wav", "", "https://api.twilio.com" + path + ".wav", "", "https://api.twilio.com" + path + ".mp3"},
		{"a regional host", "", "https://api.dublin.ie1.twilio.com" + path, "", "https://api.dublin.ie1.twilio.com" + path + ".mp3"},
		{"Twilio's, with a base set", "http://127.0.0.1:9999", "https://api.twilio.com" + path, "", "http://127.0.0.1:9999" + path + ".mp3"},
		{"on the base", "http://127.0.0.1:9999", "http://127.0.0.1:9999" + path, "", "http://127.0.0.1:9999" + path + ".mp3"},
		{"on a base with a path", "https://proxy.example/twilio/", "https://proxy.example/twilio" + path, "", "https://proxy.example/twilio" + path + ".mp3"},

		{"another host", "", "https://evil.example" + path, "", ""},
		{"a lookalike host", "", "https://api.twilio.com.evil.example" + path, "", ""},
		{"a host ending in twilio.com", "", "https://eviltwilio.com" + path, "", ""},
		{"another Twilio host", "", "https://media.twiliocdn.com" + path, "", ""},
		{"plain http", "", "http://api.twilio.com" + path, "", ""},
		{"a port", "", "https://api.twilio.com:8443" + path, "", ""},
		{"credentials in the URL", "", "https://user:pw@api.twilio.com" + path, "", ""},
		{"a query", "", "https://api.twilio.com" + path + "?x=1", "", ""},
		{"not a recording", "", "https://api.twilio.com/2010-04-01/Accounts/" + acct + "/Messages/SM0123456789abcdef0123456789abcdef", "", ""},
		{"a path escaping upward", "", "https://api.twilio.com/x/.." + path, "", ""},
		{"another recording's SID", "", "https://api.twilio.com" + path, "RE" + strings.Repeat("f", 32), ""},
		{"another host than the base", "http://127.0.0.1:9999", "http://127.0.0.1:9998" + path, "", ""},
		{"outside the base's path", "https://proxy.example/twilio", "https://proxy.example" + path, "", ""},
		{"not a URL", "", "%zz", "", ""},
	}
	for _, c := range cases {
		got, err := twilio.RecordingMedia(c.api, c.raw, c.sid)
		if c.want == "" {
			if err == nil || !errors.Is(err, twilio.ErrNotRecording) {
				t.Errorf("%s: %q accepted as %q (%v)", c.name, c.raw, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	if sid := twilio.RecordingSID("https://api.twilio.com" + path); sid != re {
		t.Errorf("RecordingSID %q", sid)
	}
}

// fakeMedia serves one recording the way Twilio's API does: behind basic auth, with byte
// ranges.
type fakeMedia struct {
	audio    []byte
	requests atomic.Int32
	auth     atomic.Value // the last Authorization header
	redirect string       // when set, answers with a redirect there
}

func (f *fakeMedia) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	f.auth.Store(r.Header.Get("Authorization"))
	if f.redirect != "" {
		http.Redirect(w, r, f.redirect, http.StatusFound)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != acct || pass != "auth-token" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.URL.Path != path+".mp3" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/mpeg")
	http.ServeContent(w, r, "r.mp3", time.Time{}, bytes.NewReader(f.audio))
}

func TestRecordingsFetchAndOpen(t *testing.T) {
	ctx := context.Background()
	audio := bytes.Repeat([]byte("ID3-mp3-frames-"), 100)
	fake := &fakeMedia{audio: audio}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	recs := twilio.NewRecordings(twilio.Config{AccountSID: acct, AuthToken: "auth-token", APIURL: srv.URL})

	got, err := recs.Fetch(ctx, "https://api.twilio.com"+path+".mp3", 1<<20)
	if err != nil || !bytes.Equal(got, audio) {
		t.Fatalf("fetch: %d bytes, %v", len(got), err)
	}
	if _, err := recs.Fetch(ctx, "https://api.twilio.com"+path, 100); !errors.Is(err, twilio.ErrTooLarge) {
		t.Errorf("a recording over the limit: %v", err)
	}

	st, err := recs.Open(ctx, "https://api.twilio.com"+path+".mp3", "bytes=10-19", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(st.Body)
	st.Body.Close()
	if st.Status != http.StatusPartialContent || !bytes.Equal(part, audio[10:20]) || st.Header.Get("Content-Range") != "bytes 10-19/1500" {
		t.Errorf("range: %d %q %v", st.Status, part, st.Header)
	}
	// A Range header of another form is not passed on: the whole file comes.
	st, err = recs.Open(ctx, "https://api.twilio.com"+path+".mp3", "bytes=0-1,5-6", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	st.Body.Close()
	if st.Status != http.StatusOK {
		t.Errorf("a multi-range request: %d", st.Status)
	}

	// Wrong credentials, a missing recording: Twilio's status, not the bytes.
	bad := twilio.NewRecordings(twilio.Config{AccountSID: acct, AuthToken: "wrong", APIURL: srv.URL})
	var se *twilio.StatusError
	if _, err := bad.Fetch(ctx, "https://api.twilio.com"+path, 1<<20); !errors.As(err, &se) || se.Status != 401 {
		t.Errorf("wrong token: %v", err)
	}
	other := "https://api.twilio.com/2010-04-01/Accounts/" + acct + "/Recordings/RE" + strings.Repeat("a", 32)
	if _, err := recs.Open(ctx, other, "", 1<<20); !errors.As(err, &se) || se.Status != 404 {
		t.Errorf("missing recording: %v", err)
	}

	// A foreign address is never requested, so the token never leaves.
	evil := &fakeMedia{audio: audio}
	evilSrv := httptest.NewServer(evil)
	defer evilSrv.Close()
	for _, raw := range []string{evilSrv.URL + path, "https://evil.example" + path, "https://api.twilio.com.evil.example" + path} {
		if _, err := recs.Fetch(ctx, raw, 1<<20); !errors.Is(err, twilio.ErrNotRecording) {
			t.Errorf("fetch %s: %v", raw, err)
		}
		if _, err := recs.Open(ctx, raw, "", 1<<20); !errors.Is(err, twilio.ErrNotRecording) {
			t.Errorf("open %s: %v", raw, err)
		}
	}
	if n := evil.requests.Load(); n != 0 {
		t.Errorf("the foreign host got %d requests", n)
	}

	// A redirect off Twilio's host must be https (where Go drops the Authorization header
	// for another host): a plain-http one is refused before anything is sent there.
	storage := &fakeMedia{audio: audio}
	storageSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storage.requests.Add(1)
		storage.auth.Store(r.Header.Get("Authorization"))
		http.ServeContent(w, r, "r.mp3", time.Time{}, bytes.NewReader(audio))
	}))
	defer storageSrv.Close()
	// 127.0.0.1 and localhost are different hosts to Go's redirect rules.
	redirecting := &fakeMedia{redirect: strings.Replace(storageSrv.URL, "127.0.0.1", "localhost", 1) + "/signed.mp3"}
	redirectSrv := httptest.NewServer(redirecting)
	defer redirectSrv.Close()
	via := twilio.NewRecordings(twilio.Config{AccountSID: acct, AuthToken: "auth-token", APIURL: redirectSrv.URL})
	_, err = via.Fetch(ctx, "https://api.twilio.com"+path, 1<<20)
	if a, _ := redirecting.auth.Load().(string); a == "" {
		t.Errorf("Twilio was asked without credentials")
	}
	if err == nil || storage.requests.Load() != 0 {
		t.Errorf("an http redirect to another host was followed: %v, %d requests", err, storage.requests.Load())
	}

	if twilio.NewRecordings(twilio.Config{}).Enabled() {
		t.Error("enabled without credentials")
	}
	if _, err := twilio.NewRecordings(twilio.Config{}).Fetch(ctx, "https://api.twilio.com"+path, 1<<20); err == nil {
		t.Error("fetched without credentials")
	}
}

// FuzzRecordingMedia feeds addresses to the check that guards the account's credentials:
// whatever it accepts is fetched on Twilio's API host (or the configured base) over https
// (or the base's scheme), at a recording's path, and never anywhere else.
func FuzzRecordingMedia(f *testing.F) {
	for _, seed := range []string{"https://api.twilio.com" + path, "https://api.twilio.com" + path + ".mp3", "http://127.0.0.1:9999" + path,
		"https://api.twilio.com.evil.example" + path, "https://user@api.twilio.com" + path, "https://api.twilio.com/x/.." + path,
		"https://api.dublin.ie1.twilio.com" + path, "https://api.twilio.com%2F@evil.example" + path} {
		f.Add(seed, "")
		f.Add(seed, "http://127.0.0.1:9999")
	}
	f.Fuzz(func(t *testing.T, raw, api string) {
		got, err := twilio.RecordingMedia(api, raw, "")
		if err != nil {
			return
		}
		ok := strings.HasPrefix(got, "https://api.") && strings.Contains(got, ".twilio.com/2010-04-01/Accounts/AC")
		if api != "" {
			// The base as a URL reads it: scheme and host compare without regard to case.
			b, err := url.Parse(strings.TrimRight(api, "/"))
			if err != nil {
				t.Fatalf("RecordingMedia accepted the base %q, which does not parse: %v", api, err)
			}
			ok = strings.HasPrefix(got, b.Scheme+"://"+b.Host+b.EscapedPath()+"/2010-04-01/Accounts/AC")
		}
		if !ok || !strings.HasSuffix(got, ".mp3") || strings.ContainsAny(got[strings.Index(got, "/2010-04-01/"):], "?#@%\\") {
			t.Errorf("RecordingMedia(%q, %q) = %q", api, raw, got)
		}
	})
}
