//! The environment the tests run in, read from disk for `covdoctor doctor`
//! (and for the versions `check` assumes): which interpreter, its
//! site-packages directories, the distributions installed there and the
//! startup hooks (`.pth` files, `sitecustomize.py`) that decide whether a
//! Python child starts measuring. Nothing is run: the interpreter's version
//! comes from `pyvenv.cfg` and the directory layout, as `site.py` would find
//! it.
//!
//! `pyvenv.cfg` and METADATA headers are read by hand: both are line-based
//! `key = value` / `Key: value` formats that `site.py` and
//! `importlib.metadata` split on the first separator, which no crate models
//! more closely than that.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use pep440_rs::Version;

use crate::config::versions::{normalize, parse_version};

/// One Python installation or virtual environment.
#[derive(Clone, Debug)]
pub struct Environment {
    /// The venv's root, or the installation's prefix.
    pub prefix: PathBuf,
    /// How it was chosen: `--python`, `.venv in the project`,
    /// `$VIRTUAL_ENV`, `python3 on PATH`.
    pub chosen: String,
    /// `pyvenv.cfg`, when it is a virtual environment.
    pub pyvenv_cfg: Option<PathBuf>,
    /// The interpreter's version (major, minor), when the layout says it.
    pub python: Option<(u64, u64)>,
    /// Where the version was read.
    pub python_from: Option<String>,
    /// The site directories Python processes `.pth` files in, in its order.
    pub site_dirs: Vec<PathBuf>,
    /// Installed distributions by normalized name: the first found in
    /// `site_dirs` order, as `importlib.metadata` finds them.
    pub distributions: BTreeMap<String, Distribution>,
    /// The startup hooks found in `site_dirs`.
    pub hooks: Vec<Hook>,
}

#[derive(Clone, Debug)]
pub struct Distribution {
    /// The name as its METADATA writes it.
    pub name: String,
    pub version: Option<Version>,
    /// The METADATA (or PKG-INFO) file.
    pub metadata: PathBuf,
    /// Its `[pytest11]` entry points: the pytest plugins it registers.
    pub pytest_plugins: Vec<String>,
}

/// What a startup hook is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookKind {
    /// `pytest-cov.pth`, installed by pytest-cov < 7: starts coverage in a
    /// child when `COV_CORE_SOURCE` is set.
    PytestCov,
    /// `a1_coverage.pth`, installed by coverage 7.13+ (`zzz_coverage.pth`
    /// in 7.12.1b1): starts coverage when `COVERAGE_PROCESS_START` or
    /// `COVERAGE_PROCESS_CONFIG` is set.
    Coverage,
    /// `subcover.pth` / `subcover_<pid>.pth`, written at run time by
    /// coverage 7.10 to 7.12 and deleted when the parent exits; the pid of
    /// the process that wrote it.
    Subcover { pid: Option<u32> },
    /// A `.pth`, `sitecustomize.py` or `usercustomize.py` of someone else's
    /// that calls `coverage.process_startup()`.
    Custom,
}

#[derive(Clone, Debug)]
pub struct Hook {
    pub kind: HookKind,
    pub path: PathBuf,
    pub text: String,
}

/// The names of the hooks coverage.py itself installs.
const COVERAGE_PTH: &[&str] = &["a1_coverage.pth", "zzz_coverage.pth"];

impl Environment {
    pub fn version(&self, package: &str) -> Option<&Version> {
        self.distributions
            .get(&normalize(package))?
            .version
            .as_ref()
    }

    pub fn has(&self, package: &str) -> bool {
        self.distributions.contains_key(&normalize(package))
    }

    pub fn hooks(&self, kind: &HookKind) -> impl Iterator<Item = &Hook> {
        self.hooks
            .iter()
            .filter(move |h| std::mem::discriminant(&h.kind) == std::mem::discriminant(kind))
    }
}

