//! Writing fixed files: atomically (a temporary file in the same directory,
//! then a rename), keeping permissions, and never over a file that changed
//! since covdoctor read it, that vanished, or that is read-only.

use std::io::Write;
use std::path::Path;

use super::Change;
use crate::problem::Problem;

/// Writes one change. On any error the file is left as it was.
///
/// A symlink is written through: its target gets the new text and the link
/// stays a link. A file with more than one hard link is refused (the
/// atomic rename would leave the other names with the old text), and so is
/// one whose owner cannot be kept.
pub fn write_change(path: &Path, change: &Change) -> Result<(), Problem> {
    let fail = |message: String| Problem::at_path(path.to_path_buf(), message);
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let original = path;
    let resolved;
    let path = if is_link {
        resolved = std::fs::canonicalize(path)
            .map_err(|e| fail(format!("cannot follow this symlink: {e}")))?;
        resolved.as_path()
    } else {
        path
    };
    let current = match std::fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(fail(format!(
                "cannot read this file again before writing it: {e}"
            )));
        }
    };
    if current != change.before {
        return Err(fail(match (&change.before, &current) {
            (Some(_), None) => "this file vanished while covdoctor ran; not written".to_string(),
            (None, Some(_)) => "this file appeared while covdoctor ran; not written".to_string(),
            _ => "this file changed while covdoctor ran; not written".to_string(),
        }));
    }
    // Deleting a link removes the link, not what it points at.
    let Some(after) = &change.after else {
        return std::fs::remove_file(original)
            .map_err(|e| fail(format!("cannot remove this file: {e}")));
    };
    let meta = std::fs::metadata(path).ok();
    if let Some(meta) = &meta {
        if meta.permissions().readonly() {
            return Err(fail("this file is read-only; not written".to_string()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if meta.nlink() > 1 {
                return Err(fail(format!(
                    "this file has {} hard links, which replacing it would break; not written",
                    meta.nlink()
                )));
            }
        }
    }
    let permissions = meta.as_ref().map(std::fs::Metadata::permissions);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let prefix = format!(".{name}.covdoctor-");
    remove_stale_temporaries(dir, &prefix);
    let mut temp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail(format!("cannot write next to this file: {e}")))?;
    temp.write_all(after)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| fail(format!("cannot write this file: {e}")))?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(temp.path(), permissions)
            .map_err(|e| fail(format!("cannot keep this file's permissions: {e}")))?;
    }
    #[cfg(unix)]
    copy_xattrs(path, temp.path()).map_err(|e| {
        fail(format!(
            "cannot keep this file's extended attributes: {e}; not written"
        ))
    })?;
    #[cfg(unix)]
    if let Some(meta) = &meta {
        use std::os::unix::fs::MetadataExt;
        let made = std::fs::metadata(temp.path())
            .map_err(|e| fail(format!("cannot write next to this file: {e}")))?;
        if (made.uid(), made.gid()) != (meta.uid(), meta.gid()) {
            std::os::unix::fs::chown(temp.path(), Some(meta.uid()), Some(meta.gid())).map_err(
                |e| {
                    fail(format!(
                        "cannot keep this file's owner ({}:{}): {e}; not written",
                        meta.uid(),
                        meta.gid()
                    ))
                },
            )?;
        }
    }
    temp.persist(path)
        .map_err(|e| fail(format!("cannot replace this file: {}", e.error)))?;
    Ok(())
}

