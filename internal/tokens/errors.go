package tokens

import (
	"errors"
	"fmt"
)

// Error is a refusal from an upstream token endpoint (AAD or IMDS).
type Error struct {
	// Status is the upstream HTTP status.
	Status int
	// Code is the OAuth error code, for example invalid_client.
	Code string
	// Description is the upstream error_description (AADSTS text).
	Description string
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("token endpoint answered %d %s: %s", e.Status, e.Code, e.Description)
}

// StatusOf returns the upstream HTTP status carried by err, or 0.
func StatusOf(err error) int {
	var te *Error
	if errors.As(err, &te) {
		return te.Status
	}
	return 0
}

// Permanent reports whether retrying the same request cannot succeed:
// the upstream answered with a 4xx other than 408 and 429.
func Permanent(err error) bool {
	s := StatusOf(err)
	return s >= 400 && s < 500 && s != 408 && s != 429
}
