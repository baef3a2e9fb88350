//! Which modules' own calls can be a launch or a stop, decided before the
//! calls are resolved (resolving every call of a project is most of the
//! analysis' time, and in most modules no call can be either).
//!
//! The gate is sound by construction, not by a list of likely words:
//! - a stop call is recognised by its spelling alone (`p.kill()`,
//!   `os.killpg(...)`, `addfinalizer(p.terminate)`), so a module without one
//!   of those identifiers holds none;
//! - a call resolves to a launch API (`subprocess.run`, `os.execve`,
//!   `coverage.process_startup`...) only through an import of the API's
//!   package in the module itself, or through a name another project module
//!   binds (an alias, a process class, a fixture): so a module is relevant
//!   when it imports an API package and uses one of its names, or uses a
//!   module-level name of a relevant project module it imports (or of a
//!   relevant `conftest.py` above it, whose fixtures pytest hands to it).
//!
//! Identifiers are the parser's name tokens (not strings or comments),
//! kept as hashes: a collision only makes a module relevant that is not.
//! They also tell where the calls of a project function can be (a module
//! that never spells its name holds none), so the search for call paths
//! walks only those modules.
//!
//! The same reasoning decides which files are parsed at all
//! ([`seed_words`]): a file that was not parsed stands by as its words
//! ([`Idents::code_words`]: the words of its code, outside comments and
//! plain strings, a superset of its identifiers), and is parsed as soon as
//! those words could make it relevant ([`Relevance::wanted`]).
//! `COVDOCTOR_NO_PREFILTER=1` (`RunOptions::no_prefilter`) parses every
//! file and makes every module relevant, which is how the tests show that
//! neither gate changes a finding.

use std::hash::{Hash, Hasher};

use ruff_python_ast::{Expr, Stmt};

use super::index::{Binding, ImportTargets, Index, ModId};

/// The distinct identifiers of a file, as sorted hashes.
#[derive(Default)]
pub(super) struct Idents(Vec<u64>);

impl Idents {
    pub(super) fn new(mut hashes: Vec<u64>) -> Idents {
        hashes.sort_unstable();
        hashes.dedup();
        // Kept for the whole analysis: only the distinct words.
        hashes.shrink_to_fit();
        Idents(hashes)
    }

    pub(super) fn contains(&self, name: &str) -> bool {
        self.0.binary_search(&hash(name)).is_ok()
    }

    /// Adds `name`, as though the text held it as a word.
    pub(super) fn add(&mut self, name: &str) {
        let h = hash(name);
        if let Err(at) = self.0.binary_search(&h) {
            self.0.insert(at, h);
        }
    }

    pub(super) fn hashes(&self) -> &[u64] {
        &self.0
    }

    /// The words of a Python text that can be identifiers: every word
    /// (each longest run of ASCII letters, digits, `_` and non-ASCII
    /// characters: a Python identifier is one, and the characters next to
    /// one are an operator, a bracket, a quote or white space) outside
    /// comments and the contents of
    /// string literals, and, inside those, the words in `mentioned` (the
    /// names of the project's files and directories, which a test can name
    /// in a string: `python tests/server.py`, `-m tests.server`). Every
    /// identifier of the text is one: a comment and a plain string hold
    /// none, and from the first f- or t-string on (whose fields hold code)
    /// every word counts, as it does from a string that does not end the
    /// way Python's tokenizer ends it. `None` for a text with a run of
    /// word characters too tangled to read that way: such a file is
    /// parsed instead.
    ///
    /// Written by hand: ruff's lexer, the one Python tokenizer among the
    /// crates, gives no token ranges through its public API, and parsing
    /// the file to get them is the work this saves.
    pub(super) fn code_words(text: &str, mentioned: &Mentioned) -> Option<Idents> {
        let bytes = text.as_bytes();
        let is_word = |b: u8| WORD_BYTE[usize::from(b)];
        // Hashes, deduplicated once at the end (cheaper than a set for the
        // few thousand words of a file).
        let mut out: Vec<u64> = Vec::new();
        let mut sure = true;
        // The words of `text[from..to]`: in code, every identifier a run
        // can hold; elsewhere, the runs mentioned.
        let words = |from: usize, to: usize, code: bool, out: &mut Vec<u64>| {
            let mut sure = true;
            let mut at = from;
            while at < to {
                if !is_word(bytes[at]) {
                    at += 1;
                    continue;
                }
                let start = at;
                while at < to && is_word(bytes[at]) {
                    at += 1;
                }
                if !code && !mentioned.may_hold(at - start) {
                    continue;
                }
                let Some(run) = text.get(start..at) else {
                    continue;
                };
                if code {
                    sure &= identifiers_in_run(run, out);
                } else if mentioned.hashes.contains(&hash(run)) {
                    out.push(hash(run));
                }
            }
            sure
        };
        let mut at = 0;
        while at < bytes.len() {
            let b = bytes[at];
            if is_word(b) {
                let start = at;
                at += bytes[at..]
                    .iter()
                    .position(|&b| !is_word(b))
                    .unwrap_or(bytes.len() - at);
                if let Some(run) = text.get(start..at) {
                    sure &= identifiers_in_run(run, &mut out);
                }
                // A plain string after its prefix is read below.
                if matches!(bytes.get(at), Some(b'\'' | b'"'))
                    && interpolated_prefix(&bytes[start..at])
                {
                    sure &= words(at, bytes.len(), true, &mut out);
                    break;
                }
                continue;
            }
            match b {
                b'#' => {
                    let end =
                        memchr::memchr2(b'\n', b'\r', &bytes[at..]).map_or(bytes.len(), |n| at + n);
                    words(at, end, false, &mut out);
                    at = end;
                }
                b'\'' | b'"' => match string_end(bytes, at) {
                    Some(end) => {
                        words(at, end, false, &mut out);
                        at = end;
                    }
                    None => {
                        sure &= words(at, bytes.len(), true, &mut out);
                        break;
                    }
                },
                _ => at += 1,
            }
        }
        sure.then(|| Idents::new(out))
    }
}

/// Whether a byte can be part of a run of word characters: an ASCII
/// letter, digit or `_`, or a byte of a non-ASCII character.
static WORD_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80;
        b += 1;
    }
    table
};

/// The words a file's strings and comments can name a module by (see
/// [`Idents::code_words`]), as hashes, with the lengths they have: most
/// words of a docstring have none of those lengths and are not hashed.
#[derive(Default)]
pub(super) struct Mentioned {
    hashes: rustc_hash::FxHashSet<u64>,
    /// Bit `n` for a word of `n` bytes (the last bit for any longer).
    lengths: u64,
}

impl Mentioned {
    pub(super) fn new<'w>(words: impl IntoIterator<Item = &'w str>) -> Mentioned {
        let mut m = Mentioned::default();
        for w in words {
            m.hashes.insert(hash(w));
            m.lengths |= Mentioned::bit(w.len());
        }
        m
    }

    fn bit(len: usize) -> u64 {
        1 << len.min(63)
    }

    fn may_hold(&self, len: usize) -> bool {
        self.lengths & Mentioned::bit(len) != 0
    }
}

