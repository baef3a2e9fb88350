//! The command line, declared with clap. No logic lives here.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::report::OutputFormat;

const EXAMPLES: &str = "\
Examples:
  covdoctor check                    check the project in the current directory
  covdoctor check path/to/project    check another project
  covdoctor check --fix              apply safe fixes
  covdoctor check --diff --unsafe-fixes   show every fix as a diff, write nothing
  covdoctor check --output-format json
  covdoctor check --output-format sarif -o covdoctor.sarif
  covdoctor rules                    list the rules
  covdoctor rule env-drops-coverage  explain a rule

Exit status: 0 no findings, 1 findings, 2 usage or input errors.";

#[derive(Debug, Parser)]
#[command(
    name = "covdoctor",
    version = crate::config::releases::VERSION,
    about = "Finds why the coverage of Python subprocesses started by your tests is lost",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check projects for lost subprocess coverage.
    #[command(after_help = EXAMPLES)]
    Check(Box<CheckArgs>),
    /// Print a rule's documentation (or every rule's, with --all).
    Rule {
        /// The rule's name, e.g. env-drops-coverage.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Every rule's page, one after the other.
        #[arg(long)]
        all: bool,
    },
    /// List all rules.
    Rules {
        /// `text` or `json` (name, summary, severity, scope, whether a
        /// finding claims lost coverage).
        #[arg(long, value_enum, default_value_t = RunsFormat::Text)]
        output_format: RunsFormat,
    },
    /// Show how covdoctor believes the tests are run: every run found (the
    /// local run, tox, nox, CI jobs, Makefile targets), its pytest-cov and
    /// coverage versions and where they come from, its pytest arguments,
    /// and how its Python children are measured.
    Runs(RunsArgs),
    /// Show the coverage.py configuration each run reads: every setting
    /// with the file and line it comes from, the files considered and why
    /// they lost, the options coverage.py ignores, and the pytest
    /// arguments that matter.
    Config(ConfigArgs),
    /// Inspect the Python environment the tests run in, without running
    /// it: the installed pytest, pytest-cov and coverage.py, the startup
    /// hooks in site-packages (missing, stale), the coverage and pytest
    /// variables set in the shell, and what the project expects.
    Doctor(DoctorArgs),
}

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The project whose tests the environment runs.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// The interpreter (`.venv/bin/python`) or environment directory to
    /// inspect; default: the project's `.venv` or `venv`, else
    /// `$VIRTUAL_ENV`, else the first `python3` on PATH.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print the findings and nothing else (no environment summary).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Exit with status 0 even when there are findings.
    #[arg(long)]
    pub exit_zero: bool,
}

/// How findings are printed, the same for `check` and `doctor`.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// How to print findings.
    #[arg(
        long,
        value_enum,
        default_value_t = OutputFormat::Full,
        env = "COVDOCTOR_OUTPUT_FORMAT"
    )]
    pub output_format: OutputFormat,
    /// When to use colours (`auto`: on a terminal, or with FORCE_COLOR;
    /// never with NO_COLOR).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

