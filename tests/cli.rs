//! The binary, end to end on the fixtures and on temporary projects: exit
//! codes, output formats, bad input.

mod common;

use std::path::Path;
use std::process::Output;

use common::{covdoctor, project, stderr, stdout};

/// A pyproject.toml that measures coverage (`pytest --cov`): a project
/// that measures nothing gets no findings about its children.
const MEASURED: &[u8] = b"[tool.pytest.ini_options]\naddopts = \"--cov\"\n";

const KILLING_TEST: &[u8] = b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.kill()\n";

#[test]
fn seed_server_reports_the_four_problems_of_the_post() {
    let out = covdoctor(
        &["check", "fixtures/seed-server", "--output-format", "json"],
        &common::repo(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document["version"], 1);
    let findings = &document["findings"];
    let got: Vec<(String, String, u64)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let conftest = "fixtures/seed-server/tests/conftest.py".to_string();
    assert_eq!(
        got,
        vec![
            // subprocess.Popen(..., env=get_command_env())
            ("env-drops-coverage".into(), conftest.clone(), 17),
            ("cov-config-not-passed".into(), conftest.clone(), 19), // cwd=working_directory
            ("sigkill-loses-coverage".into(), conftest, 27),        // process.kill()
            (
                "sigterm-not-handled".into(),
                "fixtures/seed-server/tests/test_shutdown.py".into(),
                18 // process.terminate()
            ),
        ]
    );
    let applicability: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            for key in ["severity", "column", "end_line", "end_column", "message"] {
                assert!(!f[key].is_null(), "{key} missing in {f}");
            }
            assert!(!f["fix"]["edits"].as_array().unwrap().is_empty(), "{f}");
            f["fix"]["applicability"].as_str().unwrap()
        })
        .collect();
    assert_eq!(applicability, vec!["unsafe", "safe", "unsafe", "safe"]);
}

#[test]
fn seed_server_full_output() {
    let out = covdoctor(&["check", "fixtures/seed-server"], &common::repo());
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn clean_project_exits_zero() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_a.py", b"def test_a():\n    pass\n"),
    ]);
    let out = covdoctor(&["check", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("no findings"));
}

