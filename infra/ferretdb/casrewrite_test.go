package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// startStore runs FerretDB (SQLite, in a temporary directory) behind the proxy as main does, and
// returns a collection reached through the proxy and the Unix socket FerretDB listens on.
func startStore(t *testing.T, casRewrite bool) (*mongo.Collection, string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "fdb") // short: a Unix socket path has ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	socket := filepath.Join(dir, "s.sock")
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{Unix: socket},
		Handler:  "sqlite",
		// FerretDB wants a file: URI naming a directory, with the trailing slash.
		SQLiteURL: "file:" + dir + "/",
		Logger:    logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- f.Run(ctx) }()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	proxied := make(chan error, 1)
	go func() { proxied <- proxy(ln, socket, casRewrite, nil, logger) }()
	t.Cleanup(func() {
		ln.Close()
		cancel()
		<-proxied
		<-ran
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FerretDB not listening: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	client, err := mongo.Connect(ctx, options.Client().ApplyURI("mongodb://"+ln.Addr().String()+"/").SetMaxPoolSize(50))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database("d").Collection("c"), socket
}

func updateOne(t *testing.T, c *mongo.Collection, filter, update any) *mongo.UpdateResult {
	t.Helper()
	r, err := c.UpdateOne(context.Background(), filter, update)
	if err != nil {
		t.Fatalf("updateOne %v: %v", filter, err)
	}
	return r
}

func findByID(t *testing.T, c *mongo.Collection, id any) bson.M {
	t.Helper()
	var doc bson.M
	if err := c.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&doc); err != nil {
		t.Fatalf("find %v: %v", id, err)
	}
	return doc
}

func TestCompareAndSetUpdates(t *testing.T) {
	c, _ := startStore(t, true)
	ctx := context.Background()
	oid := primitive.NewObjectID()
	until := primitive.NewDateTimeFromTime(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	if _, err := c.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: int32(1)}, {Key: "state", Value: "open"}, {Key: "gone", Value: nil}, {Key: "until", Value: until}},
		bson.D{{Key: "_id", Value: oid}, {Key: "version", Value: 2.0}},
		bson.D{{Key: "_id", Value: "tags"}, {Key: "tag", Value: bson.A{"x", "y"}}},
	}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		filter  bson.D
		matched int64
	}{
		{"matching version", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: int32(1)}}, 1},
		{"an int64 equals an int32, with a string", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: int64(1)}, {Key: "state", Value: "open"}}, 1},
		{"an int equals a whole double", bson.D{{Key: "_id", Value: oid}, {Key: "version", Value: int32(2)}}, 1},
		{"null matches null", bson.D{{Key: "_id", Value: "a"}, {Key: "gone", Value: nil}}, 1},
		{"null matches a missing field", bson.D{{Key: "_id", Value: "a"}, {Key: "absent", Value: nil}}, 1},
		{"stale version", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: int32(0)}}, 0},
		{"a fraction is not an int", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: 1.5}}, 0},
		{"another field differs", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: int32(1)}, {Key: "state", Value: "closed"}}, 0},
		{"another type", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: "1"}}, 0},
		{"a missing field is not a value", bson.D{{Key: "_id", Value: "a"}, {Key: "absent", Value: false}}, 0},
		{"missing _id", bson.D{{Key: "_id", Value: "nobody"}, {Key: "version", Value: int32(1)}}, 0},
		{"the same date (a lease as read)", bson.D{{Key: "_id", Value: "a"}, {Key: "until", Value: until}}, 1},
		{"another date", bson.D{{Key: "_id", Value: "a"}, {Key: "until", Value: until + 1}}, 0},
		// Passed through, answered by FerretDB's own filter:
		{"an operator", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: bson.D{{Key: "$gte", Value: 1}}}}, 1},
		{"an operator, no match", bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: bson.D{{Key: "$gt", Value: 1}}}}, 0},
		{"an array field holding the value", bson.D{{Key: "_id", Value: "tags"}, {Key: "tag", Value: "y"}}, 1},
		{"an array field without it", bson.D{{Key: "_id", Value: "tags"}, {Key: "tag", Value: "z"}}, 0},
	}
	matched, missing, stale := casCounts.matched.Load(), casCounts.missing.Load(), casCounts.stale.Load()
	for _, tc := range cases {
		r := updateOne(t, c, tc.filter, bson.D{{Key: "$inc", Value: bson.D{{Key: "writes", Value: 1}}}})
		if r.MatchedCount != tc.matched || r.ModifiedCount != tc.matched {
			t.Errorf("%s: matched %d, modified %d; want %d", tc.name, r.MatchedCount, r.ModifiedCount, tc.matched)
		}
	}
	// The proxy served every shape it takes itself: 6 matched, 6 stale, 1 missing.
	if d := [3]int64{casCounts.matched.Load() - matched, casCounts.stale.Load() - stale, casCounts.missing.Load() - missing}; d != [3]int64{6, 6, 1} {
		t.Errorf("rewritten as matched, stale, missing: %v, want [6 6 1]", d)
	}
	// Each write landed on the document it matched, and on no other.
	want := map[any]int32{"a": 6, oid: 1, "tags": 1}
	for id, n := range want {
		if got := findByID(t, c, id)["writes"]; got != n {
			t.Errorf("%v: writes %v, want %d", id, got, n)
		}
	}
	// A stale write changed nothing, and no document appeared for a missing _id or the proxy's
	// miss marker.
	if doc := findByID(t, c, "a"); doc["version"] != int32(1) || doc["state"] != "open" {
		t.Errorf("document after the stale writes: %v", doc)
	}
	if n, err := c.CountDocuments(ctx, bson.D{}); err != nil || n != 3 {
		t.Errorf("%d documents (%v), want 3", n, err)
	}

	// FerretDB still checks u before it looks for a document: an unknown operator on a stale
	// version is an error, as without the proxy, not a quiet "matched nothing".
	_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: int32(0)}},
		bson.D{{Key: "$frobnicate", Value: bson.D{{Key: "writes", Value: 1}}}})
	var we mongo.WriteException
	var ce mongo.CommandError
	if !errors.As(err, &we) && !errors.As(err, &ce) {
		t.Errorf("invalid $inc on a stale version: %v, want a server error", err)
	}
}

