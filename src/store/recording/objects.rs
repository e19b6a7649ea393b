//! `RecordingObjects`: where finished recordings are kept. By default the recordings folder,
//! the very file the call wrote. With `[recording] object_store` set (an `s3://bucket/prefix`
//! URL, any S3-compatible store, with `[recording.object_store_options]` and the usual `AWS_*`
//! variables), the archiving job uploads each finished recording and its waveform peaks
//! through the `object_store` crate, the call store then names the object by its URL
//! (`s3://bucket/prefix/2026-12-05/….opus`), and the review player, the export and retention
//! read and delete it there. Calls are recorded to local disk while they run either way: a WAV
//! whose header is rewritten every second needs a file, not an object.

use std::collections::HashMap;
use std::future::Future;
use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use object_store::path::Path as ObjectPath;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::store::config::{RecordingConfig, StoreConfigError};

/// What went wrong with an object.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("object store {url}: {source}")]
    Store {
        url: String,
        source: object_store::Error,
    },
    #[error("reading {path} for upload: {source}")]
    Local {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a recording object URL hotline can open")]
    BadUrl(String),
}

/// The configured object store, when recordings leave the local folder.
struct Remote {
    store: Arc<dyn ObjectStore>,
    /// The configured URL without a trailing slash: object URLs start with it.
    base: String,
    /// The key prefix inside the store that `base` names.
    prefix: ObjectPath,
    /// Builder options (configured and `AWS_*`), for objects under another base.
    options: Vec<(String, String)>,
}

/// Where finished recordings live; see the module doc.
pub struct RecordingObjects {
    remote: Option<Remote>,
}

impl std::fmt::Debug for RecordingObjects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingObjects")
            .field("remote", &self.remote.as_ref().map(|r| r.base.as_str()))
            .finish()
    }
}

/// Whether a stored recording location names an object (a URL) rather than a local file.
pub fn is_object(location: &Path) -> bool {
    location.to_string_lossy().contains("://")
}

impl RecordingObjects {
    /// Recordings stay in the local folder.
    pub fn local() -> Self {
        Self { remote: None }
    }

    /// The store `[recording] object_store` names (local when empty); the error names the
    /// key and the fix. No request is made: a store that cannot be reached shows at upload.
    pub fn from_config(config: &RecordingConfig) -> Result<Self, StoreConfigError> {
        let Some(parsed) = config.object_store_url()? else {
            return Ok(Self::local());
        };
        let options = builder_options(&config.object_store_options);
        let (store, prefix) =
            object_store::parse_url_opts(&parsed, options.clone()).map_err(|_| StoreConfigError {
                key: "recording.object_store",
                value: format!("{:?}", config.object_store),
                fix: "check the bucket in the URL and [recording.object_store_options] (aws_endpoint, aws_region, aws_access_key_id, aws_secret_access_key, aws_allow_http)",
            })?;
        Ok(Self {
            remote: Some(Remote {
                store: Arc::from(store),
                base: config.object_store.trim().trim_end_matches('/').to_string(),
                prefix,
                options,
            }),
        })
    }

