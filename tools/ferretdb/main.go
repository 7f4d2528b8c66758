// Command ferretdb runs an embedded FerretDB (MongoDB wire protocol) with the
// SQLite backend, for the tests only. It prints the MongoDB URI on stdout once
// it listens, and exits cleanly on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on (port 0 picks a free port)")
	dir := flag.String("dir", "", "directory for the SQLite databases (required)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}

	// The embedded package never reports telemetry and opens no debug port.
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		log.Fatal(err)
	}

	// The listener is bound by New, so the real address is known here.
	fmt.Println(f.MongoDBURI())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
