package gold

// SetRiskChunk sets how many risk rows one record holds until restore is
// called, so that tests with few editors still write several records.
func SetRiskChunk(n int) (restore func()) {
	old := riskChunk
	riskChunk = n
	return func() { riskChunk = old }
}
