//! `SessionConfig`: every threshold and every sentence of the conversation state machine, with
//! defaults a call can run on. Nested in the engine's config file as plain serde structs.

use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// Everything a [`Session`](super::Session) needs to decide when to listen, answer, stop and hand over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionConfig {
    /// The language of the greeting and of the first transcription hint.
    pub default_lang: Lang,
    pub vad: VadConfig,
    pub turn: TurnTakingConfig,
    pub barge_in: BargeInConfig,
    pub echo: EchoConfig,
    pub flow: CallFlowConfig,
    pub survey: SurveyConfig,
    /// What the caller hears when a part fails (`[call.faults]`, see `fault.rs`).
    pub faults: FaultConfig,
    /// A played frame at or above this level counts as audible (for "first audio out").
    pub audible_dbfs: f32,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            default_lang: Lang::Zh,
            vad: VadConfig::default(),
            turn: TurnTakingConfig::default(),
            barge_in: BargeInConfig::default(),
            echo: EchoConfig::default(),
            flow: CallFlowConfig::default(),
            survey: SurveyConfig::default(),
            faults: FaultConfig::default(),
            audible_dbfs: -60.0,
        }
    }
}

/// Turning per-frame speech probabilities (Silero) into speech and silence, with hysteresis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VadConfig {
    /// A frame at or above this probability starts speech.
    pub start_threshold: f32,
    /// Once in speech, frames stay speech until the probability drops below this.
    pub stop_threshold: f32,
    /// Audio kept before the first speech frame, so the first syllable is not clipped.
    pub pre_roll_ms: u64,
    /// 32 ms chunks quieter than this (RMS dBFS) are silence without running the model: a
    /// listening caller's line noise costs no inference. -200: run the model on everything.
    pub energy_gate_dbfs: f32,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            start_threshold: 0.5,
            stop_threshold: 0.35,
            pre_roll_ms: 300,
            energy_gate_dbfs: -55.0,
        }
    }
}

/// When the caller has finished speaking, and how often partial transcripts are asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TurnTakingConfig {
    /// Silence that ends a turn when the words give no cue.
    pub base_hangover_ms: u64,
    /// Silence that ends a turn after something that reads as a complete question.
    pub question_hangover_ms: u64,
    /// A turn the words (or the acoustic model) call complete is timed from where the caller's
    /// voice fell away: the last speech frame within this many dB of the utterance's loudest.
    /// The VAD calls the fading tail speech for 70-200 ms more. Turns that may go on (a plain
    /// statement, a filler, digits) keep the VAD's release as their clock. 0: every turn is
    /// timed from the VAD's release.
    pub voice_fall_db: f32,
    /// The voice's end is taken at most this long before the VAD's last speech frame.
    pub voice_fall_max_lead_ms: u64,
    /// The words are decoded once the voice has been fallen this long, before the VAD lets go
    /// (a decode the voice's return makes stale is cancelled). Shorter dips inside speech are
    /// common: the 46 telephone clips of `tests/fixtures` have 178 dips of 40 ms or more
    /// inside their speech, 34 of 100 ms or more, and 45 of their 46 final tails last 100 ms
    /// or more. 0: decode at the VAD's release.
    pub decode_after_voice_fall_ms: u64,
    /// Silence that ends a turn after a hesitation filler (嗯, 那个, um ...).
    pub hesitation_hangover_ms: u64,
    /// Silence that ends a turn while digits are being dictated (phone and order numbers).
    pub digits_hangover_ms: u64,
    /// A turn this long is ended even if the caller is still speaking.
    pub max_utterance_ms: u64,
    /// Speech shorter than this (in total) is dropped without transcription (clicks, coughs).
    pub min_utterance_ms: u64,
    /// When partial transcripts of a caller still speaking are decoded: only for calls whose
    /// channel shows live captions (the browser widget; the default), on every call, or never.
    /// The end of turn does not need them: the decode at the first pause reads the words.
    pub partials: PartialPolicy,
    /// At most one partial transcript request per this many ms.
    pub partial_interval_ms: u64,
    /// No partial before the utterance has this much audio.
    pub partial_min_audio_ms: u64,
    /// Endings that make a transcript read as a complete question.
    pub question_endings: Vec<String>,
    /// Question words; a transcript with one followed by more words reads as a question.
    pub question_words: Vec<String>,
    /// Question words that also end a question where they stand last ("运费多少", "在哪里",
    /// "去咗邊度"); the others need words after them (a trailing "怎么" is a caller not done).
    pub question_words_at_end: Vec<String>,
    /// Endings that mean the caller is still thinking.
    pub hesitation_endings: Vec<String>,
    /// Words a clause cannot end on (conjunctions, 把, articles and possessives): a pause after
    /// one is a breath inside the turn and gets the hesitation wait. A copula after a noun
    /// ("号码是", "number is") and "to" after "like/want/need…" count too (`hanging_clause`).
    pub hanging_endings: Vec<String>,
    /// Sentence-final particles looked through before the question test (啊, 呀 ...).
    pub soft_particles: Vec<String>,
    /// The acoustic end-of-turn model's part in the decision.
    pub acoustic: AcousticTurnConfig,
}

