package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

func TestAttachmentDownload(t *testing.T) {
	e := newEnv(t, tickettest.SQLite(t))
	pdf := []byte("%PDF-1.4 invoice")
	res, err := e.svc.Intake(context.Background(), tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail,
		Address: "zhou@example.cn", Subject: "发票", Body: "见附件", ProviderMessageID: "<inv@x>",
		Attachments: []tickets.NewAttachment{
			{Filename: "发票.pdf", ContentType: "application/pdf", SizeBytes: int64(len(pdf)), Content: pdf},
			{Filename: "photo.jpg", ContentType: "image/jpeg", URL: "https://files.example/photo.jpg"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	status, d := e.do(t, "GET", "/api/v1/tickets/"+res.Ticket.Ref(), "agent1", nil)
	wantStatus(t, status, d, 200)
	atts := getA(getA(d, "messages")[0], "attachments")
	kept, linked := atts[0], atts[1]
	url := getS(kept, "download_url")
	if url != "/api/v1/attachments/"+itoa(getN(kept, "id")) {
		t.Fatalf("kept file's download_url %q", url)
	}
	if _, ok := linked["download_url"]; ok || getS(linked, "url") != "https://files.example/photo.jpg" {
		t.Errorf("provider's file: %v", linked)
	}

	get := func(path, token string) *http.Response {
		req := newRequest(t, "GET", path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		r, err := e.app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := get(url, e.tok["agent1"])
	body, _ := io.ReadAll(r.Body)
	if r.StatusCode != 200 || string(body) != string(pdf) || r.Header.Get("Content-Type") != "application/pdf" ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: %d %q %v", r.StatusCode, body, r.Header)
	}
	for path, want := range map[string]int{
		url: 401, // no token
		"/api/v1/attachments/" + itoa(getN(linked, "id")): 404, // Hotline does not keep it
		"/api/v1/attachments/0":                           404,
	} {
		token := e.tok["agent1"]
		if want == 401 {
			token = ""
		}
		if r := get(path, token); r.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, r.StatusCode, want)
		}
	}
}
