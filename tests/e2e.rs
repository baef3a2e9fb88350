//! End-to-end: the real pytest, pytest-cov and coverage.py from PyPI run each
//! scenario, and covdoctor must report a finding exactly when the child
//! process's coverage is lost.
//!
//! Scenarios are the fixtures that can run: `fixtures/seed-server/` and the
//! `fixtures/<rule>/<case>/` projects with an `e2e.toml` naming the child's
//! source file, a `probe` text on a line only the child executes, and the
//! expected outcome per pytest-cov generation (which also says which
//! generations the scenario runs on). A `fires-*` case must lose the child's
//! coverage (or, for a warning that a timeout may lose it, keep it), an `ok-*`
//! case must keep it. A race runs `repeat` times: lost when any run loses
//! the child, measured only when every run (also after the fix) measures
//! it. The virtual environments are built once from pinned
//! versions and cached under `target/tmp/`.
//!
//! A report of every run (generation, measured or lost, findings) is written
//! to `target/tmp/e2e-report.txt` and printed at the end.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Failed, Trial};

/// The pinned tool versions of each generation.
const GENERATIONS: &[(&str, &[&str])] = &[
    (
        "pytest-cov-6",
        &[
            "pytest==9.2.0",
            "pytest-cov==6.3.0",
            "coverage==7.9.2",
            "tox==4.67.15",
            "nox==2026.10.20",
        ],
    ),
    // pytest-cov 6 with a coverage that has `patch` (the mix
    // patch-with-old-pytest-cov warns about).
    (
        "pytest-cov-6-coverage-7-17",
        &[
            "pytest==9.2.0",
            "pytest-cov==6.3.0",
            "coverage==7.17.5",
            "tox==4.67.15",
            "nox==2026.10.20",
        ],
    ),
    (
        "pytest-cov-7",
        &[
            "pytest==9.2.0",
            "pytest-cov==7.1.0",
            "coverage==7.17.5",
            "tox==4.67.15",
            "nox==2026.10.20",
        ],
    ),
    // The newest releases: what a fresh install of an unpinned project
    // gets (bump with `src/config/releases.rs`), and `[run] source`
    // globs (coverage 7.18).
    (
        "pytest-cov-7-coverage-7-18",
        &[
            "pytest==9.2.0",
            "pytest-cov==7.1.0",
            "coverage==7.18.0",
            "tox==4.67.15",
            "nox==2026.10.20",
        ],
    ),
];

/// Reads the combined data file and says which lines of the child ran.
const READ_DATA: &str = r#"
import json, os, sys
from coverage import CoverageData
proj, child, probe, data_dir = sys.argv[1:5]
path = os.path.realpath(os.path.join(proj, child))
with open(path, encoding="utf-8") as f:
    probes = [i for i, line in enumerate(f.read().splitlines(), 1) if probe in line]
executed = []
data_file = os.path.join(data_dir, ".coverage")
if os.path.exists(data_file):
    data = CoverageData(data_file)
    data.read()
    for measured in data.measured_files():
        if os.path.realpath(measured) == path:
            executed = sorted(data.lines(measured) or [])
print(json.dumps({"probes": probes, "executed": executed}))
"#;

struct Scenario {
    name: String,
    dir: PathBuf,
    child: String,
    probe: String,
    expect: Vec<(String, String)>,
    /// How the scenario runs its tests (`command` in e2e.toml): pytest by
    /// default, or the run the fixture declares (`["tox", "-e", "py312"]`,
    /// `["coverage", "run", "-m", "pytest"]`).
    command: Vec<String>,
    /// Where the run writes its data (`data_dir` in e2e.toml, relative to
    /// the project; a tox `change_dir`): the project's root by default.
    data_dir: Option<String>,
    /// How many times the tests run (`repeat` in e2e.toml) for a race: the
    /// child is lost when any run loses it, measured when every run
    /// measures it (also after the fix).
    repeat: usize,
    /// The run leaves parallel data files for the user to combine (`coverage
    /// run` with the subprocess patch, on the command line or in tox.ini).
    /// Under pytest-cov nothing is combined after the run: pytest-cov
    /// combines when the tests end, and a data file written later is lost.
    combine: bool,
}

