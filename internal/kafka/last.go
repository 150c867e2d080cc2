package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// LastRecords returns the last record of every non-empty partition of the
// given topics. Topics that do not exist yet contribute nothing. opts are the
// connection options of a client (ClientConfig.Opts); LastRecords makes its
// own short-lived consumer from them.
func LastRecords(ctx context.Context, opts []kgo.Opt, topics ...string) ([]*kgo.Record, error) {
	admCl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("read last records: %w", err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("read last records: list start offsets of %v: %w", topics, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("read last records: list end offsets of %v: %w", topics, err)
	}
	return fetchLast(ctx, opts, starts, ends)
}

func fetchLast(ctx context.Context, opts []kgo.Opt, starts, ends kadm.ListedOffsets) ([]*kgo.Record, error) {
	want := map[string]map[int32]kgo.Offset{}
	pending := 0
	var errs []error
	ends.Each(func(end kadm.ListedOffset) {
		if errors.Is(end.Err, kerr.UnknownTopicOrPartition) {
			return // nothing produced yet
		}
		if end.Err != nil {
			errs = append(errs, fmt.Errorf("end offset of %s/%d: %w", end.Topic, end.Partition, end.Err))
			return
		}
		start, ok := starts.Lookup(end.Topic, end.Partition)
		if ok && start.Err != nil {
			errs = append(errs, fmt.Errorf("start offset of %s/%d: %w", end.Topic, end.Partition, start.Err))
			return
		}
		if !ok || end.Offset <= start.Offset {
			return
		}
		if want[end.Topic] == nil {
			want[end.Topic] = map[int32]kgo.Offset{}
		}
		want[end.Topic][end.Partition] = kgo.NewOffset().At(end.Offset - 1)
		pending++
	})
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("read last records: %w", err)
	}
	if pending == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(append(opts[:len(opts):len(opts)], kgo.ConsumePartitions(want))...)
	if err != nil {
		return nil, fmt.Errorf("read last records: %w", err)
	}
	defer cl.Close()
	got := map[string]map[int32]*kgo.Record{}
	var out []*kgo.Record
	for pending > 0 {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read last records: %w", err)
		}
		for _, fe := range fetches.Errors() {
			return nil, fmt.Errorf("read last records: fetch %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if got[r.Topic] == nil {
				got[r.Topic] = map[int32]*kgo.Record{}
			}
			if prev, ok := got[r.Topic][r.Partition]; ok {
				// A batch may deliver earlier records; keep the last one.
				if r.Offset > prev.Offset {
					got[r.Topic][r.Partition] = r
				}
				return
			}
			got[r.Topic][r.Partition] = r
			pending--
		})
	}
	for _, parts := range got {
		for _, r := range parts {
			out = append(out, r)
		}
	}
	return out, nil
}

// Header returns the value of the record header named key, or "".
func Header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}
