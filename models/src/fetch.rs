//! `ModelStore::fetch`: brings models onto disk. For each model, files already verified are
//! kept; otherwise its sources are tried in manifest order (upstream first, then registry
//! routes). A source downloads into `<dir>/.partial/`, verifies archives and every produced
//! file against the manifest, and only then renames the files into place and stamps them. When
//! every source fails the error names each source's reason and what the user can do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::archive::extract_member;
use crate::build_step::{LocalArchive, run_build};
use crate::digest::{ComputedDigests, ContentHasher, HashingWriter, hash_file};
use crate::download::Downloader;
use crate::manifest::{ModelEntry, Source, Yield, parse_member_ref};
use crate::stamp::{remove_stamp, write_stamp};
use crate::store::{FileState, ModelStore, StoreError};

/// Directory (inside the models directory) for in-progress downloads and builds.
pub const PARTIAL_DIR: &str = ".partial";

/// Progress of a fetch, for display.
#[derive(Debug, Clone, Copy)]
pub enum FetchEvent<'a> {
    /// Starting on a model.
    Model {
        id: &'a str,
    },
    /// All files already present and verified.
    AlreadyPresent {
        id: &'a str,
    },
    TryingSource {
        id: &'a str,
        source: &'a str,
    },
    /// Bytes of a download so far.
    Download {
        url: &'a str,
        done: u64,
        total: Option<u64>,
    },
    Building {
        id: &'a str,
        step: &'a str,
    },
    SourceFailed {
        id: &'a str,
        source: &'a str,
        reason: &'a str,
    },
    Fetched {
        id: &'a str,
        source: &'a str,
    },
    /// Something the user should know that does not fail the fetch.
    Warning {
        id: &'a str,
        message: &'a str,
    },
}

/// A source that was tried and why it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAttempt {
    pub source: String,
    pub reason: String,
}

/// What happened to one model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchOutcome {
    /// Already on disk and verified; nothing downloaded.
    AlreadyPresent,
    /// Produced by `source` (after the listed failed attempts).
    Fetched {
        source: String,
        failed_before: Vec<SourceAttempt>,
        /// Files stored without a known digest (manifest says why).
        unverified: Vec<String>,
    },
    /// Best-effort model (`required = false`) that no source could provide: a warning.
    Skipped {
        attempts: Vec<SourceAttempt>,
        hint: String,
    },
}

/// Per-model outcomes, in the order models were handled (dependencies included).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchReport {
    pub models: Vec<(String, FetchOutcome)>,
}

impl FetchReport {
    /// Outcome of `id`, if it was handled.
    pub fn outcome(&self, id: &str) -> Option<&FetchOutcome> {
        self.models.iter().find(|(m, _)| m == id).map(|(_, o)| o)
    }

    /// Warnings to show (skipped best-effort models, unverified files).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (id, outcome) in &self.models {
            match outcome {
                FetchOutcome::Skipped { attempts, hint } => out.push(format!(
                    "best-effort model `{id}` is unavailable ({}); {hint}",
                    attempts
                        .iter()
                        .map(|a| format!("{}: {}", a.source, a.reason))
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
                FetchOutcome::Fetched { unverified, .. } if !unverified.is_empty() => {
                    out.push(format!(
                        "model `{id}`: no digest known for {}: stored unverified",
                        unverified.join(", ")
                    ))
                }
                _ => {}
            }
        }
        out
    }
}

/// A required model no source could provide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFailure {
    pub id: String,
    pub attempts: Vec<SourceAttempt>,
    pub hint: String,
}

impl fmt::Display for ModelFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "model `{}` could not be fetched; every source failed:",
            self.id
        )?;
        for (i, a) in self.attempts.iter().enumerate() {
            writeln!(f, "  {}. {}: {}", i + 1, a.source, a.reason)?;
        }
        write!(f, "  what to do: {}", self.hint)
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot create models directory {path}: {source}; create it or set HOTLINE_MODELS_DIR to a writable directory"
    )]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{}", .failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Unavailable {
        failures: Vec<ModelFailure>,
        /// What did succeed.
        report: FetchReport,
    },
}

/// This machine as `os-arch`, the form manifest `platforms` use.
pub fn current_platform() -> String {
    format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH)
}