#[test]
fn invalid_pyproject_is_a_located_error_and_the_rest_is_checked() {
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.coverage.run]\nsigterm = true\n[tool.pytest\n",
        ),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("pyproject.toml:3:"), "{err}");
    assert!(err.contains("invalid TOML"), "{err}");
    // The Python analysis still ran.
    assert!(
        stdout(&out).contains("sigkill-loses-coverage"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn invalid_ini_is_a_located_error() {
    let dir = project(&[
        (".coveragerc", b"[run]\nsigterm = true\nnot a setting\n"),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains(".coveragerc:3:1"), "{}", stderr(&out));
    assert!(stdout(&out).contains("sigkill-loses-coverage"));
}

#[test]
fn non_utf8_and_syntax_errors_are_reported_and_the_rest_is_checked() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/latin1.py", b"# caf\xe9\nx = 1\n"),
        ("tests/broken.py", b"def broken(:\n    pass\n\nimport subprocess, sys\np = subprocess.Popen([sys.executable, 'x.py'])\np.kill()\n"),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    // Neither unreadable part starts, stops or measures a process: both are
    // warnings, and the exit status follows the findings; `--strict` makes
    // them errors.
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let strict = covdoctor(&["check", "--strict"], dir.path());
    assert_eq!(strict.status.code(), Some(2), "{}", stderr(&strict));
    assert!(
        stderr(&strict).contains("input-error"),
        "{}",
        stderr(&strict)
    );
    let err = stderr(&out);
    assert!(err.contains("input-warning"), "{err}");
    assert!(!err.contains("input-error"), "{err}");
    assert!(err.contains("not valid UTF-8 at line 1, column 6"), "{err}");
    assert!(err.contains("tests/latin1.py:1:6"), "{err}");
    assert!(err.contains("syntax error"), "{err}");
    assert!(err.contains("broken.py:1:"), "{err}");
    let text = stdout(&out);
    // Findings in the good file, and in the part of the broken file that parses.
    assert!(text.contains("test_a.py"), "{text}");
    assert!(text.contains("broken.py"), "{text}");
}

#[test]
fn a_huge_expression_does_not_crash() {
    let mut source = String::from("x = 1");
    for _ in 0..200_000 {
        source.push_str(" + 1");
    }
    source.push('\n');
    let dir = project(&[
        ("pyproject.toml", MEASURED),
        ("big.py", source.as_bytes()),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("sigkill-loses-coverage"));
}

#[test]
fn missing_path_is_a_usage_error() {
    let out = covdoctor(&["check", "does-not-exist"], &common::repo());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does-not-exist"));
}

#[test]
fn unknown_rule_names_on_the_command_line_are_usage_errors() {
    let repo = common::repo();
    let seed = repo.join("fixtures/sigkill-loses-coverage");
    for flag in ["--select", "--extend-select", "--ignore"] {
        let out = covdoctor(&["check", flag, "sigkil"], &seed);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(
            stderr(&out).contains("did you mean `sigkill-loses-coverage`"),
            "{flag}: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty(), "{flag}: nothing was checked");
        // One bad name in a list is enough; nothing close, no suggestion.
        let out = covdoctor(&["check", flag, "env-drops-coverage,xyzzy"], &seed);
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(
            stderr(&out).contains("no rule named `xyzzy`"),
            "{}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("did you mean"), "{}", stderr(&out));
    }
    // Known names and `ALL` are accepted.
    let out = covdoctor(
        &[
            "check",
            "--select",
            "ALL",
            "--ignore",
            "sigkill-loses-coverage",
            "-q",
        ],
        &seed,
    );
    assert_ne!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn exit_zero_and_the_output_format_from_the_environment() {
    let repo = common::repo();
    let case = repo.join("fixtures/sigkill-loses-coverage/fires-asyncio-kill");
    let out = covdoctor(&["check", "-q"], &case);
    assert_eq!(out.status.code(), Some(1));
    let out = covdoctor(&["check", "--exit-zero"], &case);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("sigkill-loses-coverage"),
        "still reported"
    );
    let out = covdoctor(&["check", "--exit-zero", "--diff", "--unsafe-fixes"], &case);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // An input error still fails the run.
    let broken = tempfile::tempdir().unwrap();
    std::fs::write(broken.path().join("pyproject.toml"), "[tool.coverage.run\n").unwrap();
    // A project with tests: its broken configuration is an error.
    std::fs::write(broken.path().join("test_x.py"), "def test_x():\n    pass\n").unwrap();
    let out = covdoctor(&["check", "--exit-zero"], broken.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let with_env = |value: &str, args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_covdoctor"))
            .args(args)
            .current_dir(&case)
            .env_remove("COVERAGE_RCFILE")
            .env_remove("VIRTUAL_ENV")
            .env("NO_COLOR", "1")
            .env("COVDOCTOR_OUTPUT_FORMAT", value)
            .output()
            .unwrap()
    };
    let out = with_env("concise", &["check"]);
    assert!(
        stdout(&out).starts_with("tests/test_async.py:7:5: sigkill-loses-coverage"),
        "{}",
        stdout(&out)
    );
    // The flag wins over the variable.
    let out = with_env("concise", &["check", "--output-format", "json"]);
    assert!(
        stdout(&out).trim_start().starts_with('{'),
        "{}",
        stdout(&out)
    );
    let out = with_env("bogus", &["check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("COVDOCTOR_OUTPUT_FORMAT") || stderr(&out).contains("bogus"));
}

#[test]
fn rule_pages_and_list() {
    let repo = common::repo();
    let out = covdoctor(&["rules"], &repo);
    assert_eq!(out.status.code(), Some(0));
    for rule in covdoctor::rules::ALL {
        assert!(stdout(&out).contains(rule.name));
        let page = covdoctor(&["rule", rule.name], &repo);
        assert_eq!(page.status.code(), Some(0));
        assert_eq!(stdout(&page), rule.doc);
    }
    let all = covdoctor(&["rule", "--all"], &repo);
    assert_eq!(all.status.code(), Some(0));
    let mut at = 0;
    for rule in covdoctor::rules::ALL {
        let found = stdout(&all)[at..]
            .find(rule.doc)
            .expect("every page, in order");
        at += found + rule.doc.len();
    }
    let json = covdoctor(&["rules", "--output-format", "json"], &repo);
    assert_eq!(json.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(doc["version"], 1);
    let listed: Vec<&str> = doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let names: Vec<&str> = covdoctor::rules::ALL.iter().map(|r| r.name).collect();
    assert_eq!(listed, names);
    for (r, rule) in doc["rules"]
        .as_array()
        .unwrap()
        .iter()
        .zip(covdoctor::rules::ALL)
    {
        assert_eq!(r["summary"], rule.summary);
        assert_eq!(r["severity"], rule.severity.as_str());
        assert_eq!(r["claims_loss"], rule.claims_loss);
    }
    let out = covdoctor(&["rule"], &repo);
    assert_eq!(out.status.code(), Some(2), "a name or --all");
    let out = covdoctor(&["rule", "sigkill-lose-coverage"], &repo);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `sigkill-loses-coverage`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn help_has_examples_and_exit_codes() {
    let out = covdoctor(&["--help"], &common::repo());
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.contains("covdoctor check path/to/project"));
    assert!(text.contains("Exit status"));
    let out = covdoctor(&["--version"], &common::repo());
    assert!(stdout(&out).starts_with("covdoctor "));
}

#[test]
fn findings_are_reported_only_under_the_given_paths() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/a/test_a.py", KILLING_TEST),
        ("tests/b/test_b.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check", "tests/a", "--output-format", "json"], dir.path());
    let text = stdout(&out);
    assert!(text.contains("tests/a/test_a.py"), "{text}");
    assert!(!text.contains("test_b.py"), "{text}");
}

#[test]
fn ignored_and_environment_directories_are_skipped() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        (".gitignore", b"generated/\n"),
        ("generated/test_gen.py", KILLING_TEST),
        (".venv/lib/test_venv.py", KILLING_TEST),
        ("venv/test_venv2.py", KILLING_TEST),
        ("node_modules/x/test_node.py", KILLING_TEST),
        ("build/lib/test_build.py", KILLING_TEST),
        ("tests/test_real.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    assert_eq!(
        rules_found(&out),
        vec!["sigkill-loses-coverage:tests/test_real.py"]
    );
}

#[test]
fn nested_projects_use_their_own_configuration() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_a.py", b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n    p.wait()\n"),
        ("sub/pyproject.toml", b"[tool.coverage.run]\nbranch = true\n"),
        ("sub/tests/test_b.py", b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n    p.wait()\n"),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    // The root project sets sigterm; the nested one does not.
    assert_eq!(
        rules_found(&out),
        vec!["sigterm-not-handled:sub/tests/test_b.py"]
    );
}

#[test]
fn a_directory_with_a_noxfile_is_a_project_of_its_own() {
    let test = b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n    p.wait()\n";
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nbranch = true\n"),
        ("tests/test_a.py", test),
        // nox runs the samples' tests in samples/, without coverage: they
        // are not the root's tests.
        (
            "samples/noxfile.py",
            b"import nox\n\n@nox.session\ndef tests(session):\n    session.install('pytest')\n    session.run('pytest')\n",
        ),
        ("samples/test_sample.py", test),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    // The root sets no sigterm: its test is a finding; the samples'
    // project measures nothing.
    assert_eq!(
        rules_found(&out),
        vec!["sigterm-not-handled:tests/test_a.py"]
    );
}

#[test]
fn import_cycles_and_pathological_aliasing_terminate() {
    let mut aliasing = String::from("import subprocess, sys\nx = [sys.executable, 'a.py']\n");
    for _ in 0..300 {
        aliasing.push_str("x = x\n");
    }
    aliasing.push_str("p = subprocess.Popen(x)\np.kill()\n");
    let dir = project(&[
        ("pyproject.toml", MEASURED),
        ("alias.py", aliasing.as_bytes()),
        ("a.py", b"from b import f\nf()\n"),
        ("b.py", b"from a import f\n"),
        ("pkg/__init__.py", b""),
        (
            "pkg/functools.py",
            b"from functools import update_wrapper\nupdate_wrapper(1, 2)\n",
        ),
        ("c.py", b"x, y = x.split()\nz = [y]\n"),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stdout(&out).contains("alias.py"));
}

#[test]
fn a_stop_helper_finding_sits_at_the_call_with_the_helper_related_in_json_and_sarif() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sigkill-loses-coverage/fires-stop-helper");
    let out = covdoctor(&["check", "--output-format", "json", "."], &dir);
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let finding = &document["findings"][0];
    assert_eq!(finding["path"], "tests/test_server.py");
    assert_eq!(finding["line"], 13, "kill_process(process) in the test");
    let related: Vec<(String, u64)> = finding["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        related.contains(&("tests/helpers.py".to_string(), 2)),
        "{related:?}"
    );
    assert!(
        related.contains(&("tests/test_server.py".to_string(), 11)),
        "{related:?}"
    );
    let out = covdoctor(&["check", "--output-format", "sarif", "."], &dir);
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let result = &sarif["runs"][0]["results"][0];
    let related: Vec<(String, u64)> = result["relatedLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                l["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap(),
            )
        })
        .collect();
    assert!(
        related.contains(&("tests/helpers.py".to_string(), 2)),
        "{related:?}"
    );
}

#[test]
fn helper_cycles_and_thousands_of_call_sites_stay_bounded() {
    // Helpers that call each other in a cycle, with the launch inside.
    let cycle = b"import subprocess\n\n\ndef ping(cmd, n):\n    return pong(cmd, n - 1)\n\n\ndef pong(cmd, n):\n    if n > 0:\n        return ping(cmd, n)\n    return subprocess.Popen(cmd)\n";
    let cycle_test = b"import sys\n\nfrom cycle import ping\n\n\ndef test_cycle():\n    p = ping([sys.executable, 'server.py'], 3)\n    p.kill()\n";
    // One helper called from 2,000 places, each killing its child.
    let mut many = String::from("import sys\n\nfrom helpers import start\n\n");
    for i in 0..2000 {
        many.push_str(&format!(
            "\ndef test_{i}():\n    p = start([sys.executable, 'server.py', '{i}'])\n    p.kill()\n"
        ));
    }
    let dir = project(&[
        ("pyproject.toml", MEASURED),
        ("tests/cycle.py", cycle),
        ("tests/test_cycle.py", cycle_test),
        (
            "tests/helpers.py",
            b"import subprocess\n\n\ndef start(cmd):\n    return subprocess.Popen(cmd)\n",
        ),
        ("tests/test_many.py", many.as_bytes()),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let kills: Vec<(String, u64)> = document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "sigkill-loses-coverage")
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
            )
        })
        .collect();
    // Each call site is its own finding, at the kill in the test.
    let many_kills = kills
        .iter()
        .filter(|(p, _)| p.ends_with("test_many.py"))
        .count();
    assert_eq!(many_kills, 2000);
    assert!(
        kills.iter().any(|(p, _)| p.ends_with("test_cycle.py")),
        "{kills:?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn snapshot_tree(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(snapshot_tree(&path));
        } else {
            out.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
    out
}

#[test]
fn seed_server_fixed_with_unsafe_fixes_is_clean_and_only_the_intended_edits_change() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed-server");
    copy_dir(&common::repo().join("fixtures/seed-server"), &seed);
    let before = snapshot_tree(&seed);

    // `--diff` writes nothing, exits 1, and shows the edits `--fix` makes.
    let diff = covdoctor(&["check", "--diff", "--unsafe-fixes"], &seed);
    assert_eq!(diff.status.code(), Some(1), "{}", stderr(&diff));
    assert_eq!(snapshot_tree(&seed), before, "--diff wrote files");
    insta::assert_snapshot!("seed_server_diff", stdout(&diff));

    let fixed = covdoctor(&["check", "--fix", "--unsafe-fixes", "--show-fixes"], &seed);
    assert_eq!(
        fixed.status.code(),
        Some(0),
        "{}{}",
        stdout(&fixed),
        stderr(&fixed)
    );
    assert!(
        stdout(&fixed).contains("covdoctor: 4 fixed, 0 remaining"),
        "{}",
        stdout(&fixed)
    );
    // What changed on disk is exactly what --diff showed.
    let after = snapshot_tree(&seed);
    let changed: Vec<String> = after
        .iter()
        .filter(|(p, c)| before.get(*p) != Some(c))
        .map(|(p, _)| {
            p.strip_prefix(&seed)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(changed, vec!["pyproject.toml", "tests/conftest.py"]);
    let again = covdoctor(&["check", "--diff", "--unsafe-fixes"], &seed);
    assert_eq!(
        again.status.code(),
        Some(0),
        "nothing left to change: {}",
        stdout(&again)
    );
    assert_eq!(stdout(&again), "");
    let second = covdoctor(&["check", "--fix", "--unsafe-fixes"], &seed);
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(snapshot_tree(&seed), after, "a second --fix changed files");
}

#[test]
fn fix_applies_only_safe_fixes_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed-server");
    copy_dir(&common::repo().join("fixtures/seed-server"), &seed);
    let out = covdoctor(&["check", "--fix"], &seed);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("covdoctor: 2 fixed, 2 remaining"), "{text}");
    assert!(
        text.contains("env-drops-coverage") && text.contains("sigkill-loses-coverage"),
        "{text}"
    );
    let conftest = std::fs::read_to_string(seed.join("tests/conftest.py")).unwrap();
    assert!(conftest.contains("process.kill()") && conftest.contains("env=get_command_env()"));
}

