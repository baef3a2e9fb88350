//! covdoctor on real projects: pinned sdists from PyPI (sha256-checked,
//! cached under `target/tmp/real-world/`), with expectations written by
//! reading each project's configuration and tests by hand.
//!
//! - httpie 3.2.4: `setup.cfg` declares `pytest-cov` unpinned in the `dev`
//!   extra (a fresh install gets pytest-cov 7), there is no coverage
//!   configuration, and `tests/test_uploads.py` starts `sys.executable
//!   httpie/__main__.py`: the children run unmeasured.
//! - jupyter_client 8.6.3: the hatch env `cov` installs `pytest-cov`
//!   unpinned and runs `pytest --cov jupyter_client`; pyproject.toml's
//!   `[tool.coverage.run]` has no `patch`, and the tests start `python -m
//!   jupyter_client.kernelspecapp`.
//! - execnet 2.1.1: tox runs `python -m pytest` with neither pytest-cov nor
//!   `coverage run`: it measures nothing, so nothing is reported although
//!   the tests start many Python children.
//! - pytest-xprocess 1.0.2: tox runs `coverage run -m pytest` (children not
//!   measured), but its children start through the plugin's own API and
//!   run `tests/server.py`, which `[coverage:run] include` leaves out:
//!   nothing to report.
//! - pytest 8.3.4: its `coverage` tox envs run `coverage run -m pytest`
//!   with `COVERAGE_PROCESS_START` and install `coverage-enable-subprocess`
//!   through `{env:_PYTEST_TOX_EXTRA_DEP:}` from `set_env`, so the many
//!   pytester children are measured; `.coveragerc` sets no `sigterm` and
//!   no `multiprocessing` concurrency, so `testing/test_terminal.py`'s
//!   `child.kill(15)` of a pexpect pytest and `testing/_py/test_local.py`'s
//!   forked `multiprocessing.Pool` lose data. Its workflow closes a flow
//!   list left of its block, which GitHub reads.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Sdist {
    name: &'static str,
    url: &'static str,
    sha256: &'static str,
}

const HTTPIE: Sdist = Sdist {
    name: "httpie-3.2.4",
    url: "https://files.pythonhosted.org/packages/3e/bb/aefb0abbdbadeb9e8e7f04fb0f1942bc084f4215bf8dc729236153d09e1e/httpie-3.2.4.tar.gz",
    sha256: "302ad436c3dc14fd0d1b19d4572ef8d62b146bcd94b505f3c2521f701e2e7a2a",
};
const JUPYTER_CLIENT: Sdist = Sdist {
    name: "jupyter_client-8.6.3",
    url: "https://files.pythonhosted.org/packages/71/22/bf9f12fdaeae18019a468b68952a60fe6dbab5d67cd2a103cac7659b41ca/jupyter_client-8.6.3.tar.gz",
    sha256: "35b3a0947c4a6e9d589eb97d7d4cd5e90f910ee73101611f01283732bd6d9419",
};
const EXECNET: Sdist = Sdist {
    name: "execnet-2.1.1",
    url: "https://files.pythonhosted.org/packages/bb/ff/b4c0dc78fbe20c3e59c0c7334de0c27eb4001a2b2017999af398bf730817/execnet-2.1.1.tar.gz",
    sha256: "5189b52c6121c24feae288166ab41b32549c7e2348652736540b9e6e7d4e72e3",
};
const XPROCESS: Sdist = Sdist {
    name: "pytest-xprocess-1.0.2",
    url: "https://files.pythonhosted.org/packages/27/6f/e53d349445b4280f6b47bbed87127e994f331c335377d5e72407b376ad46/pytest-xprocess-1.0.2.tar.gz",
    sha256: "15e270637586eabc56755ee5fcc81c48bdb46ba7ef7c0d5b1b64302d080cc60f",
};

const PYTEST: Sdist = Sdist {
    name: "pytest-8.3.4",
    url: "https://files.pythonhosted.org/packages/05/35/30e0d83068951d90a01852cb1cef56e5d8a09d20c7f511634cc2f7e0372a/pytest-8.3.4.tar.gz",
    sha256: "965370d062bce11e73868e0335abac31b4d3de0e82f4007408d242b4f8610761",
};

