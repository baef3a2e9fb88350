//! Which environment variables an explicit `env=` mapping carries into a
//! child, and which variables each coverage mechanism needs.

use std::collections::BTreeSet;

/// The variables a mapping carries, as a predicate over names: everything
/// inherited (`all`), names copied explicitly, and names copied by a prefix
/// filter, minus names or prefixes removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VarSet {
    /// Built from `os.environ` (so it carries whatever the parent has).
    pub all: bool,
    pub names: BTreeSet<String>,
    pub prefixes: BTreeSet<String>,
    pub removed_names: BTreeSet<String>,
    pub removed_prefixes: BTreeSet<String>,
    /// Names the mapping sets to an empty value itself: a fix that merges
    /// the parent's variables under the mapping's own keys cannot bring
    /// them back.
    pub blanked: BTreeSet<String>,
}

impl VarSet {
    pub fn everything() -> Self {
        VarSet {
            all: true,
            ..VarSet::default()
        }
    }

    pub fn carries(&self, var: &str) -> bool {
        if self.names.contains(var) {
            return true;
        }
        let inherited = self.all || self.prefixes.iter().any(|p| var.starts_with(p.as_str()));
        let removed = self.removed_names.contains(var)
            || self
                .removed_prefixes
                .iter()
                .any(|p| var.starts_with(p.as_str()));
        inherited && !removed
    }

    /// `name` set to an empty value (`""`): the child sees the variable,
    /// but coverage treats an empty value as unset, so it is not carried.
    pub fn blank(&mut self, name: &str) {
        self.names.remove(name);
        self.removed_names.insert(name.to_string());
        self.blanked.insert(name.to_string());
    }

    /// Sets `name`, to an empty value when `blank`. Only the variables
    /// whose empty value turns a mechanism off are then not carried:
    /// pytest-cov's hook starts nothing without `COV_CORE_DATAFILE`, and
    /// coverage reads an empty `COVERAGE_PROCESS_CONFIG` or
    /// `COVERAGE_PROCESS_START` as unset.
    pub fn set(&mut self, name: String, blank: bool) {
        const OFF_WHEN_EMPTY: &[&str] = &[
            "COV_CORE_DATAFILE",
            "COVERAGE_PROCESS_CONFIG",
            "COVERAGE_PROCESS_START",
        ];
        if blank && OFF_WHEN_EMPTY.contains(&name.as_str()) {
            self.blank(&name);
        } else {
            self.removed_names.remove(&name);
            self.blanked.remove(&name);
            self.names.insert(name);
        }
    }

    /// Both mappings merged (`{**a, **b}`, `a | b`, `a.update(b)`).
    pub fn union(mut self, other: VarSet) -> VarSet {
        self.all |= other.all;
        self.names.extend(other.names);
        self.prefixes.extend(other.prefixes);
        // A removal only survives if both sides removed it.
        self.removed_names = self
            .removed_names
            .intersection(&other.removed_names)
            .cloned()
            .collect();
        self.removed_prefixes = self
            .removed_prefixes
            .intersection(&other.removed_prefixes)
            .cloned()
            .collect();
        self.blanked.extend(other.blanked);
        self
    }

    /// A short description for messages: "only PATH and HOME",
    /// "the parent's variables except COV*".
    pub fn describe(&self) -> String {
        let list = |set: &BTreeSet<String>, suffix: &str| -> String {
            let items: Vec<String> = set.iter().map(|s| format!("{s}{suffix}")).collect();
            match items.len() {
                0 => String::new(),
                1 => items[0].clone(),
                n if n <= 5 => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
                n => format!("{} and {} more", items[..4].join(", "), n - 4),
            }
        };
        if self.all {
            let mut removed: BTreeSet<String> = self.removed_names.clone();
            removed.extend(self.removed_prefixes.iter().map(|p| format!("{p}*")));
            return format!("the parent's variables except {}", list(&removed, ""));
        }
        let mut kept: BTreeSet<String> = self.names.clone();
        kept.extend(self.prefixes.iter().map(|p| format!("{p}*")));
        if kept.is_empty() {
            "no variables at all".to_string()
        } else {
            format!("only {}", list(&kept, ""))
        }
    }
}

