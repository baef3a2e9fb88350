//! The covdoctor binary: parse arguments, run the library, print, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use covdoctor::cli::{CheckArgs, Cli, Color, Command};
use covdoctor::config::settings::CliSettings;
use covdoctor::config::versions::Explicit;
use covdoctor::report::{self, OutputFormat, Style};
use covdoctor::rules;

// jemalloc: most of a run is allocating and freeing syntax-tree nodes on
// several threads (trees are freed on another thread than the one that
// built them); with it a run takes less time and memory (BENCHMARKS.md).
// The targets are those the dependency is declared for in Cargo.toml.
#[cfg(all(
    not(target_os = "windows"),
    not(target_os = "openbsd"),
    not(target_os = "aix"),
    not(target_os = "android"),
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64",
        target_arch = "riscv64"
    )
))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let started = std::time::Instant::now();
    let code = run();
    if covdoctor::timings::enabled() {
        let mut err = std::io::stderr().lock();
        for (phase, elapsed, count) in covdoctor::timings::report() {
            let count = if count > 0 {
                format!(" ({count})")
            } else {
                String::new()
            };
            let _ = writeln!(
                err,
                "timing: {phase}: {:.3} s{count}",
                elapsed.as_secs_f64()
            );
        }
        let _ = writeln!(
            err,
            "timing: total: {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
    code
}

fn run() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(*args),
        Command::Rule { all: true, .. } => {
            let pages: Vec<&str> = rules::ALL.iter().map(|r| r.doc).collect();
            print(&pages.join("\n"));
            ExitCode::SUCCESS
        }
        Command::Rule { name, .. } => {
            let name = name.unwrap_or_default();
            match rules::by_name(&name) {
                Some(rule) => {
                    print(rule.doc);
                    ExitCode::SUCCESS
                }
                None => {
                    let names: Vec<&str> = rules::ALL.iter().map(|r| r.name).collect();
                    let mut message = format!("covdoctor: no rule named `{name}`");
                    if let Some(c) = covdoctor::config::settings::strsim_best(&name, &names) {
                        message.push_str(&format!("; did you mean `{c}`?"));
                    }
                    eprintln!("{message}\nrun `covdoctor rules` for the list");
                    ExitCode::from(2)
                }
            }
        }
        Command::Runs(args) => runs(args),
        Command::Config(args) => config(args),
        Command::Doctor(args) => doctor(args),
        Command::Rules {
            output_format: covdoctor::cli::RunsFormat::Json,
        } => {
            let rules: Vec<serde_json::Value> = rules::ALL
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "name": r.name,
                        "summary": r.summary,
                        "severity": r.severity.as_str(),
                        "scope": match r.scope {
                            rules::Scope::Project => "project",
                            rules::Scope::Run => "run",
                            rules::Scope::Child => "child",
                            rules::Scope::Environment => "environment",
                        },
                        "claims_loss": r.claims_loss,
                    })
                })
                .collect();
            let doc = serde_json::json!({ "version": 1, "rules": rules });
            print(&format!(
                "{}\n",
                serde_json::to_string_pretty(&doc).unwrap_or_default()
            ));
            ExitCode::SUCCESS
        }
        Command::Rules { .. } => {
            let width = rules::ALL.iter().map(|r| r.name.len()).max().unwrap_or(0);
            let mut out = String::new();
            for rule in rules::ALL {
                out.push_str(&format!("{:width$}  {}\n", rule.name, rule.summary));
            }
            print(&out);
            ExitCode::SUCCESS
        }
    }
}

/// The options and the plain style of the commands that inspect a project
/// (`runs`, `config`): no settings of `check`, versions as given.
fn inspecting(versions: &covdoctor::cli::VersionArgs) -> (covdoctor::RunOptions, Style) {
    let options = covdoctor::RunOptions {
        coverage_rcfile: std::env::var_os("COVERAGE_RCFILE")
            .filter(|v| !v.is_empty())
            .map(Into::into),
        versions: overrides(&versions.pytest_cov_version, &versions.coverage_version),
        settings: CliSettings::default(),
        no_prefilter: no_prefilter(),
    };
    let style = Style {
        color: false,
        width: 100,
        cwd: std::env::current_dir().unwrap_or_default(),
    };
    (options, style)
}

