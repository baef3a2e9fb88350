//! Step 3 of the pipeline: analyse the project's Python sources into facts
//! the rules can judge: which processes are started ([`Launch`]), with what
//! environment and working directory, whether the child is Python, and how
//! each one is stopped ([`Stop`]).
//!
//! The facts here are plain data. Everything that touches the Python parser
//! lives in [`python`]; the rules never see a syntax tree.

pub mod command;
pub mod env;
pub mod python;

use std::path::PathBuf;

use crate::source::Location;

pub use command::{Child, Command, Token};

pub use env::{Carried, VarSet};
use std::collections::HashMap;

/// Everything the Python analysis found in one project.
#[derive(Debug, Default, Clone)]
pub struct PythonFacts {
    pub launches: Vec<Launch>,
    pub stops: Vec<Stop>,
    /// A call to `coverage.process_startup()` in the project (the manual
    /// subprocess recipe, usually in `sitecustomize.py`).
    pub process_startup: Option<Location>,
    /// Python files that do not parse completely: the analysis used what
    /// parsed.
    pub syntax_errors: Vec<SyntaxError>,
    /// The project functions (and classes) through which a Python child
    /// can be started or a child stopped, directly or through others: what
    /// a part of a file that does not parse could call.
    pub launcher_names: std::collections::BTreeSet<String>,
    /// What fixes need to know about each Python file that was parsed, by
    /// path.
    pub files: HashMap<PathBuf, FileFacts>,
    /// Every Python file of the project that could be read.
    pub paths: std::collections::HashSet<PathBuf>,
    /// Imports of `pytest_cov.embed`, removed in pytest-cov 7.
    pub embed_imports: Vec<EmbedImport>,
    /// `multiprocessing.set_start_method(...)` in the project: the method
    /// and where it is set.
    pub start_method: Option<(String, Location)>,
    /// Project modules that children start in and that end the process
    /// with `os._exit()`: where the call is, by module path.
    pub os_exits: HashMap<PathBuf, Location>,
}

impl PythonFacts {
    /// The facts without the launches (and their stops) and stops made in
    /// files `runs` says a run does not run; `None` when nothing is left
    /// out.
    pub fn only_run(&self, runs: &dyn Fn(&std::path::Path) -> bool) -> Option<PythonFacts> {
        let kept: Vec<bool> = self
            .launches
            .iter()
            .map(|l| runs(&l.location.file.path))
            .collect();
        let stops_kept =
            |s: &Stop| kept.get(s.launch) == Some(&true) && runs(&s.location.file.path);
        if kept.iter().all(|k| *k) && self.stops.iter().all(stops_kept) {
            return None;
        }
        let mut index = Vec::with_capacity(kept.len());
        let mut next = 0;
        for k in &kept {
            index.push(next);
            next += usize::from(*k);
        }
        let mut out = self.clone();
        out.launches = self
            .launches
            .iter()
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|(l, _)| l.clone())
            .collect();
        out.stops = self
            .stops
            .iter()
            .filter(|s| stops_kept(s))
            .map(|s| Stop {
                launch: index[s.launch],
                ..s.clone()
            })
            .collect();
        Some(out)
    }
}

/// A syntax error in a Python file.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub location: Location,
    pub message: String,
    /// The part of the file the error leaves in doubt (the top-level
    /// statement that holds it).
    pub unparsed: crate::source::Span,
    /// What the file's imports bind: the imported path and the local name.
    pub imports: std::sync::Arc<Vec<(String, String)>>,
    /// The file was too large to parse at all (not a syntax error).
    pub too_large: bool,
}

/// An import of `pytest_cov.embed` (pytest-cov < 7's `cleanup_on_sigterm`
/// and friends).
#[derive(Debug, Clone)]
pub struct EmbedImport {
    /// The import statement.
    pub location: Location,
    /// Inside a `try` that catches `ImportError` (or a parent class): on
    /// pytest-cov 7 the block does nothing instead of crashing.
    pub guarded: bool,
    /// Whole lines to delete to remove the block: the guarding `try`
    /// statement when it holds nothing else, or the import and the
    /// statements calling what it imports. `None` when removing them would
    /// leave a block empty.
    pub removal: Option<Vec<crate::source::Span>>,
}