struct FetchRun<'s, 'p> {
    store: &'s ModelStore,
    downloader: Downloader,
    progress: &'p mut dyn FnMut(&FetchEvent),
    /// id -> fetched successfully (true) or failed/skipped (false).
    handled: BTreeMap<String, bool>,
    in_progress: BTreeSet<String>,
    report: FetchReport,
    failures: Vec<ModelFailure>,
}

impl ModelStore {
    /// Fetches `ids` (the default group when empty), with their build dependencies.
    /// Returns the report; fails with `FetchError::Unavailable` when a required model could not
    /// be fetched from any source (other models are still fetched).
    pub fn fetch(
        &self,
        ids: &[&str],
        progress: &mut dyn FnMut(&FetchEvent),
    ) -> Result<FetchReport, FetchError> {
        let ids: Vec<String> = if ids.is_empty() {
            self.default_ids().iter().map(|s| s.to_string()).collect()
        } else {
            ids.iter().map(|s| s.to_string()).collect()
        };
        for id in &ids {
            self.model(id)?;
        }
        fs::create_dir_all(&self.dir).map_err(|source| FetchError::CreateDir {
            path: self.dir.display().to_string(),
            source,
        })?;
        remove_stale_partials(&self.dir);
        let mut run = FetchRun {
            store: self,
            downloader: Downloader::new(self.limits),
            progress,
            handled: BTreeMap::new(),
            in_progress: BTreeSet::new(),
            report: FetchReport::default(),
            failures: Vec::new(),
        };
        for id in &ids {
            run.fetch_model(id);
        }
        if run.failures.is_empty() {
            Ok(run.report)
        } else {
            Err(FetchError::Unavailable {
                failures: run.failures,
                report: run.report,
            })
        }
    }
}

/// Removes `.partial/<name>.<pid>` directories whose process is gone (Linux: /proc check).
fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir.join(PARTIAL_DIR)) else {
        return;
    };
    if !Path::new("/proc/self").exists() {
        return;
    }
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.rsplit('.').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

impl FetchRun<'_, '_> {
    fn emit(&mut self, event: FetchEvent) {
        (self.progress)(&event);
    }

    /// Fetches one model; returns whether it is now available.
    fn fetch_model(&mut self, id: &str) -> bool {
        if let Some(&ok) = self.handled.get(id) {
            return ok;
        }
        let store = self.store;
        let Some(model) = store.manifest.model(id) else {
            return false;
        };
        self.emit(FetchEvent::Model { id });
        if self.all_files_verified(model) {
            self.emit(FetchEvent::AlreadyPresent { id });
            self.finish(id, true, FetchOutcome::AlreadyPresent);
            return true;
        }
        let platform = current_platform();
        if !model.supports_platform(&platform) {
            let hint = model.other_platforms_hint.clone().unwrap_or_else(|| {
                format!("provide the files yourself in {}", store.dir.display())
            });
            let attempts = vec![SourceAttempt {
                source: "platform check".into(),
                reason: format!(
                    "this build of `{id}` exists for {} only, this machine is {platform}",
                    model.platforms.join(", ")
                ),
            }];
            self.fail(model, attempts, hint);
            return false;
        }
        self.in_progress.insert(id.to_string());
        let mut attempts = Vec::new();
        for source in &model.sources {
            self.emit(FetchEvent::TryingSource {
                id,
                source: &source.label,
            });
            match self.try_source(model, source) {
                Ok(unverified) => {
                    self.emit(FetchEvent::Fetched {
                        id,
                        source: &source.label,
                    });
                    for name in &unverified {
                        let message = format!("`{name}` has no known digest: stored unverified");
                        self.emit(FetchEvent::Warning {
                            id,
                            message: &message,
                        });
                    }
                    self.in_progress.remove(id);
                    self.finish(
                        id,
                        true,
                        FetchOutcome::Fetched {
                            source: source.label.clone(),
                            failed_before: attempts,
                            unverified,
                        },
                    );
                    return true;
                }
                Err(reason) => {
                    self.emit(FetchEvent::SourceFailed {
                        id,
                        source: &source.label,
                        reason: &reason,
                    });
                    attempts.push(SourceAttempt {
                        source: source.label.clone(),
                        reason,
                    });
                }
            }
        }
        self.in_progress.remove(id);
        let hint = manual_hint(store, model);
        self.fail(model, attempts, hint);
        false
    }

    fn finish(&mut self, id: &str, ok: bool, outcome: FetchOutcome) {
        self.handled.insert(id.to_string(), ok);
        self.report.models.push((id.to_string(), outcome));
    }

