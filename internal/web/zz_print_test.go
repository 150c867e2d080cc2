package web

import (
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"
)

func TestZZPrint(t *testing.T) {
	q, _ := url.ParseQuery(os.Getenv("Q"))
	f, err := parseFilters(q, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := trendingSQL(f, 20, q.Get("exclude_bots") == "true")
	if os.Getenv("PRUNE") != "" {
		r.maxRows = f.hours()
		if q.Get("exclude_bots") != "true" {
			r.maxRows *= 2
		}
	}
	fmt.Println(r.sql(false))
}
