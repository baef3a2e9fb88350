//! `pool-terminated`: see rules/pool-terminated.md.

use super::{Context, Rule};
use crate::analyze::Signal;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fix::Fix;
use crate::fix::python::{self, CloseJoinAt};

pub static RULE: Rule = Rule {
    claims_loss: true,
    name: "pool-terminated",
    summary: "a multiprocessing pool is terminated (by `with` or `terminate()`) before its workers have saved their data",
    // A race, lost in most runs.
    severity: Severity::Warning,
    scope: super::Scope::Child,
    doc: include_str!("../../rules/pool-terminated.md"),
    check: super::Check::Project(check),
};

const HELP: &str = "call `pool.close()` and then `pool.join()` before the pool is terminated: the workers then finish their tasks, exit normally and save their data";

fn check(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    // Workers coverage does not measure at all are fork-worker-unmeasured's.
    let measured = |launch: &crate::analyze::Launch| {
        launch.child.is_python()
            && !super::fork_worker_unmeasured::unmeasured_fork(cx, launch)
            && super::fork_worker_unmeasured::runs_measured_code(cx, launch)
    };
    for launch in &cx.python.launches {
        let Some(exit) = &launch.pool_exit else {
            continue;
        };
        if exit.joined || !measured(launch) {
            continue;
        }
        if !seen.insert((exit.location.file.path.clone(), exit.location.span)) {
            continue;
        }
        let fix = match (&exit.name, &exit.insert) {
            (Some(name), Some((at, indent))) => cx
                .python
                .files
                .get(&exit.location.file.path)
                .and_then(|file| {
                    python::close_and_join(file, name, CloseJoinAt::BlockEnd { at: *at, indent })
                })
                .map(|edits| {
                    Fix::unsafe_(
                        format!("close and join `{name}` at the end of the `with` block"),
                        edits,
                    )
                }),
            _ => None,
        };
        out.push(
            RULE.diagnostic(
                exit.location.clone(),
                "the block's exit calls terminate()",
                "the `with` block of a multiprocessing pool ends with `terminate()`, which stops the workers before they save their coverage data (lost in most runs)",
            )
            // The pool call is the `with` item itself; only helper calls
            // below it are worth a label.
            .labels(super::via_labels(&launch.via, "the pool is started here"))
            .help(HELP)
            .fix(fix),
        );
    }
    for stop in &cx.python.stops {
        let launch = &cx.python.launches[stop.launch];
        if !launch.is_pool() || stop.signal != Signal::Term || stop.fallback || !measured(launch) {
            continue;
        }
        let fix = stop.statement.as_ref().and_then(|statement| {
            let at = stop.via.last().unwrap_or(&stop.location);
            let file = cx.python.files.get(&at.file.path)?;
            let edits =
                python::close_and_join(file, &statement.receiver, CloseJoinAt::Before(statement))?;
            Some(Fix::unsafe_(
                format!(
                    "close and join `{}` before terminating it",
                    statement.receiver
                ),
                edits,
            ))
        });
        out.push(
            RULE.diagnostic(
                stop.location.clone(),
                "terminates the pool's workers",
                format!(
                    "`{}` stops a multiprocessing pool's workers before they save their coverage data (lost in most runs)",
                    stop.call
                ),
            )
            .labels(super::via_labels(&stop.via, "the pool is terminated here"))
            .labels(super::stop_launch_labels(stop, launch))
            .help(HELP)
            .fix(fix),
        );
    }
    out
}
