package files_test

import "testing"

func backends(t *testing.T) []backend {
	return []backend{localBackend()}
}