/// What is known about a mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Carried {
    Known(VarSet),
    /// Built from something covdoctor cannot follow: never a finding.
    Unknown,
}

/// The ways a Python child can be told to measure itself; each needs
/// certain variables in the child's environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mechanism {
    /// pytest-cov < 7: its `.pth` hook reads `COV_CORE_*`.
    PytestCovHook,
    /// coverage >= 7.10 with `[run] patch = subprocess`: the configuration
    /// travels in `COVERAGE_PROCESS_CONFIG` (7.10.3+).
    SubprocessPatch,
    /// coverage's manual recipe: the project calls
    /// `coverage.process_startup()` (in `sitecustomize.py` or a `.pth`), which
    /// reads `COVERAGE_PROCESS_START`.
    ProcessStart,
}

impl Mechanism {
    /// Variables that must all be present for this mechanism.
    pub fn required(&self) -> &'static [&'static str] {
        match self {
            Mechanism::PytestCovHook => {
                &["COV_CORE_SOURCE", "COV_CORE_DATAFILE", "COV_CORE_CONFIG"]
            }
            Mechanism::SubprocessPatch => &["COVERAGE_PROCESS_CONFIG"],
            Mechanism::ProcessStart => &["COVERAGE_PROCESS_START"],
        }
    }

    /// Whether `vars` lets a child start measuring through this mechanism.
    ///
    /// `COVERAGE_PROCESS_START` alone does not satisfy pytest-cov or the
    /// subprocess patch: neither sets it in the parent, so copying it copies
    /// nothing (measured with pytest-cov 6.3.0 and 7.1.0).
    pub fn satisfied_by(&self, vars: &VarSet) -> bool {
        self.required().iter().all(|v| vars.carries(v))
    }

    /// The variables this mechanism needs that `vars` lacks.
    pub fn missing(&self, vars: &VarSet) -> Vec<&'static str> {
        self.required()
            .iter()
            .copied()
            .filter(|v| !vars.carries(v))
            .collect()
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Mechanism::PytestCovHook => {
                "pytest-cov < 7 starts coverage in a child through COV_CORE_SOURCE, COV_CORE_DATAFILE and COV_CORE_CONFIG"
            }
            Mechanism::SubprocessPatch => {
                "coverage's `patch = subprocess` starts coverage in a child through COVERAGE_PROCESS_CONFIG"
            }
            Mechanism::ProcessStart => {
                "the project's coverage.process_startup() hook starts coverage in a child through COVERAGE_PROCESS_START"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(p: &str) -> VarSet {
        VarSet {
            prefixes: [p.to_string()].into(),
            ..VarSet::default()
        }
    }

    #[test]
    fn prefix_filters_by_mechanism() {
        // startswith("COV") carries everything; startswith("COV_") only the
        // pytest-cov < 7 variables.
        assert!(Mechanism::PytestCovHook.satisfied_by(&prefix("COV")));
        assert!(Mechanism::SubprocessPatch.satisfied_by(&prefix("COV")));
        assert!(Mechanism::PytestCovHook.satisfied_by(&prefix("COV_")));
        assert!(!Mechanism::SubprocessPatch.satisfied_by(&prefix("COV_")));
    }

    #[test]
    fn removal_and_union() {
        let mut v = VarSet::everything();
        v.removed_prefixes.insert("COV".into());
        assert!(!v.carries("COV_CORE_SOURCE"));
        assert!(v.carries("PATH"));
        let merged = v.clone().union(VarSet::everything());
        assert!(merged.carries("COV_CORE_SOURCE"));
        assert_eq!(v.describe(), "the parent's variables except COV*");
        let mut only = VarSet::default();
        only.names.insert("PATH".into());
        only.names.insert("APP_MODE".into());
        assert_eq!(only.describe(), "only APP_MODE and PATH");
        assert!(!Mechanism::PytestCovHook.satisfied_by(&only));
        assert_eq!(
            Mechanism::SubprocessPatch.missing(&only),
            vec!["COVERAGE_PROCESS_CONFIG"]
        );
    }
}