#[test]
fn exit_non_zero_on_fix_reports_changed_files() {
    let files: &[(&str, &[u8])] = &[
        ("pyproject.toml", b"[tool.coverage.run]\nbranch = true\n"),
        ("tests/test_a.py", b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n    p.wait()\n"),
    ];
    let dir = project(files);
    let out = covdoctor(&["check", "--fix"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let dir = project(files);
    let out = covdoctor(&["check", "--fix", "--exit-non-zero-on-fix"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let out = covdoctor(&["check", "--fix", "--exit-non-zero-on-fix"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing changed the second time"
    );
}

#[test]
fn a_read_only_file_is_left_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nbranch = true\n"),
        ("tests/test_a.py", b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n    p.wait()\n"),
    ]);
    let pyproject = dir.path().join("pyproject.toml");
    std::fs::set_permissions(&pyproject, std::fs::Permissions::from_mode(0o444)).unwrap();
    let out = covdoctor(&["check", "--fix"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stderr(&out).contains("read-only"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read(&pyproject).unwrap(),
        b"[tool.coverage.run]\nbranch = true\n"
    );
    assert!(
        stdout(&out).contains("sigterm-not-handled"),
        "the finding remains: {}",
        stdout(&out)
    );
}

#[test]
fn crlf_bom_comments_and_continuations_survive_a_fix() {
    let python = "\u{feff}import subprocess\r\nimport sys\r\n\r\n\r\ndef test_x():\r\n\tp = subprocess.Popen([sys.executable, 'srv.py'])\r\n\tp.kill()  # stop it\r\n";
    let toml = "# project settings\r\n[tool.pytest.ini_options]\r\naddopts = [\r\n    \"--cov\",  # measure\r\n]\r\n\r\n[tool.coverage]\r\n# everything coverage reads\r\nrun.branch = true  # yes\r\nreport = { show_missing = true }\r\n";
    let dir = project(&[
        ("pyproject.toml", toml.as_bytes()),
        ("tests/test_a.py", python.as_bytes()),
    ]);
    let out = covdoctor(&["check", "--fix", "--unsafe-fixes"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let python_after = std::fs::read_to_string(dir.path().join("tests/test_a.py")).unwrap();
    assert_eq!(
        python_after,
        "\u{feff}import subprocess\r\nimport sys\r\n\r\n\r\ndef test_x():\r\n\tp = subprocess.Popen([sys.executable, 'srv.py'])\r\n\tp.terminate()\r\n\ttry:\r\n\t\tp.wait(timeout=5)\r\n\texcept subprocess.TimeoutExpired:\r\n\t\tp.kill()  # stop it\r\n"
    );
    let toml_after = std::fs::read_to_string(dir.path().join("pyproject.toml")).unwrap();
    assert_eq!(
        toml_after,
        "# project settings\r\n[tool.pytest.ini_options]\r\naddopts = [\r\n    \"--cov\",  # measure\r\n]\r\n\r\n[tool.coverage]\r\n# everything coverage reads\r\nrun.branch = true  # yes\r\nrun.sigterm = true\r\nreport = { show_missing = true }\r\n"
    );
    let ini = "[metadata]\nname = app\n\n[tool:pytest]\naddopts =\n    --cov=app\n    # branch data too\n    --cov-branch\n\n[coverage:run]\n; measured in children\nomit =\n    tests/*\nbranch = True\n";
    let dir = project(&[
        ("setup.cfg", ini.as_bytes()),
        ("tests/test_a.py", b"import subprocess, sys\n\ndef test_x(tmp_path):\n    p = subprocess.Popen([sys.executable, 'srv.py'], cwd=tmp_path)\n    p.wait()\n"),
    ]);
    let out = covdoctor(&["check", "--fix"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("setup.cfg")).unwrap(),
        "[metadata]\nname = app\n\n[tool:pytest]\naddopts =\n    --cov=app\n    # branch data too\n    --cov-branch\n    --cov-config=setup.cfg\n\n[coverage:run]\n; measured in children\nomit =\n    tests/*\nbranch = True\n"
    );
}

#[test]
fn no_fix_for_a_python_file_with_syntax_errors() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_a.py", b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.kill()\n\ndef broken(:\n    pass\n"),
    ]);
    let before = std::fs::read(dir.path().join("tests/test_a.py")).unwrap();
    // The broken part (`def broken(:`) holds no process code: a warning,
    // but the file is still never edited.
    let out = covdoctor(&["check", "--fix", "--unsafe-fixes"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("input-warning"), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("sigkill-loses-coverage"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read(dir.path().join("tests/test_a.py")).unwrap(),
        before
    );
}

const TERMINATING_TEST: &[u8] = b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n    p.kill()\n";

fn rules_found(out: &Output) -> Vec<String> {
    let document: serde_json::Value = serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)));
    document["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["rule"].as_str().unwrap(),
                f["path"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn settings_select_ignore_and_per_file_ignores() {
    let pyproject = b"[tool.pytest.ini_options]\naddopts = \"--cov\"\n\n[tool.covdoctor]\nignore = [\"sigterm-not-handled\"]\n\n[tool.covdoctor.per-file-ignores]\n\"tests/legacy/*\" = [\"sigkill-loses-coverage\"]\n";
    let dir = project(&[
        ("pyproject.toml", pyproject),
        ("tests/test_a.py", TERMINATING_TEST),
        ("tests/legacy/test_b.py", TERMINATING_TEST),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    assert_eq!(
        rules_found(&out),
        vec!["sigkill-loses-coverage:tests/test_a.py"]
    );
    // The command line wins over the file; --isolated ignores the file.
    let out = covdoctor(
        &[
            "check",
            "--output-format",
            "json",
            "--select",
            "sigterm-not-handled",
        ],
        dir.path(),
    );
    assert_eq!(
        rules_found(&out),
        Vec::<String>::new(),
        "select keeps the file's ignore"
    );
    let out = covdoctor(
        &[
            "check",
            "--output-format",
            "json",
            "--isolated",
            "--select",
            "sigterm-not-handled",
        ],
        dir.path(),
    );
    assert_eq!(
        rules_found(&out),
        vec![
            "sigterm-not-handled:tests/legacy/test_b.py",
            "sigterm-not-handled:tests/test_a.py"
        ]
    );
}

#[test]
fn covdoctor_toml_exclude_and_extend_exclude() {
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.covdoctor]\nextend-exclude = [\"tests/legacy\"]\n\n[tool.pytest.ini_options]\naddopts = \"--cov\"\n",
        ),
        ("covdoctor.toml", b"extend-exclude = [\"generated_*.py\"]\n"),
        ("tests/test_a.py", KILLING_TEST),
        ("tests/generated_x.py", KILLING_TEST),
        ("tests/legacy/test_b.py", KILLING_TEST),
    ]);
    // covdoctor.toml wins over [tool.covdoctor]: legacy is checked again.
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    assert_eq!(
        rules_found(&out),
        vec![
            "sigkill-loses-coverage:tests/legacy/test_b.py",
            "sigkill-loses-coverage:tests/test_a.py"
        ]
    );
}

#[test]
fn unknown_settings_are_errors_with_suggestions() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.covdoctor]\nignor = [\"sigkill-loses-coverage\"]\nselect = [\"sigkill-lose-coverage\"]\n"),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("unknown covdoctor setting `ignor`; did you mean `ignore`?"),
        "{err}"
    );
    assert!(
        err.contains(
            "unknown rule `sigkill-lose-coverage`; did you mean `sigkill-loses-coverage`?"
        ),
        "{err}"
    );
    assert!(err.contains("pyproject.toml:2:1"), "{err}");
}

#[test]
fn python_launchers_are_launches() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.covdoctor]\npython-launchers = [\"tests.support.start_server\"]\n\n[tool.coverage.run]\nsigterm = true\n"),
        ("tests/__init__.py", b""),
        ("tests/support.py", b"def start_server(name, **kwargs):\n    return make_process(name, **kwargs)\n"),
        ("tests/test_a.py", b"from tests.support import start_server\n\ndef test_x():\n    server = start_server('api', env={'PATH': '/usr/bin'})\n    server.kill()\n"),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    assert_eq!(
        rules_found(&out),
        vec![
            "env-drops-coverage:tests/test_a.py",
            "sigkill-loses-coverage:tests/test_a.py"
        ]
    );
}

