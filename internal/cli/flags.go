package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/wikistream/wikistream/internal/bronze"
	"github.com/wikistream/wikistream/internal/ingest"
	"github.com/wikistream/wikistream/internal/kafka"
	"github.com/wikistream/wikistream/internal/lakehouse"
	"github.com/wikistream/wikistream/internal/recentchange"
	"github.com/wikistream/wikistream/internal/source"
)

// listFlag is a comma-separated list flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = nil
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			*l = append(*l, item)
		}
	}
	return nil
}

// kafkaFlags are the settings of a Kafka client.
type kafkaFlags struct {
	cfg     kafka.ClientConfig
	brokers listFlag
}

func addKafkaFlags(fs *flag.FlagSet, usage string) *kafkaFlags {
	k := &kafkaFlags{}
	fs.Var(&k.brokers, "brokers", usage)
	fs.BoolVar(&k.cfg.TLS, "kafka-tls", false, "connect to Kafka with TLS")
	fs.StringVar(&k.cfg.TLSCAFile, "kafka-tls-ca", "", "PEM file of CAs to trust for Kafka TLS (default: system roots)")
	fs.StringVar(&k.cfg.TLSCertFile, "kafka-tls-cert", "", "PEM client certificate for Kafka mutual TLS")
	fs.StringVar(&k.cfg.TLSKeyFile, "kafka-tls-key", "", "PEM client key for Kafka mutual TLS")
	fs.StringVar(&k.cfg.TLSServerName, "kafka-tls-server-name", "", "server name to verify in the broker certificate")
	fs.StringVar(&k.cfg.SASLMechanism, "kafka-sasl", "", "SASL mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or AWS_MSK_IAM (credentials from AWS_* environment)")
	fs.StringVar(&k.cfg.SASLUser, "kafka-sasl-user", "", "SASL user for PLAIN/SCRAM")
	fs.StringVar(&k.cfg.SASLPassword, "kafka-sasl-password", "", "SASL password for PLAIN/SCRAM (prefer WIKISTREAM_KAFKA_SASL_PASSWORD)")
	return k
}

// config returns the client configuration, with the given brokers when none
// were set by flag or environment.
func (k *kafkaFlags) config(fallback ...string) kafka.ClientConfig {
	c := k.cfg
	c.Brokers = k.brokers
	if len(c.Brokers) == 0 {
		c.Brokers = fallback
	}
	return c
}

// brokerFlags are the settings of the embedded broker.
type brokerFlags struct {
	addr       string
	partitions int
	syncWrites bool
}

func addBrokerFlags(fs *flag.FlagSet) *brokerFlags {
	b := &brokerFlags{}
	d := kafka.DefaultBrokerConfig()
	fs.StringVar(&b.addr, "broker-addr", d.Addr, "address the embedded Kafka-protocol broker listens on (port 0: any free port)")
	fs.IntVar(&b.partitions, "partitions", int(d.Partitions), "partitions of the raw-events and dlq-events topics when they are created")
	fs.BoolVar(&b.syncWrites, "broker-sync-writes", false, "fsync every produced batch in the embedded broker (slower; survives power loss)")
	return b
}

func (b *brokerFlags) config(dataDir string) kafka.BrokerConfig {
	c := kafka.DefaultBrokerConfig()
	c.Addr = b.addr
	c.Partitions = int32(b.partitions)
	c.SyncWrites = b.syncWrites
	if dataDir != "" {
		c.DataDir = filepath.Join(dataDir, "broker")
	}
	return c
}

// DefaultSourceURL is the live EventStreams recentchange stream.
const DefaultSourceURL = "https://stream.wikimedia.org/v2/stream/recentchange"

// ingestFlags are the settings of the ingest stage and its source.
type ingestFlags struct {
	source      string
	filter      string
	speed       float64
	since       string
	userAgent   string
	idleTimeout time.Duration
	maxBytes    int
	maxFuture   time.Duration
	fromStart   bool
	rawTopic    string
	dlqTopic    string
}

func addIngestFlags(fs *flag.FlagSet) *ingestFlags {
	f := &ingestFlags{}
	sd := source.DefaultConfig()
	ld := recentchange.DefaultLimits()
	fs.StringVar(&f.source, "source", DefaultSourceURL, "where events come from: an EventStreams URL (several streams comma-separated: .../stream/recentchange,page-create), a .jsonl, .jsonl.gz or .sse file, or - for stdin")
	fs.StringVar(&f.filter, "filter", recentchange.FilterWikipedia, "domains to keep: high-activity (en,de,ja,fr,zh,es,ru Wikipedias), wikipedia (every edition), all, or a comma-separated list of domains")
	fs.Float64Var(&f.speed, "speed", 0, "file replay speed as a factor of the events' own timestamps (1 = real time); 0 = as fast as possible")
	fs.StringVar(&f.since, "since", "", "EventStreams backfill start (ISO 8601 time or Unix milliseconds); used when there is no position to resume from")
	fs.StringVar(&f.userAgent, "user-agent", sd.UserAgent, "User-Agent sent to EventStreams (Wikimedia asks for contact details)")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", sd.IdleTimeout, "reconnect when EventStreams sends nothing for this long")
	fs.IntVar(&f.maxBytes, "max-event-bytes", ld.MaxBytes, "largest accepted event; bigger ones are dead-lettered as oversize")
	fs.DurationVar(&f.maxFuture, "max-future", ld.MaxFuture, "how far ahead of the ingest clock an event timestamp may be")
	fs.BoolVar(&f.fromStart, "from-start", false, "ignore the position stored in Kafka and read the source from its start (or --since)")
	fs.StringVar(&f.rawTopic, "raw-topic", kafka.TopicRaw, "topic for valid events")
	fs.StringVar(&f.dlqTopic, "dlq-topic", kafka.TopicDLQ, "topic for rejected events (dead letters)")
	return f
}

