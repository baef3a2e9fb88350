//! The bad-input matrix: each case is a project with one kind of bad input
//! beside a test that kills a Python child (a finding that must still be
//! reported unless the case makes the configuration unreadable). Each case
//! states the exit code, where the input error is reported, and that
//! `check` changes no byte and `--fix` never edits the bad file. The
//! expectations follow what the real tools do with the same input
//! (tomllib, configparser, the Python parser, coverage.py).

mod common;

use std::path::Path;
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

const KILLING_TEST: &[u8] =
    b"import subprocess, sys\n\ndef test_k():\n    p = subprocess.Popen([sys.executable, 's.py'])\n    p.kill()\n";
const PYPROJECT: &[u8] = b"[tool.coverage.run]\nsigterm = true\n";

/// How the bad input is made.
enum Make {
    File(&'static str, Vec<u8>),
    Fifo(&'static str),
    Symlink(&'static str, &'static str),
    Dir(&'static str),
}

struct Case {
    name: &'static str,
    make: Vec<Make>,
    /// The project has the standard pyproject.toml unless a case replaces it.
    exit: i32,
    /// Text the output must hold: the located error.
    error: Option<&'static str>,
    /// The killing test is still reported.
    finding: bool,
}

fn file(path: &'static str, bytes: &[u8]) -> Make {
    Make::File(path, bytes.to_vec())
}

fn cases() -> Vec<Case> {
    let long = format!("x = {}1 oops\n", "1+".repeat(40_000)).into_bytes();
    let deep = format!("x = {}1{}\n", "(".repeat(3000), ")".repeat(3000)).into_bytes();
    vec![
        Case {
            name: "python-syntax-error",
            make: vec![file("tests/bad.py", b"def (\n")],
            exit: 2,
            error: Some("tests/bad.py:1:"),
            finding: true,
        },
        Case {
            name: "python-invalid-utf8",
            make: vec![file("tests/bad.py", b"x = '\xff'\n")],
            exit: 2,
            error: Some("tests/bad.py"),
            finding: true,
        },
        Case {
            name: "python-latin1-declared",
            make: vec![file(
                "tests/ok.py",
                b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
            )],
            exit: 1,
            error: None,
            finding: true,
        },
        Case {
            name: "python-bom",
            make: vec![file("tests/ok.py", b"\xef\xbb\xbfx = 1\n")],
            exit: 1,
            error: None,
            finding: true,
        },
        Case {
            name: "python-null-byte",
            make: vec![file("tests/bad.py", b"x = 1\0\n")],
            exit: 2,
            error: Some("tests/bad.py"),
            finding: true,
        },
        Case {
            name: "python-empty",
            make: vec![file("tests/empty.py", b"")],
            exit: 1,
            error: None,
            finding: true,
        },
        Case {
            name: "python-very-long-line",
            make: vec![file("tests/long.py", &long)],
            exit: 2,
            error: Some("tests/long.py:1:"),
            finding: true,
        },
        Case {
            name: "python-deep-nesting",
            make: vec![file("tests/deep.py", &deep)],
            exit: 1,
            error: None,
            finding: true,
        },
        Case {
            name: "python-lone-cr",
            make: vec![file("tests/cr.py", b"x = 1\ry = 2\r")],
            exit: 1,
            error: None,
            finding: true,
        },
        Case {
            name: "pyproject-invalid-toml",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run\nsigterm = true\n",
            )],
            exit: 2,
            error: Some("pyproject.toml:1:"),
            finding: true,
        },
        Case {
            name: "pyproject-bom",
            make: vec![file(
                "pyproject.toml",
                b"\xef\xbb\xbf[tool.coverage.run]\nsigterm = true\n",
            )],
            exit: 2,
            error: Some("byte order mark"),
            finding: true,
        },
        Case {
            name: "pyproject-invalid-utf8",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\n# \xff\n",
            )],
            exit: 2,
            error: Some("pyproject.toml"),
            finding: true,
        },
        // No coverage settings and no `--cov`: the project measures nothing,
        // so nothing downstream is reported.
        Case {
            name: "pyproject-empty",
            make: vec![file("pyproject.toml", b"")],
            exit: 0,
            error: None,
            finding: false,
        },
        // coverage.py and pytest pass over a directory of that name; then
        // nothing is measured either.
        Case {
            name: "pyproject-is-a-directory",
            make: vec![Make::Dir("pyproject.toml")],
            exit: 2,
            error: Some("not a regular file"),
            finding: false,
        },
        Case {
            name: "sigterm-not-a-boolean",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = \"yes\"\n",
            )],
            exit: 2,
            error: Some("couldn't convert to a boolean"),
            finding: true,
        },
        Case {
            name: "patch-not-a-list",
            make: vec![file(
                "pyproject.toml",
                b"[tool.coverage.run]\nsigterm = true\npatch = \"subprocess\"\n",
            )],
            exit: 2,
            error: Some("is not a list"),
            finding: true,
        },
        Case {
            name: "run-not-a-table",
            make: vec![file("pyproject.toml", b"[tool.coverage]\nrun = 1\n")],
            exit: 2,
            error: Some("must be a table"),
            finding: true,
        },
        Case {
            name: "setup-cfg-not-ini",
            make: vec![file(
                "setup.cfg",
                b"[coverage:run]\nsigterm = true\nnot a setting\n",
            )],
            exit: 2,
            error: Some("setup.cfg:3:"),
            finding: true,
        },
        Case {
            name: "setup-cfg-section-twice",
            make: vec![file(
                "setup.cfg",
                b"[metadata]\nname = x\n[metadata]\nversion = 1\n",
            )],
            exit: 2,
            error: Some("appears twice"),
            finding: true,
        },
        Case {
            name: "setup-cfg-default-twice",
            make: vec![file("setup.cfg", b"[DEFAULT]\na = 1\n[DEFAULT]\nb = 2\n")],
            exit: 1,
            error: None,
            finding: true,
        },
        Case {
            name: "coveragerc-option-twice",
            make: vec![file(
                ".coveragerc",
                b"[run]\nsigterm = true\nsigterm = false\n",
            )],
            exit: 2,
            error: Some("appears twice"),
            finding: true,
        },
        Case {
            name: "coveragerc-bom",
            make: vec![file(".coveragerc", b"\xef\xbb\xbf[run]\nsigterm = true\n")],
            exit: 2,
            error: Some("byte order mark"),
            finding: true,
        },
        Case {
            name: "coveragerc-boolean-on-continuation-line",
            make: vec![file(".coveragerc", b"[run]\nsigterm =\n    true\n")],
            exit: 2,
            error: Some("Not a boolean"),
            finding: true,
        },
        Case {
            name: "tox-ini-bom",
            make: vec![file("tox.ini", b"\xef\xbb\xbf[tox]\nenvlist = py\n")],
            exit: 2,
            error: Some("byte order mark"),
            finding: true,
        },
        Case {
            name: "covdoctor-toml-invalid",
            make: vec![file("covdoctor.toml", b"select = [\n")],
            exit: 2,
            error: Some("covdoctor.toml:1:"),
            finding: true,
        },
        Case {
            name: "uv-lock-invalid",
            make: vec![file("uv.lock", b"[[package]\n")],
            exit: 2,
            error: Some("uv.lock:1:"),
            finding: true,
        },
        Case {
            name: "requirements-fifo",
            make: vec![Make::Fifo("requirements-test.txt")],
            exit: 2,
            error: Some("requirements-test.txt"),
            finding: true,
        },
        Case {
            name: "gitignore-fifo",
            make: vec![Make::Fifo(".gitignore")],
            exit: 2,
            error: Some(".gitignore"),
            finding: true,
        },
        Case {
            name: "gitignore-dev-zero",
            make: vec![Make::Symlink(".gitignore", "/dev/zero")],
            exit: 2,
            error: Some(".gitignore"),
            finding: true,
        },
        Case {
            name: "setup-cfg-fifo",
            make: vec![Make::Fifo("setup.cfg")],
            exit: 2,
            error: Some("setup.cfg"),
            finding: true,
        },
        Case {
            name: "python-file-dangling-symlink",
            make: vec![Make::Symlink("tests/gone.py", "nowhere.py")],
            exit: 1,
            error: None,
            finding: true,
        },
        Case {
            name: "cov-config-missing",
            make: vec![file(
                "pyproject.toml",
                b"[tool.pytest.ini_options]\naddopts = \"--cov --cov-config=missing.ini\"\n",
            )],
            exit: 2,
            error: Some("missing.ini"),
            finding: true,
        },
    ]
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let name = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.push((name, std::fs::read(&path).unwrap()));
            } else {
                out.push((name, Vec::new()));
            }
        }
    }
    out.sort();
    out
}