/// Whether the run of word characters right before a quote can end in an
/// f- or t-string prefix (`f`, `rf`, `T`...). Python reads the prefix as
/// the run's last token (`1f'{x}'` is a number and an f-string), so only
/// the run's end is looked at: a name that merely ends like a prefix
/// (`print'x'`, an error) is taken for one too, which only keeps more
/// words.
fn interpolated_prefix(run: &[u8]) -> bool {
    let lower = |i: usize| run.get(i).map(u8::to_ascii_lowercase);
    let n = run.len();
    let last = n.checked_sub(1).and_then(lower);
    let before = n.checked_sub(2).and_then(lower);
    matches!(last, Some(b'f' | b't')) || matches!((before, last), (Some(b'f' | b't'), Some(b'r')))
}

/// At most this many identifiers are looked for in one run of word
/// characters; a run that could hold more (never seen in real code) makes
/// the file one that is parsed.
const MAX_NAMES_IN_RUN: usize = 64;

/// Adds every identifier the tokenizer can read in `run`, a longest run
/// of ASCII letters, digits, `_` and non-ASCII characters in code: the run
/// itself, and where it does not start an identifier (`1else`, `0x1fz`, a
/// non-ASCII character that cannot be in one), the identifiers after the
/// numbers and stray characters it starts with, as ruff's lexer reads
/// numbers. False when the run could hold more than [`MAX_NAMES_IN_RUN`].
fn identifiers_in_run(run: &str, out: &mut Vec<u64>) -> bool {
    out.push(hash(run));
    let first = run.as_bytes()[0];
    if run.is_ascii() && (first.is_ascii_alphabetic() || first == b'_') {
        return true;
    }
    // Identifiers end at a character that cannot continue one.
    let mut looked = 0;
    let mut pieces = vec![];
    let mut start = 0;
    for (i, c) in run.char_indices() {
        if !(c.is_ascii() || unicode_ident::is_xid_continue(c)) {
            pieces.push(&run[start..i]);
            start = i + c.len_utf8();
        }
    }
    pieces.push(&run[start..]);
    for piece in pieces {
        // Where a token can start in the piece.
        let mut todo = vec![0];
        let mut seen: Vec<usize> = Vec::new();
        while let Some(at) = todo.pop() {
            if at >= piece.len() || seen.contains(&at) {
                continue;
            }
            seen.push(at);
            looked += 1;
            if looked > MAX_NAMES_IN_RUN {
                return false;
            }
            let rest = &piece[at..];
            let Some(c) = rest.chars().next() else {
                continue;
            };
            if c.is_ascii_digit() {
                todo.extend(number_ends(rest.as_bytes()).into_iter().map(|n| at + n));
            } else if c == '_' || c.is_ascii_alphabetic() || unicode_ident::is_xid_start(c) {
                out.push(hash(rest));
            } else {
                // A character no token starts with: the lexer goes on
                // after it.
                todo.push(at + c.len_utf8());
            }
        }
    }
    true
}

/// Where a number starting at `s[0]` (a digit) can end, as ruff's lexer
/// reads it: digits with single `_` between them, an exponent `e5`, a
/// `j`; or, after `0x`/`0o`/`0b`, that radix's digits (a prefix with none
/// is an error token of its own).
fn number_ends(s: &[u8]) -> Vec<usize> {
    let run = |mut at: usize, digit: fn(u8) -> bool| {
        loop {
            // A digit, or a `_` before one.
            let here = s.get(at).copied();
            if here.is_some_and(digit)
                || (here == Some(b'_') && s.get(at + 1).copied().is_some_and(digit))
            {
                at += 1;
            } else {
                return at;
            }
        }
    };
    let decimal = |b: u8| b.is_ascii_digit();
    let mut at = run(0, decimal);
    if matches!(s.get(at), Some(b'e' | b'E')) && s.get(at + 1).is_some_and(u8::is_ascii_digit) {
        at = run(at + 1, decimal);
    }
    if matches!(s.get(at), Some(b'j' | b'J')) {
        at += 1;
    }
    let mut ends = vec![at];
    if s[0] == b'0' {
        let digit: Option<fn(u8) -> bool> = match s.get(1).map(u8::to_ascii_lowercase) {
            Some(b'x') => Some(|b: u8| b.is_ascii_hexdigit()),
            Some(b'o') => Some(|b: u8| (b'0'..=b'7').contains(&b)),
            Some(b'b') => Some(|b: u8| b == b'0' || b == b'1'),
            _ => None,
        };
        if let Some(digit) = digit {
            ends.push(run(2, digit));
        }
    }
    ends
}

/// Where the string literal whose opening quote is at `quote` ends (just
/// past its closing quotes): a backslash escapes the next character, raw
/// or not, and a single-quoted string ends at its line's end only with an
/// error. `None` for a string Python's tokenizer rejects as unterminated.
fn string_end(bytes: &[u8], quote: usize) -> Option<usize> {
    let q = bytes[quote];
    let triple = bytes.get(quote + 1) == Some(&q) && bytes.get(quote + 2) == Some(&q);
    let mut at = quote + if triple { 3 } else { 1 };
    while at < bytes.len() {
        // A docstring is long: its next quote or backslash is searched
        // for, not stepped to.
        if triple {
            at += memchr::memchr2(q, b'\\', bytes.get(at..)?)?;
        }
        match bytes[at] {
            b'\\' => at += 2,
            b'\n' | b'\r' if !triple => return None,
            c if c == q => {
                if !triple {
                    return Some(at + 1);
                }
                if bytes.get(at + 1) == Some(&q) && bytes.get(at + 2) == Some(&q) {
                    return Some(at + 3);
                }
                at += 1;
            }
            _ => at += 1,
        }
    }
    None
}

pub(super) fn hash(name: &str) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    name.hash(&mut h);
    h.finish()
}

/// Qualified names the launch pass looks for besides the launch APIs.
const OTHER_APIS: &[&str] = &[
    "coverage.process_startup",
    "coverage.control.process_startup",
    "multiprocessing.set_start_method",
    "multiprocessing.get_context",
];

/// Packages whose import alone makes a module relevant: the imports of
/// `pytest_cov.embed` are looked for by their spelling.
const WHOLE_PACKAGES: &[&str] = &["pytest_cov"];

/// The known APIs as (top-level package, own name).
fn apis() -> impl Iterator<Item = (&'static str, &'static str)> {
    super::launch::APIS
        .iter()
        .map(|(q, _, _)| *q)
        .chain(OTHER_APIS.iter().copied())
        .map(|q| {
            (
                q.split('.').next().unwrap_or(q),
                q.rsplit('.').next().unwrap_or(q),
            )
        })
}