/// The acoustic end-of-turn model (Smart Turn v3): run once at each pause on the last 8 s of
/// the utterance; its probability that the turn is complete joins the words' cue
/// ([`combined_cue`](super::turn::end_of_turn::combined_cue)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AcousticTurnConfig {
    /// A manifest id or a file path; `"none"`: the words decide alone.
    pub model: String,
    /// Whether a turn that sounds complete is ended sooner (`complete_hangover_ms`). Off by
    /// default: on the synthetic voices of `tests/fixtures/turns` the model heard lead-ins
    /// ("Could you check,") as complete and cut 27 of 48 turns (7 with the words alone); on
    /// recorded Mandarin it was right (README.md, "Turn-taking and cost per call").
    pub shorten_when_complete: bool,
    /// At or above this probability the turn sounds complete.
    pub complete_threshold: f32,
    /// Below this probability a plain statement sounds unfinished.
    pub unfinished_threshold: f32,
    /// Silence that ends a turn that sounds complete (never longer than `question_hangover_ms`).
    pub complete_hangover_ms: u64,
    /// Silence that ends a plain statement that sounds unfinished.
    pub unfinished_hangover_ms: u64,
}

impl AcousticTurnConfig {
    /// Whether a model is configured at all.
    pub fn enabled(&self) -> bool {
        !self.model.trim().is_empty() && self.model.trim() != "none"
    }
}

impl Default for AcousticTurnConfig {
    fn default() -> Self {
        Self {
            model: "smart-turn-v3".to_string(),
            shorten_when_complete: false,
            complete_threshold: 0.5,
            unfinished_threshold: 0.2,
            complete_hangover_ms: 200,
            unfinished_hangover_ms: 1000,
        }
    }
}

impl Default for TurnTakingConfig {
    fn default() -> Self {
        Self {
            base_hangover_ms: 500,
            question_hangover_ms: 300,
            voice_fall_db: 30.0,
            voice_fall_max_lead_ms: 200,
            decode_after_voice_fall_ms: 100,
            hesitation_hangover_ms: 1200,
            digits_hangover_ms: 2000,
            max_utterance_ms: 15_000,
            min_utterance_ms: 120,
            partials: PartialPolicy::Captions,
            partial_interval_ms: 300,
            partial_min_audio_ms: 300,
            question_endings: strings(&[
                "吗",
                "嗎",
                "呢",
                "未",
                "冇",
                "咩",
                "?",
                "？",
                "係咪",
                "是不是",
                "对不对",
                "對不對",
                "可唔可以",
                "可不可以",
                "有冇",
                "有没有",
                "有沒有",
            ]),
            question_words: strings(&[
                "什么",
                "甚么",
                "什麼",
                "甚麼",
                "怎么",
                "怎麼",
                "怎样",
                "怎樣",
                "为什么",
                "為什麼",
                "哪",
                "几",
                "幾",
                "多少",
                "多久",
                "多长",
                "多長",
                "多远",
                "多遠",
                "如何",
                "是否",
                "能否",
                "可否",
                "啥",
                "咋",
                "为何",
                "為何",
                "谁",
                "誰",
                "点样",
                "點樣",
                "点解",
                "點解",
                "边度",
                "邊度",
                "边个",
                "邊個",
                "乜嘢",
                "乜",
                "有冇",
                "有没有",
                "有沒有",
                "可唔可以",
                "可不可以",
                "能不能",
                "会不会",
                "會不會",
                "是不是",
                "係咪",
                "how",
                "what",
                "when",
                "where",
                "why",
                "which",
                "who",
                "can you",
                "could you",
                "do you",
                "is it",
                "are you",
                "can",
                "could",
                "do i",
                "do we",
                "does",
                "did",
                "is",
                "are",
                "will",
                "would",
                "should",
            ]),
            question_words_at_end: strings(&[
                "多少",
                "多久",
                "多长时间",
                "多長時間",
                "哪里",
                "哪裡",
                "哪儿",
                "哪兒",
                "边度",
                "邊度",
                "几时",
                "幾時",
                "几耐",
                "幾耐",
                "几多",
                "幾多",
                "邊",
            ]),
            hanging_endings: strings(&[
                "但是", "可是", "不过", "不過", "因为", "因為", "所以", "如果", "要是", "而且",
                "或者", "还是", "還是", "定係", "还有", "還有", "同埋", "以及", "的话", "的話",
                "关于", "關於", "对于", "對於", "把", "跟", "but", "or", "because", "if", "than",
                "the", "a", "an", "my", "your", "our", "their", "its",
            ]),
            hesitation_endings: strings(&[
                "嗯", "呃", "啊", "额", "額", "那个", "那個", "嗰個", "嗰个", "就是", "然后",
                "然後", "即係", "um", "uh", "er", "erm", "hmm", "and",
            ]),
            soft_particles: strings(&["啊", "呀", "啦", "吖", "喎", "嘛", "呢"]),
            acoustic: AcousticTurnConfig::default(),
        }
    }
}

