//! The output formats, as the binary prints them: snapshots of `concise`,
//! `json` and `github`; SARIF validated against the SARIF 2.1.0 schema;
//! `--output-file`, `--statistics`, `--quiet`; the exit code never depends
//! on the format.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};

use common::{covdoctor, project, stderr, stdout};

/// The seed project, checked from the repository's root.
fn seed(format: &str) -> Output {
    covdoctor(
        &["check", "fixtures/seed-server", "--output-format", format],
        &common::repo(),
    )
}

/// A project with one finding and one file covdoctor cannot parse, whose
/// broken part starts a process: an input error.
fn broken_project() -> tempfile::TempDir {
    with_broken(b"def broken(:\n    subprocess.call(['python', 'x.py'])\n")
}

/// The same with a broken part that holds no process code: a warning.
fn harmless_project() -> tempfile::TempDir {
    // `subprocess` in a statement of its own: the file is read (it could
    // hold a launch), and the broken part holds none.
    with_broken(b"def broken(:\n    pass\n\nimport subprocess\n")
}

fn with_broken(broken: &[u8]) -> tempfile::TempDir {
    project(&[
        ("pyproject.toml", b"[tool.coverage.run]\nsigterm = true\n"),
        (
            "tests/test_kill.py",
            b"import subprocess, sys\n\ndef test_x():\n    p = subprocess.Popen([sys.executable, 'srv.py'])\n    p.kill()\n",
        ),
        ("tests/test_broken.py", broken),
    ])
}

/// The tool's version changes with every release; snapshots do not.
fn without_version(text: &str) -> String {
    text.replace(env!("CARGO_PKG_VERSION"), "[VERSION]")
}

#[test]
fn concise() {
    let out = seed("concise");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn json() {
    let out = seed("json");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(without_version(&stdout(&out)));
}

#[test]
fn json_v1_is_an_alias_of_json() {
    assert_eq!(stdout(&seed("json-v1")), stdout(&seed("json")));
}

#[test]
fn github() {
    let out = seed("github");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn exit_code_does_not_depend_on_the_format() {
    let broken = broken_project();
    let harmless = harmless_project();
    for format in [
        "full",
        "concise",
        "grouped",
        "json",
        "json-lines",
        "sarif",
        "github",
        "gitlab",
        "junit",
    ] {
        assert_eq!(seed(format).status.code(), Some(1), "{format}");
        let out = covdoctor(&["check", "--output-format", format], broken.path());
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
        let out = covdoctor(&["check", "--output-format", format], harmless.path());
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        let out = covdoctor(
            &["check", "--strict", "--output-format", format],
            harmless.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{format}: {}", stderr(&out));
    }
}

/// A problem that cannot change a verdict is a warning in every format,
/// still located.
#[test]
fn input_warnings_in_every_format() {
    let dir = harmless_project();
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document["errors"][0]["path"], "tests/test_broken.py");
    assert_eq!(document["errors"][0]["severity"], "warning");

    let out = covdoctor(&["check", "--output-format", "concise"], dir.path());
    assert!(
        stderr(&out).starts_with("tests/test_broken.py:1:12: input-warning syntax error"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).ends_with("1 input warning\n"),
        "{}",
        stdout(&out)
    );

    let out = covdoctor(&["check"], dir.path());
    assert!(stderr(&out).contains("input-warning"), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("changes no finding"),
        "{}",
        stderr(&out)
    );

    let out = covdoctor(&["check", "--output-format", "github"], dir.path());
    assert!(
        stdout(&out).contains(
            "::warning title=covdoctor (input warning),file=tests/test_broken.py,line=1,"
        ),
        "{}",
        stdout(&out)
    );

    let out = covdoctor(&["check", "--output-format", "sarif"], dir.path());
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["level"],
        "warning"
    );
    validate_sarif(&log);
}

/// Input problems travel inside the machine formats, located, and still
/// reach a person on stderr.
#[test]
fn input_errors_in_every_format() {
    let dir = broken_project();
    let out = covdoctor(&["check", "--output-format", "json"], dir.path());
    let document: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document["findings"][0]["rule"], "sigkill-loses-coverage");
    assert_eq!(document["errors"][0]["path"], "tests/test_broken.py");
    assert_eq!(document["errors"][0]["line"], 1);
    assert_eq!(document["errors"][0]["severity"], "error");
    assert!(
        stderr(&out).contains("tests/test_broken.py:1:"),
        "{}",
        stderr(&out)
    );

    let out = covdoctor(&["check", "--output-format", "concise"], dir.path());
    assert!(
        stderr(&out).starts_with("tests/test_broken.py:1:"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).starts_with("tests/test_kill.py:5:5: sigkill-loses-coverage "));

    let out = covdoctor(&["check", "--output-format", "github"], dir.path());
    assert!(
        stdout(&out)
            .contains("::error title=covdoctor (input error),file=tests/test_broken.py,line=1,"),
        "{}",
        stdout(&out)
    );

    let out = covdoctor(&["check", "--output-format", "sarif"], dir.path());
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "tests/test_broken.py"
    );
    validate_sarif(&log);
}

