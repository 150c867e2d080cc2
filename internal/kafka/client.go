package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/plugin/kslog"
)

// The SASL mechanisms ClientConfig accepts.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
	SASLAWSMSKIAM   = "AWS_MSK_IAM"
)

// ClientConfig says how to reach a Kafka cluster.
type ClientConfig struct {
	// Brokers are the seed brokers, host:port.
	Brokers []string
	// ClientID names this process in broker logs. Default "wikistream".
	ClientID string

	// TLS turns on TLS; it is implied by any TLS file below.
	TLS bool
	// TLSCAFile is a PEM bundle of CAs to trust instead of the system pool.
	TLSCAFile string
	// TLSCertFile and TLSKeyFile are a client certificate for mutual TLS.
	TLSCertFile string
	TLSKeyFile  string
	// TLSServerName overrides the name checked in the broker certificate.
	TLSServerName string

	// SASLMechanism is one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or
	// AWS_MSK_IAM; empty disables SASL.
	SASLMechanism string
	// SASLUser and SASLPassword are the PLAIN/SCRAM credentials. They are
	// never logged.
	SASLUser     string
	SASLPassword string
	// AWS_MSK_IAM takes its credentials from the standard environment
	// variables AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
	// AWS_SESSION_TOKEN, read at each authentication so rotated session
	// credentials are picked up.
}

// Validate reports the first bad setting, naming it and what was expected.
func (c ClientConfig) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("brokers: none given; want host:port[,host:port...]")
	}
	for _, b := range c.Brokers {
		if _, _, err := splitAddr(b); err != nil {
			return fmt.Errorf("brokers: %w", err)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("kafka TLS: --kafka-tls-cert and --kafka-tls-key must be given together")
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "", SASLAWSMSKIAM:
	case SASLPlain, SASLScramSHA256, SASLScramSHA512:
		if c.SASLUser == "" || c.SASLPassword == "" {
			return fmt.Errorf("kafka SASL %s: needs --kafka-sasl-user and --kafka-sasl-password", c.SASLMechanism)
		}
	default:
		return fmt.Errorf("kafka SASL mechanism: got %q, want one of %s, %s, %s, %s",
			c.SASLMechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512, SASLAWSMSKIAM)
	}
	return nil
}

// Opts turns the configuration into franz-go client options, with the
// client's own logging going to logger.
func (c ClientConfig) Opts(logger *slog.Logger) ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	id := c.ClientID
	if id == "" {
		id = "wikistream"
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(id)}
	if logger != nil {
		// The client's info lines narrate every metadata refresh; keep
		// warnings and errors.
		quiet := slog.New(minLevel{logger.Handler(), slog.LevelWarn})
		opts = append(opts, kgo.WithLogger(kslog.New(quiet.With("component", "kafka-client"))))
	}
	if c.TLS || c.TLSCAFile != "" || c.TLSCertFile != "" {
		tc, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m := c.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func (c ClientConfig) tlsConfig() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka TLS CA file %s: no PEM certificates in it", c.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka TLS client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func (c ClientConfig) mechanism() sasl.Mechanism {
	switch strings.ToUpper(c.SASLMechanism) {
	case SASLPlain:
		return plain.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsMechanism()
	case SASLScramSHA256:
		return scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha256Mechanism()
	case SASLScramSHA512:
		return scram.Auth{User: c.SASLUser, Pass: c.SASLPassword}.AsSha512Mechanism()
	case SASLAWSMSKIAM:
		return aws.ManagedStreamingIAM(func(context.Context) (aws.Auth, error) {
			a := aws.Auth{
				AccessKey:    os.Getenv("AWS_ACCESS_KEY_ID"),
				SecretKey:    os.Getenv("AWS_SECRET_ACCESS_KEY"),
				SessionToken: os.Getenv("AWS_SESSION_TOKEN"),
			}
			if a.AccessKey == "" || a.SecretKey == "" {
				return a, errors.New("AWS_MSK_IAM: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)")
			}
			return a, nil
		})
	}
	return nil
}

// String describes the configuration with secrets masked.
func (c ClientConfig) String() string {
	pw := ""
	if c.SASLPassword != "" {
		pw = "****"
	}
	return fmt.Sprintf("brokers=%s tls=%t sasl=%s user=%s password=%s",
		strings.Join(c.Brokers, ","), c.TLS || c.TLSCAFile != "", c.SASLMechanism, c.SASLUser, pw)
}

// minLevel drops records below a level before they reach the handler.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
