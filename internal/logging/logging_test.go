package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestVerbosityGatesLogrVLevels(t *testing.T) {
	cases := map[string]struct {
		verbosity  int
		wantV1     bool
		wantV4     bool
		wantDebugs bool
	}{
		"0 shows Info and up only":      {verbosity: 0},
		"1 shows mic's V(1) lines":      {verbosity: 1, wantV1: true},
		"4 shows V(4) and slog's Debug": {verbosity: 4, wantV1: true, wantV4: true, wantDebugs: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			o := &Options{Format: FormatText, Verbosity: c.verbosity}
			log := o.New(&buf)
			lr := Logr(log)
			lr.Info("v0 line")
			lr.V(1).Info("v1 line")
			lr.V(4).Info("v4 line")
			log.Debug("debug line")
			out := buf.String()
			for line, want := range map[string]bool{"v0 line": true, "v1 line": c.wantV1, "v4 line": c.wantV4, "debug line": c.wantDebugs} {
				if got := strings.Contains(out, line); got != want {
					t.Errorf("%q logged %t, want %t:\n%s", line, got, want, out)
				}
			}
		})
	}
}

func TestErrorsAreLoggedUnderTheKeyError(t *testing.T) {
	var buf bytes.Buffer
	o := &Options{Format: FormatJSON}
	Logr(o.New(&buf)).Error(errors.New("boom"), "reconcile failed")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, buf.String())
	}
	if rec["error"] != "boom" || rec["err"] != nil {
		t.Fatalf("record %v: want the error under \"error\" and no \"err\"", rec)
	}
}

func TestFlagsParseAndValidate(t *testing.T) {
	cases := map[string]struct {
		args    []string
		want    Options
		wantErr string
	}{
		"defaults":             {want: Options{Format: FormatText}},
		"long flags":           {args: []string{"--log-format=json", "--v=2"}, want: Options{Format: FormatJSON, Verbosity: 2}},
		"short -v":             {args: []string{"-v", "3"}, want: Options{Format: FormatText, Verbosity: 3}},
		"an unknown format":    {args: []string{"--log-format=xml"}, wantErr: "want text or json"},
		"a negative verbosity": {args: []string{"-v=-1"}, wantErr: "want 0 or more"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := NewOptions(FormatText)
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			o.AddFlags(fs)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			err := o.Validate()
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil || *o != c.want {
				t.Fatalf("got %+v, %v; want %+v", *o, err, c.want)
			}
			back := NewOptions(FormatText)
			bfs := pflag.NewFlagSet("child", pflag.ContinueOnError)
			back.AddFlags(bfs)
			if err := bfs.Parse(o.Args()); err != nil || *back != *o {
				t.Fatalf("Args %v parse back to %+v (%v), want %+v", o.Args(), *back, err, *o)
			}
		})
	}
}

func TestLoggedErrorsAreMarked(t *testing.T) {
	var buf bytes.Buffer
	err := Logged((&Options{Format: FormatText}).New(&buf), "mic stopped", errors.New("boom"))
	if !IsLogged(err) || !strings.Contains(buf.String(), "error=boom") {
		t.Fatalf("IsLogged %t, log %q", IsLogged(err), buf.String())
	}
	if Logged(nil, "x", nil) != nil || IsLogged(errors.New("x")) {
		t.Fatal("nil or plain errors count as logged")
	}
}

// TestErrKeyOfGroupsAndWithValues renames "err" given to WithValues, and
// leaves an "err" inside a group alone.
func TestErrKeyOfGroupsAndWithValues(t *testing.T) {
	var buf bytes.Buffer
	o := &Options{Format: FormatJSON}
	lr := Logr(o.New(&buf))
	lr.WithValues("err", "early").Info("with values")
	lr.WithName("x").Info("plain", "count", 1)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines:\n%s", buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["error"] != "early" || rec["err"] != nil {
		t.Errorf("record %v: want \"error\" from WithValues", rec)
	}
	if strings.Contains(lines[1], `"error"`) {
		t.Errorf("a line without an error has one: %s", lines[1])
	}
}