/// What a fix needs to know about a Python file.
#[derive(Debug, Clone)]
pub struct FileFacts {
    pub source: crate::source::Source,
    /// The file has syntax errors: no fix touches it.
    pub has_syntax_errors: bool,
    /// Modules imported at the top level, by module name: the local name
    /// (`subprocess` → `sp` for `import subprocess as sp`).
    pub imported_modules: HashMap<String, String>,
    /// Where a new `import` line goes: the start of the line after the last
    /// top-level import (or after the docstring and leading comments).
    pub import_insert_at: usize,
    /// Top-level `import x` statements of one module: the module and the
    /// start of the statement's line, in order.
    pub plain_imports: Vec<(String, usize)>,
    /// Every comment (from the tokenizer, so never text inside a string).
    pub comments: Vec<crate::source::Span>,
}

/// How a launch API starts its child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaunchKind {
    /// `subprocess.*`, `asyncio.create_subprocess_*`, `pexpect.spawn`: a new
    /// process.
    Subprocess,
    /// `os.exec*e`: the current process is replaced.
    Exec,
    /// `os.spawn*e`: a new process, waited for or not.
    Spawn,
    /// `multiprocessing.Process`: a Python child running a function.
    Multiprocessing,
}

/// A call that starts a process.
#[derive(Debug, Clone)]
pub struct Launch {
    /// Where the user acts: the launch call itself, or the outermost known
    /// call of the project helper that makes it.
    pub location: Location,
    /// The calls from `location` down to the launch call, when it is made
    /// inside helpers: each helper call, then the launch call (last).
    pub via: Vec<Location>,
    /// The `timeout=` of `subprocess.run`/`call`/`check_call`/
    /// `check_output`, which kill the child with SIGKILL when it expires.
    pub timeout: Option<Location>,
    /// For `multiprocessing`: the start method its context names
    /// (`get_context("spawn")`), when it names one.
    pub start_method: Option<String>,
    /// A test or fixture reaches the launch: it is in test code, or a chain
    /// of known calls leads to it from there (not from a script's
    /// `if __name__ == "__main__":` block, which runs only in a child).
    pub reached_from_tests: bool,
    /// As `reached_from_tests`, through tests that also run on Linux (not
    /// `skipif(sys.platform == "linux")`): where fork is the default.
    pub reached_on_linux: bool,
    /// The call sits in `with pytest.raises(subprocess.TimeoutExpired)`:
    /// the timeout is meant to fire.
    pub expects_timeout: bool,
    /// The API, as written after resolving imports (`subprocess.Popen`).
    pub api: String,
    pub kind: LaunchKind,
    pub child: Child,
    /// The `env=` argument, when it is given and not `None`.
    pub env: Option<EnvArg>,
    /// The `cwd=` argument, when it is given and not `None`.
    pub cwd: Option<CwdArg>,
    /// A `multiprocessing.Pool(...)` opened by a `with` statement, whose
    /// exit calls `terminate()`.
    pub pool_exit: Option<PoolExit>,
    /// For a pool: the files of the functions its workers run (`initializer`,
    /// and what `map`, `imap`, `apply_async`, `submit`... hand them in the
    /// scope that holds the pool, with the project functions and classes
    /// those call directly), when every one is known; `None` when any is
    /// unknown or none is seen.
    pub pool_tasks: Option<Vec<PathBuf>>,
}

impl Launch {
    /// A pool of worker processes (`multiprocessing.Pool`,
    /// `ProcessPoolExecutor`), not one child.
    pub fn is_pool(&self) -> bool {
        self.api.ends_with(".Pool") || self.api.ends_with("ProcessPoolExecutor")
    }
}