// build validates the flags and returns the source and stage configuration.
func (f *ingestFlags) build(partitions int, metrics *ingest.Metrics, log *slog.Logger) (source.Source, ingest.Config, error) {
	cfg := ingest.DefaultConfig()
	filter, err := recentchange.ParseFilter(f.filter)
	if err != nil {
		return nil, cfg, fmt.Errorf("--filter: %w", err)
	}
	cfg.Filter = filter
	cfg.Limits.MaxBytes = f.maxBytes
	cfg.Limits.MaxFuture = f.maxFuture
	cfg.Resume = !f.fromStart
	cfg.RawTopic, cfg.DLQTopic = f.rawTopic, f.dlqTopic
	cfg.Partitions = int32(partitions)
	if err := cfg.Validate(); err != nil {
		return nil, cfg, err
	}
	if f.speed < 0 {
		return nil, cfg, fmt.Errorf("--speed: got %g, want 0 (as fast as possible) or a positive factor", f.speed)
	}
	sc := source.DefaultConfig()
	sc.Speed = f.speed
	sc.Since = f.since
	sc.UserAgent = f.userAgent
	sc.IdleTimeout = f.idleTimeout
	sc.MaxEventBytes = f.maxBytes
	sc.Logger = log
	// The client logs each reconnection itself; count them.
	sc.OnReconnect = func(error, time.Duration) { metrics.Reconnects.Inc() }
	src, err := source.Open(f.source, sc)
	if err != nil {
		return nil, cfg, fmt.Errorf("--source %s: %w", f.source, err)
	}
	return src, cfg, nil
}

// lakehouseFlags say where the catalog and warehouse are.
type lakehouseFlags struct {
	dataDir   *string
	catalog   string
	warehouse string
	props     listFlag
}

func addLakehouseFlags(fs *flag.FlagSet, dataDir *string) *lakehouseFlags {
	l := &lakehouseFlags{dataDir: dataDir}
	fs.StringVar(&l.catalog, "catalog", "", "Iceberg catalog URI: sqlite:///path.db, postgres://..., https://... (REST: S3 Tables, Polaris, Lakekeeper) or glue://; default: SQLite in <data-dir>/catalog.db")
	fs.StringVar(&l.warehouse, "warehouse", "", "warehouse location: file:///path, s3://bucket/prefix or gs://bucket/prefix; default <data-dir>/warehouse")
	fs.Var(&l.props, "catalog-prop", "extra catalog/file IO properties key=value, comma-separated (credential, token, s3.region, rest.sigv4-enabled, ...)")
	return l
}

func (l *lakehouseFlags) config(log *slog.Logger) (lakehouse.Config, error) {
	c := lakehouse.Config{DataDir: *l.dataDir, Catalog: l.catalog, Warehouse: l.warehouse, Logger: log, Props: map[string]string{}}
	for _, kv := range l.props {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return c, fmt.Errorf("--catalog-prop: got %q, want key=value", kv)
		}
		c.Props[k] = v
	}
	return c, c.Validate()
}

// open opens the lakehouse the flags name.
func (l *lakehouseFlags) open(ctx context.Context, log *slog.Logger) (*lakehouse.Lakehouse, error) {
	c, err := l.config(log)
	if err != nil {
		return nil, err
	}
	return lakehouse.Open(ctx, c)
}

// bronzeFlags are the bronze stage's settings.
type bronzeFlags struct {
	interval  time.Duration
	batchSize int
	indexKeys int
	group     string
}

func addBronzeFlags(fs *flag.FlagSet) *bronzeFlags {
	b := &bronzeFlags{}
	d := bronze.DefaultConfig()
	fs.DurationVar(&b.interval, "bronze-interval", d.Interval, "longest a record waits before its bronze micro-batch is committed")
	fs.IntVar(&b.batchSize, "bronze-batch", d.BatchSize, "commit a bronze micro-batch early once it holds this many records")
	fs.IntVar(&b.indexKeys, "bronze-index-keys", d.IndexKeys, "row keys the bronze merge index keeps in memory (about 40 bytes each)")
	fs.StringVar(&b.group, "bronze-group", d.Group, "Kafka consumer group of the bronze stage")
	return b
}

func (b *bronzeFlags) config(log *slog.Logger, rawTopic, dlqTopic string) (bronze.Config, error) {
	c := bronze.DefaultConfig()
	c.Interval, c.BatchSize, c.IndexKeys, c.Group = b.interval, b.batchSize, b.indexKeys, b.group
	c.RawTopic, c.DLQTopic = rawTopic, dlqTopic
	c.Logger = log
	return c, c.Validate()
}
