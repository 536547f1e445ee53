package cloud_test

import (
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/google/uuid"
)

var pollOpts = runtime.PollUntilDoneOptions{Frequency: 10 * time.Millisecond}

func newGUID(t *testing.T) string {
	t.Helper()
	return uuid.NewString()
}