/// Every fixture with an `e2e.toml`: `fixtures/seed-server/` and the
/// runnable cases under `fixtures/<rule>/`.
fn scenarios() -> Vec<Scenario> {
    let fixtures = common::repo().join("fixtures");
    let mut dirs = vec![fixtures.join("seed-server")];
    for rule in common::subdirs(&fixtures) {
        dirs.extend(
            common::subdirs(&rule)
                .into_iter()
                .filter(|c| c.join("e2e.toml").is_file()),
        );
    }
    dirs.into_iter()
        .map(|dir| {
            let text = std::fs::read_to_string(dir.join("e2e.toml"))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            let doc: toml_edit::DocumentMut = text.parse().expect("valid e2e.toml");
            let expect = doc["expect"]
                .as_table()
                .expect("[expect]")
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_str().expect("a string").to_string()))
                .collect();
            let name = dir
                .strip_prefix(&fixtures)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let command = doc
                .get("command")
                .and_then(|c| c.as_array())
                .map(|a| {
                    a.iter()
                        .map(|v| v.as_str().expect("command words are strings").to_string())
                        .collect()
                })
                .unwrap_or_else(|| {
                    ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
                        .map(String::from)
                        .to_vec()
                });
            let data_dir = doc
                .get("data_dir")
                .and_then(|d| d.as_str())
                .map(str::to_string);
            let repeat = doc
                .get("repeat")
                .and_then(|r| r.as_integer())
                .map_or(1, |r| usize::try_from(r).expect("repeat >= 1"));
            let combine = command
                .windows(2)
                .any(|w| w[0] == "coverage" && w[1] == "run")
                || std::fs::read_to_string(dir.join("tox.ini"))
                    .is_ok_and(|t| t.contains("coverage run"))
                || std::fs::read_to_string(dir.join("noxfile.py")).is_ok_and(|t| {
                    let words: String = t.split_whitespace().collect();
                    words.contains(r#""coverage","run""#)
                });
            Scenario {
                combine,
                repeat,
                data_dir,
                command,
                name,
                child: doc["child"].as_str().expect("child").to_string(),
                probe: doc["probe"].as_str().expect("probe").to_string(),
                expect,
                dir,
            }
        })
        .collect()
}

/// Creates (or reuses) the virtual environment of a generation.
fn venv(name: &str, pins: &[&str]) -> Result<PathBuf, String> {
    common::venv(
        &Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("e2e-venvs")
            .join(name),
        pins,
    )
}

/// A command in a clean environment: no coverage or pytest variables from
/// the outside, the venv first on PATH.
fn python(venv: &Path) -> Command {
    tool(venv, &venv.join("bin/python"))
}

/// A program of the venv (`tox`, `coverage`) in the same clean
/// environment.
fn tool(venv: &Path, program: &Path) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("COV") || key.starts_with("PYTEST") || key == "PYTHONPATH" {
            cmd.env_remove(key.as_ref());
        }
    }
    let path = std::env::var("PATH").unwrap_or_default();
    cmd.env("PATH", format!("{}:{path}", venv.join("bin").display()));
    cmd
}