fn run(dir: &Path, args: &[&str]) -> Result<(i32, String), Failed> {
    let out =
        common::covdoctor_within(args, dir, 60).ok_or("covdoctor did not finish within 60 s")?;
    let text = format!("{}{}", common::stdout(&out), common::stderr(&out));
    match out.status.code() {
        Some(code) => Ok((code, text)),
        None => Err(format!("covdoctor died of a signal:\n{text}").into()),
    }
}

fn check_case(case: &Case) -> Result<(), Failed> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("tests")).unwrap();
    std::fs::write(dir.join("pyproject.toml"), PYPROJECT).unwrap();
    std::fs::write(dir.join("tests/test_k.py"), KILLING_TEST).unwrap();
    let mut bad: Vec<&str> = Vec::new();
    for make in &case.make {
        match make {
            Make::File(path, bytes) => {
                std::fs::write(dir.join(path), bytes).unwrap();
                bad.push(path);
            }
            Make::Fifo(path) => {
                let _ = std::fs::remove_file(dir.join(path));
                let ok = Command::new("mkfifo").arg(dir.join(path)).status().unwrap();
                assert!(ok.success());
            }
            Make::Symlink(path, target) => {
                let _ = std::fs::remove_file(dir.join(path));
                std::os::unix::fs::symlink(target, dir.join(path)).unwrap();
            }
            Make::Dir(path) => {
                let _ = std::fs::remove_file(dir.join(path));
                std::fs::create_dir_all(dir.join(path)).unwrap();
            }
        }
    }
    let before = snapshot(dir);
    let (code, text) = run(dir, &["check", "--output-format", "concise"])?;
    if code != case.exit {
        return Err(format!("exit {code}, expected {}:\n{text}", case.exit).into());
    }
    if let Some(error) = case.error
        && !text.contains(error)
    {
        return Err(format!("the output does not name `{error}`:\n{text}").into());
    }
    if case.finding != text.contains("sigkill-loses-coverage") {
        return Err(format!(
            "the finding elsewhere is {}reported:\n{text}",
            if case.finding { "not " } else { "" }
        )
        .into());
    }
    if text.len() > 20_000 {
        return Err(format!("{} bytes of output", text.len()).into());
    }
    if snapshot(dir) != before {
        return Err("check changed a file".into());
    }
    let _ = run(dir, &["check", "--fix", "--unsafe-fixes"])?;
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
    let trials = cases()
        .into_iter()
        .map(|case| Trial::test(case.name, move || check_case(&case)))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
