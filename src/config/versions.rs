//! Which versions of pytest-cov and coverage.py a project uses, and where
//! covdoctor learnt it. Read from the project's files, never by running
//! Python. For each package the first source that names it wins:
//!
//! 1. an explicit setting: a command-line flag, or covdoctor's
//!    `pytest-cov-version` / `coverage-version` setting;
//! 2. the environment the tests run in: `$VIRTUAL_ENV`, else `.venv/` or
//!    `venv/` in the project (`*.dist-info/METADATA` in site-packages), the
//!    first of them with pytest installed;
//! 3. lock files: `uv.lock`, `poetry.lock`, `pdm.lock`, `Pipfile.lock`;
//! 4. pinned requirements: `requirements*.txt`, `constraints*.txt` (and the
//!    files they include with `-r`/`-c`), also under `requirements/`;
//! 5. dependency specifiers: pyproject.toml's `[project]` dependencies,
//!    optional dependencies, `[dependency-groups]`, Poetry's dependency
//!    groups, and tox.ini `deps`.
//!
//! A specifier gives a range (`pytest-cov>=7` is "7 or later"); nothing
//! found means unknown. pytest-cov's own requirement narrows coverage's
//! range when only pytest-cov is known (pytest-cov 7 needs coverage
//! >= 7.10.6).

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::coverage::FileLoader;
use super::toml as tomlx;
use crate::source::{Location, Source as SourceFile, Span};

/// A release version (`7.10.6`); pre-releases sort before their release,
/// and trailing zeros do not count (`7` equals `7.0.0`).
#[derive(Clone, Debug)]
pub struct Version {
    pub release: Vec<u64>,
    pub pre: bool,
}

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let text = text.trim().trim_start_matches('v');
        let mut release = Vec::new();
        let mut rest = text;
        loop {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if digits.is_empty() {
                break;
            }
            release.push(digits.parse().ok()?);
            rest = &rest[digits.len()..];
            match rest.strip_prefix('.') {
                Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
                _ => break,
            }
        }
        if release.is_empty() {
            return None;
        }
        let pre = rest
            .trim_start_matches(['.', '-', '_'])
            .starts_with(['a', 'b', 'r', 'c', 'd', 'p'])
            && !rest.trim_start_matches(['.', '-', '_']).starts_with("post");
        Some(Version { release, pre })
    }

    pub fn new(release: &[u64]) -> Version {
        Version {
            release: release.to_vec(),
            pre: false,
        }
    }

    fn segment(&self, i: usize) -> u64 {
        self.release.get(i).copied().unwrap_or(0)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.release.len().max(other.release.len());
        for i in 0..n {
            match self.segment(i).cmp(&other.segment(i)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        // 7.13.0b1 < 7.13.0
        other.pre.cmp(&self.pre)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.release.iter().map(u64::to_string).collect();
        write!(f, "{}", parts.join("."))
    }
}

/// The versions a package may have: `lo <= v < hi`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Range {
    pub lo: Option<Version>,
    pub hi: Option<Version>,
    /// Exactly this version (`==7.1.0`, an installed or locked version).
    pub exact: Option<Version>,
}

impl Range {
    pub fn exactly(v: Version) -> Range {
        Range {
            lo: None,
            hi: None,
            exact: Some(v),
        }
    }

    pub fn is_unknown(&self) -> bool {
        self.lo.is_none() && self.hi.is_none() && self.exact.is_none()
    }

    /// Every version in the range is at least `v`.
    pub fn all_at_least(&self, v: &Version) -> bool {
        match (&self.exact, &self.lo) {
            (Some(e), _) => e >= v,
            (None, Some(lo)) => lo >= v,
            _ => false,
        }
    }

    /// Every version in the range is below `v`.
    pub fn all_below(&self, v: &Version) -> bool {
        match (&self.exact, &self.hi) {
            (Some(e), _) => e < v,
            (None, Some(hi)) => hi <= v,
            _ => false,
        }
    }