/// Runs a command with a time limit, returning (success, output).
fn run_limited(mut cmd: Command, limit: Duration) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    loop {
        if let Some(_status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("output");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return (out.status.success(), text);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            return (
                false,
                format!(
                    "timed out after {limit:?}\n{}",
                    String::from_utf8_lossy(&out.stdout)
                ),
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs the project's tests under coverage and says whether the child's
/// probe line was measured.
/// Runs the tests `repeat` times: measured only when every run measures the
/// child (the output is that of the first run that lost it).
fn measure(scenario: &Scenario, venv: &Path, project: &Path) -> Result<(bool, String), Failed> {
    let mut first = None;
    for _ in 0..scenario.repeat {
        let (measured, output) = measure_once(scenario, venv, project)?;
        if !measured {
            return Ok((false, output));
        }
        first.get_or_insert(output);
    }
    Ok((true, first.unwrap_or_default()))
}

fn measure_once(
    scenario: &Scenario,
    venv: &Path,
    project: &Path,
) -> Result<(bool, String), Failed> {
    let data_dir = match &scenario.data_dir {
        Some(d) => project.join(d),
        None => project.to_path_buf(),
    };
    // Data of an earlier run must not count (data files are `.coverage` and
    // `.coverage.<suffix>`; `.coveragerc` and `.coveragerc.toml` are
    // configuration).
    for entry in std::fs::read_dir(&data_dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if (name == ".coverage" || name.starts_with(".coverage.")) && entry.path().is_file() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let mut tests = match scenario.command[0].as_str() {
        "python" => python(venv),
        other => tool(venv, &venv.join("bin").join(other)),
    };
    tests.args(&scenario.command[1..]).current_dir(project);
    // tox builds its environments from PyPI.
    let (ok, pytest_output) = run_limited(tests, Duration::from_secs(300));
    if !ok {
        return Err(format!("{} failed:\n{pytest_output}", scenario.command.join(" ")).into());
    }
    // `coverage run` with the subprocess patch writes parallel data files.
    let parallel = scenario.combine
        && std::fs::read_dir(&data_dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".coverage."));
    if parallel {
        let mut combine = python(venv);
        combine
            .args(["-m", "coverage", "combine", "--append", "--keep", "-q"])
            .current_dir(&data_dir);
        let (ok, out) = run_limited(combine, Duration::from_secs(60));
        if !ok {
            return Err(format!("coverage combine failed:\n{out}").into());
        }
    }
    let mut read = python(venv);
    read.args(["-c", READ_DATA])
        .arg(project)
        .arg(&scenario.child)
        .arg(&scenario.probe)
        .arg(&data_dir)
        .current_dir(project);
    let (ok, data) = run_limited(read, Duration::from_secs(60));
    if !ok {
        return Err(format!("reading coverage data failed:\n{data}").into());
    }
    let data: serde_json::Value =
        serde_json::from_str(data.trim()).map_err(|e| format!("{e}: {data}"))?;
    let probes: Vec<u64> = serde_json::from_value(data["probes"].clone()).unwrap();
    let executed: Vec<u64> = serde_json::from_value(data["executed"].clone()).unwrap();
    if probes.is_empty() {
        return Err(format!("probe `{}` not found in {}", scenario.probe, scenario.child).into());
    }
    Ok((probes.iter().any(|p| executed.contains(p)), pytest_output))
}

/// A copy of the generation's environment with the changes of the
/// scenario's `doctor.toml` (a hook removed, a stale one added): the
/// environment the tests then run in, and the one `covdoctor doctor`
/// inspects.
fn changed_environment(scenario: &Scenario, venv: &Path, tmp: &Path) -> Result<PathBuf, Failed> {
    let copy = tmp.join("venv");
    let status = Command::new("cp")
        .arg("-a")
        .arg(venv)
        .arg(&copy)
        .status()
        .map_err(|e| format!("cp: {e}"))?;
    if !status.success() {
        return Err("copying the environment failed".into());
    }
    let doc = common::doctor_toml(&scenario.dir);
    let site = std::fs::read_dir(copy.join("lib"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .ok_or("no site-packages")?;
    common::change_site_packages(&doc, &site);
    Ok(copy)
}

fn run(scenario: &Scenario, generation: &str, venv: &Path, expect: &str) -> Result<String, Failed> {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join(scenario.dir.file_name().unwrap());
    std::fs::create_dir_all(&project).unwrap();
    common::copy_dir(&scenario.dir, &project);
    let environment = scenario.dir.join("doctor.toml").is_file();
    let changed;
    let venv = if environment {
        changed = changed_environment(scenario, venv, tmp.path())?;
        changed.as_path()
    } else {
        venv
    };

    let (measured, pytest_output) = measure(scenario, venv, &project)?;
    let outcome = if measured { "measured" } else { "lost" };

    let mut result = common::check(&project);
    // The environment's findings count with the project's.
    if environment {
        let report = covdoctor::doctor::doctor(&project, Some(venv), &[], &Default::default());
        if !report.problems.is_empty() {
            return Err(format!("covdoctor doctor input problems: {:?}", report.problems).into());
        }
        result.diagnostics.extend(report.diagnostics);
    }
    if !result.problems.is_empty() {
        return Err(format!("covdoctor input problems: {:?}", result.problems).into());
    }
    // covdoctor must read from the project the versions this generation
    // installs, for every run that measures coverage (a fresh install of
    // what a tox env declares gets the newest releases).
    let pins = GENERATIONS
        .iter()
        .find(|(g, _)| *g == generation)
        .unwrap()
        .1;
    let (projects, _) = covdoctor::list_runs(std::slice::from_ref(&project), &Default::default());
    let measuring: Vec<_> = projects
        .iter()
        .flat_map(|p| &p.runs)
        .filter(|(v, _)| v.measures)
        .map(|(v, _)| v)
        .collect();
    if measuring.is_empty() {
        return Err("covdoctor finds no run that measures coverage".into());
    }
    // pytest-cov only where the run measures with it (`coverage run`
    // does not need it).
    for (package, found) in measuring.iter().flat_map(|v| {
        let mut packages = vec![("coverage", &v.versions.coverage)];
        if v.coverage_run.is_none() {
            packages.push(("pytest-cov", &v.versions.pytest_cov));
        }
        packages
    }) {
        let pinned = pins
            .iter()
            .find_map(|p| p.strip_prefix(&format!("{package}==")))
            .unwrap();
        if found.version.as_ref().map(ToString::to_string).as_deref() != Some(pinned) {
            return Err(format!(
                "the project must declare {package}=={pinned}; covdoctor read {}",
                found.describe(package)
            )
            .into());
        }
    }
    // An error claims the child is lost; a warning of a loss-claiming rule
    // says it may be (lost only when a timeout expires, say): a lost child
    // needs one or the other, a measured child must have no error.
    let claims: Vec<&covdoctor::diagnostic::Diagnostic> = result
        .diagnostics
        .iter()
        .filter(|d| covdoctor::rules::by_name(d.rule).is_some_and(|r| r.claims_loss))
        .collect();
    let errors = claims
        .iter()
        .filter(|d| d.severity == covdoctor::diagnostic::Severity::Error)
        .count();
    let mut rules: Vec<&str> = result.diagnostics.iter().map(|d| d.rule).collect();
    rules.sort();
    rules.dedup();
    let versions: Vec<&str> = pins
        .iter()
        .filter(|p| !p.starts_with("pytest=="))
        .copied()
        .collect();
    let mut line = format!(
        "{:<64} {:<36} {:<9} {:<50}",
        scenario.name,
        versions.join(" "),
        outcome,
        if rules.is_empty() {
            "-".to_string()
        } else {
            rules.join(", ")
        }
    );
    if outcome != expect {
        return Err(format!(
            "expected the child to be {expect}, it was {outcome}\n{pytest_output}"
        )
        .into());
    }
    if (measured && errors > 0) || (!measured && claims.is_empty()) {
        let rendered = common::render(&result, &project);
        return Err(format!(
            "covdoctor must report a finding exactly when the child's coverage is lost; child {outcome}, findings:\n{rendered}"
        )
        .into());
    }
    if !measured && environment {
        // covdoctor does not change environments: the finding says how.
        line.push_str(" not fixable: the environment");
    } else if !measured {
        line.push_str(&after_fix(scenario, venv, &project)?);
    }
    Ok(line)
}

/// Applies every fix (`--fix --unsafe-fixes`) to the project; when nothing
/// is left, the child must now be measured.
fn after_fix(scenario: &Scenario, venv: &Path, project: &Path) -> Result<String, Failed> {
    let run = covdoctor::fix::run(
        &[project.to_path_buf()],
        &covdoctor::RunOptions::default(),
        true,
    );
    if !run.problems.is_empty() {
        return Err(format!("fix problems: {:?}", run.problems).into());
    }
    for (path, change) in &run.changes {
        covdoctor::fix::write::write_change(path, change).map_err(|p| format!("{p:?}"))?;
    }
    let remaining: Vec<&str> = run
        .outcome
        .diagnostics
        .iter()
        .filter(|d| covdoctor::rules::by_name(d.rule).is_some_and(|r| r.claims_loss))
        .map(|d| d.rule)
        .collect();
    if !remaining.is_empty() {
        return Ok(format!(" not fixable: {}", remaining.join(", ")));
    }
    let (measured, output) = measure(scenario, venv, project)?;
    if !measured {
        return Err(format!(
            "after --fix --unsafe-fixes the child is still not measured:\n{output}"
        )
        .into());
    }
    Ok(format!(" fixed: measured ({} fixes)", run.fixed.len()))
}

fn main() {
    let args = Arguments::from_args();
    let report = Arc::new(Mutex::new(Vec::new()));
    // The generations' environments are installed side by side (pip
    // mostly waits on the network and the disk).
    let venvs: Vec<(String, Result<PathBuf, String>)> = std::thread::scope(|scope| {
        let installs: Vec<_> = GENERATIONS
            .iter()
            .map(|(name, pins)| (name.to_string(), scope.spawn(move || venv(name, pins))))
            .collect();
        installs
            .into_iter()
            .map(|(name, install)| {
                let venv = install
                    .join()
                    .unwrap_or_else(|_| Err(format!("installing {name} panicked")));
                (name, venv)
            })
            .collect()
    });
    let mut scenarios = scenarios();
    // The slowest first (tox builds its own environments; a race runs the
    // tests several times), so that no thread is left with one at the end.
    scenarios.sort_by_key(|s| std::cmp::Reverse((s.command[0] == "tox", s.repeat)));
    let scenarios = Arc::new(scenarios);
    let mut trials = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        for (generation, expect) in &scenario.expect {
            let Some((_, venv)) = venvs.iter().find(|(n, _)| n == generation) else {
                panic!("{}: unknown generation {generation}", scenario.name);
            };
            let venv = venv.clone();
            let scenarios = Arc::clone(&scenarios);
            let report = Arc::clone(&report);
            let generation = generation.clone();
            let expect = expect.clone();
            trials.push(Trial::test(
                format!("{}::{generation}", scenario.name),
                move || {
                    let venv = venv.map_err(Failed::from)?;
                    let line = run(&scenarios[i], &generation, &venv, &expect)?;
                    report.lock().unwrap().push(line);
                    Ok(())
                },
            ));
        }
    }
    // The options coverage.py warns about and ignores: covdoctor names
    // exactly those, for the version each generation has.
    for (generation, pins) in GENERATIONS {
        let Some((_, venv)) = venvs.iter().find(|(n, _)| n == generation) else {
            continue;
        };
        let venv = venv.clone();
        let pins: Vec<String> = pins.iter().map(|p| p.to_string()).collect();
        trials.push(Trial::test(
            format!("coverage_options::{generation}"),
            move || {
                let venv = venv.map_err(Failed::from)?;
                unrecognized_options_match(&venv, &pins)
            },
        ));
    }
    // The release table compiled into covdoctor is PyPI's history up to
    // its date: regenerated from PyPI's JSON API by the same script, it
    // must come out the same.
    let venv = venvs.last().map(|(_, v)| v.clone());
    trials.push(Trial::test("releases::table_matches_pypi", move || {
        let venv = venv.ok_or("no venv")?.map_err(Failed::from)?;
        let mut script = python(&venv);
        script
            .arg(common::repo().join("scripts/releases.py"))
            .arg(covdoctor::config::releases::DATE);
        let (ok, out) = run_limited(script, Duration::from_secs(120));
        if !ok {
            return Err(format!("scripts/releases.py failed:\n{out}").into());
        }
        let table = std::fs::read_to_string(common::repo().join("src/config/releases.rs"))
            .map_err(|e| e.to_string())?;
        if out != table {
            return Err(format!(
                "src/config/releases.rs differs from PyPI's history up to {}; regenerate it with scripts/releases.py",
                covdoctor::config::releases::DATE
            )
            .into());
        }
        Ok(())
    }));
    let conclusion = libtest_mimic::run(&args, trials);
    let mut lines = report.lock().unwrap().clone();
    if !lines.is_empty() {
        lines.sort();
        let header = format!(
            "{:<64} {:<36} {:<9} {:<50} after --fix --unsafe-fixes",
            "scenario", "versions", "child", "findings"
        );
        let text = format!("{header}\n{}\n", lines.join("\n"));
        let _ = std::fs::write(
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-report.txt"),
            &text,
        );
        println!("\n{text}");
    }
    conclusion.exit();
}

/// A configuration with misspelt options, an option in the wrong section
/// and options newer than some generations' coverage.py: the options
/// covdoctor reports are exactly those the real coverage.py warns about
/// ("Unrecognized option '[section] name='"), and coverage.py reads none
/// of the settings meant (`sigterm` and `parallel` stay false).
fn unrecognized_options_match(venv: &Path, pins: &[String]) -> Result<(), Failed> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let project = dir.path();
    let write = |name: &str, text: &str| std::fs::write(project.join(name), text);
    write(
        "pyproject.toml",
        "[tool.pytest.ini_options]\naddopts = \"--cov=app\"\n\n\
         [tool.coverage.run]\nsigterms = true\nparalel = true\nbranch = true\n\n\
         [tool.coverage.report]\nsigterm = true\nshow_mising = true\npartial_also = [\"never\"]\n\n\
         [tool.coverage.lcov]\nline_checksums = true\n",
    )
    .map_err(|e| e.to_string())?;
    write("requirements.txt", &format!("{}\n", pins.join("\n"))).map_err(|e| e.to_string())?;
    let mut probe = python(venv);
    probe.current_dir(project).args([
        "-W",
        "always",
        "-c",
        "import coverage; c = coverage.Coverage(); print('read', c.config.sigterm, c.config.parallel)",
    ]);
    let (ok, out) = run_limited(probe, Duration::from_secs(60));
    if !ok {
        return Err(format!("coverage.Coverage() failed:\n{out}").into());
    }
    if !out.contains("read False False") {
        return Err(format!("coverage.py read a misspelt option:\n{out}").into());
    }
    let warned = unrecognized(&out);
    let outcome = covdoctor::check(&[project.to_path_buf()], &Default::default());
    let reported = unrecognized(
        &outcome
            .problems
            .iter()
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
    );
    if warned.is_empty() || warned != reported {
        return Err(format!(
            "coverage.py warns about {warned:?}, covdoctor reports {reported:?}\n{out}"
        )
        .into());
    }
    Ok(())
}

/// The options named in "Unrecognized option '[section] name='" texts.
fn unrecognized(text: &str) -> std::collections::BTreeSet<String> {
    text.split("Unrecognized option '")
        .skip(1)
        .filter_map(|rest| rest.split_once("='").map(|(o, _)| o.to_string()))
        .collect()
}
