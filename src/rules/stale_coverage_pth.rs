//! `stale-coverage-pth`: see rules/stale-coverage-pth.md.

use super::Rule;
use crate::diagnostic::{Diagnostic, Severity};
use crate::doctor::{Inspection, first_word};
use crate::environment::HookKind;

pub static RULE: Rule = Rule {
    claims_loss: false,
    name: "stale-coverage-pth",
    summary: "A coverage `.pth` hook is left in site-packages by a package or a run that is gone",
    severity: Severity::Warning,
    scope: super::Scope::Environment,
    doc: include_str!("../../rules/stale-coverage-pth.md"),
    check: super::Check::Environment(check),
};

fn check(ix: &Inspection<'_>) -> Vec<Diagnostic> {
    let env = ix.env;
    let below = |package: &str, parts: &[u64]| {
        env.version(package)
            .is_some_and(|v| *v < pep440_rs::Version::new(parts.iter().copied()))
    };
    let mut out = Vec::new();
    for hook in &env.hooks {
        let name = hook
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let why = match &hook.kind {
            HookKind::Subcover { pid } => {
                if pid.is_some_and(alive) {
                    // The run that wrote it is still going: it deletes it when it ends.
                    continue;
                }
                let by = match pid {
                    Some(pid) => format!("process {pid}"),
                    None => "a process".to_string(),
                };
                format!(
                    "coverage 7.10 to 7.12 writes `{name}` while a measured run is going and deletes it when the run exits; {by} ended without deleting it (killed, `os._exit`, an `exec`)"
                )
            }
            HookKind::PytestCov if !env.has("pytest-cov") || !below("pytest-cov", &[7]) => {
                format!(
                    "`{name}` belongs to pytest-cov < 7, and {}; with `COV_CORE_SOURCE` set, every Python process prints \"pytest-cov: Failed to setup subprocess coverage\"",
                    installed(ix, "pytest-cov")
                )
            }
            // A hand-made hook outlives the coverage.py it starts; a
            // `sitecustomize.py` does more than that, and is left alone.
            // One whose import is guarded (`try: import coverage`, as
            // coverage-enable-subprocess writes it) does nothing then.
            HookKind::Custom
                if !env.has("coverage")
                    && name.ends_with(".pth")
                    && !hook.text.contains("except") =>
            {
                "it calls `coverage.process_startup()`, and coverage.py is not installed: every Python process of the environment starts with \"Error processing line 1 of ...\" and a traceback".to_string()
            }
            _ => continue,
        };
        out.push(
            RULE.diagnostic(
                first_word(&hook.path),
                "left over: every Python process of this environment runs it",
                format!("`{name}` in {} is a stale coverage hook", ix.env_name()),
            )
            .help(format!(
                "{why}. Delete it: `rm {}`",
                shell_quote(&ix.display(&hook.path))
            )),
        );
    }
    out
}

fn installed(ix: &Inspection<'_>, package: &str) -> String {
    match ix.env.version(package) {
        Some(v) => format!("the environment has {package} {v}"),
        None if ix.env.has(package) => format!("the environment's {package} is another"),
        None => format!("{package} is not installed"),
    }
}

/// The process is running (Linux: `/proc/<pid>`; elsewhere covdoctor cannot
/// tell without running anything, and takes it to be gone).
fn alive(pid: u32) -> bool {
    std::path::Path::new("/proc").join(pid.to_string()).exists()
}

fn shell_quote(text: &str) -> String {
    if text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@".contains(c))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