/// The versions to assume instead of detecting them.
#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    /// The pytest-cov version to assume (instead of detecting it).
    #[arg(long, value_name = "VERSION")]
    pub pytest_cov_version: Option<String>,
    /// The coverage.py version to assume (instead of detecting it).
    #[arg(long, value_name = "VERSION")]
    pub coverage_version: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Projects to inspect.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Only the runs whose name (as `covdoctor runs` prints it) holds this
    /// text, e.g. `tox` or `local`.
    #[arg(long, value_name = "NAME")]
    pub run: Option<String>,
    /// `text` or `json`.
    #[arg(long, value_enum, default_value_t = RunsFormat::Text)]
    pub output_format: RunsFormat,
    #[command(flatten)]
    pub versions: VersionArgs,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Projects to inspect.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// `text` or `json`.
    #[arg(long, value_enum, default_value_t = RunsFormat::Text)]
    pub output_format: RunsFormat,
    #[command(flatten)]
    pub versions: VersionArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RunsFormat {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to check; each belongs to the project whose root
    /// (a directory with pyproject.toml, setup.cfg, tox.ini, .coveragerc or
    /// pytest.ini) is nearest above it.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Write the findings to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output_file: Option<PathBuf>,
    /// Print how many findings each rule produced, instead of the findings.
    #[arg(long)]
    pub statistics: bool,
    /// A settings file to use instead of the project's (a covdoctor.toml,
    /// or a pyproject.toml with `[tool.covdoctor]`), or a `KEY = VALUE`
    /// setting on top of the file's (TOML, as in `[tool.covdoctor]`).
    /// Repeatable; at most one file.
    #[arg(long, value_name = "CONFIG_OPTION", value_parser = config_arg)]
    pub config: Vec<ConfigArg>,
    /// Print the findings and nothing else (no summary line).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print the files the check reads (Python, configuration, runs,
    /// requirements), one per line, instead of the findings.
    #[arg(long, conflicts_with_all = ["fix", "diff", "statistics"])]
    pub show_files: bool,
    /// Print the settings each project is checked with (after the settings
    /// file and the command line), instead of the findings.
    #[arg(long, conflicts_with_all = ["fix", "diff", "statistics", "show_files"])]
    pub show_settings: bool,
    /// Run only these rules (comma-separated; `ALL` for all).
    #[arg(long, value_delimiter = ',', value_name = "RULES", value_parser = rule_name)]
    pub select: Option<Vec<String>>,
    /// Also run these rules.
    #[arg(long, value_delimiter = ',', value_name = "RULES", value_parser = rule_name)]
    pub extend_select: Option<Vec<String>>,
    /// Do not run these rules.
    #[arg(long, value_delimiter = ',', value_name = "RULES", value_parser = rule_name)]
    pub ignore: Option<Vec<String>>,
    /// Paths to skip (globs), instead of the built-in list (.venv, .tox,
    /// build, ...).
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    pub exclude: Option<Vec<String>>,
    /// Paths to skip besides the built-in list.
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    pub extend_exclude: Option<Vec<String>>,
    /// Ignore covdoctor's settings files (`[tool.covdoctor]`,
    /// covdoctor.toml).
    #[arg(long)]
    pub isolated: bool,
    /// Exit with status 2 for every input problem, also for those that
    /// cannot change a verdict (shown as warnings otherwise).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub versions: VersionArgs,
    /// Apply safe fixes, then report what remains.
    #[arg(long)]
    pub fix: bool,
    /// Also apply (with --fix) or show (with --diff) unsafe fixes.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print a unified diff of what --fix would change and write nothing;
    /// exit 1 if there is anything to change.
    #[arg(long)]
    pub diff: bool,
    /// List the fixes applied by --fix.
    #[arg(long)]
    pub show_fixes: bool,
    /// With --fix, exit 1 when files were changed even if no finding
    /// remains (for pre-commit).
    #[arg(long)]
    pub exit_non_zero_on_fix: bool,
    /// Exit 0 even with findings (input errors and bad command lines still
    /// exit 2).
    #[arg(long, conflicts_with = "exit_non_zero_on_fix")]
    pub exit_zero: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

/// A `--config` value.
#[derive(Clone, Debug)]
pub enum ConfigArg {
    File(PathBuf),
    Override(String),
}

/// An existing file is a settings file; anything else must be TOML with at
/// least one key (`python-launchers = ["tests.helpers.run"]`).
fn config_arg(typed: &str) -> Result<ConfigArg, String> {
    let path = PathBuf::from(typed);
    if path.is_file() {
        return Ok(ConfigArg::File(path));
    }
    match typed.parse::<toml_edit::DocumentMut>() {
        Ok(doc) if !doc.as_table().is_empty() => Ok(ConfigArg::Override(typed.to_string())),
        _ => Err(format!(
            "`{typed}` is neither a settings file nor a `KEY = VALUE` setting (TOML, as in `[tool.covdoctor]`)"
        )),
    }
}

/// A rule's name (or `ALL`), as the settings files accept it: anything else
/// is a usage error (exit 2) with the closest name suggested, rather than a
/// selection that silently matches nothing.
fn rule_name(typed: &str) -> Result<String, String> {
    let names: Vec<&str> = crate::rules::ALL.iter().map(|r| r.name).collect();
    if typed == "ALL" || names.contains(&typed) {
        return Ok(typed.to_string());
    }
    let suggestion = crate::config::settings::strsim_best(typed, &names)
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default();
    Err(format!(
        "no rule named `{typed}`{suggestion} (`covdoctor rules` lists them)"
    ))
}
