//! Python source edits, built from the analysis' facts (spans, indentation,
//! import names) without touching the parser: a graceful stop in place of a
//! `kill()`, an `env=` that carries the coverage variables, and the
//! `import` lines they need. Edits keep the file's indentation and line
//! endings.

use crate::analyze::{EnvArg, FileFacts, StopStatement};

use super::Edit;
use super::config_edit::newline;

/// How a kind of process is stopped gracefully.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Graceful {
    /// `subprocess.Popen`: terminate, wait with a timeout, kill on
    /// `subprocess.TimeoutExpired`.
    Subprocess,
    /// An asyncio process, inside `async def`: the same with
    /// `asyncio.wait_for`.
    Asyncio,
    /// `multiprocessing.Process`: terminate, join with a timeout, kill if
    /// still alive.
    Multiprocessing,
}

/// The local name of a module in a file, and the edit that imports it when
/// the file does not.
fn module_name(file: &FileFacts, module: &str) -> (String, Option<Edit>) {
    match file.imported_modules.get(module) {
        Some(local) => (local.clone(), None),
        None => {
            let nl = newline(&file.source.text);
            let text = &file.source.text;
            // In alphabetical order among the file's `import x` lines, or
            // after its last import.
            let at = file
                .plain_imports
                .iter()
                .find(|(name, _)| name.as_str() > module)
                .map_or(file.import_insert_at, |(_, at)| *at);
            // After a docstring or import with no line break at the end of
            // the file, start a new line first.
            let lead = if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
                nl
            } else {
                ""
            };
            (
                module.to_string(),
                Some(Edit::insert(
                    &file.source.path,
                    at,
                    format!("{lead}import {module}{nl}"),
                )),
            )
        }
    }
}

/// Replaces a `p.kill()` statement with a graceful stop that keeps the kill
/// as a fallback.
pub fn graceful_stop(file: &FileFacts, stop: &StopStatement, style: Graceful) -> Option<Vec<Edit>> {
    if file.has_syntax_errors || file.source.encoding.is_some() || file.source.has_lone_cr() {
        return None;
    }
    let nl = newline(&file.source.text);
    let unit = if stop.indent.contains('\t') {
        "\t"
    } else {
        "    "
    };
    let i = &stop.indent;
    let p = &stop.receiver;
    // A kill written with a signal (`os.kill(p.pid, signal.SIGKILL)`,
    // `os.killpg(...)`, `p.send_signal(signal.SIGKILL)`) is asked first with
    // SIGTERM the same way (a process group stays a process group), and
    // kept as written for the fallback.
    let plain = stop.call == format!("{p}.kill()");
    // Only `module.SIGKILL` becomes `module.SIGTERM` (a bare `SIGKILL` was
    // imported by name, and `SIGTERM` may not be).
    let (ask, fallback) = if plain {
        (format!("{p}.terminate()"), format!("{p}.kill()"))
    } else if stop.call.matches("SIGKILL").count() == 1
        && stop.call.matches(".SIGKILL").count() == 1
    {
        (stop.call.replace(".SIGKILL", ".SIGTERM"), stop.call.clone())
    } else {
        (format!("{p}.terminate()"), stop.call.clone())
    };
    if !plain && (style != Graceful::Subprocess || stop.call.contains('\n')) {
        return None;
    }
    let mut edits = Vec::new();
    let lines: Vec<String> = match style {
        Graceful::Subprocess => {
            let (sp, import) = module_name(file, "subprocess");
            edits.extend(import);
            vec![
                ask,
                format!("{i}try:"),
                format!("{i}{unit}{p}.wait(timeout=5)"),
                format!("{i}except {sp}.TimeoutExpired:"),
                format!("{i}{unit}{fallback}"),
            ]
        }
        Graceful::Asyncio => {
            if !stop.in_async {
                return None;
            }
            let (aio, import) = module_name(file, "asyncio");
            edits.extend(import);
            vec![
                format!("{p}.terminate()"),
                format!("{i}try:"),
                format!("{i}{unit}await {aio}.wait_for({p}.wait(), timeout=5)"),
                format!("{i}except {aio}.TimeoutError:"),
                format!("{i}{unit}{p}.kill()"),
            ]
        }
        Graceful::Multiprocessing => vec![
            format!("{p}.terminate()"),
            format!("{i}{p}.join(timeout=5)"),
            format!("{i}if {p}.is_alive():"),
            format!("{i}{unit}{p}.kill()"),
        ],
    };
    edits.push(Edit::replace(&file.source.path, stop.span, lines.join(nl)));
    Some(edits)
}

