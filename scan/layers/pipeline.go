package layers

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"

	"github.com/imagescan/imagescan/finding"
)

// The walk reads a layer's tar stream in one goroutine; detection, which
// costs far more, runs beside it. Each window of a text file is copied and
// queued for the detect workers while the walk reads on. What the workers
// find is recorded in the walk's goroutine, in the order it was queued, so
// the walk's state needs no locks and findings come in walk order. A
// file's findings are recorded when the job that ends the file comes up:
// its windows' matches, gathered, go through finding.Best as one file's.

// maxQueuedBytes bounds the file content waiting for or in detection, so
// memory stays flat however fast the walk reads.
const maxQueuedBytes = 8 << 20

// pipeline is the detect workers of one walk and the jobs queued for them.
type pipeline struct {
	slots  chan struct{} // one taken for each window in detection, shared by the walks of a run
	jobs   chan *detectJob
	queue  []*detectJob // not yet recorded, oldest first
	queued int          // bytes of content in queue
	wg     sync.WaitGroup

	window []finding.Match // the matches of the current file's windows so far
	whole  []byte          // the current file's content, when one window held it all
}

// detectJob is a window of a file on its way through detection, or the
// end of a file: its digest and the matches found apart from its windows.
type detectJob struct {
	// A window.
	path    string
	content []byte
	cut     windowCut
	whole   bool       // the window is the whole file, not yet hashed
	strings *binaryCut // content is a binary file's strings, placed by this cut

	// The end of a file.
	t   target
	sum string

	matches []finding.Match
	done    chan struct{}
}

// closed is the done channel of a job that needs no detection.
var closed = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// startPipeline starts workers detect workers for w, or none when
// workers < 1: every file is then detected in the walk's goroutine. slots
// bounds the windows in detection at once, across every walk that shares
// it; nil gives this walk workers slots of its own.
func (w *walker) startPipeline(workers int, slots chan struct{}) {
	if workers < 1 {
		return
	}
	if slots == nil {
		slots = make(chan struct{}, workers)
	}
	p := &pipeline{slots: slots, jobs: make(chan *detectJob)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for j := range p.jobs {
				w.detect(j)
				<-p.slots
			}
		}()
	}
	w.pipe = p
}

func (w *walker) detect(j *detectJob) {
	j.matches = w.det.DetectFile(w.ctx, finding.File{Path: j.path, Content: j.content, Binary: j.strings != nil})
	close(j.done)
}

// queueWindow hands a copy of one window of the file at path to a worker,
// once a slot is free. When the workers are all busy, the walk's goroutine
// detects it itself rather than wait. whole says the window is the whole
// file, whose digest is then taken from it if the file has findings.
func (w *walker) queueWindow(path string, window []byte, cut windowCut, whole bool) {
	w.queue(&detectJob{path: path, content: append([]byte(nil), window...), cut: cut, whole: whole, done: make(chan struct{})})
}

// queue hands window job j to a worker, once a slot is free, or detects it
// in the walk's goroutine when the workers are all busy.
func (w *walker) queue(j *detectJob) {
	p := w.pipe
	p.queue = append(p.queue, j)
	p.queued += len(j.content)
	p.slots <- struct{}{}
	select {
	case p.jobs <- j:
	default:
		w.detect(j)
		<-p.slots
	}
	w.recordDone()
}

// queueStrings hands a copy of the strings text of a binary file's window
// to a worker, as queueWindow does a text window.
func (w *walker) queueStrings(path string, text []byte, cut binaryCut) {
	w.queue(&detectJob{path: path, content: append([]byte(nil), text...), strings: &cut, done: make(chan struct{})})
}

// endFile queues the end of file t, whose digest is sum (empty when
// unknown, or when its one window holds it: see pop); ms are matches
// found apart from its windows (by the path rules), already through
// finding.Best. With nothing queued before it, it is recorded at once.
func (w *walker) endFile(t target, sum string, ms []finding.Match) {
	p := w.pipe
	p.queue = append(p.queue, &detectJob{t: t, sum: sum, matches: ms, done: closed})
	w.recordDone()
}

// recordDone records the queued jobs that are done, oldest first, up to
// the first that is not; while the queue holds more than maxQueuedBytes,
// it waits for that one.
func (w *walker) recordDone() {
	p := w.pipe
	for len(p.queue) > 0 {
		j := p.queue[0]
		if p.queued > maxQueuedBytes {
			<-j.done
		} else {
			select {
			case <-j.done:
			default:
				return
			}
		}
		w.pop()
	}
}

// pop records the oldest queued job, which is done: a window's matches
// join its file's; the end of a file records them all.
func (w *walker) pop() {
	p := w.pipe
	j := p.queue[0]
	p.queue = p.queue[1:]
	if j.content != nil {
		p.queued -= len(j.content)
		if j.strings != nil {
			p.window = append(p.window, j.strings.place(j.content, j.matches)...)
			return
		}
		p.window = append(p.window, j.cut.place(j.matches)...)
		if j.whole {
			p.whole = j.content
		}
		return
	}
	ms := j.matches
	if len(p.window) > 0 {
		ms = append(finding.Best(p.window, w.suppressed()), ms...)
		p.window = nil
	}
	sum := j.sum
	if sum == "" && p.whole != nil && len(ms) > 0 {
		d := sha256.Sum256(p.whole)
		sum = hex.EncodeToString(d[:])
	}
	p.whole = nil
	w.record(j.t, sum, ms)
}

// stopPipeline stops the workers once they have detected every queued
// window, and records the findings.
func (w *walker) stopPipeline() {
	if w.pipe == nil {
		return
	}
	close(w.pipe.jobs)
	for len(w.pipe.queue) > 0 {
		<-w.pipe.queue[0].done
		w.pop()
	}
	w.pipe.wg.Wait()
	w.pipe = nil
}
