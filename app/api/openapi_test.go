package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/app/api"
	"github.com/hotlinedesk/hotline/app/console"
	"github.com/hotlinedesk/hotline/app/web"
	"github.com/hotlinedesk/hotline/app/webhooks"
	"github.com/hotlinedesk/hotline/docs"
	"github.com/hotlinedesk/hotline/notifications"
	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/access"
	"github.com/hotlinedesk/hotline/tickets/aftercare"
	"github.com/hotlinedesk/hotline/tickets/outbox"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// ---------------------------------------------------------------------------------------
// The document (docs/openapi.yaml) against the routes and the answers.

// wiredApp builds the HTTP application with everything app/main.go mounts beside the API
// (providers' webhooks, the public pages, the console), so that a route any of them put
// under /api/v1 would be seen too. Keep it in step with serve in app/main.go.
func wiredApp(t *testing.T, svc *tickets.Service) *fiber.App {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	doors := access.New(svc, access.Config{})
	care := aftercare.New(svc, aftercare.Config{})
	boxes := outbox.New(svc)
	desk := console.New(console.Config{Service: svc, Access: doors, Aftercare: care, Log: log, Outbox: boxes})
	t.Cleanup(desk.Close)
	hooks := []interface{ Register(*fiber.App) }{
		webhooks.NewTwilio(svc, webhooks.TwilioConfig{AuthToken: "twilio-token", Access: doors}, log),
	}
	wc, err := webhooks.NewWeChat(svc, webhooks.WeChatConfig{Token: "wechat-token", AppID: "wx-app", Access: doors}, log)
	if err != nil {
		t.Fatal(err)
	}
	hooks = append(hooks, wc, webhooks.NewEmail(svc, "email-secret", log),
		webhooks.NewSlack(svc, boxes, "slack-secret", notifications.NewSlack(notifications.SlackConfig{}), log),
		web.NewStatusPage(svc, doors, api.ClientAddr(nil), log), web.NewSurveyPage(care, log), web.NewMediaLinks(svc, log), desk)
	return api.New(api.Config{Service: svc, Aftercare: care, Access: doors, Log: log, Webhooks: hooks,
		Metrics: http.NotFoundHandler(), Ready: func(context.Context) error { return nil }})
}

// fiberParam is a Fiber path parameter, :ref, written {ref} in the document.
var fiberParam = regexp.MustCompile(`:(\w+)`)

// Every route the API registers under /api/v1 is documented with its method and path, and
// every documented operation is a registered route.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	doc := loadDoc(t)
	app := wiredApp(t, tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(t0)))

	registered := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == fiber.MethodHead || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue // fiber answers HEAD for every GET by itself
		}
		registered[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" /api/v1"+path] = true
		}
	}
	if len(registered) < 50 {
		t.Fatalf("only %d routes under /api/v1: is the app wired?", len(registered))
	}
	var undocumented, unserved []string
	for r := range registered {
		if !documented[r] {
			undocumented = append(undocumented, r)
		}
	}
	for d := range documented {
		if !registered[d] {
			unserved = append(unserved, d)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unserved)
	if len(undocumented) > 0 {
		t.Errorf("routes missing from docs/openapi.yaml:\n  %s", strings.Join(undocumented, "\n  "))
	}
	if len(unserved) > 0 {
		t.Errorf("docs/openapi.yaml documents operations no route serves:\n  %s", strings.Join(unserved, "\n  "))
	}
}

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := docs.OpenAPI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// GET /api/v1/openapi.json answers the document as JSON, without a token, with an ETag a
// client revalidates with.
func TestOpenAPIServed(t *testing.T) {
	app := newApp(tickettest.Service(tickettest.SQLite(t), tickettest.NewClock(t0)), nil)
	res, err := app.Test(httptest.NewRequest("GET", "/api/v1/openapi.json", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	var js struct {
		OpenAPI string         `json:"openapi"`
		Paths   map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &js); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET /api/v1/openapi.json: %d %v\n%.300s", res.StatusCode, err, raw)
	}
	if !strings.HasPrefix(js.OpenAPI, "3.") || js.Paths["/tickets/{ref}"] == nil {
		t.Errorf("document: openapi %q, %d paths; want OpenAPI 3 with /tickets/{ref}", js.OpenAPI, len(js.Paths))
	}
	etag := res.Header.Get("ETag")
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || etag == "" ||
		!strings.Contains(res.Header.Get("Cache-Control"), "max-age") {
		t.Errorf("headers %v, want JSON with an ETag and a max-age", res.Header)
	}
	req := httptest.NewRequest("GET", "/api/v1/openapi.json", nil)
	req.Header.Set("If-None-Match", etag)
	if res, err := app.Test(req, -1); err != nil || res.StatusCode != 304 {
		t.Errorf("revalidation with the ETag: %v %v, want 304", res.StatusCode, err)
	}
}

// checker sends requests through the app and holds each request and answer against the
// document: the request must be one it describes (or, for a refusal on purpose, one it
// refuses too), the status must be documented for the operation, and the answer must match
// its schema with no field the document does not name.
type checker struct {
	doc     *openapi3.T
	e       *env
	covered map[string]bool
}

type call struct {
	who          string // whose token ("" for none)
	method, path string
	body         any    // nil, a string sent as is, or a value sent as JSON
	form         []byte // a multipart body, sent with contentType
	contentType  string
	want         int
	// invalid: the request is refused on purpose, and the document must refuse it too.
	invalid bool
}

func (c *checker) do(t *testing.T, cl call) map[string]any {
	t.Helper()
	raw, ct := cl.form, cl.contentType
	switch b := cl.body.(type) {
	case nil:
	case string:
		raw, ct = []byte(b), "application/json"
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
		ct = "application/json"
	}
	build := func() *http.Request {
		req := httptest.NewRequest(cl.method, cl.path, bytes.NewReader(raw))
		if raw != nil {
			req.Header.Set("Content-Type", ct)
		}
		if cl.who != "" {
			req.Header.Set("Authorization", "Bearer "+c.e.tok[cl.who])
		}
		return req
	}
	route, params := c.route(t, cl.method, cl.path)
	name := route.Method + " " + route.Path
	c.covered[name] = true
	in := &openapi3filter.RequestValidationInput{Request: build(), PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: bearerAuth}}
	err := openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case err != nil && !cl.invalid:
		t.Errorf("%s %s: the document refuses the request: %v", cl.method, cl.path, err)
	case err == nil && cl.invalid:
		t.Errorf("%s %s: the document accepts a request the API refuses", cl.method, cl.path)
	}

	res, err := c.e.app.Test(build(), -1)
	if err != nil {
		t.Fatalf("%s %s: %v", cl.method, cl.path, err)
	}
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != cl.want {
		t.Fatalf("%s %s: status %d, want %d; body %.300s", cl.method, cl.path, res.StatusCode, cl.want, body)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body: io.NopCloser(bytes.NewReader(body)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s answered %d, which the document does not describe: %v\nbody %.500s", cl.method, cl.path, res.StatusCode, err, body)
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		return nil
	}
	var js any
	if err := json.Unmarshal(body, &js); err != nil {
		t.Fatalf("%s %s: %v", cl.method, cl.path, err)
	}
	if schema := responseSchema(route.Operation, res.StatusCode); schema != nil {
		if extra := undocumented(schema, js, ""); len(extra) > 0 {
			t.Errorf("%s %s answered fields docs/openapi.yaml does not name: %v", cl.method, cl.path, extra)
		}
	}
	m, _ := js.(map[string]any)
	return m
}

