//! Where a run's time goes, by phase: `COVDOCTOR_TIMINGS=1 covdoctor check
//! .` prints one line per phase to stderr when the run ends (the binary
//! prints; this module only collects). Each phase adds up the wall time of
//! every project's pass through it, so phases that run on several threads
//! at once can add up to more than the run's wall time.

use std::sync::Mutex;
use std::time::{Duration, Instant};

static PHASES: Mutex<Vec<(&'static str, Duration, usize)>> = Mutex::new(Vec::new());

/// Whether timings are collected (`COVDOCTOR_TIMINGS` set and not empty).
pub fn enabled() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("COVDOCTOR_TIMINGS").is_some_and(|v| !v.is_empty()))
}

/// Times `f` as `phase` when timings are on.
pub fn time<T>(phase: &'static str, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let start = Instant::now();
    let out = f();
    add(phase, start.elapsed(), 0);
    out
}

/// Adds `elapsed` (and `count` items: files, calls) to `phase`.
pub fn add(phase: &'static str, elapsed: Duration, count: usize) {
    if !enabled() {
        return;
    }
    let mut phases = PHASES.lock().unwrap_or_else(|e| e.into_inner());
    match phases.iter_mut().find(|(p, _, _)| *p == phase) {
        Some((_, d, n)) => {
            *d += elapsed;
            *n += count;
        }
        None => phases.push((phase, elapsed, count)),
    }
}

/// The phases in the order they first ran: name, time, items counted.
pub fn report() -> Vec<(&'static str, Duration, usize)> {
    PHASES.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