/// `with multiprocessing.Pool(...) as pool:`: the block's exit terminates
/// the workers.
#[derive(Debug, Clone)]
pub struct PoolExit {
    /// The `with` item (the pool call and its `as` name).
    pub location: Location,
    /// The `as` name.
    pub name: Option<String>,
    /// The block calls `close()` and `join()` on the pool on its normal
    /// path, so the workers end before the exit terminates them.
    pub joined: bool,
    /// Where a `close()` + `join()` can go: the end of the block's last
    /// statement and the block's indentation (none when the block ends
    /// with `return`, `raise`, `break` or `continue`, or shares a line).
    pub insert: Option<(usize, String)>,
}

/// An explicit environment mapping for a child.
#[derive(Debug, Clone)]
pub struct EnvArg {
    /// The argument's value expression.
    pub location: Location,
    /// The expression is a dict display (`{...}`, not a comprehension).
    pub is_dict_display: bool,
    pub carried: Carried,
    /// Where the mapping was built, when that is elsewhere (a helper's
    /// `return`, a variable's assignment), outermost first.
    pub trail: Vec<(Location, String)>,
}

/// Where a child runs.
#[derive(Debug, Clone)]
pub struct CwdArg {
    pub location: Location,
    pub place: Place,
}

/// A directory, as far as it can be known statically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// The parent's working directory (`.`, `os.getcwd()`, `Path.cwd()`).
    Inherited,
    /// pytest's rootdir (`request.config.rootpath`, `pytestconfig.rootdir`).
    PytestRoot,
    /// A path computed from `__file__` or written literally (absolute, or
    /// relative to the parent's working directory when `relative` is true).
    Path {
        path: PathBuf,
        relative: bool,
    },
    /// A fresh temporary directory (`tmp_path`, `tempfile.mkdtemp()`...).
    Temporary(String),
    Unknown,
}

/// The signal a stop call sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Kill,
    Term,
    Int,
    /// Any other signal, by number.
    Other(i64),
}

/// A call that stops a launched child.
#[derive(Debug, Clone)]
pub struct Stop {
    /// Where the user acts: the stop call, or the outermost known call of
    /// the helper that makes it.
    pub location: Location,
    /// The calls from `location` down to the stop call, when it is made
    /// inside helpers (the stop call last).
    pub via: Vec<Location>,
    /// Index into [`PythonFacts::launches`].
    pub launch: usize,
    pub signal: Signal,
    /// How the call is written (`process.kill()`), for messages.
    pub call: String,
    /// Only reached when the child has already ended, or did not end within
    /// a bounded wait: a fallback, not the normal way the child stops.
    pub fallback: bool,
    /// A kill in the `except` of a bounded wait that did not ask the child
    /// to stop first: it runs when the timeout expires.
    pub on_timeout: bool,
    /// The launch is the one evaluated for this stop's own path of calls;
    /// otherwise it stands for every launch of the same launch call, and
    /// only that call is worth pointing at.
    pub exact: bool,
    /// When the call is `p.kill()`/`p.terminate()` as a statement of its
    /// own line: what a fix needs to rewrite it.
    pub statement: Option<StopStatement>,
    /// The child is waited for after the stop (where the stop is made, in
    /// a caller of the helper that makes it, or by `with Popen(...)`).
    pub waited: bool,
}

/// A stop call that is a whole statement on its own line.
#[derive(Debug, Clone)]
pub struct StopStatement {
    /// The statement, without its indentation.
    pub span: crate::source::Span,
    /// The indentation of its line.
    pub indent: String,
    /// The process expression as written (`process`, `self.proc`).
    pub receiver: String,
    /// The statement as written (`os.killpg(os.getpgid(p.pid),
    /// signal.SIGKILL)`).
    pub call: String,
    /// Inside an `async def` (so `await` is allowed).
    pub in_async: bool,
}
