//! Loading the ONNX Runtime shared library, once per process.
//!
//! `ort` is built with `load-dynamic`: nothing links against onnxruntime at build time, and the
//! library must be loaded from a known path before the first session is made (without it,
//! ort falls back to `libonnxruntime.so` on the loader path, and its session builder was seen to
//! hang). Silero VAD here and Piper TTS in the engine share the one library, so both call
//! [`init_onnx_runtime`] with the same path; repeated calls are cheap no-ops.
//!
//! The library is checked here (loadable, exports `OrtGetApiBase`, version new enough) before
//! ort is given it: ort 2.0.0-rc.12 deadlocks instead of returning an error when that load
//! fails (its error constructor calls back into the half-initialised loader).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

static LOADED_FROM: Mutex<Option<PathBuf>> = Mutex::new(None);

/// Why ONNX Runtime could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum OnnxRuntimeError {
    /// No file at the path given.
    #[error(
        "ONNX Runtime library not found at {path}: put libonnxruntime.so (1.24 or newer; e.g. \
         onnxruntime/capi/libonnxruntime.so.1.31.1 from the PyPI `onnxruntime` wheel) there, or \
         point the configuration at it"
    )]
    NotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The file is there but is not a loadable ONNX Runtime of a supported version.
    #[error(
        "cannot load ONNX Runtime from {path}: {reason}; use a Linux x86-64 libonnxruntime.so, \
         version 1.24 or newer"
    )]
    LoadFailed {
        /// The path given.
        path: PathBuf,
        /// ort's reason.
        reason: String,
    },
    /// The library is an ONNX Runtime older than the API ort was built for.
    #[error(
        "ONNX Runtime at {path} is version {version}, older than the 1.{required}.x this build needs: \
         use onnxruntime 1.{required} or newer (e.g. the PyPI wheel's onnxruntime/capi/libonnxruntime.so.*)"
    )]
    TooOld {
        /// The path given.
        path: PathBuf,
        /// The version it reports.
        version: String,
        /// The minor version needed.
        required: u32,
    },
    /// Another library was loaded earlier in this process; only one can be.
    #[error(
        "ONNX Runtime is already loaded from {loaded} in this process, so {requested} cannot be \
         loaded as well: configure one library path for every model (VAD and TTS)"
    )]
    AlreadyLoaded {
        /// The library in use.
        loaded: PathBuf,
        /// The library asked for now.
        requested: PathBuf,
    },
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Load ONNX Runtime from `library` (a path to `libonnxruntime.so.*`) for this process.
///
/// Idempotent: later calls with the same file (by canonical path) return `Ok(())` at once.
pub fn init_onnx_runtime(library: impl AsRef<Path>) -> Result<(), OnnxRuntimeError> {
    let library = library.as_ref();
    let requested = canonical(library);
    let mut loaded = LOADED_FROM
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(loaded) = loaded.as_ref() {
        return if *loaded == requested {
            Ok(())
        } else {
            Err(OnnxRuntimeError::AlreadyLoaded {
                loaded: loaded.clone(),
                requested,
            })
        };
    }
    if !requested.is_file() {
        return Err(OnnxRuntimeError::NotFound {
            path: library.to_path_buf(),
        });
    }
    check_library(library, &requested)?;
    let builder = ort::init_from(&requested).map_err(|e| OnnxRuntimeError::LoadFailed {
        path: library.to_path_buf(),
        reason: e.to_string(),
    })?;
    // `false` only means an environment was configured before (by code outside this crate);
    // the library is loaded either way.
    let _ = builder.with_name("hotline").commit();
    *loaded = Some(requested);
    Ok(())
}

/// Load the library on our own and read its version, so that ort is only ever given a
/// library it will load successfully.
fn check_library(given: &Path, path: &Path) -> Result<(), OnnxRuntimeError> {
    let failed = |reason: String| OnnxRuntimeError::LoadFailed {
        path: given.to_path_buf(),
        reason,
    };
    // SAFETY: loading a shared library runs its initialisers. This is the ONNX Runtime library
    // the caller configured, which ort loads right after this check in any case.
    let library = unsafe { libloading::Library::new(path) }.map_err(|e| failed(e.to_string()))?;
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime release (C API).
    let get_api_base: libloading::Symbol<
        '_,
        unsafe extern "C" fn() -> *const ort::sys::OrtApiBase,
    > = unsafe { library.get(b"OrtGetApiBase") }.map_err(|_| {
        failed("it does not export OrtGetApiBase, so it is not ONNX Runtime".into())
    })?;
    // SAFETY: the function takes no arguments and returns a pointer to a static struct (or null).
    let api_base = unsafe { get_api_base() };
    if api_base.is_null() {
        return Err(failed("OrtGetApiBase returned null".into()));
    }
    // SAFETY: `api_base` is non-null and points to the library's static OrtApiBase; the version
    // string it returns is a static NUL-terminated string owned by the library.
    let version = unsafe {
        let version = ((*api_base).GetVersionString)();
        if version.is_null() {
            return Err(failed("GetVersionString returned null".into()));
        }
        std::ffi::CStr::from_ptr(version)
            .to_string_lossy()
            .into_owned()
    };
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|minor| minor.parse::<u32>().ok())
        .unwrap_or(0);
    if minor < ort::MINOR_VERSION {
        return Err(OnnxRuntimeError::TooOld {
            path: given.to_path_buf(),
            version,
            required: ort::MINOR_VERSION,
        });
    }
    Ok(())
}

/// The library [`init_onnx_runtime`] loaded, if it has been called successfully.
pub fn onnx_runtime_library() -> Option<PathBuf> {
    LOADED_FROM
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}
