//! The covdoctor binary: parse arguments, run the library, print, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use covdoctor::cli::{CheckArgs, Cli, Color, Command};
use covdoctor::report::{self, OutputFormat, Style};
use covdoctor::rules;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Rule { name } => match rules::by_name(&name) {
            Some(rule) => {
                print(rule.doc);
                ExitCode::SUCCESS
            }
            None => {
                let close: Vec<&str> = rules::ALL
                    .iter()
                    .map(|r| r.name)
                    .filter(|n| strsim_close(n, &name))
                    .collect();
                let mut message = format!("covdoctor: no rule named `{name}`");
                if let Some(c) = close.first() {
                    message.push_str(&format!("; did you mean `{c}`?"));
                }
                eprintln!("{message}\nrun `covdoctor rules` for the list");
                ExitCode::from(2)
            }
        },
        Command::Rules => {
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

fn check(args: CheckArgs) -> ExitCode {
    let options = covdoctor::RunOptions {
        coverage_rcfile: std::env::var_os("COVERAGE_RCFILE")
            .filter(|v| !v.is_empty())
            .map(Into::into),
    };
    let outcome = covdoctor::check(&args.paths, &options);
    let stdout_tty = std::io::stdout().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => stdout_tty && !no_color,
    };
    let style = Style {
        color,
        width: 100,
        cwd: std::env::current_dir().unwrap_or_default(),
    };
    if !outcome.problems.is_empty() {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(report::render_problems(&outcome.problems, &style).as_bytes());
    }
    match args.output_format {
        OutputFormat::Full => {
            let mut text = report::render_full(&outcome.diagnostics, &style);
            text.push_str(&report::summary(
                outcome.diagnostics.len(),
                outcome.problems.len(),
            ));
            text.push('\n');
            print(&text);
        }
        OutputFormat::Json => print(&report::render_json(&outcome.diagnostics, &style)),
    }
    if !outcome.problems.is_empty() {
        ExitCode::from(2)
    } else if !outcome.diagnostics.is_empty() {
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

/// Names close enough to suggest.
fn strsim_close(candidate: &str, typed: &str) -> bool {
    strsim::levenshtein(candidate, typed) <= 3 || candidate.contains(typed)
}
