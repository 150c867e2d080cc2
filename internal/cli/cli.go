// Package cli implements the wikistream command line: one file per
// subcommand, flags that are also settable as WIKISTREAM_<FLAG> environment
// variables, and structured logs.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only when WIKISTREAM_PPROF_ADDR is set
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// Version is the build version, set with -ldflags "-X ...cli.Version=...".
var Version = "dev"

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: where to write and how to log.
type env struct {
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	log    *slog.Logger
}

func commands() []command {
	return []command{
		{"run", "run everything in one process: embedded broker, ingest, stages, HTTP", runRun},
		{"ingest", "read EventStreams or a file and produce into Kafka", runIngest},
		{"bronze", "consume raw-events and dlq-events into the bronze Iceberg tables, exactly once", runBronze},
		{"silver", "clean and enrich new bronze rows into silver.cleaned_events (--once for schedulers)", runSilver},
		{"gold", "recompute the gold hours and days new silver rows touch (--once for schedulers)", runGold},
		{"dq", "run the data-quality checks over every table into ops.dq_results (--once: exit 2 when a check fails)", runDQ},
		{"maintain", "compact small files, expire snapshots and remove orphan files of every table (hourly; --once, --dry-run)", runMaintain},
		{"replay", "re-consume Kafka from an offset or a time into bronze, then catch silver and gold up", runReplay},
		{"backfill", "re-ingest past events (EventStreams --since, or files) beside the live ingest; nothing is duplicated", runBackfill},
		{"broker", "run the embedded Kafka-protocol broker alone", runBroker},
		{"query", "read-only SQL over the Iceberg tables (DuckDB)", runQuery},
		{"serve", "the HTTP API alone over the tables: /api/v1/query, /healthz (loopback, or with --http-token)", runServe},
		{"gen", "write realistic synthetic recentchange events as JSON lines", runGen},
		{"bench", "end-to-end benchmark: replay N events through the pipeline, drained", runBench},
		{"version", "print the version", func(_ context.Context, e *env, _ []string) error {
			_, err := fmt.Fprintf(e.stdout, "wikistream %s\n", Version)
			return err
		}},
	}
}

// errUsage marks an error already explained by printed usage.
var errUsage = errors.New("usage")

// Run runs the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	e := &env{stdout: stdout, stderr: stderr, getenv: os.Getenv}
	e.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name == args[0] })
	if i < 0 {
		fmt.Fprintf(stderr, "wikistream: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	if path := e.getenv("WIKISTREAM_CPUPROFILE"); path != "" {
		stop, err := startCPUProfile(path)
		if err != nil {
			fmt.Fprintf(stderr, "wikistream: WIKISTREAM_CPUPROFILE: %v\n", err)
			return 1
		}
		defer stop()
	}
	if path := e.getenv("WIKISTREAM_MEMPROFILE"); path != "" {
		// Allocations over the whole command (go tool pprof
		// -sample_index=alloc_space), written when it ends.
		defer func() {
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(stderr, "wikistream: WIKISTREAM_MEMPROFILE: %v\n", err)
			}
		}()
	}
	if addr := e.getenv("WIKISTREAM_PPROF_ADDR"); addr != "" {
		// For profiling a running command: go tool pprof http://ADDR/debug/pprof/heap
		srv := &http.Server{Addr: addr, Handler: http.DefaultServeMux, ReadHeaderTimeout: 5 * time.Second}
		go srv.ListenAndServe()
		defer srv.Close()
	}
	err := cmds[i].run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "wikistream %s: %v\n", args[0], err)
	return 1
}

func usage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "WikiStream: real-time Wikipedia edit analytics.")
	fmt.Fprintln(w, "\nUsage: wikistream <command> [flags]\n\nCommands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set as an environment variable WIKISTREAM_<FLAG>,")
	fmt.Fprintln(w, "e.g. --data-dir as WIKISTREAM_DATA_DIR. Run 'wikistream <command> -h' for its flags.")
}

// parse parses args into fs, then fills every flag not given on the command
// line from its WIKISTREAM_<FLAG> environment variable. Precedence: defaults
// < environment < flags.
func (e *env) parse(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(e.stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "unexpected arguments: %q\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := EnvName(f.Name)
		if v := e.getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("environment variable %s=%q (flag --%s): %w", name, v, f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

// EnvName is the environment variable that sets flag name.
func EnvName(flagName string) string {
	return "WIKISTREAM_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// logFlags adds --log-level and --log-format and returns a function that
// applies them to e.log after parsing.
func logFlags(fs *flag.FlagSet, e *env) func() error {
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	format := fs.String("log-format", "text", "log format: text or json")
	return func() error {
		var l slog.Level
		if err := l.UnmarshalText([]byte(*level)); err != nil {
			return fmt.Errorf("--log-level: got %q, want debug, info, warn or error", *level)
		}
		opts := &slog.HandlerOptions{Level: l}
		switch *format {
		case "text":
			e.log = slog.New(slog.NewTextHandler(e.stderr, opts))
		case "json":
			e.log = slog.New(slog.NewJSONHandler(e.stderr, opts))
		default:
			return fmt.Errorf("--log-format: got %q, want text or json", *format)
		}
		return nil
	}
}

// startCPUProfile writes a CPU profile to path until the returned function
// is called. It is switched on by WIKISTREAM_CPUPROFILE, for profiling a
// whole command as a user runs it.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