    fn narrow(&mut self, lo: Option<Version>, hi: Option<Version>) {
        if let Some(lo) = lo
            && self.lo.as_ref().is_none_or(|cur| &lo > cur)
        {
            self.lo = Some(lo);
        }
        if let Some(hi) = hi
            && self.hi.as_ref().is_none_or(|cur| &hi < cur)
        {
            self.hi = Some(hi);
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.exact, &self.lo, &self.hi) {
            (Some(e), _, _) => write!(f, "{e}"),
            (None, Some(lo), Some(hi)) => write!(f, ">={lo},<{hi}"),
            (None, Some(lo), None) => write!(f, ">={lo}"),
            (None, None, Some(hi)) => write!(f, "<{hi}"),
            (None, None, None) => write!(f, "unknown"),
        }
    }
}

/// Where a version came from.
#[derive(Clone, Debug)]
pub struct Provenance {
    /// For messages: "uv.lock", "requirements-test.txt", ".venv".
    pub what: String,
    /// The line that says it, when it is in a file.
    pub location: Option<Location>,
}

/// What is known about one package.
#[derive(Clone, Debug, Default)]
pub struct Detected {
    pub range: Range,
    pub source: Option<Provenance>,
    /// A lock file or environment that lists the project's packages does
    /// not list this one: it is not used.
    pub absent: bool,
}

