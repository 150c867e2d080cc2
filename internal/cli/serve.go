package cli

import (
	"context"
	"flag"
	"fmt"
	"net"

	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/web"
)

// addHTTPFlags adds --http and --http-token.
func addHTTPFlags(fs *flag.FlagSet) (addr, token *string) {
	addr = fs.String("http", "127.0.0.1:8080", "address of the HTTP server (/metrics, /healthz, /readyz, /api/v1/...); empty disables it")
	token = fs.String("http-token", "", "bearer token every HTTP request but /healthz must carry; required when --http is not a loopback address (prefer WIKISTREAM_HTTP_TOKEN)")
	return addr, token
}

// addQueryThreadsFlag adds --query-threads, the DuckDB threads of the API's
// engine; the returned func reads it once parsed, or says why it is bad.
func addQueryThreadsFlag(fs *flag.FlagSet) func() (int, error) {
	n := fs.Int("query-threads", web.QueryThreads(),
		"DuckDB threads of each API query (default: the machine's cores but one, leaving a core to the pipeline and the dashboard's other requests)")
	return func() (int, error) {
		if *n < 1 {
			return 0, fmt.Errorf("--query-threads %d: want 1 or more", *n)
		}
		return *n, nil
	}
}

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	dataDir := fs.String("data-dir", "./data", "the default catalog and warehouse live in <data-dir>")
	lf := addLakehouseFlags(fs, dataDir)
	addr, token := addHTTPFlags(fs)
	memory := fs.String("query-memory", query.DefaultConfig().MemoryLimit,
		"DuckDB memory limit of API queries and of the dashboard's in-memory copies of gold")
	timeout := fs.Duration("query-timeout", query.DefaultConfig().Timeout, "interrupt an API query after this long")
	threads := addQueryThreadsFlag(fs)
	applyLog := logFlags(fs, e)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := applyLog(); err != nil {
		return err
	}
	if *addr == "" {
		return fmt.Errorf("--http: want an address such as 127.0.0.1:8080")
	}
	cfg := web.Config{Addr: *addr, Token: *token, Logger: e.log}
	if err := cfg.Validate(); err != nil {
		return err
	}
	n, err := threads()
	if err != nil {
		return err
	}
	qcfg := web.QueryConfig()
	qcfg.MemoryLimit, qcfg.Timeout, qcfg.Threads, qcfg.Logger = *memory, *timeout, n, e.log
	if err := qcfg.Validate(); err != nil {
		return fmt.Errorf("--query-memory, --query-timeout: %w", err)
	}
	lh, err := lf.open(ctx, e.log)
	if err != nil {
		return err
	}
	defer lh.Close()
	eng, err := query.Open(ctx, lh, lakehouse.Tables(), qcfg)
	if err != nil {
		return err
	}
	defer eng.Close()
	cfg.Lakehouse = lh
	srv, err := web.New(cfg, eng)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on --http %s (in use? choose another address): %w", *addr, err)
	}
	e.log.Info("serving", "addr", ln.Addr().String(), "token_required", *token != "")
	return srv.Serve(ctx, ln)
}