fn runs(args: covdoctor::cli::RunsArgs) -> ExitCode {
    let (options, style) = inspecting(&args.versions);
    let (projects, problems) = covdoctor::list_runs(&args.paths, &options);
    if !problems.is_empty() {
        eprint!("{}", report::render_problems(&problems, &style));
    }
    print(&match args.output_format {
        covdoctor::cli::RunsFormat::Text => report::runs::render_text(&projects, &style),
        covdoctor::cli::RunsFormat::Json => report::runs::render_json(&projects, &style),
    });
    if covdoctor::problem::errors(&problems) == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

fn doctor(args: covdoctor::cli::DoctorArgs) -> ExitCode {
    let (options, _) = inspecting(&covdoctor::cli::VersionArgs {
        pytest_cov_version: None,
        coverage_version: None,
    });
    let vars: Vec<(String, String)> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let found = covdoctor::doctor::doctor(&args.path, args.python.as_deref(), &vars, &options);
    let (style, err_style) = styles(&args.output, std::io::stdout().is_terminal());
    if !found.problems.is_empty() {
        eprint!("{}", report::render_problems(&found.problems, &err_style));
    }
    let text_format = matches!(
        args.output.output_format,
        OutputFormat::Full | OutputFormat::Concise | OutputFormat::Grouped
    );
    let mut out = String::new();
    if let (Some(env), true, false) = (&found.environment, text_format, args.quiet) {
        out.push_str(&report::doctor::render_environment(env, &style));
    }
    let results = report::Results {
        diagnostics: &found.diagnostics,
        problems: &found.problems,
        summary: report::summary(&found.diagnostics, &found.problems),
    };
    out.push_str(&report::render(
        args.output.output_format,
        &results,
        &style,
        args.quiet,
        false,
    ));
    print(&out);
    exit_code(
        &found.problems,
        found.diagnostics.len() * usize::from(!args.exit_zero),
        false,
    )
}

/// Explicit versions from the command line, and `$VIRTUAL_ENV`.
fn overrides(
    pytest_cov: &Option<String>,
    coverage: &Option<String>,
) -> covdoctor::config::versions::Overrides {
    covdoctor::config::versions::Overrides {
        pytest_cov: pytest_cov.clone().map(|value| Explicit {
            value,
            what: "--pytest-cov-version".to_string(),
            location: None,
        }),
        coverage: coverage.clone().map(|value| Explicit {
            value,
            what: "--coverage-version".to_string(),
            location: None,
        }),
        virtual_env: std::env::var_os("VIRTUAL_ENV")
            .filter(|v| !v.is_empty())
            .map(Into::into),
        skip_environment: false,
    }
}

/// `COVDOCTOR_NO_PREFILTER=1`: resolve every module's calls (the tests'
/// check that the prefilter changes nothing).
fn no_prefilter() -> bool {
    std::env::var_os("COVDOCTOR_NO_PREFILTER").is_some_and(|v| !v.is_empty())
}

fn check(args: CheckArgs) -> ExitCode {
    let files = args
        .config
        .iter()
        .filter(|c| matches!(c, covdoctor::cli::ConfigArg::File(_)))
        .count();
    if files > 1 {
        eprintln!("covdoctor: error: --config names {files} settings files; give at most one");
        return ExitCode::from(2);
    }
    let options = covdoctor::RunOptions {
        no_prefilter: no_prefilter(),
        coverage_rcfile: std::env::var_os("COVERAGE_RCFILE")
            .filter(|v| !v.is_empty())
            .map(Into::into),
        versions: overrides(
            &args.versions.pytest_cov_version,
            &args.versions.coverage_version,
        ),
        settings: CliSettings {
            select: args.select.clone(),
            extend_select: args.extend_select.clone().unwrap_or_default(),
            ignore: args.ignore.clone().unwrap_or_default(),
            exclude: args.exclude.clone(),
            extend_exclude: args.extend_exclude.clone().unwrap_or_default(),
            isolated: args.isolated,
            config_file: args.config.iter().rev().find_map(|c| match c {
                covdoctor::cli::ConfigArg::File(p) => Some(p.clone()),
                covdoctor::cli::ConfigArg::Override(_) => None,
            }),
            overrides: args
                .config
                .iter()
                .filter_map(|c| match c {
                    covdoctor::cli::ConfigArg::Override(o) => Some(o.clone()),
                    covdoctor::cli::ConfigArg::File(_) => None,
                })
                .collect(),
            strict: args.strict,
        },
    };
    let to_terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    let (out_style, err_style) = styles(&args.output, to_terminal);
    if args.fix || args.diff {
        return fix(&args, &options, &out_style, &err_style);
    }
    let outcome = covdoctor::check(&args.paths, &options);
    report_problems(&args, &outcome.problems, &err_style);
    if args.show_files {
        let listing: String = outcome
            .files
            .iter()
            .map(|f| format!("{}\n", report::display_path(f, &out_style.cwd)))
            .collect();
        if let Err(code) = emit(&args, &listing) {
            return code;
        }
        return exit_code(&outcome.problems, 0, false);
    }
    if args.show_settings {
        let cli = [
            args.versions.pytest_cov_version.as_deref(),
            args.versions.coverage_version.as_deref(),
        ];
        let text = show_settings(&outcome.settings, cli, &out_style.cwd);
        if let Err(code) = emit(&args, &text) {
            return code;
        }
        return exit_code(&outcome.problems, 0, false);
    }
    let results = report::Results {
        diagnostics: &outcome.diagnostics,
        problems: &outcome.problems,
        summary: report::summary(&outcome.diagnostics, &outcome.problems),
    };
    if let Err(code) = emit(
        &args,
        &report::render(
            args.output.output_format,
            &results,
            &out_style,
            args.quiet,
            args.statistics,
        ),
    ) {
        return code;
    }
    exit_code(
        &outcome.problems,
        outcome.diagnostics.len() * usize::from(!args.exit_zero),
        false,
    )
}

/// `--fix` and `--diff`: fix in memory until nothing fixable is left, then
/// write (`--fix`) or show (`--diff`) the result.
fn fix(
    args: &CheckArgs,
    options: &covdoctor::RunOptions,
    out_style: &Style,
    err_style: &Style,
) -> ExitCode {
    let run = covdoctor::fix::run(&args.paths, options, args.unsafe_fixes);
    let mut problems = run.outcome.problems.clone();
    problems.extend(run.problems.iter().cloned());
    if args.diff {
        report_problems(args, &problems, err_style);
        if let Err(code) = emit(args, &report::render_diff(&run.changes, out_style)) {
            return code;
        }
        if !args.quiet {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(
                err,
                "covdoctor: --fix would fix {} finding{} in {} file{}; nothing was written",
                run.fixed.len(),
                if run.fixed.len() == 1 { "" } else { "s" },
                run.changes.len(),
                if run.changes.len() == 1 { "" } else { "s" },
            );
        }
        return if covdoctor::problem::errors(&problems) > 0 {
            ExitCode::from(2)
        } else if !run.changes.is_empty() && !args.exit_zero {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    let mut written = 0;
    for (path, change) in &run.changes {
        match covdoctor::fix::write::write_change(path, change) {
            Ok(()) => written += 1,
            Err(problem) => problems.push(problem),
        }
    }
    // A file that could not be written still has its findings: check again.
    let outcome = if written == run.changes.len() {
        run.outcome
    } else {
        covdoctor::check(&args.paths, options)
    };
    report_problems(args, &problems, err_style);
    let fixed = if written == run.changes.len() {
        run.fixed.len()
    } else {
        0
    };
    let mut text = String::new();
    let human = matches!(
        args.output.output_format,
        OutputFormat::Full | OutputFormat::Concise | OutputFormat::Grouped
    );
    if args.show_fixes && human && !args.statistics {
        text.push_str(&report::render_fixed(&run.fixed, out_style));
    }
    let results = report::Results {
        diagnostics: &outcome.diagnostics,
        problems: &problems,
        summary: report::fix_summary(fixed, outcome.diagnostics.len(), &problems),
    };
    text.push_str(&report::render(
        args.output.output_format,
        &results,
        out_style,
        args.quiet,
        args.statistics,
    ));
    if let Err(code) = emit(args, &text) {
        return code;
    }
    exit_code(
        &problems,
        outcome.diagnostics.len() * usize::from(!args.exit_zero),
        args.exit_non_zero_on_fix && written > 0,
    )
}

/// Input problems go to stderr. GitHub annotations carry them on stdout
/// already (and stderr lands in the same log).
fn report_problems(args: &CheckArgs, problems: &[covdoctor::problem::Problem], style: &Style) {
    if problems.is_empty() || args.output.output_format == OutputFormat::Github {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(
        report::render_problems_for(args.output.output_format, problems, style).as_bytes(),
    );
}

/// Prints to stdout, or writes `--output-file` (creating its directory).
/// A file that cannot be written is a usage error.
fn emit(args: &CheckArgs, text: &str) -> Result<(), ExitCode> {
    let Some(path) = &args.output_file else {
        print(text);
        return Ok(());
    };
    let written = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(path, text));
    match written {
        Ok(()) => Ok(()),
        Err(e) => {
            eprintln!("covdoctor: cannot write {}: {e}", path.display());
            Err(ExitCode::from(2))
        }
    }
}

/// 2 for an input error (a warning does not count: see
/// [`covdoctor::problem`]), else 1 for findings (or files changed with
/// `--exit-non-zero-on-fix`), else 0.
fn exit_code(problems: &[covdoctor::problem::Problem], findings: usize, changed: bool) -> ExitCode {
    if covdoctor::problem::errors(problems) > 0 {
        ExitCode::from(2)
    } else if findings > 0 || changed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Writes to stdout, ignoring a closed pipe (`covdoctor rules | head`).
fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// How wide the text formats wrap on a terminal: `COLUMNS` when set, else
/// the terminal's width; never narrower than 40 columns or wider than 200.
/// Anything else (a file, a pipe, a CI log) gets 100.
/// The styles for the findings (on a terminal or not) and for stderr:
/// colour as `--color` says (`auto`: on a terminal or with FORCE_COLOR,
/// never with NO_COLOR), the terminal's width.
fn styles(output: &covdoctor::cli::OutputArgs, to_terminal: bool) -> (Style, Style) {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    let (no_color, force_color) = (set("NO_COLOR"), set("FORCE_COLOR"));
    let style = |terminal: bool| Style {
        color: match output.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => !no_color && (terminal || force_color),
        },
        width: width(terminal),
        cwd: std::env::current_dir().unwrap_or_default(),
    };
    (style(to_terminal), style(std::io::stderr().is_terminal()))
}

fn width(terminal: bool) -> usize {
    if !terminal {
        return 100;
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        .unwrap_or(100)
        .clamp(40, 200)
}

/// `check --show-settings`: each project's resolved settings, one
/// `key = value` line each, the way `[tool.covdoctor]` spells them.
fn show_settings(
    projects: &[(std::path::PathBuf, covdoctor::config::settings::Settings)],
    cli_versions: [Option<&str>; 2],
    cwd: &std::path::Path,
) -> String {
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut out = String::new();
    for (root, s) in projects {
        let shown = report::display_path(root, cwd);
        out.push_str(&format!(
            "Resolved settings for: {}\n",
            if shown.is_empty() { "." } else { &shown }
        ));
        out.push_str(&format!(
            "settings file = {}\n",
            s.file.as_deref().unwrap_or("(none: the defaults)")
        ));
        let enabled: Vec<String> = rules::ALL
            .iter()
            .filter(|r| s.enabled(r.name))
            .map(|r| r.name.to_string())
            .collect();
        out.push_str(&format!("rules = {}\n", list(&enabled)));
        for (glob, rules) in &s.per_file_ignores {
            out.push_str(&format!("per-file-ignores.{glob:?} = {}\n", list(rules)));
        }
        out.push_str(&format!("exclude = {}\n", list(&s.exclude_patterns())));
        out.push_str(&format!(
            "python-launchers = {}\n",
            list(&s.python_launchers)
        ));
        out.push_str(&format!("strict = {}\n", s.strict));
        for ((key, version), cli) in [
            ("pytest-cov-version", &s.pytest_cov_version),
            ("coverage-version", &s.coverage_version),
        ]
        .into_iter()
        .zip(cli_versions)
        {
            match (cli, version) {
                (Some(v), _) => out.push_str(&format!("{key} = {v:?} (command line)\n")),
                (None, Some(v)) => out.push_str(&format!("{key} = {:?}\n", v.value)),
                (None, None) => out.push_str(&format!("{key} = (detected per run)\n")),
            }
        }
        out.push('\n');
    }
    out
}

/// `covdoctor config`: the coverage configuration each run reads.
fn config(args: covdoctor::cli::ConfigArgs) -> ExitCode {
    let (options, style) = inspecting(&args.versions);
    let (projects, problems) = covdoctor::effective_config(&args.paths, &options);
    if !problems.is_empty() {
        eprint!("{}", report::render_problems(&problems, &style));
    }
    let run = args.run.as_deref();
    print(&match args.output_format {
        covdoctor::cli::RunsFormat::Text => report::config::render_text(&projects, run, &style),
        covdoctor::cli::RunsFormat::Json => report::config::render_json(&projects, run, &style),
    });
    if covdoctor::problem::errors(&problems) > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}