/// Downloads (once), checks and unpacks an sdist; returns its directory.
/// Python's standard library does the download, the hash and the
/// unpacking (covdoctor has no HTTP client, and needs none).
fn unpacked(sdist: &Sdist) -> PathBuf {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-world");
    let dir = cache.join(sdist.name);
    if dir.join(".covdoctor-ok").is_file() {
        return dir;
    }
    std::fs::create_dir_all(&cache).unwrap();
    let script = r#"
import hashlib, shutil, sys, tarfile, urllib.request
url, sha, dest, name = sys.argv[1:5]
data = urllib.request.urlopen(url, timeout=120).read()
got = hashlib.sha256(data).hexdigest()
if got != sha:
    sys.exit(f"sha256 mismatch for {url}: {got}")
archive = dest + "/" + name + ".tar.gz"
open(archive, "wb").write(data)
shutil.rmtree(dest + "/" + name, ignore_errors=True)
with tarfile.open(archive) as t:
    t.extractall(dest, filter="data")
open(dest + "/" + name + "/.covdoctor-ok", "w").close()
"#;
    let out = Command::new("python3")
        .args(["-c", script, sdist.url, sdist.sha256])
        .arg(&cache)
        .arg(sdist.name)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}: {}",
        sdist.name,
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// `rule:path` of every finding, paths relative to the project. The
/// prefilter must change nothing: the whole outcome, rendered, is the same
/// with every module's calls resolved.
fn findings(dir: &Path) -> Vec<String> {
    let outcome = common::check(dir);
    let without = covdoctor::check(
        &[dir.to_path_buf()],
        &covdoctor::RunOptions {
            no_prefilter: true,
            ..Default::default()
        },
    );
    assert_eq!(
        common::render(&outcome, dir),
        common::render(&without, dir),
        "the prefilter changed the outcome in {}",
        dir.display()
    );
    let mut out: Vec<String> = outcome
        .diagnostics
        .iter()
        .map(|d| {
            let path = &d.primary.location.file.path;
            format!(
                "{}:{}",
                d.rule,
                path.strip_prefix(dir).unwrap_or(path).display()
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn httpie_children_are_lost_under_an_unpinned_pytest_cov() {
    let dir = unpacked(&HTTPIE);
    assert_eq!(
        findings(&dir),
        ["subprocess-patch-missing:httpie/internal/daemons.py"]
    );
    let outcome = common::check(&dir);
    let d = &outcome.diagnostics[0];
    assert!(
        d.message.contains("not pinned in setup.cfg extra `dev`"),
        "{}",
        d.message
    );
    assert!(
        d.labels
            .iter()
            .any(|l| l.location.file.path.ends_with("tests/test_uploads.py")),
        "the test's child is labelled"
    );
}

#[test]
fn jupyter_client_hatch_cov_env_loses_its_children() {
    let dir = unpacked(&JUPYTER_CLIENT);
    // Read by hand: three tests hand a lifecycle of the project's kernel
    // manager to a `ProcessPoolExecutor`, whose workers are forked on Linux
    // and not measured without `concurrency = ["multiprocessing"]`; a
    // fourth such test is `skipif(sys.platform == "linux")`, so it runs only
    // where workers are spawned.
    assert_eq!(
        findings(&dir),
        [
            "fork-worker-unmeasured:tests/test_kernelmanager.py",
            "fork-worker-unmeasured:tests/test_kernelmanager.py",
            "fork-worker-unmeasured:tests/test_multikernelmanager.py",
            "subprocess-patch-missing:pyproject.toml",
        ]
    );
    let outcome = common::check(&dir);
    let patch = outcome
        .diagnostics
        .iter()
        .find(|d| d.rule == "subprocess-patch-missing")
        .unwrap();
    assert!(
        patch
            .runs
            .iter()
            .any(|r| r.starts_with("hatch env `cov` script `test`")),
        "{:?}",
        patch.runs
    );
    let skipped_on_linux = outcome.diagnostics.iter().any(|d| {
        d.primary
            .location
            .file
            .path
            .ends_with("tests/test_multikernelmanager.py")
            && d.primary
                .location
                .file
                .line_col(d.primary.location.span.start)
                .0
                < 200
    });
    assert!(!skipped_on_linux, "the test skipped on Linux is reported");
}

#[test]
fn execnet_measures_nothing_and_gets_no_findings() {
    let dir = unpacked(&EXECNET);
    assert_eq!(findings(&dir), Vec::<String>::new());
    let (projects, _) = covdoctor::list_runs(std::slice::from_ref(&dir), &Default::default());
    let tox: Vec<_> = projects[0]
        .runs
        .iter()
        .filter(|(v, _)| v.run.kind == covdoctor::runs::Kind::Tox)
        .collect();
    // py38, py39, py310, py311, py312, pypy38 run pytest; docs and
    // linting do not.
    assert_eq!(tox.len(), 6);
    assert!(tox.iter().all(|(v, _)| !v.measures));
}

#[test]
fn pytest_xprocess_pytester_children_unmeasured_under_coverage_run() {
    // tox runs `coverage run -m pytest` with no `patch = subprocess`, and
    // tests/test_interruption_clean_up.py starts child pytests with
    // `testdir.runpytest_subprocess()` that load the xprocess plugin (the
    // project's code): unmeasured. Read by hand: the py3x envs run in
    // `tests/` (no coverage configuration there), `release` inherits the
    // commands and runs at the root, where setup.cfg's [coverage:run] is
    // read; one finding per cause.
    let dir = unpacked(&XPROCESS);
    assert_eq!(
        findings(&dir),
        vec![
            "subprocess-patch-missing:setup.cfg".to_string(),
            "subprocess-patch-missing:tests/test_interruption_clean_up.py".to_string(),
        ]
    );
    let (projects, _) = covdoctor::list_runs(std::slice::from_ref(&dir), &Default::default());
    assert!(
        projects[0]
            .runs
            .iter()
            .any(|(v, _)| v.run.name == "tox env `py311`" && v.coverage_run.is_some())
    );
}

#[test]
fn pytest_tox_coverage_envs_measure_children_through_the_hook_package() {
    let dir = unpacked(&PYTEST);
    assert_eq!(
        findings(&dir),
        [
            "fork-worker-unmeasured:testing/_py/test_local.py",
            "sigterm-not-handled:testing/test_terminal.py",
        ]
    );
    let outcome = common::check(&dir);
    assert!(
        outcome.problems.is_empty(),
        "{:?}",
        outcome
            .problems
            .iter()
            .map(|p| &p.message)
            .collect::<Vec<_>>()
    );
}

/// What a Python file not parsed is kept as (its words) holds every
/// identifier the parser finds in it, in every Python file of the pinned
/// projects (the prefilter's soundness on real code).
#[test]
fn the_words_kept_of_every_real_python_file_hold_its_identifiers() {
    let mut checked = 0;
    for sdist in [&HTTPIE, &JUPYTER_CLIENT, &EXECNET, &XPROCESS, &PYTEST] {
        checked += covdoctor::fuzzing::python_words_in_tree(&unpacked(sdist)).unwrap();
    }
    assert!(checked > 300, "{checked}");
}
