//! The `hotline` command: serve calls, run the offline pipeline, transcribe, manage models.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = hotline::cli::Cli::parse();
    hotline::cli::init_logging(cli.verbose);
    match hotline::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
