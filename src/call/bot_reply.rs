//! `BotReply`: one thing the bot says (an answer, the greeting, a re-prompt ...) as the sentences
//! TTS is making, played out one 20 ms frame at a time in sentence order.
//!
//! Because the reply itself hands out every frame, it knows exactly how much of each sentence
//! the caller has heard, which is what a barge-in cuts the bot's text to.

use std::sync::Arc;

use hotline_audio::{FRAME_SAMPLES, Frame};

use super::clock::Millis;
use super::ids::{SentenceId, TurnId};
use super::turn_record::TurnRecord;
use crate::dialogue::DialogueAction;
use crate::lang::Lang;

/// Why the bot is saying something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyPurpose {
    Greeting,
    Answer,
    RePrompt,
    Goodbye,
    TransferNotice,
    TransferFailed,
    /// The satisfaction survey's question.
    Survey,
    /// Said instead of an answer when a part failed (`fault.rs`).
    Apology,
}

/// One sentence of a reply and how far it has been played.
#[derive(Debug)]
struct BotSentence {
    id: SentenceId,
    text: String,
    audio: Option<Arc<[i16]>>,
    played: usize,
}

/// What playing one frame did.
#[derive(Debug)]
pub(crate) struct PlayedFrame {
    pub(crate) frame: Frame,
    pub(crate) started: Option<SentenceId>,
    pub(crate) finished: Option<SentenceId>,
}

/// One bot turn being produced and played.
#[derive(Debug)]
pub(crate) struct BotReply {
    pub(crate) turn_id: TurnId,
    pub(crate) purpose: ReplyPurpose,
    pub(crate) lang: Lang,
    /// More sentences may still come from the dialogue engine.
    pub(crate) dialogue_open: bool,
    /// What to do once every sentence has been played.
    pub(crate) action_after: Option<DialogueAction>,
    pub(crate) interruptible: bool,
    /// The caller turn this answers (answers only).
    pub(crate) record: Option<TurnRecord>,
    /// When the first frame of the reply was played.
    pub(crate) started_at: Option<Millis>,
    /// Playback held while a possible barge-in (with this onset) is checked.
    pub(crate) paused: Option<Millis>,
    /// The first tick that played silence because of the pause.
    pub(crate) paused_at: Option<Millis>,
    sentences: Vec<BotSentence>,
    current: usize,
}

impl BotReply {
    pub(crate) fn new(
        turn_id: TurnId,
        purpose: ReplyPurpose,
        lang: Lang,
        interruptible: bool,
    ) -> Self {
        Self {
            turn_id,
            purpose,
            lang,
            dialogue_open: false,
            action_after: None,
            interruptible,
            record: None,
            started_at: None,
            paused: None,
            paused_at: None,
            sentences: Vec::new(),
            current: 0,
        }
    }

    /// Add a sentence (its audio comes later with [`BotReply::set_audio`]).
    pub(crate) fn add_sentence(&mut self, id: SentenceId, text: String) {
        self.sentences.push(BotSentence {
            id,
            text,
            audio: None,
            played: 0,
        });
    }

    /// Attach synthesised audio; false when the sentence is not part of this reply.
    pub(crate) fn set_audio(&mut self, id: SentenceId, samples: Arc<[i16]>) -> bool {
        match self.sentences.iter_mut().find(|s| s.id == id) {
            Some(sentence) => {
                sentence.audio = Some(samples);
                true
            }
            None => false,
        }
    }

    /// The sentence's audio will never come (its synthesis failed): it is skipped. False when
    /// the sentence is not part of this reply.
    pub(crate) fn drop_sentence(&mut self, id: SentenceId) -> bool {
        self.set_audio(id, Arc::from([]))
    }

    /// The next frame of the reply, or None while the next sentence's audio is not ready (or
    /// everything has been played). Empty audio is skipped.
    pub(crate) fn next_frame(&mut self) -> Option<PlayedFrame> {
        loop {
            let sentence = self.sentences.get_mut(self.current)?;
            let audio = sentence.audio.as_ref()?;
            if sentence.played >= audio.len() {
                self.current += 1;
                continue;
            }
            let started = (sentence.played == 0).then_some(sentence.id);
            let end = (sentence.played + FRAME_SAMPLES).min(audio.len());
            let mut frame = Frame::silence();
            frame.samples_mut()[..end - sentence.played]
                .copy_from_slice(&audio[sentence.played..end]);
            sentence.played = end;
            let finished = (end == audio.len()).then_some(sentence.id);
            if finished.is_some() {
                self.current += 1;
            }
            return Some(PlayedFrame {
                frame,
                started,
                finished,
            });
        }
    }

    /// Whether [`next_frame`](Self::next_frame) would play something now (the next sentence's
    /// audio is here).
    pub(crate) fn has_frame_ready(&self) -> bool {
        for sentence in &self.sentences[self.current.min(self.sentences.len())..] {
            match &sentence.audio {
                None => return false,
                Some(audio) if sentence.played < audio.len() => return true,
                Some(_) => {}
            }
        }
        false
    }