/// When a caller still speaking gets partial transcripts (each is a Whisper decode of the whole
/// utterance so far: most of a call's CPU when they run every 300 ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartialPolicy {
    /// Never: the transcript comes from the decode at each pause.
    Never,
    /// Only on calls that show the caller live captions (the browser widget).
    Captions,
    /// On every call.
    Always,
}

impl PartialPolicy {
    /// What this policy means on a call that does (or does not) show live captions.
    pub fn for_call(self, shows_captions: bool) -> Self {
        match self {
            PartialPolicy::Captions if !shows_captions => PartialPolicy::Never,
            policy => policy,
        }
    }
}

/// When the caller's speech over the bot's is a real interruption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BargeInConfig {
    /// Off: the bot always finishes what it says.
    pub enabled: bool,
    /// After the bot starts a reply, caller speech in this window does not count.
    pub protection_ms: u64,
    /// A caller who starts again this soon after their last speech, while the answer is
    /// still in its protection window, is finishing their question: the answer stops and
    /// both parts are answered as one.
    pub resume_window_ms: u64,
    /// Caller speech (not echo, past the protection window) after which the bot's playback is
    /// paused while the session decides; resumed if it was not a real interruption.
    pub pause_after_ms: u64,
    /// Caller speech needed before an interruption of a speaking bot can be real.
    pub min_speech_speaking_ms: u64,
    /// Caller speech needed before an interruption of a thinking bot can be real.
    pub min_speech_thinking_ms: u64,
    /// An interruption at least this long is real without looking at its words; a shorter one
    /// is transcribed and ignored when it is only backchannels.
    pub backchannel_max_ms: u64,
    /// A short interruption (under `backchannel_max_ms`) whose transcript has a lower mean
    /// token probability than this is a noise or a hum forced into words, not words.
    pub min_confidence: f32,
    /// A short interruption whose transcript has more syllables per second of the caller's
    /// speech than this is not the caller's words (people say at most 7-8 a second; the
    /// margin covers speech the VAD or the echo guard did not count).
    pub max_syllables_per_second: f32,
    /// A too-short burst is dropped once the caller has been silent this long after it.
    pub short_gap_ms: u64,
    /// Whether the greeting (which says the caller talks to an AI) can be interrupted.
    pub greeting_interruptible: bool,
    /// Backchannel tokens per language (嗯, 係, mm-hmm ...); matched after dropping spaces and
    /// punctuation, the whole transcript must be made of them. All lists apply to every call.
    /// (唔 is left out of the defaults: "唔係" is "no", not a listening noise.)
    pub backchannels: PerLang<Vec<String>>,
    /// A transcript with more characters than this (after dropping spaces and punctuation)
    /// is never a backchannel.
    pub max_backchannel_chars: usize,
    /// A short interruption (under `backchannel_max_ms`) with fewer syllables than this
    /// interrupts only if it holds one of `short_interruptions`.
    pub min_interruption_syllables: usize,
    /// Words that make even a short sound an interruption (停, 等, 不是, "stop", "wait");
    /// Chinese ones match inside the transcript, English ones as whole words.
    pub short_interruptions: PerLang<Vec<String>>,
}

