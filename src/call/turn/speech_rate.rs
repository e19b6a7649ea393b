//! Speech rate: how many syllables a transcript claims against how long the caller actually
//! spoke. People say at most about 7-8 syllables a second; a transcript of a 240 ms hum that
//! reads "的漫画的" (four syllables, 17 a second) is the bot's echo or Whisper's invention, not
//! the caller's words. Chinese characters and digits are a syllable each; a Latin-script word
//! counts its vowel groups.

use crate::lang::is_han;

/// Syllables `text` would take to say (an estimate; punctuation and spaces take none).
pub(crate) fn syllables(text: &str) -> usize {
    let mut count = 0;
    let mut word = String::new();
    for c in text.chars() {
        if c.is_ascii_alphabetic() || c == '\'' {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        count += latin_syllables(&word);
        word.clear();
        if c.is_ascii_digit() || is_han(c) {
            count += 1;
        }
    }
    count + latin_syllables(&word)
}

/// Syllables per second of `text` over `speech_ms` of speech.
pub(crate) fn syllables_per_second(text: &str, speech_ms: u64) -> f32 {
    syllables(text) as f32 * 1000.0 / speech_ms.max(1) as f32
}

/// Vowel groups, at least one per word ("okay" 2, "mm" 1, "yeah" 1).
fn latin_syllables(word: &str) -> usize {
    if word.is_empty() {
        return 0;
    }
    let mut groups = 0;
    let mut in_vowel = false;
    for c in word.chars() {
        let vowel = matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
        if vowel && !in_vowel {
            groups += 1;
        }
        in_vowel = vowel;
    }
    groups.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_and_digits_are_a_syllable_each() {
        assert_eq!(syllables("的漫画,的"), 4);
        assert_eq!(syllables("1,111"), 4);
        assert_eq!(syllables("等一下！"), 3);
        assert_eq!(syllables("係呀"), 2);
    }

    #[test]
    fn latin_words_count_their_vowel_groups() {
        assert_eq!(syllables("Wait, wait."), 2);
        assert_eq!(syllables("okay"), 2);
        assert_eq!(syllables("mm-hmm"), 2);
        assert_eq!(syllables("hold on"), 2);
        assert_eq!(syllables("我想问 delivery"), 7);
    }

    #[test]
    fn rate_is_per_second_of_speech() {
        assert!((syllables_per_second("的漫画,的", 240) - 16.67).abs() < 0.01);
        assert!(syllables_per_second("不是", 300) < 8.0);
        assert_eq!(syllables_per_second("", 0), 0.0);
    }
}
