package main

// With -debug ADDRESS the launcher serves, on that address only, Go's CPU and heap profiles
// (net/http/pprof, under /debug/pprof/) and /debug/commands: how many commands of each kind
// the proxy relayed and how long FerretDB took to answer them, by command, namespace and the
// shape of the filter (its field names, with operators). FerretDB 1.24 on SQLite serves only
// a filter of exactly {_id: value} from an index and scans the collection for any other, so
// the shape tells which requests scan. Off by default; it is for benchmarks and diagnosis.

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// commandStats counts relayed commands by key; nil when -debug is off, and then free.
type commandStats struct {
	mu    sync.Mutex
	stats map[string]*commandStat
}

type commandStat struct {
	Count  int64   `json:"count"`
	Millis float64 `json:"ms"` // summed time from request to FerretDB's reply
}

func (s *commandStats) add(key string, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats == nil {
		s.stats = make(map[string]*commandStat)
	}
	st, ok := s.stats[key]
	if !ok {
		st = new(commandStat)
		s.stats[key] = st
	}
	st.Count++
	st.Millis += float64(took.Microseconds()) / 1000
}

func (s *commandStats) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	snapshot := make(map[string]commandStat, len(s.stats))
	for k, v := range s.stats {
		snapshot[k] = *v
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(snapshot)
}

// serveDebug serves the profiles and the command counts on address until the process ends.
func serveDebug(address string, stats *commandStats, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", address)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/debug/commands", stats)
	logger.Info("debug endpoints", "address", ln.Addr().String())
	go func() { _ = http.Serve(ln, mux) }()
	return nil
}

// commandKey describes an OP_MSG command as "command db.collection {filter shape}", or ""
// for anything else. A write with several statements is described by its first.
func commandKey(m message) string {
	if m.opCode() != opMsg || len(m) < headerLen+5 || m[headerLen+4] != 0 {
		return ""
	}
	doc := bson.Raw(m[headerLen+5:])
	if err := doc.Validate(); err != nil {
		return ""
	}
	elems, err := doc.Elements()
	if err != nil || len(elems) == 0 {
		return ""
	}
	name := strings.ToLower(elems[0].Key())
	coll, _ := elems[0].Value().StringValueOK()
	db, _ := doc.Lookup("$db").StringValueOK()
	var filter bson.RawValue
	switch name {
	case "find", "count", "distinct":
		filter = doc.Lookup("filter")
		if name == "count" || name == "distinct" {
			filter = doc.Lookup("query")
		}
	case "findandmodify":
		filter = doc.Lookup("query")
	case "update":
		filter = firstStatement(doc, "updates", "q")
	case "delete":
		filter = firstStatement(doc, "deletes", "q")
	case "aggregate":
		// The first stage, when it is a $match.
		if stages, ok := doc.Lookup("pipeline").ArrayOK(); ok {
			if first, err := stages.IndexErr(0); err == nil {
				if stage, ok := first.Value().DocumentOK(); ok {
					filter = stage.Lookup("$match")
				}
			}
		}
	case "getmore":
		coll, _ = doc.Lookup("collection").StringValueOK()
	}
	key := name + " " + db + "." + coll
	if filter.Type == bsontype.EmbeddedDocument {
		key += " " + shape(filter.Document())
	}
	if name == "update" {
		if upsert, ok := firstStatement(doc, "updates", "upsert").BooleanOK(); ok && upsert {
			key += " upsert"
		}
	}
	return key
}

func firstStatement(doc bson.Raw, array, field string) bson.RawValue {
	statements, ok := doc.Lookup(array).ArrayOK()
	if !ok {
		return bson.RawValue{}
	}
	first, err := statements.IndexErr(0)
	if err != nil {
		return bson.RawValue{}
	}
	statement, ok := first.Value().DocumentOK()
	if !ok {
		return bson.RawValue{}
	}
	return statement.Lookup(field)
}

// shape lists a filter's field names, each with the operators applied to it: {_id, n:$gt}.
func shape(filter bson.Raw) string {
	elems, _ := filter.Elements()
	parts := make([]string, 0, len(elems))
	for _, e := range elems {
		part := e.Key()
		if sub, ok := e.Value().DocumentOK(); ok {
			if ops, _ := sub.Elements(); len(ops) > 0 && strings.HasPrefix(ops[0].Key(), "$") {
				names := make([]string, 0, len(ops))
				for _, op := range ops {
					names = append(names, op.Key())
				}
				part += ":" + strings.Join(names, ",")
			}
		}
		parts = append(parts, part)
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}
