package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
)

// bufPool holds response buffers: handlers render a whole JSON body into one, then write
// it with a Content-Length, so responses are not chunked and encoding errors can still
// become a 500.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf keeps one unusually large response from pinning its buffer forever.
const maxPooledBuf = 1 << 20

func getBuf() *bytes.Buffer {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func putBuf(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuf {
		bufPool.Put(buf)
	}
}

// writeBody sends buf as a JSON response with the given status.
func writeBody(w http.ResponseWriter, status int, buf *bytes.Buffer) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes()) // a write error means the client went away: nothing to do
}

// writeJSON encodes v into a pooled buffer and sends it.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := getBuf()
	defer putBuf(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, "encoding response failed")
		return
	}
	writeBody(w, status, buf)
}

type errorBody struct {
	Error string `json:"error"`
}

// writeError sends {"error": msg} with the given status.
func writeError(w http.ResponseWriter, status int, msg string) {
	buf := getBuf()
	defer putBuf(buf)
	_ = json.NewEncoder(buf).Encode(errorBody{Error: msg}) // cannot fail for a string
	writeBody(w, status, buf)
}