/// pre-commit passes the changed files: each counts for its project, the
/// project's configuration findings come once, other files are ignored.
#[test]
fn a_list_of_files_reports_their_findings_and_the_projects_once() {
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.coverage.run]\nsigterm = true\npatch = [\"subprocess\"]\n\n[tool.pytest.ini_options]\naddopts = \"--cov\"\n",
        ),
        ("requirements-test.txt", b"pytest-cov==6.3.0\ncoverage==7.9.2\n"),
        ("README.md", b"# a project\n"),
        ("tests/test_a.py", KILLING_TEST),
        ("tests/test_b.py", KILLING_TEST),
        ("sub/setup.cfg", b"[coverage:run]\nsigterm = true\n"),
        ("sub/tests/test_c.py", KILLING_TEST),
    ]);
    let run = |args: &[&str]| {
        let mut all = vec!["check", "--output-format", "json"];
        all.extend_from_slice(args);
        let out = covdoctor(&all, dir.path());
        (out.status.code(), rules_found(&out))
    };
    let patch = "patch-unsupported:pyproject.toml".to_string();
    let kill = |file: &str| format!("sigkill-loses-coverage:{file}");

    // One Python file: its findings and the project's configuration finding.
    assert_eq!(
        run(&["tests/test_a.py"]),
        (Some(1), vec![patch.clone(), kill("tests/test_a.py")])
    );
    // Two: the configuration finding still comes once.
    assert_eq!(
        run(&["tests/test_a.py", "tests/test_b.py", "README.md"]),
        (
            Some(1),
            vec![
                patch.clone(),
                kill("tests/test_a.py"),
                kill("tests/test_b.py")
            ]
        )
    );
    // A file covdoctor does not read: nothing to say.
    assert_eq!(run(&["README.md"]), (Some(0), vec![]));
    // A configuration file, or the file the versions come from: everything.
    let everything = (
        Some(1),
        vec![
            patch.clone(),
            kill("tests/test_a.py"),
            kill("tests/test_b.py"),
        ],
    );
    assert_eq!(run(&["pyproject.toml"]), everything);
    assert_eq!(run(&["requirements-test.txt"]), everything);
    // A file of a nested project belongs to that project only; it has no
    // pinned versions, so no patch finding.
    assert_eq!(
        run(&["sub/tests/test_c.py"]),
        (Some(1), vec![kill("sub/tests/test_c.py")])
    );
    // A directory inside the project: its files and the project's
    // configuration findings.
    assert_eq!(
        run(&["tests"]),
        (
            Some(1),
            vec![patch, kill("tests/test_a.py"), kill("tests/test_b.py")]
        )
    );
}

