//! The binary, end to end on the fixtures and on temporary projects: exit
//! codes, output formats, bad input.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn covdoctor(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_covdoctor"))
        .args(args)
        .current_dir(cwd)
        .env_remove("COVERAGE_RCFILE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run covdoctor")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

const KILLING_TEST: &[u8] = b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.kill()\n";

#[test]
fn seed_server_reports_the_four_problems_of_the_post() {
    let out = covdoctor(
        &["check", "fixtures/seed-server", "--output-format", "json"],
        &common::repo(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let findings: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
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
            ("cov-config-not-passed".into(), conftest.clone(), 19), // cwd=working_directory
            ("env-drops-coverage".into(), conftest.clone(), 23),    // env=get_command_env()
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
    assert_eq!(applicability, vec!["safe", "unsafe", "unsafe", "safe"]);
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
    let out = covdoctor(&["check"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
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
        ("pyproject.toml", b""),
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
    let findings: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let paths: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["tests/test_real.py"]);
}

#[test]
fn nested_projects_use_their_own_configuration() {
    let dir = project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_a.py", b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n"),
        ("sub/pyproject.toml", b"[tool.coverage.run]\nbranch = true\n"),
        ("sub/tests/test_b.py", b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.terminate()\n"),
    ]);
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    let findings: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let got: Vec<(&str, &str)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["path"].as_str().unwrap()))
        .collect();
    // The root project sets sigterm; the nested one does not.
    assert_eq!(got, vec![("sigterm-not-handled", "sub/tests/test_b.py")]);
}

#[test]
fn import_cycles_and_pathological_aliasing_terminate() {
    let mut aliasing = String::from("import subprocess, sys\nx = [sys.executable, 'a.py']\n");
    for _ in 0..300 {
        aliasing.push_str("x = x\n");
    }
    aliasing.push_str("p = subprocess.Popen(x)\np.kill()\n");
    let dir = project(&[
        ("pyproject.toml", b""),
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