/// The schema `serde-sarif` ships (the OASIS SARIF 2.1.0 schema), found
/// through cargo so the test reads the version in Cargo.lock.
fn sarif_schema() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(common::repo())
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", stderr(&out));
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let manifest = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "serde-sarif")
        .expect("serde-sarif is a dependency")["manifest_path"]
        .as_str()
        .unwrap()
        .to_string();
    let path = PathBuf::from(manifest).with_file_name("src/schema.json");
    let mut text = std::fs::read_to_string(&path).unwrap();
    // The published schema's pattern for `language` (of a run and of a
    // tool component) has a stray `]` that ECMA-262 reads as a literal and
    // Rust's regex engines reject, so the validator refuses the whole
    // schema. covdoctor never writes `language`; the pattern is replaced by
    // the one intended (two letters, optionally `-` and two more), and
    // only that one.
    let erratum = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(erratum).count(), 2, "the schema changed");
    text = text.replace(erratum, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        schema["$id"],
        "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
    );
    schema
}

fn validate_sarif(log: &serde_json::Value) {
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_validates_and_describes_every_rule() {
    let out = seed("sarif");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let log: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    validate_sarif(&log);
    // The validator does reject what the schema forbids.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        serde_json::json!(0);
    broken["runs"][0]["results"][1]["message"] = serde_json::json!("not an object");
    let schema = sarif_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    assert_eq!(validator.iter_errors(&broken).count(), 2);

    // What GitHub code scanning needs beyond the schema.
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let names: Vec<&str> = covdoctor::rules::ALL.iter().map(|r| r.name).collect();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, names);
    for rule in rules {
        assert!(
            !rule["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .is_empty()
        );
        let help = rule["help"]["markdown"].as_str().unwrap();
        assert!(help.contains("## Why is this bad?"), "{help}");
    }
    let results = run["results"].as_array().unwrap();
    let got: Vec<(String, String, u64)> = results
        .iter()
        .map(|r| {
            let location = &r["locations"][0]["physicalLocation"];
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], r["ruleId"]);
            (
                r["ruleId"].as_str().unwrap().to_string(),
                location["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                location["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    let conftest = "fixtures/seed-server/tests/conftest.py".to_string();
    assert_eq!(
        got,
        vec![
            ("env-drops-coverage".into(), conftest.clone(), 17),
            ("cov-config-not-passed".into(), conftest.clone(), 19),
            ("sigkill-loses-coverage".into(), conftest, 27),
            (
                "sigterm-not-handled".into(),
                "fixtures/seed-server/tests/test_shutdown.py".into(),
                18
            ),
        ]
    );
    // Labels in other files are related locations (pyproject.toml here).
    let cov_config = results
        .iter()
        .find(|r| r["ruleId"] == "cov-config-not-passed")
        .unwrap();
    let related: Vec<&str> = cov_config["relatedLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(
        related.contains(&"fixtures/seed-server/pyproject.toml"),
        "{related:?}"
    );
}

#[test]
fn output_file_gets_what_stdout_would() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("reports/covdoctor.json");
    let out = covdoctor(
        &[
            "check",
            "fixtures/seed-server",
            "--output-format",
            "json",
            "--output-file",
            file.to_str().unwrap(),
        ],
        &common::repo(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        stdout(&seed("json"))
    );

    // A file that cannot be written is a usage error.
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, "").unwrap();
    let out = covdoctor(
        &[
            "check",
            "fixtures/seed-server",
            "-o",
            blocker.join("out.txt").to_str().unwrap(),
        ],
        &common::repo(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
}

#[test]
fn statistics_count_per_rule() {
    let out = covdoctor(
        &["check", "fixtures/sigkill-loses-coverage", "--statistics"],
        &common::repo(),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let first = text.lines().next().unwrap();
    let fires = std::fs::read_dir(common::repo().join("fixtures/sigkill-loses-coverage"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("fires-")
        })
        .count();
    let count: usize = first.split_whitespace().next().unwrap().parse().unwrap();
    // Each fires- case has at least one kill; some have several.
    assert!(count >= fires, "{text}");
    assert!(first.contains("sigkill-loses-coverage"), "{text}");
    assert!(
        !text.contains("-->"),
        "statistics replace the findings: {text}"
    );

    let out = covdoctor(
        &[
            "check",
            "fixtures/seed-server",
            "--statistics",
            "--output-format",
            "json",
        ],
        &common::repo(),
    );
    let counts: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let counts = counts.as_array().unwrap();
    assert_eq!(counts.len(), 4);
    for c in counts {
        assert_eq!(c["count"], 1, "{c}");
    }
}

#[test]
fn quiet_prints_only_findings() {
    let loud = stdout(&seed("concise"));
    let out = covdoctor(
        &[
            "check",
            "fixtures/seed-server",
            "--output-format",
            "concise",
            "-q",
        ],
        &common::repo(),
    );
    assert_eq!(out.status.code(), Some(1));
    let quiet = stdout(&out);
    assert_eq!(quiet.lines().count(), 4, "{quiet}");
    assert!(loud.starts_with(&quiet));
    assert!(
        loud.lines()
            .last()
            .unwrap()
            .starts_with("covdoctor: 4 findings")
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyproject.toml"), "[project]\nname = 'x'\n").unwrap();
    let out = covdoctor(&["check", "-q"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let run = |args: &[&str], no_color: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_covdoctor"));
        command
            .args(["check", "fixtures/seed-server"])
            .args(args)
            .current_dir(common::repo())
            .env_remove("NO_COLOR");
        if no_color {
            command.env("NO_COLOR", "1");
        }
        stdout(&command.output().unwrap())
    };
    let escape = "\u{1b}[";
    assert!(run(&["--color", "always"], true).contains(escape));
    assert!(!run(&["--color", "never"], false).contains(escape));
    // Not a terminal: `auto` means no colour.
    assert!(!run(&[], false).contains(escape));
}

#[test]
fn grouped() {
    let out = seed("grouped");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

/// Each line of `json-lines` is one finding of the `json` document.
#[test]
fn json_lines_are_the_findings_of_json() {
    let lines = seed("json-lines");
    assert_eq!(lines.status.code(), Some(1), "{}", stderr(&lines));
    let document: serde_json::Value = serde_json::from_str(&stdout(&seed("json"))).unwrap();
    let findings: Vec<serde_json::Value> = stdout(&lines)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert!(!findings.is_empty());
    assert_eq!(&serde_json::Value::Array(findings), &document["findings"]);
}

/// A GitLab code quality report: an array of issues with the fields GitLab
/// requires, unique fingerprints that do not change between runs, and the
/// input problems too.
#[test]
fn gitlab_code_quality() {
    let dir = broken_project();
    let run = || covdoctor(&["check", ".", "--output-format", "gitlab"], dir.path());
    let out = run();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let issues = report.as_array().expect("an array");
    let mut fingerprints = std::collections::BTreeSet::new();
    for issue in issues {
        for field in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[field].is_string(), "{field} in {issue}");
        }
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap())
        );
        assert!(issue["location"]["path"].is_string());
        assert!(issue["location"]["lines"]["begin"].as_u64().unwrap() >= 1);
        assert!(fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_string()));
    }
    let checks: Vec<&str> = issues
        .iter()
        .map(|i| i["check_name"].as_str().unwrap())
        .collect();
    assert!(checks.contains(&"sigkill-loses-coverage"), "{checks:?}");
    assert!(checks.contains(&"input-error"), "{checks:?}");
    assert_eq!(
        stdout(&run()),
        stdout(&out),
        "fingerprints change between runs"
    );
}

/// Colour in the line formats: `--color always`, or `FORCE_COLOR` when
/// the output is not a terminal; `NO_COLOR` wins over `FORCE_COLOR`, and
/// `--color never` over both. A pipe gets none by default.
#[test]
fn colour_follows_the_flag_and_the_environment() {
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_covdoctor"));
        cmd.args(["check", "fixtures/seed-server"])
            .args(args)
            .current_dir(common::repo())
            .env_remove("NO_COLOR")
            .env_remove("FORCE_COLOR")
            .env_remove("COVDOCTOR_OUTPUT_FORMAT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        stdout(&cmd.output().expect("run covdoctor")).contains('\u{1b}')
    };
    for format in ["concise", "grouped", "full"] {
        let f = ["--output-format", format];
        assert!(!run(&f, &[]), "{format}: colour in a pipe");
        assert!(
            run(&[&f[..], &["--color", "always"]].concat(), &[]),
            "{format}"
        );
        assert!(run(&f, &[("FORCE_COLOR", "1")]), "{format}: FORCE_COLOR");
        assert!(
            !run(&f, &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]),
            "{format}: NO_COLOR"
        );
        assert!(
            !run(
                &[&f[..], &["--color", "never"]].concat(),
                &[("FORCE_COLOR", "1")]
            ),
            "{format}: --color never"
        );
    }
}

/// SARIF carries each fix as the `json` format describes it: the same
/// replacements (region and new text) in the same files.
#[test]
fn sarif_fixes_are_the_json_fixes() {
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&seed("sarif"))).unwrap();
    let json: serde_json::Value = serde_json::from_str(&stdout(&seed("json"))).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let findings = json["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    let mut fixes = 0;
    for (result, finding) in results.iter().zip(findings) {
        assert_eq!(result["ruleId"], finding["rule"]);
        let Some(fix) = finding["fix"].as_object() else {
            assert!(result.get("fixes").is_none());
            continue;
        };
        fixes += 1;
        let sarif_fix = &result["fixes"][0];
        assert_eq!(sarif_fix["description"]["text"], fix["message"]);
        assert_eq!(
            sarif_fix["properties"]["applicability"],
            fix["applicability"]
        );
        let mut replacements: Vec<(String, u64, u64, u64, u64, String)> = Vec::new();
        for change in sarif_fix["artifactChanges"].as_array().unwrap() {
            let uri = change["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string();
            for r in change["replacements"].as_array().unwrap() {
                let region = &r["deletedRegion"];
                replacements.push((
                    uri.clone(),
                    region["startLine"].as_u64().unwrap(),
                    region["startColumn"].as_u64().unwrap(),
                    region["endLine"].as_u64().unwrap(),
                    region["endColumn"].as_u64().unwrap(),
                    r["insertedContent"]["text"].as_str().unwrap().to_string(),
                ));
            }
        }
        let mut edits: Vec<(String, u64, u64, u64, u64, String)> = fix["edits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["path"].as_str().unwrap().to_string(),
                    e["line"].as_u64().unwrap(),
                    e["column"].as_u64().unwrap(),
                    e["end_line"].as_u64().unwrap(),
                    e["end_column"].as_u64().unwrap(),
                    e["content"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        replacements.sort();
        edits.sort();
        assert_eq!(replacements, edits);
    }
    assert!(fixes > 0, "the seed project offers fixes");
}

#[test]
fn junit() {
    let out = seed("junit");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(stdout(&out));
}

/// The JUnit report is well-formed XML (read back with quick-xml) with a
/// test case per finding and per input problem, an input error as an
/// `<error>`, and counts that add up.
#[test]
fn junit_reads_back_with_findings_and_problems() {
    use quick_xml::events::Event;
    let dir = broken_project();
    let out = covdoctor(&["check", ".", "--output-format", "junit"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let xml = stdout(&out);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut cases, mut failures, mut errors) = (0, 0, 0);
    let mut declared = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "testsuites" => {
                    let tests = e.try_get_attribute("tests").unwrap().unwrap();
                    declared = Some(tests.value.to_string());
                }
                "testcase" => cases += 1,
                "failure" => failures += 1,
                "error" => errors += 1,
                _ => {}
            },
            _ => {}
        }
    }
    assert_eq!(declared, Some(cases.to_string()));
    assert!(failures >= 1, "{xml}");
    assert!(errors >= 1, "{xml}");
    assert_eq!(cases, failures + errors, "{xml}");
}