/// The same scenario (pytest-cov 7, no `patch = ["subprocess"]`, a Python
/// child stopped gracefully) gets the same verdict however the suite is run:
/// addopts with pinned requirements, a tox env, a GitHub Actions job, a
/// GitLab CI job, a nox session, a Makefile target, hatch, pdm or pixi, with
/// pinned, unpinned or open-ended requirements. Each finding names its run.
#[test]
fn the_same_scenario_gets_the_same_verdict_in_every_run_form() {
    let forms = [
        "fires-pytest-cov-7-without-patch",
        "fires-tox-unpinned",
        "fires-tox-native-pyproject",
        "fires-tox-legacy-ini-string",
        "fires-github-actions-job",
        "fires-gitlab-ci-job",
        "fires-nox-session",
        "fires-makefile-target",
        "fires-hatch-env-script",
        "fires-pdm-script",
        "fires-pixi-task",
    ];
    for form in forms {
        let dir = common::repo()
            .join("fixtures/subprocess-patch-missing")
            .join(form);
        let out = covdoctor(&["check", "--output-format", "json"], &dir);
        assert_eq!(out.status.code(), Some(1), "{form}: {}", stderr(&out));
        let document: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let findings = document["findings"].as_array().unwrap();
        let rules: Vec<&str> = findings
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["subprocess-patch-missing"], "{form}");
        let runs = findings[0]["runs"].as_array().unwrap();
        assert!(!runs.is_empty(), "{form}: the finding names no run");
        // The version it found is what a fresh install gets today.
        assert!(
            findings[0]["message"]
                .as_str()
                .unwrap()
                .contains("pytest-cov 7.1.0"),
            "{form}: {}",
            findings[0]["message"]
        );
    }
}

/// `covdoctor runs --output-format json`: each run with its kind, versions
/// and where they come from, pytest arguments and measurement.
#[test]
fn runs_lists_each_run_as_json() {
    let dir =
        common::repo().join("fixtures/subprocess-patch-missing/fires-tox-factors-and-substitution");
    let out = covdoctor(&["runs", "--output-format", "json"], &dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document["version"], 1);
    let runs = document["projects"][0]["runs"].as_array().unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "local `pytest`",
            "tox env `py311-cov`",
            "tox env `py311-nocov`",
            "tox env `py312-cov`",
            "tox env `py312-nocov`"
        ]
    );
    let cov = &runs[1];
    assert_eq!(cov["kind"], "tox");
    assert_eq!(cov["measures"], true);
    assert_eq!(cov["pytest_cov"]["version"], "7.1.0");
    assert_eq!(cov["pytest_cov"]["path"], "tox.ini");
    assert_eq!(
        cov["pytest_args"],
        serde_json::json!(["--cov", "--cov-report="])
    );
    assert_eq!(runs[2]["measures"], false);
    // The text form says the same.
    let text = stdout(&covdoctor(&["runs"], &dir));
    assert!(text.contains("tox env `py312-cov` (tox.ini:2)"), "{text}");
}

/// A label past column 65535 (minified or generated code) is given as
/// `path:line:col`, never handed to miette, which cannot place it (D1); the
/// line is not printed in full either.
#[test]
fn labels_on_very_long_lines_are_positions() {
    let long = "1+".repeat(40_000);
    let broken = format!("x = {long}1 oops\n\nimport subprocess\n");
    let killing = format!(
        "import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py']); y = {long}1; p.kill()\n"
    );
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("long.py", broken.as_bytes()),
        ("tests/test_a.py", killing.as_bytes()),
    ]);
    // `long.py` holds no process code: its syntax error is a warning.
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (text, errors) = (stdout(&out), stderr(&out));
    assert!(errors.contains("long.py:1:"), "{errors}");
    assert!(text.contains("tests/test_a.py:4:"), "{text}");
    assert!(text.contains("sigkill-loses-coverage"), "{text}");
    assert!(text.len() + errors.len() < 5_000, "{text}{errors}");
}

/// covdoctor with a deadline: a hang is a failure, not a stuck test.
fn covdoctor_within(args: &[&str], cwd: &Path, secs: u64) -> Output {
    common::covdoctor_within(args, cwd, secs)
        .unwrap_or_else(|| panic!("covdoctor {args:?} did not finish within {secs} s"))
}

/// A FIFO where a file is expected is refused before it is opened (D2), and
/// a `.gitignore` linked to `/dev/zero` is not read without end (D3): both
/// are input errors naming the file, and the rest is still checked.
#[cfg(unix)]
#[test]
fn special_files_are_refused_not_read() {
    let files: &[(&str, &[u8])] = &[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_a.py", KILLING_TEST),
    ];
    let dir = project(files);
    let fifo = dir.path().join(".gitignore");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let out = covdoctor_within(&["check", "--output-format", "json"], dir.path(), 30);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("sigkill-loses-coverage"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("not a regular file"),
        "{}",
        stdout(&out)
    );

    let dir = project(files);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join(".gitignore")).unwrap();
    let out = covdoctor_within(&["check", "--output-format", "json"], dir.path(), 30);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("not a regular file"),
        "{}",
        stdout(&out)
    );

    // A FIFO named like a config file is refused the same way.
    let dir = project(&files[1..]);
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("setup.cfg"))
        .status()
        .unwrap();
    assert!(made.success());
    let out = covdoctor_within(&["check", "--output-format", "json"], dir.path(), 30);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// A byte order mark makes tomllib and configparser reject the file, so it
