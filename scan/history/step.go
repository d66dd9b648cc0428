package history

import (
	"cmp"
	"regexp"
	"strconv"
	"strings"
)

// Builder names the tool whose created_by format a Step was parsed from.
type Builder string

// The builders whose formats Parse knows.
const (
	BuilderClassic  Builder = "classic"  // the legacy docker builder (and buildah, which copies its format)
	BuilderBuildKit Builder = "buildkit" // BuildKit: instruction-first, RUN steps end in "# buildkit"
	BuilderUnknown  Builder = ""
)

// Arg is one NAME=value assignment: a build arg of a RUN step, or an ENV,
// ARG or LABEL instruction's argument. Value is empty for a bare ARG NAME.
type Arg struct {
	Name  string
	Value string
}

// Step is a parsed created_by: the Dockerfile instruction that made a
// history entry, with the build args that were in scope of a RUN.
type Step struct {
	Builder     Builder
	Instruction string // RUN, COPY, ENV, ARG, LABEL, …; "" when not recognised
	// BuildArgs are the |N NAME=value pairs a RUN step records.
	BuildArgs []Arg
	// Assignments are the NAME=value arguments of ENV, ARG and LABEL.
	Assignments []Arg
	// Command is the rest of the instruction: the shell command of a RUN,
	// the source and destination of a COPY, and so on.
	Command string
}

// String renders the step the way a Dockerfile reads, without its build
// args: "RUN echo hi > /x", "COPY file:ab12… in /bin/busybox".
func (s Step) String() string {
	if s.Instruction == "" {
		return s.Command
	}
	if s.Command == "" {
		return s.Instruction
	}
	return s.Instruction + " " + s.Command
}

