//! A call's recording from the first frame to its archive: written while the call runs
//! (`recorder`, `live_wav`), drawn by the review page (`peaks`, `peaks_cache`), and once the
//! call is over kept as Ogg Opus and/or in an S3-compatible store (`archiver`, `ogg_opus`,
//! `objects`).

pub(super) mod archiver;
pub(super) mod live_wav;
pub(super) mod objects;
pub(super) mod ogg_opus;
pub(super) mod peaks;
pub(super) mod peaks_cache;
pub(super) mod recorder;
