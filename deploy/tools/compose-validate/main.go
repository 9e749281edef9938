// compose-validate loads a Compose file the way `docker compose config` does — the Compose
// Specification's reference loader (github.com/compose-spec/compose-go/v2): .env interpolation,
// JSON-schema validation, normalisation, path resolution and the consistency checks (unknown
// services in depends_on, undeclared volumes, ...) — and prints the resolved project as JSON.
//
// It is stricter than Compose in two ways, so a test can rely on it:
//   - the environment is only what --env-file gives (the OS environment is ignored), so the result
//     does not depend on the machine;
//   - every variable the file interpolates must be defined in that environment, and any warning
//     the loader logs (obsolete `version:`, YAML 1.1 booleans, ...) is an error.
//
// Services' env_file entries are not read (their contents are secrets and not the file's).
//
// The Dockerfile of every service that has a `build` section is parsed by BuildKit's own
// Dockerfile parser (github.com/moby/buildkit/frontend/dockerfile), with its linter (the rules
// `docker build --check` applies that need no build context); a parse error or a lint warning is
// an error too.
//
// Usage:
//
//	compose-validate [--env-file FILE]... [--profile NAME]... COMPOSE_FILE
//
// Output (stdout): {"project": <resolved project>, "variables": [names interpolated],
// "dockerfiles": {<path>: {"args": {ARG: default}, "stages": [{"name", "base", "instructions"}]}}}.
// Exit status 1 with the reasons on stderr when the file is not valid.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/sirupsen/logrus"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// warnings collects what the loader logs at warning level or above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (w *warnings) Fire(e *logrus.Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, e.Message)
	return nil
}

// lookups records every variable name interpolation asks for, and whether it was defined.
type lookups struct {
	mu      sync.Mutex
	asked   map[string]bool
	missing map[string]bool
}

func main() {
	var envFiles, profiles listFlag
	flag.Var(&envFiles, "env-file", "env file giving the interpolation environment (repeatable)")
	flag.Var(&profiles, "profile", `profile to enable (repeatable; default "*": all of them)`)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: compose-validate [--env-file FILE]... [--profile NAME]... COMPOSE_FILE")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if len(profiles) == 0 {
		profiles = listFlag{"*"}
	}

	file, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	var absEnvFiles []string
	for _, f := range envFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			fail(err)
		}
		absEnvFiles = append(absEnvFiles, abs)
	}

	logged := &warnings{}
	// Warnings are collected by the hook and reported below, as errors.
	logrus.SetOutput(io.Discard)
	logrus.AddHook(logged)

	seen := &lookups{asked: map[string]bool{}, missing: map[string]bool{}}
	record := func(opts *loader.Options) {
		// Load options are applied more than once; only the pass that interpolates has these.
		if opts.Interpolate == nil || opts.Interpolate.LookupValue == nil {
			return
		}
		inner := opts.Interpolate.LookupValue
		opts.Interpolate.LookupValue = func(key string) (string, bool) {
			value, ok := inner(key)
			seen.mu.Lock()
			defer seen.mu.Unlock()
			seen.asked[key] = true
			if !ok {
				seen.missing[key] = true
			}
			return value, ok
		}
	}

	options, err := cli.NewProjectOptions([]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithEnvFiles(absEnvFiles...),
		cli.WithDotEnv,
		cli.WithProfiles(profiles),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithResolvedPaths(true),
		cli.WithConsistency(true),
		// Services' env_file contents (a developer's real .env) stay out of the output.
		cli.WithoutEnvironmentResolution,
		cli.WithLoadOptions(record),
	)
	if err != nil {
		fail(err)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}

	var problems []string
	for _, msg := range logged.msgs {
		problems = append(problems, "warning: "+msg)
	}
	for _, name := range sortedKeys(seen.missing) {
		problems = append(problems, fmt.Sprintf("variable %s is interpolated but not defined in the env file(s)", name))
	}
	dockerfiles, dockerProblems := checkDockerfiles(project)
	problems = append(problems, dockerProblems...)
	if len(problems) > 0 {
		fail(fmt.Errorf("%s", strings.Join(problems, "\n")))
	}

	resolved, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	out, err := json.MarshalIndent(map[string]any{
		"project":     json.RawMessage(resolved),
		"variables":   sortedKeys(seen.asked),
		"dockerfiles": dockerfiles,
	}, "", "  ")
	if err != nil {
		fail(err)
	}
	fmt.Println(string(out))
}

type dockerfile struct {
	Args   map[string]*string `json:"args"`
	Stages []stage            `json:"stages"`
}

type stage struct {
	Name         string   `json:"name"`
	Base         string   `json:"base"`
	Instructions []string `json:"instructions"`
}

// checkDockerfiles parses (and lints) the Dockerfile of each service built from source.
func checkDockerfiles(project *types.Project) (map[string]dockerfile, []string) {
	parsed := map[string]dockerfile{}
	var problems []string
	for _, name := range sortedServiceNames(project) {
		build := project.Services[name].Build
		if build == nil {
			continue
		}
		path := build.Dockerfile
		if path == "" {
			path = "Dockerfile"
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(build.Context, path)
		}
		if _, done := parsed[path]; done {
			continue
		}
		result, err := parseDockerfile(path, func(msg string) {
			problems = append(problems, fmt.Sprintf("%s (service %s): %s", path, name, msg))
		})
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (service %s): %v", path, name, err))
			continue
		}
		parsed[path] = result
	}
	return parsed, problems
}

func parseDockerfile(path string, warn func(string)) (dockerfile, error) {
	f, err := os.Open(path)
	if err != nil {
		return dockerfile{}, err
	}
	defer f.Close()
	ast, err := parser.Parse(f)
	if err != nil {
		return dockerfile{}, err
	}
	for _, w := range ast.Warnings {
		warn(w.Short)
	}
	lint := linter.New(&linter.Config{
		Warn: func(rule, _, _, msg string, _ []parser.Range) { warn(rule + ": " + msg) },
	})
	stages, metaArgs, err := instructions.Parse(ast.AST, lint)
	if err != nil {
		return dockerfile{}, err
	}
	result := dockerfile{Args: map[string]*string{}}
	for _, arg := range metaArgs {
		for _, kv := range arg.Args {
			result.Args[kv.Key] = kv.Value
		}
	}
	for _, s := range stages {
		st := stage{Name: s.Name, Base: s.BaseName, Instructions: []string{}}
		for _, cmd := range s.Commands {
			st.Instructions = append(st.Instructions, fmt.Sprint(cmd))
		}
		result.Stages = append(result.Stages, st)
	}
	return result, nil
}

func sortedServiceNames(project *types.Project) []string {
	names := make([]string, 0, len(project.Services))
	for name := range project.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-validate: %v\n", err)
	os.Exit(1)
}
