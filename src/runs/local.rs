//! The local run: `pytest` as a developer types it, with pytest's own
//! configuration (`addopts`) in the project's environment (`.venv`,
//! `venv`, `$VIRTUAL_ENV`, else what the project's files say it installs).

use super::{Kind, Run};
use crate::config::ProjectConfig;
use crate::source::{Location, Span};

pub fn run(config: &ProjectConfig) -> Run {
    let declared = config.pytest.as_ref().map(|p| {
        p.addopts
            .clone()
            .unwrap_or_else(|| Location::new(&p.source, Span::empty(0)))
    });
    let mut run = Run::new(Kind::Local, "local `pytest`", declared);
    run.installs.local_environment = true;
    run
}