/// is an input error here too (D10).
#[test]
fn a_byte_order_mark_in_a_config_file_is_an_input_error() {
    for name in ["pyproject.toml", "setup.cfg", "tox.ini", ".coveragerc"] {
        let text: &[u8] = if name.ends_with(".toml") {
            b"\xef\xbb\xbf[tool.coverage.run]\nsigterm = true\n"
        } else if name == ".coveragerc" {
            b"\xef\xbb\xbf[run]\nsigterm = true\n"
        } else {
            b"\xef\xbb\xbf[coverage:run]\nsigterm = true\n"
        };
        let dir = project(&[(name, text), ("tests/test_a.py", KILLING_TEST)]);
        let out = covdoctor(&["check"], dir.path());
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("byte order mark"),
            "{name}: {}",
            stderr(&out)
        );
    }
}

/// A covdoctor.toml that is not valid TOML is an input error, not silently
/// replaced by pyproject.toml's `[tool.covdoctor]` (D11).
#[test]
fn an_invalid_covdoctor_toml_is_an_input_error() {
    let dir = project(&[
        ("covdoctor.toml", b"select = [\n"),
        (
            "pyproject.toml",
            b"[tool.coverage.run]\nsigterm = true\n\n[tool.covdoctor]\nignore = [\"sigkill-loses-coverage\"]\n",
        ),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("covdoctor.toml"), "{}", stderr(&out));
    // pyproject.toml's settings, which covdoctor.toml overrides, are not used.
    assert!(
        stdout(&out).contains("sigkill-loses-coverage"),
        "{}",
        stdout(&out)
    );
}

/// A file with an input error is never edited and gets no fix (D4, D6);
/// fixes in the files that parse are still applied, as ruff does (D5).
#[test]
fn fix_skips_files_with_input_errors_and_applies_the_rest() {
    let broken: &[u8] = b"import subprocess, sys  # covdoctor: ignore[sigterm-not-handled]\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.kill()\n    if (\n";
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_broken.py", broken),
        ("tests/test_ok.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    let text = stdout(&out);
    assert!(
        text.contains("\"fix_withheld\": \"tests/test_broken.py has an input error\""),
        "{text}"
    );
    let out = covdoctor(&["check", "--fix", "--unsafe-fixes"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert_eq!(
        std::fs::read(dir.path().join("tests/test_broken.py")).unwrap(),
        broken,
        "the broken file is untouched"
    );
    let fixed = std::fs::read_to_string(dir.path().join("tests/test_ok.py")).unwrap();
    assert!(fixed.contains("p.terminate()"), "{fixed}");
}

/// Values coverage.py cannot convert stop it (`ConfigError`), so they are
/// located input errors, and no fix rewrites them (D14).
#[test]
fn coverage_options_of_the_wrong_type_are_input_errors() {
    for (text, said) in [
        (
            &b"[tool.coverage.run]\nsigterm = \"yes\"\n"[..],
            "couldn't convert to a boolean: 'yes'",
        ),
        (
            b"[tool.coverage.run]\npatch = \"subprocess\"\n",
            "is not a list: 'subprocess'",
        ),
        (
            b"[tool.coverage]\nrun = 1\n",
            "[tool.coverage.run] must be a table",
        ),
    ] {
        let dir = project(&[("pyproject.toml", text), ("tests/test_a.py", KILLING_TEST)]);
        let out = covdoctor(&["check", "--output-format", "json"], dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        assert!(stdout(&out).contains(said), "{}", stdout(&out));
        let out = covdoctor(&["check", "--fix"], dir.path());
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert_eq!(
            std::fs::read(dir.path().join("pyproject.toml")).unwrap(),
            text
        );
    }
}

/// Two fixes of one INI section are planned together: renaming a bare
/// `[run]` to `[coverage:run]` is the whole repair, not followed by a second
/// `[coverage:run]` for `sigterm` (D8).
#[test]
fn fixes_of_one_ini_section_do_not_clash() {
    let terminating: &[u8] = b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 's.py'])\n    p.terminate()\n    p.wait()\n";
    let dir = project(&[
        (
            "tox.ini",
            b"[coverage:paths]\nsource =\n    src\n[run]\nsigterm = true\n",
        ),
        ("tests/test_a.py", terminating),
    ]);
    let out = covdoctor(&["check", "--fix"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("tox.ini")).unwrap(),
        "[coverage:paths]\nsource =\n    src\n[coverage:run]\nsigterm = true\n"
    );
    let again = covdoctor(&["check"], dir.path());
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
}

/// `--cov-config` pointing outside the project: the finding stays, but no
/// fix writes there (D16).
#[test]
fn fix_never_writes_outside_the_project() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    let proj = dir.path().join("proj");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(proj.join("tests")).unwrap();
    std::fs::write(outside.join("cov.rc"), "[run]\nbranch = true\n").unwrap();
    std::fs::write(
        proj.join("pyproject.toml"),
        "[tool.pytest.ini_options]\naddopts = \"--cov --cov-config=../outside/cov.rc\"\n",
    )
    .unwrap();
    std::fs::write(
        proj.join("tests/test_a.py"),
        "import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 's.py'])\n    p.terminate()\n    p.wait()\n",
    )
    .unwrap();
    let out = covdoctor(&["check", "--output-format", "json"], &proj);
    assert!(
        stdout(&out).contains("sigterm-not-handled"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("outside the project"),
        "{}",
        stdout(&out)
    );
    covdoctor(&["check", "--fix"], &proj);
    assert_eq!(
        std::fs::read_to_string(outside.join("cov.rc")).unwrap(),
        "[run]\nbranch = true\n"
    );
}

/// A lock file that does not parse, or a requirements file that cannot be
/// read, is an input error rather than passed over (D13).
#[cfg(unix)]
#[test]
fn broken_version_sources_are_input_errors() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("uv.lock", b"[[package]\nname = \"coverage\"\n"),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let made = std::process::Command::new("mkfifo")
        .arg(dir.path().join("requirements-test.txt"))
        .status()
        .unwrap();
    assert!(made.success());
    let out = covdoctor_within(&["check", "--output-format", "json"], dir.path(), 30);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(text.contains("uv.lock"), "{text}");
    assert!(text.contains("requirements-test.txt"), "{text}");
    assert!(text.contains("sigkill-loses-coverage"), "{text}");
}

/// A file with old Mac line endings (a lone `\r`): positions count its lines
/// as Python does, and no edit, which finds lines by `\n`, is made in it (D17).
#[test]
fn lone_carriage_returns_are_line_breaks_and_block_edits() {
    let text: &[u8] = b"import subprocess, sys\r\rdef test_x():\r    p = subprocess.Popen([sys.executable, \"s.py\"], env={\"A\": \"1\"})\r    p.terminate()\r    p.wait()\r";
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_a.py", text),
    ]);
    let out = covdoctor(&["check", "--output-format", "concise"], dir.path());
    assert!(
        stdout(&out).contains("tests/test_a.py:4:9: env-drops-coverage"),
        "{}",
        stdout(&out)
    );
    covdoctor(&["check", "--fix", "--unsafe-fixes"], dir.path());
    assert_eq!(
        std::fs::read(dir.path().join("tests/test_a.py")).unwrap(),
        text
    );
}

