//! `conclave-load`: runs a load test against a Conclave server, prints the summary and
//! exits with 0 when everything was delivered correctly, 1 when the run found problems,
//! and 2 when it could not be carried out.

use clap::Parser;
use conclave_load::{run, Options};
use std::process::ExitCode;

fn main() -> ExitCode {
    let options = Options::parse();
    if options.channel {
        return match conclave_load::channel::run(&options) {
            Ok(report) => {
                println!("{report}");
                ExitCode::from(if report.passed { 0 } else { 1 })
            }
            Err(error) => {
                eprintln!("conclave-load: {error}");
                ExitCode::from(2)
            }
        };
    }
    if options.routing {
        return match conclave_load::routing::run(&options) {
            Ok(report) => {
                println!("{report}");
                ExitCode::from(if report.passed { 0 } else { 1 })
            }
            Err(error) => {
                eprintln!("conclave-load: {error}");
                ExitCode::from(2)
            }
        };
    }
    match run(&options) {
        Ok(report) => {
            println!("{report}");
            ExitCode::from(if report.passed { 0 } else { 1 })
        }
        Err(error) => {
            eprintln!("conclave-load: {error}");
            ExitCode::from(2)
        }
    }
}
