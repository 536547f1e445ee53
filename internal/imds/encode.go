package imds

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendToken appends the JSON of NewToken(accessToken, ...) to b, as
// encoding/json would marshal it, byte for byte, without building the
// body's strings. The node agent answers every warm token request with
// it; going through reflection cost about a fifth of the request (see
// BenchmarkTokenJSON), so the field order is written out here and pinned
// to json.Marshal by TestAppendTokenMatchesNewToken and FuzzAppendToken.
func AppendToken(b []byte, accessToken, clientID, resource, tokenType string, expiresOn, notBefore, now time.Time) []byte {
	v := validityOf(expiresOn, notBefore, now)
	b = append(b, `{"access_token":`...)
	b = appendString(b, accessToken)
	b = append(b, `,"client_id":`...)
	b = appendString(b, clientID)
	b = append(b, `,"expires_in":"`...)
	b = strconv.AppendInt(b, v.in, 10)
	b = append(b, `","expires_on":"`...)
	b = strconv.AppendInt(b, v.on, 10)
	b = append(b, `","ext_expires_in":"`...)
	b = strconv.AppendInt(b, v.in, 10)
	b = append(b, `","not_before":"`...)
	b = strconv.AppendInt(b, v.nbf, 10)
	b = append(b, `","resource":`...)
	b = appendString(b, resource)
	b = append(b, `,"token_type":`...)
	b = appendString(b, tokenTypeOr(tokenType))
	return append(b, '}')
}

// appendString appends s as a JSON string. Tokens, client IDs, times and
// resource URLs are printable ASCII without the characters encoding/json
// escapes, so they are copied as they are; anything else is left to
// encoding/json, so the output never differs from it.
func appendString(b []byte, s string) []byte {
	if plain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, err := json.Marshal(s)
	if err != nil { // a string always marshals; keep the body valid anyway
		return strconv.AppendQuote(b, string([]rune(s)))
	}
	return append(b, q...)
}

// plain reports whether encoding/json writes s unchanged between quotes.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if !plainByte[s[i]] {
			return false
		}
	}
	return true
}

// plainByte holds the bytes encoding/json copies as they are: printable
// ASCII other than the quote, the backslash and the HTML characters it
// escapes (<, >, &).
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()
