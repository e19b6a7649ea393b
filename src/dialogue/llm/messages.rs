//! What the LLM is told: a system prompt (speak briefly, in the caller's language, from the
//! FAQ passages retrieved for this question), the call's earlier turns, and the question.

use serde_json::{Value, json};

use crate::dialogue::knowledge::knowledge_base::Hit;
use crate::dialogue::request::{DialogueRequest, Speaker};
use crate::lang::Lang;

/// How the answer's language is described to the model.
fn language_instruction(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "Answer in Mandarin Chinese, written in Simplified Chinese characters.",
        Lang::Yue => {
            "Answer in Cantonese as it is spoken in Hong Kong, written in Traditional Chinese characters with colloquial Cantonese words (係, 唔, 嘅, 咗, 喺)."
        }
        Lang::En => "Answer in English.",
    }
}

/// The system prompt for one answer.
pub fn system_prompt(lang: Lang, passages: &[Hit], instructions: &str, has_tools: bool) -> String {
    let mut prompt = String::from(
        "You are the voice assistant of a company's customer-service hotline. What you write is \
         read aloud by a speech synthesiser on a phone call.\n",
    );
    prompt.push_str(language_instruction(lang));
    prompt.push_str(
        "\nKeep it brief: one to three short spoken sentences. No Markdown, lists, headings, \
         emojis or links. Write numbers as digits.\n\
         Answer from the reference passages below",
    );
    prompt.push_str(if has_tools {
        " and the results of the tools you may call (look up orders or accounts with them \
         instead of guessing)."
    } else {
        "."
    });
    prompt.push_str(
        " If they do not hold the answer, say briefly that you are not sure and offer to \
         transfer the caller to a human colleague. Never invent prices, policies or order \
         details.\nPersonal data in the conversation is replaced by placeholders such as \
         [PHONE], [ID] or [CARD]; do not ask the caller to repeat it.\n",
    );
    let instructions = instructions.trim();
    if !instructions.is_empty() {
        prompt.push_str(instructions);
        prompt.push('\n');
    }
    if passages.is_empty() {
        prompt.push_str("\nNo reference passage matched this question.\n");
    } else {
        prompt.push_str("\nReference passages from the company FAQ, most relevant first:\n");
        for (k, hit) in passages.iter().enumerate() {
            prompt.push_str(&format!(
                "[{}] Q: {}\n    A: {}\n",
                k + 1,
                one_line(&hit.matched_question),
                one_line(&hit.answer)
            ));
        }
    }
    prompt
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The chat messages for `request`: system prompt, the last `history_turns` turns, the question.
pub fn chat_messages(
    request: &DialogueRequest,
    passages: &[Hit],
    instructions: &str,
    history_turns: usize,
    has_tools: bool,
) -> Vec<Value> {
    let mut messages = vec![json!({
        "role": "system",
        "content": system_prompt(request.lang, passages, instructions, has_tools),
    })];
    let skip = request.history.len().saturating_sub(history_turns);
    for turn in request.history.iter().skip(skip) {
        let (role, content) = match turn.speaker {
            Speaker::Caller => ("user", turn.text.clone()),
            Speaker::Bot if turn.interrupted => (
                "assistant",
                format!("{} [the caller interrupted here]", turn.text),
            ),
            Speaker::Bot => ("assistant", turn.text.clone()),
        };
        messages.push(json!({"role": role, "content": content}));
    }
    messages.push(json!({"role": "user", "content": request.transcript}));
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Turn;

    fn hit(question: &str, answer: &str) -> Hit {
        Hit {
            faq_id: "x".to_string(),
            score: 0.2,
            matched_question: question.to_string(),
            matched_lang: Lang::Zh,
            answer: answer.to_string(),
            answer_lang: Lang::Zh,
            lexical: 0.2,
            semantic: 0.0,
            topic_probability: 0.0,
        }
    }

    #[test]
    fn messages_hold_passages_history_and_the_question_in_order() {
        let request = DialogueRequest::new("最快点去？", Lang::Yue).with_history(vec![
            Turn::caller("你哋公司喺邊？", Lang::Yue),
            Turn::bot_interrupted("我哋喺旺角", Lang::Yue),
        ]);
        let messages = chat_messages(
            &request,
            &[hit("门店地址", "旺角彌敦道 1 號")],
            "You work for Demo Shop.",
            12,
            true,
        );
        let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        let system = messages[0]["content"].as_str().unwrap_or_default();
        assert!(system.contains("Cantonese"), "{system}");
        assert!(
            system.contains("[1] Q: 门店地址\n    A: 旺角彌敦道 1 號"),
            "{system}"
        );
        assert!(system.contains("You work for Demo Shop."));
        assert!(system.contains("tools"));
        assert_eq!(messages[1]["content"], "你哋公司喺邊？");
        assert_eq!(
            messages[2]["content"],
            "我哋喺旺角 [the caller interrupted here]"
        );
        assert_eq!(messages[3]["content"], "最快点去？");
    }

    #[test]
    fn only_the_most_recent_history_turns_are_sent() {
        let history = (0..10)
            .map(|k| Turn::caller(format!("q{k}"), Lang::En))
            .collect();
        let request = DialogueRequest::new("now", Lang::En).with_history(history);
        let messages = chat_messages(&request, &[], "", 3, false);
        let contents: Vec<&str> = messages[1..]
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect();
        assert_eq!(contents, ["q7", "q8", "q9", "now"]);
        let system = messages[0]["content"].as_str().unwrap_or_default();
        assert!(system.contains("No reference passage") && system.contains("Answer in English."));
    }
}