/// Adds a bounded wait after a `p.terminate()` (or SIGTERM/SIGINT) statement,
/// so the test does not end before the child has saved its data:
/// `p.wait(timeout=5)`, or `await asyncio.wait_for(p.wait(), timeout=5)` in
/// an `async def`.
pub fn wait_after_stop(
    file: &FileFacts,
    stop: &StopStatement,
    style: Graceful,
) -> Option<Vec<Edit>> {
    if file.has_syntax_errors
        || file.source.encoding.is_some()
        || file.source.has_lone_cr()
        || stop.call.contains('\n')
    {
        return None;
    }
    let nl = newline(&file.source.text);
    let i = &stop.indent;
    let p = &stop.receiver;
    let mut edits = Vec::new();
    let wait = match style {
        Graceful::Subprocess => format!("{p}.wait(timeout=5)"),
        Graceful::Asyncio if stop.in_async => {
            let (aio, import) = module_name(file, "asyncio");
            edits.extend(import);
            format!("await {aio}.wait_for({p}.wait(), timeout=5)")
        }
        _ => return None,
    };
    edits.push(Edit::replace(
        &file.source.path,
        stop.span,
        format!("{}{nl}{i}{wait}", stop.call),
    ));
    Some(edits)
}

/// `pool.close()` and `pool.join()`: at the end of a `with Pool(...) as
/// pool:` block (`at` is the end of its last line, `indent` the block's), or
/// before a `pool.terminate()` statement.
pub fn close_and_join(file: &FileFacts, pool: &str, place: CloseJoinAt<'_>) -> Option<Vec<Edit>> {
    if file.has_syntax_errors || file.source.encoding.is_some() || file.source.has_lone_cr() {
        return None;
    }
    let nl = newline(&file.source.text);
    Some(vec![match place {
        CloseJoinAt::BlockEnd { at, indent } => Edit::insert(
            &file.source.path,
            at,
            format!("{nl}{indent}{pool}.close(){nl}{indent}{pool}.join()"),
        ),
        CloseJoinAt::Before(stop) => {
            if stop.call.contains('\n') {
                return None;
            }
            let i = &stop.indent;
            Edit::replace(
                &file.source.path,
                stop.span,
                format!("{pool}.close(){nl}{i}{pool}.join(){nl}{i}{}", stop.call),
            )
        }
    }])
}

/// Where [`close_and_join`] writes.
pub enum CloseJoinAt<'a> {
    BlockEnd { at: usize, indent: &'a str },
    Before(&'a StopStatement),
}

/// Makes an `env=` expression carry the parent's coverage variables, under
/// its own keys so explicit keys still win:
/// `{**{k: v for k, v in os.environ.items() if k.startswith("COV")}, **env}`.
/// `COV` covers every mechanism: `COV_CORE_*`, `COVERAGE_PROCESS_CONFIG`,
/// `COVERAGE_PROCESS_START`.
pub fn carry_coverage_env(file: &FileFacts, env: &EnvArg) -> Option<Vec<Edit>> {
    if file.has_syntax_errors || file.source.encoding.is_some() || file.source.has_lone_cr() {
        return None;
    }
    let (os, import) = module_name(file, "os");
    let span = env.location.span;
    let expr = &file.source.text[span.range()];
    let coverage = format!("**{{k: v for k, v in {os}.environ.items() if k.startswith(\"COV\")}}");
    let mut edits: Vec<Edit> = import.into_iter().collect();
    if env.is_dict_display {
        // `{"PATH": ...}` becomes `{**{...COV...}, "PATH": ...}`.
        let empty = expr[1..expr.len() - 1].trim().is_empty();
        let content = if empty {
            coverage
        } else {
            format!("{coverage}, ")
        };
        edits.push(Edit::insert(&file.source.path, span.start + 1, content));
    } else {
        edits.push(Edit::replace(
            &file.source.path,
            span,
            format!("{{{coverage}, **{expr}}}"),
        ));
    }
    Some(edits)
}
