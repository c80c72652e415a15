package api_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/hotlinedesk/hotline/tickets"
	"github.com/hotlinedesk/hotline/tickets/privacy"
	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Finding the caller: GET /customers?q= and GET /tickets?q= read a phone number in any
// form or its last digits, a name, an email address or an openid.
func TestFindCustomer(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		wang := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "+86 138 0013 8000", Name: "王小明", Body: "理赔进度？"})
		li := e.intake(t, tickets.Inbound{Channel: tickets.ChannelSMS, From: tickets.IdentityPhone, Address: "13900008000", Name: "Li Lei", Body: "any news?"})
		han := e.intake(t, tickets.Inbound{Channel: tickets.ChannelEmail, From: tickets.IdentityEmail, Address: "Han.Meimei@Example.com", Name: "Han Meimei", Subject: "claim", Body: "hello"})
		wx := e.intake(t, tickets.Inbound{Channel: tickets.ChannelWeChat, From: tickets.IdentityWeChat, Address: "oWx_Abc123", Name: "微信用户", Body: "你好"})

		for _, c := range []struct {
			q     string
			names []string
			refs  []string
		}{
			{"+86 138 0013 8000", []string{"王小明"}, []string{wang.Ref()}},
			{"13800138000", []string{"王小明"}, []string{wang.Ref()}},
			{"0086 138 0013 8000", []string{"王小明"}, []string{wang.Ref()}},
			{"8000", []string{"Li Lei", "王小明"}, []string{li.Ref(), wang.Ref()}},
			{"小明", []string{"王小明"}, []string{wang.Ref()}},
			{"li LEI", []string{"Li Lei"}, []string{li.Ref()}},
			{"HAN.MEIMEI@example.com", []string{"Han Meimei"}, []string{han.Ref()}},
			{"oWx_Abc123", []string{"微信用户"}, []string{wx.Ref()}},
			{"nobody", nil, nil},
		} {
			status, js := e.do(t, "GET", "/api/v1/customers?q="+url.QueryEscape(c.q), "agent1", nil)
			wantStatus(t, status, js, 200)
			items := itemsOf(t, js)
			got := fieldOf(items, "name")
			slices.Sort(got)
			if !slices.Equal(got, c.names) && !(len(got) == 0 && len(c.names) == 0) {
				t.Errorf("customers?q=%s = %q, want %q", c.q, got, c.names)
			}
			for _, it := range items {
				wantHasKeys(t, it, "id", "name", "phone", "email", "wechat_openid", "locale", "tags")
			}
			refs := e.refs(t, "agent1", "status=new,open,pending&q="+url.QueryEscape(c.q))
			slices.Sort(refs)
			want := slices.Clone(c.refs)
			slices.Sort(want)
			if !slices.Equal(refs, want) && !(len(refs) == 0 && len(want) == 0) {
				t.Errorf("tickets?q=%s = %q, want %q", c.q, refs, want)
			}
		}

		// Paged, newest first.
		status, js := e.do(t, "GET", "/api/v1/customers?q=8000&limit=1", "agent1", nil)
		wantStatus(t, status, js, 200)
		if got := fieldOf(itemsOf(t, js), "name"); !slices.Equal(got, []string{"Li Lei"}) || getS(js, "next_cursor") == "" {
			t.Fatalf("first page = %q, cursor %q", got, getS(js, "next_cursor"))
		}
		status, js = e.do(t, "GET", "/api/v1/customers?q=8000&limit=1&cursor="+getS(js, "next_cursor"), "agent1", nil)
		wantStatus(t, status, js, 200)
		if got := fieldOf(itemsOf(t, js), "name"); !slices.Equal(got, []string{"王小明"}) {
			t.Errorf("second page = %q", got)
		}

		for _, c := range []struct {
			name, path, who string
			status          int
		}{
			{"no token", "/api/v1/customers?q=8000", "", 401},
			{"no query", "/api/v1/customers", "agent1", 400},
			{"blank query", "/api/v1/customers?q=%20%20", "agent1", 400},
			{"long query", "/api/v1/customers?q=" + strings.Repeat("a", tickets.MaxSearchLen+1), "agent1", 400},
			{"bad limit", "/api/v1/customers?q=8000&limit=x", "agent1", 400},
			{"big limit", "/api/v1/customers?q=8000&limit=101", "agent1", 400},
			{"bad cursor", "/api/v1/customers?q=8000&cursor=-3", "agent1", 400},
			{"long ticket query", "/api/v1/tickets?q=" + strings.Repeat("8", tickets.MaxSearchLen+1), "agent1", 400},
		} {
			status, js := e.do(t, "GET", c.path, c.who, nil)
			if status != c.status {
				t.Errorf("%s: status %d, want %d (%v)", c.name, status, c.status, js)
			}
			if status >= 400 && getS(js, "error") == "" {
				t.Errorf("%s: no error reason in %v", c.name, js)
			}
		}
	})
}

// PATCH /customers/{id} is bounded: what a person could not mean is refused, and nothing
// changes.
func TestUpdateCustomerBounds(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		tk := e.intake(t, sms("13800138000", "hi"))
		path := "/api/v1/customers/" + strconv.FormatInt(tk.CustomerID, 10)
		for _, c := range []struct {
			name   string
			body   map[string]any
			status int
		}{
			{"long name", map[string]any{"name": strings.Repeat("名", 67)}, 400}, // 201 bytes
			{"long tags", map[string]any{"tags": strings.Repeat("a,", 251)}, 400},
			{"long locale", map[string]any{"locale": strings.Repeat("x", 36)}, 400},
			{"nothing", map[string]any{}, 400},
			{"fits", map[string]any{"name": strings.Repeat("名", 66), "tags": "vip", "locale": "en"}, 200},
		} {
			status, js := e.do(t, "PATCH", path, "agent1", c.body)
			if status != c.status {
				t.Errorf("%s: status %d, want %d (%v)", c.name, status, c.status, js)
			}
		}
		if n := tickettest.CountEvents(t, db, "customer.updated"); n != 1 {
			t.Errorf("%d customer.updated events, want 1 (the change that fits)", n)
		}
	})
}

// Defect: a customer's second ticket in the list showed no phone number.
func TestListShowsEveryTicketsPhone(t *testing.T) {
	tickettest.EachDB(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		for _, subject := range []string{"first call", "second call"} {
			e.create(t, "agent1", phoneCall("138 0013 8000", subject))
		}
		status, js := e.do(t, "GET", "/api/v1/tickets", "agent1", nil)
		wantStatus(t, status, js, 200)
		items := itemsOf(t, js)
		if len(items) != 2 {
			t.Fatalf("%d tickets, want 2", len(items))
		}
		for _, it := range items {
			if got := getS(it, "customer", "phone"); got != privacy.MaskPhone("+8613800138000") {
				t.Errorf("%s (%s): customer phone %q", getS(it, "ref"), getS(it, "subject"), got)
			}
		}
	})
}