/// The top-level packages of the known APIs, each a bit of a mask.
fn api_packages() -> Vec<&'static str> {
    let mut out: Vec<&str> = apis()
        .map(|(p, _)| p)
        .chain(WHOLE_PACKAGES.iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// API packages whose names are in most files (`import os`): their names
/// are no seed words, their APIs' names are.
const COMMON_PACKAGES: &[&str] = &["os", "asyncio"];

/// The words of which a file must hold one for the analysis to read it
/// before anything else asks for it ([`Relevance::wanted`] and the
/// index's [`super::index::Index::take_wanted`] ask for the rest): the
/// packages of the launch, stop, coverage and multiprocessing APIs (the
/// names of their APIs for [`COMMON_PACKAGES`]), the stop names, and the
/// pytester fixtures. A file without one imports none of those packages
/// (so it binds no alias of one: those are in files that are read), calls
/// no API of a common package, and spells no stop.
pub(super) fn seed_words() -> Vec<String> {
    let mut out: Vec<String> = apis()
        .map(|(package, name)| {
            if COMMON_PACKAGES.contains(&package) {
                name
            } else {
                package
            }
        })
        .chain(WHOLE_PACKAGES.iter().copied())
        .chain(STOP_NAMES.iter().copied())
        .chain(FIXTURES.iter().copied())
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// pytest's `pytester` and `testdir` fixtures run pytest in a child: a
/// parameter of that name is the API.
const FIXTURES: &[&str] = &["pytester", "testdir"];

/// The attributes and names a stop call is spelled with.
const STOP_NAMES: &[&str] = &[
    "kill",
    "killpg",
    "terminate",
    "send_signal",
    "shutdown_kernel",
    "restart_kernel",
];

pub(super) struct Relevance {
    launch: Vec<bool>,
    stop: Vec<bool>,
    /// Each module's identifiers (`None`: every module holds every name).
    idents: Option<Vec<Idents>>,
    /// The unparsed modules that could hold a launch: they must be parsed
    /// before the analysis can say anything.
    pub(super) wanted: Vec<ModId>,
}

impl Relevance {
    /// Whether a call in `module` can be a launch (or the coverage and
    /// multiprocessing calls the launch pass also looks for).
    pub(super) fn launch(&self, module: ModId) -> bool {
        self.launch[module]
    }

    /// Whether a call in `module` can be a stop call.
    pub(super) fn stop(&self, module: ModId) -> bool {
        self.stop[module]
    }

    /// Whether `module` can spell `name` (as a name, an attribute, an
    /// import): where the calls of a project function can be.
    pub(super) fn names(&self, module: ModId, name: &str) -> bool {
        self.idents
            .as_ref()
            .is_none_or(|all| all[module].contains(name))
    }

    /// Every module relevant (`COVDOCTOR_NO_PREFILTER`).
    pub(super) fn all(n: usize) -> Relevance {
        Relevance {
            launch: vec![true; n],
            stop: vec![true; n],
            idents: None,
            wanted: Vec::new(),
        }
    }

    /// `idents` (each top-level statement's; for a module that was not
    /// parsed, the words of its text as one statement) and `targets` are
    /// in the index' module order; `launchers` are the `python-launchers`
    /// setting's qualified names.
    ///
    /// A module that was not parsed holds no [`seed_words`]: it is
    /// relevant only through a name a parsed module binds (an alias, a
    /// helper), and when its words could make it so, it is
    /// [`Relevance::wanted`] instead. It is taken to see every module whose
    /// name it spells, the packages above it (relative imports) and the
    /// `conftest.py` files above it. And since it could bind an alias of a
    /// common package (`import os as o`), every parsed module is taken to
    /// reach those.
    pub(super) fn compute(
        index: &Index<'_>,
        idents: &[&[Idents]],
        targets: &[&ImportTargets],
        launchers: &[String],
    ) -> Relevance {
        let n = index.modules.len();
        let stop = idents
            .iter()
            .map(|stmts| {
                stmts
                    .iter()
                    .any(|ids| STOP_NAMES.iter().any(|s| ids.contains(s)))
            })
            .collect();
        let packages = api_packages();
        let bit = |p: &str| packages.iter().position(|q| *q == p).map(|i| 1u64 << i);
        let stub = |m: ModId| index.modules[m].stub.is_some();
        let mut reach = reached_packages(index, targets, idents, &bit);
        if (0..n).any(stub) {
            let hidden = COMMON_PACKAGES
                .iter()
                .filter_map(|p| bit(p))
                .fold(0, |a, b| a | b);
            let own: Vec<(u64, u64)> = packages
                .iter()
                .filter_map(|p| Some((bit(p)?, hash(p))))
                .collect();
            for (m, r) in reach.iter_mut().enumerate() {
                *r |= if stub(m) {
                    // The packages it spells, as if it imported them.
                    own.iter()
                        .filter(|(_, h)| idents[m].iter().any(|ids| ids.0.binary_search(h).is_ok()))
                        .fold(0, |a, (b, _)| a | b)
                } else {
                    hidden
                };
            }
        }
        let whole: u64 = WHOLE_PACKAGES
            .iter()
            .filter_map(|p| bit(p))
            .fold(0, |a, b| a | b);
        // A launcher is called by its own name (or imported under it).
        let mut words: Vec<u64> = launchers
            .iter()
            .map(|q| hash(q.rsplit('.').next().unwrap_or(q)))
            .chain(FIXTURES.iter().map(|f| hash(f)))
            .collect();
        words.sort_unstable();
        let apis: Vec<(u64, u64)> = apis()
            .filter_map(|(p, name)| Some((bit(p)?, hash(name))))
            .collect();
        // A statement is relevant when it uses an API its module can reach,
        // or a name a relevant statement binds in a module it can see: its
        // own, one it imports, a `conftest.py` above it (whose fixtures its
        // tests get). Such a name is an alias of an API, a process class, a
        // helper or fixture that starts a child, or its re-export.
        let visible = visible_modules(index, targets);
        // Whether a statement's names can hold such a value (it binds them
        // into `bound_by`), and what it holds them with: for a function,
        // what it returns; for a class, its bases, attributes and what its
        // methods return (`None`: the whole statement).
        let mut binds: Vec<Vec<bool>> = idents.iter().map(|s| vec![false; s.len()]).collect();
        let mut held: Vec<Vec<Option<Idents>>> = idents
            .iter()
            .map(|s| (0..s.len()).map(|_| None).collect())
            .collect();
        let mut bound_by: rustc_hash::FxHashMap<u64, Vec<ModId>> = Default::default();
        let hits = |m: ModId, ids: &Idents, bound_by: &rustc_hash::FxHashMap<u64, Vec<ModId>>| {
            let sees = |d: &ModId| {
                *d == m
                    || match &index.modules[m].stub {
                        Some(words) => spelled_visible(index, m, words, *d),
                        None => visible[m].binary_search(d).is_ok(),
                    }
            };
            ids.0
                .iter()
                .any(|h| bound_by.get(h).is_some_and(|ds| ds.iter().any(sees)))
                || ids.0.iter().any(|h| words.binary_search(h).is_ok())
                || apis
                    .iter()
                    .any(|&(b, name)| reach[m] & b != 0 && ids.0.binary_search(&name).is_ok())
        };
        loop {
            let mut changed = false;
            for m in (0..n).filter(|&m| !stub(m)) {
                let suite = index.suite(m);
                for (i, ids) in idents[m].iter().enumerate() {
                    // What a statement holds is part of what it says: it
                    // can hold nothing relevant unless it says something.
                    if binds[m][i] || !hits(m, ids, &bound_by) {
                        continue;
                    }
                    let Some(stmt) = suite.get(i) else { continue };
                    let value = held[m][i].get_or_insert_with(|| value_idents(stmt));
                    if value.0.is_empty()
                        && !matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_))
                    {
                        // Not a definition: the whole statement counts.
                    } else if !hits(m, value, &bound_by) {
                        continue;
                    }
                    binds[m][i] = true;
                    changed = true;
                    bound_names(stmt, &mut |name| {
                        let ds = bound_by.entry(hash(name)).or_default();
                        if !ds.contains(&m) {
                            ds.push(m);
                        }
                    });
                }
            }
            if !changed {
                break;
            }
        }
        // A module's calls are resolved when any of its statements uses an
        // API or a name that holds one.
        let mut launch: Vec<bool> = (0..n)
            .map(|m| reach[m] & whole != 0 || idents[m].iter().any(|ids| hits(m, ids, &bound_by)))
            .collect();
        let mut wanted = Vec::new();
        for (m, relevant) in launch.iter_mut().enumerate() {
            if stub(m) && *relevant {
                wanted.push(m);
                *relevant = false;
            }
        }
        let idents = idents
            .iter()
            .map(|stmts| Idents::new(stmts.iter().flat_map(|ids| ids.0.iter().copied()).collect()))
            .collect();
        Relevance {
            launch,
            stop,
            idents: Some(idents),
            wanted,
        }
    }
}

