//! Writing fixed files: atomically (a temporary file in the same directory,
//! then a rename), keeping permissions, and never over a file that changed
//! since covdoctor read it, that vanished, or that is read-only.

use std::io::Write;
use std::path::Path;

use super::Change;
use crate::problem::Problem;

/// Writes one change. On any error the file is left as it was.
pub fn write_change(path: &Path, change: &Change) -> Result<(), Problem> {
    let fail = |message: String| Problem::at_path(path.to_path_buf(), message);
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
    let Some(after) = &change.after else {
        return std::fs::remove_file(path)
            .map_err(|e| fail(format!("cannot remove this file: {e}")));
    };
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => {
            if meta.permissions().readonly() {
                return Err(fail("this file is read-only; not written".to_string()));
            }
            Some(meta.permissions())
        }
        Err(_) => None,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| fail(format!("cannot write next to this file: {e}")))?;
    temp.write_all(after)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| fail(format!("cannot write this file: {e}")))?;
    if let Some(permissions) = permissions {
        std::fs::set_permissions(temp.path(), permissions)
            .map_err(|e| fail(format!("cannot keep this file's permissions: {e}")))?;
    }
    temp.persist(path)
        .map_err(|e| fail(format!("cannot replace this file: {}", e.error)))?;
    Ok(())
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