/// `kill -9` at any moment of a `--fix` leaves every file either as it was
/// or as the fix writes it, never torn.
#[cfg(unix)]
#[test]
fn a_killed_fix_leaves_every_file_old_or_new() {
    let mut files: Vec<(String, Vec<u8>)> = vec![(
        "pyproject.toml".to_string(),
        b"[tool.pytest.ini_options]\naddopts = \"--cov\"\n[tool.coverage.run]\nbranch = true\n"
            .to_vec(),
    )];
    for i in 0..40 {
        files.push((
            format!("tests/test_{i}.py"),
            format!(
                "import subprocess, sys\n\ndef test_{i}():\n    p = subprocess.Popen([sys.executable, 's.py'])\n    p.kill()\n    p.wait()\n"
            )
            .into_bytes(),
        ));
    }
    let as_refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    // What a complete fix writes.
    let full = project(&as_refs);
    covdoctor(&["check", "--fix", "--unsafe-fixes"], full.path());
    let fixed: Vec<Vec<u8>> = files
        .iter()
        .map(|(n, _)| std::fs::read(full.path().join(n)).unwrap())
        .collect();
    assert_ne!(fixed[1], files[1].1, "the fix changes the test files");
    for round in 0..12u64 {
        let dir = project(&as_refs);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_covdoctor"))
            .args(["check", "--fix", "--unsafe-fixes"])
            .current_dir(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5 + round * 15));
        let _ = child.kill();
        let _ = child.wait();
        for (i, (name, before)) in files.iter().enumerate() {
            let now = std::fs::read(dir.path().join(name)).unwrap();
            assert!(
                now == *before || now == fixed[i],
                "round {round}: {name} is neither the old nor the fixed text"
            );
        }
    }
}

