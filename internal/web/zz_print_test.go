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
	fmt.Println(trendingSQL(f, 20, q.Get("exclude_bots") == "true").sql(false))
}