impl Default for BargeInConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            protection_ms: 300,
            resume_window_ms: 1500,
            pause_after_ms: 60,
            min_speech_speaking_ms: 200,
            min_speech_thinking_ms: 200,
            backchannel_max_ms: 700,
            min_confidence: 0.3,
            max_syllables_per_second: 12.0,
            short_gap_ms: 200,
            greeting_interruptible: false,
            backchannels: PerLang {
                zh: strings(&[
                    "嗯", "恩", "是", "是的", "好", "好的", "对", "对对", "对的", "啊", "哦", "噢",
                    "喔", "行", "明白", "知道", "嗯哼",
                ]),
                yue: strings(&[
                    "嗯", "係", "系", "係呀", "係啊", "好", "好呀", "啱", "啱啱", "對", "哦", "噢",
                    "喔", "啊", "明", "明白", "知道",
                ]),
                en: strings(&[
                    "m", "mm", "mmm", "hm", "hmm", "mhm", "mm-hmm", "mm-hm", "uh-huh", "yeah",
                    "yep", "yes", "ok", "okay", "right", "sure", "i see", "got it", "alright",
                ]),
            },
            max_backchannel_chars: 8,
            min_interruption_syllables: 4,
            short_interruptions: PerLang {
                zh: strings(&[
                    "停", "等", "不", "没", "喂", "慢", "错", "别", "啥", "什么", "人工",
                ]),
                yue: strings(&[
                    "停", "等", "唔", "冇", "喂", "咪", "錯", "慢", "咩", "乜", "人工",
                ]),
                en: strings(&[
                    "stop", "wait", "no", "not", "hey", "sorry", "what", "pardon", "hold", "hang",
                    "excuse", "but", "actually", "agent", "human",
                ]),
            },
        }
    }
}

/// Recognising the bot's own voice coming back on the caller's line (see `echo_guard.rs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EchoConfig {
    /// Longest echo path delay searched.
    pub max_delay_ms: u64,
    /// A caller frame at most this many dB above the predicted echo is taken as echo.
    pub level_margin_db: f32,
    /// A caller frame this many dB below everything played recently is taken as echo.
    pub inaudible_margin_db: f32,
    /// Correlation of caller and played level envelopes above which an echo path exists.
    pub min_correlation: f32,
    /// Horizon, in frames, over which the echo path is learnt.
    pub adaptation_frames: u32,
    /// Played audio quieter than this cannot explain anything.
    pub reference_floor_dbfs: f32,
}

impl Default for EchoConfig {
    fn default() -> Self {
        Self {
            max_delay_ms: 300,
            level_margin_db: 6.0,
            inaudible_margin_db: 30.0,
            min_correlation: 0.7,
            adaptation_frames: 100,
            reference_floor_dbfs: -55.0,
        }
    }
}

/// What a DTMF digit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DtmfAction {
    /// Hand the caller to a human.
    Transfer,
    /// End the call.
    HangUp,
}

/// A DTMF digit bound to an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DtmfBinding {
    pub digit: char,
    pub action: DtmfAction,
}

/// Greeting, re-prompts, hang-up on silence, DTMF and transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallFlowConfig {
    /// Said first; must tell the caller they are talking to an AI.
    pub greeting: PerLang<String>,
    /// Caller silence (bot idle) after which the bot re-prompts.
    pub reprompt_after_ms: u64,
    pub reprompt: PerLang<String>,
    /// After this many re-prompts in a row without an answer the bot says goodbye and hangs up.
    pub max_reprompts: u32,
    pub goodbye: PerLang<String>,
    /// Said before a transfer the caller asked for with DTMF (a dialogue-initiated transfer
    /// that already said something skips it). Empty: say nothing.
    pub transfer_notice: PerLang<String>,
    /// Said when the transfer failed and the bot keeps the call.
    pub transfer_failed: PerLang<String>,
    pub dtmf: Vec<DtmfBinding>,
    /// Longest transfer summary built from the conversation, in characters.
    pub summary_max_chars: usize,
}

impl Default for CallFlowConfig {
    fn default() -> Self {
        Self {
            greeting: PerLang::texts(
                "您好，我是智能语音客服，由人工智能为您服务。请问有什么可以帮您？",
                "你好，我係智能語音客服，由人工智能為你服務。請問有咩可以幫到你？",
                "Hello, you are speaking with an AI assistant. How can I help you?",
            ),
            reprompt_after_ms: 8000,
            reprompt: PerLang::texts(
                "您还在吗？请问有什么可以帮您？",
                "你仲喺度嗎？請問有咩可以幫到你？",
                "Are you still there? How can I help you?",
            ),
            max_reprompts: 2,
            goodbye: PerLang::texts(
                "我们暂时听不到您的声音，先挂断了，再见。",
                "我哋暫時聽唔到你嘅聲音，而家會掛線，再見。",
                "I can't hear you, so I'll end the call now. Goodbye.",
            ),
            transfer_notice: PerLang::texts(
                "正在为您转接人工客服，请稍候。",
                "而家幫你轉駁人工客服，請稍等。",
                "I'm transferring you to a human agent, please hold.",
            ),
            transfer_failed: PerLang::texts(
                "抱歉，人工客服暂时无法接通，我继续为您服务。",
                "唔好意思，暫時未能接通人工客服，我繼續幫你。",
                "Sorry, no agent is available right now. I'm still here to help.",
            ),
            dtmf: vec![DtmfBinding {
                digit: '0',
                action: DtmfAction::Transfer,
            }],
            summary_max_chars: 400,
        }
    }
}

