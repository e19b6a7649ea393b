//! Without `init_onnx_runtime`, making a SileroVad is refused with the fix, instead of letting
//! ort guess a library path (its session builder has been seen to hang then). A separate test
//! binary, so no other test has loaded the runtime in this process.

use hotline_audio::vad::{OnnxRuntimeError, SileroVad, VadError, init_onnx_runtime};

#[test]
fn silero_needs_the_runtime_loaded_first() {
    let err = SileroVad::new("silero_vad.onnx").unwrap_err();
    assert!(matches!(err, VadError::OnnxRuntimeNotLoaded), "{err:?}");
    assert!(err.to_string().contains("init_onnx_runtime"), "{err}");

    let missing = std::env::temp_dir().join("hotline-no-such-libonnxruntime.so");
    let err = init_onnx_runtime(&missing).unwrap_err();
    assert!(matches!(err, OnnxRuntimeError::NotFound { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("hotline-no-such-libonnxruntime.so"),
        "{err}"
    );

    // A file that is not a shared library fails to load, naming the file.
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("libonnxruntime.so");
    std::fs::write(&bogus, b"not a library").unwrap();
    let err = init_onnx_runtime(&bogus).unwrap_err();
    assert!(
        matches!(err, OnnxRuntimeError::LoadFailed { .. }),
        "{err:?}"
    );

    // A real shared library that is not ONNX Runtime.
    let libm = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
    ]
    .into_iter()
    .find(|path| std::path::Path::new(path).is_file());
    if let Some(libm) = libm {
        let err = init_onnx_runtime(libm).unwrap_err();
        assert!(err.to_string().contains("OrtGetApiBase"), "{err}");
    }
}
