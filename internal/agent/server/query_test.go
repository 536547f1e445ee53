package server

import (
	"net/url"
	"testing"
)

// FuzzParseQuery pins parseQuery to url.ParseQuery's reading of the keys
// the agent uses.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net",
		"resource=a&resource=b&client_id=c",
		"resource=%zz&resource=ok", "res%6Fource=x", "resource=a;b&client_id=d", "client_id=a+b&&mi_res_id=%2F",
		"msi_res_id=&msi_res_id=x", "=x&resource", "object_id=%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, _ := url.ParseQuery(raw)
		want := tokenQuery{Resource: q.Get("resource"), ClientID: q.Get("client_id"), ObjectID: q.Get("object_id"),
			MSIResID: q.Get("msi_res_id"), MIResID: q.Get("mi_res_id")}
		if got := parseQuery(raw); got != want {
			t.Fatalf("parseQuery(%q) = %+v, url.ParseQuery reads %+v", raw, got, want)
		}
	})
}
