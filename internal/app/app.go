// Package app wires WikiStream's components into one process: the embedded
// broker, the stages and the HTTP endpoints, run as one group that shuts down
// together.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/sync/errgroup"

	"github.com/wikistream/wikistream/internal/alert"
	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/gold"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/quality"
	"github.com/wikistream/wikistream/internal/query"
	"github.com/wikistream/wikistream/internal/silver"
	"github.com/wikistream/wikistream/internal/supervise"
	"github.com/wikistream/wikistream/internal/web"
)

// Config is the wiring of one `wikistream run` process.
type Config struct {
	// Embedded starts the embedded broker with Broker; otherwise Kafka is
	// the external cluster of Kafka.
	Embedded bool
	Broker   kafka.BrokerConfig
	Kafka    kafka.ClientConfig
	// Lakehouse is where the tables are.
	Lakehouse lakehouse.Config
	// HTTPAddr serves /metrics, /healthz, /readyz and the API; empty
	// disables HTTP. Off loopback it needs HTTPToken, which every request
	// but /healthz must then carry as a bearer token.
	HTTPAddr  string
	HTTPToken string
	// QueryMemory is the DuckDB memory limit of the API's engine, such as
	// "512MB" (empty: query's default).
	QueryMemory string
	// QueryThreads is the number of DuckDB threads of the API's engine (0:
	// web.QueryThreads).
	QueryThreads int
	// Ingest configures the ingest stage; Source feeds it.
	Ingest ingest.Config
	Source ingest.Source
	// Bronze and Silver configure those stages.
	Bronze bronze.Config
	Silver silver.Config
	Gold   gold.Config
	// Registry collects every metric served on /metrics; IngestMetrics are
	// registered on it (the source reports reconnects to them).
	Registry      *prometheus.Registry
	IngestMetrics *ingest.Metrics
	// Supervisor restarts failed and stalled stages. With Drain, a stage
	// that fails 3 times in a row ends the run unless MaxRestarts says
	// otherwise.
	Supervisor supervise.Config
	// OnStageEvent receives the supervisor's failures, stalls and restarts
	// (besides the log and the alerts they raise). Optional.
	OnStageEvent func(context.Context, supervise.Event)
	// Alerts are the alert outputs besides the log and ops.alerts (which
	// always get every alert); AlertCoolDown overrides the default
	// cool-down (30m) when set.
	Alerts        alert.SinksConfig
	AlertCoolDown time.Duration
	// Quality configures the data-quality stage; nil takes
	// quality.DefaultConfig() without the source-age check when the source
	// is a file (a drained file is not a stopped feed).
	Quality *quality.Config
	// LiveSource says the source is EventStreams rather than a file.
	LiveSource bool
	// Maintain configures table maintenance (compaction, snapshot expiry,
	// orphan removal); nil takes lakehouse.DefaultMaintainConfig().
	Maintain *lakehouse.MaintainConfig
	// Drain stops the process once the source is done and every stage has
	// caught up, instead of running until cancelled. A drained run checks
	// data quality and raises risk alerts once, at the end, over the final
	// tables (unless SkipFinalChecks: benchmarks), instead of on a schedule.
	Drain           bool
	SkipFinalChecks bool
	Logger          *slog.Logger
}

// Summary is what a run did.
type Summary struct {
	Ingest  ingest.Stats
	Bronze  bronze.Stats
	Elapsed time.Duration
	// IngestDone and BronzeDone are how long after the start the source was
	// done and bronze had committed everything (drained runs).
	IngestDone time.Duration
	BronzeDone time.Duration
	SilverDone time.Duration
	GoldDone   time.Duration
	// Quality is the final data-quality report of a drained run, and
	// RiskAlerts the risk_high alerts it raised.
	Quality    *quality.Report
	RiskAlerts int
	// KeptReads and FileReads count the stages' reads of data files that
	// were still in memory from their commit, and those read from storage
	// (lakehouse.Lakehouse.ReadsRecent).
	KeptReads, FileReads int64
}

