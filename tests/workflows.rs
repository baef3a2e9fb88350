//! covdoctor's own GitHub workflows and its action (`action.yml`): they
//! pass zizmor (from PyPI, pinned, offline audits), covdoctor's runs
//! reader reads them without a problem, and the README shows the action's
//! workflow as `.github/workflows/covdoctor.yml` runs it.

mod common;

use std::path::Path;
use std::process::Command;

const ZIZMOR: &str = "zizmor==1.32.0";

/// Runs zizmor from a venv made once per test run (the tests run in
/// parallel: two of them making the same venv at once would race).
fn zizmor(inputs: &[&str], cwd: &Path) -> std::process::Output {
    static VENV: std::sync::OnceLock<Result<std::path::PathBuf, String>> =
        std::sync::OnceLock::new();
    let venv = VENV
        .get_or_init(|| {
            common::venv(
                &Path::new(env!("CARGO_TARGET_TMPDIR")).join("zizmor-venv"),
                &[ZIZMOR],
            )
        })
        .as_ref()
        .expect("a venv with zizmor");
    Command::new(venv.join("bin/zizmor"))
        .args(["--offline", "--no-progress"])
        .args(inputs)
        .current_dir(cwd)
        .output()
        .expect("run zizmor")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn workflows_pass_zizmor() {
    let out = zizmor(&[".github/workflows", "action.yml"], &common::repo());
    assert!(
        out.status.success(),
        "zizmor found problems:\n{}",
        text(&out)
    );
}

/// The README's workflow snippet, whole, with this repository's action
/// named as a local one (`./`: the snippet's `OWNER/covdoctor@COMMIT` is
/// for the reader to fill in).
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let section = readme
        .split("## GitHub Action")
        .nth(1)
        .expect("the section");
    let block = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("a yaml block");
    let block = block
        .lines()
        .map(|l| {
            if l.contains("OWNER/covdoctor@COMMIT") {
                "      - uses: ./ # zizmor: ignore[self-repository]".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    format!("name: covdoctor\non:\n  pull_request:\n{block}\n")
}

/// The snippet passes zizmor and covdoctor's runs reader, as a workflow of
/// a project beside the action.
#[test]
fn readme_snippet_passes_zizmor_and_the_runs_reader() {
    let snippet = readme_snippet();
    assert!(snippet.contains("- uses: ./"), "{snippet}");
    let dir = common::project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        ("tests/test_a.py", b"def test_a():\n    pass\n"),
    ]);
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(workflows.join("covdoctor.yml"), &snippet).unwrap();
    std::fs::copy(
        common::repo().join("action.yml"),
        dir.path().join("action.yml"),
    )
    .unwrap();
    let out = zizmor(&[".github/workflows", "action.yml"], dir.path());
    assert!(
        out.status.success(),
        "zizmor on the README's snippet:\n{}\n{snippet}",
        text(&out)
    );
    let out = common::covdoctor(&["runs", "."], dir.path());
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(common::stderr(&out).is_empty(), "{}", common::stderr(&out));
}

#[test]
fn covdoctor_reads_its_own_workflows() {
    let out = common::covdoctor(&["runs", "."], &common::repo());
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("release.yml"), "{err}");
    assert!(!err.contains("covdoctor.yml"), "{err}");
    // The release workflow runs no tests: no run comes from it.
    assert!(
        !common::stdout(&out).contains("release.yml"),
        "{}",
        common::stdout(&out)
    );
}

/// The README's workflow snippet is the steps of
/// `.github/workflows/covdoctor.yml` from `with:` on, after a `uses:` that
/// names this repository instead of `./`.
#[test]
fn readme_shows_the_action_as_the_workflow_runs_it() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let workflow =
        std::fs::read_to_string(common::repo().join(".github/workflows/covdoctor.yml")).unwrap();
    let checkout = workflow
        .lines()
        .find(|l| l.contains("uses: actions/checkout@"))
        .expect("a checkout step");
    assert!(
        readme.contains(checkout.trim()),
        "README lacks `{}`",
        checkout.trim()
    );
    let action = readme
        .lines()
        .find(|l| l.contains("/covdoctor@"))
        .expect("the README's `uses:` of the action");
    assert!(action.trim_start().starts_with("- uses:"), "{action}");
    for key in ["output-format", "sarif-file", "args", "version"] {
        assert!(
            std::fs::read_to_string(common::repo().join("action.yml"))
                .unwrap()
                .contains(&format!("  {key}:")),
            "action.yml lacks the input `{key}` the README documents"
        );
        assert!(readme.contains(&format!("`{key}`")), "README lacks `{key}`");
    }
}
