package docs_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/hotlinedesk/hotline/docs"
)

// The document loads, validates as OpenAPI 3, and its JSON form keeps every path.
func TestOpenAPIIsValid(t *testing.T) {
	doc, err := docs.OpenAPI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := docs.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(raw, &js); err != nil {
		t.Fatalf("the JSON form does not decode: %v", err)
	}
	if js.OpenAPI != doc.OpenAPI || len(js.Paths) != doc.Paths.Len() || len(js.Paths) < 40 {
		t.Errorf("JSON form: openapi %q with %d paths, want %q with %d (at least 40)", js.OpenAPI, len(js.Paths), doc.OpenAPI, doc.Paths.Len())
	}
}
