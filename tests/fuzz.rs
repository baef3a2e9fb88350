//! A small mutation-fuzzing run over the fixtures, in `cargo test`: the
//! INI reader and editor, the TOML configuration model, the words kept of
//! Python files not parsed, and whole projects checked and fixed
//! (covdoctor::fuzzing says what each one asserts). The budget is
//! `COVDOCTOR_FUZZ_ITERS` inputs per target (default 40); the cargo-fuzz
//! targets in `fuzz/` run the same checks for as long as you like. A
//! failing input is saved under `target/fuzz-failures/`.

mod common;

use std::path::{Path, PathBuf};

/// xorshift64*: a fixed sequence, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Tokens that matter to the readers: line breaks of every kind, brackets,
/// quotes, a byte order mark, continuation indentation, process calls.
const TOKENS: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "[",
    "]",
    "=",
    ":",
    "\"",
    "'",
    "(",
    ")",
    "{",
    "}",
    ",",
    "    ",
    "\t",
    "#",
    "\u{feff}",
    "${X-",
    "\\",
    "[run]\n",
    "[coverage:run]\n",
    "[tool.coverage.run]\n",
    "sigterm = true\n",
    "patch = [\"subprocess\"]\n",
    "p.kill()\n",
    "p.terminate()\n",
    "subprocess.Popen([sys.executable, 's.py'])",
    "env={}",
    "os._exit(0)\n",
    "\u{0}",
    "é",
    "'''",
    "\"\"\"",
    "f\"{",
    "rb'",
    "t'",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(5) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 => {
                // Duplicate a line.
                let start = out[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                let end = out[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(out.len(), |i| at + i + 1);
                let line = out[start..end].to_vec();
                out.splice(end..end, line);
            }
            _ => out.truncate(at),
        }
    }
    out
}

fn budget() -> usize {
    std::env::var("COVDOCTOR_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// Every file under the fixtures whose name matches.
fn seeds(matches: &dyn Fn(&str) -> bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![common::repo().join("fixtures")];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| matches(&n.to_string_lossy()))
            {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no seeds");
    out
}

fn save_failure(target: &str, i: usize, files: &[(String, Vec<u8>)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-failures")
        .join(format!("{target}-{i}"));
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    dir
}

fn run_bytes(target: &str, seed: u64, matches: &dyn Fn(&str) -> bool, name: &str, f: fn(&[u8])) {
    let seeds = seeds(matches);
    let mut rng = Rng(seed);
    for i in 0..budget() {
        let pick = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds[pick]);
        let outcome = std::panic::catch_unwind(|| f(&input));
        if outcome.is_err() {
            let saved = save_failure(target, i, &[(name.to_string(), input)]);
            panic!("{target}: input {i} fails; saved in {}", saved.display());
        }
    }
}

#[test]
fn ini_reader_and_editor() {
    run_bytes(
        "ini",
        0x1234_5678,
        &|n| n.ends_with(".cfg") || n.ends_with(".ini") || n == ".coveragerc",
        "setup.cfg",
        covdoctor::fuzzing::ini_round_trip,
    );
}

#[test]
fn toml_configuration_model() {
    run_bytes(
        "toml",
        0x9e37_79b9,
        &|n| n.ends_with(".toml") && n != "e2e.toml",
        "pyproject.toml",
        covdoctor::fuzzing::toml_config,
    );
}

#[test]
fn python_words_hold_every_identifier() {
    run_bytes(
        "python-words",
        0x5eed_f00d,
        &|n| n.ends_with(".py"),
        "module.py",
        covdoctor::fuzzing::python_words,
    );
}

/// Whole fixture projects with one file mutated: check and fix.
#[test]
fn projects_checked_and_fixed() {
    let fixtures = common::repo().join("fixtures");
    let mut projects: Vec<PathBuf> = Vec::new();
    for rule in common::subdirs(&fixtures) {
        projects.extend(common::subdirs(&rule));
    }
    projects.sort();
    let mut rng = Rng(0x0bad_cafe);
    let mut fixed = 0;
    for i in 0..budget() {
        let dir = &projects[rng.below(projects.len())];
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap().flatten() {
                let path = entry.path();
                let name = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                if path.is_dir() {
                    if !name.ends_with("__pycache__") {
                        stack.push(path);
                    }
                } else if name != "e2e.toml" {
                    files.push((name, std::fs::read(&path).unwrap()));
                }
            }
        }
        files.sort();
        if files.is_empty() {
            continue;
        }
        let which = rng.below(files.len());
        files[which].1 = mutate(&mut rng, &files[which].1);
        let input = files.clone();
        match std::panic::catch_unwind(move || covdoctor::fuzzing::project(&input)) {
            Ok(changed) => fixed += changed,
            Err(_) => {
                let saved = save_failure("project", i, &files);
                panic!(
                    "project: input {i} (from {}) fails; saved in {}",
                    dir.display(),
                    saved.display()
                );
            }
        }
    }
    // The run exercised the fixes, not only the readers.
    assert!(
        fixed > 0,
        "no input was fixed: the fuzzer tests nothing of --fix"
    );
}