/// Finds the environment to inspect: `python` (an interpreter or a venv
/// directory) when given, else the project's `.venv`/`venv`, else
/// `$VIRTUAL_ENV`, else the first `python3`/`python` on `PATH`.
pub fn locate(
    root: &Path,
    python: Option<&Path>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Environment, String> {
    if let Some(python) = python {
        if is_script(python) {
            return Err(format!(
                "{}: a script (a pyenv or asdf shim?), not an interpreter; pass the interpreter it runs (`pyenv which python`) or the environment's directory",
                python.display()
            ));
        }
        return from_python(python, "--python".to_string()).ok_or_else(|| {
            format!(
                "{}: not a Python interpreter or environment",
                python.display()
            )
        });
    }
    for name in [".venv", "venv"] {
        let dir = root.join(name);
        if dir.join("pyvenv.cfg").is_file()
            && let Some(env) = from_python(&dir, format!("{name} in the project"))
        {
            return Ok(env);
        }
    }
    if let Some(venv) = var("VIRTUAL_ENV").filter(|v| !v.is_empty())
        && let Some(env) = from_python(Path::new(&venv), "$VIRTUAL_ENV".to_string())
    {
        return Ok(env);
    }
    let path = var("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for exe in ["python3", "python", "python.exe"] {
            let candidate = dir.join(exe);
            // A shim (pyenv, asdf) is a script that picks an interpreter
            // at run time: covdoctor cannot tell which without running it.
            if candidate.is_file()
                && !is_script(&candidate)
                && let Some(env) = from_python(&candidate, format!("{exe} on PATH"))
            {
                return Ok(env);
            }
        }
    }
    Err("no Python environment found: no .venv or venv in the project, no $VIRTUAL_ENV, no python on PATH; pass --python".to_string())
}

/// The environment of an interpreter (`.venv/bin/python`) or of a
/// directory (a venv's root or an installation's prefix).
pub fn from_python(path: &Path, chosen: String) -> Option<Environment> {
    let (prefix, exe) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else if path.is_file() {
        // As Python's getpath: `pyvenv.cfg` next to the executable or one
        // directory up, on the path as invoked (not resolved).
        let bin = path.parent()?;
        match [bin, bin.parent()?]
            .into_iter()
            .find(|d| d.join("pyvenv.cfg").is_file())
        {
            Some(venv) => (venv.to_path_buf(), Some(path.to_path_buf())),
            None => {
                let real = std::fs::canonicalize(path).ok()?;
                let bin = real.parent()?;
                let prefix = if bin.join("Lib").is_dir() {
                    bin.to_path_buf()
                } else {
                    bin.parent()?.to_path_buf()
                };
                (prefix, Some(real))
            }
        }
    } else {
        return None;
    };
    let pyvenv_cfg = Some(prefix.join("pyvenv.cfg")).filter(|p| p.is_file());
    let cfg = pyvenv_cfg
        .as_deref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| parse_pyvenv_cfg(&t))
        .unwrap_or_default();
    let mut python = None;
    let mut python_from = None;
    if let Some(v) = cfg
        .get("version_info")
        .or_else(|| cfg.get("version"))
        .and_then(|v| major_minor(v))
    {
        python = Some(v);
        python_from = Some("pyvenv.cfg".to_string());
    }
    if python.is_none()
        && let Some(v) = exe
            .as_deref()
            .and_then(|e| e.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("python"))
            .and_then(major_minor)
    {
        python = Some(v);
        python_from = Some("the interpreter's name".to_string());
    }
    let mut site_dirs = site_dirs(&prefix, &mut python, &mut python_from);
    if pyvenv_cfg.is_some() {
        let system = cfg
            .get("include-system-site-packages")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        if system && let Some(home) = cfg.get("home") {
            let home = PathBuf::from(home);
            let base = if home.join("Lib").is_dir() {
                home
            } else {
                home.parent().map(Path::to_path_buf).unwrap_or(home)
            };
            let mut p = python;
            let mut f = python_from.clone();
            site_dirs.extend(self::site_dirs(&base, &mut p, &mut f));
        }
    } else if pyvenv_cfg.is_none() && prefix.join("bin").is_dir() {
        // A base interpreter also reads the user's site directory.
        if let (Some((major, minor)), Some(home)) = (python, std::env::var_os("HOME")) {
            let user = PathBuf::from(home)
                .join(".local/lib")
                .join(format!("python{major}.{minor}"))
                .join("site-packages");
            if user.is_dir() {
                site_dirs.insert(0, user);
            }
        }
    }
    let mut seen = Vec::new();
    site_dirs.retain(|d| {
        let key = std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
        let new = !seen.contains(&key);
        seen.push(key);
        new
    });
    let mut distributions = BTreeMap::new();
    let mut hooks = Vec::new();
    for dir in &site_dirs {
        read_site_dir(dir, &mut distributions, &mut hooks);
    }
    Some(Environment {
        prefix,
        chosen,
        pyvenv_cfg,
        python,
        python_from,
        site_dirs,
        distributions,
        hooks,
    })
}

/// A file that starts with `#!`: a script, not an interpreter.
fn is_script(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 2];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok()
        && &head == b"#!"
}

/// `key = value` lines, as `site.py` reads `pyvenv.cfg`.
fn parse_pyvenv_cfg(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        .collect()
}

/// `3.11.7` or `3.13t` to (3, 11) / (3, 13).
fn major_minor(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor.parse().ok()?))
}

