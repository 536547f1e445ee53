package imds

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTokenIsByteCompatibleWithIMDS(t *testing.T) {
	now := time.Unix(1760000000, 0)
	got, err := json.Marshal(NewToken("eyJ0", "1111", "https://vault.azure.net", "", now.Add(86399*time.Second), time.Time{}, now))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"access_token":"eyJ0","client_id":"1111","expires_in":"86399","expires_on":"1760086399","ext_expires_in":"86399","not_before":"1760000000","resource":"https://vault.azure.net","token_type":"Bearer"}`
	if string(got) != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	expired := NewToken("t", "c", "r", "Bearer", now.Add(-time.Minute), now.Add(-time.Hour), now)
	if expired.ExpiresIn != "0" {
		t.Errorf("an expired token's expires_in = %q, want 0", expired.ExpiresIn)
	}
}