// Concurrent compare-and-set writers on one document: each reads the version, then writes
// version+1 with {_id, version} as the filter. Exactly one writer may win each version.
func TestConcurrentCompareAndSet(t *testing.T) {
	for _, rewrite := range []bool{true, false} {
		name := map[bool]string{true: "rewritten", false: "relayed"}[rewrite]
		t.Run(name, func(t *testing.T) {
			c, _ := startStore(t, rewrite)
			ctx := context.Background()
			if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "doc"}, {Key: "version", Value: int64(0)}}); err != nil {
				t.Fatal(err)
			}
			rewritten := casCounts.matched.Load() + casCounts.stale.Load()
			const writers, attempts = 8, 25
			var mu sync.Mutex
			winners := make(map[int64]int)
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < attempts; i++ {
						var doc struct {
							Version int64 `bson:"version"`
						}
						if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "doc"}}).Decode(&doc); err != nil {
							t.Error(err)
							return
						}
						r, err := c.UpdateOne(ctx,
							bson.D{{Key: "_id", Value: "doc"}, {Key: "version", Value: doc.Version}},
							bson.D{{Key: "$set", Value: bson.D{{Key: "version", Value: doc.Version + 1}}}, {Key: "$inc", Value: bson.D{{Key: "wins", Value: 1}}}})
						if err != nil {
							t.Error(err)
							return
						}
						if r.MatchedCount == 1 {
							mu.Lock()
							winners[doc.Version]++
							mu.Unlock()
						}
					}
				}()
			}
			wg.Wait()
			total := 0
			for v, n := range winners {
				if n != 1 {
					t.Errorf("version %d won by %d writers", v, n)
				}
				total += n
			}
			var doc struct {
				Version int64 `bson:"version"`
				Wins    int64 `bson:"wins"`
			}
			if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: "doc"}}).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if doc.Version != int64(total) || doc.Wins != int64(total) || total == 0 {
				t.Errorf("version %d, wins %d, winning writes %d: want all equal", doc.Version, doc.Wins, total)
			}
			want := int64(0)
			if rewrite {
				want = writers * attempts
			}
			if got := casCounts.matched.Load() + casCounts.stale.Load() - rewritten; got != want {
				t.Errorf("%d updates rewritten, want %d", got, want)
			}
			t.Logf("%d of %d compare-and-set updates won", total, writers*attempts)
		})
	}
}