/// `strict = true` in the settings makes a warning an input error, as
/// `--strict` does; a `strict` that is no boolean is an input error itself.
#[test]
fn strict_in_the_settings() {
    let broken: (&str, &[u8]) = (
        "tests/test_broken.py",
        b"def broken(:\n    pass\n\nimport subprocess\n",
    );
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.coverage.run]\nsigterm = true\n[tool.covdoctor]\nstrict = false\n",
        ),
        broken,
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let dir = project(&[
        (
            "pyproject.toml",
            b"[tool.coverage.run]\nsigterm = true\n[tool.covdoctor]\nstrict = true\n",
        ),
        broken,
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("input-error"), "{}", stderr(&out));
    let dir = project(&[
        ("pyproject.toml", b"[tool.covdoctor]\nstrict = \"yes\"\n"),
        ("tests/test_a.py", KILLING_TEST),
    ]);
    let out = covdoctor(&["check", "--output-format", "concise"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pyproject.toml:2:10: input-error `strict` must be true or false"),
        "{}",
        stderr(&out)
    );
}

/// `--show-files` lists what the check reads: the Python files, the
/// coverage/pytest configuration and the files that declare runs; not
/// excluded directories, not other files.
#[test]
fn show_files_lists_what_the_check_reads() {
    let dir = common::project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tox.ini", b"[testenv]\ncommands = pytest --cov\n"),
        ("app/__init__.py", b""),
        ("tests/test_a.py", b"def test_a():\n    pass\n"),
        ("tests/data.json", b"{}\n"),
        (".venv/lib/site.py", b"import subprocess\n"),
    ]);
    let out = common::covdoctor(&["check", "--show-files", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let listed: Vec<String> = common::stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(
        listed,
        [
            "app/__init__.py",
            "pyproject.toml",
            "tests/test_a.py",
            "tox.ini"
        ]
    );
}

/// `--show-settings` shows what `[tool.covdoctor]` and the command line
/// resolve to: the rules that run, the exclusions, the versions.
#[test]
fn show_settings_resolves_the_file_and_the_command_line() {
    let dir = common::project(&[(
        "pyproject.toml",
        b"[tool.covdoctor]\nignore = [\"unused-suppression\"]\nextend-exclude = [\"scratch\"]\npython-launchers = [\"tests.helpers.run_py\"]\ncoverage-version = \"7.9.2\"\n",
    )]);
    let out = common::covdoctor(
        &[
            "check",
            "--show-settings",
            "--ignore",
            "pool-terminated",
            "--pytest-cov-version",
            "6.3.0",
            ".",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in\n{text}"))
            .to_string()
    };
    assert!(line("settings file").contains("pyproject.toml"), "{text}");
    let rules = line("rules");
    assert!(rules.contains("\"sigkill-loses-coverage\""), "{rules}");
    assert!(!rules.contains("unused-suppression"), "{rules}");
    assert!(!rules.contains("pool-terminated"), "{rules}");
    assert!(line("exclude").ends_with(", \"scratch\"]"), "{text}");
    assert_eq!(
        line("python-launchers"),
        "python-launchers = [\"tests.helpers.run_py\"]"
    );
    assert_eq!(
        line("pytest-cov-version"),
        "pytest-cov-version = \"6.3.0\" (command line)"
    );
    assert_eq!(line("coverage-version"), "coverage-version = \"7.9.2\"");
}

/// `--config` takes a settings file instead of the project's, and
/// `KEY = VALUE` settings on top; a value that is neither is a usage error,
/// a bad setting a located input error.
#[test]
fn config_file_and_overrides() {
    let dir = common::project(&[
        (
            "pyproject.toml",
            b"[tool.covdoctor]\nignore = [\"pool-terminated\"]\n",
        ),
        (
            "ci/covdoctor.toml",
            b"ignore = [\"env-drops-coverage\"]\nstrict = true\n",
        ),
        ("tests/test_a.py", b"def test_a():\n    pass\n"),
    ]);
    let rules = |args: &[&str]| {
        let out = common::covdoctor(
            &[&["check", "--show-settings"], args, &["."]].concat(),
            dir.path(),
        );
        (
            out.status.code(),
            common::stdout(&out),
            common::stderr(&out),
        )
    };
    // The file replaces the project's settings.
    let (code, text, err) = rules(&["--config", "ci/covdoctor.toml"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(text.contains("settings file = covdoctor.toml"), "{text}");
    assert!(text.contains("\"pool-terminated\""), "{text}");
    assert!(!text.contains("\"env-drops-coverage\""), "{text}");
    assert!(text.contains("strict = true"), "{text}");
    // An override on top of the project's file.
    let (code, text, err) = rules(&["--config", "python-launchers = [\"tests.h.run\"]"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        text.contains("python-launchers = [\"tests.h.run\"]"),
        "{text}"
    );
    assert!(!text.contains("\"pool-terminated\""), "{text}");
    // Neither a file nor a setting.
    let (code, _, err) = rules(&["--config", "missing.toml"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("neither a settings file nor a `KEY = VALUE` setting"),
        "{err}"
    );
    // A setting covdoctor does not know: an input error at `--config`.
    let (code, _, err) = rules(&["--config", "strictt = true"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--config"), "{err}");
    assert!(err.contains("did you mean `strict`?"), "{err}");
}

/// `covdoctor config`: the file coverage.py reads and why the others lost,
/// each setting with its line, the options it ignores, the pytest
/// arguments; the same as JSON.
#[test]
fn config_shows_what_each_run_reads_and_why() {
    let dir = common::project(&[
        (
            "pyproject.toml",
            b"[tool.pytest.ini_options]\naddopts = \"--cov=app\"\n\n[tool.coverage.run]\nbranch = true\n",
        ),
        (
            "setup.cfg",
            b"[metadata]\nname = x\n\n[coverage:run]\nsigterm = true\nsigterms = true\n\n[run]\nparallel = true\n",
        ),
        ("tests/test_a.py", b"def test_a():\n    pass\n"),
    ]);
    let out = common::covdoctor(&["config", "."], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    let text = common::stdout(&out);
    for expected in [
        "coverage.py reads setup.cfg",
        "setup.cfg: read: the first file that sets a coverage option; its [run] (line 8) is never read here",
        "pyproject.toml: not read: setup.cfg counts first",
        "[run] sigterm = true  setup.cfg:5",
        "ignored: [run] sigterms (setup.cfg:6): coverage.py does not recognise it",
        "pytest: --cov=app (pyproject.toml:2)",
    ] {
        assert!(text.contains(expected), "missing `{expected}` in\n{text}");
    }
    assert!(
        !text.contains("branch"),
        "pyproject.toml's settings are not read:\n{text}"
    );

    let out = common::covdoctor(&["config", "--output-format", "json", "."], dir.path());
    let doc: serde_json::Value = serde_json::from_str(&common::stdout(&out)).unwrap();
    let run = &doc["projects"][0]["runs"][0];
    assert_eq!(run["file"], "setup.cfg");
    assert_eq!(run["settings"][0]["option"], "sigterm");
    assert_eq!(run["settings"][0]["line"], 5);
    assert_eq!(run["candidates"][1]["outcome"], "not read");
    assert_eq!(run["ignored"][0]["option"], "sigterms");
    // `--run` keeps only the runs whose name holds the text.
    let out = common::covdoctor(&["config", "--run", "tox", "."], dir.path());
    assert!(
        !common::stdout(&out).contains("local"),
        "{}",
        common::stdout(&out)
    );
}

/// `covdoctor doctor` as a user runs it, in a clean shell with `vars`.
fn doctor(args: &[&str], cwd: &std::path::Path, vars: &[(&str, &str)]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_covdoctor"))
        .arg("doctor")
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", "/nonexistent")
        .env("NO_COLOR", "1")
        .envs(vars.iter().copied())
        .output()
        .expect("run covdoctor")
}

#[test]
fn doctor_finds_the_environment_and_exits_with_the_verdict() {
    let repo = common::repo();
    let case = repo.join("fixtures/subprocess-hook-missing/fires-pytest-cov-6-without-its-pth");
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&case, tmp.path());
    common::lay_out_environment(&case, tmp.path());
    // The project's .venv, found without being named.
    let out = doctor(&[], tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("environment    .venv (.venv in the project)"),
        "{text}"
    );
    assert!(text.contains("pytest-cov     6.3.0"), "{text}");
    assert!(text.contains("subprocess-hook-missing"), "{text}");
    // The machine formats carry the findings only.
    let out = doctor(&["--output-format", "json"], tmp.path(), &[]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["subprocess-hook-missing"], "{doc}");
    assert_eq!(
        doctor(&["--exit-zero", "-q"], tmp.path(), &[])
            .status
            .code(),
        Some(0)
    );
    // `$VIRTUAL_ENV` and `--python` name other environments: the good one.
    let good = repo.join("fixtures/subprocess-hook-missing/ok-pytest-cov-6-with-its-pth");
    let other = tempfile::tempdir().unwrap();
    let (_, venv) = common::lay_out_environment(&good, other.path());
    let project = tempfile::tempdir().unwrap();
    common::copy_dir(&case, project.path());
    let venv_text = venv.to_string_lossy().into_owned();
    let out = doctor(&[], project.path(), &[("VIRTUAL_ENV", &venv_text)]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("($VIRTUAL_ENV)"), "{}", stdout(&out));
    let out = doctor(&["--python", &venv_text, "-q"], project.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // Nothing to inspect is a usage error.
    let out = doctor(&[], project.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("no Python environment found"),
        "{}",
        stderr(&out)
    );
    let out = doctor(&["--python", "/nonexistent/python"], project.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn doctor_reads_the_shell_it_runs_in() {
    let repo = common::repo();
    let case = repo.join("fixtures/leaked-coverage-variable/ok-pytest-addopts-other-options");
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&case, tmp.path());
    common::lay_out_environment(&case, tmp.path());
    assert_eq!(doctor(&["-q"], tmp.path(), &[]).status.code(), Some(0));
    let out = doctor(
        &["--output-format", "concise", "-q"],
        tmp.path(),
        &[
            ("PYTEST_ADDOPTS", "--no-cov"),
            ("COVERAGE_PROCESS_CONFIG", "e30="),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("`COVERAGE_PROCESS_CONFIG` is set in the shell"),
        "{text}"
    );
    assert!(
        text.contains("`PYTEST_ADDOPTS` in the shell turns coverage off"),
        "{text}"
    );
}

#[test]
fn config_takes_the_coverage_version_from_the_environment() {
    let repo = common::repo();
    // A project with `[run] patch`, tested in an environment with coverage
    // 7.9.2 (older than `patch`), then 7.17.5.
    let project = repo.join("fixtures/leaked-coverage-variable/fires-coverage-rcfile");
    for (environment, ignored) in [
        ("subprocess-hook-missing/ok-pytest-cov-6-with-its-pth", true),
        (
            "subprocess-hook-missing/ok-coverage-7-13-with-its-pth",
            false,
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        common::copy_dir(&project, tmp.path());
        common::lay_out_environment(&repo.join("fixtures").join(environment), tmp.path());
        let out = covdoctor(&["config"], tmp.path());
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(
            text.contains(
                "ignored: [run] patch (pyproject.toml:9): needs coverage.py 7.10; coverage 7.9.2 (from the environment in .venv)"
            ),
            ignored,
            "{environment}:\n{text}"
        );
    }
}

#[test]
fn doctor_with_an_unreadable_project_configuration_exits_2() {
    let repo = common::repo();
    let case = repo.join("fixtures/subprocess-hook-missing/ok-pytest-cov-6-with-its-pth");
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&case, tmp.path());
    common::lay_out_environment(&case, tmp.path());
    // Whether the tests measure children, and how, is read from it.
    std::fs::write(
        tmp.path().join("pyproject.toml"),
        "[tool.pytest.ini_options\n",
    )
    .unwrap();
    let out = doctor(&["-q"], tmp.path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("pyproject.toml"), "{}", stderr(&out));
}