/// The site-packages directories of a prefix: `Lib/site-packages` on
/// Windows, `lib/pythonX.Y/site-packages` elsewhere (and Debian's
/// `dist-packages`). When the version is not known, the layout tells it.
fn site_dirs(
    prefix: &Path,
    python: &mut Option<(u64, u64)>,
    python_from: &mut Option<String>,
) -> Vec<PathBuf> {
    let windows = prefix.join("Lib").join("site-packages");
    if windows.is_dir() {
        return vec![windows];
    }
    let mut out = Vec::new();
    let mut libs: Vec<(u64, u64)> = std::fs::read_dir(prefix.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("python"))
                .and_then(major_minor)
        })
        .collect();
    libs.sort_unstable();
    if python.is_none() && libs.len() == 1 {
        *python = libs.first().copied();
        *python_from = Some(format!("{}", prefix.join("lib").display()));
    }
    let versions: Vec<(u64, u64)> = match python {
        Some(v) => vec![*v],
        None => libs,
    };
    for (major, minor) in versions {
        let lib = format!("python{major}.{minor}");
        for dir in [
            prefix.join("local/lib").join(&lib).join("dist-packages"),
            prefix.join("lib").join(&lib).join("site-packages"),
            prefix
                .join("lib")
                .join(format!("{lib}t"))
                .join("site-packages"),
            prefix.join("lib/python3/dist-packages"),
        ] {
            if dir.is_dir() && !out.contains(&dir) {
                out.push(dir);
            }
        }
    }
    out
}

/// The distributions and startup hooks of one site directory.
fn read_site_dir(
    dir: &Path,
    distributions: &mut BTreeMap<String, Distribution>,
    hooks: &mut Vec<Hook>,
) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    // `site.py` processes `.pth` files in sorted name order.
    names.sort();
    for name in names {
        let path = dir.join(&name);
        if let Some(stem) = name
            .strip_suffix(".dist-info")
            .or_else(|| name.strip_suffix(".egg-info"))
        {
            let metadata = if name.ends_with(".dist-info") {
                path.join("METADATA")
            } else if path.is_dir() {
                path.join("PKG-INFO")
            } else {
                path.clone()
            };
            let text = read_text(&metadata).unwrap_or_default();
            let header = |key: &str| {
                text.lines()
                    .take_while(|l| !l.trim().is_empty())
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.trim()
                            .eq_ignore_ascii_case(key)
                            .then(|| v.trim().to_string())
                    })
            };
            let dist = header("Name")
                .unwrap_or_else(|| stem.split_once('-').map_or(stem, |(n, _)| n).to_string());
            let version = header("Version").as_deref().and_then(parse_version);
            let pytest_plugins = read_text(&path.join("entry_points.txt"))
                .map(|t| pytest11(&t))
                .unwrap_or_default();
            distributions
                .entry(normalize(&dist))
                .or_insert(Distribution {
                    name: dist,
                    version,
                    metadata,
                    pytest_plugins,
                });
            continue;
        }
        let kind = if name == "pytest-cov.pth" {
            Some(HookKind::PytestCov)
        } else if COVERAGE_PTH.contains(&name.as_str()) {
            Some(HookKind::Coverage)
        } else if name == "subcover.pth" {
            Some(HookKind::Subcover { pid: None })
        } else {
            name.strip_prefix("subcover_")
                .and_then(|n| n.strip_suffix(".pth"))
                .map(|pid| HookKind::Subcover {
                    pid: pid.parse().ok(),
                })
        };
        let custom =
            name.ends_with(".pth") || name == "sitecustomize.py" || name == "usercustomize.py";
        if kind.is_none() && !custom {
            continue;
        }
        let Some(text) = read_text(&path) else {
            continue;
        };
        let kind = match kind {
            Some(kind) => kind,
            None if calls_process_startup(&name, &text) => HookKind::Custom,
            None => continue,
        };
        hooks.push(Hook { kind, path, text });
    }
}

/// A hand-made hook: a `.pth` line that `site.py` executes (it starts with
/// `import`) or a customize module, calling `process_startup`.
fn calls_process_startup(name: &str, text: &str) -> bool {
    if name.ends_with(".pth") {
        text.lines().any(|l| {
            (l.starts_with("import ") || l.starts_with("import\t")) && l.contains("process_startup")
        })
    } else {
        text.contains("process_startup")
    }
}

/// The `[pytest11]` entry points of an `entry_points.txt` (an INI file, as
/// `importlib.metadata` reads it).
fn pytest11(text: &str) -> Vec<String> {
    let Ok(ini) = crate::config::ini::parse(text) else {
        return Vec::new();
    };
    ini.section("pytest11")
        .map(|s| s.entries.iter().map(|e| e.key.clone()).collect())
        .unwrap_or_default()
}