// Run runs the process until ctx is cancelled or, with Drain, until the
// source is done and every stage caught up. It returns what ran.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	start := time.Now()
	if cfg.HTTPAddr != "" {
		if err := (web.Config{Addr: cfg.HTTPAddr, Token: cfg.HTTPToken}).Validate(); err != nil {
			return Summary{}, err
		}
		if err := (query.Config{MemoryLimit: cfg.QueryMemory}).Validate(); err != nil {
			return Summary{}, fmt.Errorf("--query-memory: %w", err)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}()
	kcfg := cfg.Kafka
	if cfg.Embedded {
		broker, err := kafka.StartBroker(cfg.Broker)
		if err != nil {
			return Summary{}, err
		}
		closers = append(closers, broker.Close)
		kcfg.Brokers = []string{broker.Addr()}
		log.Info("embedded broker listening", "addr", broker.Addr(), "data_dir", cfg.Broker.DataDir)
	}
	opts, err := kcfg.Opts(log)
	if err != nil {
		return Summary{}, err
	}
	lcfg := cfg.Lakehouse
	lcfg.Registerer = reg
	lh, err := lakehouse.Open(ctx, lcfg)
	if err != nil {
		return Summary{}, err
	}
	closers = append(closers, func() { lh.Close() })
	reg.MustRegister(lh.Gate().Collectors()...)

	metrics := cfg.IngestMetrics
	if metrics == nil {
		metrics = ingest.NewMetrics(reg)
	}
	ing, err := ingest.New(cfg.Ingest, cfg.Source, opts, metrics)
	if err != nil {
		return Summary{}, err
	}
	brz, err := bronze.New(cfg.Bronze, lh, opts, bronze.NewMetrics(reg))
	if err != nil {
		return Summary{}, err
	}
	slv, err := silver.New(cfg.Silver, lh)
	if err != nil {
		return Summary{}, err
	}
	gcfg := cfg.Gold
	if gcfg.Logger == nil {
		gcfg.Logger = log
	}
	if gcfg.Registerer == nil {
		gcfg.Registerer = reg
	}
	// Set once the dashboard's engine exists: a gold commit has it copy
	// the new hourly numbers at once (freshness), not at its next poll.
	var hourlyCommitted atomic.Pointer[func()]
	next := gcfg.HourlyCommitted
	gcfg.HourlyCommitted = func() {
		if f := hourlyCommitted.Load(); f != nil {
			(*f)()
		}
		if next != nil {
			next()
		}
	}
	gld, err := gold.New(ctx, gcfg, lh)
	if err != nil {
		return Summary{}, err
	}
	closers = append(closers, func() { gld.Close() })

	scfg := cfg.Supervisor
	if scfg.Logger == nil {
		scfg.Logger = log
	}
	if scfg.Registerer == nil {
		scfg.Registerer = reg
	}
	if cfg.Drain && scfg.MaxRestarts == 0 {
		scfg.MaxRestarts = 3
	}
	acfg := alert.DefaultConfig()
	acfg.Logger, acfg.Registerer = log, reg
	if cfg.AlertCoolDown > 0 {
		acfg.CoolDown = cfg.AlertCoolDown
	}
	sinks, err := alert.Sinks(cfg.Alerts, lh, log)
	if err != nil {
		return Summary{}, err
	}
	alerts, err := alert.New(ctx, acfg, sinks...)
	if err != nil {
		return Summary{}, err
	}
	riskEng, err := query.Open(ctx, lh, []table.Identifier{lakehouse.GoldRiskScores}, query.Config{MemoryLimit: "128MB", Threads: 1, Logger: log})
	if err != nil {
		return Summary{}, err
	}
	closers = append(closers, func() { riskEng.Close() })
	rwcfg := alert.DefaultRiskWatcherConfig()
	rwcfg.Logger = log
	risks, err := alert.NewRiskWatcher(rwcfg, riskEng, alerts)
	if err != nil {
		return Summary{}, err
	}
	scfg.OnEvent = func(ctx context.Context, ev supervise.Event) {
		if err := alerts.Raise(ctx, stageAlert(ev)); err != nil {
			log.Warn("could not raise the stage alert", "stage", ev.Stage, "err", err)
		}
		if cfg.OnStageEvent != nil {
			cfg.OnStageEvent(ctx, ev)
		}
	}
	sup, err := supervise.New(scfg)
	if err != nil {
		return Summary{}, err
	}
	admCl, err := kgo.NewClient(opts...)
	if err != nil {
		return Summary{}, fmt.Errorf("kafka client: %w", err)
	}
	closers = append(closers, admCl.Close)

	var srv *web.Server
	var ln net.Listener
	if cfg.HTTPAddr != "" {
		qcfg := web.QueryConfig()
		qcfg.MemoryLimit, qcfg.Logger = cfg.QueryMemory, log
		if cfg.QueryThreads > 0 {
			qcfg.Threads = cfg.QueryThreads
		}
		eng, err := query.Open(ctx, lh, lakehouse.Tables(), qcfg)
		if err != nil {
			return Summary{}, err
		}
		closers = append(closers, func() { eng.Close() })
		refresh := func() { go eng.Refresh(ctx) } // returns ErrClosed once the engine is closed
		hourlyCommitted.Store(&refresh)
		if srv, err = web.New(web.Config{Addr: cfg.HTTPAddr, Token: cfg.HTTPToken, Logger: log, Lakehouse: lh}, eng); err != nil {
			return Summary{}, err
		}
		srv.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		srv.Handle("GET /readyz", readyz(sup))
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return Summary{}, fmt.Errorf("listen on --http %s (in use? choose another address): %w", cfg.HTTPAddr, err)
		}
		log.Info("http listening", "addr", ln.Addr().String(), "token_required", cfg.HTTPToken != "")
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(runCtx)
	if srv != nil {
		g.Go(func() error { return srv.Serve(gctx, ln) })
	}
	var sum Summary
	ingestDone := make(chan struct{})
	sup.Add(supervise.Service{Name: "ingest", Run: func(ctx context.Context) error {
		if err := ing.Run(ctx); err != nil || ctx.Err() != nil {
			return err
		}
		sum.IngestDone = time.Since(start)
		close(ingestDone)
		return nil
	}})
	sup.Add(supervise.Service{Name: "bronze", Daemon: true, Run: brz.Run,
		Health: bronzeHealth(kadm.NewClient(admCl), brz, cfg.Ingest.RawTopic, cfg.Ingest.DLQTopic)})
	sup.Add(supervise.Service{Name: "silver", Daemon: true, Run: slv.Run,
		Health: tableHealth(lh, slv.CaughtUp, lakehouse.SilverCleanedEvents)})
	sup.Add(supervise.Service{Name: "gold", Daemon: true, Run: gld.Run,
		Health: tableHealth(lh, gld.CaughtUp, lakehouse.GoldTables()...)})
	qcfg := quality.DefaultConfig()
	if cfg.Quality != nil {
		qcfg = *cfg.Quality
	} else if !cfg.LiveSource {
		qcfg.MaxSourceAge = 0
	}
	qcfg.Logger, qcfg.OnFailure = log, qualityAlerts(alerts, log)
	dq, err := quality.New(qcfg, lh, reg)
	if err != nil {
		return Summary{}, err
	}
	closers = append(closers, func() { dq.Close() })
	if srv != nil {
		srv.Handle("GET /api/v1/pipeline", pipeline(lh, sup, brz, ing, dq))
	}
	if !cfg.Drain {
		sup.Add(supervise.Service{Name: "quality", Daemon: true, Run: dq.Run})
	}
	mcfg := lakehouse.DefaultMaintainConfig()
	if cfg.Maintain != nil {
		mcfg = *cfg.Maintain
	}
	mcfg.Logger, mcfg.Registerer = log, reg
	maint, err := lakehouse.NewMaintainer(lh, mcfg)
	if err != nil {
		return Summary{}, err
	}
	sup.Add(supervise.Service{Name: "maintain", Daemon: true, Run: maint.Run})
	if !cfg.Drain {
		sup.Add(supervise.Service{Name: "risk-alerts", Daemon: true, Run: risks.Run})
	}
	sup.Add(supervise.Service{Name: "dlq-alerts", Daemon: true,
		Run: dlqWatch{stats: ing.Stats, raise: alerts, window: 5 * time.Minute, maxShare: 0.05, minEvents: 100, log: log}.Run})
	g.Go(func() error { return sup.Run(gctx) })
	g.Go(func() error { return alerts.Run(gctx) }) // delivers what is queued for a while after gctx ends
	if cfg.Drain {
		g.Go(func() error {
			select {
			case <-gctx.Done():
				return nil
			case <-ingestDone:
			}
			if err := waitCaughtUp(gctx, opts, brz, cfg.Ingest.RawTopic, cfg.Ingest.DLQTopic); err != nil {
				return err
			}
			sum.BronzeDone = time.Since(start)
			slv.Hurry() // the rest of the backlog is theirs alone
			gld.Hurry()
			if err := waitFor(gctx, slv.CaughtUp); err != nil {
				return err
			}
			sum.SilverDone = time.Since(start)
			if err := waitFor(gctx, gld.CaughtUp); err != nil {
				return err
			}
			sum.GoldDone = time.Since(start)
			log.Info("drained", "seconds", sum.GoldDone.Seconds())
			if !cfg.SkipFinalChecks {
				rep, err := dq.RunOnce(gctx)
				if err != nil {
					return fmt.Errorf("final data-quality run: %w", err)
				}
				sum.Quality = &rep
				if sum.RiskAlerts, err = risks.RunOnce(gctx); err != nil {
					return fmt.Errorf("final risk alerts: %w", err)
				}
				if err := alerts.Flush(gctx); err != nil {
					return fmt.Errorf("deliver alerts: %w", err)
				}
			}
			cancel()
			return nil
		})
	}
	err = g.Wait()
	sum.Ingest, sum.Bronze, sum.Elapsed = ing.Stats(), brz.Stats(), time.Since(start)
	sum.KeptReads, sum.FileReads = lh.RecentReads()
	if err != nil && ctx.Err() == nil {
		return sum, err
	}
	return sum, nil
}

// waitFor polls done until it reports true or ctx ends.
func waitFor(ctx context.Context, done func(context.Context) (bool, error)) error {
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := done(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("drain: %w", err)
		}
		if ok || ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// waitCaughtUp returns once bronze has committed every record the topics
// hold now.
func waitCaughtUp(ctx context.Context, opts []kgo.Opt, brz *bronze.Stage, topics ...string) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	cl.Close()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("drain: list end offsets: %w", err)
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		committed := brz.Committed()
		done := true
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil && committed[o.Topic][o.Partition] < o.Offset {
				done = false
			}
		})
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
