//! The transcript of a call as the review call page shows it: the caller's and the bot's lines
//! with their offsets (`data-seek`, a click seeks the player), the FAQ and confidence, the
//! answer's latency, barge-ins (drawn on the waveform by `review.js` from the `data-`
//! attributes: numbers only), the conversation with the agent after a bridged transfer, and
//! the hand-over summary. Shared by the page and its live updates (`live_call`), so a running
//! call's transcript is rendered one way. Every stored string is escaped.

use super::dates::minutes_seconds;
use super::html::{escape, url_encode};
use crate::store::{BridgedLineEntry, CallDetail, SLOW_ANSWER_MS, TurnEntry};

/// The `<li>` items of the transcript: the turns, then the lines after a bridged transfer.
pub fn transcript_items(detail: &CallDetail) -> String {
    let mut items: String = detail.turns.iter().map(turn_item).collect();
    items.extend(detail.after_transfer.iter().map(bridged_line_item));
    items
}

/// The hand-over summary's section, or nothing when the call has none.
pub fn handover_summary(detail: &CallDetail) -> String {
    match &detail.handover_summary {
        Some(summary) => format!(
            "<section class=\"handover\"><h2>Handover summary</h2><p>{}</p></section>",
            escape(summary)
        ),
        None => String::new(),
    }
}

/// Seconds with ms precision, for `data-` attributes and seeking.
fn seconds(ms: u64) -> String {
    format!("{:.3}", ms as f64 / 1000.0)
}

fn clock(ms: u64) -> String {
    minutes_seconds(i64::try_from(ms).unwrap_or(i64::MAX))
}

/// A line of the conversation with the agent after a bridged transfer: click to hear it.
fn bridged_line_item(line: &BridgedLineEntry) -> String {
    let who = if line.speaker == "agent" {
        "Agent"
    } else {
        "Caller (to the agent)"
    };
    format!(
        "<li class=\"turn after-transfer {speaker}\"><button type=\"button\" class=\"seek {speaker}\" \
         data-seek=\"{at}\"><span class=\"at\">{clock}</span> <span class=\"who\">{who}</span> \
         <span class=\"text\">{text}</span></button></li>",
        speaker = if line.speaker == "agent" {
            "agent"
        } else {
            "caller"
        },
        at = seconds(line.start_ms),
        clock = clock(line.start_ms),
        text = escape(&line.text),
    )
}

fn turn_item(turn: &TurnEntry) -> String {
    let t = &turn.timings;
    let mut data = format!(
        " data-caller-start=\"{}\" data-caller-end=\"{}\"",
        seconds(t.speech_start_ms),
        seconds(t.speech_end_ms.max(t.speech_start_ms))
    );
    if let Some(start) = t.bot_audio_start_ms {
        data.push_str(&format!(" data-bot-start=\"{}\"", seconds(start)));
        let end = t
            .playback_stopped_ms
            .or(t.bot_audio_end_ms)
            .unwrap_or(start);
        data.push_str(&format!(" data-bot-end=\"{}\"", seconds(end.max(start))));
    }
    if let Some(onset) = t.barge_in_onset_ms {
        data.push_str(&format!(" data-barge=\"{}\"", seconds(onset)));
    }
    let caller = format!(
        "<button type=\"button\" class=\"seek caller\" data-seek=\"{at}\">\
         <span class=\"at\">{clock}</span> <span class=\"who\">Caller ({lang})</span> \
         <span class=\"text\">{text}</span></button>",
        at = seconds(t.speech_start_ms),
        clock = clock(t.speech_start_ms),
        lang = escape(&turn.lang),
        text = escape(&turn.caller_text),
    );
    let bot_at = t.bot_audio_start_ms.or(t.first_audio_ms);
    let heard = if turn.bot_text_heard.is_empty() {
        &turn.bot_text
    } else {
        &turn.bot_text_heard
    };
    let cut = if t.barge_in_onset_ms.is_some() && turn.bot_text_heard != turn.bot_text {
        format!(
            " <details class=\"unheard\"><summary>cut by the caller</summary>{}</details>",
            escape(&turn.bot_text)
        )
    } else {
        String::new()
    };
    let bot = match bot_at {
        Some(at) => format!(
            "<button type=\"button\" class=\"seek bot\" data-seek=\"{}\">\
             <span class=\"at\">{}</span> <span class=\"who\">Bot</span> \
             <span class=\"text\">{}</span></button>{cut}",
            seconds(at),
            clock(at),
            escape(heard)
        ),
        None if !heard.is_empty() => format!(
            "<p class=\"bot\"><span class=\"who\">Bot</span> <span class=\"text\">{}</span></p>{cut}",
            escape(heard)
        ),
        None => String::new(),
    };
    let mut meta = Vec::new();
    if let Some(faq) = &turn.faq_id {
        let confidence = turn
            .faq_confidence
            .map(|c| format!(" · {c:.2}"))
            .unwrap_or_default();
        meta.push(format!(
            "FAQ <a href=\"/review?faq={}\">{}</a>{confidence}",
            url_encode(faq),
            escape(faq)
        ));
    }
    if let Some(latency) = t.voice_to_voice_ms {
        let slow = if latency as i64 > SLOW_ANSWER_MS {
            " slow"
        } else {
            ""
        };
        meta.push(format!(
            "<span class=\"latency{slow}\">answer {latency} ms</span>"
        ));
    }
    if let Some(onset) = t.barge_in_onset_ms {
        meta.push(format!(
            "<span class=\"barge\">barge-in at {}</span>",
            clock(onset)
        ));
    }
    meta.push(escape(&turn.outcome));
    format!(
        "<li class=\"turn\" id=\"turn-{index}\"{data}>{caller}{bot}<p class=\"meta\">{meta}</p></li>",
        index = turn.index,
        meta = meta.join(" · "),
    )
}