/// A small file's text (site-packages files are read with the same size
/// limit as a project's files).
fn read_text(path: &Path) -> Option<String> {
    let bytes = crate::source::read_regular(path).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_pyvenv_cfg_and_the_layout() {
        assert_eq!(major_minor("3.11.7"), Some((3, 11)));
        assert_eq!(major_minor("3.13t"), Some((3, 13)));
        assert_eq!(major_minor("3"), None);
        let cfg = parse_pyvenv_cfg(
            "home = /usr/bin\nversion_info = 3.12.1\nInclude-System-Site-Packages = false\n",
        );
        assert_eq!(cfg["home"], "/usr/bin");
        assert_eq!(cfg["include-system-site-packages"], "false");
    }

    #[test]
    fn a_pth_hook_is_an_import_line_calling_process_startup() {
        assert!(calls_process_startup(
            "cov.pth",
            "import coverage; coverage.process_startup()\n"
        ));
        // A path line is not executed.
        assert!(!calls_process_startup("cov.pth", "/src/process_startup\n"));
        assert!(calls_process_startup(
            "sitecustomize.py",
            "import coverage\ncoverage.process_startup()\n"
        ));
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn dist(site: &Path, name: &str, version: &str) {
        write(
            &site.join(format!(
                "{}-{version}.dist-info/METADATA",
                name.replace('-', "_")
            )),
            &format!(
                "Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n\nBody: not a header\n"
            ),
        );
    }

    #[test]
    fn a_venv_is_read_from_its_directory_or_its_interpreter() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join(".venv");
        write(
            &venv.join("pyvenv.cfg"),
            "home = /nowhere/bin\nversion = 3.12.4\n",
        );
        let site = venv.join("lib/python3.12/site-packages");
        dist(&site, "pytest-cov", "6.3.0");
        write(&site.join("pytest-cov.pth"), "import os\n");
        write(&site.join("subcover_77.pth"), "import coverage\n");
        write(
            &site.join("zz.pth"),
            "import coverage; coverage.process_startup()\n",
        );
        write(&site.join("paths.pth"), "/src\n");
        write(&venv.join("bin/python"), "");
        let no_vars = |_: &str| None;
        for env in [
            locate(tmp.path(), None, &no_vars).unwrap(),
            locate(tmp.path(), Some(&venv.join("bin/python")), &no_vars).unwrap(),
        ] {
            assert_eq!(env.prefix, venv);
            assert_eq!(env.python, Some((3, 12)));
            assert_eq!(env.site_dirs, vec![site.clone()]);
            assert_eq!(env.version("pytest_cov").unwrap().to_string(), "6.3.0");
            let kinds: Vec<&HookKind> = env.hooks.iter().map(|h| &h.kind).collect();
            assert_eq!(
                kinds,
                [
                    &HookKind::PytestCov,
                    &HookKind::Subcover { pid: Some(77) },
                    &HookKind::Custom
                ]
            );
        }
    }

    #[test]
    fn system_site_packages_windows_layout_and_eggs() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().join("base");
        dist(&base.join("Lib/site-packages"), "coverage", "7.9.2");
        let venv = tmp.path().join("env");
        write(
            &venv.join("pyvenv.cfg"),
            &format!(
                "home = {}\ninclude-system-site-packages = true\nversion_info = 3.11.7.final.0\n",
                base.display()
            ),
        );
        let site = venv.join("Lib/site-packages");
        write(
            &site.join("pytest_cov.egg-info/PKG-INFO"),
            "Name: pytest-cov\nVersion: 2.12.1\n",
        );
        let env = from_python(&venv, String::new()).unwrap();
        assert_eq!(env.site_dirs, vec![site, base.join("Lib/site-packages")]);
        assert_eq!(env.version("coverage").unwrap().to_string(), "7.9.2");
        assert_eq!(env.version("pytest-cov").unwrap().to_string(), "2.12.1");
    }

    #[test]
    fn a_shim_on_path_is_not_an_interpreter() {
        let tmp = tempfile::tempdir().unwrap();
        let shims = tmp.path().join("shims");
        write(
            &shims.join("python3"),
            "#!/bin/sh\nexec pyenv python3 \"$@\"\n",
        );
        let path = shims.to_string_lossy().into_owned();
        let vars = move |k: &str| (k == "PATH").then(|| path.clone());
        let err = locate(tmp.path(), None, &vars).unwrap_err();
        assert!(err.contains("no Python environment found"), "{err}");
        let err = locate(tmp.path(), Some(&shims.join("python3")), &vars).unwrap_err();
        assert!(err.contains("a script"), "{err}");
    }
}
