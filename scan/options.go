package scan

import (
	"errors"
	"runtime"

	"github.com/imagescan/imagescan/finding"
	"github.com/imagescan/imagescan/scan/layers"
)

// Option configures Run.
type Option func(*options) error

type options struct {
	jobs     int
	progress chan<- Progress
	walk     layers.Options
	cache    *LayerCache
	maxRatio int64
	key      finding.Key

	store        LayerStore
	storeRules   string
	storeSecrets bool
	// ratioFloor is how much a layer may inflate to whatever its ratio;
	// only tests lower it.
	ratioFloor int64
}

// DefaultMaxRatio is how many times its compressed size a layer, or an
// archive inside one, may inflate to.
const DefaultMaxRatio = 100

// WithMaxRatio sets how many times its compressed size a compressed layer
// may inflate to (past its first GiB) before it is taken for a
// compression bomb and read no further; archives inside layers get the
// same bound, past their first MiB. The default is 100.
func WithMaxRatio(n int64) Option {
	return func(o *options) error {
		if n <= 0 {
			return errors.New("the ratio must be greater than zero")
		}
		o.maxRatio = n
		o.walk.MaxRatio = n
		return nil
	}
}

// WithSkipBinaries scans binary files by their path alone, counted as
// skipped, instead of through their printable strings.
func WithSkipBinaries(skip bool) Option {
	return func(o *options) error {
		o.walk.SkipBinaries = skip
		return nil
	}
}

// WithMaxDepth sets how deep archives inside layer files are opened (see
// layers.Options.MaxDepth). The default is 3; 0 opens none.
func WithMaxDepth(n int) Option {
	return func(o *options) error {
		if n < 0 {
			return errors.New("the depth must not be negative")
		}
		o.walk.MaxDepth = n
		if n == 0 {
			o.walk.MaxDepth = -1
		}
		return nil
	}
}

func makeOptions(opts []Option) (options, error) {
	o := options{jobs: runtime.NumCPU(), maxRatio: DefaultMaxRatio, ratioFloor: ratioFloor, key: finding.PublicKey}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// WithJobs sets how many layers are scanned at once. The default is the
// number of CPUs.
func WithJobs(n int) Option {
	return func(o *options) error {
		if n <= 0 {
			return errors.New("jobs must be greater than zero")
		}
		o.jobs = n
		return nil
	}
}

// Progress reports bytes read from one layer blob.
type Progress struct {
	Layer int   // the layer's index
	Bytes int64 // bytes read since the previous report for this layer
	Total int64 // the sum of all layer blob sizes the Target describes
}

// WithProgress asks Run to report progress on ch. Sends block, so ch should
// be buffered and drained promptly; Run never closes it. By default there
// are no reports.
func WithProgress(ch chan<- Progress) Option {
	return func(o *options) error {
		o.progress = ch
		return nil
	}
}

// WithWalkOptions tunes how files are windowed for the detector. The
// default is layers.Options{}, that is 1 MiB windows with 16 KiB overlap.
func WithWalkOptions(w layers.Options) Option {
	return func(o *options) error {
		o.walk = w
		return nil
	}
}

// WithKey sets the key of the secret ids and fingerprints Run reports. The
// default is finding.PublicKey, whose ids resist lookup tables but not a
// brute-force search of a weak secret.
func WithKey(k finding.Key) Option {
	return func(o *options) error {
		o.key = k
		return nil
	}
}
