package scan

import (
	"errors"
	"runtime"

	"github.com/imagescan/imagescan/scan/layers"
)

// Option configures Run.
type Option func(*options) error

type options struct {
	jobs     int
	progress chan<- Progress
	walk     layers.Options
	cache    *LayerCache
}

func makeOptions(opts []Option) (options, error) {
	o := options{jobs: runtime.NumCPU()}
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
