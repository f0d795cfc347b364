package main

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// opMsgOf builds an OP_MSG with the command document and, when sequence is non-empty, a
// document sequence section named name.
func opMsgOf(t *testing.T, command bson.D, name string, sequence []bson.D) message {
	t.Helper()
	doc, err := bson.Marshal(command)
	if err != nil {
		t.Fatal(err)
	}
	m := make(message, headerLen+4)
	binary.LittleEndian.PutUint32(m[4:8], 7)
	binary.LittleEndian.PutUint32(m[12:16], opMsg)
	m = append(m, 0)
	m = append(m, doc...)
	if len(sequence) > 0 {
		body := append([]byte(name), 0)
		for _, d := range sequence {
			raw, err := bson.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			body = append(body, raw...)
		}
		size := make([]byte, 4)
		binary.LittleEndian.PutUint32(size, uint32(4+len(body)))
		m = append(m, 1)
		m = append(m, size...)
		m = append(m, body...)
	}
	binary.LittleEndian.PutUint32(m[0:4], uint32(len(m)))
	return m
}

func statements(n int) []bson.D {
	s := make([]bson.D, n)
	for i := range s {
		s[i] = bson.D{{Key: "q", Value: bson.D{{Key: "_id", Value: i}}}, {Key: "u", Value: bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}}}
	}
	return s
}

func TestUpdateStatements(t *testing.T) {
	asArray := func(n int) bson.A {
		a := bson.A{}
		for _, s := range statements(n) {
			a = append(a, s)
		}
		return a
	}
	cases := []struct {
		name string
		m    message
		want int
	}{
		{"document sequence", opMsgOf(t, bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}}, "updates", statements(51)), 51},
		{"array in the command", opMsgOf(t, bson.D{{Key: "update", Value: "c"}, {Key: "updates", Value: asArray(3)}, {Key: "$db", Value: "d"}}, "", nil), 3},
		{"another command's sequence", opMsgOf(t, bson.D{{Key: "insert", Value: "c"}, {Key: "$db", Value: "d"}}, "documents", statements(80)), 0},
		{"another sequence of an update", opMsgOf(t, bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}}, "other", statements(80)), 0},
	}
	for _, c := range cases {
		if got := updateStatements(c.m); got != c.want {
			t.Errorf("%s: %d statements, want %d", c.name, got, c.want)
		}
	}
	// With checksumPresent, the last four bytes are a CRC-32C, not a section.
	m := opMsgOf(t, bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}}, "updates", statements(60))
	withSum := append(append(message(nil), m...), 1, 2, 3, 4)
	binary.LittleEndian.PutUint32(withSum[0:4], uint32(len(withSum)))
	binary.LittleEndian.PutUint32(withSum[headerLen:headerLen+4], 1)
	if got := updateStatements(withSum); got != 60 {
		t.Errorf("with a checksum: %d statements, want 60", got)
	}
	// Cut short anywhere, a message counts nothing and does not panic.
	for cut := headerLen; cut < len(m); cut++ {
		short := append(message(nil), m[:cut]...)
		binary.LittleEndian.PutUint32(short[0:4], uint32(cut))
		if got := updateStatements(short); got != 0 {
			t.Fatalf("cut at %d of %d: %d statements", cut, len(m), got)
		}
	}
}

func TestMoreToCome(t *testing.T) {
	m := opMsgOf(t, bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "d"}}, "updates", statements(60))
	if moreToCome(m) {
		t.Fatal("an acknowledged command taken for one that expects no reply")
	}
	binary.LittleEndian.PutUint32(m[headerLen:headerLen+4], 2)
	if !moreToCome(m) {
		t.Fatal("moreToCome not seen")
	}
}

func TestErrorReply(t *testing.T) {
	r := errorReply(42, 2, "BadValue", "too many")
	if r.opCode() != opMsg || r.responseTo() != 42 || int(binary.LittleEndian.Uint32(r[0:4])) != len(r) {
		t.Fatalf("header: opCode %d, responseTo %d, length %d of %d", r.opCode(), r.responseTo(), binary.LittleEndian.Uint32(r[0:4]), len(r))
	}
	var doc struct {
		Ok       float64 `bson:"ok"`
		Errmsg   string  `bson:"errmsg"`
		Code     int32   `bson:"code"`
		CodeName string  `bson:"codeName"`
	}
	if err := bson.Unmarshal(r[headerLen+5:], &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Ok != 0 || doc.Code != 2 || doc.CodeName != "BadValue" || !strings.Contains(doc.Errmsg, "too many") {
		t.Fatalf("reply %+v", doc)
	}
}

func TestLockWriteCountsTheWait(t *testing.T) {
	var l sync.Mutex
	stats := &commandStats{}
	// Uncontended: counted, with next to no wait.
	lockWrite(&l, "beacon_intake", stats)
	l.Unlock()
	// Behind a write that holds the lock for 50 ms.
	held := make(chan struct{})
	go func() {
		l.Lock()
		close(held)
		time.Sleep(50 * time.Millisecond)
		l.Unlock()
	}()
	<-held
	lockWrite(&l, "beacon_intake", stats)
	l.Unlock()
	got := stats.stats["lock-wait beacon_intake"]
	if got == nil || got.Count != 2 {
		t.Fatalf("lock waits counted: %+v, want 2", got)
	}
	if got.Millis < 40 {
		t.Fatalf("waited %.1f ms in all, want at least the 50 ms the other write held the lock", got.Millis)
	}
	// Without stats the lock is simply taken.
	lockWrite(&l, "beacon_intake", nil)
	l.Unlock()
}
