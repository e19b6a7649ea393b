//! Speech synthesis: voices behind one trait, chosen per language from config, all producing the
//! engine's 16 kHz mono audio.

mod espeak_voice;
mod piper_voice;
mod speech_cache;
mod voice;
mod voice_set;
mod voice_spec;

pub use espeak_voice::EspeakVoice;
pub use piper_voice::PiperVoice;
pub use speech_cache::SpeechCache;
pub use voice::{Speech, TtsError, Voice};
pub use voice_set::VoiceSet;
pub use voice_spec::VoiceSpec;
