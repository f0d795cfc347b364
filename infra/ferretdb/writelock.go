package main

// FerretDB 1.24 applies an update by reading the matching document, changing it in memory and
// writing it back, with nothing stopping a second writer in between (FerretDB issue #3040).
// Two concurrent `$inc`s then lose one, and two compare-and-set updates on a `version` field
// can both succeed. Beacon relies on single-document atomic writes, as MongoDB gives them, so
// this proxy sits in front of FerretDB and lets one write at a time into each database.
//
// Per database, not per collection: a database is one SQLite file with one write lock, and
// writers that collide on it wait in SQLite's busy handler, which sleeps in steps of up to
// 100 ms. Queueing them here instead hands the lock on in microseconds (measured: concurrent
// report submissions went from 100-600 ms per update to a few ms). Reads are not held up:
// SQLite runs in WAL mode, and each document write is a transaction of its own, so a reader
// sees a document either before or after a write.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

const (
	headerLen   = 16
	opMsg       = 2013
	maxMsgBytes = 48 * 1024 * 1024 // MongoDB's maxMessageSizeBytes
)

// writeCommands are the commands that write to a database's SQLite file.
var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findandmodify": true,
	"create": true, "createindexes": true, "drop": true, "dropindexes": true, "dropdatabase": true,
	"renamecollection": true,
}

// maxUpdateStatements is the most statements the proxy lets one update command carry.
// FerretDB 1.24's update handler keeps each statement's query, and the SQLite connection under
// it, open until the whole command ends, and a database has 100 connections: a command of
// about a hundred matching statements then waits forever for a connection to write with, and
// every later command on that database waits behind it. Such a command is answered with an
// error instead of relayed, so a client learns to send fewer rather than stalling the store.
const maxUpdateStatements = 50

// lockWrite takes a database's write lock for a write. With stats, the time it waited is counted
// under "lock-wait <db>": what one-write-at-a-time costs the writers of that database, beside
// the commands' own times.
func lockWrite(l *sync.Mutex, db string, stats *commandStats) {
	if stats == nil {
		l.Lock()
		return
	}
	start := time.Now()
	l.Lock()
	stats.add("lock-wait "+db, time.Since(start))
}

// namespaceLocks hands out one mutex per database.
type namespaceLocks struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

func (n *namespaceLocks) get(ns string) *sync.Mutex {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.locks == nil {
		n.locks = make(map[string]*sync.Mutex)
	}
	l, ok := n.locks[ns]
	if !ok {
		l = new(sync.Mutex)
		n.locks[ns] = l
	}
	return l
}

// message is one wire-protocol message, header included, forwarded byte for byte.
type message []byte

func (m message) requestID() int32  { return int32(binary.LittleEndian.Uint32(m[4:8])) }
func (m message) responseTo() int32 { return int32(binary.LittleEndian.Uint32(m[8:12])) }
func (m message) opCode() int32     { return int32(binary.LittleEndian.Uint32(m[12:16])) }

