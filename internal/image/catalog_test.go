package image

import (
	"strings"
	"testing"
)

func TestLookup(t *testing.T) {
	all, err := Lookup()
	if err != nil || len(all) != len(Catalog()) {
		t.Fatalf("Lookup() = %d specs, %v; want the catalog", len(all), err)
	}
	got, err := Lookup(NamePause, NameKVReader)
	if err != nil || got[0].Name != NamePause || got[1].Name != NameKVReader {
		t.Fatalf("Lookup(pause, kvreader) = %+v, %v", got, err)
	}
	if _, err := Lookup("nginx"); err == nil || !strings.Contains(err.Error(), "busybox, kvreader, pause, podid") {
		t.Fatalf("error %v, want one listing the catalog", err)
	}
}

func TestCatalogRefs(t *testing.T) {
	specs, _ := Lookup(NameKVReader)
	b := &Built{Spec: specs[0]}
	got := strings.Join(b.Refs("127.0.0.1:5000"), " ")
	want := "127.0.0.1:5000/kvreader:latest 127.0.0.1:5000/cmendibl3/az-keyvault-reader:0.2"
	if got != want {
		t.Fatalf("refs %q, want %q", got, want)
	}
}
