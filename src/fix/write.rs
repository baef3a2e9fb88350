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