func readMessage(r io.Reader) (message, error) {
	var header [headerLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	size := int(binary.LittleEndian.Uint32(header[0:4]))
	if size < headerLen || size > maxMsgBytes {
		return nil, fmt.Errorf("wire message of %d bytes", size)
	}
	m := make(message, size)
	copy(m, header[:])
	if _, err := io.ReadFull(r, m[headerLen:]); err != nil {
		return nil, err
	}
	return m, nil
}

// writeNamespace returns the database when m is an OP_MSG carrying a write command, else "".
func writeNamespace(m message) string {
	// OP_MSG: header, flagBits (4 bytes), then sections; kind 0 holds the command document.
	if m.opCode() != opMsg || len(m) < headerLen+5 || m[headerLen+4] != 0 {
		return ""
	}
	// moreToCome: no reply will come to release a lock, so such a message takes none. Beacon
	// never sends unacknowledged (w:0) writes.
	if moreToCome(m) {
		return ""
	}
	doc := bson.Raw(m[headerLen+5:])
	if len(doc) < 5 {
		return ""
	}
	size := binary.LittleEndian.Uint32(doc[:4])
	if size < 5 || int(size) > len(doc) {
		return "" // malformed: FerretDB will answer it with an error
	}
	doc = doc[:size]
	elems, err := doc.Elements()
	if err != nil || len(elems) == 0 || !writeCommands[strings.ToLower(elems[0].Key())] {
		return ""
	}
	db, _ := doc.Lookup("$db").StringValueOK()
	return db
}

// moreToCome reports whether m is an OP_MSG its sender expects no reply to (an unacknowledged
// write): the flag bit 1 of flagBits.
func moreToCome(m message) bool {
	return m.opCode() == opMsg && len(m) >= headerLen+4 && binary.LittleEndian.Uint32(m[headerLen:headerLen+4])&2 != 0
}

// updateStatements returns how many statements m carries if it is an OP_MSG update command,
// counting both forms a driver may use: the command's "updates" array, or a document sequence
// section named "updates". Anything else, malformed messages included, counts 0.
func updateStatements(m message) int {
	if m.opCode() != opMsg || len(m) < headerLen+5 {
		return 0
	}
	end := len(m)
	if binary.LittleEndian.Uint32(m[headerLen:headerLen+4])&1 != 0 {
		end -= 4 // checksumPresent: a CRC-32C follows the sections
	}
	isUpdate, count := false, 0
	for at := headerLen + 4; at+5 <= end; {
		kind := m[at]
		size := int(binary.LittleEndian.Uint32(m[at+1 : at+5]))
		switch {
		case kind == 0 && size >= 5 && at+1+size <= end:
			doc := bson.Raw(m[at+1 : at+1+size])
			first, err := doc.IndexErr(0) // the command's name; the rest is not parsed
			if err != nil || !strings.EqualFold(first.Key(), "update") {
				return 0
			}
			isUpdate = true
			if updates, ok := doc.Lookup("updates").ArrayOK(); ok {
				values, _ := updates.Values()
				count += len(values)
			}
			at += 1 + size
		case kind == 1 && size >= 5 && at+1+size <= end:
			body := m[at+5 : at+1+size]
			nul := bytes.IndexByte(body, 0)
			if nul < 0 {
				return 0
			}
			if string(body[:nul]) == "updates" {
				for docs := body[nul+1:]; len(docs) >= 5; {
					n := int(binary.LittleEndian.Uint32(docs[:4]))
					if n < 5 || n > len(docs) {
						return 0
					}
					count++
					docs = docs[n:]
				}
			}
			at += 1 + size
		default:
			return 0
		}
	}
	if !isUpdate {
		return 0
	}
	return count
}

// errorReply is an OP_MSG answering the request with this id with a command error.
func errorReply(responseTo int32, code int32, codeName, errmsg string) message {
	doc, err := bson.Marshal(bson.D{
		{Key: "ok", Value: 0.0},
		{Key: "errmsg", Value: errmsg},
		{Key: "code", Value: code},
		{Key: "codeName", Value: codeName},
	})
	if err != nil {
		panic(err) // a fixed shape of strings and numbers always marshals
	}
	m := make(message, headerLen+5, headerLen+5+len(doc))
	binary.LittleEndian.PutUint32(m[8:12], uint32(responseTo))
	binary.LittleEndian.PutUint32(m[12:16], opMsg)
	m = append(m, doc...)
	binary.LittleEndian.PutUint32(m[0:4], uint32(len(m)))
	return m
}

// proxy accepts client connections on ln and relays each to FerretDB at backend (a Unix socket),
// holding the database's lock from a write request until its reply.
// With stats non-nil, it also counts the commands it relays (see debug.go). With casRewrite, it
// serves compare-and-set updates from the _id index (see casrewrite.go).
func proxy(ln net.Listener, backend string, casRewrite bool, stats *commandStats, logger *slog.Logger) error {
	var locks namespaceLocks
	for {
		client, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go relay(client, backend, &locks, casRewrite, stats, logger)
	}
}

func relay(client net.Conn, backend string, locks *namespaceLocks, casRewrite bool, stats *commandStats, logger *slog.Logger) {
	defer client.Close()
	server, err := net.Dial("unix", backend)
	if err != nil {
		logger.Error("cannot reach FerretDB", "error", err)
		return
	}
	defer server.Close()
	var cas *casRewriter
	if casRewrite {
		cas = &casRewriter{backend: backend}
	}

	// Locks held for requests whose reply has not come back yet, by request id.
	var mu sync.Mutex
	held := make(map[int32]*sync.Mutex)
	// With stats: commands awaiting their replies, by request id.
	type pendingCommand struct {
		key   string
		start time.Time
	}
	pending := make(map[int32]pendingCommand)
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for id, l := range held {
			l.Unlock()
			delete(held, id)
		}
	}()

	// Replies come from FerretDB and, for refused commands, from here.
	var replies sync.Mutex
	reply := func(m message) {
		replies.Lock()
		defer replies.Unlock()
		_, _ = client.Write(m)
	}

	clientGone := make(chan struct{})
	go func() {
		defer close(clientGone)
		if cas != nil {
			defer cas.close()
		}
		for {
			m, err := readMessage(client)
			if err != nil {
				return
			}
			if n := updateStatements(m); n > maxUpdateStatements {
				if moreToCome(m) {
					// A reply nobody waits for would be taken as the answer to the client's next
					// command: drop the connection instead, so the loss is not silent.
					logger.Warn("closing a connection that sent an unacknowledged update command of too many statements",
						"statements", n, "limit", maxUpdateStatements)
					return
				}
				reply(errorReply(m.requestID(), 2, "BadValue", fmt.Sprintf(
					"this store (FerretDB 1.24) stalls on an update command of about a hundred statements; "+
						"this one has %d: send at most %d per command", n, maxUpdateStatements)))
				continue
			}
			if ns := writeNamespace(m); ns != "" {
				l := locks.get(ns)
				lockWrite(l, ns, stats)
				mu.Lock()
				held[m.requestID()] = l
				mu.Unlock()
				if cas != nil {
					// Under the lock just taken, held until the reply: see casrewrite.go.
					m = cas.rewrite(m)
				}
			}
			if stats != nil {
				if key := commandKey(m); key != "" {
					mu.Lock()
					pending[m.requestID()] = pendingCommand{key, time.Now()}
					mu.Unlock()
				}
			}
			if _, err := server.Write(m); err != nil {
				return
			}
		}
	}()

	// When the client goes, writes it sent may still be running in FerretDB: their locks are
	// kept until their replies come (or a grace period passes), so no other write interleaves.
	go func() {
		<-clientGone
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			mu.Lock()
			pending := len(held)
			mu.Unlock()
			if pending == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		server.Close() // ends the reply loop below
	}()

	for {
		m, err := readMessage(server)
		if err != nil {
			break
		}
		mu.Lock()
		if l, ok := held[m.responseTo()]; ok {
			delete(held, m.responseTo())
			l.Unlock()
		}
		if p, ok := pending[m.responseTo()]; ok {
			delete(pending, m.responseTo())
			stats.add(p.key, time.Since(p.start))
		}
		mu.Unlock()
		// The client may be gone; its pending replies are still read to release their locks.
		reply(m)
	}
	client.Close()
	<-clientGone
}
