// Command beacon-ferretdb serves the MongoDB wire protocol on a local port with FerretDB's
// embeddable package and its SQLite backend. It exists for two reasons: the upstream
// `cmd/ferretdb` panics when built with `go install` (its version file is generated at release
// time and is not part of the module), and FerretDB's writes are not atomic per document
// without the write-lock proxy in writelock.go.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to serve the MongoDB wire protocol on")
	dataDir := flag.String("data", "", "directory for the SQLite databases (created if missing)")
	postgres := flag.String("postgresql-url", "", "use the PostgreSQL backend at this URL instead of SQLite")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	debug := flag.String("debug", "", "serve profiles and command counts over HTTP on this address (off when empty)")
	casRewrite := flag.Bool("cas-rewrite", os.Getenv("BEACON_FERRETDB_CAS_REWRITE") != "off",
		"serve compare-and-set updates ({_id, field: value, …}) from the _id index (casrewrite.go); "+
			"BEACON_FERRETDB_CAS_REWRITE=off turns it off by default")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level: %v", err)
	}
	// Lazy: FerretDB derives a logger with each SQL statement's documents as attributes.
	logger := slog.New(lazyHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	// FerretDB listens on a private Unix socket; clients reach it through the write-lock proxy.
	socket := filepath.Join(os.TempDir(), fmt.Sprintf("beacon-ferretdb-%d.sock", os.Getpid()))
	_ = os.Remove(socket)
	cfg := &ferretdb.Config{Listener: ferretdb.ListenerConfig{Unix: socket}, Logger: logger}
	if *postgres != "" {
		cfg.Handler, cfg.PostgreSQLURL = "postgresql", *postgres
	} else {
		if *dataDir == "" {
			fail("-data is required with the SQLite backend")
		}
		abs, err := filepath.Abs(*dataDir)
		if err != nil {
			fail("bad -data: %v", err)
		}
		if err := os.MkdirAll(abs, 0o700); err != nil {
			fail("cannot create %s: %v", abs, err)
		}
		// FerretDB wants a file: URI naming a directory, with the trailing slash.
		cfg.Handler, cfg.SQLiteURL = "sqlite", "file:"+abs+"/"
	}

	f, err := ferretdb.New(cfg)
	if err != nil {
		fail("%v", err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fail("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()

	ran := make(chan error, 1)
	go func() { ran <- f.Run(ctx) }()
	if *postgres == "" {
		go keepIDIndexes(ctx, cfg.SQLiteURL[len("file:"):], 2*time.Second, logger)
	}
	var stats *commandStats
	if *debug != "" {
		stats = new(commandStats)
		if err := serveDebug(*debug, stats, logger); err != nil {
			fail("-debug: %v", err)
		}
	}
	logger.Info("serving", "address", ln.Addr().String(), "backend", socket)
	if err := proxy(ln, socket, *casRewrite, stats, logger); err != nil {
		fail("%v", err)
	}
	if err := <-ran; err != nil {
		fail("%v", err)
	}
	_ = os.Remove(socket)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "beacon-ferretdb: "+format+"\n", args...)
	os.Exit(1)
}
