package lakehouse

// SetAfterWrite makes m run f between writing compaction files and
// committing them, for tests outside the package.
func SetAfterWrite(m *Maintainer, f func()) { m.afterWrite = f }
