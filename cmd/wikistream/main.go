// Command wikistream is the WikiStream real-time Wikipedia edit analytics
// platform: `wikistream run` starts everything on one machine; the other
// subcommands run one stage each for scaled-out deployments.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wikistream/wikistream/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
