//! Proves the streaming edge converters (resampler, G.711, frame assembly) allocate nothing per
//! 20 ms frame once built: a counting global allocator watches this test's thread.

use hotline_audio::allocation_count::{CountingAllocator, allocations_during};
use hotline_audio::g711::G711Law;
use hotline_audio::resample::StreamingResampler;
use hotline_audio::{Frame, FrameAssembler};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

#[test]
fn the_counter_sees_allocations() {
    let allocations = allocations_during(|| {
        let buffer = std::hint::black_box(vec![0u8; 64]);
        drop(buffer);
    });
    assert_eq!(allocations, 1);
}

#[test]
fn telephone_and_webrtc_edges_allocate_nothing_per_frame() {
    let mut from_8k = StreamingResampler::to_engine_rate(8000).unwrap();
    let mut to_8k = StreamingResampler::from_engine_rate(8000).unwrap();
    let mut from_48k = StreamingResampler::to_engine_rate(48000).unwrap();
    let mut to_48k = StreamingResampler::from_engine_rate(48000).unwrap();
    let mut assembler = FrameAssembler::new();
    let mut codes = [0u8; 160];
    let mut narrow = [0i16; 160];
    let mut wide = [0i16; 960];
    let wide_in: Vec<i16> = (0..960).map(|n| ((n * 37) % 2000) as i16 - 1000).collect();
    // Warm up once (first calls may size internal scratch).
    let frame = from_8k.to_frame(&narrow).unwrap();
    to_8k.from_frame(&frame, &mut narrow).unwrap();

    let allocations = allocations_during(|| {
        for n in 0..500 {
            // SIP leg: μ-law in, 16 kHz frame, back out to μ-law.
            codes
                .iter_mut()
                .enumerate()
                .for_each(|(i, c)| *c = (i + n) as u8);
            G711Law::MuLaw.decode_slice(&codes, &mut narrow);
            let frame: Frame = from_8k.to_frame(&narrow).unwrap();
            to_8k.from_frame(&frame, &mut narrow).unwrap();
            G711Law::ALaw.encode_slice(&narrow, &mut codes);
            // WebRTC leg: 48 kHz in and out.
            let frame = from_48k.to_frame(&wide_in).unwrap();
            to_48k.from_frame(&frame, &mut wide).unwrap();
            assembler.push(&wide[..333], |frame| assert!(frame.peak() < 40000));
        }
    });
    assert_eq!(
        allocations, 0,
        "per-frame path allocated {allocations} times in 500 frames"
    );
}