/// The API packages each module can reach, as bits of a mask: those it
/// imports, and those it names through a project module (`from helpers
/// import subprocess`, `helpers.sp.run`, a `compat` module re-exporting
/// `Popen`): a name some project module binds to the package (or to
/// something in it) at its top level.
fn reached_packages(
    index: &Index<'_>,
    targets: &[&ImportTargets],
    idents: &[&[Idents]],
    bit: &dyn Fn(&str) -> Option<u64>,
) -> Vec<u64> {
    let mut aliases: Vec<(u64, u64)> = Vec::new();
    for m in index.parsed() {
        for (name, bindings) in index.bindings_of(m) {
            for b in bindings {
                if let Binding::Import(q) = b
                    && let Some(package) = bit(q.split('.').next().unwrap_or(q))
                {
                    aliases.push((package, hash(name)));
                }
            }
        }
    }
    aliases.sort_unstable();
    aliases.dedup();
    (0..index.modules.len())
        .map(|m| {
            let imported = targets[m]
                .by_alias
                .values()
                .filter_map(|t| bit(t.split('.').next().unwrap_or(t)))
                .fold(0, |a, b| a | b);
            let named = aliases
                .iter()
                .filter(|(_, name)| {
                    idents[m]
                        .iter()
                        .any(|ids| ids.0.binary_search(name).is_ok())
                })
                .fold(0, |a, (b, _)| a | b);
            imported | named
        })
        .collect()
}

/// What a definition's names hold their values with, as identifiers: for a
/// function, its decorators, parameter defaults and what it returns or
/// yields (with the assignments of the local names those use); for a
/// class, its bases and decorators, its class-level statements, what its
/// methods hold, and what they assign to attributes (`self.ctx = ...`).
/// Empty for other statements: all of them counts.
fn value_idents(stmt: &Stmt) -> Idents {
    let mut out = Vec::new();
    match stmt {
        Stmt::FunctionDef(f) => function_values(f, &mut out),
        Stmt::ClassDef(c) => class_values(c, &mut out),
        _ => {}
    }
    Idents::new(out)
}

/// The identifiers of a value: its names and attributes, except inside a
/// call of a launch API by its package (`subprocess.Popen(...)`,
/// `subprocess.run(...)`): what such a call gives is a process or its
/// result, never an API to call (only `multiprocessing.get_context(...)`
/// gives one, `.Process`).
fn expr_idents(e: &Expr, out: &mut Vec<u64>) {
    use ruff_python_ast::visitor::{self, Visitor};
    struct V<'o>(&'o mut Vec<u64>);
    impl<'a> Visitor<'a> for V<'_> {
        fn visit_expr(&mut self, e: &'a Expr) {
            match e {
                Expr::Call(call) if calls_an_api_by_its_package(call) => return,
                Expr::Name(n) => self.0.push(hash(n.id.as_str())),
                Expr::Attribute(a) => self.0.push(hash(a.attr.as_str())),
                _ => {}
            }
            visitor::walk_expr(self, e);
        }
    }
    V(out).visit_expr(e);
}

/// `subprocess.run(...)`, `os.execve(...)`: a known API called through its
/// package's module.
fn calls_an_api_by_its_package(call: &ruff_python_ast::ExprCall) -> bool {
    let Expr::Attribute(a) = &*call.func else {
        return false;
    };
    let Expr::Name(package) = &*a.value else {
        return false;
    };
    super::launch::APIS.iter().any(|(q, _, _)| {
        q.rsplit_once('.')
            .is_some_and(|(p, name)| p == package.id.as_str() && name == a.attr.as_str())
    })
}

fn function_values(f: &ruff_python_ast::StmtFunctionDef, out: &mut Vec<u64>) {
    use ruff_python_ast::visitor::{self, Visitor};
    for d in &f.decorator_list {
        expr_idents(&d.expression, out);
    }
    for p in f.parameters.iter_non_variadic_params() {
        if let Some(d) = &p.default {
            expr_idents(d, out);
        }
    }
    /// What the body returns or yields, and its assignments: the names
    /// each binds and the value it binds them to.
    #[derive(Default)]
    struct Body<'a> {
        returned: Vec<&'a Expr>,
        assigned: Vec<(Vec<&'a str>, &'a Expr)>,
    }
    impl<'a> Visitor<'a> for Body<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            let mut names = Vec::new();
            match stmt {
                Stmt::Return(r) => self.returned.extend(r.value.as_deref()),
                Stmt::Assign(a) => {
                    for t in &a.targets {
                        assigned(t, &mut |n| names.push(n));
                    }
                    self.assigned.push((names, &a.value));
                }
                Stmt::AnnAssign(a) => {
                    if let Some(v) = &a.value {
                        assigned(&a.target, &mut |n| names.push(n));
                        self.assigned.push((names, v));
                    }
                }
                Stmt::AugAssign(a) => {
                    assigned(&a.target, &mut |n| names.push(n));
                    self.assigned.push((names, &a.value));
                }
                Stmt::For(l) => {
                    assigned(&l.target, &mut |n| names.push(n));
                    self.assigned.push((names, &l.iter));
                }
                Stmt::With(w) => {
                    for item in &w.items {
                        if let Some(v) = &item.optional_vars {
                            let mut names = Vec::new();
                            assigned(v, &mut |n| names.push(n));
                            self.assigned.push((names, &item.context_expr));
                        }
                    }
                }
                // Their returns are their own (`visit_nested_defs` adds
                // what a returned one holds).
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => return,
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Yield(y) => self.returned.extend(y.value.as_deref()),
                Expr::YieldFrom(y) => self.returned.push(&y.value),
                Expr::Named(n) => {
                    let mut names = Vec::new();
                    assigned(&n.target, &mut |x| names.push(x));
                    self.assigned.push((names, &n.value));
                }
                _ => {}
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut body = Body::default();
    body.visit_body(&f.body);
    // The local names the returned values use, and what they are bound to.
    let mut wanted: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut pending: Vec<&Expr> = body.returned.clone();
    let mut done = vec![false; body.assigned.len()];
    while let Some(e) = pending.pop() {
        expr_idents(e, out);
        let mut grew = false;
        for sub in super::walk::subexprs(e) {
            if let Expr::Name(n) = sub {
                grew |= wanted.insert(n.id.as_str());
            }
        }
        if !grew {
            continue;
        }
        for (i, (names, value)) in body.assigned.iter().enumerate() {
            if !done[i] && names.iter().any(|n| wanted.contains(n)) {
                done[i] = true;
                pending.push(value);
            }
        }
    }
    // Nested definitions a returned name may be: what they hold too.
    visit_nested_defs(&f.body, &wanted, out);
}