// kin-openapi reads text/csv and text/plain answers but not HTML ones (a customer's copy
// as a page); it is text like them. Registered once, before any test validates.
func init() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder) }

// bearerAuth is what the document's bearerToken scheme asks: an Authorization: Bearer header.
func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme.Type == "http" && in.SecurityScheme.Scheme == "bearer" &&
		strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return nil
	}
	return errors.New("no bearer token")
}

// route finds the documented operation for a path under /api/v1, and its path parameters.
func (c *checker) route(t *testing.T, method, target string) (*routers.Route, map[string]string) {
	t.Helper()
	path, _, _ := strings.Cut(target, "?")
	segs := strings.Split(strings.TrimPrefix(path, "/api/v1"), "/")
	for tmpl, item := range c.doc.Paths.Map() {
		op := item.GetOperation(method)
		parts := strings.Split(tmpl, "/")
		if op == nil || len(parts) != len(segs) {
			continue
		}
		params := map[string]string{}
		for i, p := range parts {
			if strings.HasPrefix(p, "{") {
				params[strings.Trim(p, "{}")] = segs[i]
			} else if p != segs[i] {
				params = nil
				break
			}
		}
		if params != nil {
			return &routers.Route{Spec: c.doc, Path: tmpl, PathItem: item, Method: method, Operation: op}, params
		}
	}
	t.Fatalf("%s %s: docs/openapi.yaml has no such operation", method, target)
	return nil, nil
}

func responseSchema(op *openapi3.Operation, status int) *openapi3.Schema {
	r := op.Responses.Status(status)
	if r == nil || r.Value == nil {
		return nil
	}
	mt := r.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return nil
	}
	return mt.Schema.Value
}

// undocumented lists the object fields in v that schema does not name (through allOf),
// so that an answer cannot grow a field the document keeps quiet about.
func undocumented(schema *openapi3.Schema, v any, at string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if free := schema.AdditionalProperties.Has; free != nil && *free {
			return nil // any fields: the document says so (an event's particulars)
		}
		props, extra := properties(schema)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			switch p := props[k]; {
			case p != nil:
				out = append(out, undocumented(p, v[k], at+"."+k)...)
			case extra != nil:
				out = append(out, undocumented(extra, v[k], at+"."+k)...)
			default:
				out = append(out, at+"."+k)
			}
		}
	case []any:
		if items := itemSchema(schema); items != nil {
			for i, x := range v {
				out = append(out, undocumented(items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	return out
}

// properties are the fields a schema names, its own and its allOf parts' (a later part's
// word on a field wins: it is the more specific), and the schema of any other field when
// it takes any (additionalProperties).
func properties(s *openapi3.Schema) (map[string]*openapi3.Schema, *openapi3.Schema) {
	props := map[string]*openapi3.Schema{}
	var extra *openapi3.Schema
	for _, part := range s.AllOf {
		p, e := properties(part.Value)
		maps.Copy(props, p)
		if e != nil {
			extra = e
		}
	}
	for k, p := range s.Properties {
		props[k] = p.Value
	}
	if s.AdditionalProperties.Schema != nil {
		extra = s.AdditionalProperties.Schema.Value
	}
	return props, extra
}

func itemSchema(s *openapi3.Schema) *openapi3.Schema {
	if s.Items != nil && s.Items.Value != nil && !s.Items.Value.IsEmpty() {
		return s.Items.Value
	}
	for _, part := range slices.Backward(s.AllOf) {
		if items := itemSchema(part.Value); items != nil {
			return items
		}
	}
	return nil
}

// The main operations, driven for real, answer as the document says, and so do their
// refusals (400, 401, 403, 404, 409).
func TestOpenAPIMatchesAnswers(t *testing.T) {
	doc := loadDoc(t)
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		c := &checker{doc: doc, e: e, covered: map[string]bool{}}
		driveAPI(t, c)
		var missed []string
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				if !c.covered[method+" "+path] {
					missed = append(missed, method+" "+path)
				}
			}
		}
		slices.Sort(missed)
		if len(missed) > 0 {
			t.Logf("operations not driven by this test (%d): %s", len(missed), strings.Join(missed, ", "))
		}
	})
}

