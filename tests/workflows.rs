//! covdoctor's own GitHub workflows: the release workflow passes zizmor
//! (from PyPI, pinned, offline audits) and covdoctor's runs reader reads it
//! without a problem.

mod common;

use std::path::Path;
use std::process::Command;

const ZIZMOR: &str = "zizmor==1.32.0";

#[test]
fn workflows_pass_zizmor() {
    let venv = common::venv(
        &Path::new(env!("CARGO_TARGET_TMPDIR")).join("zizmor-venv"),
        &[ZIZMOR],
    )
    .expect("a venv with zizmor");
    let out = Command::new(venv.join("bin/zizmor"))
        .args(["--offline", "--no-progress", ".github/workflows"])
        .current_dir(common::repo())
        .output()
        .expect("run zizmor");
    assert!(
        out.status.success(),
        "zizmor found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn covdoctor_reads_its_own_workflows() {
    let out = common::covdoctor(&["runs", "."], &common::repo());
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("release.yml"), "{err}");
    // The release workflow runs no tests: no run comes from it.
    assert!(
        !common::stdout(&out).contains("release.yml"),
        "{}",
        common::stdout(&out)
    );
}
