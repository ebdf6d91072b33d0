//! `conclave-load`: runs a load test against a Conclave server, prints the summary and
//! exits with 0 when everything was delivered correctly, 1 when the run found problems,
//! and 2 when it could not be carried out.

use clap::Parser;
use conclave_load::{run, Options, RunError};
use std::fmt::Display;
use std::process::ExitCode;

fn main() -> ExitCode {
    let options = Options::parse();
    if options.channel {
        finish(conclave_load::channel::run(&options), |r| r.passed)
    } else if options.routing {
        finish(conclave_load::routing::run(&options), |r| r.passed)
    } else {
        finish(run(&options), |r| r.passed)
    }
}

/// Prints a run's report (or why it could not be carried out) and gives the exit code.
fn finish<R: Display>(outcome: Result<R, RunError>, passed: impl Fn(&R) -> bool) -> ExitCode {
    match outcome {
        Ok(report) => {
            println!("{report}");
            ExitCode::from(if passed(&report) { 0 } else { 1 })
        }
        Err(error) => {
            eprintln!("conclave-load: {error}");
            ExitCode::from(2)
        }
    }
}