func driveAPI(t *testing.T, c *checker) {
	e := c.e
	ctx := context.Background()
	do := func(cl call) map[string]any { t.Helper(); return c.do(t, cl) }

	// Signing in, and the signed-in agent.
	do(call{method: "GET", path: "/api/v1/openapi.json", want: 200})
	do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "agent1@hotline.test", "password": password}, want: 200})
	do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "agent1@hotline.test", "password": "wrong password"}, want: 401})
	do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "agent1@hotline.test"}, want: 400, invalid: true})
	do(call{who: "agent1", method: "GET", path: "/api/v1/me", want: 200})
	// Where the desk requires a second factor the API's password sign-in is refused (use the
	// console), and where passwords are off (single sign-on) it is forbidden.
	for cfg, want := range map[*access.Config]int{{RequireTOTP: true}: 401, {PasswordsOff: true}: 403} {
		other := *e
		other.app = api.New(api.Config{Service: e.svc, Access: access.New(e.svc, *cfg), Log: slog.New(slog.DiscardHandler)})
		(&checker{doc: c.doc, e: &other, covered: c.covered}).do(t, call{method: "POST", path: "/api/v1/auth/login",
			body: map[string]string{"email": "agent1@hotline.test", "password": password}, want: want})
	}
	do(call{method: "GET", path: "/api/v1/me", want: 401, invalid: true})
	do(call{who: "agent1", method: "POST", path: "/api/v1/me/presence", body: map[string]bool{"online": true}, want: 200})

	// Tickets: create, list, read, and every action.
	tk := do(call{who: "agent1", method: "POST", path: "/api/v1/tickets", want: 201, body: map[string]any{
		"channel": "phone", "customer": map[string]string{"name": "王磊", "phone": "13800138000"},
		"subject": "理赔进度", "body": "客户来电询问理赔进度", "priority": "normal"}})
	ref := getS(tk, "ref")
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets", body: `{"customer": {"phone": "13800138000"}, "body": "x", "colour": "red"}`, want: 400, invalid: true})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets", body: `{"customer": `, want: 400, invalid: true})
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets?status=new,open&assignee=me&limit=10", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets?status=done", want: 400, invalid: true})
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/" + ref, want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/HL-999999", want: 404})
	do(call{method: "GET", path: "/api/v1/tickets/" + ref, want: 401, invalid: true})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/notes", body: map[string]string{"body": "已核实保单"}, want: 201})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/assign", body: map[string]any{"assignee_id": e.id("agent1")}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/assign", body: map[string]any{"assignee_id": e.id("agent2")}, want: 403})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/priority", body: map[string]string{"priority": "high", "reason": "老客户"}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/category", body: map[string]string{"category": "claims"}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/status", body: map[string]string{"status": "pending"}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/status", body: map[string]string{"status": "resolved"}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/status", body: map[string]string{"status": "pending"}, want: 409})

	// Replies: JSON and with files, on a texted ticket; the file the customer emailed.
	sms := e.intake(t, sms("+8613900139001", "我的理赔到哪一步了"))
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + sms.Ref() + "/replies", body: map[string]string{"body": "正在审核"}, want: 201})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + sms.Ref() + "/replies", body: map[string]string{"body": "正在审核", "channel": "wechat"}, want: 409})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + sms.Ref() + "/notes", body: map[string]string{"body": strings.Repeat("长", 100<<10)}, want: 413})
	ct, form := multipartBody(t, map[string]string{"body": "见附件", "status": "resolved"}, formFile{"files", "清单.png", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + sms.Ref() + "/replies", form: form, contentType: ct, want: 201})
	res, err := e.svc.Intake(ctx, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "zhou@example.cn",
		Subject: "发票", Body: "见附件", ProviderMessageID: "<inv@openapi>",
		Attachments: []tickets.NewAttachment{{Filename: "发票.pdf", ContentType: "application/pdf", SizeBytes: 16, Content: []byte("%PDF-1.4 invoice")}}})
	if err != nil {
		t.Fatal(err)
	}
	d := do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/" + res.Ticket.Ref(), want: 200})
	do(call{who: "agent1", method: "GET", path: getS(getA(getA(d, "messages")[0], "attachments")[0], "download_url"), want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/attachments/0", want: 404, invalid: true})
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets.csv?lang=en&from=2026-11-01&to=2026-11-30", want: 200})

	// Customers.
	do(call{who: "agent1", method: "GET", path: "/api/v1/customers?q=138000", want: 200})
	cu := getN(get(tk, "customer"), "id")
	do(call{who: "agent1", method: "GET", path: "/api/v1/customers/" + itoa(cu), want: 200})
	do(call{who: "agent1", method: "PATCH", path: "/api/v1/customers/" + itoa(cu), body: map[string]string{"tags": "vip"}, want: 200})
	// Values are masked; one in full is revealed to a role allowed to see it, recorded.
	msgID := getN(getA(do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/" + ref, want: 200}), "messages")[0], "id")
	reveal := "/api/v1/customers/" + itoa(cu) + "/reveal"
	do(call{who: "agent1", method: "POST", path: reveal, body: map[string]any{"field": "phone", "ticket": ref}, want: 200})
	do(call{who: "agent1", method: "POST", path: reveal, body: map[string]any{"field": "message", "message_id": msgID}, want: 403})
	do(call{who: "sup1", method: "POST", path: reveal, body: map[string]any{"field": "message", "message_id": msgID}, want: 200})
	do(call{who: "sup1", method: "POST", path: reveal, body: map[string]any{"field": "message"}, want: 400})
	do(call{who: "sup1", method: "POST", path: reveal, body: map[string]any{"field": "message", "message_id": 999999}, want: 404})
	do(call{who: "sup1", method: "POST", path: reveal, body: map[string]any{"field": "fax"}, want: 400, invalid: true})

	// People.
	do(call{who: "agent1", method: "GET", path: "/api/v1/agents", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/agents/" + itoa(e.id("agent2")), want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/agents", body: map[string]any{"email": "new@hotline.test", "password": password}, want: 403})
	nu := do(call{who: "admin", method: "POST", path: "/api/v1/agents", want: 201, body: map[string]any{
		"email": "officer@hotline.test", "name": "Gu Officer", "role": "complaint_officer", "password": password}})
	do(call{who: "admin", method: "POST", path: "/api/v1/agents", body: map[string]any{"email": "officer@hotline.test", "password": password}, want: 409})
	// Five wrong passwords lock the account: 429 until an admin lifts it, once.
	for range 5 {
		do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "officer@hotline.test", "password": "wrong password"}, want: 401})
	}
	do(call{method: "POST", path: "/api/v1/auth/login", body: map[string]string{"email": "officer@hotline.test", "password": password}, want: 429})
	do(call{who: "admin", method: "POST", path: "/api/v1/agents/" + itoa(getN(nu, "id")) + "/unlock", want: 200})
	do(call{who: "admin", method: "POST", path: "/api/v1/agents/" + itoa(getN(nu, "id")) + "/unlock", want: 409})
	// The officer lost their phone: an admin resets their second factor, once; not their own.
	e.enrolTOTP(t, getN(nu, "id"))
	do(call{who: "sup1", method: "POST", path: "/api/v1/agents/" + itoa(getN(nu, "id")) + "/2fa/reset", want: 403})
	do(call{who: "admin", method: "POST", path: "/api/v1/agents/" + itoa(getN(nu, "id")) + "/2fa/reset", want: 200})
	do(call{who: "admin", method: "POST", path: "/api/v1/agents/" + itoa(getN(nu, "id")) + "/2fa/reset", want: 409})
	do(call{who: "admin", method: "POST", path: "/api/v1/agents/" + itoa(e.id("admin")) + "/2fa/reset", want: 403})
	do(call{who: "admin", method: "POST", path: "/api/v1/agents/999999/2fa/reset", want: 404})
	do(call{who: "admin", method: "PATCH", path: "/api/v1/agents/" + itoa(e.id("agent3")), body: map[string]any{"capacity": 5}, want: 200})
	do(call{who: "admin", method: "GET", path: "/api/v1/teams", want: 200})
	team := do(call{who: "admin", method: "POST", path: "/api/v1/teams", body: map[string]string{"name": "Motor"}, want: 201})
	do(call{who: "admin", method: "PATCH", path: "/api/v1/teams/" + itoa(getN(team, "id")), body: map[string]string{"name": "Motor claims"}, want: 200})
	do(call{who: "admin", method: "GET", path: "/api/v1/teams/" + itoa(getN(team, "id")), want: 200})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/teams/" + itoa(getN(team, "id")), want: 204})
	do(call{who: "admin", method: "GET", path: "/api/v1/teams/" + itoa(getN(team, "id")), want: 404})

	// Complaints: logged on the ticket, assigned, moved, extended, decided.
	cp := do(call{who: "sup1", method: "POST", path: "/api/v1/complaints", want: 201, body: map[string]any{
		"ticket_ref": sms.Ref(), "source": "customer", "summary": "理赔拖延"}})
	cref := getS(cp, "ref")
	do(call{who: "sup1", method: "POST", path: "/api/v1/complaints", body: map[string]any{"ticket_ref": sms.Ref(), "summary": "again"}, want: 409})
	do(call{who: "agent1", method: "GET", path: "/api/v1/complaints?status=received,investigating&officer=me", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/complaints/" + cref, want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/complaints/CP-999999", want: 404})
	do(call{who: "agent1", method: "POST", path: "/api/v1/complaints/" + cref + "/status", body: map[string]string{"status": "investigating"}, want: 403})
	do(call{who: "sup1", method: "POST", path: "/api/v1/complaints/" + cref + "/assign", body: map[string]any{"officer_id": getN(nu, "id")}, want: 200})
	do(call{who: "sup1", method: "POST", path: "/api/v1/complaints/" + cref + "/status", body: map[string]string{"status": "investigating"}, want: 200})
	due, err := time.Parse(time.RFC3339, getS(cp, "due_at"))
	if err != nil {
		t.Fatalf("due_at: %v", err)
	}
	until := due.AddDate(0, 0, 14).Format(time.RFC3339)
	do(call{who: "sup1", method: "POST", path: "/api/v1/complaints/" + cref + "/extend", body: map[string]string{"until": until, "reason": "等待第三方鉴定"}, want: 200})
	do(call{who: "sup1", method: "POST", path: "/api/v1/complaints/" + cref + "/decision", body: map[string]string{"decision": "全额赔付", "outcome": "upheld"}, want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/complaints.csv?lang=en", want: 200})

	// Follow-ups (the resolved ticket scheduled them) and reports.
	fs := do(call{who: "agent1", method: "GET", path: "/api/v1/followups?assignee=me&status=open", want: 200})
	if items := getA(fs, "items"); len(items) > 0 {
		do(call{who: "agent1", method: "POST", path: "/api/v1/followups/" + itoa(getN(items[0], "id")) + "/complete", body: map[string]string{"note": "客户满意"}, want: 200})
	}
	do(call{who: "sup1", method: "GET", path: "/api/v1/reports/csat", want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/reports/floor", want: 200})
	do(call{who: "admin", method: "GET", path: "/api/v1/reports/floor?team=" + itoa(e.team("Claims")), want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/reports/floor", want: 403})
	do(call{who: "sup1", method: "GET", path: "/api/v1/reports/kpi.csv?month=2026-11", want: 200})

	// Progress stages: a claim moved along its category's stages, documents asked for and
	// ticked off, and an admin's list for another category.
	claim := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+8613900139066", Body: "理赔材料",
		ProviderMessageID: "SM-openapi-stages"}).Ref()
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/category", body: map[string]string{"category": "claims"}, want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/stages", want: 200})
	stgs := getA(do(call{who: "agent1", method: "GET", path: "/api/v1/stages?category=claims", want: 200}), "items")
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/" + claim + "/progress", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/HL-999999/progress", want: 404})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/stage", body: map[string]any{"stage_id": getN(stgs[1], "id")}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/stage", body: map[string]any{"stage_id": getN(stgs[1], "id")}, want: 409})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/stage", body: map[string]any{"stage": "x"}, want: 400, invalid: true})
	do(call{who: "agent1", method: "PUT", path: "/api/v1/stages/policy", body: map[string]any{"stages": []map[string]any{{"name_zh": "已受理", "name_en": "Received"}}}, want: 403})
	do(call{who: "admin", method: "PUT", path: "/api/v1/stages/policy", body: map[string]any{"stages": []map[string]any{{"name_zh": "已受理", "name_en": "Received", "due_days": 2}}}, want: 200})
	do(call{who: "admin", method: "PUT", path: "/api/v1/stages/policy", body: map[string]any{"stages": []map[string]any{{"name_zh": "已受理", "name_en": "Received", "due_days": 99}}}, want: 400, invalid: true})
	do(call{who: "admin", method: "PUT", path: "/api/v1/stages/claims", body: map[string]any{"stages": []map[string]any{{"name_zh": "已受理", "name_en": "Received"}}}, want: 409})
	policyStage := getN(getA(do(call{who: "agent1", method: "GET", path: "/api/v1/stages?category=policy", want: 200}), "items")[0], "id")
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/stage", body: map[string]any{"stage_id": policyStage}, want: 400})
	pr := do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/documents", body: map[string]any{"items": []string{"发票原件", "诊断证明"}}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/documents", body: map[string]any{"items": []string{}}, want: 400, invalid: true})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/documents/" + itoa(getN(getA(pr, "documents")[0], "id")), body: map[string]bool{"received": true}, want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + claim + "/documents/999999", body: map[string]bool{"received": true}, want: 404})
	do(call{who: "agent1", method: "POST", path: "/api/v1/tickets/" + ref + "/documents", body: map[string]any{"items": []string{"发票原件"}}, want: 409})

	// Privacy: a customer's copy, legal holds stopping their erasure, the erasure, who read
	// what, and the retention policy with a run recorded.
	pt := do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/" + e.resolvedFor(t, "+8613900139088", "agent1"), want: 200})
	pcu := "/api/v1/customers/" + itoa(getN(get(pt, "customer"), "id"))
	do(call{who: "agent1", method: "GET", path: pcu + "/export", want: 403})
	do(call{who: "sup1", method: "GET", path: pcu + "/export?format=pdf", want: 400, invalid: true})
	do(call{who: "sup1", method: "GET", path: "/api/v1/customers/999999/export", want: 404})
	do(call{who: "sup1", method: "GET", path: pcu + "/export", want: 200})
	do(call{who: "admin", method: "GET", path: pcu + "/export?format=html&lang=en", want: 200})
	do(call{who: "agent1", method: "POST", path: "/api/v1/legal-holds", body: map[string]any{"customer_id": getN(get(pt, "customer"), "id"), "reason": "x"}, want: 403})
	do(call{who: "sup1", method: "POST", path: "/api/v1/legal-holds", body: map[string]any{"customer_id": getN(get(pt, "customer"), "id"), "complaint_id": getN(cp, "id"), "reason": "x"}, want: 400})
	do(call{who: "sup1", method: "POST", path: "/api/v1/legal-holds", body: map[string]any{"customer_id": 999999, "reason": "x"}, want: 404})
	hold := do(call{who: "sup1", method: "POST", path: "/api/v1/legal-holds", body: map[string]any{"customer_id": getN(get(pt, "customer"), "id"), "reason": "诉讼 7 号"}, want: 201})
	do(call{who: "sup1", method: "POST", path: "/api/v1/legal-holds", body: map[string]any{"customer_id": getN(get(pt, "customer"), "id"), "reason": "again"}, want: 409})
	do(call{who: "admin", method: "POST", path: "/api/v1/legal-holds", body: map[string]any{"complaint_id": getN(cp, "id"), "reason": "监管调查"}, want: 201})
	do(call{who: "sup1", method: "POST", path: pcu + "/erase", body: map[string]string{"reason": "客户来电要求"}, want: 409})
	do(call{who: "sup1", method: "POST", path: pcu + "/erase", body: map[string]string{}, want: 400, invalid: true})
	do(call{who: "agent1", method: "POST", path: pcu + "/erase", body: map[string]string{"reason": "客户来电要求"}, want: 403})
	release := "/api/v1/legal-holds/" + itoa(getN(hold, "id")) + "/release"
	do(call{who: "sup1", method: "POST", path: release, body: map[string]string{"reason": "结案"}, want: 200})
	do(call{who: "sup1", method: "POST", path: release, body: map[string]string{"reason": "结案"}, want: 409})
	do(call{who: "sup1", method: "POST", path: pcu + "/erase", body: map[string]string{"reason": "客户来电要求"}, want: 200})
	do(call{who: "admin", method: "POST", path: pcu + "/erase", body: map[string]string{"reason": "again"}, want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/customers/" + itoa(cu) + "/privacy", want: 200})
	do(call{who: "agent1", method: "GET", path: pcu + "/privacy", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/customers/999999/privacy", want: 404})
	if _, err := privacy.New(e.svc, privacy.Config{}).RunPeriod(ctx); err != nil {
		t.Fatal(err)
	}
	do(call{who: "sup1", method: "GET", path: "/api/v1/retention-policy", want: 403})
	do(call{who: "admin", method: "GET", path: "/api/v1/retention-policy", want: 200})
	do(call{who: "admin", method: "PUT", path: "/api/v1/retention-policy", body: map[string]any{"messages": -3}, want: 400, invalid: true})
	do(call{who: "admin", method: "PUT", path: "/api/v1/retention-policy", body: map[string]any{"messages": 365, "colour": 1}, want: 400, invalid: true})
	do(call{who: "admin", method: "PUT", path: "/api/v1/retention-policy", body: map[string]any{"messages": 365, "attachments": 180, "recordings": 90, "customers": 1095}, want: 200})

	// Quality reviews: a rubric and its next version, a sample, a review scored and edited,
	// the agent's one answer, calibration, and the refusals on the way.
	rubric := map[string]any{"name": "Calls", "criteria": []map[string]any{
		{"name_zh": "礼貌用语", "name_en": "Greeting", "weight": 40, "max": 5},
		{"name_zh": "解决问题", "name_en": "Solution", "desc_en": "Was the question settled?", "weight": 60, "max": 10}}}
	do(call{who: "sup1", method: "POST", path: "/api/v1/quality/rubrics", body: rubric, want: 403})
	do(call{who: "admin", method: "POST", path: "/api/v1/quality/rubrics", want: 400, body: map[string]any{"name": "Half",
		"criteria": []map[string]any{{"name_zh": "一", "name_en": "One", "weight": 50, "max": 5}}}})
	do(call{who: "admin", method: "POST", path: "/api/v1/quality/rubrics", body: `{"name": "x", "criteria": [], "colour": "red"}`, want: 400, invalid: true})
	rb := do(call{who: "admin", method: "POST", path: "/api/v1/quality/rubrics", body: rubric, want: 201})
	rubric["criteria"] = []map[string]any{
		{"key": "k1", "name_zh": "礼貌用语", "name_en": "Greeting", "weight": 30, "max": 5},
		{"key": "k2", "name_zh": "解决问题", "name_en": "Solution", "weight": 70, "max": 10}}
	rb2 := do(call{who: "admin", method: "PUT", path: "/api/v1/quality/rubrics/" + itoa(getN(rb, "id")), body: rubric, want: 201})
	do(call{who: "admin", method: "PUT", path: "/api/v1/quality/rubrics/" + itoa(getN(rb, "id")), body: rubric, want: 409})
	do(call{who: "admin", method: "PUT", path: "/api/v1/quality/rubrics/999999", body: rubric, want: 404})
	do(call{who: "agent1", method: "GET", path: "/api/v1/quality/rubrics", want: 200})
	reviewed := e.resolvedFor(t, "+8613900139077", "agent1")
	period := "&from=" + url.QueryEscape(t0.Add(-time.Hour).Format(time.RFC3339)) + "&to=" + url.QueryEscape(t0.Add(time.Hour).Format(time.RFC3339))
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/sample?team=" + itoa(e.team("Claims")) + period + "&n=5&seed=42&long=1&hours=1", want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/sample?team=" + itoa(e.team("Claims")) + period, want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/sample?team=" + itoa(e.team("Claims")) + period + "&n=0", want: 400, invalid: true})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/sample?team=" + itoa(e.team("Claims")), want: 400, invalid: true})
	do(call{who: "agent1", method: "GET", path: "/api/v1/quality/sample?team=" + itoa(e.team("Claims")) + period, want: 403})
	review := map[string]any{"ticket": reviewed, "rubric_id": getN(rb2, "id"), "marks": map[string]int{"k1": 5, "k2": 5}, "comment": "清楚"}
	do(call{who: "agent1", method: "POST", path: "/api/v1/quality/reviews", body: review, want: 403})
	do(call{who: "sup1", method: "POST", path: "/api/v1/quality/reviews", body: map[string]any{"ticket": reviewed, "rubric_id": getN(rb2, "id"), "marks": map[string]int{"k1": 9, "k2": 5}}, want: 400})
	do(call{who: "sup1", method: "POST", path: "/api/v1/quality/reviews", body: map[string]any{"ticket": "HL-999999", "rubric_id": getN(rb2, "id"), "marks": map[string]int{"k1": 1, "k2": 1}}, want: 404})
	do(call{who: "sup1", method: "POST", path: "/api/v1/quality/reviews", body: map[string]any{"ticket": reviewed, "rubric_id": getN(rb, "id"), "marks": map[string]int{"k1": 1, "k2": 1}}, want: 409})
	rv := do(call{who: "sup1", method: "POST", path: "/api/v1/quality/reviews", body: review, want: 201})
	review["marks"] = map[string]int{"k1": 5, "k2": 10}
	do(call{who: "sup1", method: "POST", path: "/api/v1/quality/reviews", body: review, want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/quality/reviews", want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/reviews?agent=" + itoa(e.id("agent1")), want: 200})
	do(call{who: "agent2", method: "GET", path: "/api/v1/quality/reviews?agent=" + itoa(e.id("agent1")), want: 403})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/reviews?agent=someone", want: 400})
	answer := "/api/v1/quality/reviews/" + itoa(getN(rv, "id")) + "/answer"
	do(call{who: "sup1", method: "POST", path: answer, body: map[string]string{"answer": "x"}, want: 403})
	do(call{who: "agent1", method: "POST", path: answer, body: map[string]string{"answer": "收到，会改进。"}, want: 200})
	do(call{who: "agent1", method: "POST", path: answer, body: map[string]string{"answer": "再说一次"}, want: 409})
	do(call{who: "sup1", method: "POST", path: "/api/v1/quality/reviews", body: review, want: 409})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/reviews/" + itoa(getN(rv, "id")), want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/reviews/999999", want: 404})
	do(call{who: "admin", method: "POST", path: "/api/v1/quality/reviews", body: map[string]any{"ticket": reviewed, "rubric_id": getN(rb2, "id"), "marks": map[string]int{"k1": 1, "k2": 10}}, want: 201})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/calibration/" + reviewed, want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/quality/calibration/" + reviewed, want: 403})
	do(call{who: "sup1", method: "GET", path: "/api/v1/quality/calibration/" + ref, want: 404})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/quality/rubrics/" + itoa(getN(rb2, "id")), want: 204})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/quality/rubrics/" + itoa(getN(rb2, "id")), want: 409})

	// Scorecards against the targets, the tickets behind a figure, and frequent issues.
	const month = "&from=2026-11-01&to=2026-11-30"
	claims := itoa(e.team("Claims"))
	do(call{who: "agent1", method: "GET", path: "/api/v1/reports/scorecard?from=2026-11-01", want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/reports/scorecard?agent=" + itoa(e.id("agent1")) + month, want: 200})
	do(call{who: "sup1", method: "GET", path: "/api/v1/reports/scorecard?team=" + claims + month, want: 200})
	do(call{who: "agent2", method: "GET", path: "/api/v1/reports/scorecard?agent=" + itoa(e.id("agent1")) + month, want: 403})
	do(call{who: "admin", method: "GET", path: "/api/v1/reports/scorecard?team=999999", want: 404})
	do(call{who: "admin", method: "GET", path: "/api/v1/reports/scorecard?team=" + claims + "&agent=" + itoa(e.id("agent1")), want: 400})
	do(call{who: "admin", method: "GET", path: "/api/v1/reports/scorecard?agent=bo", want: 400, invalid: true})
	for _, fig := range []string{"handled", "reviews", "csat"} {
		do(call{who: "sup1", method: "GET", path: "/api/v1/reports/scorecard/tickets?figure=" + fig + "&team=" + claims + month, want: 200})
	}
	do(call{who: "sup2", method: "GET", path: "/api/v1/reports/scorecard/tickets?figure=handled&team=" + claims + month, want: 403})
	do(call{who: "agent1", method: "GET", path: "/api/v1/reports/scorecard/tickets?figure=bogus", want: 400, invalid: true})
	do(call{who: "agent1", method: "GET", path: "/api/v1/reports/targets", want: 200})
	do(call{who: "sup1", method: "PUT", path: "/api/v1/reports/targets", body: map[string]any{"satisfied": 90}, want: 403})
	do(call{who: "admin", method: "PUT", path: "/api/v1/reports/targets", body: map[string]any{"satisfied": 120}, want: 400, invalid: true})
	do(call{who: "admin", method: "PUT", path: "/api/v1/reports/targets", body: map[string]any{"satisfaction": 90}, want: 400, invalid: true})
	do(call{who: "admin", method: "PUT", path: "/api/v1/reports/targets", body: map[string]any{"satisfied": 90, "first_response": nil, "followups": 100}, want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/reports/frequent-issues", want: 403})
	do(call{who: "sup1", method: "GET", path: "/api/v1/reports/frequent-issues?weeks=2&end=2026-11-25", want: 200})
	do(call{who: "admin", method: "GET", path: "/api/v1/reports/frequent-issues?team=" + claims, want: 200})
	do(call{who: "admin", method: "GET", path: "/api/v1/reports/frequent-issues?weeks=1", want: 400, invalid: true})
	do(call{who: "sup1", method: "GET", path: "/api/v1/reports/frequent-issues.csv?weeks=2&end=2026-11-25&lang=en", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/reports/frequent-issues.csv", want: 403})

	// Settings.
	do(call{who: "agent1", method: "GET", path: "/api/v1/sla-policies", want: 200})
	p := do(call{who: "admin", method: "POST", path: "/api/v1/sla-policies", want: 201, body: map[string]any{
		"name": "Urgent phone", "channel": "phone", "priority": "urgent", "first_response_seconds": 3600, "resolution_seconds": 14400,
		"first_response_breach": "warn", "resolution_breach": "escalate"}})
	do(call{who: "admin", method: "PUT", path: "/api/v1/sla-policies/" + itoa(getN(p, "id")), want: 200, body: map[string]any{
		"name": "Urgent phone", "channel": "phone", "priority": "urgent", "first_response_seconds": 1800, "resolution_seconds": 14400,
		"first_response_breach": "warn", "resolution_breach": "escalate"}})
	do(call{who: "agent1", method: "DELETE", path: "/api/v1/sla-policies/" + itoa(getN(p, "id")), want: 403})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/sla-policies/" + itoa(getN(p, "id")), want: 204})
	r := do(call{who: "admin", method: "POST", path: "/api/v1/routing-rules", want: 201, body: map[string]any{
		"name": "Billing words", "keywords": "发票,invoice", "team_id": e.team("Billing")}})
	do(call{who: "admin", method: "GET", path: "/api/v1/routing-rules", want: 200})
	do(call{who: "admin", method: "PUT", path: "/api/v1/routing-rules/" + itoa(getN(r, "id")), want: 200, body: map[string]any{
		"name": "Billing words", "keywords": "发票", "team_id": e.team("Billing"), "active": false}})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/routing-rules/" + itoa(getN(r, "id")), want: 204})
	do(call{who: "agent1", method: "GET", path: "/api/v1/calendar/deadline?from=2026-09-28T10:00:00%2B08:00&working_days=10", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/calendar/deadline?from=yesterday", want: 400, invalid: true})
	do(call{who: "admin", method: "PUT", path: "/api/v1/calendar/days/2026-12-31", body: map[string]string{"kind": "holiday", "name": "年终盘点"}, want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/calendar/days?year=2026", want: 200})
	key := getS(itemsOf(t, do(call{who: "agent1", method: "GET", path: "/api/v1/templates", want: 200}))[0], "key")
	do(call{who: "admin", method: "PUT", path: "/api/v1/templates/" + key + "/en", body: map[string]string{"body": "Ticket {{.Ref}}: we are on it."}, want: 200})
	do(call{who: "admin", method: "PUT", path: "/api/v1/templates/" + key + "/en", body: map[string]string{"body": "{{.Nope"}, want: 400})
	do(call{who: "admin", method: "PUT", path: "/api/v1/templates/" + key + "/xx", body: map[string]string{"body": "x"}, want: 400, invalid: true})
	do(call{who: "agent1", method: "PUT", path: "/api/v1/templates/" + key + "/en", body: map[string]string{}, want: 403})

	// Canned replies.
	cr := do(call{who: "sup1", method: "POST", path: "/api/v1/canned-replies", want: 201, body: map[string]any{
		"team_id": e.team("Claims"), "title": "进度", "body_zh": "您的工单 {{ticket_ref}} 正在处理。", "body_en": "Your ticket {{ticket_ref}} is in hand."}})
	do(call{who: "agent1", method: "GET", path: "/api/v1/canned-replies?q=进度", want: 200})
	do(call{who: "agent1", method: "GET", path: "/api/v1/tickets/" + ref + "/canned-replies/" + itoa(getN(cr, "id")), want: 200})
	do(call{who: "sup1", method: "PUT", path: "/api/v1/canned-replies/" + itoa(getN(cr, "id")), want: 200, body: map[string]any{
		"team_id": e.team("Claims"), "title": "进度", "body_zh": "处理中", "body_en": "In hand"}})
	do(call{who: "agent1", method: "DELETE", path: "/api/v1/canned-replies/" + itoa(getN(cr, "id")), want: 403})
	do(call{who: "sup1", method: "DELETE", path: "/api/v1/canned-replies/" + itoa(getN(cr, "id")), want: 204})

	// API keys: made by an admin, used by another system within its scopes, revoked.
	k := do(call{who: "admin", method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": "crm-sync", "scopes": []string{"tickets:read"}}, want: 201})
	do(call{who: "admin", method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": "crm-sync", "scopes": []string{"reports"}}, want: 409})
	do(call{who: "admin", method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": "x", "scopes": []string{"everything"}}, want: 400, invalid: true})
	do(call{who: "sup1", method: "POST", path: "/api/v1/api-keys", body: map[string]any{"name": "mine", "scopes": []string{"reports"}}, want: 403})
	do(call{who: "admin", method: "GET", path: "/api/v1/api-keys", want: 200})
	e.tok["crm-sync"] = getS(k, "key")
	do(call{who: "crm-sync", method: "GET", path: "/api/v1/tickets?limit=5", want: 200})
	do(call{who: "crm-sync", method: "GET", path: "/api/v1/tickets/" + ref, want: 200})
	do(call{who: "crm-sync", method: "POST", path: "/api/v1/tickets/" + ref + "/notes", body: map[string]string{"body": "from the CRM"}, want: 403})
	do(call{who: "crm-sync", method: "GET", path: "/api/v1/me", want: 403})
	do(call{who: "crm-sync", method: "GET", path: "/api/v1/api-keys", want: 403})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/api-keys/" + itoa(getN(get(k, "api_key"), "id")), want: 204})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/api-keys/999999", want: 404})
	do(call{who: "crm-sync", method: "GET", path: "/api/v1/tickets/" + ref, want: 401})

	// Outbound webhooks: subscribed, changed, pinged, read, redelivered, paused, resumed,
	// rotated and deleted (nothing is sent here: TestWebhooksAPI sends to a receiver).
	wh := do(call{who: "admin", method: "POST", path: "/api/v1/webhooks", want: 201, body: map[string]any{
		"name": "CRM", "url": "https://crm.example.com/hotline", "events": []string{"ticket.created", "complaint.opened"}}})
	do(call{who: "admin", method: "POST", path: "/api/v1/webhooks", body: map[string]any{"name": "x", "url": "http://127.0.0.1/", "events": []string{"ticket.created"}}, want: 400})
	do(call{who: "admin", method: "POST", path: "/api/v1/webhooks", body: map[string]any{"name": "x", "url": "https://crm.example.com", "events": []string{"everything"}}, want: 400, invalid: true})
	do(call{who: "sup1", method: "GET", path: "/api/v1/webhooks", want: 403})
	do(call{who: "admin", method: "GET", path: "/api/v1/webhooks", want: 200})
	hookPath := "/api/v1/webhooks/" + itoa(getN(get(wh, "webhook"), "id"))
	do(call{who: "admin", method: "GET", path: hookPath, want: 200})
	do(call{who: "admin", method: "GET", path: "/api/v1/webhooks/999999", want: 404})
	do(call{who: "admin", method: "PATCH", path: hookPath, body: map[string]any{"name": "CRM sync"}, want: 200})
	do(call{who: "admin", method: "PATCH", path: hookPath, body: map[string]any{"url": "gopher://x"}, want: 400})
	ping := do(call{who: "admin", method: "POST", path: hookPath + "/ping", want: 202})
	do(call{who: "admin", method: "GET", path: hookPath + "/deliveries?limit=10", want: 200})
	do(call{who: "admin", method: "GET", path: hookPath + "/deliveries?state=gone", want: 400, invalid: true})
	do(call{who: "admin", method: "GET", path: "/api/v1/webhook-deliveries/" + itoa(getN(ping, "id")), want: 200})
	do(call{who: "admin", method: "GET", path: "/api/v1/webhook-deliveries/999999", want: 404})
	do(call{who: "admin", method: "POST", path: "/api/v1/webhook-deliveries/" + itoa(getN(ping, "id")) + "/redeliver", want: 202})
	do(call{who: "admin", method: "POST", path: hookPath + "/pause", want: 200})
	do(call{who: "admin", method: "POST", path: hookPath + "/resume", want: 200})
	do(call{who: "admin", method: "POST", path: hookPath + "/rotate-secret", want: 200})
	do(call{who: "admin", method: "DELETE", path: hookPath, want: 204})
	do(call{who: "admin", method: "DELETE", path: hookPath, want: 404})

	// Notices, the password, and signing out.
	ns := do(call{who: "sup1", method: "GET", path: "/api/v1/notices?limit=20", want: 200})
	upTo := int64(1)
	if items := getA(ns, "items"); len(items) > 0 {
		upTo = getN(items[0], "id")
	}
	do(call{who: "sup1", method: "POST", path: "/api/v1/notices/read", body: map[string]any{"up_to": upTo}, want: 204})
	do(call{who: "sup1", method: "POST", path: "/api/v1/notices/read", body: map[string]any{"up_to": 0}, want: 400, invalid: true})
	do(call{who: "agent2", method: "POST", path: "/api/v1/me/password", body: map[string]string{"current_password": "not it", "new_password": "another-long-password"}, want: 403})
	do(call{who: "agent2", method: "POST", path: "/api/v1/me/password", body: map[string]string{"current_password": password, "new_password": "another-long-password"}, want: 204})
	do(call{who: "admin", method: "DELETE", path: "/api/v1/agents/" + itoa(e.id("agent3")), want: 200})
	do(call{who: "agent2", method: "POST", path: "/api/v1/auth/logout", want: 204})
	do(call{who: "agent2", method: "GET", path: "/api/v1/me", want: 401})
}

// Every operation behind the token names the scope an API key needs for it
// (x-api-key-scope, "none" for the routes only people use), as routeScopes holds it.
func TestOpenAPINamesEveryKeyScope(t *testing.T) {
	doc := loadDoc(t)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Security != nil && len(*op.Security) == 0 {
				continue // public: no token, no key
			}
			want, ok := api.RouteScope(method, fiberPath(path))
			if !ok {
				t.Errorf("%s %s: no scope in routeScopes", method, path)
				continue
			}
			if want == "" {
				want = "none"
			}
			if got, _ := op.Extensions["x-api-key-scope"].(string); got != want {
				t.Errorf("%s %s: x-api-key-scope %q, want %q", method, path, got, want)
			}
		}
	}
}

// docParam is a path parameter as the document writes it, {ref}; Fiber's is :ref.
var docParam = regexp.MustCompile(`\{(\w+)\}`)

// fiberPath is a documented path as Fiber registers it.
func fiberPath(path string) string { return docParam.ReplaceAllString(path, ":$1") }

// The document says alike what every route answers alike: a route behind the token can
// answer 401, one that reads a body 400 and 413, and every refusal is {"error": "..."};
// and every operation is named, summed up and filed under a tag for its readers.
func TestOpenAPIStatesTheCommonRefusals(t *testing.T) {
	doc := loadDoc(t)
	errorSchema := doc.Components.Schemas["Error"].Value
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s needs an operationId, a summary and a tag", name)
			}
			public := op.Security != nil && len(*op.Security) == 0
			if !public && op.Responses.Status(401) == nil {
				t.Errorf("%s takes a token but does not document 401", name)
			}
			if op.RequestBody != nil && (op.Responses.Status(400) == nil || op.Responses.Status(413) == nil) {
				t.Errorf("%s reads a body but does not document both 400 and 413", name)
			}
			for code, r := range op.Responses.Map() {
				if code < "400" || code == "416" {
					continue
				}
				mt := r.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || mt.Schema.Value != errorSchema {
					t.Errorf("%s answers %s with something other than the Error object", name, code)
				}
			}
		}
	}
}