    /// The text of sentence `id` of this reply (empty when it is not part of it).
    pub(crate) fn sentence_text(&self, id: SentenceId) -> &str {
        self.sentences
            .iter()
            .find(|s| s.id == id)
            .map_or("", |s| s.text.as_str())
    }

    /// True once every sentence has been played and no more can come.
    pub(crate) fn is_complete(&self) -> bool {
        !self.dialogue_open && self.current >= self.sentences.len()
    }

    /// Whether any sentence has been sent to TTS.
    pub(crate) fn has_sentences(&self) -> bool {
        !self.sentences.is_empty()
    }

    /// Everything the reply says.
    pub(crate) fn full_text(&self) -> String {
        self.join(self.sentences.iter().map(|s| s.text.as_str()))
    }

    /// What the caller has heard: whole sentences played, plus the played share of the sentence
    /// in progress (cut back to a word boundary in space-separated languages).
    pub(crate) fn heard_text(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for sentence in &self.sentences {
            let Some(audio) = &sentence.audio else { break };
            if sentence.played >= audio.len() {
                parts.push(&sentence.text);
                continue;
            }
            if sentence.played > 0 {
                parts.push(self.cut(&sentence.text, sentence.played as f64 / audio.len() as f64));
            }
            break;
        }
        self.join(parts.into_iter().filter(|p| !p.is_empty()))
    }

    fn cut<'t>(&self, text: &'t str, share: f64) -> &'t str {
        let chars = text.chars().count();
        let keep = (chars as f64 * share).round() as usize;
        let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
        let cut = &text[..end];
        if self.lang.is_chinese() || end == text.len() {
            return cut;
        }
        match cut.rfind(char::is_whitespace) {
            Some(space) => cut[..space].trim_end(),
            None => "",
        }
    }

    fn join<'a>(&self, parts: impl Iterator<Item = &'a str>) -> String {
        let separator = if self.lang.is_chinese() { "" } else { " " };
        parts.collect::<Vec<_>>().join(separator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(lang: Lang, sentences: &[(&str, usize)]) -> BotReply {
        let mut reply = BotReply::new(TurnId(1), ReplyPurpose::Answer, lang, true);
        for (n, (text, samples)) in sentences.iter().enumerate() {
            let id = SentenceId(n as u32 + 1);
            reply.add_sentence(id, text.to_string());
            reply.set_audio(id, vec![1000i16; *samples].into());
        }
        reply
    }

    #[test]
    fn frames_come_in_sentence_order_and_mark_starts_and_ends() {
        let mut reply = BotReply::new(TurnId(1), ReplyPurpose::Answer, Lang::Zh, true);
        reply.add_sentence(SentenceId(1), "第一句。".into());
        reply.add_sentence(SentenceId(2), "第二句。".into());
        // The second sentence's audio is ready first: it must wait for the first.
        reply.set_audio(SentenceId(2), vec![2i16; 400].into());
        assert!(reply.next_frame().is_none());
        reply.set_audio(SentenceId(1), vec![1i16; 320].into());
        let first = reply.next_frame().unwrap();
        assert_eq!(
            (first.started, first.finished),
            (Some(SentenceId(1)), Some(SentenceId(1)))
        );
        assert_eq!(first.frame.samples()[0], 1);
        let second = reply.next_frame().unwrap();
        assert_eq!(
            (second.started, second.finished),
            (Some(SentenceId(2)), None)
        );
        let third = reply.next_frame().unwrap();
        assert_eq!(third.finished, Some(SentenceId(2)));
        assert_eq!(third.frame.samples()[79], 2);
        assert_eq!(
            third.frame.samples()[80],
            0,
            "the last frame is padded with silence"
        );
        assert!(reply.next_frame().is_none());
        assert!(reply.is_complete());
    }

    #[test]
    fn heard_text_cuts_chinese_by_characters_played() {
        let mut reply = reply(Lang::Zh, &[("您好。", 640), ("退货需要七个工作日。", 3200)]);
        for _ in 0..2 + 5 {
            reply.next_frame();
        }
        // Half of the second sentence played: 5 of its 10 characters.
        assert_eq!(reply.heard_text(), "您好。退货需要七");
        assert_eq!(reply.full_text(), "您好。退货需要七个工作日。");
    }

    #[test]
    fn heard_text_cuts_english_at_a_word_boundary() {
        let mut reply = reply(
            Lang::En,
            &[
                ("Hello there.", 320),
                ("Returns take seven working days.", 3200),
            ],
        );
        for _ in 0..1 + 4 {
            reply.next_frame();
        }
        assert_eq!(reply.heard_text(), "Hello there. Returns take");
    }

    #[test]
    fn nothing_played_means_nothing_heard() {
        let reply = reply(Lang::Zh, &[("您好。", 640)]);
        assert_eq!(reply.heard_text(), "");
    }
}