/// What the functions and classes defined in `body` (at any depth, not
/// inside other definitions) hold, for those named in `wanted`.
fn visit_nested_defs(body: &[Stmt], wanted: &std::collections::HashSet<&str>, out: &mut Vec<u64>) {
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(d) if wanted.contains(d.name.as_str()) => function_values(d, out),
            Stmt::ClassDef(c) if wanted.contains(c.name.as_str()) => class_values(c, out),
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
            Stmt::If(s) => {
                visit_nested_defs(&s.body, wanted, out);
                for clause in &s.elif_else_clauses {
                    visit_nested_defs(&clause.body, wanted, out);
                }
            }
            Stmt::Try(t) => {
                visit_nested_defs(&t.body, wanted, out);
                for h in &t.handlers {
                    let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                    visit_nested_defs(&h.body, wanted, out);
                }
                visit_nested_defs(&t.orelse, wanted, out);
                visit_nested_defs(&t.finalbody, wanted, out);
            }
            Stmt::With(w) => visit_nested_defs(&w.body, wanted, out),
            Stmt::For(l) => {
                visit_nested_defs(&l.body, wanted, out);
                visit_nested_defs(&l.orelse, wanted, out);
            }
            Stmt::While(l) => {
                visit_nested_defs(&l.body, wanted, out);
                visit_nested_defs(&l.orelse, wanted, out);
            }
            _ => {}
        }
    }
}

fn class_values(c: &ruff_python_ast::StmtClassDef, out: &mut Vec<u64>) {
    use ruff_python_ast::visitor::{self, Visitor};
    for d in &c.decorator_list {
        expr_idents(&d.expression, out);
    }
    if let Some(arguments) = &c.arguments {
        for a in &arguments.args {
            expr_idents(a, out);
        }
        for k in &arguments.keywords {
            expr_idents(&k.value, out);
        }
    }
    /// Every value assigned to an attribute, anywhere in the class.
    struct Attributes<'o>(&'o mut Vec<u64>);
    impl<'a> Visitor<'a> for Attributes<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            let (targets, value): (Vec<&Expr>, Option<&Expr>) = match stmt {
                Stmt::Assign(a) => (a.targets.iter().collect(), Some(&a.value)),
                Stmt::AnnAssign(a) => (vec![&a.target], a.value.as_deref()),
                Stmt::AugAssign(a) => (vec![&a.target], Some(&a.value)),
                _ => (Vec::new(), None),
            };
            if let Some(v) = value
                && targets.iter().any(|t| {
                    super::walk::subexprs(t)
                        .iter()
                        .any(|e| matches!(e, Expr::Attribute(_)))
                })
            {
                expr_idents(v, self.0);
            }
            visitor::walk_stmt(self, stmt);
        }
    }
    for stmt in &c.body {
        match stmt {
            Stmt::FunctionDef(f) => function_values(f, out),
            Stmt::ClassDef(inner) => class_values(inner, out),
            // Class-level statements: all of what they say.
            other => {
                struct All<'o>(&'o mut Vec<u64>);
                impl<'a> Visitor<'a> for All<'_> {
                    fn visit_expr(&mut self, e: &'a Expr) {
                        expr_idents(e, self.0);
                    }
                }
                All(out).visit_stmt(other);
            }
        }
        Attributes(out).visit_stmt(stmt);
    }
}

/// Whether module `m`, not parsed, can see module `d`: it spells the last
/// part of one of `d`'s names (every import of `d`, or of a module in it,
/// does), `d` is a package above it (what its relative imports reach), or
/// a `conftest.py` above it.
pub(super) fn spelled_visible(index: &Index<'_>, m: ModId, words: &Idents, d: ModId) -> bool {
    let (path, other) = (&index.modules[m].path, &index.modules[d]);
    let above = other.path.parent().is_some_and(|dir| path.starts_with(dir));
    let file = other.path.file_name().and_then(|f| f.to_str());
    (above && matches!(file, Some("__init__.py" | "conftest.py")))
        || other
            .names
            .iter()
            .any(|(n, _)| words.contains(n.rsplit('.').next().unwrap_or(n)))
}

/// For each module, the project modules whose names it can use (sorted):
/// those it imports (a dotted name and each of its packages) and the
/// `conftest.py` files in the directories above it.
fn visible_modules(index: &Index<'_>, targets: &[&ImportTargets]) -> Vec<Vec<ModId>> {
    let conftests: Vec<(ModId, &std::path::Path)> = index
        .modules
        .iter()
        .enumerate()
        .filter(|(_, m)| m.path.file_name().is_some_and(|f| f == "conftest.py"))
        .filter_map(|(i, m)| Some((i, m.path.parent()?)))
        .collect();
    (0..index.modules.len())
        .map(|m| {
            let mut out = Vec::new();
            for target in targets[m].by_alias.values() {
                let mut at = target.len();
                loop {
                    out.extend_from_slice(index.modules_by_name(&target[..at]));
                    match target[..at].rfind('.') {
                        Some(i) => at = i,
                        None => break,
                    }
                }
            }
            let path = &index.modules[m].path;
            out.extend(
                conftests
                    .iter()
                    .filter(|(_, dir)| path.starts_with(dir))
                    .map(|(c, _)| *c),
            );
            out.sort_unstable();
            out.dedup();
            out
        })
        .collect()
}

