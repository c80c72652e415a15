package tickets

import (
	"errors"
	"fmt"
	"time"
)

// Kinds of failure a caller can act on; the HTTP layer maps them to status codes.
var (
	ErrNotFound     = errors.New("not found")
	ErrInvalid      = errors.New("invalid")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	// ErrTooMany is a refusal after too many failed attempts; see *Limited.
	ErrTooMany = errors.New("too many failed attempts")
)

// userError carries a reason meant for the person who made the request.
type userError struct {
	kind error
	msg  string
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.kind }

func newError(kind error, format string, args ...any) error {
	return &userError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) error   { return newError(ErrInvalid, format, args...) }
func notFoundf(format string, args ...any) error  { return newError(ErrNotFound, format, args...) }
func conflictf(format string, args ...any) error  { return newError(ErrConflict, format, args...) }
func forbiddenf(format string, args ...any) error { return newError(ErrForbidden, format, args...) }

// Invalidf refuses a request as the service does: an ErrInvalid whose message, formatted
// as by fmt.Sprintf, is the Reason shown to the person who made it (the API answers 400
// with it). It is for the packages beside tickets that read or change the domain.
func Invalidf(format string, args ...any) error { return invalidf(format, args...) }

// NotFoundf, Conflictf and Forbiddenf refuse a request as Invalidf does, as ErrNotFound
// (404), ErrConflict (409) and ErrForbidden (403). They are for the chapters too.
func NotFoundf(format string, args ...any) error  { return notFoundf(format, args...) }
func Conflictf(format string, args ...any) error  { return conflictf(format, args...) }
func Forbiddenf(format string, args ...any) error { return forbiddenf(format, args...) }

// Unauthorizedf refuses, as ErrUnauthorized (401), someone not signed in (tickets/access).
func Unauthorizedf(format string, args ...any) error {
	return newError(ErrUnauthorized, format, args...)
}

// Limited refuses an attempt because a budget of failed attempts ran out. It matches
// ErrTooMany. The budgets are tickets/access's; the kind of failure is the core's, so that
// Reason words it as it does the others.
type Limited struct {
	Scope string        // the budget: one of access's Limit* names
	Retry time.Duration // how long until attempts are taken again (at least a second)
	msg   string
}

// NewLimited is a refusal by the budget scope, to retry after retry, with the reason
// shown to the person refused.
func NewLimited(scope string, retry time.Duration, reason string) *Limited {
	return &Limited{Scope: scope, Retry: retry, msg: reason}
}

func (e *Limited) Error() string        { return e.msg }
func (e *Limited) Is(target error) bool { return target == ErrTooMany }

// Reason is the message meant for the person who made the request, without the context
// wrapped around it for the logs; "" when err carries none.
func Reason(err error) string {
	var ue *userError
	if errors.As(err, &ue) {
		return ue.msg
	}
	var le *Limited
	if errors.As(err, &le) {
		return le.msg
	}
	return ""
}
