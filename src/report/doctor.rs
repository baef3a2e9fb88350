//! `covdoctor doctor`'s summary of the environment it inspected, printed
//! before the findings in the text formats.

use super::{Style, display_path};
use crate::environment::{Environment, HookKind};

/// The interpreter, its site-packages, the packages that matter and every
/// startup hook found.
pub fn render_environment(env: &Environment, style: &Style) -> String {
    let mut out = String::new();
    let mut line = |key: &str, value: String| {
        out.push_str(&format!("{key:<15}{value}\n"));
    };
    line(
        "environment",
        format!("{} ({})", display_path(&env.prefix, &style.cwd), env.chosen),
    );
    line(
        "python",
        match (env.python, &env.python_from) {
            (Some((major, minor)), Some(from)) => format!("{major}.{minor} (from {from})"),
            (Some((major, minor)), None) => format!("{major}.{minor}"),
            _ => "unknown".to_string(),
        },
    );
    if env.site_dirs.is_empty() {
        line("site-packages", "none found".to_string());
    }
    for dir in &env.site_dirs {
        line("site-packages", display_path(dir, &style.cwd));
    }
    for package in ["pytest", "pytest-cov", "coverage"] {
        let value = match env.distributions.get(package) {
            Some(d) => d.version.as_ref().map_or_else(
                || "installed (version unreadable)".to_string(),
                |v| v.to_string(),
            ),
            None => "not installed".to_string(),
        };
        line(package, value);
    }
    let plugins: Vec<String> = env
        .distributions
        .values()
        .filter(|d| !d.pytest_plugins.is_empty())
        .map(|d| d.name.clone())
        .collect();
    if !plugins.is_empty() {
        line("pytest plugins", plugins.join(", "));
    }
    if env.hooks.is_empty() {
        line("startup hooks", "none".to_string());
    }
    for hook in &env.hooks {
        let what = match &hook.kind {
            HookKind::PytestCov => "pytest-cov < 7's hook",
            HookKind::Coverage => "coverage 7.13+'s hook",
            HookKind::Subcover { .. } => "coverage 7.10 to 7.12's run-time hook",
            HookKind::Custom => "calls coverage.process_startup()",
        };
        line(
            "startup hook",
            format!("{}: {what}", display_path(&hook.path, &style.cwd)),
        );
    }
    out.push('\n');
    out
}
