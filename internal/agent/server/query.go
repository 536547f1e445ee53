package server

import (
	"net/url"
	"strings"
)

// tokenQuery is what a token request's query says, read as
// url.ParseQuery(raw).Get would read it: the first value of each key,
// skipping pairs with a semicolon or a bad escape. It reads only the keys
// the agent uses, without building url.Values: every warm request parses
// its query, and the map was a tenth of the agent's own work per request.
type tokenQuery struct {
	Resource, ClientID, ObjectID, MSIResID, MIResID string
}

// maxQueryPairs is where the agent leaves the query to url.ParseQuery,
// whose own limit on the number of pairs then applies.
const maxQueryPairs = 100

func parseQuery(raw string) tokenQuery {
	if strings.Count(raw, "&") >= maxQueryPairs {
		q, _ := url.ParseQuery(raw)
		return tokenQuery{Resource: q.Get("resource"), ClientID: q.Get("client_id"), ObjectID: q.Get("object_id"),
			MSIResID: q.Get("msi_res_id"), MIResID: q.Get("mi_res_id")}
	}
	var q tokenQuery
	var seen [5]bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if strings.ContainsAny(k, "%+") {
			var err error
			if k, err = url.QueryUnescape(k); err != nil {
				continue
			}
		}
		i, dst := q.field(k)
		if dst == nil {
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil || seen[i] {
			continue
		}
		seen[i], *dst = true, val
	}
	return q
}

// field returns the index and destination of key, or nil for keys the
// agent does not read.
func (q *tokenQuery) field(key string) (int, *string) {
	switch key {
	case "resource":
		return 0, &q.Resource
	case "client_id":
		return 1, &q.ClientID
	case "object_id":
		return 2, &q.ObjectID
	case "msi_res_id":
		return 3, &q.MSIResID
	case "mi_res_id":
		return 4, &q.MIResID
	}
	return 0, nil
}
