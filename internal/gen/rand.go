package gen

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is the generator's single source of randomness. Every helper is
// defined here on top of Uint64 so that output depends only on the PCG
// algorithm (which math/rand/v2 specifies), not on library internals.
type rng struct{ pcg rand.PCG }

func newRNG(seed int64) *rng {
	s := uint64(seed)
	r := &rng{}
	r.pcg.Seed(mix64(s), mix64(s^0x5851f42d4c957f2d))
	return r
}

func (r *rng) u64() uint64 { return r.pcg.Uint64() }

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) * 0x1p-53 }

// intn returns a uniform number in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// expo returns an exponential number with mean 1.
func (r *rng) expo() float64 { return -math.Log1p(-r.float()) }

// logUniform returns a number in [lo, hi) whose logarithm is uniform.
func (r *rng) logUniform(lo, hi float64) float64 { return lo * math.Exp(r.float()*math.Log(hi/lo)) }

// zipf returns an index in [0, n) with P(k) roughly proportional to 1/(k+1):
// a few pages and users get most of the activity, as on real wikis.
func (r *rng) zipf(n int) int {
	k := int(math.Exp(r.float()*math.Log(float64(n)+1))) - 1
	return min(max(k, 0), n-1)
}

// sample draws from an empirical distribution, interpolating linearly between
// its quantiles.
func (r *rng) sample(q *quantiles) int64 {
	u := r.float()
	lo, hi := 0, len(quantileGrid)-1
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if quantileGrid[mid] <= u {
			lo = mid
		} else {
			hi = mid
		}
	}
	f := (u - quantileGrid[lo]) / (quantileGrid[hi] - quantileGrid[lo])
	return q[lo] + int64(math.Round(f*float64(q[hi]-q[lo])))
}

// mix64 is the splitmix64 finalizer: a fast, well-spread hash of x.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hstream is a small deterministic stream keyed by a hash: the same key
// always gives the same title or user name.
type hstream uint64

func (h *hstream) next() uint64 {
	*h += 0x9e3779b97f4a7c15
	return mix64(uint64(*h))
}

func (h *hstream) intn(n int) int {
	hi, _ := bits.Mul64(h.next(), uint64(n))
	return int(hi)
}

// nsMix is a weighted list of namespace numbers.
type nsMix []struct{ ns, weight int }

func (m nsMix) pick(r *rng) int {
	total := 0
	for _, e := range m {
		total += e.weight
	}
	n := r.intn(total)
	for _, e := range m {
		if n < e.weight {
			return e.ns
		}
		n -= e.weight
	}
	return m[0].ns
}
