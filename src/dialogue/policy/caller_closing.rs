//! The caller ending the conversation ("没有了，谢谢", "冇嘢喇，唔該晒", "that's all, bye"):
//! the bot says goodbye and ends the call (asking for a rating first when the call store's
//! survey is on, see `call::survey`). Only a turn made of nothing but closing words counts:
//! "没有了，我还想问运费" goes on to the FAQ, and "thanks" alone is not a goodbye.

use crate::lang::Lang;

/// Words that end a conversation.
const ENDINGS: &[&str] = &[
    "没有其他问题了",
    "没有别的问题了",
    "没有其他问题",
    "没有问题了",
    "没别的了",
    "没有了",
    "没了",
    "没事了",
    "就这些",
    "就这样吧",
    "就这样",
    "不用了",
    "再见",
    "拜拜",
    "沒有其他問題了",
    "沒有問題了",
    "沒有了",
    "沒事了",
    "就這些",
    "就這樣",
    "再見",
    "冇其他嘢喇",
    "冇其他嘢了",
    "冇其他問題",
    "冇問題喇",
    "冇嘢喇",
    "冇嘢了",
    "冇嘢啦",
    "冇事喇",
    "冇喇",
    "就咁多",
    "唔使喇",
    "得喇",
    "thatsall",
    "thatisall",
    "thatsit",
    "thatseverything",
    "nothingelse",
    "nomorequestions",
    "nothanks",
    "nothankyou",
    "imdone",
    "iamdone",
    "goodbye",
    "byebye",
    "bye",
];

/// Words that may stand around an ending without changing it (thanks, fillers).
const AROUND: &[&str] = &[
    "谢谢你",
    "谢谢",
    "多谢晒",
    "多谢",
    "多謝晒",
    "多謝",
    "唔该晒",
    "唔該晒",
    "唔该",
    "唔該",
    "好的",
    "好啦",
    "好",
    "嗯",
    "哦",
    "喔",
    "啦",
    "喇",
    "了",
    "呀",
    "啊",
    "先",
    "thankyou",
    "thanks",
    "okay",
    "ok",
    "alright",
    "great",
    "cheers",
    "so",
    "yeah",
    "no",
];

/// Whether the whole turn says the caller is done.
pub fn is_closing(text: &str) -> bool {
    let mut rest: String = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let mut ended = false;
    while !rest.is_empty() {
        if let Some(word) = longest_prefix(&rest, ENDINGS) {
            ended = true;
            rest.drain(..word.len());
        } else if let Some(word) = longest_prefix(&rest, AROUND) {
            rest.drain(..word.len());
        } else {
            return false;
        }
    }
    ended
}

fn longest_prefix(text: &str, words: &[&'static str]) -> Option<&'static str> {
    words
        .iter()
        .filter(|w| text.starts_with(**w))
        .max_by_key(|w| w.len())
        .copied()
}

/// What the bot says before it ends the call, in `lang`.
pub fn closing_sentence(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "好的，感谢您的来电，再见。",
        Lang::Yue => "好，多謝你嘅來電，拜拜。",
        Lang::En => "Alright, thank you for calling. Goodbye.",
    }
}

#[cfg(test)]
mod tests {
    use super::is_closing;

    #[test]
    fn turns_of_closing_words_end_the_call() {
        for text in [
            "没有了，谢谢",
            "好的，没有其他问题了，谢谢你",
            "嗯，再见",
            "拜拜",
            "冇嘢喇，唔該晒",
            "得喇，多謝，拜拜",
            "That's all, thank you.",
            "no thanks, bye",
            "OK, goodbye!",
            "I'm done, thanks",
        ] {
            assert!(is_closing(text), "{text}");
        }
    }

    #[test]
    fn questions_thanks_and_answers_do_not() {
        for text in [
            "谢谢",
            "thanks",
            "没有了，我还想问运费",
            "不是",
            "no",
            "好的",
            "再见前问一下几点关门",
            "what time do you close",
            "冇嘢喇，不過想問下幾時送到",
            "bye the way can I pay by card",
            "",
        ] {
            assert!(!is_closing(text), "{text}");
        }
    }
}