/// Extended attributes (a SELinux label, a macOS quarantine flag, user
/// tags) move to the replacement file, which the rename would drop.
#[cfg(unix)]
fn copy_xattrs(from: &Path, to: &Path) -> std::io::Result<()> {
    if !xattr::SUPPORTED_PLATFORM || !from.exists() {
        return Ok(());
    }
    let names = match xattr::list(from) {
        Ok(names) => names,
        // A file system without extended attributes has none to keep.
        Err(e) if e.raw_os_error() == Some(95) => return Ok(()),
        Err(e) => return Err(e),
    };
    for name in names {
        let Some(value) = xattr::get(from, &name)? else {
            continue;
        };
        match xattr::set(to, &name, &value) {
            Ok(()) => {}
            // `security.*` (a SELinux label) and the other system namespaces
            // may be set only by privileged processes; the new file gets the
            // directory's default there, as with any editor's save.
            Err(_) if !name.to_string_lossy().starts_with("user.") => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Temporary files of an earlier covdoctor run that was killed while it
/// wrote this file (`.<name>.covdoctor-XXXXXX.tmp`, untouched for a
/// minute, so a run writing it now is left alone).
fn remove_stale_temporaries(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let file_name = file_name.to_string_lossy();
        if !(file_name.starts_with(prefix) && file_name.ends_with(".tmp")) {
            continue;
        }
        let stale = entry
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60));
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(before: Option<&str>, after: Option<&str>) -> Change {
        Change {
            before: before.map(|b| b.as_bytes().to_vec()),
            after: after.map(|a| a.as_bytes().to_vec()),
        }
    }

    #[test]
    fn writes_atomically_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyproject.toml");
        std::fs::write(&path, "a\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_change(&path, &change(Some("a\n"), Some("b\n"))).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\n");
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_files_that_vanished_changed_or_appeared() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("setup.cfg");
        let err = write_change(&path, &change(Some("a\n"), Some("b\n"))).unwrap_err();
        assert!(err.message.contains("vanished"), "{}", err.message);
        assert!(!path.exists());
        std::fs::write(&path, "edited by someone\n").unwrap();
        let err = write_change(&path, &change(Some("a\n"), Some("b\n"))).unwrap_err();
        assert!(err.message.contains("changed"), "{}", err.message);
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "edited by someone\n"
        );
        let err = write_change(&path, &change(None, Some("new\n"))).unwrap_err();
        assert!(err.message.contains("appeared"), "{}", err.message);
    }

    #[cfg(unix)]
    #[test]
    fn writes_through_symlinks_and_refuses_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("shared.toml");
        std::fs::write(&target, "a\n").unwrap();
        let link = dir.path().join("pyproject.toml");
        std::os::unix::fs::symlink("shared.toml", &link).unwrap();
        write_change(&link, &change(Some("a\n"), Some("b\n"))).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "b\n");

        let hard = dir.path().join("also.toml");
        std::fs::hard_link(&target, &hard).unwrap();
        let err = write_change(&target, &change(Some("b\n"), Some("c\n"))).unwrap_err();
        assert!(err.message.contains("hard links"), "{}", err.message);
        assert_eq!(std::fs::read_to_string(&hard).unwrap(), "b\n");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_extended_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("setup.cfg");
        std::fs::write(&path, "a\n").unwrap();
        // Not every file system here takes user attributes.
        if xattr::set(&path, "user.covdoctor.test", b"kept").is_err() {
            return;
        }
        write_change(&path, &change(Some("a\n"), Some("b\n"))).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "b\n");
        assert_eq!(
            xattr::get(&path, "user.covdoctor.test").unwrap().as_deref(),
            Some(&b"kept"[..])
        );
    }

    #[test]
    fn stale_temporaries_of_a_killed_run_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tox.ini");
        std::fs::write(&path, "a\n").unwrap();
        let stale = dir.path().join(".tox.ini.covdoctor-abc123.tmp");
        let fresh = dir.path().join(".tox.ini.covdoctor-def456.tmp");
        let other = dir.path().join(".setup.cfg.covdoctor-abc123.tmp");
        for f in [&stale, &fresh, &other] {
            std::fs::write(f, "partial").unwrap();
        }
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for f in [&stale, &other] {
            std::fs::File::options()
                .write(true)
                .open(f)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        write_change(&path, &change(Some("a\n"), Some("b\n"))).unwrap();
        assert!(!stale.exists(), "the stale one of this file goes");
        assert!(fresh.exists(), "one being written now stays");
        assert!(
            other.exists(),
            "another file's is not this write's to judge"
        );
    }

    #[test]
    fn creates_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".coveragerc");
        write_change(&path, &change(None, Some("[run]\nsigterm = true\n"))).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[run]\nsigterm = true\n"
        );
        write_change(&path, &change(Some("[run]\nsigterm = true\n"), None)).unwrap();
        assert!(!path.exists());
    }
}
