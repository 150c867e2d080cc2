// Package kafka holds WikiStream's Kafka plumbing: client configuration for
// external clusters (TLS, SASL PLAIN/SCRAM, AWS MSK IAM), topic management,
// the record headers ingest writes and bronze reads, and the embedded
// Kafka-protocol broker (franz-go's kfake) that `wikistream run` starts.
package kafka

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"
)

// BrokerConfig configures the embedded broker.
type BrokerConfig struct {
	// Addr is the host:port to listen on. Default 127.0.0.1:9092; port 0
	// picks a free port.
	Addr string
	// DataDir is where the broker keeps its log segments and metadata so
	// records survive restarts. Empty keeps everything in memory.
	DataDir string
	// SyncWrites fsyncs every produced batch before acknowledging it. Off by
	// default, like Kafka's own default: the OS page cache survives a killed
	// process, only a machine crash can lose unsynced batches.
	SyncWrites bool
	// Partitions is the partition count of auto-created topics. Default 6.
	Partitions int32
	// Logger receives the broker's warnings and errors.
	Logger *slog.Logger
}

// DefaultBrokerConfig returns the embedded defaults.
func DefaultBrokerConfig() BrokerConfig {
	return BrokerConfig{Addr: "127.0.0.1:9092", Partitions: 6}
}

// Validate reports the first bad setting, naming it.
func (c BrokerConfig) Validate() error {
	if _, _, err := splitAddr(c.Addr); err != nil {
		return fmt.Errorf("broker address: %w", err)
	}
	if c.Partitions < 1 {
		return fmt.Errorf("broker partitions: got %d, want at least 1", c.Partitions)
	}
	return nil
}

func splitAddr(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q: want host:port such as 127.0.0.1:9092: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, portStr)
	}
	return host, port, nil
}

// segmentBytes is the size at which the broker starts a new log segment
// file. A restarting broker reads every segment whole to rebuild its index,
// all partitions at once: with kfake's default of 100 MiB a busy day's
// topic (six segments of 84 MB) held 250 MB at once, the restart's peak
// (docs/PERFORMANCE.md, session 29).
const segmentBytes = 16 << 20

// Broker is a running embedded broker.
type Broker struct {
	cluster *kfake.Cluster
	addr    string
}

// StartBroker starts the embedded broker and returns once it listens. When
// DataDir holds an earlier broker's state, every topic and record is
// restored.
func StartBroker(cfg BrokerConfig) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, port, err := splitAddr(cfg.Addr)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.ListenFn(func(network, _ string) (net.Listener, error) {
			return net.Listen(network, net.JoinHostPort(host, strconv.Itoa(port)))
		}),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(int(cfg.Partitions)),
		kfake.ClusterID("wikistream"),
		kfake.WithLogger(brokerLogger{logger}),
		kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(segmentBytes)}),
	}
	if cfg.DataDir != "" {
		opts = append(opts, kfake.DataDir(filepath.Clean(cfg.DataDir)))
		if cfg.SyncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start embedded broker on %s (is another broker or wikistream already listening there? choose another with --broker-addr): %w", cfg.Addr, err)
	}
	addrs := cluster.ListenAddrs()
	if len(addrs) == 0 {
		cluster.Close()
		return nil, fmt.Errorf("start embedded broker on %s: no listener", cfg.Addr)
	}
	return &Broker{cluster: cluster, addr: addrs[0]}, nil
}

// Addr is the address clients connect to.
func (b *Broker) Addr() string { return b.addr }

// Close stops the broker, flushing its data directory.
func (b *Broker) Close() { b.cluster.Close() }

// Run blocks until ctx is done, then closes the broker. It lets the broker
// take part in a run group like every other component.
func (b *Broker) Run(ctx context.Context) error {
	<-ctx.Done()
	b.Close()
	return nil
}

// brokerLogger forwards kfake's warnings and errors to slog; its info and
// debug lines describe every request and are dropped.
type brokerLogger struct{ l *slog.Logger }

func (b brokerLogger) Logf(level kfake.LogLevel, msg string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		b.l.Error("embedded broker", "detail", fmt.Sprintf(msg, args...))
	case kfake.LogLevelWarn:
		b.l.Warn("embedded broker", "detail", fmt.Sprintf(msg, args...))
	}
}
