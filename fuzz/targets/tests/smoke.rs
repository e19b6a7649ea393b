//! The fuzz targets' smoke run inside `cargo test`: every committed corpus input and every
//! regression (a past crash) through its target, then a few thousand seeded mutations of the
//! corpus through each. `make fuzz` is the real, coverage-guided run.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hotline_fuzz_targets::TARGETS;
use hotline_fuzz_targets::mutate::{Rng, mutate};

/// Mutated inputs per target (fewer for the targets whose inputs are expensive).
const MUTATIONS: usize = 20_000;
/// No target's mutations may take longer than this, whatever the machine.
const TIME_PER_TARGET: Duration = Duration::from_secs(8);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The files of `fuzz/<kind>/<target>/`, sorted by name (none when the folder is absent).
fn inputs(kind: &str, target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = fuzz_dir().join(kind).join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (name, _) in TARGETS {
        assert!(
            !inputs("corpus", name).is_empty(),
            "fuzz/corpus/{name}/ is empty: commit a few real inputs for it"
        );
    }
}

#[test]
fn corpora_and_regressions_replay() {
    for (name, run) in TARGETS {
        for kind in ["corpus", "regressions"] {
            for (path, bytes) in inputs(kind, name) {
                let result = std::panic::catch_unwind(|| run(&bytes));
                assert!(result.is_ok(), "{name} fails on {}", path.display());
            }
        }
    }
}

#[test]
fn seeded_mutations_pass_every_target() {
    for (index, (name, run)) in TARGETS.iter().enumerate() {
        let seeds = inputs("corpus", name);
        if seeds.is_empty() {
            continue;
        }
        let mutations = if *name == "wav" {
            MUTATIONS / 10
        } else {
            MUTATIONS
        };
        let mut rng = Rng::new(0x5eed_0000 + index as u64);
        let started = Instant::now();
        for n in 0..mutations {
            let seed = &seeds[rng.below(seeds.len())].1;
            let other = &seeds[rng.below(seeds.len())].1;
            let input = mutate(&mut rng, seed, other);
            let result = std::panic::catch_unwind(|| run(&input));
            assert!(
                result.is_ok(),
                "{name} fails on mutation {n}: add it to fuzz/regressions/{name}/ ({:?})",
                String::from_utf8_lossy(&input)
            );
            if started.elapsed() > TIME_PER_TARGET {
                break;
            }
        }
    }
}