    /// Whether finished recordings are uploaded.
    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// Uploads the local file `file` as `DAY/NAME` under the configured prefix (DAY: the
    /// name of its folder); its URL. Streams the file (multipart for large ones).
    pub async fn upload(&self, file: &Path) -> Result<String, ObjectError> {
        let remote = self
            .remote
            .as_ref()
            .ok_or_else(|| ObjectError::BadUrl(file.display().to_string()))?;
        let local = |source| ObjectError::Local {
            path: file.display().to_string(),
            source,
        };
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| local(std::io::ErrorKind::InvalidInput.into()))?;
        let day = file
            .parent()
            .and_then(Path::file_name)
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_else(|| "recordings".to_string());
        let key = ObjectPath::from_iter(
            remote
                .prefix
                .parts()
                .chain([day.as_str().into(), name.as_str().into()]),
        );
        let url = format!("{}/{day}/{name}", remote.base);
        let store_error = |source| ObjectError::Store {
            url: url.clone(),
            source,
        };
        let mut source = tokio::fs::File::open(file).await.map_err(local)?;
        let mut upload = object_store::buffered::BufWriter::new(Arc::clone(&remote.store), key);
        if let Err(error) = tokio::io::copy(&mut source, &mut upload).await {
            let _ = upload.abort().await;
            return Err(match error.downcast::<object_store::Error>() {
                Ok(source) => store_error(source),
                Err(error) => local(error),
            });
        }
        upload
            .shutdown()
            .await
            .map_err(|error| match error.downcast::<object_store::Error>() {
                Ok(source) => store_error(source),
                Err(error) => ObjectError::Local {
                    path: file.display().to_string(),
                    source: error,
                },
            })?;
        Ok(url)
    }

    /// The store and key of the object at `url`.
    fn locate(&self, url: &Path) -> Result<(Arc<dyn ObjectStore>, ObjectPath), ObjectError> {
        let text = url.to_string_lossy();
        if let Some(remote) = &self.remote
            && let Some(rest) = text.strip_prefix(&format!("{}/", remote.base))
        {
            let key = ObjectPath::from_iter(
                remote
                    .prefix
                    .parts()
                    .chain(rest.split('/').filter(|p| !p.is_empty()).map(Into::into)),
            );
            return Ok((Arc::clone(&remote.store), key));
        }
        // An object stored under an earlier configuration: the same options, its own URL.
        let parsed = Url::parse(&text).map_err(|_| ObjectError::BadUrl(text.to_string()))?;
        let options = self
            .remote
            .as_ref()
            .map_or_else(|| builder_options(&HashMap::new()), |r| r.options.clone());
        let (store, key) = object_store::parse_url_opts(&parsed, options)
            .map_err(|_| ObjectError::BadUrl(text.to_string()))?;
        Ok((Arc::from(store), key))
    }

    fn error(url: &Path) -> impl FnOnce(object_store::Error) -> ObjectError {
        let url = url.display().to_string();
        move |source| ObjectError::Store { url, source }
    }

    /// Size of the object at `url`, in bytes.
    pub async fn size(&self, url: &Path) -> Result<u64, ObjectError> {
        let (store, key) = self.locate(url)?;
        let meta = store.head(&key).await.map_err(Self::error(url))?;
        Ok(meta.size)
    }

    /// The bytes `range` of the object at `url`, as they arrive.
    pub async fn range(
        &self,
        url: &Path,
        range: RangeInclusive<u64>,
    ) -> Result<BoxStream<'static, Result<Bytes, std::io::Error>>, ObjectError> {
        let (store, key) = self.locate(url)?;
        let options = GetOptions {
            range: Some(GetRange::Bounded(*range.start()..range.end() + 1)),
            ..GetOptions::default()
        };
        let result = store
            .get_opts(&key, options)
            .await
            .map_err(Self::error(url))?;
        Ok(result
            .into_stream()
            .map(|chunk| chunk.map_err(std::io::Error::other))
            .boxed())
    }

    /// The whole object at `url` (peaks, an export).
    pub async fn bytes(&self, url: &Path) -> Result<Bytes, ObjectError> {
        let (store, key) = self.locate(url)?;
        let result = store.get(&key).await.map_err(Self::error(url))?;
        result.bytes().await.map_err(Self::error(url))
    }

    /// Deletes the object at `url`; one already gone is no error.
    pub async fn delete(&self, url: &Path) -> Result<(), ObjectError> {
        let (store, key) = self.locate(url)?;
        match store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(Self::error(url)(source)),
        }
    }
}

/// `AWS_*` variables of the process, then the configured options over them (lower case keys,
/// as `object_store`'s builders read them).
fn builder_options(configured: &HashMap<String, String>) -> Vec<(String, String)> {
    let mut options: HashMap<String, String> = std::env::vars()
        .filter(|(key, _)| key.starts_with("AWS_"))
        .map(|(key, value)| (key.to_ascii_lowercase(), value))
        .collect();
    for (key, value) in configured {
        options.insert(key.to_ascii_lowercase(), value.clone());
    }
    options.into_iter().collect()
}

/// Runs `future` to its end from synchronous code: on the runtime of the calling blocking
/// thread when there is one (a store job, a request's blocking part), else on a small runtime
/// of its own (a command-line tool, a test).
pub fn block_on<F: Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(future),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|runtime| runtime.block_on(future))
            .unwrap_or_else(|error| panic!("cannot start a runtime for a store request: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s3(url: &str) -> RecordingConfig {
        RecordingConfig {
            object_store: url.to_string(),
            object_store_options: [("aws_endpoint", "http://127.0.0.1:9"), ("aws_region", "x")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..RecordingConfig::default()
        }
    }

    #[test]
    fn an_unusable_store_url_names_the_key_and_the_fix() {
        for url in ["not a url", "ftp://host/recordings", "gs://bucket/x"] {
            let error = RecordingObjects::from_config(&s3(url)).unwrap_err();
            assert_eq!(error.key, "recording.object_store", "{url}");
            assert!(error.to_string().contains("s3://"), "{url}: {error}");
        }
        assert!(!RecordingObjects::from_config(&s3("")).unwrap().is_remote());
        assert!(
            RecordingObjects::from_config(&s3("s3://bucket/calls/"))
                .unwrap()
                .is_remote()
        );
    }

    #[test]
    fn object_urls_map_to_keys_under_the_prefix() {
        let objects = RecordingObjects::from_config(&s3("s3://bucket/calls/")).unwrap();
        let (_, key) = objects
            .locate(Path::new("s3://bucket/calls/2026-12-05/call-1.opus"))
            .unwrap();
        assert_eq!(key.as_ref(), "calls/2026-12-05/call-1.opus");
        // Stored under an earlier prefix: still found, by its own URL.
        let (_, key) = objects
            .locate(Path::new("s3://bucket/old/2025-01-01/call-2.wav"))
            .unwrap();
        assert_eq!(key.as_ref(), "old/2025-01-01/call-2.wav");
        assert!(is_object(Path::new("s3://bucket/calls/x.wav")));
        assert!(!is_object(Path::new("data/recordings/2026-12-05/x.wav")));
    }
}
