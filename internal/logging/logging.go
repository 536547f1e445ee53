package logging

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// Log formats.
const (
	// FormatText is slog's key=value text, one line per record.
	FormatText = "text"
	// FormatJSON is one JSON object per line.
	FormatJSON = "json"
)

// ErrorKey is the key of an error in every log line.
const ErrorKey = "error"

// Options are the logging flags of a podid binary.
type Options struct {
	// Format is FormatText or FormatJSON.
	Format string
	// Verbosity shows logr V(n) lines for n up to it; 0 shows Info and up.
	Verbosity int
}

// NewOptions returns the defaults of a binary that writes format by default.
func NewOptions(format string) *Options {
	return &Options{Format: format}
}

// AddFlags binds --log-format and -v/--v to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Format, "log-format", o.Format, "Log format: text (key=value lines) or json (one object per line).")
	fs.IntVarP(&o.Verbosity, "v", "v", o.Verbosity, "Log verbosity: 0 logs what an operator needs; 1 adds every change made (e.g. mic's created and deleted assignments); 4 and up add debug lines and client-go's detail.")
}

// Validate reports bad option values.
func (o *Options) Validate() error {
	var errs []error
	if o.Format != FormatText && o.Format != FormatJSON {
		errs = append(errs, fmt.Errorf("--log-format %q: want %s or %s", o.Format, FormatText, FormatJSON))
	}
	if o.Verbosity < 0 {
		errs = append(errs, fmt.Errorf("-v %d: want 0 or more", o.Verbosity))
	}
	return errors.Join(errs...)
}

// Args are the flags that give a child process the same options.
func (o *Options) Args() []string {
	return []string{"--log-format=" + o.Format, "--v=" + strconv.Itoa(o.Verbosity)}
}

// New returns a logger writing to w in the chosen format, dropping records
// below level -Verbosity. An unknown format writes text.
func (o *Options) New(w io.Writer) *slog.Logger {
	// No ReplaceAttr: with one, slog takes its slow path for every
	// attribute of every line (about 40% more per line, which the node
	// agent's per-request log pays); logr's "err" is renamed in Logr.
	ho := &slog.HandlerOptions{Level: slog.Level(-o.Verbosity)}
	return slog.New(newFastHandler(w, o.Format == FormatJSON, ho))
}

// Install makes log the logger of the libraries a daemon uses: slog's
// default (and so the standard log package), klog (client-go) and
// controller-runtime, all through logr.FromSlogHandler. klog's own V gate
// is set to the same verbosity.
func (o *Options) Install(log *slog.Logger) {
	slog.SetDefault(log)
	lr := Logr(log)
	klog.SetLogger(lr)
	var fs flag.FlagSet
	klog.InitFlags(&fs)
	_ = fs.Set("v", strconv.Itoa(o.Verbosity))
	ctrllog.SetLogger(lr)
}

// Logr returns log as a logr.Logger; V(n) writes at slog level -n, and
// the error logr (and so klog and controller-runtime) logs under "err" is
// written under ErrorKey, like every other error.
func Logr(log *slog.Logger) logr.Logger {
	return logr.FromSlogHandler(errKeyHandler{Handler: log.Handler()})
}

// errKeyHandler renames top-level "err" attributes to ErrorKey.
type errKeyHandler struct {
	slog.Handler
	grouped bool // attributes added now belong to a group
}

func (h errKeyHandler) Handle(ctx context.Context, r slog.Record) error {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == "err"
		return !found
	})
	if !found {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(renamed(a))
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h errKeyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	if !h.grouped {
		as = slices.Clone(as)
		for i := range as {
			as[i] = renamed(as[i])
		}
	}
	return errKeyHandler{Handler: h.Handler.WithAttrs(as), grouped: h.grouped}
}

func (h errKeyHandler) WithGroup(name string) slog.Handler {
	return errKeyHandler{Handler: h.Handler.WithGroup(name), grouped: h.grouped || name != ""}
}

func renamed(a slog.Attr) slog.Attr {
	if a.Key == "err" {
		a.Key = ErrorKey
	}
	return a
}

// LoggedError is an error a command has already written to its log; main
// exits non-zero without printing it again, keeping the log in one format.
type LoggedError struct{ Err error }

func (e *LoggedError) Error() string { return e.Err.Error() }
func (e *LoggedError) Unwrap() error { return e.Err }

// Logged writes err to log under msg and returns it as a *LoggedError; nil
// stays nil.
func Logged(log *slog.Logger, msg string, err error) error {
	if err == nil {
		return nil
	}
	log.Error(msg, ErrorKey, err)
	return &LoggedError{Err: err}
}

// IsLogged reports whether err was already logged.
func IsLogged(err error) bool {
	var l *LoggedError
	return errors.As(err, &l)
}
