//! The bad-input matrix: each case is a project with one kind of bad input
//! beside a test that kills a Python child (a finding that must still be
//! reported unless the case makes the configuration unreadable). Each case
//! states the exit code, where the input error is reported, and that
//! `check` changes no byte and `--fix` never edits the bad file (nor
//! panics, nor reports an input error the check did not). The
//! expectations follow what the real tools do with the same input
//! (tomllib, configparser as coverage.py uses it, iniconfig as pytest uses
//! it, the Python parser, coverage.py, pytest, tox, pip, uv, make, bash),
//! and nothing may panic, hang or grow without bound: covdoctor runs under
//! a deadline.
//!
//! A case marked `// DEFECT:` states what is right and what covdoctor does
//! instead; it is ignored until src/ is fixed (`cargo test --test bad_input
//! -- --include-ignored` runs it).

mod common;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

const KILLING_TEST: &[u8] =
    b"import subprocess, sys\n\ndef test_k():\n    p = subprocess.Popen([sys.executable, 's.py'])\n    p.kill()\n";
const PYPROJECT: &[u8] = b"[tool.coverage.run]\nsigterm = true\n";
/// A pyproject.toml that shows no sign of measuring coverage: the killing
/// test is then reported only through a run that measures (`pytest
/// --cov`) read from the case's file, which shows that the file was read.
const NO_COVERAGE: &[u8] = b"[project]\nname = \"x\"\nversion = \"0\"\n";
/// A GitHub Actions workflow whose job runs `pytest --cov`.
const WORKFLOW: &[u8] = b"on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest --cov\n";
/// A workflow whose job runs the shell script `ci/test.sh`.
const SCRIPT_WORKFLOW: &[u8] = b"on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./ci/test.sh\n";
const WORKFLOW_PATH: &str = ".github/workflows/ci.yml";
const NOXFILE: &[u8] =
    b"import nox\n\n@nox.session\ndef tests(session):\n    session.run('pytest', '--cov')\n";
/// One more than the largest file covdoctor reads (64 MiB).
const OVER_THE_CAP: u64 = (64 << 20) + 1;