/// The names a top-level statement binds in its module: what it defines,
/// assigns or imports, in its own blocks too (`if`, `try`, `with`, loops),
/// not inside the functions and classes it defines.
fn bound_names<'s>(stmt: &'s Stmt, out: &mut dyn FnMut(&'s str)) {
    let targets = |e: &'s Expr, out: &mut dyn FnMut(&'s str)| assigned(e, out);
    let block = |body: &'s [Stmt], out: &mut dyn FnMut(&'s str)| {
        for s in body {
            bound_names(s, out);
        }
    };
    match stmt {
        Stmt::FunctionDef(f) => out(f.name.as_str()),
        Stmt::ClassDef(c) => out(c.name.as_str()),
        Stmt::Assign(a) => a.targets.iter().for_each(|t| targets(t, out)),
        Stmt::AnnAssign(a) => targets(&a.target, out),
        Stmt::AugAssign(a) => targets(&a.target, out),
        Stmt::TypeAlias(t) => targets(&t.name, out),
        Stmt::Import(i) => {
            for alias in &i.names {
                let local = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                out(local.split('.').next().unwrap_or(local));
            }
        }
        Stmt::ImportFrom(i) => {
            for alias in &i.names {
                out(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
            }
        }
        Stmt::If(s) => {
            block(&s.body, out);
            for clause in &s.elif_else_clauses {
                block(&clause.body, out);
            }
        }
        Stmt::Try(t) => {
            block(&t.body, out);
            for h in &t.handlers {
                let ruff_python_ast::ExceptHandler::ExceptHandler(h) = h;
                if let Some(name) = &h.name {
                    out(name.as_str());
                }
                block(&h.body, out);
            }
            block(&t.orelse, out);
            block(&t.finalbody, out);
        }
        Stmt::With(w) => {
            for item in &w.items {
                if let Some(v) = &item.optional_vars {
                    targets(v, out);
                }
            }
            block(&w.body, out);
        }
        Stmt::For(f) => {
            targets(&f.target, out);
            block(&f.body, out);
            block(&f.orelse, out);
        }
        Stmt::While(w) => {
            block(&w.body, out);
            block(&w.orelse, out);
        }
        Stmt::Match(m) => {
            for case in &m.cases {
                block(&case.body, out);
            }
        }
        // A walrus in an expression statement binds too.
        Stmt::Expr(e) => {
            for sub in super::walk::subexprs(&e.value) {
                if let Expr::Named(n) = sub {
                    assigned(&n.target, out);
                }
            }
        }
        _ => {}
    }
}

/// The names an assignment target binds: `x`, `x, *y`, `[x, (y, z)]`.
fn assigned<'s>(target: &'s Expr, out: &mut dyn FnMut(&'s str)) {
    match target {
        Expr::Name(n) => out(n.id.as_str()),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| assigned(e, out)),
        Expr::List(l) => l.elts.iter().for_each(|e| assigned(e, out)),
        Expr::Starred(s) => assigned(&s.value, out),
        _ => {}
    }
}

/// Which modules can reach which: module `m` reaches module `d` when a
/// value defined in `d` (a function, a class, an instance of one) can be
/// named in `m`. Values cross modules only by name: through an import
/// (which spells the last part of the imported module's name: `import
/// a.b`, `from a import b`, `from .b import f`), a relative import of a
/// package above, or a fixture of a `conftest.py` above; and then on, from
/// the module that imported them. So `m` reaches `d` when a chain of such
/// steps leads from `m` to `d`, each step read from the words of a file's
/// code ([`Idents::code_words`]: a superset of what it imports, whether
/// the file was parsed or not, so the answer is the same either way).
///
/// The search for the calls of a project function looks only in the
/// modules that reach the function's own: in any other, no call can
/// resolve to it.
pub(super) struct Reach {
    /// For each module, the modules that step to it.
    stepped_from: Vec<Vec<ModId>>,
    /// For each module asked about, whether each module reaches it.
    reached_by: std::cell::RefCell<rustc_hash::FxHashMap<ModId, std::rc::Rc<Vec<bool>>>>,
}

impl Reach {
    /// `words` are the words of each module's text, in the index' order.
    pub(super) fn new(index: &Index<'_>, words: &[&Idents]) -> Reach {
        let n = index.modules.len();
        let mut by_last: rustc_hash::FxHashMap<u64, Vec<ModId>> = Default::default();
        let mut above: rustc_hash::FxHashMap<&std::path::Path, Vec<ModId>> = Default::default();
        for (d, module) in index.modules.iter().enumerate() {
            for (name, _) in &module.names {
                let ds = by_last
                    .entry(hash(name.rsplit('.').next().unwrap_or(name)))
                    .or_default();
                if ds.last() != Some(&d) {
                    ds.push(d);
                }
            }
            let file = module.path.file_name().and_then(|f| f.to_str());
            if matches!(file, Some("__init__.py" | "conftest.py"))
                && let Some(dir) = module.path.parent()
            {
                above.entry(dir).or_default().push(d);
            }
        }
        let mut stepped_from: Vec<Vec<ModId>> = vec![Vec::new(); n];
        for (m, module) in index.modules.iter().enumerate() {
            let mut to: Vec<ModId> = words
                .get(m)
                .into_iter()
                .flat_map(|w| w.hashes())
                .filter_map(|h| by_last.get(h))
                .flatten()
                .copied()
                .chain(
                    module
                        .path
                        .ancestors()
                        .skip(1)
                        .filter_map(|dir| above.get(dir))
                        .flatten()
                        .copied(),
                )
                .filter(|&d| d != m)
                .collect();
            to.sort_unstable();
            to.dedup();
            for d in to {
                stepped_from[d].push(m);
            }
        }
        Reach {
            stepped_from,
            reached_by: Default::default(),
        }
    }

    /// Whether module `m` reaches module `d` (every module reaches itself).
    pub(super) fn reaches(&self, m: ModId, d: ModId) -> bool {
        if m == d {
            return true;
        }
        let known = self.reached_by.borrow().get(&d).cloned();
        let set = known.unwrap_or_else(|| {
            let mut set = vec![false; self.stepped_from.len()];
            let mut todo = vec![d];
            if let Some(s) = set.get_mut(d) {
                *s = true;
            }
            while let Some(x) = todo.pop() {
                for &y in self.stepped_from.get(x).into_iter().flatten() {
                    if !set[y] {
                        set[y] = true;
                        todo.push(y);
                    }
                }
            }
            let set = std::rc::Rc::new(set);
            self.reached_by
                .borrow_mut()
                .insert(d, std::rc::Rc::clone(&set));
            set
        });
        set.get(m).copied().unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ImportTargets, Index, ModuleInput, Parsed, Read, read_all};
    use super::*;

