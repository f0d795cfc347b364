package main

// FerretDB 1.24's SQLite backend indexes each collection's _id on the expression
// _ferretdb_sjson->"_id" but looks documents up with _ferretdb_sjson->'$._id'. SQLite uses an
// expression index only for the same expression, so every lookup or update by _id scans the
// whole table: measured here, an update by _id took 2.4 ms at 150 documents and 7.5 ms at 600.
// The launcher adds an index on the expression the queries use to every collection table.
// FerretDB does not know of it (listIndexes is unchanged); it only makes its lookups use an
// index. Tables appear when collections do, so the check repeats.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// keepIDIndexes adds the missing indexes in every database under dir now and every interval,
// until ctx ends.
func keepIDIndexes(ctx context.Context, dir string, interval time.Duration, logger *slog.Logger) {
	dbs := make(map[string]*sql.DB)
	defer func() {
		for _, db := range dbs {
			db.Close()
		}
	}()
	for {
		files, _ := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		for _, file := range files {
			db, ok := dbs[file]
			if !ok {
				var err error
				// The driver FerretDB registers; the same pragmas FerretDB sets.
				db, err = sql.Open("sqlite", "file:"+file+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)")
				if err != nil {
					logger.Warn("cannot open database for _id indexes", "file", file, "error", err)
					continue
				}
				db.SetMaxOpenConns(1)
				dbs[file] = db
			}
			if err := addIDIndexes(ctx, db); err != nil && ctx.Err() == nil {
				logger.Warn("cannot add _id indexes", "file", file, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func addIDIndexes(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx,
		`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\_ferretdb\_%' ESCAPE '\' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	for _, table := range tables {
		index := quote(table + "_beacon_id")
		q := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (_ferretdb_sjson->'$._id')`, index, quote(table))
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}

func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