/// How the bad input is made.
enum Make {
    File(&'static str, Vec<u8>),
    Fifo(&'static str),
    Symlink(&'static str, &'static str),
    Dir(&'static str),
    /// A sparse file of this size: cheap however large.
    Sparse(&'static str, u64),
    /// A file, then mode 000.
    Unreadable(&'static str, Vec<u8>),
    /// A directory holding a Python file, then mode 000.
    UnreadableDir(&'static str),
    /// A file that is not broken and has a finding of its own, which `--fix`
    /// may fix (the others are never edited).
    Fixable(&'static str, Vec<u8>),
}

impl Make {
    fn denies_permission(&self) -> bool {
        matches!(self, Make::Unreadable(..) | Make::UnreadableDir(..))
    }
}

struct Case {
    name: &'static str,
    make: Vec<Make>,
    /// The project's pyproject.toml before `make` (a case whose bad file is
    /// pyproject.toml makes it instead).
    base: &'static [u8],
    exit: i32,
    /// Texts one input-error line of the output must all hold: the located
    /// error. Required when `exit` is 2 or `warning` is set.
    error: &'static [&'static str],
    /// The problem cannot change a verdict (a broken Python file whose
    /// unparsed part holds no process code): `error` is on an
    /// `input-warning` line, the exit status follows the findings, and
    /// `--strict` makes it an input error (exit 2). Every case is also run
    /// with `--strict`, which must change nothing else.
    warning: bool,
    /// The killing test is still reported.
    finding: bool,
    /// Other texts the output must hold.
    shows: &'static [&'static str],
    /// Seconds covdoctor may take; less for a case about a blow-up.
    secs: u64,
    /// A known defect of covdoctor (see the case's `// DEFECT:` comment):
    /// the case states what is right and is ignored until src/ is fixed.
    defect: bool,
}

const CASE: Case = Case {
    name: "",
    make: Vec::new(),
    base: PYPROJECT,
    exit: 1,
    error: &[],
    warning: false,
    finding: true,
    shows: &[],
    secs: 60,
    defect: false,
};

fn file(path: &'static str, bytes: &[u8]) -> Make {
    Make::File(path, bytes.to_vec())
}

/// `bytes` with `\n` replaced by `to`.
fn newlines(bytes: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in bytes {
        if b == b'\n' {
            out.extend_from_slice(to);
        } else {
            out.push(b);
        }
    }
    out
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// `count` copies of `"name"`, comma-separated (a TOML array's items).
fn refs(name: &str, count: usize) -> String {
    vec![format!("\"{name}\""); count].join(", ")
}

fn cases() -> Vec<Case> {
    // Each broken file names an API the rules look at (`subprocess`) in a
    // statement of its own: covdoctor parses only such files (a file
    // without one cannot change a finding; see the case
    // python-syntax-error-in-a-file-not-parsed).
    let long = format!("import subprocess\nx = {}1 oops\n", "1+".repeat(40_000)).into_bytes();
    // Over the 16 MiB covdoctor parses (D18: a 50 MB file took 14 s and
    // 1.6 GB): generated data, with and without a process API.
    let data = "    {'id': 1, 'values': [1, 2, 3]},\n".repeat(500_000);
    let huge_with_api = format!("import subprocess\nDATA = [\n{data}]\n").into_bytes();
    let huge_data = format!("DATA = [\n{data}]\n").into_bytes();
    let deep = format!(
        "import subprocess\nx = {}1{}\n",
        "(".repeat(3000),
        ")".repeat(3000)
    )
    .into_bytes();
    let parens_200 = format!("x = {}1{}\n", "(".repeat(200), ")".repeat(200)).into_bytes();
    let indent_100 = format!(
        "import subprocess\n{}{}pass\n",
        (0..100)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect::<String>(),
        " ".repeat(100)
    )
    .into_bytes();
    let toml_deep_array_100 = format!(
        "[tool.coverage.run]\nsigterm = true\n\n[tool.x]\ny = {}{}\n",
        "[".repeat(100),
        "]".repeat(100)
    )
    .into_bytes();
    let toml_deep_inline_10000 = format!(
        "[tool.coverage.run]\nsigterm = true\n\n[tool.x]\ny = {}1{}\n",
        "{a = ".repeat(10_000),
        "}".repeat(10_000)
    )
    .into_bytes();
    let toml_long_line = format!(
        "[tool.coverage.run]\nsigterm = true\n\n[tool.x]\ny = \"{}\" oops\n",
        "x".repeat(100_000)
    )
    .into_bytes();
    // Ten anchors, each a list of ten aliases of the one before: 10^10
    // nodes when expanded.
    let mut alias_bomb = String::from("on: push\nx:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in "bcdefghij".chars().zip("abcdefghi".chars()) {
        alias_bomb.push_str(&format!(
            "  {name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
    }
    alias_bomb
        .push_str(std::str::from_utf8(WORKFLOW.strip_prefix(b"on: push\n").unwrap()).unwrap());
    let yaml_deep = concat(&[
        WORKFLOW,
        b"x: ",
        "[".repeat(10_000).as_bytes(),
        "]".repeat(10_000).as_bytes(),
        b"\n",
    ]);
    let tox_fanout = format!(
        "[tox]\nenvlist = py\n[testenv]\ncommands =\n    pytest --cov\n{}",
        "    {[testenv]commands}\n".repeat(8)
    )
    .into_bytes();
    let tox_factors = format!(
        "[tox]\nenvlist = {}\n[testenv]\ncommands = pytest --cov\n",
        vec!["{a,b,c,d}"; 30].join("-")
    )
    .into_bytes();
    // Five things `a` to `e`, each of `a` to `d` naming the next many times:
    // `e` is reached along n^4 paths.
    let chain = |line: &dyn Fn(char, char) -> String| -> String {
        "abcd"
            .chars()
            .zip("bcde".chars())
            .map(|(name, next)| line(name, next))
            .collect()
    };
    let hatch_fanout = format!(
        "[envs.default.scripts]\n{}e = \"pytest --cov\"\n",
        chain(&|n, next| format!("{n} = [{}]\n", refs(&next.to_string(), 40)))
    )
    .into_bytes();
    let pixi_fanout = format!(
        "[tasks]\n{}e = \"pytest --cov\"\n",
        chain(&|n, next| format!(
            "{n} = {{ depends-on = [{}] }}\n",
            refs(&next.to_string(), 40)
        ))
    )
    .into_bytes();
    let pdm_fanout = concat(&[
        NO_COVERAGE,
        format!(
            "[tool.pdm.scripts]\n{}e = \"pytest --cov\"\n",
            chain(&|n, next| format!(
                "{n} = {{ composite = [{}] }}\n",
                refs(&next.to_string(), 40)
            ))
        )
        .as_bytes(),
    ]);
    let make_prerequisites =
        format!("test: {}\n\tpytest --cov\n", "test ".repeat(100)).into_bytes();
    let make_variable_fanout =
        format!("A = {}\ntest:\n\tpytest --cov $(A)\n", "$(A) ".repeat(50)).into_bytes();
    // Helpers three deep, each calling the next two hundred times.
    let nox_fanout = format!(
        "import nox\n\ndef a(session):\n{}\ndef b(session):\n{}\ndef c(session):\n    session.run('pytest', '--cov')\n\n@nox.session\ndef tests(session):\n    a(session)\n",
        "    b(session)\n".repeat(200),
        "    c(session)\n".repeat(200)
    )
    .into_bytes();
    let python_fanout = format!(
        "import subprocess, sys\n\n{}def e():\n    return subprocess.Popen([sys.executable, 's.py'])\n\ndef test_x():\n    a().kill()\n",
        chain(&|n, next| format!("def {n}():\n{}    return {next}()\n\n", format!("    {next}()\n").repeat(200)))
    )
    .into_bytes();
    let big_script = concat(&[
        b"#!/bin/sh\npytest --cov\n",
        &b"# padding\n".repeat(120_000),
    ]);
    vec![
        // Python sources.
        Case {
            name: "python-syntax-error",
            make: vec![file("tests/bad.py", b"import subprocess\ndef (\n")],
            exit: 1,
            warning: true,
            error: &["tests/bad.py:2:"],
            finding: true,
            ..CASE
        },
        // Too large to parse, and it names a process API: an input error
        // at its start; the rest of the project is still checked.
        Case {
            name: "python-over-16-mib-with-a-process-api",
            make: vec![file("tests/huge.py", &huge_with_api)],
            exit: 2,
            error: &["tests/huge.py:1:1: input-error too large to parse"],
            finding: true,
            ..CASE
        },
        // Too large to parse, and nothing in it can change a finding: read
        // as words, never parsed, nothing to say.
        Case {
            name: "python-over-16-mib-of-data",
            make: vec![file("tests/huge.py", &huge_data)],
            exit: 1,
            finding: true,
            ..CASE
        },
        // No word of an API the rules look at, no launcher's name: the file
        // cannot change a finding, and covdoctor does not parse it, so its
        // syntax error goes unreported.
        Case {
            name: "python-syntax-error-in-a-file-not-parsed",
            make: vec![file("tests/bad.py", b"def (\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // The part that does not parse starts a process: a finding may be
        // missed, so it is an input error.
        Case {
            name: "python-syntax-error-in-a-launch",
            make: vec![file(
                "tests/bad.py",
                b"import subprocess, sys\n\ndef test_b():\n    p = subprocess.Popen([sys.executable, 's.py']\n    p.kill()\n",
            )],
            exit: 2,
            error: &["tests/bad.py:5:"],
            finding: true,
            ..CASE
        },
        // A name the file imports from subprocess, called in the part that
        // does not parse (the import itself parsed).
        Case {
            name: "python-syntax-error-calls-an-imported-launch-api",
            make: vec![file(
                "tests/bad.py",
                b"from subprocess import run as go\n\ndef test_b():\n    go(['python', 's.py'] 1)\n",
            )],
            exit: 2,
            error: &["tests/bad.py:4:"],
            finding: true,
            ..CASE
        },
        // The part that does not parse calls a project function that
        // starts a child.
        Case {
            name: "python-syntax-error-calls-a-project-launcher",
            make: vec![
                file(
                    "tests/helpers.py",
                    b"import subprocess, sys\n\ndef start_child():\n    return subprocess.Popen([sys.executable, 's.py'])\n",
                ),
                file(
                    "tests/bad.py",
                    b"from helpers import start_child\n\ndef test_b():\n    p = start_child(\n    p.kill()\n",
                ),
            ],
            exit: 2,
            error: &["tests/bad.py:6:1"],
            finding: true,
            ..CASE
        },
        // A syntax error elsewhere in a file that starts a process in a
        // part that parsed: the launch was analysed, the error is a warning.
        Case {
            name: "python-syntax-error-beside-a-launch",
            make: vec![file(
                "tests/bad.py",
                b"import subprocess, sys\n\ndef test_b():\n    subprocess.run([sys.executable, 's.py'], check=True)\n\ndef test_c():\n    assert f(1 2)\n",
            )],
            exit: 1,
            warning: true,
            error: &["tests/bad.py:7:"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-invalid-utf8-in-a-launch",
            make: vec![file(
                "tests/bad.py",
                b"import subprocess\n\ndef test_b():\n    subprocess.Popen(['python', '\xff'])\n",
            )],
            exit: 2,
            error: &["tests/bad.py"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-invalid-utf8",
            make: vec![file("tests/bad.py", b"x = '\xff'\n")],
            exit: 1,
            warning: true,
            error: &["tests/bad.py"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-latin1-declared",
            make: vec![file(
                "tests/ok.py",
                b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
            )],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "python-bom",
            make: vec![file("tests/ok.py", b"\xef\xbb\xbfx = 1\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "python-null-byte",
            make: vec![file("tests/bad.py", b"import subprocess\nx = 1\0\n")],
            exit: 1,
            warning: true,
            error: &["tests/bad.py"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-empty",
            make: vec![file("tests/empty.py", b"")],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "python-very-long-line",
            make: vec![file("tests/long.py", &long)],
            exit: 1,
            warning: true,
            error: &["tests/long.py:2:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: Python rejects more than 200 nested parentheses
        // ("SyntaxError: too many nested parentheses", py_compile, 3.11);
        // covdoctor parses the file and reports nothing (exit 1).
        // Its unparsed part holds no process code: an input warning
        // (issue 14), an error with --strict.
        Case {
            name: "python-deep-nesting",
            make: vec![file("tests/deep.py", &deep)],
            exit: 1,
            warning: true,
            error: &["tests/deep.py"],
            finding: true,
            ..CASE
        },
        // 200 nested parentheses: the most Python accepts.
        Case {
            name: "python-nesting-at-the-limit",
            make: vec![file("tests/deep.py", &parens_200)],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: Python rejects 100 levels of indentation
        // ("IndentationError: too many levels of indentation"); covdoctor
        // parses the file and reports nothing (exit 1).
        // Its unparsed part holds no process code: an input warning
        // (issue 14), an error with --strict.
        Case {
            name: "python-too-many-indentation-levels",
            make: vec![file("tests/deep.py", &indent_100)],
            exit: 1,
            warning: true,
            error: &["tests/deep.py"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-lone-cr",
            make: vec![file("tests/cr.py", b"x = 1\ry = 2\r")],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "python-crlf",
            make: vec![file("tests/crlf.py", b"import os\r\n\r\nx = 1\r\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Python: "SyntaxError: unknown encoding: nonsense".
        Case {
            name: "python-unknown-encoding",
            make: vec![file(
                "tests/bad.py",
                b"# -*- coding: nonsense -*-\nx = 1\n",
            )],
            exit: 1,
            warning: true,
            error: &["tests/bad.py", "unknown encoding `nonsense`"],
            finding: true,
            ..CASE
        },
        // Python cannot read source in an encoding that is not a superset of
        // ASCII.
        Case {
            name: "python-utf16-declared",
            make: vec![file("tests/bad.py", b"# -*- coding: utf-16 -*-\nx = 1\n")],
            exit: 1,
            warning: true,
            error: &["tests/bad.py", "utf-16"],
            finding: true,
            ..CASE
        },
        // Fixed defect: Python rejects a BOM with any declared encoding but UTF-8
        // ("SyntaxError: encoding problem: iso-8859-1 with BOM"); covdoctor
        // reads the file as UTF-8 and reports nothing (exit 1).
        // Its unparsed part holds no process code: an input warning
        // (issue 14), an error with --strict.
        Case {
            name: "python-bom-and-latin1-declared",
            make: vec![file(
                "tests/bad.py",
                b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nx = 1\n",
            )],
            exit: 1,
            warning: true,
            error: &["tests/bad.py"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-bom-and-utf8-declared",
            make: vec![file(
                "tests/ok.py",
                b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nx = '\xc3\xa9'\n",
            )],
            exit: 1,
            finding: true,
            ..CASE
        },
        // PEP 263 reads the first two lines only: the file is UTF-8.
        Case {
            name: "python-declaration-on-the-third-line",
            make: vec![file(
                "tests/bad.py",
                b"#\n#\n# -*- coding: latin-1 -*-\nx = '\xe9'\n",
            )],
            exit: 1,
            warning: true,
            error: &["tests/bad.py:4:6", "not valid UTF-8"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-euc-jp-declared",
            make: vec![file(
                "tests/ok.py",
                b"# -*- coding: euc-jp -*-\nx = '\xa4\xa2'\n",
            )],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Python: "TabError: inconsistent use of tabs and spaces".
        Case {
            name: "python-tabs-and-spaces",
            make: vec![file(
                "tests/bad.py",
                b"import subprocess\nif True:\n\tx = 1\n        y = 2\n",
            )],
            exit: 1,
            warning: true,
            error: &["tests/bad.py:4:"],
            finding: true,
            ..CASE
        },
        // Python: "invalid non-printable character U+00A0".
        Case {
            name: "python-non-printable-character",
            make: vec![file("tests/bad.py", "import subprocess\nx\u{a0}= 1\n".as_bytes())],
            exit: 1,
            warning: true,
            error: &["tests/bad.py:2:"],
            finding: true,
            ..CASE
        },
        // A directory is not a module; pytest walks into it.
        Case {
            name: "python-directory-named-py",
            make: vec![Make::Dir("tests/pkg.py")],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "python-file-dangling-symlink",
            make: vec![Make::Symlink("tests/gone.py", "nowhere.py")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // pytest passes over it too.
        Case {
            name: "python-file-symlink-loop",
            make: vec![Make::Symlink("tests/test_loop.py", "test_loop.py")],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "python-over-the-size-cap",
            make: vec![Make::Sparse("tests/test_big.py", OVER_THE_CAP)],
            exit: 2,
            error: &["tests/test_big.py", "larger than 64 MiB"],
            finding: true,
            ..CASE
        },
        Case {
            name: "python-permission-denied",
            make: vec![Make::Unreadable("tests/secret.py", b"x = 1\n".to_vec())],
            exit: 2,
            error: &["tests/secret.py", "Permission denied"],
            finding: true,
            ..CASE
        },
        Case {
            name: "directory-permission-denied",
            make: vec![Make::UnreadableDir("tests/sub")],
            exit: 2,
            error: &["tests/sub", "Permission denied"],
            finding: true,
            ..CASE
        },
        // Helpers that call helpers many times over: followed without
        // blowing up.
        Case {
            name: "python-helper-fanout",
            make: vec![Make::Fixable("tests/test_h.py", python_fanout)],
            exit: 1,
            finding: true,
            shows: &["tests/test_h.py:"],
            secs: 10,
            ..CASE
        },
        // Test data: a package under tests/ whose pyproject.toml declares no
        // test run (it cannot: it is not TOML) belongs to the outer project
        // (pytest collects it as part of it); its broken file is a warning.
        Case {
            name: "test-data-package-invalid-pyproject",
            make: vec![
                file("tests/data/pkg/pyproject.toml", b"[project\nname = 'x'\n"),
                Make::Fixable("tests/data/pkg/test_pkg.py", KILLING_TEST.to_vec()),
            ],
            exit: 1,
            warning: true,
            error: &["tests/data/pkg/pyproject.toml:1:", "invalid TOML"],
            finding: true,
            shows: &["tests/data/pkg/test_pkg.py:5:5: sigkill-loses-coverage"],
            ..CASE
        },
        // A package under tests/ that declares pytest settings of its own
        // is a project: its broken setup.cfg is an input error.
        Case {
            name: "nested-project-under-tests-with-a-run",
            make: vec![
                file(
                    "tests/pkg/pyproject.toml",
                    b"[tool.pytest.ini_options]\naddopts = '--cov'\n",
                ),
                file("tests/pkg/setup.cfg", b"[metadata\nname = x\n"),
            ],
            exit: 2,
            error: &["tests/pkg/setup.cfg:1:"],
            finding: true,
            ..CASE
        },
        // A nested project outside the tests with no tests of its own
        // measures nothing: its broken pyproject.toml is a warning.
        Case {
            name: "nested-project-without-tests-invalid-pyproject",
            make: vec![file("examples/demo/pyproject.toml", b"[project\nname = 'x'\n")],
            exit: 1,
            warning: true,
            error: &["examples/demo/pyproject.toml:1:", "invalid TOML"],
            finding: true,
            ..CASE
        },
        // pyproject.toml and the coverage settings in it.
        Case {
            name: "pyproject-invalid-toml",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run\nsigterm = true\n",
            )],
            exit: 2,
            error: &["pyproject.toml:1:"],
            finding: true,
            ..CASE
        },
        Case {
            name: "pyproject-bom",
            make: vec![file(
                "pyproject.toml",
                b"\xef\xbb\xbf[tool.coverage.run]\nsigterm = true\n",
            )],
            exit: 2,
            error: &["byte order mark"],
            finding: true,
            ..CASE
        },
        Case {
            name: "pyproject-invalid-utf8",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n# \xff\n",
            )],
            exit: 2,
            error: &["pyproject.toml"],
            finding: true,
            ..CASE
        },
        // tomllib: "Found invalid character '\x00' (at line 3, column 3)".
        Case {
            name: "pyproject-null-byte",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n# \0\n",
            )],
            exit: 2,
            error: &["pyproject.toml:3:3", "invalid TOML"],
            finding: true,
            ..CASE
        },
        Case {
            name: "pyproject-crlf",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\r\nsigterm = true\r\n",
            )],
            exit: 1,
            finding: true,
            ..CASE
        },
        // TOML breaks lines with LF or CRLF only: "Expected newline or end
        // of document after a statement".
        Case {
            name: "pyproject-lone-cr",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\rsigterm = true\r",
            )],
            exit: 2,
            error: &["pyproject.toml:", "carriage return"],
            finding: true,
            ..CASE
        },
        // tomllib: "Cannot declare ('tool', 'coverage', 'run') twice".
        Case {
            name: "pyproject-table-twice",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.coverage.run]\nbranch = true\n",
            )],
            exit: 2,
            error: &["pyproject.toml:3:", "duplicate key"],
            finding: true,
            ..CASE
        },
        Case {
            name: "pyproject-key-twice",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\nsigterm = false\n",
            )],
            exit: 2,
            error: &["pyproject.toml:3:1", "duplicate key"],
            finding: true,
            ..CASE
        },
        // Fixed defect: tomllib (coverage.py, pytest) reads arrays nested 100 deep
        // (up to about 400); covdoctor reports "invalid TOML: cannot recurse
        // further; max recursion depth met" (toml_edit's limit) and exits 2.
        Case {
            name: "pyproject-deep-arrays",
            make: vec![file("pyproject.toml", &toml_deep_array_100)],
            exit: 1,
            finding: true,
            ..CASE
        },
        // 10000 deep: tomllib fails with a RecursionError; covdoctor must say
        // so, not overflow its stack.
        Case {
            name: "pyproject-deep-inline-tables",
            make: vec![file("pyproject.toml", &toml_deep_inline_10000)],
            exit: 2,
            error: &["pyproject.toml:5:", "invalid TOML"],
            finding: true,
            ..CASE
        },
        // The error is at column 100008 (and the full report of `--fix`
        // must render it).
        Case {
            name: "pyproject-error-at-a-long-line",
            make: vec![file("pyproject.toml", &toml_long_line)],
            exit: 2,
            error: &["pyproject.toml:5:100008"],
            finding: true,
            ..CASE
        },
        // No coverage settings and no `--cov`: the project measures nothing,
        // so nothing downstream is reported.
        Case {
            name: "pyproject-empty",
            make: vec![file("pyproject.toml", b"")],
            exit: 0,
            finding: false,
            ..CASE
        },
        // coverage.py and pytest pass over a directory of that name; then
        // nothing is measured either.
        Case {
            name: "pyproject-is-a-directory",
            make: vec![Make::Dir("pyproject.toml")],
            exit: 2,
            error: &["not a regular file"],
            finding: false,
            ..CASE
        },
        // coverage.py and pytest cannot open it and go on as if it were
        // absent (ELOOP is an OSError they pass over).
        Case {
            name: "pyproject-symlink-loop",
            make: vec![Make::Symlink("pyproject.toml", "pyproject.toml")],
            exit: 0,
            finding: false,
            ..CASE
        },
        Case {
            name: "pyproject-over-the-size-cap",
            make: vec![Make::Sparse("pyproject.toml", OVER_THE_CAP)],
            exit: 2,
            error: &["pyproject.toml", "larger than 64 MiB"],
            finding: true,
            ..CASE
        },
        Case {
            name: "sigterm-not-a-boolean",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = \"yes\"\n",
            )],
            exit: 2,
            error: &["couldn't convert to a boolean"],
            finding: true,
            ..CASE
        },
        Case {
            name: "patch-not-a-list",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\npatch = \"subprocess\"\n",
            )],
            exit: 2,
            error: &["is not a list"],
            finding: true,
            ..CASE
        },
        // coverage.py: "Option [tool.coverage.run]concurrency is not a list: 1".
        Case {
            name: "concurrency-not-a-list",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\nconcurrency = 1\n",
            )],
            exit: 2,
            error: &["pyproject.toml:3:1", "concurrency is not a list: 1"],
            finding: true,
            ..CASE
        },
        // coverage.py fails with "TypeError: expected string or bytes-like
        // object, got 'int'".
        Case {
            name: "source-not-strings",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\nsource = [1]\n",
            )],
            exit: 2,
            error: &["pyproject.toml:3:1", "is not a list of strings"],
            finding: true,
            ..CASE
        },
        // coverage.py: "Option [tool.coverage.report]precision is not an
        // integer: 1.5".
        Case {
            name: "precision-not-an-integer",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.coverage.report]\nprecision = 1.5\n",
            )],
            exit: 2,
            error: &["pyproject.toml:4:1", "is not an integer: 1.5"],
            finding: true,
            ..CASE
        },
        // coverage.py: "Option [tool.coverage.run]branch is not a boolean:
        // datetime.date(1979, 5, 27)".
        Case {
            name: "branch-a-date",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\nbranch = 1979-05-27\n",
            )],
            exit: 2,
            error: &["pyproject.toml:3:1", "is not a boolean"],
            finding: true,
            ..CASE
        },
        Case {
            name: "run-not-a-table",
            make: vec![file("pyproject.toml", b"[tool.coverage]\nrun = 1\n")],
            exit: 2,
            error: &["must be a table"],
            finding: true,
            ..CASE
        },
        // coverage.py: "AttributeError: 'list' object has no attribute 'keys'".
        Case {
            name: "run-an-array-of-tables",
            make: vec![file(
                "pyproject.toml",
                b"[[tool.coverage.run]]\nsigterm = true\n",
            )],
            exit: 2,
            error: &["pyproject.toml:1:", "must be a table"],
            finding: true,
            ..CASE
        },
        Case {
            name: "paths-not-a-table",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.coverage]\npaths = [\"src\"]\n",
            )],
            exit: 2,
            error: &["pyproject.toml:4:1", "[tool.coverage.paths] must be a table"],
            finding: true,
            ..CASE
        },
        // Fixed defect: coverage.py stops at "Option [tool.coverage.paths]source is
        // not a list: 'src'"; covdoctor reports nothing (exit 1).
        Case {
            name: "paths-entry-not-a-list",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.coverage.paths]\nsource = \"src\"\n",
            )],
            exit: 2,
            error: &["pyproject.toml:4:"],
            finding: true,
            ..CASE
        },
        Case {
            name: "cov-config-missing",
            make: vec![file(
                "pyproject.toml",
                b"[tool.pytest.ini_options]\naddopts = \"--cov --cov-config=missing.ini\"\n",
            )],
            exit: 2,
            error: &["missing.ini"],
            finding: true,
            ..CASE
        },
        // pytest splits an ini-options string on whitespace.
        Case {
            name: "ini-options-testpaths-a-string",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.pytest.ini_options]\ntestpaths = \"tests\"\n",
            )],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest 9 stops at "config option 'testpaths' expects a
        // list for type 'args', got str: 'tests'" in a native [tool.pytest]
        // table; covdoctor reports nothing (exit 1).
        Case {
            name: "native-pytest-testpaths-a-string",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.pytest]\ntestpaths = \"tests\"\n",
            )],
            exit: 2,
            error: &["pyproject.toml:4:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest fails with "AttributeError: 'int' object has no
        // attribute 'items'"; covdoctor reports nothing (exit 1).
        Case {
            name: "pytest-ini-options-not-a-table",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.pytest]\nini_options = 1\n",
            )],
            exit: 2,
            error: &["pyproject.toml:4:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: tox stops at "LegacyToml failed loading pyproject.toml due
        // to Source contains parsing errors"; covdoctor drops the tox
        // configuration and reports nothing (exit 1).
        Case {
            name: "legacy-tox-ini-not-ini",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.tox]\nlegacy_tox_ini = \"\"\"\n[tox]\nnot ini\n\"\"\"\n",
            )],
            exit: 2,
            error: &["pyproject.toml:"],
            finding: true,
            ..CASE
        },
        // setup.cfg: configparser (coverage.py) and iniconfig (pytest, which
        // reads it when no earlier file configures it, and pytest 9 always).
        Case {
            name: "setup-cfg-not-ini",
            make: vec![file(
                "setup.cfg",
                b"[coverage:run]\nsigterm = true\nnot a setting\n",
            )],
            exit: 2,
            error: &["setup.cfg:3:"],
            finding: true,
            ..CASE
        },
        Case {
            name: "setup-cfg-section-twice",
            make: vec![file(
                "setup.cfg",
                b"[metadata]\nname = x\n[metadata]\nversion = 1\n",
            )],
            exit: 2,
            error: &["appears twice"],
            finding: true,
            ..CASE
        },
        // Fixed defect: configparser merges a repeated [DEFAULT], but pytest reads
        // setup.cfg with iniconfig, which stops at "setup.cfg:3: duplicate
        // section 'DEFAULT'" (pytest 9.2.0 exits 4); covdoctor reports
        // nothing (exit 1).
        Case {
            name: "setup-cfg-default-twice",
            make: vec![file("setup.cfg", b"[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n")],
            exit: 2,
            error: &["setup.cfg:3:"],
            finding: true,
            ..CASE
        },
        // configparser: "Source contains parsing errors: [line 2]: '= x'".
        Case {
            name: "setup-cfg-option-without-a-name",
            make: vec![file("setup.cfg", b"[metadata]\n= x\n")],
            exit: 2,
            error: &["setup.cfg:2:1", "no name"],
            finding: true,
            ..CASE
        },
        // configparser: "File contains no section headers"; iniconfig:
        // "empty section name".
        Case {
            name: "setup-cfg-empty-section-name",
            make: vec![file("setup.cfg", b"[]\nname = x\n")],
            exit: 2,
            error: &["setup.cfg:1:1"],
            finding: true,
            ..CASE
        },
        Case {
            name: "setup-cfg-invalid-utf8",
            make: vec![file("setup.cfg", b"[metadata]\nname = \xff\n")],
            exit: 2,
            error: &["setup.cfg:2:8", "not valid UTF-8"],
            finding: true,
            ..CASE
        },
        // configparser and iniconfig keep a NUL in a value.
        Case {
            name: "setup-cfg-null-byte",
            make: vec![file("setup.cfg", b"[metadata]\nname = a\0b\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Universal newlines: coverage.py reads sigterm = true here.
        Case {
            name: "setup-cfg-lone-cr",
            make: vec![file("setup.cfg", b"[coverage:run]\rsigterm = true\r")],
            exit: 1,
            finding: true,
            shows: &["config-shadowed"],
            ..CASE
        },
        Case {
            name: "setup-cfg-fifo",
            make: vec![Make::Fifo("setup.cfg")],
            exit: 2,
            error: &["setup.cfg"],
            finding: true,
            ..CASE
        },
        // coverage.py, pytest and tox pass over a file they cannot open.
        Case {
            name: "setup-cfg-symlink-loop",
            make: vec![Make::Symlink("setup.cfg", "setup.cfg")],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "setup-cfg-over-the-size-cap",
            make: vec![Make::Sparse("setup.cfg", OVER_THE_CAP)],
            exit: 2,
            error: &["setup.cfg", "larger than 64 MiB"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest stops at "[pytest] section in setup.cfg files is no
        // longer supported, change to [tool:pytest] instead."; covdoctor
        // reports nothing (exit 1).
        Case {
            name: "setup-cfg-pytest-section",
            make: vec![file("setup.cfg", b"[pytest]\naddopts = -q\n")],
            exit: 2,
            error: &["setup.cfg:1:"],
            finding: true,
            ..CASE
        },
        // Options coverage.py warns about and ignores ("Unrecognized
        // option"): in `[run]`, where the rules read, an input error...
        Case {
            name: "coveragerc-misspelt-run-option",
            make: vec![file(".coveragerc", b"[run]\nsigterm = true\nparalel = true\n")],
            exit: 2,
            error: &[".coveragerc:3:1", "`[run] paralel`", "did you mean `parallel`?"],
            finding: true,
            ..CASE
        },
        Case {
            name: "coveragerc-run-option-in-report",
            make: vec![file(
                ".coveragerc",
                b"[run]\nsigterm = true\n[report]\nsource = app\n",
            )],
            exit: 2,
            error: &[".coveragerc:4:1", "`source` is an option of `[run]`"],
            finding: true,
            ..CASE
        },
        // ...elsewhere a warning.
        Case {
            name: "coveragerc-misspelt-report-option",
            make: vec![file(
                ".coveragerc",
                b"[run]\nsigterm = true\n[report]\nshow_mising = true\n",
            )],
            exit: 1,
            warning: true,
            error: &[".coveragerc:4:1", "did you mean `show_missing`?"],
            finding: true,
            ..CASE
        },
        // Newer than the coverage.py the run uses (7.8 has no `core`).
        Case {
            name: "coveragerc-option-newer-than-coverage",
            make: vec![
                file(".coveragerc", b"[run]\nsigterm = true\ncore = ctrace\n"),
                file("requirements.txt", b"coverage==7.8.0\npytest-cov==6.3.0\n"),
            ],
            exit: 2,
            error: &[".coveragerc:3:1", "`[run] core` needs coverage.py 7.9"],
            finding: true,
            ..CASE
        },
        // .coveragerc: configparser only.
        Case {
            name: "coveragerc-option-twice",
            make: vec![file(
                ".coveragerc",
                b"[run]\nsigterm = true\nsigterm = false\n",
            )],
            exit: 2,
            error: &["appears twice"],
            finding: true,
            ..CASE
        },
        Case {
            name: "coveragerc-section-twice",
            make: vec![file(
                ".coveragerc",
                b"[run]\nsigterm = true\n[run]\nbranch = true\n",
            )],
            exit: 2,
            error: &[".coveragerc:3:1", "appears twice"],
            finding: true,
            ..CASE
        },
        Case {
            name: "coveragerc-bom",
            make: vec![file(".coveragerc", b"\xef\xbb\xbf[run]\nsigterm = true\n")],
            exit: 2,
            error: &["byte order mark"],
            finding: true,
            ..CASE
        },
        Case {
            name: "coveragerc-invalid-utf8",
            make: vec![file(".coveragerc", b"[run]\nsigterm = true\n# \xff\n")],
            exit: 2,
            error: &[".coveragerc:3:3", "not valid UTF-8"],
            finding: true,
            ..CASE
        },
        // coverage.py reads an empty .coveragerc of its own, and the
        // settings in pyproject.toml are shadowed (an unsafe fix deletes it).
        Case {
            name: "coveragerc-empty",
            make: vec![Make::Fixable(".coveragerc", Vec::new())],
            exit: 1,
            finding: true,
            shows: &["config-shadowed"],
            ..CASE
        },
        Case {
            name: "coveragerc-boolean-on-continuation-line",
            make: vec![file(".coveragerc", b"[run]\nsigterm =\n    true\n")],
            exit: 2,
            error: &["Not a boolean"],
            finding: true,
            ..CASE
        },
        // coverage.py: "invalid literal for int() with base 10: 'two'".
        Case {
            name: "coveragerc-integer-not-a-number",
            make: vec![file(
                ".coveragerc",
                b"[run]\nsigterm = true\n[report]\nprecision = two\n",
            )],
            exit: 2,
            error: &[".coveragerc:4:1", "couldn't convert to an integer"],
            finding: true,
            ..CASE
        },
        // configparser reads an indented first option as an option.
        Case {
            name: "coveragerc-indented-first-option",
            make: vec![file(".coveragerc", b"[run]\n  sigterm = true\n")],
            exit: 1,
            finding: true,
            shows: &["config-shadowed"],
            ..CASE
        },
        Case {
            name: "coveragerc-toml-invalid",
            make: vec![file(".coveragerc.toml", b"[run\nsigterm = true\n")],
            exit: 2,
            error: &[".coveragerc.toml:1:5", "invalid TOML"],
            finding: true,
            ..CASE
        },
        // pytest.ini and pytest.toml: pytest only (iniconfig, tomllib).
        Case {
            name: "pytest-ini-not-ini",
            make: vec![file("pytest.ini", b"[pytest]\nthis is not ini\n")],
            exit: 2,
            error: &["pytest.ini:2:1"],
            finding: true,
            ..CASE
        },
        // Fixed defect: iniconfig (pytest 9.2.0) drops a UTF-8 BOM and pytest runs;
        // covdoctor reports "invalid INI: the file starts with a UTF-8 byte
        // order mark" (configparser's rule) and exits 2.
        Case {
            name: "pytest-ini-bom",
            make: vec![file("pytest.ini", b"\xef\xbb\xbf[pytest]\naddopts = -q\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest stops at "pytest.ini:3: duplicate section
        // 'DEFAULT'"; covdoctor merges it as configparser would and reports
        // nothing (exit 1).
        Case {
            name: "pytest-ini-default-twice",
            make: vec![file(
                "pytest.ini",
                b"[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n[pytest]\n",
            )],
            exit: 2,
            error: &["pytest.ini:3:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest stops at "pytest.ini:2: unexpected value
        // continuation" (iniconfig reads an indented line as a
        // continuation); covdoctor reads an option and reports nothing
        // (exit 1).
        Case {
            name: "pytest-ini-indented-first-option",
            make: vec![file("pytest.ini", b"[pytest]\n  addopts = -q\n")],
            exit: 2,
            error: &["pytest.ini:2:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: iniconfig's keys are case-sensitive, so pytest runs (it
        // warns "Unknown config option: ADDOPTS"); covdoctor reports
        // "option `addopts` appears twice" and exits 2.
        Case {
            name: "pytest-ini-options-differing-in-case",
            make: vec![file("pytest.ini", b"[pytest]\naddopts = -q\nADDOPTS = -x\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest splits addopts with shlex and stops at "No closing
        // quotation"; covdoctor splits it on whitespace and reports nothing
        // (exit 1).
        Case {
            name: "addopts-unclosed-quote",
            make: vec![file("pytest.ini", b"[pytest]\naddopts = --cov \"oops\n")],
            exit: 2,
            error: &["pytest.ini:2:"],
            finding: true,
            ..CASE
        },
        Case {
            name: "pytest-toml-invalid",
            make: vec![file("pytest.toml", b"[pytest\n")],
            exit: 2,
            error: &["pytest.toml:1:8", "invalid TOML"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest stops at "config option 'addopts' expects a list for
        // type 'args', got int: 1"; covdoctor reports nothing (exit 1).
        Case {
            name: "pytest-toml-addopts-not-a-list",
            make: vec![file("pytest.toml", b"[pytest]\naddopts = 1\n")],
            exit: 2,
            error: &["pytest.toml:2:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pytest stops at "pytest configuration must be under a
        // [pytest] table (found top-level options: addopts)"; covdoctor
        // reports nothing (exit 1).
        Case {
            name: "pytest-toml-option-outside-the-table",
            make: vec![file("pytest.toml", b"addopts = \"-q\"\n")],
            exit: 2,
            error: &["pytest.toml:1:"],
            finding: true,
            ..CASE
        },
        // tox.ini and tox.toml.
        Case {
            name: "tox-ini-bom",
            make: vec![file("tox.ini", b"\xef\xbb\xbf[tox]\nenvlist = py\n")],
            exit: 2,
            error: &["byte order mark"],
            finding: true,
            ..CASE
        },
        Case {
            name: "tox-ini-invalid-utf8",
            make: vec![file("tox.ini", b"[tox]\nenvlist = py\n# \xff\n")],
            exit: 2,
            error: &["tox.ini:3:3", "not valid UTF-8"],
            finding: true,
            ..CASE
        },
        // tox: "Could not expand {[testenv]commands} after recursing 101
        // frames", then it runs the rest.
        Case {
            name: "tox-substitution-refers-to-itself",
            make: vec![file(
                "tox.ini",
                b"[tox]\nenvlist = py\n[testenv]\ncommands =\n    {[testenv]commands}\n    pytest --cov\n",
            )],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        // tox gives the unset variable its (empty) default.
        Case {
            name: "tox-env-default-refers-to-itself",
            make: vec![file(
                "tox.ini",
                b"[tox]\nenvlist = py\n[testenv]\nset_env = X={env:X:{env:X}}\ncommands = pytest --cov {env:X:{env:X:{env:X}}}\n",
            )],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        // Eight `{[testenv]commands}` lines in [testenv] commands: tox gives
        // up on each after 101 frames and runs `pytest --cov` (it once
        // expanded them eight levels deep, 8^8 lines, and did not finish).
        Case {
            name: "tox-substitution-fanout",
            make: vec![file("tox.ini", &tox_fanout)],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // tox itself does not finish listing these envs.
        Case {
            name: "tox-env-list-huge-range",
            make: vec![file(
                "tox.ini",
                b"[tox]\nenvlist = py{0-4294967295}\n[testenv]\ncommands = pytest --cov\n",
            )],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // 4^30 env names.
        Case {
            name: "tox-env-list-factor-explosion",
            make: vec![file("tox.ini", &tox_factors)],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: tox stops at "TomlTox failed loading tox.toml due to
        // Unclosed array"; covdoctor drops tox.toml and reports nothing
        // (exit 1).
        Case {
            name: "tox-toml-invalid",
            make: vec![file(
                "tox.toml",
                b"env_list = [\"py\"\n[env_run_base]\ncommands = [[\"pytest\", \"--cov\"]]\n",
            )],
            exit: 2,
            error: &["tox.toml:"],
            finding: true,
            ..CASE
        },
        // covdoctor's own settings.
        Case {
            name: "covdoctor-toml-invalid",
            make: vec![file("covdoctor.toml", b"select = [\n")],
            exit: 2,
            error: &["covdoctor.toml:1:"],
            finding: true,
            ..CASE
        },
        Case {
            name: "covdoctor-select-not-a-list",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool.covdoctor]\nselect = 1\n",
            )],
            exit: 2,
            error: &["pyproject.toml:4:10", "must be an array of rule names"],
            finding: true,
            ..CASE
        },
        // Fixed defect: `[tool] covdoctor = 1` is no table of settings; covdoctor
        // ignores it without a word (exit 1), where a wrong-typed setting is
        // an error.
        Case {
            name: "tool-covdoctor-not-a-table",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n[tool]\ncovdoctor = 1\n",
            )],
            exit: 2,
            error: &["pyproject.toml:4:"],
            finding: true,
            ..CASE
        },
        Case {
            name: "covdoctor-toml-unknown-key",
            make: vec![file("covdoctor.toml", b"selekt = [\"ALL\"]\n")],
            exit: 2,
            error: &["covdoctor.toml:1:1", "unknown covdoctor setting `selekt`"],
            finding: true,
            ..CASE
        },
        Case {
            name: "covdoctor-toml-invalid-glob",
            make: vec![file("covdoctor.toml", b"exclude = [\"a[\"]\n")],
            exit: 2,
            error: &["covdoctor.toml:1:11", "not a valid glob"],
            finding: true,
            ..CASE
        },
        Case {
            name: "covdoctor-toml-bad-version",
            make: vec![file("covdoctor.toml", b"coverage-version = \"seven\"\n")],
            exit: 2,
            error: &["covdoctor.toml:1:20", "must be a version string"],
            finding: true,
            ..CASE
        },
        Case {
            name: "covdoctor-toml-invalid-utf8",
            make: vec![file("covdoctor.toml", b"# \xff\n")],
            exit: 2,
            error: &["covdoctor.toml:1:3", "not valid UTF-8"],
            finding: true,
            ..CASE
        },
        // Fixed defect: a FIFO covdoctor.toml is passed over without a word (exit
        // 1), unlike a FIFO setup.cfg or requirements file (exit 2, "not a
        // regular file"); the settings it would hold are silently lost.
        Case {
            name: "covdoctor-toml-fifo",
            make: vec![Make::Fifo("covdoctor.toml")],
            exit: 2,
            error: &["covdoctor.toml", "not a regular file"],
            finding: true,
            ..CASE
        },
        // Lock files.
        Case {
            name: "uv-lock-invalid",
            make: vec![file("uv.lock", b"[[package]\n")],
            exit: 2,
            error: &["uv.lock:1:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: uv reads a uv.lock that starts with a BOM (`uv lock
        // --check` passes, uv 0.13.9); covdoctor reports "the file starts
        // with a UTF-8 byte order mark, which tomllib ... rejects" and exits 2.
        Case {
            name: "uv-lock-bom",
            make: vec![file("uv.lock", b"\xef\xbb\xbfversion = 1\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "uv-lock-fifo",
            make: vec![Make::Fifo("uv.lock")],
            exit: 2,
            error: &["uv.lock", "not a regular file"],
            finding: true,
            ..CASE
        },
        Case {
            name: "pdm-lock-invalid",
            make: vec![file("pdm.lock", b"[[package]\n")],
            exit: 2,
            error: &["pdm.lock:1:11", "invalid TOML"],
            finding: true,
            ..CASE
        },
        Case {
            name: "poetry-lock-invalid",
            make: vec![file("poetry.lock", b"[[package]]\nname = \n")],
            exit: 2,
            error: &["poetry.lock:2:8", "invalid TOML"],
            finding: true,
            ..CASE
        },
        Case {
            name: "pipfile-lock-invalid-json",
            make: vec![file("Pipfile.lock", b"{\"default\": \n")],
            exit: 2,
            error: &["Pipfile.lock", "invalid JSON"],
            finding: true,
            ..CASE
        },
        // Fixed defect: Python's json (pipenv) reads lists nested 200 deep;
        // covdoctor reports "invalid JSON: recursion limit exceeded"
        // (serde_json's limit of 128) and exits 2.
        Case {
            name: "pipfile-lock-deep-nesting",
            make: vec![file(
                "Pipfile.lock",
                format!("{{\"x\": {}{}}}\n", "[".repeat(200), "]".repeat(200)).as_bytes(),
            )],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Requirements files, as pip reads them.
        Case {
            name: "requirements-fifo",
            make: vec![Make::Fifo("requirements-test.txt")],
            exit: 2,
            error: &["requirements-test.txt"],
            finding: true,
            ..CASE
        },
        Case {
            name: "requirements-invalid-utf8",
            make: vec![file(
                "requirements-test.txt",
                b"pytest-cov==6.3.0\n# caf\xe9\n",
            )],
            exit: 2,
            error: &["requirements-test.txt:2:6", "not valid UTF-8"],
            finding: true,
            ..CASE
        },
        // pip reads through a BOM: the requirement is read (an unpinned
        // pytest-cov means pytest-cov 7, whose children coverage.py measures
        // only with `patch`, so that is the finding).
        Case {
            name: "requirements-bom",
            make: vec![file("requirements-test.txt", b"\xef\xbb\xbfpytest-cov\n")],
            exit: 1,
            finding: false,
            shows: &["not pinned in requirements-test.txt"],
            ..CASE
        },
        Case {
            name: "requirements-a-directory",
            make: vec![Make::Dir("requirements/dev.txt")],
            exit: 2,
            error: &["requirements/dev.txt", "not a regular file"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pip fails with "RecursionError: maximum recursion depth
        // exceeded" on a file that includes itself; covdoctor reports
        // nothing (exit 1).
        Case {
            name: "requirements-include-loop",
            make: vec![file(
                "requirements-test.txt",
                b"-r requirements-test.txt\npytest-cov==6.3.0\n",
            )],
            exit: 2,
            error: &["requirements-test.txt:1:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pip stops at "Could not open requirements file: [Errno 2]
        // No such file or directory: 'missing.txt'"; covdoctor reports
        // nothing (exit 1).
        Case {
            name: "requirements-include-missing",
            make: vec![file(
                "requirements-test.txt",
                b"-r missing.txt\npytest-cov==6.3.0\n",
            )],
            exit: 2,
            error: &["requirements-test.txt:1:", "missing.txt"],
            finding: true,
            ..CASE
        },
        // Fixed defect: pip stops at "Invalid requirement: 'pytest-cov >=>= 6'
        // (from line 1 of requirements-test.txt)"; covdoctor skips the line
        // and reports nothing (exit 1).
        Case {
            name: "requirements-invalid-requirement",
            make: vec![file("requirements-test.txt", b"pytest-cov >=>= 6\n")],
            exit: 2,
            error: &["requirements-test.txt:1:"],
            finding: true,
            ..CASE
        },
        // Ignore files, as git reads them.
        Case {
            name: "gitignore-fifo",
            make: vec![Make::Fifo(".gitignore")],
            exit: 2,
            error: &[".gitignore"],
            finding: true,
            ..CASE
        },
        Case {
            name: "gitignore-dev-zero",
            make: vec![Make::Symlink(".gitignore", "/dev/zero")],
            exit: 2,
            error: &[".gitignore"],
            finding: true,
            ..CASE
        },
        Case {
            name: "gitignore-over-the-size-cap",
            make: vec![Make::Sparse(".gitignore", OVER_THE_CAP)],
            exit: 2,
            error: &[".gitignore", "larger than 64 MiB"],
            finding: true,
            ..CASE
        },
        // git reads patterns as bytes.
        Case {
            name: "gitignore-invalid-utf8",
            make: vec![file(".gitignore", b"# \xff\n*.log\n")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // git drops the CR of a CRLF line: tests/ is ignored, and nothing
        // is left to report.
        Case {
            name: "gitignore-crlf",
            make: vec![file(".gitignore", b"tests/\r\n")],
            exit: 0,
            finding: false,
            ..CASE
        },
        // Fixed defect: git passes over a dangling .gitignore link; covdoctor
        // reports ".gitignore: No such file or directory" and exits 2 (the
        // code means to skip it: "a dangling link is not a file").
        Case {
            name: "gitignore-dangling-symlink",
            make: vec![Make::Symlink(".gitignore", "nowhere")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // git warns "unable to access '.gitignore': Too many levels of
        // symbolic links".
        Case {
            name: "gitignore-symlink-loop",
            make: vec![Make::Symlink(".gitignore", ".gitignore")],
            exit: 2,
            error: &[".gitignore", "symbolic links"],
            finding: true,
            ..CASE
        },
        Case {
            name: "ignore-file-fifo",
            make: vec![Make::Fifo(".ignore")],
            exit: 2,
            error: &[".ignore", "not a regular file"],
            finding: true,
            ..CASE
        },
        Case {
            name: "git-info-exclude-fifo",
            make: vec![Make::Dir(".git/info"), Make::Fifo(".git/info/exclude")],
            exit: 2,
            error: &[".git/info/exclude", "not a regular file"],
            finding: true,
            ..CASE
        },
        // GitHub Actions workflows.
        Case {
            name: "workflow-bom",
            make: vec![Make::File(WORKFLOW_PATH, concat(&[b"\xef\xbb\xbf", WORKFLOW]))],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "workflow-crlf",
            make: vec![Make::File(WORKFLOW_PATH, newlines(WORKFLOW, b"\r\n"))],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        // A job that is an alias of an anchored mapping.
        Case {
            name: "workflow-anchor-and-alias",
            make: vec![file(
                WORKFLOW_PATH,
                b"on: push\njobs:\n  base: &base\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest --cov\n  test: *base\n",
            )],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "workflow-dangling-symlink",
            make: vec![Make::Symlink(WORKFLOW_PATH, "nowhere.yml")],
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: GitHub rejects a workflow that is not YAML; covdoctor drops
        // it without a word (exit 1): every YAML load error is discarded
        // (src/runs/github.rs `workflow`, src/runs/gitlab.rs `runs`).
        Case {
            name: "workflow-invalid-yaml",
            make: vec![file(WORKFLOW_PATH, b"on: push\njobs: [\n")],
            exit: 2,
            error: &[".github/workflows/ci.yml"],
            finding: true,
            ..CASE
        },
        // Fixed defect: YAML forbids tabs in indentation (GitHub rejects the file);
        // covdoctor drops it without a word (exit 1).
        Case {
            name: "workflow-tab-indentation",
            make: vec![file(
                WORKFLOW_PATH,
                b"on: push\njobs:\n\ttest:\n\t\truns-on: ubuntu-latest\n",
            )],
            exit: 2,
            error: &[".github/workflows/ci.yml:3:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: GitHub rejects a repeated key ("'jobs' is already
        // defined"); covdoctor reports nothing (exit 1), and the job with
        // `pytest --cov` is lost.
        Case {
            name: "workflow-duplicate-key",
            make: vec![Make::File(
                WORKFLOW_PATH,
                concat(&[WORKFLOW, b"jobs:\n  other:\n    runs-on: ubuntu-latest\n"]),
            )],
            exit: 2,
            error: &[".github/workflows/ci.yml:7:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: a billion-laughs alias bomb beside a job: covdoctor stays
        // bounded, but drops the whole workflow without a word (exit 1).
        Case {
            name: "workflow-alias-bomb",
            make: vec![Make::File(WORKFLOW_PATH, alias_bomb.into_bytes())],
            exit: 2,
            error: &[".github/workflows/ci.yml"],
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: lists nested 10000 deep beside a job: covdoctor drops the
        // workflow without a word (exit 1).
        Case {
            name: "workflow-deep-nesting",
            make: vec![Make::File(WORKFLOW_PATH, yaml_deep)],
            exit: 2,
            error: &[".github/workflows/ci.yml"],
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: a workflow over 64 MiB is passed over without a word (exit
        // 1), where any other file over the cap is an input error.
        Case {
            name: "workflow-over-the-size-cap",
            make: vec![Make::Sparse(WORKFLOW_PATH, OVER_THE_CAP)],
            exit: 2,
            error: &[".github/workflows/ci.yml", "larger than 64 MiB"],
            finding: true,
            ..CASE
        },
        // Fixed defect: a FIFO workflow is passed over without a word (exit 1)
        // (it does not hang), unlike a FIFO setup.cfg (exit 2).
        Case {
            name: "workflow-fifo",
            make: vec![Make::Dir(".github/workflows"), Make::Fifo(WORKFLOW_PATH)],
            exit: 2,
            error: &[".github/workflows/ci.yml", "not a regular file"],
            finding: true,
            ..CASE
        },
        // GitLab CI. YAML breaks lines at a lone CR too.
        Case {
            name: "gitlab-ci-lone-cr",
            make: vec![file(".gitlab-ci.yml", b"test:\r  script:\r    - pytest --cov\r")],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: GitLab rejects a file that is not YAML; covdoctor drops it
        // without a word (exit 1).
        Case {
            name: "gitlab-ci-invalid-yaml",
            make: vec![file(".gitlab-ci.yml", b"test:\n  script: [\n")],
            exit: 2,
            error: &[".gitlab-ci.yml"],
            finding: true,
            ..CASE
        },
        // Fixed defect: GitLab rejects a configuration that is not a mapping
        // ("Invalid configuration format"); covdoctor drops it without a
        // word (exit 1).
        Case {
            name: "gitlab-ci-root-not-a-mapping",
            make: vec![file(".gitlab-ci.yml", b"- pytest --cov\n")],
            exit: 2,
            error: &[".gitlab-ci.yml"],
            finding: true,
            ..CASE
        },
        // Makefile recipes, as GNU make reads them.
        Case {
            name: "makefile-crlf",
            make: vec![Make::File("Makefile", newlines(b"test:\n\tpytest --cov\n", b"\r\n"))],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: make reads a Makefile with a Latin-1 byte in a comment and
        // runs `pytest --cov`; covdoctor drops the Makefile (it is not
        // UTF-8) and the finding is lost (exit 0).
        Case {
            name: "makefile-latin1",
            make: vec![file("Makefile", b"# caf\xe9\ntest:\n\tpytest --cov\n")],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: make stops at "Makefile:1: *** Recursive variable 'A'
        // references itself (eventually).  Stop."; covdoctor reports
        // nothing (exit 1).
        Case {
            name: "makefile-recursive-variable",
            make: vec![file("Makefile", b"A = $(A)\ntest:\n\tpytest --cov $(A)\n")],
            exit: 2,
            error: &["Makefile"],
            finding: true,
            ..CASE
        },
        // Fixed defect: `A = $(A) $(A) ...` (fifty times): make stops at once
        // (recursive variable); covdoctor substitutes it four rounds deep
        // (50^4 words), takes 14 s and 1.5 GB.
        Case {
            name: "makefile-recursive-variable-fanout",
            make: vec![file("Makefile", &make_variable_fanout)],
            exit: 2,
            error: &["Makefile"],
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: `test: test test ...` (a hundred times): make drops the
        // circular dependency ("Circular test <- test dependency dropped.")
        // and runs `pytest --cov`; covdoctor expands the prerequisites four
        // deep (100^4) and does not finish.
        Case {
            name: "makefile-prerequisite-fanout",
            make: vec![file("Makefile", &make_prerequisites)],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: a FIFO Makefile is passed over without a word (exit 1)
        // (it does not hang), unlike a FIFO setup.cfg (exit 2).
        Case {
            name: "makefile-fifo",
            make: vec![Make::Fifo("Makefile")],
            exit: 2,
            error: &["Makefile", "not a regular file"],
            finding: true,
            ..CASE
        },
        // hatch, pixi and pdm.
        // Fixed defect: hatch cannot load a hatch.toml that is not TOML; covdoctor
        // drops it without a word (exit 1).
        Case {
            name: "hatch-toml-invalid",
            make: vec![file(
                "hatch.toml",
                b"[envs.default.scripts\ntest = \"pytest --cov\"\n",
            )],
            exit: 2,
            error: &["hatch.toml:1:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: scripts naming the next script forty times, five levels:
        // covdoctor expands every path (40^4) and takes about 47 s.
        Case {
            name: "hatch-script-fanout",
            make: vec![file("hatch.toml", &hatch_fanout)],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: pixi cannot load a pixi.toml that is not TOML; covdoctor
        // drops it without a word (exit 1).
        Case {
            name: "pixi-toml-invalid",
            make: vec![file("pixi.toml", b"[tasks\ntest = \"pytest --cov\"\n")],
            exit: 2,
            error: &["pixi.toml:1:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: tasks depending on the next task forty times, five levels
        // (pixi runs each task once): covdoctor expands every path (40^4)
        // and takes about 38 s.
        Case {
            name: "pixi-depends-on-fanout",
            make: vec![file("pixi.toml", &pixi_fanout)],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: composite scripts naming the next script forty times, five
        // levels: covdoctor expands every path (40^4) and takes about 48 s.
        Case {
            name: "pdm-composite-fanout",
            // A valid pyproject.toml: a fix may add the coverage setting.
            make: vec![Make::Fixable("pyproject.toml", pdm_fanout.clone())],
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // noxfile.py.
        Case {
            name: "noxfile-syntax-error",
            make: vec![Make::File("noxfile.py", concat(&[NOXFILE, b"def (\n"]))],
            exit: 2,
            error: &["noxfile.py:6:"],
            finding: true,
            ..CASE
        },
        // Fixed defect: Python (and nox) read a noxfile.py in the encoding it
        // declares; covdoctor's session reader wants UTF-8, drops the file
        // and the finding is lost (exit 0).
        Case {
            name: "noxfile-latin1-declared",
            make: vec![Make::File(
                "noxfile.py",
                concat(&[b"# -*- coding: latin-1 -*-\n# caf\xe9\n", NOXFILE]),
            )],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "noxfile-helper-fanout",
            make: vec![file("noxfile.py", &nox_fanout)],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // Shell scripts a workflow step runs.
        // bash runs the lines before the broken one.
        Case {
            name: "shell-script-unclosed-quote",
            make: vec![
                file(WORKFLOW_PATH, SCRIPT_WORKFLOW),
                file("ci/test.sh", b"#!/bin/sh\npytest --cov\necho \"oops\n"),
            ],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        Case {
            name: "shell-script-runs-itself",
            make: vec![
                file(WORKFLOW_PATH, SCRIPT_WORKFLOW),
                file("ci/test.sh", b"#!/bin/sh\n./ci/test.sh\npytest --cov\n"),
            ],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            secs: 10,
            ..CASE
        },
        // Fixed defect: the shell runs a script with a Latin-1 byte in a comment;
        // covdoctor drops it (it is not UTF-8) and the finding is lost
        // (exit 0).
        Case {
            name: "shell-script-latin1",
            make: vec![
                file(WORKFLOW_PATH, SCRIPT_WORKFLOW),
                file("ci/test.sh", b"#!/bin/sh\n# caf\xe9\npytest --cov\n"),
            ],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
        // Fixed defect: a script over 1 MiB (src/runs/github.rs MAX_SCRIPT) is
        // dropped without a word and the finding is lost (exit 0).
        Case {
            name: "shell-script-over-1-mib",
            make: vec![
                file(WORKFLOW_PATH, SCRIPT_WORKFLOW),
                Make::File("ci/test.sh", big_script),
            ],
            base: NO_COVERAGE,
            exit: 1,
            finding: true,
            ..CASE
        },
    ]
}

/// What a path is, without following links: a file's mode, size and a hash
/// of its bytes (a sparse file of 64 MiB is not kept in memory), a link's
/// target, a directory that cannot be listed.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    File { mode: u32, len: u64, hash: u64 },
    Unreadable { mode: u32 },
    Link(PathBuf),
    Dir { mode: u32, listed: bool },
    Other,
}

fn snapshot(dir: &Path) -> Vec<(String, Entry)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let name = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let mode = meta.permissions().mode();
            let kind = if meta.is_dir() {
                let listed = std::fs::read_dir(&path).is_ok();
                if listed {
                    stack.push(path);
                }
                Entry::Dir { mode, listed }
            } else if meta.is_file() {
                match std::fs::read(&path) {
                    Ok(bytes) => {
                        let mut hasher = DefaultHasher::new();
                        bytes.hash(&mut hasher);
                        Entry::File {
                            mode,
                            len: bytes.len() as u64,
                            hash: hasher.finish(),
                        }
                    }
                    Err(_) => Entry::Unreadable { mode },
                }
            } else if meta.file_type().is_symlink() {
                Entry::Link(std::fs::read_link(&path).unwrap())
            } else {
                Entry::Other
            };
            out.push((name, kind));
        }
    }
    out.sort();
    out
}

/// The first path whose entry differs between two snapshots.
fn first_change(before: &[(String, Entry)], after: &[(String, Entry)]) -> Option<String> {
    let names: std::collections::BTreeSet<&String> =
        before.iter().chain(after).map(|(n, _)| n).collect();
    names.into_iter().find_map(|name| {
        let was = before.iter().find(|(n, _)| n == name);
        let is = after.iter().find(|(n, _)| n == name);
        (was != is).then(|| name.clone())
    })
}

fn run(dir: &Path, args: &[&str], secs: u64) -> Result<(i32, String), Failed> {
    let out = common::covdoctor_within(args, dir, secs)
        .ok_or_else(|| format!("covdoctor did not finish within {secs} s"))?;
    let text = format!("{}{}", common::stdout(&out), common::stderr(&out));
    match out.status.code() {
        Some(code) => Ok((code, text)),
        None => Err(format!("covdoctor died of a signal:\n{text}").into()),
    }
}

/// Whether this process is refused a file of mode 000 (it is not when it
/// runs as root, or with CAP_DAC_OVERRIDE).
fn mode_000_is_refused() -> bool {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("probe");
    std::fs::write(&path, b"x").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let refused = std::fs::read(&path).is_err();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    refused
}

/// Gives back the permissions taken by [`Make::Unreadable`] and
/// [`Make::UnreadableDir`], so that the temporary directory can be removed.
struct Restore(Vec<(PathBuf, u32)>);

impl Drop for Restore {
    fn drop(&mut self) {
        for (path, mode) in &self.0 {
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode));
        }
    }
}

fn make(dir: &Path, make: &Make, restore: &mut Restore) {
    let path = |p: &str| {
        let full = dir.join(p);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&full);
        full
    };
    match make {
        Make::File(p, bytes) | Make::Fixable(p, bytes) => std::fs::write(path(p), bytes).unwrap(),
        Make::Fifo(p) => {
            let ok = Command::new("mkfifo").arg(path(p)).status().unwrap();
            assert!(ok.success());
        }
        Make::Symlink(p, target) => std::os::unix::fs::symlink(target, path(p)).unwrap(),
        Make::Dir(p) => std::fs::create_dir_all(path(p)).unwrap(),
        Make::Sparse(p, len) => std::fs::File::create(path(p))
            .unwrap()
            .set_len(*len)
            .unwrap(),
        Make::Unreadable(p, bytes) => {
            let full = path(p);
            std::fs::write(&full, bytes).unwrap();
            restore.0.push((full.clone(), 0o644));
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        Make::UnreadableDir(p) => {
            let full = path(p);
            std::fs::create_dir_all(&full).unwrap();
            std::fs::write(full.join("test_hidden.py"), KILLING_TEST).unwrap();
            restore.0.push((full.clone(), 0o755));
            std::fs::set_permissions(&full, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
    }
}

/// The input problem the case states, on one line with `code`
/// (`input-error`, `input-warning`).
fn has_error(text: &str, error: &[&str], code: &str) -> bool {
    text.lines()
        .any(|l| l.contains(code) && error.iter().all(|e| l.contains(e)))
}

fn check_case(case: &Case, mode_000_refused: bool) -> Result<(), Failed> {
    if (case.exit == 2 || case.warning) && case.error.is_empty() {
        return Err("a case with an input error must say where it is reported".into());
    }
    if case.make.iter().any(Make::denies_permission) && !mode_000_refused {
        return Err(
            "this process reads files of mode 000 (root?): a permission-denied file cannot be made here"
                .into(),
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(dir.join("pyproject.toml"), case.base).unwrap();
    std::fs::write(dir.join("tests/test_k.py"), KILLING_TEST).unwrap();
    let mut restore = Restore(Vec::new());
    let mut bad: Vec<&str> = Vec::new();
    for m in &case.make {
        make(dir, m, &mut restore);
        match m {
            Make::File(p, _) | Make::Sparse(p, _) | Make::Unreadable(p, _) => bad.push(p),
            _ => {}
        }
    }
    let before = snapshot(dir);
    let (code, text) = run(dir, &["check", "--output-format", "concise"], case.secs)?;
    if code != case.exit {
        return Err(format!("exit {code}, expected {}:\n{text}", case.exit).into());
    }
    let code_word = if case.warning {
        "input-warning"
    } else {
        "input-error"
    };
    if !case.error.is_empty() && !has_error(&text, case.error, code_word) {
        return Err(format!(
            "no {code_word} line of the output holds {:?}:\n{text}",
            case.error
        )
        .into());
    }
    // `--strict` makes a warning an error and changes nothing else.
    let (strict, strict_text) = run(
        dir,
        &["check", "--strict", "--output-format", "concise"],
        case.secs,
    )?;
    let strict_exit = if case.warning { 2 } else { case.exit };
    if strict != strict_exit
        || (!case.error.is_empty() && !has_error(&strict_text, case.error, "input-error"))
        || strict_text.contains("input-warning")
    {
        return Err(format!(
            "with --strict: exit {strict}, expected {strict_exit} with every problem an input-error ({:?}):\n{strict_text}",
            case.error
        )
        .into());
    }
    if case.finding != text.contains("sigkill-loses-coverage") {
        return Err(format!(
            "the finding elsewhere is {}reported:\n{text}",
            if case.finding { "not " } else { "" }
        )
        .into());
    }
    if let Some(missing) = case.shows.iter().find(|s| !text.contains(*s)) {
        return Err(format!("the output does not hold `{missing}`:\n{text}").into());
    }
    if text.len() > 20_000 {
        return Err(format!("{} bytes of output", text.len()).into());
    }
    if let Some(name) = first_change(&before, &snapshot(dir)) {
        return Err(format!("check changed {name}").into());
    }
    // The full report this time, with every fix applied.
    let (fix_code, fix_text) = run(dir, &["check", "--fix", "--unsafe-fixes"], case.secs)?;
    if !(0..=2).contains(&fix_code) || (fix_code == 2) != (case.exit == 2) {
        return Err(format!("--fix exited {fix_code} (check exited {code}):\n{fix_text}").into());
    }
    let after = snapshot(dir);
    for name in bad {
        let was = before.iter().find(|(n, _)| n == name);
        let is = after.iter().find(|(n, _)| n == name);
        if was != is {
            return Err(format!("--fix edited the bad file {name}").into());
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mode_000_refused = mode_000_is_refused();
    let mut cannot_deny = Vec::new();
    let trials = cases()
        .into_iter()
        .map(|case| {
            let denies = case.make.iter().any(Make::denies_permission);
            if denies && !mode_000_refused {
                cannot_deny.push(case.name);
            }
            let ignored = case.defect || (denies && !mode_000_refused);
            Trial::test(case.name, move || check_case(&case, mode_000_refused))
                .with_ignored_flag(ignored)
        })
        .collect();
    if !cannot_deny.is_empty() {
        eprintln!(
            "bad_input: {} ignored: this process reads files of mode 000 (it runs as root or with CAP_DAC_OVERRIDE), so it cannot make a file it is refused",
            cannot_deny.join(", ")
        );
    }
    libtest_mimic::run(&args, trials).exit();
}