impl Detected {
    /// "pytest-cov 7.1.0 (from uv.lock)".
    pub fn describe(&self, package: &str) -> String {
        match &self.source {
            Some(p) => format!("{package} {} (from {})", self.range, p.what),
            None => format!("{package} (version unknown)"),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Versions {
    pub pytest_cov: Detected,
    pub coverage: Detected,
}

/// One place versions are read from: a package name in, what it says out.
type Source<'a> = dyn Fn(&str, &mut dyn FileLoader) -> Option<Detected> + 'a;

/// A version given explicitly, and by whom.
#[derive(Clone, Debug)]
pub struct Explicit {
    pub value: String,
    pub what: String,
    pub location: Option<Location>,
}

/// Explicit versions (command line, then covdoctor's settings) and
/// `$VIRTUAL_ENV`.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub pytest_cov: Option<Explicit>,
    pub coverage: Option<Explicit>,
    /// `$VIRTUAL_ENV`.
    pub virtual_env: Option<PathBuf>,
}

impl Versions {
    pub fn pytest_cov_at_least_7(&self) -> bool {
        self.pytest_cov.range.all_at_least(&Version::new(&[7]))
    }

    pub fn pytest_cov_below_7(&self) -> bool {
        self.pytest_cov.range.all_below(&Version::new(&[7]))
    }

    pub fn coverage_has_patch(&self) -> bool {
        self.coverage.range.all_at_least(&Version::new(&[7, 10]))
    }

    pub fn coverage_lacks_patch(&self) -> bool {
        self.coverage.range.all_below(&Version::new(&[7, 10]))
    }

    /// Finds the versions for the project at `root`.
    pub fn detect(root: &Path, overrides: &Overrides, loader: &mut dyn FileLoader) -> Versions {
        let mut versions = Versions::default();
        let sources: [&Source<'_>; 5] = [
            &|name, _| explicit(name, overrides),
            &|name, _| environment(root, name, overrides),
            &|name, loader| locked(root, name, loader),
            &|name, loader| required(root, name, loader),
            &|name, loader| declared(root, name, loader),
        ];
        for (package, slot) in [
            ("pytest-cov", &mut versions.pytest_cov),
            ("coverage", &mut versions.coverage),
        ] {
            for source in &sources {
                if let Some(found) = source(package, loader) {
                    *slot = found;
                    break;
                }
            }
        }
        // pytest-cov's own dependency on coverage.
        if versions.coverage.range.is_unknown()
            && !versions.coverage.absent
            && versions.pytest_cov.source.is_some()
        {
            let needed = if versions.pytest_cov_at_least_7() {
                Some("7.10.6")
            } else if versions.pytest_cov.range.all_at_least(&Version::new(&[6])) {
                Some("7.5")
            } else {
                None
            };
            if let Some(needed) = needed {
                versions.coverage.range.lo = Version::parse(needed);
                versions.coverage.source = Some(Provenance {
                    what: format!(
                        "what {} requires",
                        versions.pytest_cov.describe("pytest-cov")
                    ),
                    location: None,
                });
            }
        }
        versions
    }
}

/// PEP 503 name normalization.
fn normalize(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn explicit(package: &str, overrides: &Overrides) -> Option<Detected> {
    let given = match package {
        "pytest-cov" => overrides.pytest_cov.as_ref(),
        _ => overrides.coverage.as_ref(),
    }?;
    Some(Detected {
        range: Range::exactly(Version::parse(&given.value)?),
        source: Some(Provenance {
            what: given.what.clone(),
            location: given.location.clone(),
        }),
        absent: false,
    })
}

/// `*.dist-info/METADATA` in the site-packages of the environment the
/// tests run in: `$VIRTUAL_ENV`, else `.venv/` or `venv/` in the project.
/// An environment without pytest is not where the tests run (pre-commit,
/// for one, runs covdoctor with `$VIRTUAL_ENV` set to covdoctor's own
/// environment) and is skipped.
fn environment(root: &Path, package: &str, overrides: &Overrides) -> Option<Detected> {
    let mut candidates: Vec<PathBuf> = overrides.virtual_env.iter().cloned().collect();
    candidates.extend([root.join(".venv"), root.join("venv")]);
    for venv in candidates {
        let Some(installed) = site_packages(&venv).map(|s| installed(&s)) else {
            continue;
        };
        if !installed.contains_key("pytest") {
            continue;
        }
        let what = match venv.strip_prefix(root) {
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => venv.to_string_lossy().into_owned(),
        };
        // Installed with a METADATA that cannot be read: present, version
        // unknown.
        let found = installed.get(&normalize(package));
        return Some(Detected {
            absent: found.is_none(),
            range: found
                .cloned()
                .flatten()
                .map(Range::exactly)
                .unwrap_or_default(),
            source: Some(Provenance {
                what: format!("the environment in {what}"),
                location: None,
            }),
        });
    }
    None
}

/// The distributions installed in `site_packages`, by normalized name, with
/// their versions (None when the METADATA cannot be read).
fn installed(site_packages: &Path) -> HashMap<String, Option<Version>> {
    let mut out = HashMap::new();
    let Ok(entries) = std::fs::read_dir(site_packages) else {
        return out;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((dist, _)) = name
            .strip_suffix(".dist-info")
            .and_then(|stem| stem.split_once('-'))
        else {
            continue;
        };
        let version = std::fs::read_to_string(entry.path().join("METADATA"))
            .ok()
            .and_then(|metadata| {
                metadata
                    .lines()
                    .find_map(|l| l.strip_prefix("Version:"))
                    .and_then(Version::parse)
            });
        out.insert(normalize(dist), version);
    }
    out
}

fn site_packages(venv: &Path) -> Option<PathBuf> {
    let windows = venv.join("Lib").join("site-packages");
    if windows.is_dir() {
        return Some(windows);
    }
    let lib = venv.join("lib");
    std::fs::read_dir(&lib)
        .ok()?
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
}

/// `[[package]]` entries of uv.lock, poetry.lock and pdm.lock; Pipfile.lock's
/// JSON.
fn locked(root: &Path, package: &str, loader: &mut dyn FileLoader) -> Option<Detected> {
    let wanted = normalize(package);
    for name in ["uv.lock", "poetry.lock", "pdm.lock"] {
        let Some(Ok(source)) = loader.load(&root.join(name)) else {
            continue;
        };
        let Ok(doc) = loader.toml(&source) else {
            continue;
        };
        let packages = doc.get("package").and_then(|p| p.as_array_of_tables());
        let mut found = None;
        for table in packages.into_iter().flat_map(|a| a.iter()) {
            if table
                .get("name")
                .and_then(|n| n.as_str())
                .is_some_and(|n| normalize(n) == wanted)
                && let Some(version) = table.get("version")
                && let Some(v) = version.as_str().and_then(Version::parse)
            {
                found = Some((v, tomlx::item_span(version)));
            }
        }
        return Some(lock_result(&source, name, found));
    }
    let source = loader.load(&root.join("Pipfile.lock"))?.ok()?;
    let json: serde_json::Value = serde_json::from_str(&source.text).ok()?;
    let mut found = None;
    for group in ["default", "develop"] {
        if let Some(entries) = json.get(group).and_then(|g| g.as_object()) {
            for (name, entry) in entries {
                if normalize(name) == wanted
                    && let Some(v) = entry.get("version").and_then(|v| v.as_str())
                    && let Some(v) = Version::parse(v.trim_start_matches("=="))
                {
                    let span = source
                        .text
                        .find(&format!("\"{name}\""))
                        .map(|at| Span::new(at, at + name.len() + 2));
                    found = Some((v, span));
                }
            }
        }
    }
    Some(lock_result(&source, "Pipfile.lock", found))
}

fn lock_result(
    source: &SourceFile,
    name: &str,
    found: Option<(Version, Option<Span>)>,
) -> Detected {
    match found {
        Some((v, span)) => Detected {
            range: Range::exactly(v),
            source: Some(Provenance {
                what: name.to_string(),
                location: span.map(|s| Location::new(source, s)),
            }),
            absent: false,
        },
        // A lock file lists every package the project installs.
        None => Detected {
            range: Range::default(),
            source: Some(Provenance {
                what: name.to_string(),
                location: None,
            }),
            absent: true,
        },
    }
}

/// A requirement line (`pytest-cov==7.1.0`, `pytest-cov[extra]>=7; python_version>'3'`)
/// for `package`, as a range.
fn parse_requirement(line: &str, package: &str) -> Option<Range> {
    let line = line.split(" #").next()?.split(';').next()?.trim();
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    if normalize(&line[..end]) != normalize(package) {
        return None;
    }
    let mut rest = line[end..].trim_start();
    if let Some(extras_end) = rest.strip_prefix('[').and_then(|r| r.find(']')) {
        rest = rest[extras_end + 2..].trim_start();
    }
    let rest = rest.trim_start_matches('(').trim_end_matches(')');
    Some(parse_specifiers(rest))
}

/// `>=7,<8`, `==7.1.0`, `~=6.2`, `==6.*`, and Poetry's `^7.1`, `~7.1`, `*`.
fn parse_specifiers(spec: &str) -> Range {
    let mut range = Range::default();
    for part in spec.split(',') {
        let part = part.trim();
        let (op, version) = ["===", "==", "~=", ">=", "<=", "!=", ">", "<", "^", "~"]
            .iter()
            .find_map(|op| part.strip_prefix(op).map(|v| (*op, v.trim())))
            .unwrap_or(("", part));
        if version == "*" || version.is_empty() {
            continue;
        }
        let wildcard = version.ends_with(".*");
        let Some(v) = Version::parse(version.trim_end_matches(".*")) else {
            continue;
        };
        let bump = |v: &Version, at: usize| {
            let mut release: Vec<u64> = v.release.iter().take(at + 1).copied().collect();
            while release.len() <= at {
                release.push(0);
            }
            release[at] += 1;
            Version::new(&release)
        };
        match op {
            "==" | "===" if wildcard => {
                let at = v.release.len().saturating_sub(1);
                range.narrow(Some(v.clone()), Some(bump(&v, at)));
            }
            "==" | "===" => range.exact = Some(v),
            ">=" => range.narrow(Some(v), None),
            ">" => range.narrow(Some(v), None),
            "<" => range.narrow(None, Some(v)),
            "<=" => range.narrow(None, Some(bump(&v, v.release.len().saturating_sub(1)))),
            "~=" => {
                let at = v.release.len().saturating_sub(2);
                range.narrow(Some(v.clone()), Some(bump(&v, at)));
            }
            // Poetry: `^7.1` is >=7.1,<8; `^0.3` is >=0.3,<0.4.
            "^" => {
                let at = v.release.iter().position(|s| *s != 0).unwrap_or(0);
                range.narrow(Some(v.clone()), Some(bump(&v, at)));
            }
            "~" => {
                let at = if v.release.len() >= 2 { 1 } else { 0 };
                range.narrow(Some(v.clone()), Some(bump(&v, at)));
            }
            // A bare version (Poetry `pytest-cov = "7.1.0"`) is exact.
            "" => range.exact = Some(v),
            _ => {}
        }
    }
    range
}

/// `requirements*.txt` and `constraints*.txt` in the root and in
/// `requirements/`, following `-r`/`-c` includes.
fn required(root: &Path, package: &str, loader: &mut dyn FileLoader) -> Option<Detected> {
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [root.to_path_buf(), root.join("requirements")] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut names: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    (name.starts_with("requirements")
                        || name.starts_with("constraints")
                        || dir != root)
                        && (name.ends_with(".txt") || name.ends_with(".in"))
                })
                .collect();
            names.sort();
            files.extend(names);
        }
    }
    let mut seen = Vec::new();
    while let Some(path) = files.first().cloned() {
        files.remove(0);
        if seen.contains(&path) || seen.len() > 50 {
            continue;
        }
        seen.push(path.clone());
        let Some(Ok(source)) = loader.load(&path) else {
            continue;
        };
        let mut offset = 0;
        for line in source.text.split_inclusive('\n') {
            let trimmed = line.trim();
            for flag in ["-r", "--requirement", "-c", "--constraint"] {
                if let Some(rest) = trimmed.strip_prefix(flag)
                    && rest.starts_with([' ', '='])
                {
                    let include = rest.trim_start_matches([' ', '=']).trim();
                    files.push(path.parent().unwrap_or(root).join(include));
                }
            }
            if let Some(range) = parse_requirement(trimmed, package)
                && !range.is_unknown()
            {
                let start = offset + (line.len() - line.trim_start().len());
                let what = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .into_owned();
                return Some(Detected {
                    range,
                    source: Some(Provenance {
                        what,
                        location: Some(Location::new(
                            &source,
                            Span::new(start, start + trimmed.len()),
                        )),
                    }),
                    absent: false,
                });
            }
            offset += line.len();
        }
    }
    None
}

