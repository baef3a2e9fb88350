//! Entry points for fuzzing, shared by the cargo-fuzz targets in `fuzz/`
//! and the smoke run in `tests/fuzz.rs`. Each one panics exactly when it
//! finds a defect: a panic inside covdoctor, a fix whose output does not
//! parse, or a fix that a second run would change again.

use crate::config::ini;
use crate::config::toml as tomlx;
use crate::fix::{self, Edit};

/// The INI reader and editor: whatever parses, a key set in it parses again
/// and setting the same key again changes nothing.
pub fn ini_round_trip(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(parsed) = ini::parse(&text) else {
        return;
    };
    let source = std::sync::Arc::new(crate::source::SourceFile::new(
        "setup.cfg".into(),
        text.into_owned(),
    ));
    let section = parsed
        .sections
        .first()
        .map_or("coverage:run".to_string(), |s| s.name.clone());
    let Some(edit) = fix::config_edit::ini_set(&source, &section, "sigterm", "true") else {
        return;
    };
    let after = apply(&source.text, &edit);
    let again = ini::parse(&after)
        .unwrap_or_else(|e| panic!("the edited INI does not parse: {}\n{after}", e.message));
    let entry = again.section(&section).and_then(|s| s.get("sigterm"));
    assert_eq!(
        entry.map(|e| e.value.as_str()),
        Some("true"),
        "the key was not set:\n{after}"
    );
}

/// The words kept of a Python file that is not parsed hold every
/// identifier the parser finds in it, whatever the text (strings,
/// comments, f-strings, errors).
pub fn python_words(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let missing = crate::analyze::python::identifiers_missing_from_words(&text);
    assert!(
        missing.is_empty(),
        "identifiers missing from the words: {missing:?}\n{text}"
    );
}

/// [`python_words`] on every `.py` file under `dir`: how many were
/// checked, or the first file whose words miss an identifier, with them.
pub fn python_words_in_tree(dir: &std::path::Path) -> Result<usize, String> {
    let mut stack = vec![dir.to_path_buf()];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                let text = String::from_utf8_lossy(&bytes);
                let missing = crate::analyze::python::identifiers_missing_from_words(&text);
                if !missing.is_empty() {
                    return Err(format!("{}: {missing:?}", path.display()));
                }
                checked += 1;
            }
        }
    }
    Ok(checked)
}

/// The TOML configuration model: any document that parses can be read as
/// coverage's configuration without a panic.
pub fn toml_config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if tomlx::parse(&text).is_err() {
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("pyproject.toml"), text.as_bytes()).expect("written");
    let _ = crate::check(&[dir.path().to_path_buf()], &crate::RunOptions::default());
}

/// A project made of `files` (name, bytes): checking it does not panic;
/// every fix writes files that parse, and a second `--fix` changes nothing.
/// Returns how many files the fix changed.
pub fn project(files: &[(String, Vec<u8>)]) -> usize {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, bytes) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("directories");
        }
        std::fs::write(&path, bytes).expect("written");
    }
    let root = dir.path().to_path_buf();
    let _ = crate::check(std::slice::from_ref(&root), &crate::RunOptions::default());
    let first = fix::run(
        std::slice::from_ref(&root),
        &crate::RunOptions::default(),
        true,
    );
    let internal: Vec<_> = first
        .problems
        .iter()
        .filter(|p| p.message.contains("internal error"))
        .collect();
    assert!(internal.is_empty(), "fix failed: {internal:?}");
    for (path, change) in &first.changes {
        fix::write::write_change(path, change).expect("the fixed file is written");
    }
    let second = fix::run(
        std::slice::from_ref(&root),
        &crate::RunOptions::default(),
        true,
    );
    assert!(
        second.changes.is_empty(),
        "a second --fix changed {:?}",
        second.changes.keys().collect::<Vec<_>>()
    );
    // The Python files the fix wrote still parse if they parsed before.
    for (path, change) in &first.changes {
        if path.extension().is_some_and(|e| e == "py")
            && let (Some(before), Some(after)) = (&change.before, &change.after)
        {
            let parses =
                |b: &[u8]| ruff_python_parser::parse_module(&String::from_utf8_lossy(b)).is_ok();
            assert!(
                !parses(before) || parses(after),
                "{} no longer parses",
                path.display()
            );
        }
    }
    first.changes.len()
}

fn apply(text: &str, edit: &Edit) -> String {
    match edit {
        Edit::Replace { range, content, .. } => {
            let mut out = text.to_string();
            out.replace_range(range.range(), content);
            out
        }
        Edit::Delete { .. } => String::new(),
    }
}
