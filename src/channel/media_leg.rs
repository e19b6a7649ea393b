//! The one interface between a channel and the conversation: caller audio, DTMF and hang-up in;
//! paced frames out, flush on barge-in, transfer and hang-up.

use std::future::Future;
use std::pin::Pin;

use hotline_audio::Frame;
use tokio::sync::mpsc;

/// Something the caller's side did. Frames travel by value: no allocation per 20 ms.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum LegEvent {
    /// 20 ms of caller audio at 16 kHz (converted at the channel's edge).
    Audio(Frame),
    /// A key pressed (RFC 4733, SIP INFO, or the channel's own DTMF message).
    Dtmf(char),
    /// A message the caller typed (channels with a text box: the browser widget).
    Text(String),
    /// After a bridged transfer ([`TransferOutcome::Bridged`]): 20 ms of what the caller
    /// said to the agent, and of what the agent said, at 16 kHz (for the recording).
    BridgedCaller(Frame),
    BridgedAgent(Frame),
    /// The caller hung up or the channel closed; always the last event.
    HangUp,
}

/// Where a transfer goes: a `sip:` or `tel:` URI, a name the channel maps to one (an intent
/// or queue), or empty for the channel's own default target (`[sip.transfer] target`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTarget {
    pub uri: String,
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferOutcome {
    /// The caller is with the human; the bot's part of the call is over.
    Completed,
    /// The caller is with the human through this node (a bridged transfer): the bot's part is
    /// over, and the leg goes on with `BridgedCaller` / `BridgedAgent` frames until `HangUp`.
    Bridged,
    /// The transfer did not happen (no answer, busy, refused, unsupported); the caller is still
    /// with the bot.
    Failed(String),
}

/// A boxed future, so `LegControl` stays object-safe.
pub type LegFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The outbound half of a leg. Implementations queue frames and pace them on their own strict
/// 20 ms clock (or send at once when the driver's clock is the pacer); `flush` must drop every
/// queued frame immediately.
pub trait LegControl: Send + Sync {
    /// Queues one frame of bot audio.
    fn send_frame(&self, frame: Frame);
    /// Drops queued outbound audio (barge-in).
    fn flush(&self);
    /// Labels the point in the outbound audio reached now (the end of a bot sentence), for
    /// channels that report when the far end has played it (Twilio `mark`). Default: nothing.
    fn mark(&self, _name: &str) {}
    /// Hands the caller to `target`.
    fn transfer<'a>(
        &'a self,
        target: &'a TransferTarget,
        summary: &'a str,
    ) -> LegFuture<'a, TransferOutcome>;
    /// Ends the call from our side.
    fn hang_up(&self) -> LegFuture<'_, ()>;
}

/// A call as the conversation sees it.
pub struct MediaLeg {
    /// Channel-specific id (SIP Call-ID, stream sid ...), for logs and records.
    pub id: String,
    /// Caller identity as the channel knows it (SIP From user, phone number), if any.
    pub caller: Option<String>,
    pub events: mpsc::Receiver<LegEvent>,
    pub control: Box<dyn LegControl>,
}