/// Dependency specifiers in pyproject.toml and tox.ini.
fn declared(root: &Path, package: &str, loader: &mut dyn FileLoader) -> Option<Detected> {
    if let Some(Ok(source)) = loader.load(&root.join("pyproject.toml"))
        && let Ok(doc) = loader.toml(&source)
    {
        let mut arrays: Vec<&toml_edit::Item> = Vec::new();
        if let Some(deps) = doc.get("project").and_then(|p| p.get("dependencies")) {
            arrays.push(deps);
        }
        for path in [
            &["project", "optional-dependencies"][..],
            &["dependency-groups"],
        ] {
            if let Some(groups) = tomlx::table_at(&doc, path).and_then(|t| t.as_table_like()) {
                arrays.extend(groups.iter().map(|(_, v)| v));
            }
        }
        for item in arrays {
            for value in item.as_array().into_iter().flat_map(|a| a.iter()) {
                if let Some(text) = value.as_str()
                    && let Some(range) = parse_requirement(text, package)
                {
                    return Some(declared_at(&source, range, value.span().map(Span::from)));
                }
            }
        }
        // Poetry: `[tool.poetry.dependencies]`, `[tool.poetry.dev-dependencies]`
        // and `[tool.poetry.group.<name>.dependencies]`.
        let mut tables: Vec<&toml_edit::Item> = Vec::new();
        for path in [
            &["tool", "poetry", "dependencies"][..],
            &["tool", "poetry", "dev-dependencies"],
        ] {
            tables.extend(tomlx::table_at(&doc, path));
        }
        if let Some(groups) =
            tomlx::table_at(&doc, &["tool", "poetry", "group"]).and_then(|g| g.as_table_like())
        {
            for (_, group) in groups.iter() {
                tables.extend(group.as_table_like().and_then(|g| g.get("dependencies")));
            }
        }
        for table in tables {
            let Some(table) = table.as_table_like() else {
                continue;
            };
            for (name, value) in table.iter() {
                if normalize(name) != normalize(package) {
                    continue;
                }
                let spec = value
                    .as_str()
                    .or_else(|| value.as_table_like()?.get("version")?.as_str())
                    .unwrap_or("*");
                let range = parse_specifiers(spec);
                return Some(declared_at(&source, range, tomlx::item_span(value)));
            }
        }
    }
    let source = loader.load(&root.join("tox.ini"))?.ok()?;
    let parsed = loader.ini(&source).ok()?;
    for section in parsed
        .sections
        .iter()
        .filter(|s| s.name.starts_with("testenv"))
    {
        let Some(deps) = section.get("deps") else {
            continue;
        };
        let mut offset = deps.value_span.start;
        for line in source.text[deps.value_span.range()].split_inclusive('\n') {
            if let Some(range) = parse_requirement(line.trim(), package) {
                let start = offset + (line.len() - line.trim_start().len());
                return Some(declared_at(
                    &source,
                    range,
                    Some(Span::new(start, start + line.trim().len())),
                ));
            }
            offset += line.len();
        }
    }
    None
}