    /// The files (path, text) written under a new root, each parsed.
    fn read_parsed(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<Read>) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let mut paths = Vec::new();
        for (path, text) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            paths.push(p);
        }
        let seeds = crate::verdict::Words::new(&[]);
        let read = read_all(
            &crate::source::Disk,
            &paths,
            &root,
            &seeds,
            true,
            &mut Vec::new(),
        );
        (dir, read)
    }

    /// Which of the files (path, text) hold calls the launch pass resolves.
    fn launch_relevant(files: &[(&str, &str)]) -> Vec<(String, bool)> {
        // Every file parsed: the gate among parsed modules.
        let (dir, read) = read_parsed(files);
        let root = dir.path().to_path_buf();
        let parsed: Vec<&Parsed> = read
            .iter()
            .map(|r| match r {
                Read::Parsed(p, _) => p,
                Read::Words(..) => unreachable!("every file is parsed"),
            })
            .collect();
        let inputs = parsed
            .iter()
            .map(|p| ModuleInput {
                source: std::sync::Arc::clone(&p.source),
                path: p.source.path.clone(),
                suite: &p.module.body,
                import_targets: &p.targets,
                stub: None,
            })
            .collect();
        let index = Index::build(&root, inputs);
        let idents: Vec<&[Idents]> = parsed.iter().map(|p| &p.idents[..]).collect();
        let targets: Vec<&ImportTargets> = parsed.iter().map(|p| &p.targets).collect();
        let relevance = Relevance::compute(&index, &idents, &targets, &["helpers.run_py".into()]);
        files
            .iter()
            .enumerate()
            .map(|(i, (path, _))| (path.to_string(), relevance.launch(i)))
            .collect()
    }

    /// For each file, whether it reaches the first one.
    fn reaching_first(files: &[(&str, &str)]) -> Vec<(String, bool)> {
        let (dir, read) = read_parsed(files);
        let root = dir.path().to_path_buf();
        let (parsed, words): (Vec<&Parsed>, Vec<&Idents>) = read
            .iter()
            .map(|r| match r {
                Read::Parsed(p, w) => (p, w),
                Read::Words(..) => unreachable!("every file is parsed"),
            })
            .unzip();
        let inputs = parsed
            .iter()
            .map(|p| ModuleInput {
                source: std::sync::Arc::clone(&p.source),
                path: p.source.path.clone(),
                suite: &p.module.body,
                import_targets: &p.targets,
                stub: None,
            })
            .collect();
        let index = Index::build(&root, inputs);
        let reach = Reach::new(&index, &words);
        files
            .iter()
            .enumerate()
            .map(|(i, (path, _))| (path.to_string(), reach.reaches(i, 0)))
            .collect()
    }

    #[test]
    fn pythonpath_entries_are_import_roots_in_their_order() {
        use std::path::PathBuf;
        let files = [("a/work.py", "X = 1\n"), ("b/work.py", "X = 2\n")];
        let (dir, read) = read_parsed(&files);
        let root = dir.path().to_path_buf();
        let parsed: Vec<&Parsed> = read
            .iter()
            .map(|r| match r {
                Read::Parsed(p, _) => p,
                Read::Words(..) => unreachable!("every file is parsed"),
            })
            .collect();
        let inputs = || {
            parsed
                .iter()
                .map(|p| ModuleInput {
                    source: std::sync::Arc::clone(&p.source),
                    path: p.source.path.clone(),
                    suite: &p.module.body,
                    import_targets: &p.targets,
                    stub: None,
                })
                .collect()
        };
        let found = |roots: &[&str]| {
            let mut index = Index::build(&root, inputs());
            let roots: Vec<PathBuf> = roots.iter().map(|r| root.join(r)).collect();
            index.set_import_roots(&roots);
            index.module_named("work", None).map(|m| {
                index.modules[m]
                    .path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_path_buf()
            })
        };
        assert_eq!(found(&[]), None);
        assert_eq!(found(&["b", "a"]), Some(PathBuf::from("b/work.py")));
        assert_eq!(found(&["./a/", "b"]), Some(PathBuf::from("a/work.py")));
        assert_eq!(found(&["c/../b"]), Some(PathBuf::from("b/work.py")));
    }

    #[test]
    fn a_module_reaches_what_its_imports_reach() {
        let got = reaching_first(&[
            ("pkg/impl.py", "def helper(): pass\n"),
            ("pkg/__init__.py", "from .impl import helper\n"),
            // Through the package's re-export: it never spells `impl`.
            ("tests/test_a.py", "from pkg import helper\nhelper()\n"),
            // Through a fixture of the conftest above it.
            ("tests/conftest.py", "import pkg\n"),
            ("tests/test_b.py", "def test(x): x.helper()\n"),
            // Spells `helper`, imports nothing that leads to it.
            (
                "other/mod.py",
                "import json\nhelper = json.loads\nhelper()\n",
            ),
        ]);
        let want = [
            ("pkg/impl.py", true),
            ("pkg/__init__.py", true),
            ("tests/test_a.py", true),
            ("tests/conftest.py", true),
            ("tests/test_b.py", true),
            ("other/mod.py", false),
        ];
        assert_eq!(got, want.map(|(p, r)| (p.to_string(), r)).to_vec(),);
    }

    fn expect(files: &[(&str, &str, bool)]) {
        let texts: Vec<(&str, &str)> = files.iter().map(|(p, t, _)| (*p, *t)).collect();
        let got = launch_relevant(&texts);
        let want: Vec<(String, bool)> = files.iter().map(|(p, _, r)| (p.to_string(), *r)).collect();
        assert_eq!(got, want);
    }

    fn words(text: &str, mentioned: &[&str]) -> Idents {
        Idents::code_words(text, &Mentioned::new(mentioned.iter().copied())).unwrap()
    }

    fn sound(text: &str) -> bool {
        super::super::identifiers_missing_from_words(text).is_empty()
    }

    #[test]
    fn every_identifier_of_a_text_is_one_of_its_words() {
        let text = "import subprocess as sp\nnaïve_x=sp.run(['a'])#kill\nf'{café}'\n";
        let got = words(text, &[]);
        for name in ["import", "subprocess", "sp", "naïve_x", "run", "f", "café"] {
            assert!(got.contains(name), "{name}");
        }
        // A part of a word is not one.
        assert!(!got.contains("proc"));
        assert!(!got.contains("na"));
        assert!(sound(text));
    }

    #[test]
    fn words_in_comments_and_plain_strings_are_not_identifiers() {
        let text = "x = 'kill' + \"run\" + b'stop' + R'''main\n'''  # test\n\
                    \"\"\"doc: wait\"\"\"\ny = 1\n";
        let got = words(text, &[]);
        for name in ["kill", "run", "stop", "main", "test", "doc", "wait"] {
            assert!(!got.contains(name), "{name}");
        }
        for name in ["x", "y", "b", "R"] {
            assert!(got.contains(name), "{name}");
        }
        assert!(sound(text));
        // Unless it names one of the project's files or directories.
        let got = words(
            "SERVER = 'tests/server.py'  # see helpers\n",
            &["server", "helpers"],
        );
        assert!(got.contains("server") && got.contains("helpers"));
        assert!(!got.contains("tests") && !got.contains("py"));
    }

    #[test]
    fn a_string_ends_where_python_ends_it() {
        // Escaped quotes, raw or not; quotes of the other kind; quotes
        // inside a triple-quoted string; an empty string; a line
        // continued inside a string.
        for text in [
            "a = 'it\\'s' ; kill()\n",
            "a = r'\\'' ; kill()\n",
            "a = \"it's\" ; kill()\n",
            "a = '''x ' '' y''' ; kill()\n",
            "a = ''; kill()\n",
            "a = 'x\\\ny'; kill()\n",
        ] {
            assert!(words(text, &[]).contains("kill"), "{text}");
            assert!(!words(text, &[]).contains("y"), "{text}");
            assert!(sound(text), "{text}");
        }
        // `rb` is a prefix, `xr` a name before a string.
        assert!(!words("a = rb'kill'\n", &[]).contains("kill"));
        assert!(!words("a = xr'kill'\n", &[]).contains("kill"));
        assert!(words("a = xr'kill'\n", &[]).contains("xr"));
    }

    #[test]
    fn identifiers_after_numbers_and_stray_characters_are_words() {
        for (text, name) in [
            ("1syntax_error  # NOQA\n", "syntax_error"),
            ("x = 0x1fz9\n", "z9"),
            ("x = .0x5\n", "x5"),
            ("x = 1_abc\n", "_abc"),
            ("x = 1e5if y else 0\n", "if"),
            ("x = 1jelse\n", "else"),
            ("x = 0b12kill\n", "kill"),
            ("x = a\u{2014}kill\n", "kill"),
            ("x = \u{0301}kill\n", "kill"),
            ("x = 1f'{kill()}'\n", "kill"),
        ] {
            assert!(words(text, &[]).contains(name), "{text}");
            assert!(sound(text), "{text}");
        }
        // A run too tangled to read: the file is parsed instead.
        let tangled = format!("x = {}\n", "1\u{0301}".repeat(100));
        assert!(Idents::code_words(&tangled, &Default::default()).is_none());
    }

    #[test]
    fn from_an_f_string_or_an_unterminated_string_on_every_word_counts() {
        for text in [
            "a = 'x'\nb = f'{kill()}' + 'run'\n",
            "a = 'x'\nb = T\"{kill()}\" + 'run'\n",
            "a = 'x'\nb = rf'{kill()}' + 'run'\n",
            "a = 'x' + 'kill\nrun = 1\n",
            "a = 'x' + '''kill\nrun = 1\n",
        ] {
            let got = words(text, &[]);
            assert!(got.contains("kill") && got.contains("run"), "{text}");
            assert!(!got.contains("x"), "{text}");
            assert!(sound(text), "{text}");
        }
    }

    #[test]
    fn the_words_of_every_fixture_hold_its_identifiers() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
        let checked = crate::fuzzing::python_words_in_tree(&fixtures).unwrap();
        assert!(checked > 100, "{checked}");
    }

    #[test]
    fn only_files_with_a_seed_word_are_parsed() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for (name, text) in [
            ("a.py", "import subprocess\n"),
            ("b.py", "DATA = [1, 2, 3]  # no process here\n"),
            ("c.py", "def stop(p):\n    p.terminate()\n"),
            ("d.py", "from os import execve\n"),
            ("e.py", "import os\nos.getcwd()\n"),
            ("f.py", "start_worker()\n"),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            paths.push(p);
        }
        let seeds = crate::verdict::Words::new(
            &seed_words()
                .into_iter()
                .chain(["start_worker".to_string()])
                .collect::<Vec<_>>(),
        );
        let read = read_all(
            &crate::source::Disk,
            &paths,
            dir.path(),
            &seeds,
            false,
            &mut Vec::new(),
        );
        let got: Vec<bool> = read.iter().map(|r| matches!(r, Read::Parsed(..))).collect();
        assert_eq!(got, [true, false, true, true, false, true]);
    }

    #[test]
    fn a_module_that_calls_an_api_it_imports_is_relevant() {
        expect(&[
            ("a.py", "import subprocess\nsubprocess.run(['x'])\n", true),
            ("b.py", "from os import execve\n", true),
            // Imports the package, uses none of its launch names.
            ("c.py", "import os\nos.path.join('a')\n", false),
            // The launch name without the package: a local variable.
            ("d.py", "run = 1\nprint(run)\n", false),
        ]);
    }

    #[test]
    fn a_package_reached_through_a_project_module_counts() {
        expect(&[
            ("compat.py", "import subprocess as sp\n", false),
            ("user.py", "from compat import sp\nsp.Popen(['x'])\n", true),
            ("attr.py", "import compat\ncompat.sp.run(['x'])\n", true),
        ]);
    }

    #[test]
    fn names_bound_to_an_api_make_their_importers_relevant() {
        expect(&[
            (
                "procs.py",
                "import multiprocessing\nclass Worker(multiprocessing.Process):\n    pass\nlaunch = multiprocessing.get_context('spawn')\n",
                true,
            ),
            ("pkg/__init__.py", "from procs import Worker as W\n", true),
            ("uses.py", "from pkg import W\nW().start()\n", true),
            (
                "ctx.py",
                "from procs import launch\nlaunch.Process(target=print)\n",
                true,
            ),
            // Imports the module, uses none of the names it binds.
            ("other.py", "import procs\nprint(1)\n", false),
            // Uses the name, from a module it does not import.
            ("unrelated.py", "Worker = 1\nprint(Worker)\n", false),
        ]);
    }

    #[test]
    fn fixtures_of_a_relevant_conftest_reach_the_tests_below_it() {
        expect(&[
            (
                "tests/conftest.py",
                "import subprocess, pytest\n@pytest.fixture\ndef starter():\n    return subprocess.Popen\n",
                true,
            ),
            (
                "tests/test_a.py",
                "def test_a(starter):\n    starter(['x'])\n",
                true,
            ),
            (
                "tests/test_b.py",
                "def test_b(tmp_path):\n    pass\n",
                false,
            ),
            (
                "other/test_c.py",
                "def test_c(starter):\n    starter(['x'])\n",
                false,
            ),
        ]);
    }

    #[test]
    fn a_helper_that_returns_nothing_gives_its_callers_no_value() {
        expect(&[
            (
                "helpers.py",
                "import subprocess\ndef start():\n    subprocess.run(['x'])\n",
                true,
            ),
            (
                "test_x.py",
                "from helpers import start\ndef test_x():\n    start()\n",
                false,
            ),
        ]);
    }

    #[test]
    fn what_a_launch_gives_is_no_api_but_a_context_is() {
        expect(&[
            (
                "helpers.py",
                "import subprocess, multiprocessing\ndef start():\n    p = subprocess.Popen(['x'])\n    return p\ndef ctx():\n    c = multiprocessing.get_context('spawn')\n    return c\ndef alias():\n    return subprocess.Popen\n",
                true,
            ),
            (
                "test_start.py",
                "from helpers import start\np = start()\np.wait()\n",
                false,
            ),
            (
                "test_ctx.py",
                "from helpers import ctx\nctx().Process(target=print)\n",
                true,
            ),
            (
                "test_alias.py",
                "from helpers import alias\nalias()(['x'])\n",
                true,
            ),
        ]);
    }

    #[test]
    fn a_class_passes_on_what_its_bases_and_attributes_hold() {
        expect(&[
            (
                "procs.py",
                "import multiprocessing, subprocess\nclass W(multiprocessing.Process):\n    pass\nclass H:\n    def __init__(self):\n        self.ctx = multiprocessing.get_context()\nclass Quiet:\n    def go(self):\n        subprocess.run(['x'])\n",
                true,
            ),
            (
                "sub.py",
                "from procs import W\nclass W2(W):\n    pass\n",
                true,
            ),
            (
                "h.py",
                "from procs import H\nH().ctx.Process(target=print)\n",
                true,
            ),
            ("q.py", "from procs import Quiet\nQuiet().go()\n", false),
        ]);
    }

    #[test]
    fn pytester_and_launchers_are_relevant_by_name() {
        expect(&[
            (
                "test_p.py",
                "def test_p(pytester):\n    pytester.runpytest_subprocess()\n",
                true,
            ),
            (
                "test_l.py",
                "from helpers import run_py\nrun_py('x')\n",
                true,
            ),
        ]);
    }
}