    fn fail(&mut self, model: &ModelEntry, attempts: Vec<SourceAttempt>, hint: String) {
        if model.required {
            self.handled.insert(model.id.clone(), false);
            self.failures.push(ModelFailure {
                id: model.id.clone(),
                attempts,
                hint,
            });
        } else {
            let message = format!(
                "best-effort model unavailable from every source; continuing without it ({hint})"
            );
            self.emit(FetchEvent::Warning {
                id: &model.id,
                message: &message,
            });
            self.finish(&model.id, false, FetchOutcome::Skipped { attempts, hint });
        }
    }

    /// True when every file is present and matches (stamp, or a fresh hash).
    fn all_files_verified(&self, model: &ModelEntry) -> bool {
        model.files.iter().all(
            |file| match self.store.file_state(model, &file.name, false) {
                FileState::Verified { .. } | FileState::Unverifiable { .. } => true,
                FileState::Unchecked { .. } => matches!(
                    self.store.file_state(model, &file.name, true),
                    FileState::Verified { .. }
                ),
                FileState::Missing | FileState::Mismatch { .. } => false,
            },
        )
    }

    /// Runs one source in a private work directory; returns unverifiable file names.
    fn try_source(&mut self, model: &ModelEntry, source: &Source) -> Result<Vec<String>, String> {
        let store = self.store;
        for required in &source.requires {
            if self.in_progress.contains(required) {
                return Err(format!(
                    "requires `{required}`, which depends on this model (cycle)"
                ));
            }
            if !self.fetch_model(required) {
                return Err(format!(
                    "requires model `{required}`, which could not be fetched"
                ));
            }
        }
        let work = store
            .dir
            .join(PARTIAL_DIR)
            .join(format!("{}.{}", model.id, std::process::id()));
        let _ = fs::remove_dir_all(&work);
        fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
        let result = self.produce_and_install(model, source, &work);
        let _ = fs::remove_dir_all(&work);
        if let Ok(rest) = fs::read_dir(store.dir.join(PARTIAL_DIR))
            && rest.count() == 0
        {
            let _ = fs::remove_dir(store.dir.join(PARTIAL_DIR));
        }
        result
    }

    fn produce_and_install(
        &mut self,
        model: &ModelEntry,
        source: &Source,
        work: &Path,
    ) -> Result<Vec<String>, String> {
        let store = self.store;
        // 1. Archives.
        let mut archives = BTreeMap::new();
        for archive in &source.archives {
            let path = work.join(format!("archive-{}", archive.name));
            let computed = self.download(
                &archive.url,
                &path,
                Some(archive.size),
                std::slice::from_ref(&archive.sha256),
            )?;
            if !computed.matches(&archive.sha256) {
                return Err(format!(
                    "{}: sha256 {} does not match the manifest's {}; the download is corrupt or the package was replaced",
                    archive.url, computed.sha256, archive.sha256
                ));
            }
            archives.insert(
                archive.name.clone(),
                LocalArchive {
                    path,
                    format: archive.format,
                },
            );
        }
        // 2. Files.
        let mut produced: Vec<(String, Option<String>)> = Vec::new();
        let mut unverified = Vec::new();
        for file in &model.files {
            let y = source
                .yields
                .get(&file.name)
                .ok_or_else(|| format!("source yields no `{}`", file.name))?;
            let out = work.join(&file.name);
            let computed = if let Some(url) = &y.url {
                self.download(url, &out, Some(y.size.unwrap_or(file.size)), &y.digests)?
            } else if let Some(member) = &y.member {
                let parsed =
                    parse_member_ref(member).ok_or_else(|| format!("bad member `{member}`"))?;
                let archive = archives
                    .get(parsed.archive)
                    .ok_or_else(|| format!("member `{member}` names no archive"))?;
                extract_to(&archive.path, archive.format, parsed.path, &out, y)?
            } else if let Some(step) = &source.build {
                self.emit(FetchEvent::Building {
                    id: &model.id,
                    step: step.describe(),
                });
                let dir = store.dir.clone();
                let resolve = |input: &str| -> PathBuf {
                    let name = input.split_once('/').map_or(input, |(_, f)| f);
                    dir.join(name)
                };
                run_build(step, &archives, &resolve, &out).map_err(|e| e.to_string())?;
                hash_file(&out, &y.digests)
                    .map_err(|e| format!("cannot read {}: {e}", out.display()))?
            } else {
                return Err(format!("no way to produce `{}`", file.name));
            };
            let digest = check_yield(&file.name, y, file.size, &computed)?;
            if digest.is_none() {
                unverified.push(file.name.clone());
            }
            produced.push((file.name.clone(), digest));
        }
        // 3. Install: rename into place, then stamp.
        for (name, digest) in &produced {
            let final_path = store.dir.join(name);
            remove_stamp(&store.dir, name);
            fs::rename(work.join(name), &final_path)
                .map_err(|e| format!("cannot move {name} into {}: {e}", store.dir.display()))?;
            if let Some(digest) = digest {
                write_stamp(&store.dir, name, digest, Some(&source.label))
                    .map_err(|e| format!("cannot record verification of {name}: {e}"))?;
            }
        }
        Ok(unverified)
    }