fn declared_at(source: &SourceFile, range: Range, span: Option<Span>) -> Detected {
    Detected {
        range,
        source: Some(Provenance {
            what: source
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            location: span.map(|s| Location::new(source, s)),
        }),
        absent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn versions_compare_like_pep_440_releases() {
        assert!(v("7.10.6") > v("7.9.2"));
        assert!(v("7.13.0b1") < v("7.13.0"));
        assert!(v("7") == v("7.0.0"));
        assert_eq!(v("7.1.0").to_string(), "7.1.0");
    }

    #[test]
    fn requirement_lines() {
        let r = parse_requirement("pytest-cov==7.1.0  # pinned", "pytest_cov").unwrap();
        assert_eq!(r.exact, Some(v("7.1.0")));
        let r = parse_requirement(
            "pytest_cov[toml] >= 6.0 , < 7 ; python_version >= '3.9'",
            "pytest-cov",
        )
        .unwrap();
        assert!(r.all_below(&v("7")) && r.all_at_least(&v("6")));
        let r = parse_requirement("pytest-cov~=6.2", "pytest-cov").unwrap();
        assert!(r.all_below(&v("7")) && r.all_at_least(&v("6.2")));
        let r = parse_requirement("pytest-cov>=7", "pytest-cov").unwrap();
        assert!(r.all_at_least(&v("7")) && !r.all_below(&v("8")));
        assert!(parse_requirement("pytest-covx==1", "pytest-cov").is_none());
        assert!(
            parse_requirement("coverage[toml]==7.9.2", "coverage")
                .unwrap()
                .all_below(&v("7.10"))
        );
    }

    #[test]
    fn poetry_specifiers() {
        let r = parse_specifiers("^7.1");
        assert!(r.all_at_least(&v("7.1")) && r.all_below(&v("8")));
        let r = parse_specifiers("~6.2");
        assert!(r.all_below(&v("6.3")));
        assert!(parse_specifiers("*").is_unknown());
        let r = parse_specifiers("6.3.0");
        assert_eq!(r.exact, Some(v("6.3.0")));
        let r = parse_specifiers("==7.*");
        assert!(r.all_at_least(&v("7")) && r.all_below(&v("8")));
    }

    fn detect(files: &[(&str, &str)], overrides: Overrides) -> (Versions, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let mut loader = crate::config::ConfigFiles::new(std::sync::Arc::new(crate::source::Disk));
        (Versions::detect(dir.path(), &overrides, &mut loader), dir)
    }

    #[test]
    fn sources_in_order() {
        let venv = ".venv/lib/python3.12/site-packages/pytest_cov-6.3.0.dist-info/METADATA";
        let pytest = ".venv/lib/python3.12/site-packages/pytest-9.2.0.dist-info/METADATA";
        let files = [
            (
                venv,
                "Metadata-Version: 2.1\nName: pytest-cov\nVersion: 6.3.0\n",
            ),
            (
                pytest,
                "Metadata-Version: 2.1\nName: pytest\nVersion: 9.2.0\n",
            ),
            (
                "uv.lock",
                "version = 1\n\n[[package]]\nname = \"pytest-cov\"\nversion = \"7.1.0\"\n\n[[package]]\nname = \"coverage\"\nversion = \"7.17.5\"\n",
            ),
            ("requirements-dev.txt", "pytest-cov==5.0.0\n"),
        ];
        // The environment wins for pytest-cov; it lists no coverage, so
        // coverage is absent there, as far as that environment tells.
        let (v, _d) = detect(&files, Overrides::default());
        assert_eq!(v.pytest_cov.range.exact, Some(Version::new(&[6, 3])));
        assert!(
            v.pytest_cov
                .describe("pytest-cov")
                .contains("the environment in .venv")
        );
        assert!(v.coverage.absent);
        // Without the environment, the lock file.
        let (v, _d) = detect(&files[2..], Overrides::default());
        assert!(v.pytest_cov_at_least_7());
        // An environment without pytest is not where the tests run (under
        // pre-commit, $VIRTUAL_ENV is covdoctor's own): the next source
        // decides.
        let (v, _d) = detect(&[files[0], files[2], files[3]], Overrides::default());
        assert!(
            v.pytest_cov_at_least_7(),
            "{}",
            v.pytest_cov.describe("pytest-cov")
        );
        // An active environment with pytest wins over the project's .venv;
        // one without pytest gives way to it.
        let (_, active) = detect(&files[..2], Overrides::default());
        let active_venv = active.path().join(".venv");
        let (v, _d) = detect(
            &[files[0], files[1]],
            Overrides {
                virtual_env: Some(active_venv.clone()),
                ..Overrides::default()
            },
        );
        assert!(
            v.pytest_cov
                .describe("pytest-cov")
                .contains(&active_venv.to_string_lossy().into_owned())
        );
        let tool_env = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(
            tool_env
                .path()
                .join("lib/python3.12/site-packages/covdoctor-0.1.0.dist-info"),
        )
        .unwrap();
        let (v, _d) = detect(
            &files,
            Overrides {
                virtual_env: Some(tool_env.path().to_path_buf()),
                ..Overrides::default()
            },
        );
        assert!(
            v.pytest_cov
                .describe("pytest-cov")
                .contains("the environment in .venv")
        );
        // Without the environments, the lock file.
        let (v, _d) = detect(&files[2..], Overrides::default());
        assert!(v.pytest_cov_at_least_7());
        assert_eq!(v.coverage.range.exact, Some(Version::new(&[7, 17, 5])));
        assert!(v.pytest_cov.source.as_ref().unwrap().location.is_some());
        // An explicit version wins over everything.
        let (v, _d) = detect(
            &files,
            Overrides {
                pytest_cov: Some(Explicit {
                    value: "7.0.0".into(),
                    what: "--pytest-cov-version".into(),
                    location: None,
                }),
                ..Overrides::default()
            },
        );
        assert!(v.pytest_cov_at_least_7());
    }

    #[test]
    fn requirements_follow_includes_and_narrow_coverage() {
        let (v, _d) = detect(
            &[
                (
                    "requirements-test.txt",
                    "-r requirements/base.txt\npytest==9.2.0\n",
                ),
                (
                    "requirements/base.txt",
                    "# test tools\npytest-cov>=7.0  # new\n",
                ),
            ],
            Overrides::default(),
        );
        assert!(v.pytest_cov_at_least_7());
        assert_eq!(
            v.pytest_cov.source.as_ref().unwrap().what,
            "requirements/base.txt"
        );
        // pytest-cov 7 needs coverage >= 7.10.6.
        assert!(v.coverage_has_patch());
    }

    #[test]
    fn declared_dependencies() {
        let (v, _d) = detect(
            &[(
                "pyproject.toml",
                "[dependency-groups]\ntest = [\"pytest-cov>=6,<7\", \"coverage[toml]==7.9.2\"]\n",
            )],
            Overrides::default(),
        );
        assert!(v.pytest_cov_below_7());
        assert!(v.coverage_lacks_patch());
        let (v, _d) = detect(
            &[(
                "pyproject.toml",
                "[tool.poetry.group.dev.dependencies]\npytest-cov = \"^7.1\"\n",
            )],
            Overrides::default(),
        );
        assert!(v.pytest_cov_at_least_7());
        let (v, _d) = detect(
            &[(
                "tox.ini",
                "[testenv]\ndeps =\n    pytest\n    pytest-cov<7\n",
            )],
            Overrides::default(),
        );
        assert!(v.pytest_cov_below_7());

        let (v, _d) = detect(
            &[("setup.cfg", "[metadata]\nname = x\n")],
            Overrides::default(),
        );
        assert!(v.pytest_cov.range.is_unknown() && v.pytest_cov.source.is_none());
    }
}
