// Command ferretdb-server runs FerretDB v1 (MongoDB wire protocol over SQLite)
// embedded through its public package. FerretDB's own cmd/ferretdb, built from
// the module proxy, panics on a missing version file; this wrapper does not.
//
// It prints one line `ready <mongodb-uri>` on stdout once the listener accepts
// connections, and stops cleanly on SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	dataDir := flag.String("data-dir", "", "directory for the SQLite files (required)")
	logLevel := flag.String("log-level", "error", "log level: debug, info, warn or error")
	flag.Parse()

	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "ferretdb-server: -data-dir is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %v\n", err)
		os.Exit(2)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %v\n", err)
		os.Exit(2)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: bad -log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	tuneGC()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Handler:  "sqlite",
		// WAL with synchronous=NORMAL: a commit survives the server being killed (what the tests
		// do to it), not the machine losing power; like MongoDB's default write concern, which
		// does not wait for the journal either. FULL (SQLite's default) syncs the disk on every commit.
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(normal)",
		Logger:    logger,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()

	// MongoDBURI waits for the listener, so the line below means "accepting connections".
	fmt.Printf("ready %s\n", f.MongoDBURI())

	<-done
}

// tuneGC lets the heap grow to five times what is live before a collection (Go's default: twice),
// under a soft limit of 512 MiB. FerretDB decodes every document it reads into new Go values, so it
// allocates fast while keeping little: at the default it collected every few MB, and collection was
// about a fifth of its CPU time in a pipeline step. This takes about an eighth off its CPU time per
// step and a sixth off a 10k-document scan, for more memory: a peak of 253 MB in bench/store.ts
// (100k sessions) against 140. GOGC and GOMEMLIMIT, when set, are left to rule.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}
