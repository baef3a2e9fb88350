//! GitLab CI: `.gitlab-ci.yml`. Every top-level mapping with a `script` is
//! a job; its commands are `before_script` (its own, else the default's),
//! then `script`; `variables` (global and the job's) are its environment.

use std::path::Path;

use saphyr::MarkedYaml;

use super::github::{scalar, shell_steps, yaml_location};
use super::make::Target;
use super::{Kind, Run};
use crate::config::coverage::FileLoader;
use crate::problem::Problem;
use crate::source::Source;

pub fn runs(root: &Path, loader: &mut dyn FileLoader, make: &[Target]) -> Vec<Run> {
    let Some(Ok(source)) = loader.load(&root.join(".gitlab-ci.yml")) else {
        return Vec::new();
    };
    let Some(docs) = super::github::load_yaml(&source, loader) else {
        return Vec::new();
    };
    let Some(doc) = docs.first() else {
        return Vec::new();
    };
    let Some(top) = doc.data.as_mapping() else {
        if let Some(problem) = not_a_mapping(&source, doc) {
            loader.report(problem);
        }
        return Vec::new();
    };
    let default_before = doc
        .data
        .as_mapping_get("default")
        .and_then(|d| d.data.as_mapping_get("before_script"))
        .or_else(|| doc.data.as_mapping_get("before_script"));
    let global_vars = doc.data.as_mapping_get("variables");
    let mut out = Vec::new();
    for (key, job) in top {
        let Some(name) = scalar(key) else { continue };
        if name.starts_with('.') || job.data.as_mapping_get("script").is_none() {
            continue;
        }
        let mut run = Run::new(
            Kind::GitlabCi,
            format!("GitLab CI job `{name}`"),
            Some(yaml_location(&source, key)),
        );
        let mut steps = Vec::new();
        for vars in [global_vars, job.data.as_mapping_get("variables")]
            .into_iter()
            .flatten()
        {
            steps.extend(super::github::env_steps(&source, vars));
        }
        let before = job.data.as_mapping_get("before_script").or(default_before);
        for block in [before, job.data.as_mapping_get("script")]
            .into_iter()
            .flatten()
        {
            let items: Vec<&MarkedYaml> = match block.data.as_vec() {
                Some(seq) => seq.iter().collect(),
                None => vec![block],
            };
            for item in items {
                steps.extend(shell_steps(root, &source, item, make, &[]));
            }
        }
        run.apply(&steps);
        out.push(run);
    }
    out
}

/// GitLab refuses a configuration whose top level is not a mapping (a
/// list, a string): "Invalid configuration format". A document that holds
/// nothing (comments only) defines no job and is left alone.
fn not_a_mapping(source: &Source, doc: &MarkedYaml) -> Option<Problem> {
    if doc.data.is_mapping() || doc.data.is_null() {
        return None;
    }
    let what = if doc.data.is_sequence() {
        "a list"
    } else {
        "a single value"
    };
    Some(Problem::invalid(
        yaml_location(source, doc),
        format!(
            "the top level of .gitlab-ci.yml is {what}, not a mapping of jobs: GitLab refuses it (\"Invalid configuration format\")"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use saphyr::LoadableYamlNode;

    fn problem(text: &str) -> Option<String> {
        let source = std::sync::Arc::new(crate::source::SourceFile::new(
            ".gitlab-ci.yml".into(),
            text.to_string(),
        ));
        let docs = MarkedYaml::load_from_str(&source.text).unwrap();
        not_a_mapping(&source, docs.first()?).map(|p| p.message)
    }

    #[test]
    fn a_top_level_that_is_not_a_mapping_is_refused() {
        let found = problem("- pytest --cov\n").unwrap();
        assert!(found.contains("a list"), "{found}");
        assert!(found.contains("Invalid configuration format"), "{found}");
        let found = problem("pytest --cov\n").unwrap();
        assert!(found.contains("a single value"), "{found}");
        assert!(problem("42\n").is_some());
    }

    #[test]
    fn a_mapping_or_nothing_is_not() {
        assert_eq!(problem("test:\n  script: [pytest]\n"), None);
        assert_eq!(problem("{}\n"), None);
        assert_eq!(problem("# nothing yet\n"), None);
        assert_eq!(problem("~\n"), None);
    }
}
