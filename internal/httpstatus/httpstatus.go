// Package httpstatus records the status code an HTTP handler writes, for
// the access logs and metrics of podid's servers (the node agent and the
// embedded cloud).
package httpstatus

import "net/http"

// Writer is a ResponseWriter that remembers the first status written; a
// Write without WriteHeader counts as 200, as net/http sends it.
type Writer struct {
	http.ResponseWriter
	// Status is 0 until the handler writes a header or a body.
	Status int
}

// Wrap returns w as a Writer, reusing it if it already is one, so that
// stacked middlewares share one record.
func Wrap(w http.ResponseWriter) *Writer {
	if sw, ok := w.(*Writer); ok {
		return sw
	}
	return &Writer{ResponseWriter: w}
}

func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