/// The satisfaction survey after a call the bot resolved (`[call.survey]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SurveyConfig {
    /// Ask for a 1-5 rating when the caller ends a call in which the bot answered from the FAQ.
    pub enabled: bool,
    pub question: PerLang<String>,
    /// Said after the rating (or when none came); then the bot hangs up.
    pub thanks: PerLang<String>,
    /// How long after the question the bot waits for a key or a spoken number.
    pub timeout_ms: u64,
}

impl Default for SurveyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            question: PerLang::texts(
                "挂机前，请按 1 到 5 给本次服务评分，5 分为非常满意，也可以直接说出分数。",
                "收線之前，請按 1 至 5 評分，5 分代表非常滿意，你亦可以直接講個分數。",
                "Before you go, please rate this call from 1 to 5, 5 being very satisfied: press a key or say the number.",
            ),
            thanks: PerLang::texts("谢谢，再见。", "多謝，拜拜。", "Thank you. Goodbye."),
            timeout_ms: 8000,
        }
    }
}

/// No dead air when a part fails (`[call.faults]`): a part that is slow gets the caller a short
/// holding phrase while the call keeps waiting for it; one that fails (or is still not done at
/// the hard deadline) gets a short apology and the offer of a human; faults in a row hand the
/// caller to one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultConfig {
    /// Said when a part failed; offers a human. Synthesized at warm-up and kept, so a voice
    /// that breaks later can still say it.
    pub apology: PerLang<String>,
    /// Said while a slow part is waited for ("One moment, please."); pinned at warm-up like
    /// the apology. Empty: the caller waits in silence.
    pub holding: PerLang<String>,
    /// The soft deadline: this long after the caller's end of turn with nothing playing (a
    /// decode, an answer or a synthesis still running), the holding phrase is said and the
    /// call keeps waiting; again after each holding phrase, so the caller never sits through
    /// a longer silence. Below 2000 so something is heard within 2 s.
    pub hold_after_ms: u64,
    /// The hard deadline: the caller's end of turn → the answer's first frame. Past it the
    /// turn is given up and the apology is said (a part that reports an error gets the apology
    /// at once).
    pub give_up_after_ms: u64,
    /// Faulted turns in a row after which the caller is handed to a human instead of hearing
    /// the apology again (0: never; a leg with no transfer target says `transfer_failed`).
    pub transfer_after: u32,
    /// A sentence's synthesis taking longer is given up as failed (the call's synthesis queue
    /// moves on). Longer than `give_up_after_ms` by default: a slow voice is waited for as long
    /// as any other slow part, and a hanging one is the turn's hard deadline to give up.
    pub synthesis_timeout_ms: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            apology: PerLang::texts(
                "抱歉，系统刚才出了点问题。需要的话我可以帮您转接人工客服。",
                "唔好意思，系統啱啱有啲問題。有需要嘅話我可以幫你轉駁人工客服。",
                "Sorry, something went wrong on my side. I can put you through to a colleague if you like.",
            ),
            holding: PerLang::texts("请稍等。", "請等等。", "One moment, please."),
            hold_after_ms: 1800,
            give_up_after_ms: 8000,
            transfer_after: 2,
            synthesis_timeout_ms: 10_000,
        }
    }
}

/// One value per language.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PerLang<T> {
    pub zh: T,
    pub yue: T,
    pub en: T,
}

impl<T> PerLang<T> {
    /// The value for `lang`.
    pub fn get(&self, lang: Lang) -> &T {
        match lang {
            Lang::Zh => &self.zh,
            Lang::Yue => &self.yue,
            Lang::En => &self.en,
        }
    }

    /// All three values.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        [&self.zh, &self.yue, &self.en].into_iter()
    }
}

impl PerLang<String> {
    fn texts(zh: &str, yue: &str, en: &str) -> Self {
        Self {
            zh: zh.to_string(),
            yue: yue.to_string(),
            en: en.to_string(),
        }
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}
