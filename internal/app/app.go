// Package app wires WikiStream's components into one process: the embedded
// broker, the stages and the HTTP endpoints, run as one group that shuts down
// together.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/kafka"
)

// Config is the wiring of one `wikistream run` process.
type Config struct {
	// Embedded starts the embedded broker with Broker; otherwise Kafka is
	// the external cluster of Kafka.
	Embedded bool
	Broker   kafka.BrokerConfig
	Kafka    kafka.ClientConfig
	// HTTPAddr serves /metrics and /healthz; empty disables HTTP.
	HTTPAddr string
	// Ingest configures the ingest stage; Source feeds it.
	Ingest ingest.Config
	Source ingest.Source
	// Registry collects every metric served on /metrics; IngestMetrics are
	// registered on it (the source reports reconnects to them).
	Registry      *prometheus.Registry
	IngestMetrics *ingest.Metrics
	// Drain stops the process once the source is done and every stage has
	// caught up, instead of running until cancelled.
	Drain  bool
	Logger *slog.Logger
}

// Summary is what a drained run did.
type Summary struct {
	Ingest  ingest.Stats
	Elapsed time.Duration
}

// Run runs the process until ctx is cancelled or, with Drain, until the
// source is done. It returns the summary of what ran.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	kcfg := cfg.Kafka
	var broker *kafka.Broker
	if cfg.Embedded {
		var err error
		if broker, err = kafka.StartBroker(cfg.Broker); err != nil {
			return Summary{}, err
		}
		kcfg.Brokers = []string{broker.Addr()}
		log.Info("embedded broker listening", "addr", broker.Addr(), "data_dir", cfg.Broker.DataDir)
	}
	closeBroker := func() {
		if broker != nil {
			broker.Close()
		}
	}
	opts, err := kcfg.Opts(log)
	if err != nil {
		closeBroker()
		return Summary{}, err
	}
	metrics := cfg.IngestMetrics
	if metrics == nil {
		metrics = ingest.NewMetrics(reg)
	}
	stage, err := ingest.New(cfg.Ingest, cfg.Source, opts, metrics)
	if err != nil {
		closeBroker()
		return Summary{}, err
	}

	var srv *http.Server
	var ln net.Listener
	if cfg.HTTPAddr != "" {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			closeBroker()
			return Summary{}, fmt.Errorf("listen on --http %s (in use? choose another address): %w", cfg.HTTPAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "ok")
		})
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		log.Info("http listening", "addr", ln.Addr().String())
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(runCtx)
	if srv != nil {
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			return srv.Shutdown(sctx)
		})
	}
	g.Go(func() error {
		err := stage.Run(gctx)
		if err == nil && cfg.Drain {
			cancel() // the source is done and everything produced is acknowledged
		}
		return err
	})
	err = g.Wait()
	closeBroker()
	return Summary{Ingest: stage.Stats(), Elapsed: time.Since(start)}, err
}
