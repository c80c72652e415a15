package api_test

import (
	"fmt"
	"testing"

	"github.com/hotlinedesk/hotline/tickets/tickettest"
)

// Through the API an agent moves a claim along its stages (any direction), another
// category's stage is a 400, documents are asked for and ticked off, and only admins
// replace a category's stages.
func TestStagesAPI(t *testing.T) {
	e := newEnv(t, tickettest.SQLite(t))
	tk := e.intake(t, sms("+8613800138000", "理赔进度"))
	ref := tk.Ref()
	status, js := e.do(t, "POST", "/api/v1/tickets/"+ref+"/category", "agent1", map[string]string{"category": "claims"})
	wantStatus(t, status, js, 200)

	status, js = e.do(t, "GET", "/api/v1/stages?category=claims", "agent1", nil)
	wantStatus(t, status, js, 200)
	items := listOf(js)
	if len(items) != 6 || getS(items[2], "name_en") != "Under investigation" {
		t.Fatalf("claims stages: %v", items)
	}
	third := getN(items[2], "id")

	status, js = e.do(t, "POST", "/api/v1/tickets/"+ref+"/stage", "agent1", map[string]any{"stage_id": third})
	wantStatus(t, status, js, 200)
	if getS(js, "stage", "name_zh") != "正在调查" {
		t.Errorf("after the move: %v", js["stage"])
	}
	status, js = e.do(t, "POST", "/api/v1/tickets/"+ref+"/stage", "agent1", map[string]any{"stage_id": third})
	wantStatus(t, status, js, 409)

	status, js = e.do(t, "PUT", "/api/v1/stages/policy", "agent1", map[string]any{"stages": []map[string]any{{"name_zh": "已受理", "name_en": "Received"}}})
	wantStatus(t, status, js, 403)
	status, js = e.do(t, "PUT", "/api/v1/stages/policy", "admin", map[string]any{"stages": []map[string]any{{"name_zh": "已受理", "name_en": "Received", "due_days": 2}}})
	wantStatus(t, status, js, 200)
	policy := getN(listOf(js)[0], "id")
	status, js = e.do(t, "POST", "/api/v1/tickets/"+ref+"/stage", "agent1", map[string]any{"stage_id": policy})
	wantStatus(t, status, js, 400)
	status, js = e.do(t, "POST", "/api/v1/tickets/"+ref+"/stage", "agent1", map[string]any{"stage": "x"})
	wantStatus(t, status, js, 400)

	status, js = e.do(t, "POST", "/api/v1/tickets/"+ref+"/documents", "agent1", map[string]any{"items": []string{"发票原件", "诊断证明"}})
	wantStatus(t, status, js, 200)
	docs, _ := js["documents"].([]any)
	if getS(js, "status") != "pending" || len(docs) != 2 {
		t.Fatalf("after asking for documents: %s, %d documents", getS(js, "status"), len(docs))
	}
	status, js = e.do(t, "POST", fmt.Sprintf("/api/v1/tickets/%s/documents/%d", ref, getN(docs[0], "id")), "agent1", map[string]any{"received": true})
	wantStatus(t, status, js, 200)
	docs, _ = js["documents"].([]any)
	if get(docs[0], "received_at") == nil || get(docs[1], "received_at") != nil {
		t.Errorf("after ticking one off: %v", docs)
	}
	status, js = e.do(t, "POST", "/api/v1/tickets/"+ref+"/documents", "agent1", map[string]any{"items": []string{}})
	wantStatus(t, status, js, 400)
	status, js = e.do(t, "GET", "/api/v1/tickets/"+ref+"/progress", "agent1", nil)
	wantStatus(t, status, js, 200)
}

func listOf(js map[string]any) []any { l, _ := js["items"].([]any); return l }