// Statements and commands the rewrite does not take are relayed byte for byte.
func TestCompareAndSetLeavesOthersAlone(t *testing.T) {
	statement := func(extra ...bson.E) bson.D {
		return append(bson.D{
			{Key: "q", Value: bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: 1}}},
			{Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}},
		}, extra...)
	}
	cmd := bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}}
	withQ := func(q bson.D) []bson.D {
		return []bson.D{{{Key: "q", Value: q}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}}}}
	}
	cases := map[string]message{
		"two statements":  opMsgOf(t, cmd, "updates", []bson.D{statement(), statement()}),
		"multi":           opMsgOf(t, cmd, "updates", []bson.D{statement(bson.E{Key: "multi", Value: true})}),
		"upsert":          opMsgOf(t, cmd, "updates", []bson.D{statement(bson.E{Key: "upsert", Value: true})}),
		"collation":       opMsgOf(t, cmd, "updates", []bson.D{statement(bson.E{Key: "collation", Value: bson.D{{Key: "locale", Value: "en"}}})}),
		"_id alone":       opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "_id", Value: "a"}})),
		"numeric _id":     opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "_id", Value: 1}, {Key: "version", Value: 1}})),
		"no _id":          opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "version", Value: 1}})),
		"dotted path":     opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "_id", Value: "a"}, {Key: "k.v", Value: 1}})),
		"document value":  opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "_id", Value: "a"}, {Key: "k", Value: bson.D{}}})),
		"array value":     opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "_id", Value: "a"}, {Key: "k", Value: bson.A{1}}})),
		"repeated key":    opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "_id", Value: "a"}, {Key: "v", Value: 1}, {Key: "v", Value: 2}})),
		"$and":            opMsgOf(t, cmd, "updates", withQ(bson.D{{Key: "_id", Value: "a"}, {Key: "$and", Value: bson.A{}}})),
		"another command": opMsgOf(t, bson.D{{Key: "delete", Value: "c"}, {Key: "$db", Value: "d"}}, "deletes", withQ(bson.D{{Key: "_id", Value: "a"}, {Key: "v", Value: 1}})),
	}
	// No backend: a rewrite that tried to read would fail and relay the original anyway, so
	// these would pass vacuously. A backend that answers every read proves they never read.
	ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reads := make(chan struct{}, 100)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				for {
					m, err := readMessage(conn)
					if err != nil {
						return
					}
					reads <- struct{}{}
					reply, _ := bson.Marshal(bson.D{{Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: bson.A{bson.D{{Key: "_id", Value: "a"}, {Key: "version", Value: 1}}}}}}, {Key: "ok", Value: 1.0}})
					r := opMsgSections{body: reply}.encode(0)
					copy(r[8:12], m[4:8])
					_, _ = conn.Write(r)
				}
			}()
		}
	}()
	c := &casRewriter{backend: ln.Addr().String()}
	defer c.close()
	for name, m := range cases {
		if got := c.rewrite(m); string(got) != string(m) {
			t.Errorf("%s: rewritten", name)
		}
	}
	if len(reads) != 0 {
		t.Errorf("%d reads for commands left alone", len(reads))
	}
	// The control: the one statement of the shape it takes is read and rewritten, in either form.
	for _, m := range []message{
		opMsgOf(t, cmd, "updates", []bson.D{statement()}),
		opMsgOf(t, append(cmd, bson.E{Key: "updates", Value: bson.A{statement()}}), "", nil),
	} {
		got := c.rewrite(m)
		p, ok := parseOpMsg(got)
		if !ok || got.requestID() != m.requestID() {
			t.Fatalf("rewritten message does not parse or lost its request id")
		}
		var q bson.Raw
		if len(p.sequences) == 1 {
			q = p.sequences[0].docs[0].Lookup("q").Document()
		} else {
			q = p.body.Lookup("updates", "0", "q").Document()
		}
		if elems, _ := q.Elements(); len(elems) != 1 || q.Lookup("_id").StringValue() != "a" {
			t.Errorf("rewritten q %v, want {_id: \"a\"}", q)
		}
	}
	if len(reads) != 2 {
		t.Errorf("%d reads for two rewrites", len(reads))
	}
}

func TestCompareField(t *testing.T) {
	v := func(x any) bson.RawValue {
		typ, data, err := bson.MarshalValue(x)
		if err != nil {
			t.Fatal(err)
		}
		return bson.RawValue{Type: typ, Value: data}
	}
	const big = int64(1) << 53
	cases := []struct {
		name      string
		got, want bson.RawValue
		result    fieldMatch
	}{
		{"int32 and int64", v(int32(3)), v(int64(3)), fieldEqual},
		{"int64 and double", v(int64(3)), v(3.0), fieldEqual},
		{"-0 and 0", v(math.Copysign(0, -1)), v(int32(0)), fieldEqual},
		{"2^53+1 and 2^53 as a double", v(big + 1), v(float64(big)), fieldDiffers},
		{"2^63 as a double and MaxInt64", v(float64(1 << 63)), v(int64(1<<63 - 1)), fieldDiffers},
		{"NaN", v(math.NaN()), v(1.0), fieldUnsure},
		{"string and number", v("3"), v(int32(3)), fieldDiffers},
		{"true and 1", v(true), v(int32(1)), fieldDiffers},
		{"null and false", v(primitive.Null{}), v(false), fieldDiffers},
		{"the same date", v(primitive.DateTime(1_800_000_000_000)), v(primitive.DateTime(1_800_000_000_000)), fieldEqual},
		{"a date a millisecond on", v(primitive.DateTime(1_800_000_000_000)), v(primitive.DateTime(1_800_000_000_001)), fieldDiffers},
		{"a date and its milliseconds as a number", v(primitive.DateTime(5)), v(int64(5)), fieldDiffers},
		{"missing and a date", bson.RawValue{}, v(primitive.DateTime(5)), fieldDiffers},
		{"missing and null", bson.RawValue{}, v(primitive.Null{}), fieldEqual},
		{"missing and 0", bson.RawValue{}, v(int32(0)), fieldDiffers},
		{"document and null", v(bson.D{}), v(primitive.Null{}), fieldDiffers},
		{"array", v(bson.A{1}), v(int32(1)), fieldUnsure},
		{"decimal", v(primitive.NewDecimal128(0, 1)), v(int32(1)), fieldUnsure},
	}
	for _, c := range cases {
		if got := compareField(c.got, c.want); got != c.result {
			t.Errorf("%s: %d, want %d", c.name, got, c.result)
		}
	}
}
