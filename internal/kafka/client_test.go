package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// selfSigned writes a CA-signed-by-itself certificate for 127.0.0.1 and
// returns the server TLS config and the path of the PEM to trust.
func selfSigned(tb testing.TB) (*tls.Config, string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wikistream-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, _ := x509.MarshalECPrivateKey(key)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		tb.Fatal(err)
	}
	ca := filepath.Join(tb.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM, 0o600); err != nil {
		tb.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, ca
}

// TestClientTLSAndSASL connects to a broker that requires TLS and SCRAM,
// the way MSK and Confluent clusters are reached.
func TestClientTLSAndSASL(t *testing.T) {
	serverTLS, ca := selfSigned(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.TLS(serverTLS), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "ingest", "s3cret"), kfake.Superuser("PLAIN", "plainuser", "p"),
		kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]

	produce := func(cfg ClientConfig) error {
		opts, err := cfg.Opts(nil)
		if err != nil {
			return err
		}
		cl, err := kgo.NewClient(append(opts, kgo.RequestRetries(0), kgo.RetryTimeout(2*time.Second))...)
		if err != nil {
			return err
		}
		defer cl.Close()
		// Success takes milliseconds; a refused login or certificate is
		// retried by the client until this deadline.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr()
	}
	base := ClientConfig{Brokers: []string{addr}, TLSCAFile: ca}
	cases := []struct {
		name    string
		mech    string
		user    string
		pass    string
		wantErr bool
	}{
		{"scram-sha-512", SASLScramSHA512, "ingest", "s3cret", false},
		{"plain", SASLPlain, "plainuser", "p", false},
		{"wrong password", SASLScramSHA512, "ingest", "nope", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.SASLMechanism, cfg.SASLUser, cfg.SASLPassword = tc.mech, tc.user, tc.pass
			err := produce(cfg)
			if (err != nil) != tc.wantErr {
				t.Fatalf("produce over TLS with %s: err %v, want error %t", tc.mech, err, tc.wantErr)
			}
		})
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		cfg := ClientConfig{Brokers: []string{addr}, TLS: true, SASLMechanism: SASLScramSHA512, SASLUser: "ingest", SASLPassword: "s3cret"}
		if err := produce(cfg); err == nil {
			t.Fatal("produce to a self-signed broker without its CA succeeded, want a certificate error")
		}
	})
}
