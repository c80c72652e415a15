// Package docs carries the documents the binary serves: the OpenAPI description of the
// JSON API (openapi.yaml, written by hand), served as JSON at GET /api/v1/openapi.json.
package docs

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
)

// OpenAPIYAML is openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// OpenAPI loads openapi.yaml and checks that it is a valid OpenAPI 3 document.
func OpenAPI(ctx context.Context) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromData(OpenAPIYAML)
	if err != nil {
		return nil, fmt.Errorf("load openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi.yaml is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// OpenAPIJSON is openapi.yaml, checked and converted to JSON.
func OpenAPIJSON(ctx context.Context) ([]byte, error) {
	doc, err := OpenAPI(ctx)
	if err != nil {
		return nil, err
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode the OpenAPI document as JSON: %w", err)
	}
	return out, nil
}
