package files

import (
	"context"
	"errors"

	"github.com/hotlinedesk/hotline/tickets"
)

func newS3(ctx context.Context, loc s3Location, o options) (tickets.FileStore, error) {
	return nil, errors.New(Variable + ": the S3 store is not built yet")
}