var (
	// argsHeader is the "|N " that starts a RUN step recording build args.
	argsHeader = regexp.MustCompile(`^\|(\d+)\s+`)
	// shellPrefix is the shell a RUN step runs in, as builders record it.
	shellPrefix = regexp.MustCompile(`^(?:/bin/|/usr/bin/)?(?:sh|bash|ash|dash|zsh)\s+-c\s*`)
	// shellInside finds the shell prefix after the build args.
	shellInside = regexp.MustCompile(`\s(?:/bin/|/usr/bin/)?(?:sh|bash|ash|dash|zsh)\s+-c(?:\s|$)`)
	// argStart is a token that begins a NAME=value assignment.
	argStart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*=`)
	// bareName is a token that is an assignment's name alone (ARG NAME).
	bareName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)
)

// instructions are the Dockerfile instructions a created_by can begin with.
var instructions = map[string]bool{
	"ADD": true, "ARG": true, "CMD": true, "COPY": true, "ENTRYPOINT": true,
	"ENV": true, "EXPOSE": true, "HEALTHCHECK": true, "LABEL": true,
	"MAINTAINER": true, "ONBUILD": true, "RUN": true, "SHELL": true,
	"STOPSIGNAL": true, "USER": true, "VOLUME": true, "WORKDIR": true,
}

const buildkitSuffix = "# buildkit"

// Parse reads a created_by in any of the three builders' formats:
//
//	classic:  |1 NPM_TOKEN=abc /bin/sh -c npm ci
//	          /bin/sh -c #(nop)  ENV NODE_ENV=production
//	BuildKit: RUN |1 NPM_TOKEN=abc /bin/sh -c npm ci # buildkit
//	          ARG NPM_TOKEN=abc
//	buildah:  |4 NPM_TOKEN=abc OTHER=a b c /bin/sh -c npm ci
//
// buildah's N counts words, not args, so N is only trusted when no shell
// prefix marks where the args end. Parse never fails: text it does not
// recognise becomes the Command of a Step with no Instruction.
func Parse(createdBy string) Step {
	s := strings.TrimSpace(createdBy)
	var st Step
	if strings.HasSuffix(s, buildkitSuffix) {
		st.Builder = BuilderBuildKit
		s = strings.TrimSpace(strings.TrimSuffix(s, buildkitSuffix))
	}
	if rest, ok := strings.CutPrefix(s, "RUN "); ok {
		st.Builder, st.Instruction = BuilderBuildKit, "RUN"
		s = strings.TrimSpace(rest)
	}
	if m := argsHeader.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		st.Instruction = "RUN"
		st.BuildArgs, s = splitBuildArgs(s[len(m[0]):], n)
		st.Builder = cmp.Or(st.Builder, BuilderClassic)
	}
	if loc := shellPrefix.FindStringIndex(s); loc != nil {
		st.Builder = cmp.Or(st.Builder, BuilderClassic)
		return shellStep(st, strings.TrimSpace(s[loc[1]:]))
	}
	return instructionStep(st, s)
}

// shellStep finishes a step whose text ran through a shell: either a real
// RUN command or a classic builder's "#(nop) INSTRUCTION args" record.
func shellStep(st Step, cmd string) Step {
	if nop, ok := strings.CutPrefix(cmd, "#(nop)"); ok {
		return instructionStep(st, strings.TrimSpace(nop))
	}
	st.Instruction = "RUN"
	st.Command = cmd
	return st
}

// instructionStep finishes a step that may begin with an instruction
// keyword, as BuildKit records all but RUN and classic builders record
// "#(nop)" steps.
func instructionStep(st Step, s string) Step {
	word, rest, _ := strings.Cut(s, " ")
	if !instructions[word] {
		st.Command = s
		return st
	}
	if st.Instruction == "" {
		st.Builder = cmp.Or(st.Builder, BuilderBuildKit)
	}
	st.Instruction = word
	st.Command = strings.TrimSpace(rest)
	switch word {
	case "ENV", "ARG", "LABEL":
		st.Assignments = parseAssignments(st.Command, word == "ENV")
	}
	return st
}

// splitBuildArgs reads the NAME=value pairs after "|N ". Values are
// recorded unquoted and may hold spaces, so a word that does not begin a new
// NAME= continues the previous value, up to the shell prefix. Without a shell
// prefix (exec-form RUN) it takes at most n single-word pairs.
func splitBuildArgs(s string, n int) ([]Arg, string) {
	if loc := shellInside.FindStringIndex(" " + s); loc != nil {
		end := max(loc[0]-1, 0) // loc is in " "+s
		return collectArgs(strings.TrimSpace(s[:end])), strings.TrimSpace(s[end:])
	}
	words := strings.Split(s, " ")
	var args []Arg
	i := 0
	for ; i < len(words) && i < n && argStart.MatchString(words[i]); i++ {
		name, value, _ := strings.Cut(words[i], "=")
		args = append(args, Arg{Name: name, Value: value})
	}
	return args, strings.Join(words[i:], " ")
}

// collectArgs splits "A=1 B=two words C=3" into assignments, joining words
// that do not begin a new NAME= onto the previous value.
func collectArgs(s string) []Arg {
	var args []Arg
	for _, w := range strings.Split(s, " ") {
		switch {
		case argStart.MatchString(w):
			name, value, _ := strings.Cut(w, "=")
			args = append(args, Arg{Name: name, Value: value})
		case len(args) > 0:
			args[len(args)-1].Value += " " + w
		}
	}
	return args
}

// parseAssignments reads the arguments of ENV, ARG and LABEL: NAME=value
// pairs (values possibly quoted and holding spaces), bare names (ARG NAME),
// and the legacy "ENV NAME value" form.
func parseAssignments(s string, env bool) []Arg {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if env && !strings.Contains(strings.SplitN(s, " ", 2)[0], "=") {
		name, value, _ := strings.Cut(s, " ")
		return []Arg{{Name: name, Value: strings.TrimSpace(value)}}
	}
	var args []Arg
	for _, w := range strings.Fields(s) {
		switch {
		case argStart.MatchString(w):
			name, value, _ := strings.Cut(w, "=")
			args = append(args, Arg{Name: unquoteWord(name), Value: value})
		case bareName.MatchString(w) && !continuesQuote(args):
			args = append(args, Arg{Name: w})
		case len(args) > 0:
			args[len(args)-1].Value += " " + w
		}
	}
	for i := range args {
		args[i].Value = unquoteWord(args[i].Value)
	}
	return args
}

// continuesQuote reports whether the last value opened a quote it has not
// closed, so the next word belongs to it.
func continuesQuote(args []Arg) bool {
	if len(args) == 0 {
		return false
	}
	v := args[len(args)-1].Value
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return false
	}
	return len(v) == 1 || v[len(v)-1] != v[0]
}

func unquoteWord(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
