package files_test

import "testing"

// backends are the stores the conformance suite runs against: the local directory and
// an S3 bucket on a server in this process.
func backends(*testing.T) []backend {
	return []backend{localBackend(), s3Backend()}
}