    fn download(
        &mut self,
        url: &str,
        dest: &Path,
        size: Option<u64>,
        digests: &[crate::digest::Digest],
    ) -> Result<ComputedDigests, String> {
        let downloader = &self.downloader;
        let progress = &mut *self.progress;
        downloader
            .download(url, dest, size, digests, &mut |done, total| {
                progress(&FetchEvent::Download { url, done, total });
            })
            .map_err(|e| e.to_string())
    }
}

fn extract_to(
    archive: &Path,
    format: crate::manifest::ArchiveFormat,
    member: &str,
    out: &Path,
    y: &Yield,
) -> Result<ComputedDigests, String> {
    let file = File::create(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut writer =
        HashingWriter::new(BufWriter::new(file), ContentHasher::for_digests(&y.digests));
    extract_member(archive, format, member, &mut writer).map_err(|e| e.to_string())?;
    let (_, computed) = writer
        .finish()
        .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    Ok(computed)
}

/// Checks a produced file: Ok(Some(digest)) when verified, Ok(None) when the manifest has no
/// digest for it (declared unverifiable), Err when size or digest disagree.
fn check_yield(
    name: &str,
    y: &Yield,
    default_size: u64,
    computed: &ComputedDigests,
) -> Result<Option<String>, String> {
    let size = y.size.unwrap_or(default_size);
    if computed.size != size {
        return Err(format!(
            "`{name}` has {} bytes, expected {size}",
            computed.size
        ));
    }
    if y.digests.is_empty() {
        return Ok(None);
    }
    match computed.first_match(&y.digests) {
        Some(d) => Ok(Some(d.to_string())),
        None => Err(format!(
            "`{name}` has sha256 {}, which matches none of the manifest's digests ({})",
            computed.sha256,
            y.digests
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// What a user can do when every source failed.
fn manual_hint(store: &ModelStore, model: &ModelEntry) -> String {
    let mut hosts = BTreeSet::new();
    for source in &model.sources {
        let urls = source
            .archives
            .iter()
            .map(|a| a.url.as_str())
            .chain(source.yields.values().filter_map(|y| y.url.as_deref()));
        for url in urls {
            if let Some(host) = url.split("://").nth(1).and_then(|r| r.split('/').next()) {
                hosts.insert(host.to_string());
            }
        }
    }
    let mut files = Vec::new();
    for file in &model.files {
        let url = model
            .sources
            .iter()
            .find_map(|s| s.yields.get(&file.name)?.url.clone())
            .or_else(|| {
                model
                    .sources
                    .iter()
                    .find_map(|s| s.archives.first().map(|a| a.url.clone()))
            })
            .unwrap_or_else(|| "its upstream".to_string());
        let digest = model
            .accepted_digests(&file.name)
            .first()
            .map(|(_, d)| format!(" ({d})"))
            .unwrap_or_default();
        files.push(format!(
            "{} from {url}{digest} to {}",
            file.name,
            store.dir.join(&file.name).display()
        ));
    }
    let deps: Vec<&str> = model
        .sources
        .iter()
        .flat_map(|s| s.requires.iter().map(String::as_str))
        .collect();
    let mut hint = format!(
        "check network access to {} (a proxy or firewall may block it), or download {} and run `hotline models verify {}`",
        hosts.into_iter().collect::<Vec<_>>().join(", "),
        files.join("; "),
        model.id
    );
    if !deps.is_empty() {
        hint.push_str(&format!(
            "; the local build route also needs model(s) {}",
            deps.join(", ")
        ));
    }
    hint
}
