//! Why a resampling request was refused or failed.

/// What went wrong when resampling.
#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    /// A rate of 0 Hz, or one above what any audio path here needs.
    #[error("sample rate {rate} Hz is not usable: give a rate between 1 and 384000 Hz")]
    InvalidRate {
        /// The rate given.
        rate: u32,
    },
    /// Streaming works in 20 ms chunks, which needs a whole number of samples per chunk.
    #[error(
        "streaming resampling works in 20 ms chunks, so the rate must be a multiple of 50 Hz, \
         but {rate} Hz was given: use 8000, 16000, 48000 (or resample whole buffers with `resample_buffer`)"
    )]
    RateNotMultipleOf50 {
        /// The rate given.
        rate: u32,
    },
    /// The input slice was not one 20 ms chunk at the input rate.
    #[error(
        "the streaming resampler takes exactly {expected} input samples (20 ms) per call but got {actual}: \
         collect input into 20 ms chunks first"
    )]
    WrongInputLength {
        /// Samples per 20 ms at the input rate.
        expected: usize,
        /// Samples given.
        actual: usize,
    },
    /// The output slice was not one 20 ms chunk at the output rate.
    #[error(
        "the streaming resampler writes exactly {expected} output samples (20 ms) per call but the output \
         buffer holds {actual}: size it with `output_chunk_len()`"
    )]
    WrongOutputLength {
        /// Samples per 20 ms at the output rate.
        expected: usize,
        /// Room given.
        actual: usize,
    },
    /// `into_frame`/`from_frame` used on a resampler whose engine side is not 16 kHz.
    #[error(
        "this resampler converts {input_rate} Hz to {output_rate} Hz, so it cannot {what} a 16 kHz frame: \
         build it with `StreamingResampler::to_engine_rate` or `from_engine_rate`"
    )]
    NotEngineRate {
        /// The resampler's input rate.
        input_rate: u32,
        /// The resampler's output rate.
        output_rate: u32,
        /// "produce" or "consume".
        what: &'static str,
    },
    /// rubato refused the configuration (should not happen for validated rates).
    #[error("resampler could not be built for {input_rate} Hz -> {output_rate} Hz: {source}")]
    Construction {
        /// Input rate.
        input_rate: u32,
        /// Output rate.
        output_rate: u32,
        /// rubato's reason.
        source: rubato::ResamplerConstructionError,
    },
    /// rubato failed while processing (a buffer-size bug in this crate).
    #[error(
        "resampling failed inside rubato: {0}; this is a bug in hotline-audio, please report it"
    )]
    Processing(#[from] rubato::ResampleError),
}

/// Highest rate accepted (covers 352.8/384 kHz studio files).
pub(crate) const MAX_RATE: u32 = 384_000;

/// Check a rate is in 1 ..= [`MAX_RATE`].
pub(crate) fn check_rate(rate: u32) -> Result<(), ResampleError> {
    if rate == 0 || rate > MAX_RATE {
        return Err(ResampleError::InvalidRate { rate });
    }
    Ok(())
}
